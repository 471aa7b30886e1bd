"""Lesson packs: one per scenario, in the Info-tab pattern, exported as a printable handout, and
teacher notes whose numbers are what this model does (checked against fresh runs)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from simulation.experiments import compare
from simulation.experiments.scenario import load_scenario
from simulation.interfaces import lessons
from simulation.interfaces.classroom import SCENARIOS, scenario_names
from simulation.states import PAIRS


def test_every_scenario_has_a_lesson_with_every_section_in_order():
    assert lessons.lesson_names() == scenario_names()
    for name in scenario_names():
        text = lessons.lesson_text(name)
        assert text.startswith("# "), name
        assert list(lessons.sections(text)) == list(lessons.SECTIONS), name
        for body in lessons.sections(text).values():
            assert len(body) > 80, name


def _refused(capsys, argv: list[str], *mentions: str) -> None:
    assert lessons.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err, err
    for text in mentions:
        assert text in err, err


def test_the_lessons_command_keeps_the_contract(tmp_path, capsys):
    """It printed a file beside lessons/ as a lesson ('../README'), overwrote an existing --out, wrote
    --all into any folder file by file, and an unwritable --out was a traceback."""
    mine = tmp_path / "mine.html"
    mine.write_text("keep")
    _refused(capsys, ["../README", "--out", str(tmp_path / "r.html")], "field 'scenario'", "no lesson for scenario")
    _refused(capsys, ["no_cpec", "--out", str(mine)], "mine.html", "--force")
    assert mine.read_text() == "keep"
    _refused(capsys, ["no_cpec", "--out", str(tmp_path)], "is a folder")
    _refused(capsys, ["no_cpec", "--out", str(mine / "x.html")], "cannot write here")
    _refused(capsys, ["no_cpec", "--out", str(tmp_path / ("w" * 300))], "File name too long")
    _refused(capsys, ["no_cpec", "--all", "--out", str(tmp_path / "all")], "not both")
    _refused(capsys, ["--out", str(tmp_path / "x.html")], "give a scenario or --all")
    _refused(capsys, ["--all", "--out", str(tmp_path)], "--force")  # it holds mine.html
    _refused(capsys, ["no_cpec"], "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.html"]
    assert lessons.main(["no_cpec", "--out", str(mine), "--force"]) == 0
    assert mine.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    for _ in range(2):  # an earlier --all is replaced whole
        assert lessons.main(["--all", "--students", "--out", str(tmp_path / "all")]) == 0
    assert sorted(p.stem for p in (tmp_path / "all").glob("*.html")) == lessons.lesson_names()


def test_handout_is_self_contained_and_printable(tmp_path):
    html = lessons.handout("no_cpec")
    assert "@media print" in html and "<script" not in html.lower()
    assert not re.search(r"(src|href)=['\"]?https?://", html)  # nothing to fetch
    assert "Teacher notes" in html and "CPEC" in html
    assert "Teacher notes" not in lessons.handout("no_cpec", students_only=True)
    out = tmp_path / "h.html"
    done = subprocess.run([sys.executable, "-m", "simulation.interfaces.lessons", "no_cpec", "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


#: Claims the teacher notes make, checked against the model: scenario, pair, year, alt - base
#: (mean over seeds 0-19, paired, at the calibrated point: `compare.run_comparison`), tolerance (three
#: standard errors of the paired difference, rounded up, at least 0.04, when the claim was first pinned;
#: a refit re-measures the expected effects and keeps the tolerances). The baseline lesson's numbers
#: are levels, not differences, and are not pinned here.
CLAIMS = [
    ("no_cpec", ("CHN", "PAK"), 2024, -0.03, 0.04),
    ("no_cpec", ("CHN", "PAK"), 2019, -0.01, 0.04),
    ("no_cpec", ("IND", "PAK"), 2024, +0.23, 0.04),
    ("no_cpec", ("IND", "PAK"), 2023, +0.22, 0.04),
    ("no_cpec", ("IND", "PAK"), 2019, +0.10, 0.04),
    ("no_cpec", ("PAK", "USA"), 2024, +0.17, 0.04),
    ("no_cpec", ("PAK", "USA"), 2014, +0.02, 0.04),
    ("no_cpec", ("PAK", "RUS"), 2024, -0.01, 0.04),
    ("no_cpec", ("IND", "RUS"), 2024, +0.04, 0.04),
    ("no_cpec", ("PAK", "USA"), 2023, +0.19, 0.04),
    ("us_india_ties_weaken", ("IND", "USA"), 2005, +0.00, 0.04),
    ("us_india_ties_weaken", ("IND", "USA"), 2009, -0.13, 0.05),
    ("us_india_ties_weaken", ("IND", "USA"), 2024, -0.12, 0.04),
    ("us_india_ties_weaken", ("IND", "RUS"), 2009, +0.07, 0.04),
    ("us_india_ties_weaken", ("IND", "RUS"), 2024, +0.21, 0.04),
    ("us_india_ties_weaken", ("IND", "RUS"), 2023, +0.20, 0.04),
    ("us_india_ties_weaken", ("PAK", "USA"), 2008, +0.19, 0.04),
    ("us_india_ties_weaken", ("PAK", "USA"), 2024, +0.26, 0.04),
    ("us_india_ties_weaken", ("CHN", "IND"), 2011, +0.15, 0.04),
    ("us_india_ties_weaken", ("IND", "PAK"), 2024, +0.24, 0.04),
    ("us_india_ties_weaken", ("IND", "USA"), 2011, -0.17, 0.06),
    ("us_india_ties_weaken", ("PAK", "USA"), 2023, +0.28, 0.04),
    ("no_9_11", ("PAK", "USA"), 2000, +0.00, 0.04),
    ("no_9_11", ("PAK", "USA"), 2001, +0.17, 0.04),
    ("no_9_11", ("PAK", "USA"), 2005, +0.36, 0.04),
    ("no_9_11", ("PAK", "USA"), 2011, +0.33, 0.06),
    ("no_9_11", ("PAK", "USA"), 2013, +0.40, 0.06),
    ("no_9_11", ("PAK", "USA"), 2014, +0.38, 0.05),
    ("no_9_11", ("PAK", "USA"), 2024, +0.19, 0.04),
    ("no_9_11", ("CHN", "PAK"), 2007, -0.19, 0.04),
    ("no_9_11", ("CHN", "PAK"), 2014, -0.19, 0.04),
    ("no_9_11", ("RUS", "USA"), 2008, +0.18, 0.04),
    ("no_9_11", ("AFG", "USA"), 2012, -0.58, 0.04),
    ("no_9_11", ("AFG", "IND"), 2008, -0.66, 0.04),
    ("no_9_11", ("AFG", "IND"), 2005, -0.63, 0.04),
    ("no_9_11", ("PAK", "USA"), 2016, +0.56, 0.04),
    ("no_9_11", ("RUS", "USA"), 2019, +0.23, 0.04),
    ("no_pressler_sanctions", ("PAK", "USA"), 1991, +0.00, 0.04),
    ("no_pressler_sanctions", ("PAK", "USA"), 1993, +0.00, 0.04),
    ("no_pressler_sanctions", ("PAK", "USA"), 1996, +0.00, 0.04),
    ("no_pressler_sanctions", ("PAK", "USA"), 2000, +0.20, 0.04),
    ("no_pressler_sanctions", ("PAK", "USA"), 2010, -0.01, 0.04),
    ("no_pressler_sanctions", ("PAK", "USA"), 2020, +0.08, 0.04),
    ("no_pressler_sanctions", ("PAK", "USA"), 2024, +0.05, 0.06),
    ("no_pressler_sanctions", ("CHN", "PAK"), 1997, -0.02, 0.04),
    ("no_pressler_sanctions", ("CHN", "PAK"), 2000, -0.02, 0.04),
    ("no_pressler_sanctions", ("PAK", "USA"), 1997, +0.13, 0.05),
    ("no_pressler_sanctions", ("PAK", "USA"), 2023, +0.13, 0.04),
    ("no_sino_soviet_split", ("CHN", "RUS"), 1969, +0.77, 0.04),
    ("no_sino_soviet_split", ("CHN", "RUS"), 1970, +0.80, 0.04),
    ("no_sino_soviet_split", ("CHN", "USA"), 1975, -0.66, 0.04),
    ("no_sino_soviet_split", ("CHN", "RUS"), 1974, +0.55, 0.04),
    ("no_sino_soviet_split", ("CHN", "RUS"), 1978, +0.35, 0.04),
    ("no_sino_soviet_split", ("CHN", "USA"), 1974, -0.70, 0.04),
    ("no_sino_soviet_split", ("CHN", "USA"), 1986, -0.19, 0.04),
    ("no_sino_soviet_split", ("IND", "RUS"), 1974, -0.34, 0.06),
    ("no_sino_soviet_split", ("IND", "USA"), 1972, +0.53, 0.05),
    ("no_sino_soviet_split", ("IND", "USA"), 1973, +0.56, 0.07),
    ("no_sino_soviet_split", ("CHN", "IND"), 1970, -0.32, 0.04),
    ("no_sino_soviet_split", ("PAK", "RUS"), 1975, +0.11, 0.04),
    ("no_sino_soviet_split", ("PAK", "USA"), 1975, -0.15, 0.04),
    ("no_sino_soviet_split", ("CHN", "PAK"), 1979, -0.14, 0.04),
    ("no_sino_soviet_split", ("CHN", "IND"), 1969, -0.35, 0.04),
    ("no_sino_soviet_split", ("PAK", "RUS"), 1985, -0.15, 0.04),
    ("no_sino_soviet_split", ("CHN", "PAK"), 1976, -0.29, 0.04),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "RUS"), 1979, +0.13, 0.06),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "RUS"), 1986, +0.02, 0.07),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "RUS"), 1987, +0.07, 0.06),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "RUS"), 1989, -0.27, 0.04),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "RUS"), 1992, -0.05, 0.04),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "USA"), 1985, -0.02, 0.04),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "USA"), 1986, -0.02, 0.04),
    ("no_soviet_invasion_of_afghanistan", ("IND", "PAK"), 1986, -0.18, 0.04),
    ("no_soviet_invasion_of_afghanistan", ("AFG", "RUS"), 1985, +0.28, 0.04),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "USA"), 1979, -0.05, 0.04),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "RUS"), 1980, +0.18, 0.06),
    ("no_soviet_invasion_of_afghanistan", ("PAK", "RUS"), 1990, -0.33, 0.04),
    ("no_us_withdrawal_2021", ("PAK", "USA"), 2023, -0.10, 0.04),
    ("no_us_withdrawal_2021", ("PAK", "USA"), 2024, +0.04, 0.04),
    ("no_us_withdrawal_2021", ("CHN", "PAK"), 2022, +0.11, 0.04),
    ("no_us_withdrawal_2021", ("CHN", "PAK"), 2024, +0.13, 0.04),
    ("no_us_withdrawal_2021", ("PAK", "RUS"), 2022, +0.09, 0.04),
    ("no_us_withdrawal_2021", ("AFG", "USA"), 2023, +0.33, 0.04),
    ("no_us_withdrawal_2021", ("AFG", "IND"), 2023, +0.36, 0.04),
    ("no_us_withdrawal_2021", ("AFG", "RUS"), 2021, +0.04, 0.04),
    ("no_us_withdrawal_2021", ("AFG", "CHN"), 2024, -0.21, 0.04),
    ("no_us_withdrawal_2021", ("AFG", "USA"), 2024, +0.35, 0.04),
    ("no_us_withdrawal_2021", ("AFG", "IND"), 2024, +0.39, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 1972, -0.00, 0.06),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 1973, -0.12, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 1978, -0.13, 0.05),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 1980, -0.21, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 1992, -0.23, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 2006, -0.00, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 2024, -0.07, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "USA"), 1992, +0.01, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "USA"), 1993, +0.02, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("IND", "USA"), 1993, -0.02, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("IND", "RUS"), 2020, +0.02, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 1979, -0.25, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "RUS"), 1989, -0.26, 0.04),
    ("russia_keeps_arms_embargo_on_pakistan", ("PAK", "USA"), 2023, +0.17, 0.04),
    ("china_grows_half_as_fast", ("IND", "USA"), 1993, +0.03, 0.04),
    ("china_grows_half_as_fast", ("IND", "USA"), 2018, -0.01, 0.04),
    ("china_grows_half_as_fast", ("IND", "USA"), 2024, -0.01, 0.04),
    ("china_grows_half_as_fast", ("CHN", "PAK"), 1993, +0.01, 0.04),
    ("china_grows_half_as_fast", ("CHN", "PAK"), 2020, +0.04, 0.04),
    ("china_grows_half_as_fast", ("CHN", "USA"), 1993, -0.04, 0.04),
    ("china_grows_half_as_fast", ("CHN", "USA"), 2008, -0.03, 0.04),
    ("china_grows_half_as_fast", ("RUS", "USA"), 1998, +0.05, 0.04),
    ("china_grows_half_as_fast", ("PAK", "USA"), 2024, -0.04, 0.04),
    ("china_grows_half_as_fast", ("CHN", "USA"), 1994, -0.05, 0.04),
]


@pytest.mark.slow
def test_teacher_notes_match_the_model():
    base, _ = load_scenario(SCENARIOS / "baseline.yaml")
    for name in sorted({c[0] for c in CLAIMS}):
        alt, _ = load_scenario(SCENARIOS / f"{name}.yaml")
        r = compare.run_comparison(base, alt, 20)
        for scenario, pair, year, expected, tol in CLAIMS:
            if scenario != name:
                continue
            p, t = PAIRS.index(pair), year - int(r.years[0])
            got = float(np.mean(r.alt_alignment[:, t, p] - r.base_alignment[:, t, p]))
            assert abs(got - expected) <= tol, (name, pair, year, got, expected)
