"""Explanations: every year's stance splits into its motives, and the parts add up to it."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from simulation.engine import dynamics
from simulation.engine.ensemble import simulate
from simulation.engine.params import Parameters
from simulation.experiments import explain
from simulation.experiments.scenario import scenario_inputs
from simulation.states import INDEX


@pytest.fixture(scope="module")
def traced(baseline_inputs):
    return explain.trace(baseline_inputs, Parameters.baseline(), [0, 1, 2])


def test_trace_is_the_engine_run(baseline_inputs, traced):
    """The recorded runs are the runs every other command makes (same rules, same shocks)."""
    ens = simulate(baseline_inputs, Parameters.baseline(), [0, 1, 2])
    np.testing.assert_allclose(traced.alignment, ens.alignment, atol=1e-12)


def test_parts_are_the_engines_motives(baseline_inputs, traced):
    """The parts are the engine's named motives (whatever it has), between inertia and the shock,
    and every one has a plain-language label for the tables."""
    p = Parameters.baseline()
    zeros = np.zeros((1, 6, 6))
    year = dynamics.assess(dynamics.State(baseline_inputs.initial_intent[None].copy(), zeros, zeros),
                           baseline_inputs.year(0), p, first_year=True)
    assert list(traced.parts) == ["inertia", *year.motives, "shock", "clip"]
    assert set(year.motives) <= set(explain.LABELS) and set(year.motives) <= set(explain.SHORT)


def test_parts_add_up_to_the_stance_every_year(traced):
    total = sum(traced.parts[k] for k in explain.PARTS)
    np.testing.assert_allclose(total, traced.stance, atol=1e-12, rtol=0)
    # the clip part is zero wherever the stance is inside (-1, 1): nothing is hidden in it
    inside = np.abs(traced.stance) < 0.999
    assert np.abs(traced.parts["clip"][inside]).max() < 1e-12


def test_window_parts_add_up_to_the_change(traced):
    for a, b, start, end in (("RUS", "PAK", 1986, 2006), ("IND", "USA", 1998, 2018), ("CHN", "RUS", 1955, 1975)):
        e = explain.explain_change(traced, a, b, start, end)
        i, j = INDEX[a], INDEX[b]
        s = traced.stance
        assert e.table.a_to_b.sum() == pytest.approx((s[:, traced.t(end), i, j] - s[:, traced.t(start), i, j]).mean(), abs=1e-12)
        assert e.table.b_to_a.sum() == pytest.approx((s[:, traced.t(end), j, i] - s[:, traced.t(start), j, i]).mean(), abs=1e-12)
        assert e.table.alignment.sum() == pytest.approx(e.alignment[1] - e.alignment[0], abs=1e-12)
        assert list(e.table.alignment.abs()) == sorted(e.table.alignment.abs(), reverse=True)  # ranked


def test_zero_motive_is_split_in_the_limit():
    """With every motive 0 the target is 0 and so is every share (no division by zero)."""
    zeros = {k: np.zeros((1, 6, 6)) for k in explain.MOTIVES}
    prev = np.full((1, 6, 6), 0.3)
    stance = 0.5 * prev
    parts = explain.year_parts(prev, stance, zeros, np.zeros((1, 6, 6)), np.array([0.5]), np.zeros((1, 6, 6)), 2.0)
    assert all(np.isfinite(v).all() for v in parts.values())
    np.testing.assert_allclose(sum(parts.values()), stance, atol=1e-15)
    assert np.abs(parts["clip"]).max() < 1e-15


def test_russia_pakistan_rapprochement_is_external_balancing_first(traced):
    """The README's reading of the committed fit: shared threats ahead of every other motive, then
    ideology, with structural balance (Russia's tie to India) and threat holding Russia back. Against
    whom: Russia wants Pakistan against Afghanistan first, then the US (the fit reads threat mostly
    from hostile intent, which is all of Afghanistan's threat to Russia), Pakistan wants Russia
    against the US first."""
    e = explain.explain_change(traced, "RUS", "PAK", 1986, 2006)
    assert e.alignment[1] > e.alignment[0] + 0.3
    motives = e.table[e.table.part.isin(list(explain.MOTIVES))].set_index("part").alignment
    assert motives.idxmax() == "balancing"
    assert motives["balancing"] > motives["affinity"] > 0 > motives["structural balance"]
    assert motives["threat"] < 0
    against = e.by_third["balancing"].set_index("state")
    assert list(against.alignment.sort_values(ascending=False).index[:2]) == ["AFG", "USA"]
    assert against.b_to_a.idxmax() == "USA"


def test_split_by_third_state_adds_up(traced):
    """External balancing (a sum) and structural balance (a maximum) split by third state: the rows
    add up to the motive's row in every column, and the pair itself is not among the third states."""
    for a, b, start, end in (("IND", "PAK", 1963, 1965), ("RUS", "PAK", 1986, 2006), ("CHN", "USA", 1968, 1975)):
        e = explain.explain_change(traced, a, b, start, end)
        assert set(e.by_third) == set(dynamics.THIRD_STATE_SPLITS)
        for motive, split in e.by_third.items():
            row = e.table.set_index("part").loc[motive]
            assert set(split.state) == set(INDEX) - {a, b}
            for column in ("a_to_b", "b_to_a", "alignment"):
                assert split[column].sum() == pytest.approx(row[column], abs=1e-12)
    for shares in traced.by_third.values():
        total = shares.sum(axis=-1)
        assert np.all((np.abs(total - 1) < 1e-12) | (total == 0))
    # a maximum binds through one friend a year: its shares are 0 or 1
    assert set(np.unique(traced.by_third["structural balance"])) <= {0.0, 1.0}


def test_an_unmoved_pair_is_said_to_stay_where_it_was(traced):
    """A change that rounds to 0.00 is neither converging nor drawing apart."""
    e = explain.explain_change(traced, "IND", "PAK", 1963, 1965)
    still = explain.Explanation(e.a, e.b, e.start, e.end, (0.25, 0.25), e.stance_ab, e.stance_ba, e.table, e.by_third)
    text = explain.explanation_markdown(still)
    assert "stay where they were" in text and "stayed where they were" in text and "drew apart" not in text


def test_pakistan_wants_india_against_china_in_1965(traced):
    """A miss the README reports (in sample): in the year of their war Pakistan's balancing pull
    toward India is mostly against China, whose power and remembered acts it reads as a threat."""
    e = explain.explain_change(traced, "IND", "PAK", 1963, 1965)
    assert e.by_third["balancing"].set_index("state").b_to_a.idxmax() == "CHN"


def test_russias_cost_of_courting_pakistan_runs_through_india(traced):
    """The README's reading of Russia-Pakistan 1986-2006: structural balance costs Russia through India."""
    e = explain.explain_change(traced, "RUS", "PAK", 1986, 2006)
    split = e.by_third["structural balance"].set_index("state").a_to_b
    assert split.idxmin() == "IND" and split["IND"] < -0.1


def test_override_rows_replace_the_rules_choice(baseline_inputs):
    """Role play: a person's stance row replaces the rules' one; everyone else still follows the rules."""
    p = Parameters.baseline()
    free, played = explain.Stepper(baseline_inputs, p, [0]), explain.Stepper(baseline_inputs, p, [0])
    row = np.full(6, -1.0)
    for _ in range(3):
        free.step()
        played.step({"PAK": row})
    pak = INDEX["PAK"]
    assert np.all(played.stance[0, 2, pak, np.arange(6) != pak] == -1.0)
    # the year the override is made, the others' choices are unchanged (simultaneous decisions) ...
    others = np.arange(6) != pak
    np.testing.assert_allclose(played.stance[0, 0][others], free.stance[0, 0][others], atol=1e-12)
    # ... and the following years they respond to it
    assert not np.allclose(played.stance[0, 2][others], free.stance[0, 2][others])
    np.testing.assert_allclose(sum(played.parts[k] for k in explain.PARTS)[:, :3], played.stance[:, :3], atol=1e-12)


def test_stepper_stops_at_the_end(baseline_inputs):
    s = explain.Stepper(baseline_inputs, Parameters.baseline(), [0])
    while s.step():
        pass
    assert s.done and s.t == baseline_inputs.n_years and s.step() is False and s.year == 2024


@pytest.mark.slow
def test_explain_command_writes_table_and_figure(tmp_path):
    out = tmp_path / "why"
    done = subprocess.run([sys.executable, "-m", "simulation", "explain", "scenarios/baseline.yaml", "--pair", "RUS", "PAK",
                           "--from", "2010", "--to", "2018", "--runs", "3", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Why did Russia and Pakistan converge from 2010 to 2018?" in done.stdout
    table = pd.read_csv(out / "explanation.csv")
    assert {"part", "alignment", "a_to_b", "b_to_a"} <= set(table.columns)
    third = pd.read_csv(out / "third_states.csv")
    assert list(third.columns) == ["motive", "state", "a_to_b", "b_to_a", "alignment"]
    for motive, split in third.groupby("motive"):
        assert split.alignment.sum() == pytest.approx(table.set_index("part").alignment[motive], abs=1e-5)
    assert "| against | alignment | RUS→PAK | PAK→RUS |" in done.stdout
    assert (out / "explanation.png").stat().st_size > 10_000
    bad = subprocess.run([sys.executable, "-m", "simulation", "explain", "scenarios/baseline.yaml", "--pair", "RUS", "XXX",
                          "--from", "2010", "--to", "2018"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error:")


@pytest.mark.slow
def test_run_writes_motives_that_add_up(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "simulation", "run", "scenarios/baseline.yaml", "--seed", "0", "--no-plots",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    motives = pd.read_csv(out / "motives.csv")
    assert len(motives) == 78 * 30
    np.testing.assert_allclose(motives[list(explain.PARTS)].sum(axis=1), motives.stance, atol=5e-6)  # 6 decimals
    align = pd.read_csv(out / "alignments.csv")
    row = align[(align.year == 2018) & (align.a == "PAK") & (align.b == "RUS")].alignment.item()
    pair = ((motives.i == "PAK") & (motives.j == "RUS")) | ((motives.i == "RUS") & (motives.j == "PAK"))
    both = motives[(motives.year == 2018) & pair]
    assert row == pytest.approx(both.stance.min(), abs=1e-6)


def test_compare_summary_says_why_by_motive():
    from simulation.experiments import compare
    from simulation.experiments.scenario import load_scenario

    base, _ = load_scenario("scenarios/baseline.yaml")
    alt, _ = load_scenario("scenarios/us_india_ties_weaken.yaml")
    c = compare.run_comparison(base, alt, 10)
    diffs = compare.alignment_differences(c)
    div = compare.divergence(diffs)
    text = compare.summary_markdown(c, diffs, div, compare.threat_differences(c), 10)
    assert "**Why, by motive**" in text
    section = text[text.index("**Why, by motive**"):].split("\n\n")[1].splitlines()
    assert section and all(re.match(r"- .+–.+, \d{4}-\d{4}: .+ [+-]\d\.\d\d", x) for x in section)
    # the pair the scenario cuts: the cut is a sanction, and a sanction is a grievance too
    traces = [explain.trace(*scenario_inputs(s), range(10)) for s in (base, alt)]
    line = explain.comparison_lines(*traces, [("IND", "USA", 2006, 2010)])[0]
    assert re.search(r"threat -\d\.\d\d", line)
    # and the differences are what explain says for each scenario
    d = explain.difference(*traces, "IND", "USA", 2005, 2024)
    assert d.difference.sum() == pytest.approx(d.alt.sum() - d.base.sum(), abs=1e-12)
