"""How long the commands a user types take, start-up included: wall time of a fresh process for

    single  `run scenarios/baseline.yaml --no-plots --parameters point` (one run: issue 14's < 1 s)
    plots   `run scenarios/baseline.yaml --seed 0 --parameters point`, what `make baseline` runs (< 3 s)
    many    `run scenarios/baseline.yaml --runs 2000 --no-plots --parameters point` (< 10 s)

A benchmark, not a test: it prints figures and asserts nothing.

    .venv/bin/python benchmarks/bench_cli.py [--repeats 7] [--only single,plots,many]

Each command runs in a new Python process, as from the shell, once untimed (so that Python's
bytecode cache is written, as after any install) and then `--repeats` times; the figure is the median
wall time, beside the median CPU time of the child (user + system) and the load average before and
after, since this shared machine's speed drifts by up to a third between minutes.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from platform_info import describe

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/baseline.yaml"
COMMANDS: dict[str, list[str]] = {
    "single": ["run", SCENARIO, "--no-plots", "--parameters", "point"],
    "plots": ["run", SCENARIO, "--seed", "0", "--parameters", "point"],
    "many": ["run", SCENARIO, "--runs", "2000", "--no-plots", "--parameters", "point"],
}


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], out: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one `python -m simulation ARGS --out OUT --force` from a new process."""
    cpu, start = child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "simulation", *args, "--out", str(out), "--force"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, child_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", default=",".join(COMMANDS), help="comma-separated: " + ", ".join(COMMANDS))
    args = parser.parse_args()
    # the package from this checkout, with Python's bytecode cache on (as for a user; some sandboxes turn it off)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            command = COMMANDS[name]
            out = Path(tmp) / name
            timed(command, out, env)  # warm-up: bytecode cache, file cache
            load = os.getloadavg()[0]
            walls, cpus = zip(*(timed(command, out, env) for _ in range(args.repeats)), strict=True)
            print(f"{name:6s} median {statistics.median(walls):6.2f} s wall (min {min(walls):.2f}, max {max(walls):.2f}), "
                  f"{statistics.median(cpus):6.2f} s CPU, {args.repeats} repeats, load {load:.2f} -> "
                  f"{os.getloadavg()[0]:.2f}: python -m simulation {' '.join(command)}")


if __name__ == "__main__":
    main()
