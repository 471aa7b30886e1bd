"""Counterfactuals with parameter uncertainty and under competing theories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simulation.engine.params import Parameters
from simulation.experiments import compare
from simulation.experiments.posterior import ParameterSource, Posterior
from simulation.experiments.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenarios():
    base, _ = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    alt, _ = load_scenario(ROOT / "scenarios" / "us_india_ties_weaken.yaml")
    return base, alt


def test_the_t_quantile_is_scipy_stats_to_the_bit():
    from scipy import stats

    for df in (1, 2, 19, 199, 1999, 99_999):
        assert compare.t_975(df) == stats.t.ppf(0.975, df)


def test_a_posterior_of_one_repeated_point_gives_the_point_intervals(scenarios):
    base, alt = scenarios
    point = compare.alignment_differences(compare.run_paired(base, alt, 20))
    repeated = ParameterSource(Posterior.point(Parameters.baseline()), "one point")
    drawn = compare.alignment_differences(compare.run_paired(base, alt, 20, source=repeated))
    for column in ("difference", "ci_low", "ci_high"):
        np.testing.assert_allclose(drawn[column], point[column], rtol=0, atol=1e-12)


def test_a_scenario_identical_to_the_baseline_has_no_robust_effect(scenarios):
    base, _ = scenarios
    rng = np.random.default_rng(0)
    names = Parameters.fitted()
    lo, hi = np.array([Parameters.bounds()[n] for n in names]).T
    spread = Posterior(names, lo + rng.random((30, len(names))) * (hi - lo), np.full(30, 1 / 30), np.zeros(30))
    diffs = compare.alignment_differences(compare.run_paired(base, base, 30, source=ParameterSource(spread, "x")))
    assert not diffs.robust.any() and not diffs.clear.any()
    assert np.all(diffs.difference == 0)


def test_parameter_uncertainty_widens_the_intervals(scenarios):
    """Runs drawing different weights differ more from pair to pair than runs sharing one point."""
    base, alt = scenarios
    names = Parameters.fitted()
    p = Parameters.baseline()
    centre = np.array([float(getattr(p, n)) for n in names])
    lo, hi = np.array([Parameters.bounds()[n] for n in names]).T
    rng = np.random.default_rng(1)
    samples = np.clip(centre + 0.15 * (hi - lo) * rng.standard_normal((40, len(names))), lo, hi)
    wide = ParameterSource(Posterior(names, samples, np.full(40, 1 / 40), np.zeros(40)), "spread")
    point = compare.alignment_differences(compare.run_paired(base, alt, 40))
    drawn = compare.alignment_differences(compare.run_paired(base, alt, 40, source=wide))
    assert (drawn.ci_high - drawn.ci_low).mean() > (point.ci_high - point.ci_low).mean()


def test_theories_answer_under_each_variant_with_its_own_weights(scenarios, tmp_path, monkeypatch):
    """With a calibration record holding each variant's weights, every variant answers; a variant
    with power threats off (balance of threat only) cannot differ from the full model through them."""
    from simulation.engine import params as params_module

    record = json.loads(params_module.CALIBRATED.read_text())
    base_weights = record["parameters"]
    record["variants"] = {name: {"fixed": fixed, "parameters": {**base_weights, **fixed}}
                          for name, fixed in params_module.ABLATIONS.items()}
    path = tmp_path / "calibrated.json"
    path.write_text(json.dumps(record))
    monkeypatch.setattr(params_module, "CALIBRATED", path)
    monkeypatch.setattr(Parameters.variant.__func__, "__defaults__", (path,))
    monkeypatch.setattr(Parameters.baseline.__func__, "__defaults__", (path,))
    base, alt = scenarios
    table = compare.theories(base, alt, 12)
    assert set(table.theory) == set(params_module.ABLATIONS)
    assert len(table) == 15 * len(params_module.ABLATIONS)
    wide = compare.theory_dependence(table)
    assert "depends_on_theory" in wide and len(wide) == 15
    text = compare.theories_markdown(table)
    assert "Under each theory" in text
