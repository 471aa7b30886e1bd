"""The classroom app: the slider model, the per-tab session, and the app driven in headless Chromium.

The browser tests start `python -m simulation app` on localhost and drive Debian's Chromium through
Playwright (no browser download), at a projector's 1280x720. They save screenshots to docs/.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from simulation.experiments import explain
from simulation.interfaces.classroom import (
    ClassroomModel,
    Session,
    Settings,
    differences_from_history,
    mids_of,
    scenario_names,
    scenario_question,
)
from simulation.states import INDEX

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 720}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def run(model: ClassroomModel) -> np.ndarray:
    model.run()
    return model.series("alignment")


def test_every_library_scenario_is_offered_with_its_question():
    names = scenario_names()
    assert "baseline" in names and "us_india_ties_weaken" in names
    for name in names:
        assert scenario_question(name).endswith("?"), name


def test_us_india_slider_weakens_us_india_alignment_after_2005():
    usa, ind = INDEX["USA"], INDEX["IND"]
    history = run(ClassroomModel())
    weak = run(ClassroomModel(us_india_ties=0.2))
    assert np.array_equal(weak[: 2005 - 1947], history[: 2005 - 1947])
    assert weak[2008 - 1947:, usa, ind].mean() < history[2008 - 1947:, usa, ind].mean() - 0.1


def test_china_growth_slider_changes_china_only_from_1978():
    slow = ClassroomModel(china_growth=0.5)
    base = ClassroomModel()
    chn = INDEX["CHN"]
    assert np.array_equal(slow.inputs.capability[:31], base.inputs.capability[:31])
    assert slow.inputs.capability[-1, chn] < base.inputs.capability[-1, chn]
    assert np.array_equal(np.delete(slow.inputs.capability, chn, axis=1), np.delete(base.inputs.capability, chn, axis=1))


def test_weight_sliders_override_the_calibration():
    assert ClassroomModel(threat_weight=0.0).params.threat_weight == 0.0


def test_model_step_stops_cleanly_at_the_end():
    """It used to raise IndexError when stepped past 2024 (Render Interval above the years left)."""
    model = ClassroomModel()
    for _ in range(model.inputs.n_years + 5):
        model.step()
    assert not model.running and model.t == model.inputs.n_years and model.year == 2024


def test_sessions_are_independent_and_stop_at_2024():
    a, b = Session(), Session(Settings(scenario="no_cpec"))
    for _ in range(5):
        a.step_once()
    b.step_once()
    assert (a.year, b.year) == (1951, 1947)
    while a.step_once():
        pass
    assert a.done and a.year == 2024 and a.step_once() is False
    assert b.year == 1947


def test_session_is_the_engine_run():
    s = Session()
    while s.step_once():
        pass
    np.testing.assert_array_equal(s.alignment(), run(ClassroomModel()))


def test_a_setting_applies_at_once_without_a_restart():
    s = Session()
    for _ in range(30):
        s.step_once()
    before = s.alignment().copy()
    s.rebuild(s.settings.with_(threat_weight=0.0))
    assert s.year == 1976  # same year, replayed with the new weight
    assert not np.allclose(s.alignment(), before)
    assert differences_from_history(s.settings)[0].startswith("weight of threat (Walt) 0.00 (calibrated")


def test_the_years_mids_carry_the_dataset_citation():
    mids = mids_of(1965)
    assert any({m["a"], m["b"]} == {"IND", "PAK"} for m in mids)
    assert all(re.search(r"Palmer et al\. 2022, .*MID.* v5\.0.*, dispute \d+", m["source"]) for m in mids)


def test_running_score_is_against_the_record():
    s = Session()
    assert s.running_score("PAK", "USA") == (None, None, 0)
    for _ in range(20):
        s.step_once()
    total, pair, n = s.running_score("PAK", "USA")
    assert 0 <= total <= 1 and 0 <= pair <= 1 and n == 20


def _india_cools_by(session: Session, **weights: float) -> float:
    """How much cooler India stands toward the US in 1960 when the US plays Pakistan's close ally from
    1947 (its other relations left to the theory's suggestion) than had the rules played, with the
    session's weights and some of them replaced."""
    params = session.params.with_overrides(weights)
    played, free = (explain.Stepper(session.inputs, params, [session.settings.seed]) for _ in range(2))
    for _ in range(14):  # 1947-1960
        row = played.preview()[0, INDEX["USA"]].copy()
        row[INDEX["PAK"]] = 1.0
        played.step({"USA": row})
        free.step()
    ind, usa, t = INDEX["IND"], INDEX["USA"], played.t - 1
    return float(free.stance[0, t, ind, usa] - played.stance[0, t, ind, usa])


def test_role_play_debrief_compares_with_the_theory():
    """The United States played as Pakistan's close ally from 1947, every other relation left to the
    theory's suggestion: India cools toward the US, as the security dilemma predicts (a state aligned
    with one's rival is read as hostile, so India reads more threat in it) and structural balance
    adds (warming to a rival's ally costs); on the committed fit the dilemma carries most of it
    (India cools by about 0.09; with the dilemma's weight at zero by about 0.01, with structural
    balance's at zero by about 0.03). The debrief shows where the player departed."""
    s = Session()
    s.set_players(("USA",))
    for _ in range(14):
        s.step_once({"USA": s.default_row("USA", {"PAK": 1.0})})
    assert s.pinned == {"USA": {"PAK"}}
    d = s.debrief().set_index(["year", "partner"]).loc[1960]
    assert d.loc["PAK", "chosen"] == 1.0 and d.loc["PAK", "rules"] < 0.9  # the theory would not have
    others = d.drop(index="PAK")
    np.testing.assert_allclose(others.chosen, others.rules, atol=1e-12)  # the rest is the theory's choice
    cooled = d.loc["IND", "response_rules_only"] - d.loc["IND", "response"]
    assert cooled > 0.05
    # ... and why: India reads more threat in the US, and its ally's friendship with its rival costs
    # it (the threat and structural-balance parts of its motive toward the US)
    free, played = s.rules_only().trace(), s.stepper.trace()
    ind, usa, t = INDEX["IND"], INDEX["USA"], played.t(1960)
    for part in ("threat", "structural balance"):
        assert played.raw[part][0, t, ind, usa] < free.raw[part][0, t, ind, usa] - 0.02, part
    assert set(explain.PARTS) <= set(played.parts)
    # the same play outside the session, and with a mechanism switched off: the dilemma does most of it
    assert _india_cools_by(s) == pytest.approx(cooled, abs=1e-12)
    without_dilemma, without_structure = _india_cools_by(s, dilemma_weight=0.0), _india_cools_by(s, structural_weight=0.0)
    assert 0.0 <= without_dilemma < cooled / 4 and without_dilemma < without_structure < cooled


# --- in the browser -------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "simulation", "app", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
        pytest.fail("the app did not start within 90 s")
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _open(browser, url: str, errors: list[str]):
    """A new tab in its own browser context (its own session cookie), at a projector's size."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle", timeout=90_000)
    page.get_by_role("button", name="Step").wait_for(timeout=60_000)
    return page


def _choose(page, label: str, option: str) -> None:
    page.locator(".v-select").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def _changes(locator, before: bytes, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while locator.screenshot() == before:
        if time.time() > deadline:
            pytest.fail("the figure did not change")
        time.sleep(0.3)


def _year(page):
    return page.locator(".bop-year")


@pytest.mark.browser
@pytest.mark.slow
def test_two_classes_at_once_to_2024(app_url, browser):
    from playwright.sync_api import expect

    errors: list[str] = []
    a, b = _open(browser, app_url, errors), _open(browser, app_url, errors)
    # tab A: the threat weight to its minimum, with the mouse on the slider's track
    track = a.locator(".bop-controls .v-slider").first
    box = track.bounding_box()
    assert box["width"] > 250  # a full-width track, not squeezed by its label
    a.mouse.click(box["x"] + 1, box["y"] + box["height"] / 2)
    expect(a.locator(".bop-differs")).to_contain_text("weight of threat (Walt) 0.00", timeout=30_000)
    expect(a.locator(".bop-label").first).to_contain_text("0.00")  # the slider shows its value
    # tab B: another scenario, with its question
    _choose(b, "Scenario", "no_cpec")
    expect(b.locator(".bop-differs")).to_contain_text("scenario: no cpec", timeout=30_000)
    expect(b.locator(".bop-question")).to_contain_text("?")
    # each tab has its own run: A's steps do not move B
    for k in range(3):
        a.get_by_role("button", name="Step").click()
        expect(_year(a)).to_have_text(str(1947 + k), timeout=30_000)
    b.get_by_role("button", name="Step").click()
    expect(_year(b)).to_have_text("1947", timeout=30_000)
    # both play to the end at once, and stop there cleanly
    for page in (a, b):
        page.get_by_role("button", name="Play").click()
    for page in (a, b):
        expect(_year(page)).to_have_text("2024", timeout=240_000)
        expect(page.locator(".run-complete")).to_be_visible(timeout=30_000)
        assert "error" not in page.locator("body").inner_text().lower()
    charts = [page.locator(".bop-fig img").nth(1) for page in (a, b)]
    assert charts[0].screenshot() != charts[1].screenshot()  # different settings, different runs
    for img in a.locator(".bop-fig img").all():  # legible at 1280x720: shown at their natural size
        # (fonts of >= 10 pt at 110 dpi are >= 15 px), not shrunk as SolaraViz's grid shrank them
        shown, natural = img.evaluate("i => [i.clientWidth, i.naturalWidth]")
        assert shown >= 400 and shown >= 0.95 * natural, (shown, natural)
    before = charts[0].screenshot()
    _choose(a, "Chart the pairs of", "IND")
    _changes(charts[0], before)
    expect(_year(a)).to_have_text("2024")  # the focus changed without a restart
    DOCS.mkdir(exist_ok=True)
    b.screenshot(path=str(DOCS / "app.png"))
    a.get_by_role("tab", name="Why did it move?").click()
    expect(a.locator(".why-panel")).to_contain_text("Why did India", timeout=30_000)
    expect(a.locator(".why-panel")).to_contain_text("external balancing")
    expect(a.locator(".why-panel .by-third").first).to_contain_text("by the third state whose threat it answers")
    a.screenshot(path=str(DOCS / "app_why.png"))
    b.get_by_role("tab", name="Lesson").click()
    expect(b.locator(".lesson-panel")).to_contain_text("The question", timeout=30_000)
    expect(b.locator(".lesson-panel")).to_contain_text("CPEC")
    b.get_by_role("button", name="Show teacher notes").click()
    expect(b.locator(".teacher-notes")).to_be_visible(timeout=30_000)
    b.locator(".bop-title").scroll_into_view_if_needed()
    b.screenshot(path=str(DOCS / "app_lesson.png"))
    assert errors == [], errors


@pytest.mark.browser
@pytest.mark.slow
def test_role_play_in_the_browser(app_url, browser):
    """A student plays the United States and makes Pakistan a close ally from 1947, leaving every other
    relation to the theory: the debrief shows India cooling toward the US, as the rules predict (the
    security dilemma; see the Session test above)."""
    from playwright.sync_api import expect

    errors: list[str] = []
    page = _open(browser, app_url, errors)
    page.get_by_role("tab", name="Role play").click()
    page.locator(".roleplay-panel .v-select").first.click()
    page.get_by_role("option", name="USA", exact=True).click()
    page.keyboard.press("Escape")
    expect(page.locator(".bop-differs")).to_contain_text("played by people: United States", timeout=30_000)
    sliders = page.locator(".roleplay-panel .v-slider")
    expect(sliders).to_have_count(5, timeout=30_000)
    box = sliders.nth(3).bounding_box()  # toward Pakistan (AFG, CHN, IND, PAK, RUS)
    page.mouse.click(box["x"] + box["width"] - 1, box["y"] + box["height"] / 2)
    expect(page.locator(".roleplay-panel .bop-label").nth(3)).to_contain_text("+1.00", timeout=30_000)
    expect(page.locator(".roleplay-panel .bop-label").nth(3)).to_contain_text("yours")
    for k in range(14):  # 1947-1960; the relation taken over keeps the student's value
        page.get_by_role("button", name="Step").click()
        expect(_year(page)).to_have_text(str(1947 + k), timeout=30_000)
    debrief = page.locator(".debrief")
    expect(debrief).to_contain_text("By 1960", timeout=30_000)
    text = debrief.inner_text()
    m = re.search(r"By 1960, India stands ([+-][\d.]+) toward United States, against ([+-][\d.]+)", text)
    assert m, text
    assert float(m.group(1)) < float(m.group(2))  # India cools toward a US allied with its rival
    assert "toward Pakistan; the theory would have chosen" in text
    page.locator(".debrief").scroll_into_view_if_needed()
    page.screenshot(path=str(DOCS / "app_roleplay.png"))
    assert errors == [], errors
