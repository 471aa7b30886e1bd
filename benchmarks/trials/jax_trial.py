"""The XLA trial (benchmarks/trials/README.md): the numpy ensemble against the same rules compiled by
JAX, on the baseline, batch 2000, interleaved repeats. Needs `jax_xla.patch` applied and JAX installed.

    taskset -c 0 .venv/bin/python benchmarks/trials/jax_trial.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))
from platform_info import describe

from simulation.engine import compiled  # exists only with jax_xla.patch applied
from simulation.engine.ensemble import simulate
from simulation.engine.inputs import build_inputs
from simulation.engine.params import Parameters
from simulation.engine.shocks import stance_shocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    import jax

    print(f"machine: {describe()}; jax {jax.__version__}; cores this process may use: {len(os.sched_getaffinity(0))}")
    inputs, params = build_inputs(1947, 2024), Parameters.baseline()
    seeds = list(range(args.batch))
    by_year = stance_shocks(seeds, inputs.years, 6)
    started = time.perf_counter()
    xla = compiled.simulate(inputs, params, by_year, False, ())[0]
    print(f"first compiled call (tracing and compiling included): {time.perf_counter() - started:.1f} s")
    per_run_year = args.batch * inputs.n_years / 1e6
    numpy_us, xla_us = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        ref = simulate(inputs, params, seeds, keep_threat=False).alignment
        numpy_us.append((time.perf_counter() - started) / per_run_year)
        started = time.perf_counter()
        xla = compiled.simulate(inputs, params, by_year, False, ())[0]
        xla_us.append((time.perf_counter() - started) / per_run_year)
    ratios = [n / x for n, x in zip(numpy_us, xla_us, strict=True)]
    print(f"per run-year: numpy {statistics.median(numpy_us):.2f} us, XLA {statistics.median(xla_us):.2f} us; "
          f"XLA {statistics.median(ratios):.2f}x numpy (per repeat {min(ratios):.2f}-{max(ratios):.2f}x, "
          f"{args.repeats} repeats)")
    print(f"largest difference from the numpy ensemble: {np.abs(np.swapaxes(xla, 0, 1) - ref).max():.1e}")


if __name__ == "__main__":
    main()
