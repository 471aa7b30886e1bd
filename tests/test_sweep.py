"""Sweeps: designs, backends that agree, streaming to Parquet, kill-and-resume, and analysis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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
