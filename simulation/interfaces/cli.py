"""Command line: `python -m simulation run SCENARIO --seed 0 --out DIR` (also the `simulation` script).

A user's mistake (bad file, bad field, bad argument) prints one line naming file, line and field,
and exits with code 2; nothing is written to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.errors import InputError

EXIT_USAGE = 2
DEFAULT_SPLIT = 1990


def _cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from simulation.engine.timeline import write_events
    from simulation.experiments.report import format_report, score_report
    from simulation.experiments.runner import run_scenario
    from simulation.experiments.scenario import load_scenario
    from simulation.experiments.score import load_targets
    from simulation.interfaces import output, plots
    from simulation.states import STATES

    scenario, _ = load_scenario(args.scenario)
    targets = load_targets()
    seeds = [args.seed] if args.seed is not None else None
    if args.runs is not None:
        first = args.seed if args.seed is not None else scenario.seeds[0]
        seeds = list(range(first, first + args.runs))
    started = time.perf_counter()
    inputs, params, runs, events = run_scenario(scenario, seeds, progress=True)
    seconds = time.perf_counter() - started
    alignments = output.alignments_frame(runs)
    report = score_report(np.stack([r.alignment for r in runs]), inputs, targets, params, split_year(),
                          [r.seed for r in runs])

    def tables(folder: Path) -> None:
        output.write_csv(alignments, folder / "alignments.csv")
        output.write_csv(output.threats_frame(runs), folder / "threats.csv")
        output.write_csv(inputs.to_long(), folder / "inputs.csv")
        write_events(events, folder / "events.csv")
        output.write_json(report, folder / "score.json")
        output.write_json({"scenario": scenario.name, "seeds": [r.seed for r in runs],
                           "period": [scenario.period.start, scenario.period.end],
                           "parameters": params.as_dict()}, folder / "parameters.json")

    def figures(folder: Path) -> None:
        plots.plot_alignment_series(alignments, folder / "alignment_over_time.png", targets=targets,
                                    title=f"{scenario.name}: alignment by pair")
        capability = pd.DataFrame({"year": inputs.years.repeat(len(STATES)), "state": list(STATES) * inputs.n_years,
                                   "value": inputs.capability.reshape(-1)})
        plots.plot_networks(alignments, capability, folder / "alignment_network.png")

    def write(folder: Path) -> None:
        steps = [tables] + ([] if args.no_plots else [figures])
        for step in tqdm(steps, desc="writing", unit="step", disable=None, leave=False):
            step(folder)

    output.write_atomically(Path(args.out), write)
    years = scenario.period.end - scenario.period.start + 1
    print(f"{scenario.name}: {years} years x {len(runs)} run(s), inputs built and simulated in {seconds:.2f} s; "
          f"results in {args.out}")
    print(format_report(report))
    return 0


def split_year() -> int:
    """The last year the committed calibration was fitted on (in sample up to it, out of sample after)."""
    from simulation.engine.params import CALIBRATED

    if CALIBRATED.exists():
        return int(json.loads(CALIBRATED.read_text(encoding="utf-8"))["fit_until"])
    return DEFAULT_SPLIT


def _cmd_score(args: argparse.Namespace) -> int:
    from simulation.engine.inputs import build_inputs, read_table
    from simulation.engine.params import Parameters
    from simulation.experiments.report import format_report, score_report
    from simulation.experiments.score import load_targets
    from simulation.interfaces import output
    from simulation.states import INDEX, N_STATES

    folder = Path(args.results)
    path = folder / "alignments.csv" if folder.is_dir() else folder
    frame = read_table(path, ["run", "year", "a", "b", "alignment"],
                       not_found="no alignments.csv here (give a run's --out folder or the file)")
    unknown = sorted(set(frame.a) - set(INDEX) | set(frame.b) - set(INDEX))
    if unknown:
        raise InputError(f"unknown state code {unknown[0]!r}", file=path, field="a")
    years = np.arange(int(frame.year.min()), int(frame.year.max()) + 1)
    runs = sorted(frame.run.unique())
    stack = np.zeros((len(runs), len(years), N_STATES, N_STATES))
    r = frame.run.map({v: k for k, v in enumerate(runs)}).to_numpy()
    t = (frame.year - years[0]).to_numpy()
    i, j = frame.a.map(INDEX).to_numpy(), frame.b.map(INDEX).to_numpy()
    stack[r, t, i, j] = stack[r, t, j, i] = frame.alignment.to_numpy()
    params = Parameters.baseline()
    used = folder / "parameters.json" if folder.is_dir() else None
    if used is not None and used.exists():
        params = Parameters(**json.loads(used.read_text(encoding="utf-8"))["parameters"])
    inputs = build_inputs(int(years[0]), int(years[-1]))
    report = score_report(stack, inputs, load_targets(), params, args.split_year or split_year(),
                          [int(x) for x in runs], baselines=not args.no_baselines)
    out = folder / "score.json" if folder.is_dir() else path.with_name("score.json")
    output.write_atomically(out.parent, lambda tmp: output.write_json(report, tmp / out.name))
    print(format_report(report))
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from simulation.engine.params import ABLATIONS, CALIBRATED
    from simulation.experiments import calibrate
    from simulation.interfaces import output, plots

    if args.rolling_origin or args.leave_one_pair_out or args.budget_spread:
        return _cmd_validate(args)
    if not 1950 <= args.fit_until <= 2023:
        raise InputError(f"--fit-until must lie in 1950..2023, got {args.fit_until}", field="--fit-until")
    budget = calibrate.Budget(args.fit_until, args.generations, args.ablation_generations, args.population, args.seed,
                              tuple(range(args.objective_seeds)), tuple(range(1000, 1000 + args.eval_seeds)),
                              args.warm_start)
    variants = ABLATIONS if args.ablation else {"full model": {}}
    print(f"fitting {', '.join(variants)} on 1947-{args.fit_until}, {args.workers} process(es)", file=sys.stderr)
    table, record = calibrate.calibrate_variants(variants, budget, args.workers,
                                                 "python -m simulation calibrate " + " ".join(args.raw))

    def write(folder: Path) -> None:
        output.write_json(record, folder / "calibration.json")
        output.write_csv(table, folder / "ablation.csv" if args.ablation else folder / "scores.csv")
        if args.ablation:
            plots.plot_ablation(table, folder / "ablation.png")

    output.write_atomically(Path(args.out), write)
    if args.write_baseline:
        output.write_json(record, CALIBRATED)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results in {args.out}" + (f"; baseline parameters written to {CALIBRATED}" if args.write_baseline else ""))
    return 0


def _years(flag: str, text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{flag} takes comma-separated integers, got {text!r}", field=flag) from None


def _add_validation_flags(cal: argparse.ArgumentParser) -> None:
    """The honest test's flags on `calibrate` (experiments/validation.py); the budget flags above
    (--generations, --population, --objective-seeds, --eval-seeds, --seed, --workers) apply to every fit."""
    cal.add_argument("--rolling-origin", metavar="YEARS",
                     help="refit on 1947..origin and test after it, per origin, e.g. 1970,1990,2005")
    cal.add_argument("--leave-one-pair-out", action="store_true",
                     help="refit to --fit-until without each pair in turn and score the held-out pair")
    cal.add_argument("--budget-spread", metavar="GENERATIONS",
                     help="refit to --fit-until at these budgets x --spread-seeds, e.g. 40,80,150")
    cal.add_argument("--spread-seeds", default="0,1,2", metavar="SEEDS", help="optimizer seeds (default 0,1,2)")


def _cmd_validate(args: argparse.Namespace) -> int:
    """Write the validation tables asked for by the flags of _add_validation_flags into --out."""
    from simulation.experiments import validation
    from simulation.interfaces import output

    budget = validation.FitBudget(args.generations, args.population, args.seed, tuple(range(args.objective_seeds)),
                                  tuple(range(1000, 1000 + args.eval_seeds)))
    origins = _years("--rolling-origin", args.rolling_origin) if args.rolling_origin else []
    if not all(1950 <= o <= 2023 for o in origins):
        raise InputError(f"--rolling-origin years must lie in 1950..2023, got {args.rolling_origin}",
                         field="--rolling-origin")
    spread = _years("--budget-spread", args.budget_spread) if args.budget_spread else []
    if spread and min(spread) < 1:
        raise InputError("--budget-spread generations must be at least 1", field="--budget-spread")
    started = time.perf_counter()
    tables = validation.validation_tables(origins, args.leave_one_pair_out, spread,
                                          _years("--spread-seeds", args.spread_seeds), budget, args.workers,
                                          args.fit_until)
    meta = {"command": "python -m simulation calibrate " + " ".join(args.raw), "budget": budget.describe(),
            "seconds": round(time.perf_counter() - started, 1)}

    def write(folder: Path) -> None:
        for name, table in tables.items():
            output.write_csv(table, folder / f"{name}.csv")
        output.write_json(meta, folder / f"{'_'.join(sorted(tables))}.json")

    output.write_atomically(Path(args.out), write)
    print(validation.format_tables(tables))
    print(f"validation tables in {args.out} ({meta['seconds']:.0f} s)")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from simulation.experiments import compare
    from simulation.experiments.scenario import load_scenario
    from simulation.interfaces import output, plots

    base, _ = load_scenario(args.base)
    alt, _ = load_scenario(args.alternative)
    result = compare.run_comparison(base, alt, args.runs, args.first_seed)
    diffs = compare.alignment_differences(result)
    div = compare.divergence(diffs)
    threats = compare.threat_differences(result)
    summary = compare.summary_markdown(result, diffs, div, threats, args.runs)

    def write(folder: Path) -> None:
        output.write_csv(diffs, folder / "alignment_difference.csv")
        output.write_csv(div, folder / "divergence.csv")
        output.write_csv(threats, folder / "threat_difference.csv")
        (folder / "summary.md").write_text(summary, encoding="utf-8")
        plots.plot_comparison(result, div, folder / "comparison.png")

    output.write_atomically(Path(args.out), write)
    print(summary)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from simulation.experiments import sweep

    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}", field="--workers")
    plan = sweep.prepare(args.spec)
    out = Path(args.out)
    started = time.perf_counter()
    ran = sweep.run_sweep(plan, out, args.workers, args.scheduler, args.resume)
    seconds = time.perf_counter() - started
    done = plan.n_chunks
    print(f"{plan.spec.name}: {plan.n_runs} runs ({len(plan.points)} points x {plan.spec.seeds_per_point} seeds) "
          f"in {done} chunks; {ran} run now in {seconds:.1f} s; results in {out / 'chunks'}")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from simulation.experiments import sweep
    from simulation.interfaces import output, plots

    folder = Path(args.results)
    if not (folder / "manifest.json").exists():
        raise InputError("holds no sweep (no manifest.json)", file=folder)
    table = sweep.analyze(folder)

    def write(tmp: Path) -> None:
        output.write_csv(table, tmp / "sensitivity.csv")
        plots.plot_sensitivity(table, tmp / "sensitivity.png")

    output.write_atomically(folder / "analysis", write)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"written to {folder / 'analysis'}")
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    import subprocess

    app = Path(__file__).with_name("app.py")
    command = [sys.executable, "-m", "solara", "run", str(app), "--host", args.host, "--port", str(args.port),
               "--no-open"]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host}, reachable from other machines", file=sys.stderr)
    # no usage telemetry; front-end assets come from the solara-assets package, not a CDN
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    return subprocess.call(command, env=env)


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

    sc = sub.add_parser("score", help="score a run's alignments against the documented record")
    sc.add_argument("results", help="a run's --out folder (or its alignments.csv)")
    sc.add_argument("--split-year", type=int, help="last in-sample year (default: the calibration's)")
    sc.add_argument("--no-baselines", action="store_true", help="score the model only")
    sc.set_defaults(func=_cmd_score)

    cmp_ = sub.add_parser("compare", help="run two scenarios over the same seeds and report the differences")
    cmp_.add_argument("base", help="the reference scenario, e.g. scenarios/baseline.yaml")
    cmp_.add_argument("alternative", help="the counterfactual scenario")
    cmp_.add_argument("--runs", type=int, default=200, help="paired runs (default 200)")
    cmp_.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed .. first-seed+runs-1")
    cmp_.add_argument("--out", required=True, help="folder for the tables, plot and summary")
    cmp_.set_defaults(func=_cmd_compare)

    sw = sub.add_parser("sweep", help="run a sweep spec (design x seeds) to Parquet chunks")
    sw.add_argument("spec", help="sweep spec YAML, e.g. sweeps/weights_sobol.yaml")
    sw.add_argument("--out", required=True, help="folder for the design, manifest and chunks")
    sw.add_argument("--workers", type=int, default=1, help="processes in all, this one included (default 1: in this process only)")
    sw.add_argument("--scheduler", help="a Dask scheduler address, e.g. tcp://HOST:8786 (overrides --workers)")
    sw.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    sw.set_defaults(func=_cmd_sweep)

    an = sub.add_parser("analyze", help="sensitivity indices of a finished sweep (SALib)")
    an.add_argument("results", help="the sweep's --out folder")
    an.set_defaults(func=_cmd_analyze)

    app = sub.add_parser("app", help="start the classroom app in the browser (Mesa SolaraViz)")
    app.add_argument("--host", default="127.0.0.1", help="address to serve on (default: this machine only)")
    app.add_argument("--port", type=int, default=8765)
    app.set_defaults(func=_cmd_app)

    cal = sub.add_parser("calibrate", help="fit the rule weights to the record up to a year; test after it")
    cal.add_argument("--fit-until", type=int, default=DEFAULT_SPLIT, help="last year fitted (default 1990)")
    cal.add_argument("--out", required=True, help="folder for calibration.json and the tables")
    cal.add_argument("--generations", type=int, default=150, help="optimizer budget: generations (default 150)")
    cal.add_argument("--population", type=int, default=10, help="population per parameter (default 10)")
    cal.add_argument("--objective-seeds", type=int, default=4, help="runs averaged per evaluation (default 4)")
    cal.add_argument("--eval-seeds", type=int, default=100, help="runs the result is scored on (default 100)")
    cal.add_argument("--seed", type=int, default=0, help="optimizer seed (default 0)")
    cal.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1),
                     help="variants fitted side by side, one process each (default: all cores)")
    cal.add_argument("--ablation", action="store_true", help="also fit each ablated variant (threat only, ...)")
    cal.add_argument("--ablation-generations", type=int, default=60, help="budget per ablated variant (default 60)")
    cal.add_argument("--warm-start", action="store_true", help="start from the committed calibration")
    cal.add_argument("--write-baseline", action="store_true", help="commit the fit as the baseline parameters")
    cal.set_defaults(func=_cmd_calibrate)
    _add_validation_flags(cal)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.raw = list(argv if argv is not None else sys.argv[1:])[1:]
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
