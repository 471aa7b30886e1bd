"""Sweeps: designs, backends that agree, streaming to Parquet, kill-and-resume, and analysis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.errors import InputError
from simulation.experiments import sweep
from simulation.interfaces.cli import main

ROOT = Path(__file__).resolve().parents[1]


def spec(tmp: Path, design: str = "sobol", samples: int = 8, chunk: int = 20, seeds: int = 2,
         extra: str = "") -> Path:
    path = tmp / f"{design}.yaml"
    path.write_text(f"""name: test_{design}
scenario: {ROOT / 'scenarios/baseline.yaml'}
design: {design}
samples: {samples}
seeds_per_point: {seeds}
parameters:
  threat_weight: [0.0, 3.0]
  interest_weight: [0.0, 4.0]
  inertia: [0.3, 0.95]
outputs:
  - {{name: rus_pak_2020, pair: [PAK, RUS], year: 2020}}
  - {{name: usa_ind_2010s, pair: [IND, USA], years: [2010, 2019]}}
  - {{name: score, kind: score}}
chunk_size: {chunk}
{extra}""")
    return path


@pytest.mark.parametrize("design,samples,points", [("grid", 3, 27), ("monte_carlo", 10, 10), ("latin", 10, 10),
                                                   ("sobol", 8, 8 * (3 + 2)), ("morris", 4, 4 * (3 + 1))])
def test_designs_come_from_their_samplers(tmp_path, design, samples, points):
    plan = sweep.prepare(spec(tmp_path, design, samples))
    assert plan.points.shape == (points, 3)
    lo = np.array([0.0, 0.0, 0.3])
    hi = np.array([3.0, 4.0, 0.95])
    assert np.all(plan.points >= lo - 1e-12) and np.all(plan.points <= hi + 1e-12)
    assert np.array_equal(plan.points, sweep.prepare(spec(tmp_path, design, samples)).points)


@pytest.mark.slow
def test_rows_match_single_runs_of_the_engine(tmp_path):
    """A sweep row is the ensemble run for its parameter point and seed."""
    from simulation.engine.ensemble import simulate
    from simulation.engine.inputs import build_inputs
    from simulation.engine.params import Parameters

    plan = sweep.prepare(spec(tmp_path, "monte_carlo", 3, chunk=4))
    sweep.run_sweep(plan, tmp_path / "out", progress=False)
    rows = sweep.read_results(tmp_path / "out")
    assert list(rows.run) == list(range(6)) and list(rows.seed) == [0, 1] * 3
    inputs = build_inputs(1947, 2024)
    for r in rows.itertuples(index=False):
        p = Parameters.baseline().with_overrides({"threat_weight": r.threat_weight, "interest_weight": r.interest_weight,
                                                  "inertia": r.inertia})
        alignment = simulate(inputs, p, [int(r.seed)], keep_threat=False).alignment[0]
        assert abs(alignment[2020 - 1947, 3, 4] - r.rus_pak_2020) < 1e-9
        assert abs(alignment[2010 - 1947:2020 - 1947, 2, 5].mean() - r.usa_ind_2010s) < 1e-9


@pytest.mark.slow
def test_local_processes_and_dask_give_the_same_rows_as_in_process(tmp_path):
    from dask.distributed import LocalCluster

    plan = sweep.prepare(spec(tmp_path, chunk=15))
    sweep.run_sweep(plan, tmp_path / "inproc", progress=False)
    sweep.run_sweep(plan, tmp_path / "procs", workers=2, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        sweep.run_sweep(plan, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    reference = sweep.read_results(tmp_path / "inproc")
    assert len(reference) == plan.n_runs and reference.run.is_unique
    for name in ("procs", "dask"):
        pd.testing.assert_frame_equal(sweep.read_results(tmp_path / name), reference)


def _slow_pid(item: int) -> tuple[int, int]:
    time.sleep(0.05)
    return item, os.getpid()


@pytest.mark.slow
def test_local_processes_share_the_work_with_this_one_and_run_each_item_once():
    """--workers 2: one new process and this one, each item exactly once (this process starts at once,
    the new one when it has started up)."""
    results = list(sweep.execute(_slow_pid, list(range(40)), workers=2))
    assert sorted(item for item, _ in results) == list(range(40))
    pids = {pid for _, pid in results}
    assert os.getpid() in pids and len(pids) == 2


@pytest.mark.slow
def test_killed_sweep_resumes_to_exactly_the_uninterrupted_rows(tmp_path):
    path = spec(tmp_path, "monte_carlo", samples=2000, chunk=40, seeds=2)
    full, killed = tmp_path / "full", tmp_path / "killed"
    sweep.run_sweep(sweep.prepare(path), full, progress=False)

    proc = subprocess.Popen([sys.executable, "-m", "simulation", "sweep", str(path), "--out", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(list((killed / "chunks").glob("part-*.parquet"))) < 3 and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = len(list((killed / "chunks").glob("part-*.parquet")))
    assert 3 <= before < 100, "the sweep should have been killed midway"

    assert main(["sweep", str(path), "--out", str(killed), "--resume"]) == 0
    resumed = sweep.read_results(killed)
    assert resumed.run.is_unique and len(resumed) == 4000
    pd.testing.assert_frame_equal(resumed, sweep.read_results(full))


@pytest.mark.slow
def test_analyze_gives_indices_with_confidence_intervals(tmp_path, capsys):
    plan = sweep.prepare(spec(tmp_path, "sobol", samples=32, chunk=100))
    sweep.run_sweep(plan, tmp_path / "out", progress=False)
    assert main(["analyze", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "analysis" / "sensitivity.csv")
    assert set(table.columns) >= {"output", "parameter", "S1", "S1_conf", "ST", "ST_conf"}
    assert len(table) == 3 * 3 and (table.ST_conf >= 0).all()
    assert (tmp_path / "out" / "analysis" / "sensitivity.png").exists()


@pytest.mark.parametrize("design", ["latin", "monte_carlo"])
def test_sampled_designs_give_delta_indices(tmp_path, capsys, design):
    """Latin and Monte Carlo sweeps are analyzed with Borgonovo's delta (SALib's delta analyzer, whose
    keys changed in 1.6: every such sweep was refused as too small)."""
    plan = sweep.prepare(spec(tmp_path, design, samples=60, chunk=200, seeds=1))
    sweep.run_sweep(plan, tmp_path / "out", progress=False)
    assert main(["analyze", str(tmp_path / "out")]) == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "out" / "analysis" / "sensitivity.csv")
    assert set(table.columns) >= {"output", "parameter", "delta", "delta_conf", "S1", "S1_conf"}
    assert len(table) == 3 * 3 and np.isfinite(table[["delta", "delta_conf"]].to_numpy()).all()


@pytest.mark.parametrize("design,samples,indices", [("sobol", 4, ["S1", "S1_conf", "ST", "ST_conf"]),
                                                    ("morris", 4, ["mu_star", "mu_star_conf", "sigma"]),
                                                    ("latin", 60, ["delta", "delta_conf", "S1", "S1_conf"])])
def test_an_output_that_does_not_vary_has_undefined_indices_not_zero(tmp_path, capsys, design, samples, indices):
    """The first year's alignment does not depend on inertia (there is no earlier stance to keep): its
    indices came out as 0 (Sobol with numpy's RuntimeWarning of a division by its zero spread), a
    sensitivity it does not have. They are blank, with a note saying why, in the table and the printout."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"name: short\nextends: {ROOT / 'scenarios/baseline.yaml'}\nperiod: {{start: 2000, end: 2024}}\n")
    path = tmp_path / "spec.yaml"
    path.write_text(f"""name: flat
scenario: {scenario}
design: {design}
samples: {samples}
parameters:
  inertia: [0.3, 0.95]
  bipolar_inertia: [0.0, 0.3]
outputs:
  - {{name: first_year, pair: [IND, USA], year: 2000}}
  - {{name: score, kind: score}}
chunk_size: 500
""")
    out = tmp_path / "out"
    sweep.run_sweep(sweep.prepare(path), out, progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["analyze", str(out)]) == 0
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "analysis" / "sensitivity.csv")
    flat, varying = table[table.output == "first_year"], table[table.output == "score"]
    assert len(flat) == 2 and flat[indices].isna().all().all()
    assert flat.note.str.contains("does not vary over the sweep").all()
    assert np.isfinite(varying[indices].to_numpy()).all() and varying.note.isna().all()
    notes = [line for line in printed.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "first_year does not vary over the sweep" in notes[0] and "undefined" in notes[0]
    assert "nan" not in printed.lower()
    assert (out / "analysis" / "sensitivity.png").stat().st_size > 1000


def test_analysis_is_the_same_every_time_even_with_seed_0(tmp_path):
    """The bootstrap intervals come from the spec's seed: SALib takes a seed of 0 for none and then
    draws from numpy's global generator, which made the intervals of seed-0 specs vary."""
    plan = sweep.prepare(spec(tmp_path, "sobol", samples=16, chunk=500, seeds=1, extra="seed: 0\n"))
    sweep.run_sweep(plan, tmp_path / "out", progress=False)
    first = sweep.analyze(tmp_path / "out")
    pd.testing.assert_frame_equal(first, sweep.analyze(tmp_path / "out"))


def test_inertia_dominates_a_persistence_output(tmp_path):
    """A sanity check of the indices: the alignment averaged over the 2010s depends on the parameters
    that shape it; a parameter outside the rules' reach (none here) would score ~0."""
    plan = sweep.prepare(spec(tmp_path, "sobol", samples=64, chunk=500, seeds=1))
    sweep.run_sweep(plan, tmp_path / "out", progress=False)
    table = sweep.analyze(tmp_path / "out")
    assert table.ST.max() > 0.1


def test_resume_refuses_another_spec_and_out_refuses_a_finished_sweep(tmp_path, capsys):
    first = spec(tmp_path, "latin", samples=4)
    assert main(["sweep", str(first), "--out", str(tmp_path / "o")]) == 0
    assert main(["sweep", str(first), "--out", str(tmp_path / "o")]) == 2
    assert "add --resume" in capsys.readouterr().err
    other = spec(tmp_path, "monte_carlo", samples=4)
    assert main(["sweep", str(other), "--out", str(tmp_path / "o"), "--resume"]) == 2
    assert "different spec" in capsys.readouterr().err


@pytest.mark.slow
def test_incomplete_sweep_is_not_analyzed(tmp_path):
    plan = sweep.prepare(spec(tmp_path, "sobol", samples=8, chunk=10))
    sweep.run_sweep(plan, tmp_path / "out", progress=False)
    next((tmp_path / "out" / "chunks").glob("part-*.parquet")).unlink()
    with pytest.raises(InputError, match="finish it with --resume"):
        sweep.analyze(tmp_path / "out")


def test_run_and_chunk_counts(tmp_path):
    plan = sweep.prepare(spec(tmp_path, "sobol", samples=8, chunk=20, seeds=2))
    assert plan.n_runs == 8 * (3 + 2) * 2 and plan.n_chunks == 4


@pytest.mark.parametrize("old,new,message", [
    ("threat_weight: [0.0, 3.0]", "charisma: [0, 1]", "field 'parameters.charisma': unknown parameter 'charisma'"),
    ("threat_weight: [0.0, 3.0]", "threat_weight: [0.0, 30.0]", "range of threat_weight"),
    ("pair: [PAK, RUS]", "pair: [PAK, XYZ]", "unknown state code 'XYZ'"),
    ("design: sobol", "design: magic", "design"),
    ("chunk_size: 20", "chunk_size: 0", "chunk_size"),
    # a bound is a number, not text or a boolean
    ("threat_weight: [0.0, 3.0]", 'threat_weight: ["0", "3"]',
     "field 'parameters.threat_weight.0': Input should be a valid number"),
    ("threat_weight: [0.0, 3.0]", "threat_weight: [false, true]", "field 'parameters.threat_weight.0'"),
    # an output may not take the name of a column every row stores, or of a parameter
    ("name: score, kind: score", "name: point, kind: score", "sobol.yaml:13: field 'outputs.2.name': output name 'point'"),
    ("name: score, kind: score", "name: inertia, kind: score", "field 'outputs.2.name': output name 'inertia'"),
    ("samples: 8", "samples: 1", "field 'samples': a sobol design needs at least 2 samples"),
    ("samples: 8", "samples: 12", "field 'samples': a sobol design needs a power of 2 samples"),
    ("design: sobol\nsamples: 8", "design: morris\nsamples: 1", "a morris design needs at least 2 samples"),
    # a score output's pair and year were ignored, exit 0
    ("name: score, kind: score", "name: score, kind: score, pair: [PAK, RUS], year: 2020",
     "sobol.yaml:13: field 'outputs.2': a score output takes no 'pair'"),
    # a name given twice: its line and field (it was line 1 and no field)
    ("name: score, kind: score", "name: rus_pak_2020, kind: score",
     "sobol.yaml:13: field 'outputs.2.name': output names must be unique: 'rus_pak_2020'"),
    # an output year outside the scenario's period: its line (it had none)
    ("year: 2020", "year: 2030", "sobol.yaml:11: field 'outputs.0': output rus_pak_2020: years 2030-2030"),
])
def test_bad_specs_give_clean_errors(tmp_path, capsys, old, new, message):
    path = spec(tmp_path)
    path.write_text(path.read_text().replace(old, new))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_sweep_refuses_a_parameter_that_shapes_the_inputs(tmp_path):
    """Inputs are built once per sweep, so varying a data-coding parameter would silently do nothing."""
    spec = (ROOT / "sweeps" / "weights_sobol.yaml").read_text()
    head, _, _ = spec.partition("parameters:")
    (tmp_path / "s.yaml").write_text(head.replace("scenario: ../scenarios/", f"scenario: {ROOT}/scenarios/")
                                     + "parameters:\n  act_use: [0.2, 0.8]\noutputs:\n  - name: score\n    kind: score\n")
    with pytest.raises(InputError, match="act_use codes the data into inputs"):
        sweep.load_spec(tmp_path / "s.yaml")


# ---- the input contract: validate first, never lose an earlier result, one line per mistake ----

def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line(err: str, *needles: str) -> None:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ") and all(n in err for n in needles), err


def _bad_event_spec(tmp: Path) -> Path:
    """A spec whose scenario removes an event the timeline does not have (found only by building the inputs)."""
    (tmp / "bad.yaml").write_text(f"name: x\nextends: {ROOT / 'scenarios/baseline.yaml'}\n"
                                  "events:\n  remove: [no_such_event]\n")
    path = spec(tmp, "latin", samples=4, chunk=2, seeds=1)
    bad = tmp / "bad_spec.yaml"
    bad.write_text(path.read_text().replace(f"scenario: {ROOT / 'scenarios/baseline.yaml'}", f"scenario: {tmp / 'bad.yaml'}"))
    return bad


def test_a_bad_scenario_edit_is_one_line_before_the_sweep_starts(tmp_path, capsys):
    """The scenario's events are checked when the sweep is prepared, not in its first chunk after
    the progress bar has opened (and not once per worker)."""
    with pytest.raises(InputError, match="unknown event id 'no_such_event'"):
        sweep.prepare(_bad_event_spec(tmp_path))
    assert main(["sweep", str(_bad_event_spec(tmp_path)), "--out", str(tmp_path / "w")]) == 2
    _one_line(capsys.readouterr().err, "bad.yaml:4", "unknown event id")
    assert not (tmp_path / "w").exists()


def test_force_replaces_an_earlier_sweep_only_once_the_new_one_is_complete(tmp_path, capsys, monkeypatch):
    good = spec(tmp_path, "latin", samples=4, chunk=2, seeds=1)
    out = tmp_path / "o"
    assert main(["sweep", str(good), "--out", str(out)]) == 0
    before = _files(out)
    capsys.readouterr()

    # a scenario that fails to build: refused before the earlier sweep is touched
    assert main(["sweep", str(_bad_event_spec(tmp_path)), "--out", str(out), "--force"]) == 2
    _one_line(capsys.readouterr().err, "unknown event id")
    assert _files(out) == before

    # a failure (or an interrupt) while the new sweep runs: the earlier one is as it was, nothing beside it
    def broken(task):
        raise InputError("boom", field="outputs")

    monkeypatch.setattr(sweep, "run_chunk", broken)
    assert main(["sweep", str(good), "--out", str(out), "--force"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "error: <input>: field 'outputs': boom"  # after the bar
    assert _files(out) == before

    def interrupted(task):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "run_chunk", interrupted)
    assert main(["sweep", str(good), "--out", str(out), "--force"]) == 130
    assert _files(out) == before and sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    monkeypatch.undo()

    # and a complete one replaces it whole (the earlier analysis goes with it)
    (out / "analysis").mkdir()
    other = spec(tmp_path, "monte_carlo", samples=3, chunk=2, seeds=1)
    assert main(["sweep", str(other), "--out", str(out), "--force"]) == 0
    assert len(sweep.read_results(out)) == 3 and not (out / "analysis").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_force_refuses_to_replace_files_that_are_not_the_sweeps(tmp_path, capsys):
    good = spec(tmp_path, "latin", samples=4, chunk=2, seeds=1)
    out = tmp_path / "o"
    assert main(["sweep", str(good), "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    before = _files(out)
    capsys.readouterr()
    assert main(["sweep", str(good), "--out", str(out), "--force"]) == 2
    _one_line(capsys.readouterr().err, "notes.txt")
    assert _files(out) == before


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_out_that_is_a_file_is_one_line(tmp_path, capsys, force):
    target = tmp_path / "afile"
    target.write_text("x")
    assert main(["sweep", str(spec(tmp_path, "latin", samples=4)), "--out", str(target), *force]) == 2
    _one_line(capsys.readouterr().err, str(target), "not a folder")
    assert target.read_text() == "x"


def test_analyze_replaces_only_its_own_earlier_result(tmp_path, capsys):
    out = tmp_path / "out"
    sweep.run_sweep(sweep.prepare(spec(tmp_path, "sobol", samples=8, chunk=500, seeds=1)), out, progress=False)
    assert main(["analyze", str(out)]) == 0
    (out / "analysis" / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 2
    _one_line(capsys.readouterr().err, "notes.txt")
    assert (out / "analysis" / "notes.txt").read_text() == "mine"
    (out / "analysis" / "notes.txt").unlink()
    assert main(["analyze", str(out)]) == 0  # an earlier analysis alone is replaced

    (out / "analysis" / ".simulation-run.json").unlink()  # a folder of the user's, even with the same names
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 2
    _one_line(capsys.readouterr().err, "analysis")
    assert (out / "analysis" / "sensitivity.csv").exists()


def test_a_design_too_small_for_its_indices_is_refused(tmp_path, capsys, monkeypatch):
    """Sobol with one base sample gave S1 = -2, ST = 40 and intervals of 0; Morris with one trajectory a
    NaN sigma: refused in the spec, and in `analyze` of a sweep run before the check."""
    path = spec(tmp_path, "sobol", samples=1, chunk=500, seeds=1)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    _one_line(capsys.readouterr().err, "field 'samples'", "at least 2 samples")
    monkeypatch.setattr(sweep, "MIN_SAMPLES", {})
    sweep.run_sweep(sweep.prepare(path), tmp_path / "old", progress=False)
    monkeypatch.undo()
    with pytest.raises(InputError, match="at least 2 samples"):
        sweep.analyze(tmp_path / "old")

    # and indices that come out NaN are never reported as a result
    good = spec(tmp_path, "morris", samples=2, chunk=500, seeds=1)
    sweep.run_sweep(sweep.prepare(good), tmp_path / "m", progress=False)
    monkeypatch.setattr(sweep, "_indices", lambda spec, problem, names, X, Y, output: [
        {"output": output, "parameter": n, "mu_star": 0.1, "mu_star_conf": 0.0, "sigma": float("nan")} for n in names])
    with pytest.raises(InputError, match="not all finite"):
        sweep.analyze(tmp_path / "m")


def test_stray_chunk_files_are_one_line_errors(tmp_path, capsys):
    path = spec(tmp_path, "sobol", samples=8, chunk=500, seeds=1)
    out = tmp_path / "out"
    sweep.run_sweep(sweep.prepare(path), out, progress=False)
    chunks = out / "chunks"
    (chunks / "part-copy.parquet").write_bytes((chunks / "part-00000.parquet").read_bytes())
    assert main(["analyze", str(out)]) == 2
    _one_line(capsys.readouterr().err, "part-copy.parquet")
    (chunks / "part-copy.parquet").rename(chunks / "part-abcde.parquet")
    with (chunks / "SHA256SUMS").open("a") as handle:
        handle.write(f"{sweep._sha256(chunks / 'part-abcde.parquet')}  part-abcde.parquet\n")
    before = _files(out)
    assert main(["analyze", str(out)]) == 2
    _one_line(capsys.readouterr().err, "part-abcde.parquet")
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 2
    _one_line(capsys.readouterr().err, "part-abcde.parquet")
    assert _files(out) == before


def test_analyze_of_a_grid_names_every_design_it_can_analyze(tmp_path, capsys):
    """The message left out monte_carlo, which analyze takes (delta indices)."""
    path = spec(tmp_path, design="grid", samples=2, seeds=1)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 0
    capsys.readouterr()
    assert main(["analyze", str(tmp_path / "o")]) == 2
    assert "use sobol, morris, latin or monte_carlo" in capsys.readouterr().err


def test_chunk_names_and_indices_are_inverse():
    for k in (0, 7, 99_999, 123_456):
        assert sweep.chunk_index(sweep.chunk_path(Path("o"), k).name) == k
    for name in ("part-abcde.parquet", "part-copy.parquet", "part-012345.parquet", "part-00001.parquet.tmp"):
        assert sweep.chunk_index(name) is None
