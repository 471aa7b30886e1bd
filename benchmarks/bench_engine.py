"""The engine's speed, ratios first: the ensemble against the Mesa path, a calibration generation
as one batch against one candidate at a time, and the cost per run-year for 6, 12 and 24 states.
A benchmark, not a test: it prints figures and asserts nothing.

    .venv/bin/python benchmarks/bench_engine.py [--repeats 5] [--batch 2000] [--mesa-runs 20]

This shared machine's speed drifts by up to a third between minutes, so each ratio times its two
paths back to back within every repeat and reports the median of the per-repeat ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from platform_info import describe

from simulation.engine.ensemble import simulate
from simulation.engine.inputs import build_inputs
from simulation.engine.model import AlignmentModel
from simulation.engine.params import Parameters
from simulation.engine.series import Inputs, schema, yearly
from simulation.experiments import calibrate
from simulation.experiments.score import load_targets, target_cells


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def synthetic_inputs(n_states: int, n_years: int = 78, seed: int = 0) -> Inputs:
    """A random world of `n_states` states with the schema's shapes: capabilities, distances, a few
    acts and disputes, so that every rule does real work. For timing only."""
    rng = np.random.default_rng(seed)
    n, t = n_states, n_years
    shapes = {"state": (t, n), "pair": (t, n, n), "ideology": (t, n, 3)}
    arrays = {f.name: np.full(shapes[f.metadata["per"]], float(f.metadata["neutral"])) for f in yearly()}
    cap = rng.dirichlet(np.ones(n), size=t)
    arrays["capability"] = cap
    arrays["milex_share"] = cap / cap.max(axis=1, keepdims=True)
    arrays["gdp"] = 1e5 * cap * n
    arrays["arms_export_share"] = rng.dirichlet(np.ones(n), size=t)
    arrays["acts"] = (rng.random((t, n, n)) < 0.05) * rng.random((t, n, n)) * (1 - np.eye(n))
    arrays["dispute"] = np.repeat(((rng.random((n, n)) < 0.1) * 0.5)[None], t, axis=0)
    arrays["contiguity"] = np.repeat(((rng.random((n, n)) < 0.2) * 1.0)[None], t, axis=0)
    arrays["ideology"] = rng.uniform([-1, 0, 0], [1, 1, 1], size=(t, n, 3))
    distance = rng.uniform(500, 12000, (n, n))
    distance = (distance + distance.T) / 2 * (1 - np.eye(n))
    assert set(arrays) | {"distance_km"} == set(schema())
    return Inputs(years=np.arange(1947, 1947 + t), distance_km=distance, initial_intent=np.zeros((n, n)), **arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2000, help="runs per ensemble batch (default 2000)")
    parser.add_argument("--mesa-runs", type=int, default=20, help="Mesa runs per repeat (default 20)")
    args = parser.parse_args()
    print(f"machine: {describe()}")

    inputs = build_inputs(1947, 2024)
    params = Parameters.baseline()
    year_runs = inputs.n_years

    # 1. the ensemble against the Mesa path, on the baseline
    ratios, mesa_us, ens_us = [], [], []
    for r in range(args.repeats):
        mesa = seconds(lambda: [AlignmentModel(inputs, params, seed=s).run() for s in range(args.mesa_runs)])
        ens = seconds(lambda r=r: simulate(inputs, params, list(range(r, r + args.batch)), keep_threat=False))
        mesa_us.append(mesa / (args.mesa_runs * year_runs) * 1e6)
        ens_us.append(ens / (args.batch * year_runs) * 1e6)
        ratios.append(mesa_us[-1] / ens_us[-1])
    print(f"ensemble vs Mesa, one core: {statistics.median(ratios):.0f}x (per repeat {min(ratios):.0f}x-{max(ratios):.0f}x); "
          f"per run-year {statistics.median(ens_us):.2f} us against {statistics.median(mesa_us):.0f} us "
          f"(batch {args.batch}, {args.repeats} repeats)")

    # 2. a calibration generation as one batch against one candidate at a time
    cells = target_cells(load_targets(), inputs.years, (1947, 1990))
    names = calibrate.free_parameters()
    objective = calibrate.Objective(inputs.until(1990), cells, names, (0, 1, 2, 3))
    lo, hi = np.array([Parameters.bounds()[n] for n in names]).T
    candidates = lo + np.random.default_rng(0).random((10 * len(names), len(names))) * (hi - lo)
    sample = candidates[:12]
    gen_ratios, batched_s = [], []
    for _ in range(max(1, args.repeats // 2)):
        batched = seconds(lambda: objective.losses(candidates))
        one_by_one = seconds(lambda: [objective(x) for x in sample]) * len(candidates) / len(sample)
        batched_s.append(batched)
        gen_ratios.append(one_by_one / batched)
    print(f"calibration generation ({len(candidates)} candidates x 4 seeds, fitted years 1947-1990): batched "
          f"{statistics.median(gen_ratios):.0f}x one candidate at a time; {statistics.median(batched_s):.2f} s a generation")

    # 3. cost per run-year as the number of states grows
    for n in (6, 12, 24):
        world = synthetic_inputs(n)
        batch = max(50, args.batch * 36 // (n * n))  # about the same memory per batch
        times = [seconds(lambda world=world, batch=batch: simulate(world, Parameters(), list(range(batch)),
                                                                   keep_threat=False))
                 for _ in range(max(1, args.repeats // 2))]
        print(f"{n:2d} synthetic states: {min(times) / (batch * world.n_years) * 1e6:7.2f} us per run-year "
              f"(batch {batch}, best of {len(times)})")


if __name__ == "__main__":
    main()
