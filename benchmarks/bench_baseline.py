"""How long the baseline takes: model time of one 78-year Mesa run, input loading, and the
vectorized ensemble's throughput. A benchmark, not a test: it prints figures and asserts nothing.

    .venv/bin/python benchmarks/bench_baseline.py [--repeats 30] [--ensemble-runs 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from simulation.engine.ensemble import simulate
from simulation.engine.inputs import build_inputs
from simulation.engine.model import AlignmentModel
from simulation.engine.params import Parameters


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--ensemble-runs", type=int, default=1000)
    args = parser.parse_args()

    load = timed(lambda: build_inputs(1947, 2024), 5)
    inputs = build_inputs(1947, 2024)
    params = Parameters.baseline()

    def one_run() -> None:
        model = AlignmentModel(inputs, params, seed=0)
        model.run()

    one_run()  # warm up imports and caches
    runs = timed(one_run, args.repeats)
    seeds = list(range(args.ensemble_runs))
    ensemble = timed(lambda: simulate(inputs, params, seeds, keep_threat=False), 3)

    print(f"input loading (data + timeline): median {statistics.median(load) * 1000:.0f} ms")
    print(f"baseline Mesa run, 78 years (model time): median {statistics.median(runs) * 1000:.1f} ms, "
          f"min {min(runs) * 1000:.1f} ms over {args.repeats} runs "
          f"-> {1 / statistics.median(runs):.0f} runs/s")
    best = min(ensemble)
    print(f"vectorized ensemble, {args.ensemble_runs} runs x 78 years: {best:.2f} s "
          f"-> {args.ensemble_runs / best:.0f} runs/s (one process)")


if __name__ == "__main__":
    main()
