"""The same sweep three ways on this machine: a plain loop of the Mesa model (one model per run,
as mesa.batch_run does), the vectorized ensemble on one core, and on all cores. Prints runs/s and
ratios. A benchmark, not a test.

    .venv/bin/python benchmarks/bench_sweep.py [--runs 10000] [--mesa-runs 300] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from simulation import sweep
from simulation.model import AlignmentModel

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the sweep (multiple of 10)")
    parser.add_argument("--mesa-runs", type=int, default=300, help="runs timed on the Mesa path")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    spec = work / "spec.yaml"
    spec.write_text(SPEC.format(scenario=ROOT / "scenarios/baseline.yaml", points=args.runs // 10, chunk=args.chunk))
    plan = sweep.prepare(spec)

    # 1. Mesa: one model object per run, stepped year by year (the path mesa.batch_run takes)
    inputs, base, _ = sweep._scenario(str(plan.scenario_path))
    runs = sweep.tasks(plan, set())
    mesa_runs = 0
    start = time.perf_counter()
    for task in runs:
        for row, seed in zip(task.points, task.seeds, strict=True):
            model = AlignmentModel(inputs, base.with_overrides(dict(zip(task.names, row, strict=True))), seed=int(seed))
            model.run()
            mesa_runs += 1
            if mesa_runs >= args.mesa_runs:
                break
        if mesa_runs >= args.mesa_runs:
            break
    mesa_rate = mesa_runs / (time.perf_counter() - start)

    results = {}
    for label, workers in (("ensemble, 1 core", 1), (f"ensemble, {args.workers} cores", args.workers)):
        out = work / label.replace(" ", "_").replace(",", "")
        start = time.perf_counter()
        sweep.run_sweep(plan, out, workers=workers, progress=False)
        seconds = time.perf_counter() - start
        results[label] = (plan.n_runs / seconds, seconds)

    print(f"sweep: {plan.n_runs} runs of 1947-2024 ({len(plan.points)} points x 10 seeds), chunks of {args.chunk}")
    print(f"{'Mesa model, plain loop':28s} {mesa_rate:9.0f} runs/s   (timed on {mesa_runs} runs)")
    for label, (rate, seconds) in results.items():
        print(f"{label:28s} {rate:9.0f} runs/s   {seconds:6.1f} s for the sweep   {rate / mesa_rate:6.0f}x Mesa")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
