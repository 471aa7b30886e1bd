"""Command line: `python -m simulation run SCENARIO --seed 0 --out DIR` (also the `simulation` script).

A user's mistake (bad file, bad field, bad argument) prints one line naming file, line and field,
and exits with code 2; nothing is written to --out.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from simulation.errors import InputError

EXIT_USAGE = 2


def _cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from simulation import output, plots
    from simulation.runner import run_scenario
    from simulation.scenario import load_scenario
    from simulation.states import STATES

    scenario, timeline = load_scenario(args.scenario)
    seeds = [args.seed] if args.seed is not None else None
    if args.runs is not None:
        first = args.seed if args.seed is not None else scenario.seeds[0]
        seeds = list(range(first, first + args.runs))
    started = time.perf_counter()
    inputs, params, runs = run_scenario(scenario, timeline, seeds, progress=True)
    model_seconds = time.perf_counter() - started
    alignments = output.alignments_frame(runs)

    def write(folder: Path) -> None:
        steps = ["tables"] + ([] if args.no_plots else ["plots"])
        bar = tqdm(steps, desc="writing", unit="step", disable=None, leave=False)
        for step in bar:
            if step == "tables":
                output.write_csv(alignments, folder / "alignments.csv")
                output.write_csv(output.threats_frame(runs), folder / "threats.csv")
                output.write_csv(inputs.to_long(), folder / "inputs.csv")
                shutil.copyfile(timeline, folder / "events.csv")
                output.write_json({"scenario": scenario.name, "seeds": [r.seed for r in runs],
                                   "period": [scenario.period.start, scenario.period.end],
                                   "parameters": params.as_dict()}, folder / "parameters.json")
            else:
                plots.plot_alignment_series(alignments, folder / "alignment_over_time.png",
                                            title=f"{scenario.name}: alignment by pair")
                cap = pd.DataFrame({"year": inputs.years.repeat(len(STATES)),
                                    "state": list(STATES) * inputs.n_years,
                                    "value": inputs.capability.reshape(-1)})
                plots.plot_networks(alignments, cap, folder / "alignment_network.png")

    output.write_atomically(Path(args.out), write)
    years = scenario.period.end - scenario.period.start + 1
    print(f"{scenario.name}: {years} years x {len(runs)} run(s) simulated in {model_seconds:.2f} s; "
          f"results in {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simulation", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and write alignments, threats, inputs and plots")
    run.add_argument("scenario", help="scenario YAML file, e.g. scenarios/baseline.yaml")
    run.add_argument("--seed", type=int, help="run this one seed instead of the scenario's seeds")
    run.add_argument("--runs", type=int, help="run this many consecutive seeds, from --seed (or the first)")
    run.add_argument("--out", required=True, help="folder for the results (created if missing)")
    run.add_argument("--no-plots", action="store_true", help="skip the figures (faster)")
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "runs", None) is not None and args.runs < 1:
        print("error: --runs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "seed", None) is not None and args.seed < 0:
        print("error: --seed must be a non-negative integer", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; --out left unchanged", file=sys.stderr)
        return 130
