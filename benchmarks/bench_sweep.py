"""The same sweep three ways on this machine: a plain loop of the Mesa model (one model per run,
as mesa.batch_run does), the vectorized ensemble on one core, and on all cores. Prints runs/s and
ratios. A benchmark, not a test.

    .venv/bin/python benchmarks/bench_sweep.py [--runs 10000] [--mesa-runs 100] [--workers 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from simulation.experiments import sweep

ROOT = Path(__file__).resolve().parents[1]
SPEC = """name: bench
scenario: {scenario}
design: monte_carlo
samples: {points}
seeds_per_point: 10
seed: 0
parameters:
  threat_weight: [0.0, 3.0]
  intent_weight: [0.0, 3.0]
  power_weight: [0.0, 3.0]
  balancing_weight: [0.0, 6.0]
  interest_weight: [0.0, 4.0]
  inertia: [0.3, 0.95]
outputs:
  - {{name: rus_pak_2020, pair: [PAK, RUS], year: 2020}}
  - {{name: usa_ind_2015, pair: [IND, USA], year: 2015}}
chunk_size: {chunk}
"""


def mesa_rate(plan: sweep.Sweep, n_runs: int) -> float:
    """Runs/s of the Mesa path: one model object per run, stepped year by year (as mesa.batch_run)."""
    # imported here: worker processes re-import this script, and the CLI's workers do not load Mesa
    from simulation.engine.model import AlignmentModel

    inputs, base, _ = sweep._scenario(str(plan.scenario_path))
    runs = [(dict(zip(task.names, row, strict=True)), int(seed))
            for task in sweep.tasks(plan, set()) for row, seed in zip(task.points, task.seeds, strict=True)]
    start = time.perf_counter()
    for overrides, seed in runs[:n_runs]:
        AlignmentModel(inputs, base.with_overrides(overrides), seed=seed).run()
    return n_runs / (time.perf_counter() - start)


def sweep_seconds(plan: sweep.Sweep, out: Path, workers: int) -> float:
    start = time.perf_counter()
    sweep.run_sweep(plan, out, workers=workers, progress=False)
    seconds = time.perf_counter() - start
    shutil.rmtree(out)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the sweep (multiple of 10)")
    parser.add_argument("--mesa-runs", type=int, default=100, help="runs timed on the Mesa path per repeat")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5,
                        help="interleaved repeats; medians are reported, so a busy moment on a shared "
                             "machine shifts one repeat, not the result")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    spec = work / "spec.yaml"
    spec.write_text(SPEC.format(scenario=ROOT / "scenarios/baseline.yaml", points=args.runs // 10, chunk=args.chunk))
    plan = sweep.prepare(spec)
    mesa_rate(plan, 5)  # warm-up: imports and input loading are not part of either path's rate

    # Mesa and the one-core ensemble are timed back to back in each repeat, so their ratio compares
    # the two paths under the same machine load
    mesa, one_core, many = [], [], []
    for r in range(args.repeats):
        mesa.append(mesa_rate(plan, args.mesa_runs))
        one_core.append(sweep_seconds(plan, work / f"one_{r}", 1))
        many.append(sweep_seconds(plan, work / f"many_{r}", args.workers))
    ratios = [plan.n_runs / s / m for s, m in zip(one_core, mesa, strict=True)]
    median = statistics.median

    print(f"sweep: {plan.n_runs} runs of 1947-2024 ({len(plan.points)} points x 10 seeds), chunks of {args.chunk}; "
          f"medians of {args.repeats} interleaved repeats")
    print(f"{'Mesa model, plain loop':28s} {median(mesa):9.0f} runs/s   (timed on {args.mesa_runs} runs per repeat)")
    for label, seconds in (("ensemble, 1 core", one_core), (f"ensemble, {args.workers} cores", many)):
        rate = plan.n_runs / median(seconds)
        print(f"{label:28s} {rate:9.0f} runs/s   {median(seconds):6.1f} s for the sweep   {rate / median(mesa):6.0f}x Mesa")
    print(f"one-core ratio per repeat: median {median(ratios):.0f}x, range {min(ratios):.0f}x-{max(ratios):.0f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
