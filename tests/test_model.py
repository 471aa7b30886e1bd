"""The Mesa model: determinism, equivalence with the batch rules, and events that only change inputs."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.engine import dynamics
from simulation.engine.inputs import Inputs
from simulation.engine.model import AlignmentModel
from simulation.engine.params import Parameters
from simulation.engine.shocks import stance_shocks
from simulation.engine.timeline import KINDS
from simulation.rules import choice
from simulation.states import INDEX, N_STATES

ROOT = Path(__file__).resolve().parents[1]


def run(inputs: Inputs, seed: int = 0, params: Parameters | None = None) -> AlignmentModel:
    model = AlignmentModel(inputs, params, seed=seed)
    model.run()
    return model


def test_covers_every_year_and_stays_in_range(baseline_inputs):
    a = run(baseline_inputs).series("alignment")
    assert a.shape == (78, N_STATES, N_STATES)
    assert np.all(a >= -1) and np.all(a <= 1)
    assert np.allclose(a, a.transpose(0, 2, 1))
    assert np.all(a[:, np.arange(N_STATES), np.arange(N_STATES)] == 0)


def test_same_seed_same_run_different_seed_different_run(baseline_inputs):
    a0 = run(baseline_inputs, 0).series("alignment")
    assert np.array_equal(a0, run(baseline_inputs, 0).series("alignment"))
    assert not np.array_equal(a0, run(baseline_inputs, 1).series("alignment"))


def test_mesa_model_equals_batch_rules(baseline_inputs):
    """The agents' row-by-row decisions give exactly what the batch rules give for the whole system."""
    p = Parameters()
    model = run(baseline_inputs, 3, p)
    shocks = stance_shocks([3], baseline_inputs.years)
    zeros = np.zeros((1, N_STATES, N_STATES))
    state = dynamics.State(baseline_inputs.initial_intent[None].copy(), zeros, zeros)
    out = []
    for t in range(baseline_inputs.n_years):
        state, _ = dynamics.step(state, baseline_inputs.year(t), p, shocks[t], first_year=t == 0)
        out.append(state.alignment[0])
    assert np.array_equal(np.stack(out), model.series("alignment"))


def test_a_few_run_batch_equals_the_mesa_model_run_by_run():
    """`run` steps a few seeds in one batch, each with its posterior draw (runner.run_scenario, which
    does not import Mesa); every run equals the Mesa model for its seed and weights, to the bit, and
    so does the score's balance-of-power-only baseline stepped in the same batch."""
    from simulation.experiments.posterior import ParameterSource
    from simulation.experiments.report import balance_of_power_only
    from simulation.experiments.runner import run_scenario
    from simulation.experiments.scenario import load_scenario

    scenario, _ = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    source = ParameterSource.parse("posterior")
    few = run_scenario(scenario, [5, 0, 2], source=source)
    for b, seed in enumerate(few.trace.seeds):
        model = run(few.inputs, seed, source.for_runs(few.params, [seed]))
        assert np.array_equal(few.trace.alignment[b], model.series("alignment"))
        assert np.array_equal(few.trace.threat[b], model.series("threat"))
        for name in dynamics.INSTRUMENTS:
            assert np.array_equal(few.trace.instruments[name][b], model.series(name)), name
        baseline = run(few.inputs, seed, balance_of_power_only(few.params))
        assert np.array_equal(few.baseline[b], baseline.series("alignment"))


def test_alignment_is_only_the_mutual_consent_of_stances(baseline_inputs):
    model = run(baseline_inputs)
    stance, alignment = model.series("stance"), model.series("alignment")
    assert np.array_equal(alignment, choice.mutual_alignment(stance))


def test_events_write_only_inputs_never_alignments(baseline_inputs):
    """Every array the timeline compiles into is an input field; none is an alignment or a stance."""
    from simulation.engine.inputs import DATA_DIR, _regimes, apply_events, regime_labels
    from simulation.engine.timeline import load_events

    events = load_events(DATA_DIR / "events.csv", regime_labels())
    base = {"acts": baseline_inputs.acts * 0, "contiguity": baseline_inputs.contiguity[0]}
    written = set(apply_events(events, baseline_inputs.years, base, _regimes(DATA_DIR / "regimes.csv")))
    input_fields = {f.name for f in dataclasses.fields(Inputs)}
    assert written <= input_fields
    assert not written & {"alignment", "stance"}
    assert not any(kind.startswith(("align", "stance", "alliance")) for kind in KINDS)


def test_events_change_inputs_and_outcomes_follow_through_the_rules(baseline_inputs):
    """Removing the 1979 invasion changes only inputs; Pakistan's threat from the USSR falls through the rules."""
    acts = baseline_inputs.acts.copy()
    presence = baseline_inputs.presence.copy()
    t0, t1 = 1979 - 1947, 1989 - 1947
    rus, afg, pak = INDEX["RUS"], INDEX["AFG"], INDEX["PAK"]
    acts[t0:t1, rus, afg] = 0.0
    acts[t0:t1, rus, pak] = 0.0
    presence[t0:t1, rus, afg] = 0.0
    counterfactual = dataclasses.replace(baseline_inputs, acts=acts, presence=presence)
    factual_threat = run(baseline_inputs).series("threat")[t0:t1, pak, rus].mean()
    counter_threat = run(counterfactual).series("threat")[t0:t1, pak, rus].mean()
    assert counter_threat < factual_threat


def _run_cli(out: Path, seed: int = 0) -> bytes:
    subprocess.run([sys.executable, "-m", "simulation", "run", str(ROOT / "scenarios/baseline.yaml"),
                    "--seed", str(seed), "--out", str(out), "--no-plots"], check=True, capture_output=True)
    return (out / "alignments.csv").read_bytes()


@pytest.mark.slow
def test_byte_identical_output_in_separate_processes(tmp_path):
    first, second = _run_cli(tmp_path / "a"), _run_cli(tmp_path / "b")
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    header, *rows = first.decode().splitlines()
    assert header == "run,year,a,b,alignment"
    assert len(rows) == 78 * 15


@pytest.mark.parametrize("year,series", [(2024, "capability"), (2024, "arms_export_share"), (2024, "gdp")])
def test_series_are_extended_past_their_last_year(baseline_inputs, year, series):
    values = getattr(baseline_inputs, series)
    assert np.all(np.isfinite(values)) and np.all(values[year - 1947] > 0) == (series != "arms_export_share")
    assert np.all(np.isfinite(values[year - 1947]))


def test_geography_changes_with_history(baseline_inputs):
    afg, rus, usa = INDEX["AFG"], INDEX["RUS"], INDEX["USA"]
    assert baseline_inputs.contiguity[1990 - 1947, afg, rus] == 1.0
    assert baseline_inputs.contiguity[1992 - 1947, afg, rus] == 0.0
    assert baseline_inputs.presence[1985 - 1947, rus, afg] == 1.0
    assert baseline_inputs.presence[1990 - 1947, rus, afg] == 0.0
    assert baseline_inputs.presence[2010 - 1947, usa, afg] == 1.0
    assert baseline_inputs.presence[2022 - 1947, usa, afg] == 0.0


@pytest.mark.parametrize("state,year,value", [
    ("AFG", 1985, 1.0),  # UCDP 333, war: the PDPA government and the mujahideen
    ("AFG", 2003, 0.5),  # 333 at minor intensity, 2002-2004
    ("AFG", 2022, 0.5),  # the Taliban emirate vs NRF and AFF
    ("CHN", 1947, 1.0),  # 202, the civil war (and 217, Taiwan)
    ("CHN", 1957, 0.0),  # between the Tibetan conflict-years 1956 and 1959
    ("IND", 1990, 1.0),  # Punjab (351) at war; Kashmir (364) minor: the highest holds
    ("IND", 1995, 0.5),  # Kashmir, Nagaland, Assam ... all minor: not their sum
    ("PAK", 1971, 1.0),  # 312, East Pakistan
    ("PAK", 1972, 0.0),  # between East Pakistan (1971) and Balochistan (from 1974)
    ("PAK", 2010, 1.0),  # 404, the TTP at war
    ("RUS", 1997, 0.0),  # between the Chechen wars
    ("RUS", 2000, 1.0),  # 401, the second Chechen war
])
def test_internal_threat_reproduces_the_ucdp_intensities(baseline_inputs, state, year, value):
    assert baseline_inputs.internal_threat[year - 1947, INDEX[state]] == value


def test_internal_threat_is_coded_levels_and_none_for_the_united_states(baseline_inputs):
    """Every value is a coded UCDP level or 0; the US fought no internal conflict at home (its war
    with al-Qaida, UCDP 418, was fought abroad)."""
    threat = baseline_inputs.internal_threat
    assert set(np.unique(threat)) <= {0.0, 0.5, 1.0}
    assert not threat[:, INDEX["USA"]].any()
    assert all(threat[:, INDEX[s]].any() for s in ("AFG", "CHN", "IND", "PAK", "RUS"))


def test_stepping_past_the_last_year_does_nothing(baseline_inputs):
    """An app may ask for more steps than years are left: the run stops cleanly at the period's end."""
    model = run(baseline_inputs)
    last = model.state.alignment.copy()
    model.step()
    model.step()
    assert not model.running and model.year == int(baseline_inputs.years[-1])
    assert np.array_equal(model.state.alignment, last)
    assert len(model.series("alignment")) == baseline_inputs.n_years


def test_the_input_schema_is_the_one_source_of_series():
    """Event kinds write schema series; the scenario editor offers the schema's editable ones; the
    year a rule reads has exactly the schema's fields."""
    from simulation.engine.series import YearInputs, editable, schema
    from simulation.experiments.scenario import EDITABLE_SERIES

    assert all(series in schema() for series, _ in KINDS.values())
    assert EDITABLE_SERIES == editable() and "ideology" not in EDITABLE_SERIES
    x = Inputs.__dataclass_fields__
    assert set(YearInputs.__dataclass_fields__) == set(x) - {"years", "initial_intent"}
