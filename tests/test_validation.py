"""The honest test: the scorer's shift rule, the statistical baselines, rolling origin and leave one
pair out (simulation/experiments/baselines.py, validation.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.experiments import baselines
from simulation.experiments.report import documented_series, persistence
from simulation.experiments.score import SHIFT_TOLERANCE, Target, load_targets, score, target_cells
from simulation.states import INDEX, PAIRS
from tests.conftest import YEARS, hand_targets

# --- the scorer's shift rule -------------------------------------------------------------------------

def test_a_constant_series_earns_no_shift_credit_even_with_rounding_noise():
    targets = hand_targets()
    cells = target_cells(targets, YEARS)
    held = np.repeat(np.nan_to_num(documented_series(targets, YEARS))[:1], len(YEARS), axis=0)
    # nudge the later years by a rounding error in the documented direction: the old rule took it as a turn
    i, j = INDEX["PAK"], INDEX["USA"]
    held[7:, i, j] += 1e-15
    held[10:, INDEX["IND"], INDEX["PAK"]] += 1e-15
    assert score(held, cells).shifts[0] == 0.0
    assert score(held, cells, shift_tolerance=0.0).shifts[0] == 1.0  # what the rule fixes


def test_a_move_below_the_tolerance_is_no_change():
    targets = hand_targets()
    cells = target_cells(targets, YEARS)
    series = np.repeat(np.nan_to_num(documented_series(targets, YEARS))[:1], len(YEARS), axis=0)
    i, j = INDEX["PAK"], INDEX["USA"]
    series[7:, i, j] += 0.8 * SHIFT_TOLERANCE
    series[10:, INDEX["IND"], INDEX["PAK"]] += 1.5 * SHIFT_TOLERANCE
    s = score(series, cells)
    assert s.pair_shifts[0, PAIRS.index(("PAK", "USA"))] == 0.0
    assert s.pair_shifts[0, PAIRS.index(("IND", "PAK"))] == 1.0


def test_perfect_and_inverted_series_still_score_one_and_zero():
    targets = hand_targets()
    cells = target_cells(targets, YEARS)
    record = np.nan_to_num(documented_series(targets, YEARS))
    assert score(record, cells).overall[0] == 1.0
    assert score(-record, cells).overall[0] == 0.0


def test_persistence_of_the_1990_record_loses_its_shift_credit(baseline_inputs):
    targets = load_targets()
    cells = target_cells(targets, baseline_inputs.years, (1991, 2024))
    held = persistence(targets, baseline_inputs.years, 1990)
    assert score(held, cells).shifts[0] == 0.0
    assert score(held, cells, shift_tolerance=0.0).shifts[0] > 0.2  # rounding errors taken as turns


# --- statistical baselines ---------------------------------------------------------------------------

def test_pair_year_features_are_finite_and_read_directed_acts_both_ways(baseline_inputs):
    features, names = baselines.pair_year_features(baseline_inputs)
    assert features.shape == (baseline_inputs.n_years, len(PAIRS), len(names))
    assert np.isfinite(features).all()
    p, t = PAIRS.index(("CHN", "IND")), 1962 - 1947
    a, b = INDEX["CHN"], INDEX["IND"]
    assert features[t, p, names.index("acts_ab")] == baseline_inputs.acts[t, a, b]  # from CHN to IND
    assert features[t, p, names.index("acts_ba")] == baseline_inputs.acts[t, b, a]


def test_ridge_recovers_a_target_linear_in_one_feature(baseline_inputs):
    """A synthetic record that is a linear function of one input: ridge with pair effects predicts
    it almost exactly out of sample."""
    features, names = baselines.pair_year_features(baseline_inputs)
    x = features[..., names.index("log_gdp_a")]
    level = 0.5 * (x - x.mean()) / (3 * x.std())
    years = baseline_inputs.years
    targets = [Target(a, b, int(y), int(y), float(level[t, p]), "synthetic")
               for p, (a, b) in enumerate(PAIRS) for t, y in enumerate(years)]
    train = target_cells(targets, years, (1947, 1990))
    pred = baselines.fit_predict("ridge_pair_effects", features, train)
    test = target_cells(targets, years, (1991, 2024))
    fitted = pred[0][train.t, train.i, train.j]
    assert np.abs(fitted - train.level).max() < 0.02  # the fitted years: near-perfect
    got = pred[0][test.t, test.i, test.j]
    # after 1990 the penalty's share of weight on correlated inputs (GDP per person) extrapolates a
    # little differently, but the prediction stays on the line
    assert np.corrcoef(got, test.level)[0, 1] > 0.98 and np.abs(got - test.level).mean() < 0.05
    assert score(pred, test).level[0] == 1.0


def test_statistical_baselines_see_only_the_training_cells(baseline_inputs):
    """Changing the record after the fitted years leaves the fits' predictions unchanged."""
    targets = load_targets()
    years = baseline_inputs.years
    train = target_cells(targets, years, (1947, 1990))
    changed = [t._replace(level=-t.level) if t.start > 1990 else t for t in targets]
    again = target_cells(changed, years, (1947, 1990))
    first = baselines.statistical_baselines(baseline_inputs, train)
    second = baselines.statistical_baselines(baseline_inputs, again)
    for name in baselines.STATISTICAL:
        assert np.array_equal(first[name], second[name]), name
        assert first[name].shape == (1, len(years), 6, 6) and np.abs(first[name]).max() <= 1.0


def test_persistence_with_jitter_holds_the_level_plus_noise():
    targets = hand_targets()
    record = documented_series(targets, YEARS)
    out = baselines.persistence_with_jitter(record, 5, [0, 1, 2], sigma=0.05)
    assert out.shape == (3, len(YEARS), 6, 6)
    i, j = INDEX["IND"], INDEX["PAK"]
    assert np.array_equal(out[:, :6, i, j], np.broadcast_to(record[:6, i, j], (3, 6)))
    later = out[:, 6:, i, j] - record[5, i, j]
    assert 0.02 < later.std() < 0.08 and abs(later.mean()) < 0.03
    assert np.array_equal(out[:, :, i, j], out[:, :, j, i])
    assert np.array_equal(out, baselines.persistence_with_jitter(record, 5, [0, 1, 2], sigma=0.05))


def test_score_report_lists_the_new_baselines_with_level_and_shifts(baseline_inputs):
    from simulation.engine.params import Parameters
    from simulation.experiments.report import score_report

    inputs = baseline_inputs
    params = replace(Parameters.baseline())
    fake = persistence(load_targets(), inputs.years, 1947)
    report = score_report(fake, inputs, load_targets(), params, 1990, [1000, 1001])
    for name in (*baselines.STATISTICAL, "persistence_1990_jitter", "persistence_1990"):
        row = report["baselines"][name]["out_of_sample"]
        assert {"level", "shifts", "score"} <= set(row)
    assert report["shift_tolerance"] == SHIFT_TOLERANCE


@pytest.mark.parametrize("method", ["nonsense"])
def test_unknown_statistical_baseline_is_refused(baseline_inputs, method):
    features, _ = baselines.pair_year_features(baseline_inputs)
    cells = target_cells(hand_targets(), baseline_inputs.years)
    with pytest.raises(ValueError, match="unknown statistical baseline"):
        baselines.fit_predict(method, features, cells)


# --- rolling origin and leave one pair out -----------------------------------------------------------

def tiny_budget():
    from simulation.experiments.calibrate import Budget

    return Budget(generations=1, population=1, objective_seeds=(0,), eval_seeds=(1000, 1001))


def test_test_windows_follow_the_issue():
    from simulation.experiments.validation import held_out_window

    assert held_out_window(1970) == (1971, 1990)
    assert held_out_window(1990) == (1991, 2024)
    assert held_out_window(2005) == (2006, 2024)


def test_without_pair_drops_exactly_that_pairs_cells_and_shifts():
    from simulation.experiments.validation import without_pair

    cells = target_cells(load_targets(), np.arange(1947, 2025), (1947, 1990))
    p = PAIRS.index(("PAK", "USA"))
    kept = without_pair(cells, p)
    assert (kept.pair != p).all() and (cells.pair == p).sum() > 0
    assert len(kept.t) == len(cells.t) - (cells.pair == p).sum()
    assert len(kept.shift_sign) == len(cells.shift_sign) - (cells.shift_pair == p).sum()
    assert (kept.shift_pair != p).all()


@pytest.mark.slow
def test_rolling_origin_on_a_tiny_budget_gives_one_row_per_origin_and_method():
    from simulation.experiments import validation

    table, pairs = validation.rolling_origin((1970, 2005), tiny_budget())
    methods = ["model", *baselines.STATISTICAL, "persistence {o}", "persistence {o} with jitter"]
    for origin, test in ((1970, "1971-1990"), (2005, "2006-2024")):
        rows = table[table.origin == origin]
        assert list(rows.method) == [m.format(o=origin) for m in methods]
        assert set(rows.test) == {test} and set(rows.fit) == {f"1947-{origin}"}
        assert rows.out_score.between(0, 1).all()
        assert rows[rows.method.str.startswith("persistence")].in_score.isna().all()
    assert len(pairs) == 2 * len(methods) * len(PAIRS)
    cells = target_cells(load_targets(), np.arange(1947, 2025), (1971, 1990))
    assert int(table[table.origin == 1970].out_cells.iloc[0]) == len(cells.t)


def test_leave_one_pair_out_fits_without_exactly_that_pair(monkeypatch):
    """The cells handed to the fit are the 1947-1990 cells less every one of the held-out pair."""
    from simulation.engine.params import Parameters
    from simulation.experiments import validation
    from simulation.experiments.calibrate import Fit

    seen = []

    def fake_fit(inputs, cells, fit_until, budget):
        seen.append((cells, fit_until))
        return Fit(Parameters(), 0.0, 0.0, 0)

    monkeypatch.setattr(validation, "_fit", fake_fit)
    held = [PAIRS.index(("CHN", "USA")), PAIRS.index(("IND", "PAK"))]
    table = validation.leave_one_pair_out(held, tiny_budget())
    full = target_cells(load_targets(), np.arange(1947, 2025), (1947, 1990))
    assert len(seen) == 2
    for (cells, fit_until), p in zip(seen, held):
        assert fit_until == 1990
        assert not (cells.pair == p).any() and not (cells.shift_pair == p).any()
        keep = full.pair != p
        assert np.array_equal(cells.t, full.t[keep]) and np.array_equal(cells.level, full.level[keep])
        assert len(cells.shift_sign) == (full.shift_pair != p).sum()
    assert list(dict.fromkeys(table.pair)) == ["CHN-USA", "IND-PAK"]
    model = table[table.method == "model"]
    assert (model.out_cells == 34).all() and model.out_score.between(0, 1).all()


def test_summary_reads_the_tables(tmp_path):
    from simulation.experiments import validation

    pd.DataFrame([{"origin": 1990, "fit": "1947-1990", "test": "1991-2024", "method": "model", "in_score": 0.8,
                   "in_score_sd": 0.01, "in_level": 0.8, "in_shifts": 0.8, "out_score": 0.6, "out_score_sd": 0.02,
                   "out_level": 0.5, "out_shifts": 0.7}]).to_csv(tmp_path / "rolling_origin.csv", index=False)
    text = validation.summary_markdown(tmp_path)
    assert "## Rolling origin" in text and "0.600 ± 0.020 (0.500 / 0.700)" in text


@pytest.mark.parametrize("fit_until,window", [(1970, (1971, 1990)), (1990, (1991, 2024))])
def test_budget_spread_tests_a_fit_on_the_years_a_rolling_origin_would(monkeypatch, fit_until, window):
    """A spread fitted to 1970 (the validation inside 1947-1990 that picks the budget) is scored on
    1971-1990 and never on a year after 1990; one fitted to 1990 on 1991-2024."""
    from simulation.engine.ensemble import simulate
    from simulation.engine.inputs import build_inputs
    from simulation.engine.params import Parameters
    from simulation.experiments import validation
    from simulation.experiments.calibrate import Fit

    monkeypatch.setattr(validation, "_fit", lambda inputs, cells, until, budget: Fit(Parameters(), 0.0, 0.0, 0))
    budget = tiny_budget()
    fits, summary = validation.budget_spread([1], [0], budget, fit_until=fit_until)
    inputs = build_inputs(1947, 2024)
    run = simulate(inputs, Parameters(), list(budget.eval_seeds), keep_threat=False).alignment
    expected = score(run, target_cells(load_targets(), inputs.years, window)).overall.mean()
    assert fits.out_score.iloc[0] == pytest.approx(expected, abs=1e-12)
    assert summary.generations.tolist() == [1]


def test_calibrate_flags_default_to_the_committed_budget():
    """`calibrate` with no budget flags runs `calibrate.Budget()`, the committed command's budget: the
    CLI states its defaults in argparse (for --help) and this keeps them from drifting apart."""
    from simulation.experiments.calibrate import Budget
    from simulation.interfaces.cli import _budget, build_parser

    args = build_parser().parse_args(["calibrate", "--out", "unused"])
    assert _budget(args) == Budget()
    # and the committed record is a fit at that budget and penalty (both now set in experiments.committed)
    record = json.loads((Path(__file__).parents[1] / "simulation/data/calibrated.json").read_text())
    assert (record["generations"], record["penalty"]) == (Budget().generations, Budget().penalty)


def test_a_spreads_record_names_the_budgets_it_ran_not_the_default(monkeypatch, tmp_path):
    """`calibrate --budget-spread 40,80` records 40/80 generations, not calibrate's default budget
    (the record once read "20 generations" for a spread that never ran at 20)."""
    import json

    from simulation.experiments import validation
    from simulation.interfaces.cli import main

    monkeypatch.setattr(validation, "validation_tables",
                        lambda *a, **k: {"budget_spread": pd.DataFrame({"generations": [40, 80]})})
    assert main(["calibrate", "--budget-spread", "40,80", "--out", str(tmp_path / "spread")]) == 0
    meta = json.loads((tmp_path / "spread" / "budget_spread.json").read_text())
    assert "40/80 generations" in meta["budget"] and "20 generations" not in meta["budget"]
