"""The classroom app: the slider model, and the app itself driven in a headless browser.

The browser test starts `python -m simulation app` on localhost and drives Debian's Chromium
through Playwright (no browser download). It saves a screenshot to test-artifacts/app.png.
"""

from __future__ import annotations

import os
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

from simulation.interfaces.classroom import ClassroomModel, scenario_names
from simulation.states import INDEX

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def run(model: ClassroomModel) -> np.ndarray:
    model.run()
    return model.series("alignment")


def test_every_library_scenario_is_offered():
    assert "baseline" in scenario_names() and "us_india_ties_weaken" in scenario_names()


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


def test_app_parameters_fit_the_model():
    """Mesa's own check that every user parameter is an argument of the model."""
    pytest.importorskip("solara")
    from mesa.visualization.solara_viz import _check_model_params

    from simulation.interfaces.app import model_params

    _check_model_params(ClassroomModel.__init__, model_params())


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


def test_app_in_a_browser(app_url):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(app_url, wait_until="networkidle", timeout=90_000)
        year = page.locator(".events-year")

        def reset_and_step(n: int) -> None:
            page.get_by_role("button", name="Reset").click()
            expect(page.get_by_text("Events appear here year by year")).to_be_visible(timeout=30_000)
            for k in range(n):  # the year control: each Step is one year
                page.get_by_role("button", name="Step").click()
                expect(year).to_have_text(str(1947 + k), timeout=30_000)

        reset_and_step(10)
        figures = page.locator("img")
        expect(figures).to_have_count(2, timeout=30_000)  # the network and the chart
        boxes = [figures.nth(i).bounding_box() for i in range(2)]
        assert all(b["width"] > 300 and b["height"] > 200 for b in boxes)
        assert "1956" in page.locator("body").inner_text()  # the events list shows the year's events
        chart_before = figures.nth(1).screenshot()

        slider = page.locator(".v-input").filter(has_text="Weight of threat").locator(".v-slider")
        box = slider.bounding_box()
        page.mouse.click(box["x"] + 1, box["y"] + box["height"] / 2)  # threat weight to its minimum
        reset_and_step(10)
        assert figures.nth(1).screenshot() != chart_before  # same years, other weights: another chart

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
        browser.close()
    assert errors == [], errors
