"""Command line: `python -m simulation run SCENARIO --seed 0 --out DIR` (also the `simulation` script).

Every command validates everything first (arguments, files, the output folder, the work's size),
then computes, then publishes its folder whole (`output.write_atomically`). A user's mistake prints
one line naming the file, line and field, or the argument, and exits with code 2; --out is left as
it was. The contract and its limits are in `contract.py` and the README ("Errors and limits").
Each command imports what it needs when it runs, so `run` and `compare` never load Mesa (the app and
the notebooks step the Mesa model) and `run --no-plots` never loads matplotlib.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from simulation.errors import InputError
from simulation.experiments import committed
from simulation.experiments.periods import DEFAULT_SPLIT, FIRST_YEAR, LAST_YEAR
from simulation.interfaces import contract
from simulation.interfaces.contract import MAX_RUNS, MAX_SEED, OUT, PORT, SCHEDULER, SEED, count, year

if TYPE_CHECKING:
    from simulation.experiments.calibrate import Budget


def _seeds(first: int, runs: int, seed_argument: str | None) -> list[int]:
    """Seeds `first`..`first + runs - 1`. Past 2**63-1 (each count of runs is within its limits) the
    first seed is at fault when `seed_argument` gave it; else (a scenario's first seed) --runs is."""
    if first + runs - 1 > MAX_SEED:
        span = f"seeds {first}..{first + runs - 1} go past 2**63-1"
        if seed_argument is not None:
            raise InputError(f"{span}: with --runs {runs}, {seed_argument} may be at most {MAX_SEED - runs + 1}",
                             field=seed_argument)
        raise InputError(f"{span}: from the scenario's first seed, {first}, --runs may be at most {MAX_SEED - first + 1}",
                         field="--runs")
    return list(range(first, first + runs))


def _force_needs_out(args: argparse.Namespace, out: str) -> None:
    """--force replaces --out: where --out is optional, --force without it would do nothing, silently."""
    if args.force and args.out is None:
        raise InputError(f"--force replaces --out, which is not given: add --out {out} or drop --force",
                         field="--force")


def _cmd_run(args: argparse.Namespace) -> int:
    from simulation.experiments.periods import split_year
    from simulation.experiments.runner import FULL_MAX_RUNS
    from simulation.experiments.scenario import load_scenario
    from simulation.interfaces import output

    scenario, _ = load_scenario(args.scenario)
    if args.runs is not None:
        seeds = (_seeds(args.seed, args.runs, "--seed") if args.seed is not None
                 else _seeds(scenario.seeds[0], args.runs, None))
    else:
        seeds = [args.seed] if args.seed is not None else list(scenario.seeds)
    years = scenario.period.end - scenario.period.start + 1
    if args.full and len(seeds) <= FULL_MAX_RUNS:
        raise InputError(f"--full is for more than {FULL_MAX_RUNS} runs (fewer are always written in full)",
                         field="--full")
    _source(args)  # the weights' file, checked whole before any work
    output.check_out(Path(args.out), "run", args.force)
    split = split_year()
    started = time.perf_counter()
    if len(seeds) <= FULL_MAX_RUNS:
        report = _run_few(args, scenario, seeds, split)
    else:
        report = _run_many(args, scenario, seeds, split)
    seconds = time.perf_counter() - started
    from simulation.experiments.report import format_report

    print(f"{scenario.name}: {years} years x {len(seeds)} run(s) in {seconds:.2f} s; results in {args.out}")
    print(format_report(report))
    return 0


def _figures(folder: Path, years, mean, band, capability, targets, arms, title: str) -> None:
    """The run's figures: `mean` and `band` (lo, hi; None for one run) are the alignments over runs
    (T, P); `arms` is (B, T, N, N) [supplier, recipient], or its mean over runs (1, T, N, N)."""
    from simulation.experiments.instrument_score import supplier_shares
    from simulation.interfaces import plots

    plots.plot_alignment_series(years, mean, folder / "alignment_over_time.png", band=band, targets=targets, title=title)
    plots.plot_networks(years, mean, capability, folder / "alignment_network.png")
    plots.plot_supplier_shares(arms, years, supplier_shares(), folder / "supplier_shares.png")


def _source(args: argparse.Namespace):
    """The runs' weights, read and checked once: `--parameters` by its argument type
    (contract.PARAMETERS, when the arguments are parsed), the default (the committed posterior, or
    the point) here on the first call, which every command makes before any work."""
    from simulation.experiments.posterior import ParameterSource

    if args.parameters is None:
        args.parameters = ParameterSource.parse(default_parameters())
    return args.parameters


def _write_run_record(folder: Path, args: argparse.Namespace, scenario, seeds: list[int], inputs, events, report: dict,
                      params) -> None:
    """What every run folder holds besides its series: the inputs, the timeline, the score and the
    parameters with where they came from."""
    from simulation.engine.timeline import write_events
    from simulation.interfaces import output

    output.write_columns(output.inputs_columns(inputs), folder / "inputs.csv")
    write_events(events, folder / "events.csv")
    output.write_json(report, folder / "score.json")
    output.write_json({"scenario": scenario.name, "seeds": seeds, "period": [scenario.period.start, scenario.period.end],
                       "parameter_source": _source(args).label, "parameters": params.as_dict()},
                      folder / "parameters.json")


def _run_few(args: argparse.Namespace, scenario, seeds: list[int], split: int) -> dict:
    """A few runs in one batch, every run written in full with the parts of every stance."""
    import numpy as np

    from simulation.experiments import explain
    from simulation.experiments.report import SCORED_INSTRUMENTS, score_report
    from simulation.experiments.runner import run_scenario
    from simulation.experiments.score import load_targets
    from simulation.interfaces import output
    from simulation.states import PAIR_A, PAIR_B

    targets = load_targets()
    few = run_scenario(scenario, seeds, source=_source(args))
    inputs, params, trace, events = few.inputs, few.params, few.trace, few.events
    instruments = {k: trace.instruments[k] for k in SCORED_INSTRUMENTS}
    report = score_report(trace.alignment, inputs, targets, params, split, seeds, instruments=instruments,
                          statistical=False, balance_of_power=few.baseline)

    def write(folder: Path) -> None:
        output.write_columns(output.alignments_columns(seeds, inputs.years, trace.alignment), folder / "alignments.csv")
        output.write_columns(output.threats_columns(seeds, inputs.years, trace.threat), folder / "threats.csv")
        output.write_columns(explain.motives_columns(trace), folder / "motives.csv")
        output.write_columns(output.instruments_columns(seeds, inputs.years, trace.instruments),
                             folder / "instruments.csv")
        _write_run_record(folder, args, scenario, seeds, inputs, events, report, params)
        if not args.no_plots:
            pairs = trace.alignment[:, :, PAIR_A, PAIR_B]  # (B, T, P)
            band = (np.quantile(pairs, 0.05, axis=0), np.quantile(pairs, 0.95, axis=0)) if len(seeds) > 1 else None
            _figures(folder, inputs.years, pairs.mean(axis=0), band, inputs.capability, targets, instruments["arms"],
                     f"{scenario.name}: alignment by pair")

    output.write_atomically(Path(args.out), write, "run", args.force)
    return report


def _run_many(args: argparse.Namespace, scenario, seeds: list[int], split: int) -> dict:
    """Many runs on the ensemble, a chunk at a time: summaries per pair-year (and, with --full, every
    run as Parquet), so memory does not grow with the number of runs."""
    from simulation.experiments.report import SCORED_INSTRUMENTS, score_report
    from simulation.experiments.runner import Summary, run_chunks
    from simulation.experiments.scenario import scenario_events, scenario_inputs
    from simulation.experiments.score import load_targets
    from simulation.interfaces import output

    targets = load_targets()
    events = scenario_events(scenario)
    inputs, params = scenario_inputs(scenario, events)
    params = _source(args).fixed(params, tuple(scenario.overrides()))  # a record's weights, recorded as run
    result: dict = {}

    def write(folder: Path) -> None:
        summary = Summary(inputs.years)
        full = output.FullTables(folder) if args.full else None

        def chunks():
            for part in run_chunks(inputs, params, seeds, progress=True, source=_source(args),
                                   keep=tuple(scenario.overrides())):
                summary.add(part)
                if full is not None:
                    full.add(part)
                yield part.alignment, {k: part.instruments[k] for k in SCORED_INSTRUMENTS}
                del part

        result["report"] = report = score_report(chunks(), inputs, targets, params, split, seeds, statistical=False)
        if full is not None:
            full.close()
        output.write_columns(output.alignment_summary_columns(summary), folder / "alignments.csv")
        output.write_columns(output.threat_summary_columns(summary), folder / "threats.csv")
        output.write_columns(output.instrument_summary_columns(summary), folder / "instruments.csv")
        _write_run_record(folder, args, scenario, seeds, inputs, events, report, params)
        if not args.no_plots:
            from simulation.experiments.runner import QUANTILES

            band = (summary.alignment_quantile(QUANTILES[0]), summary.alignment_quantile(QUANTILES[-1]))
            _figures(folder, inputs.years, summary.alignment_mean, band, inputs.capability, targets,
                     summary.instrument_mean("arms")[None], f"{scenario.name}: alignment by pair ({len(seeds)} runs)")

    output.write_atomically(Path(args.out), write, "run", args.force)
    return result["report"]


def _cmd_score(args: argparse.Namespace) -> int:
    from simulation.engine.inputs import build_inputs
    from simulation.engine.params import Parameters
    from simulation.experiments.periods import split_year
    from simulation.experiments.report import format_report, score_report
    from simulation.experiments.score import check_run_record, load_targets, read_alignments, read_parameters
    from simulation.interfaces import output

    _force_needs_out(args, "FILE.json")
    folder = Path(args.results)
    try:
        is_folder = folder.is_dir()
    except OSError as exc:  # a name too long
        raise InputError(f"cannot read: {exc.strerror or exc}", file=folder) from None
    if is_folder:
        full = folder / "alignments.parquet"
        path = full if full.exists() else folder / "alignments.csv"
    else:
        path = folder
    if args.out is not None:
        own = path.with_name("score.json")
        if _same_entry(Path(args.out), own):
            raise InputError("is the run's own score.json, which `score` never overwrites (not even with --force); "
                             "choose another --out", file=args.out, field="--out")
        output.check_file(Path(args.out), args.force)
    stack, years, runs = read_alignments(path)
    used = path.with_name("parameters.json")
    # a link to nothing is read (and refused), not taken for a missing record
    if used.exists() or used.is_symlink():
        params = read_parameters(used)
        check_run_record(used, path, years, runs)
    else:
        params = Parameters.baseline()
    if args.split_year is not None and not years[0] <= args.split_year <= years[-1]:
        raise InputError(f"{args.split_year} is outside the scored years {years[0]}-{years[-1]}", field="--split-year")
    split = args.split_year if args.split_year is not None else split_year()
    report = score_report(stack, build_inputs(int(years[0]), int(years[-1])), load_targets(), params, split, runs,
                          baselines=not args.no_baselines)
    if args.out is not None:
        output.write_file(Path(args.out), lambda tmp: output.write_json(report, tmp))
    print(format_report(report))
    return 0


def _same_entry(a: Path, b: Path) -> bool:
    """Whether two paths name one entry of one folder (the folder spelt through links or `..`): what
    a file written to `a` by renaming over it would replace. (A link elsewhere to `b` is replaced
    itself, its target left alone.)"""
    try:
        return a.name == b.name and a.parent.resolve() == b.parent.resolve()
    except (OSError, RuntimeError):  # a loop of links, a name too long: refused by check_file
        return False




def _budget(args: argparse.Namespace) -> Budget:
    """The fits' budget (calibrate.Budget) from `calibrate`'s flags, for the calibration and for every
    validation fit alike."""
    from simulation.experiments import calibrate

    return calibrate.Budget(args.generations, args.population, args.seed, tuple(range(args.objective_seeds)),
                            tuple(range(1000, 1000 + args.eval_seeds)), args.optimizer, args.penalty)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from simulation.engine.params import ABLATIONS, CALIBRATED
    from simulation.interfaces import output

    if args.spread_seeds is not None and not args.budget_spread:
        raise InputError("--spread-seeds sets the optimizer seeds of --budget-spread; give --budget-spread too",
                         field="--spread-seeds")
    if args.ablation_generations is not None and not args.ablation:  # it would be ignored
        raise InputError("--ablation-generations sets the budget of the ablated variants; give --ablation too",
                         field="--ablation-generations")
    validating = args.rolling_origin or args.leave_one_pair_out or args.budget_spread
    if args.write_baseline and (validating or not args.ablation):
        # the baseline holds the full model and every ablated variant's fit (compare --theories reads them)
        raise InputError("--write-baseline commits a calibration with every theory variant: use it with --ablation, "
                         "and without --rolling-origin, --leave-one-pair-out or --budget-spread", field="--write-baseline")
    for flag in ("ablation", "warm_start"):
        if validating and getattr(args, flag):  # the validation fits take neither: it would be ignored
            raise InputError("is for a calibration: the validation fits (--rolling-origin, --leave-one-pair-out, "
                             "--budget-spread) do not use it", field=f"--{flag.replace('_', '-')}")
    if validating:
        return _cmd_validate(args)
    workers = contract.cap_workers(args.workers)
    output.check_out(Path(args.out), "calibrate", args.force)
    if args.write_baseline:
        output.check_file(CALIBRATED, force=True)  # writable, before the fit
    from simulation.experiments import calibrate

    variants = ABLATIONS if args.ablation else {"full model": {}}
    print(f"fitting {', '.join(variants)} on 1947-{args.fit_until}, {workers} process(es)", file=sys.stderr)
    table, record = calibrate.calibrate_variants(variants, _budget(args), args.fit_until,
                                                 args.ablation_generations or committed.ABLATION_GENERATIONS,
                                                 workers, "python -m simulation calibrate " + " ".join(args.raw),
                                                 args.warm_start)

    def write(folder: Path) -> None:
        output.write_json(record, folder / "calibration.json")
        output.write_csv(table, folder / "ablation.csv" if args.ablation else folder / "scores.csv")
        if args.ablation:
            from simulation.interfaces import plots

            plots.plot_ablation(table, folder / "ablation.png")

    output.write_atomically(Path(args.out), write, "calibrate", args.force)
    if args.write_baseline:
        output.write_file(CALIBRATED, lambda tmp: output.write_json(record, tmp))
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results in {args.out}" + (f"; baseline parameters written to {CALIBRATED}" if args.write_baseline else ""))
    return 0


def _cmd_posterior(args: argparse.Namespace) -> int:
    import json

    from simulation.experiments import posterior
    from simulation.interfaces import output

    output.check_out(Path(args.out), "posterior", args.force)
    if args.write_baseline:
        output.check_file(posterior.POSTERIOR, force=True)  # writable, before the fit
    started = time.perf_counter()
    post = posterior.fit_posterior(args.fit_until, args.population, args.generations, args.seed,
                                   tuple(range(args.objective_seeds)), progress=True)
    seconds = time.perf_counter() - started
    post.diagnostics.update({"command": "python -m simulation posterior " + " ".join(args.raw),
                             "wall_seconds": round(seconds, 1), "cores": contract.cores()})
    check = posterior.predictive_check(post, list(range(1000, 1000 + args.check_runs)))
    summary = {**posterior.summary(post), "generations": post.diagnostics["generations"],
               "coverage": check["coverage"], "wall_seconds": round(seconds, 1),
               "command": post.diagnostics["command"]}

    def write(folder: Path) -> None:
        from simulation.interfaces import plots

        output.write_json(post.to_json(), folder / "posterior.json")
        output.write_json(summary, folder / "summary.json")
        plots.plot_predictive(check, folder / "predictive_check.png")
        plots.plot_marginals(post, folder / "marginals.png")

    output.write_atomically(Path(args.out), write, "posterior", args.force)
    if args.write_baseline:  # whole, through a temporary file: every run reads it by default
        output.write_file(posterior.POSTERIOR, lambda tmp: output.write_json(post.to_json(), tmp))
    print(json.dumps({k: summary[k] for k in ("ess", "coverage", "wall_seconds")}, indent=1))
    print(f"results in {args.out}" + (f"; posterior written to {posterior.POSTERIOR}" if args.write_baseline else ""))
    return 0


def default_parameters() -> str:
    """Runs draw their weights from the committed posterior, or use the point when there is none."""
    from simulation.experiments.posterior import POSTERIOR

    return "posterior" if POSTERIOR.exists() else "point"


def _optimizer(text: str) -> str:
    """An optimizer's name (checked when `calibrate` runs, so other commands never import it)."""
    from simulation.experiments.calibrate import OPTIMIZERS

    if text not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(OPTIMIZERS)}")
    return text


def _add_validation_flags(cal: argparse.ArgumentParser) -> None:
    """The honest test's flags on `calibrate` (experiments/validation.py); the budget flags above
    (--generations, --population, --objective-seeds, --eval-seeds, --seed, --workers) apply to every fit."""
    cal.add_argument("--rolling-origin", metavar="YEARS", type=contract.counts(1950, 2023),
                     help="refit on 1947..origin and test after it, per origin, e.g. 1970,1990,2005")
    cal.add_argument("--leave-one-pair-out", action="store_true",
                     help="refit to --fit-until without each pair in turn and score the held-out pair")
    cal.add_argument("--budget-spread", metavar="GENERATIONS", type=contract.counts(1, 100_000),
                     help="refit to --fit-until at these budgets x --spread-seeds, e.g. 40,80,150")
    cal.add_argument("--spread-seeds", default=None, metavar="SEEDS", type=contract.counts(0, 2**32 - 1),
                     help="optimizer seeds of --budget-spread (default 0,1,2)")


def _cmd_validate(args: argparse.Namespace) -> int:
    """Write the validation tables asked for by the flags of _add_validation_flags into --out."""
    from simulation.interfaces import output

    workers = contract.cap_workers(args.workers)
    output.check_out(Path(args.out), "calibrate", args.force)
    from simulation.experiments import validation

    budget = _budget(args)
    started = time.perf_counter()
    tables = validation.validation_tables(args.rolling_origin or [], args.leave_one_pair_out, args.budget_spread or [],
                                          list(args.spread_seeds or validation.SPREAD_SEEDS), budget, workers, args.fit_until)
    # the spread's fits run at its own budgets, not at --generations: the record names both where both ran
    described = [budget.describe()] if args.rolling_origin or args.leave_one_pair_out else []
    if args.budget_spread:
        described.append(("the spread: " if described else "") + budget.describe(args.budget_spread))
    meta = {"command": "python -m simulation calibrate " + " ".join(args.raw), "budget": "; ".join(described),
            "seconds": round(time.perf_counter() - started, 1)}

    def write(folder: Path) -> None:
        for name, table in tables.items():
            output.write_csv(table, folder / f"{name}.csv")
        output.write_json(meta, folder / f"{'_'.join(sorted(tables))}.json")

    output.write_atomically(Path(args.out), write, "calibrate", args.force)
    print(validation.format_tables(tables))
    print(f"validation tables in {args.out} ({meta['seconds']:.0f} s)")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from simulation.experiments import compare
    from simulation.experiments.scenario import load_scenario
    from simulation.interfaces import output

    base, _ = load_scenario(args.base)
    alt, _ = load_scenario(args.alternative)
    compare.check_shared_period(base, alt, args.alternative)
    _seeds(args.first_seed, args.runs, "--first-seed")
    source = _source(args)
    output.check_out(Path(args.out), "compare", args.force)
    result = compare.run_paired(base, alt, args.runs, args.first_seed, source=source)
    diffs = compare.alignment_differences(result)
    div = compare.divergence(diffs)
    threats = compare.threat_differences(result)
    summary = compare.summary_markdown(result, diffs, div, threats, args.runs, source.label, first_seed=args.first_seed,
                                       drawn=source.posterior is not None)
    theories = compare.theories(base, alt, args.runs, args.first_seed) if args.theories else None
    if theories is not None:
        summary += compare.theories_markdown(theories)

    def write(folder: Path) -> None:
        from simulation.interfaces import plots

        output.write_csv(diffs, folder / "alignment_difference.csv")
        output.write_csv(div, folder / "divergence.csv")
        output.write_csv(threats, folder / "threat_difference.csv")
        (folder / "summary.md").write_text(summary, encoding="utf-8")
        plots.plot_comparison(result, div, folder / "comparison.png")
        if theories is not None:
            output.write_csv(theories, folder / "theories.csv")
            plots.plot_theories(theories, folder / "theories.png")

    output.write_atomically(Path(args.out), write, "compare", args.force)
    print(summary)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from simulation.experiments import sweep

    workers = contract.cap_workers(args.workers if args.workers is not None else 1)
    plan = sweep.prepare(args.spec)
    out = Path(args.out)
    started = time.perf_counter()
    ran = sweep.run_sweep(plan, out, workers, args.scheduler, args.resume, force=args.force)
    seconds = time.perf_counter() - started
    print(f"{plan.spec.name}: {plan.n_runs} runs ({len(plan.points)} points x {plan.spec.seeds_per_point} seeds) "
          f"in {plan.n_chunks} chunks; {ran} run now in {seconds:.1f} s; results in {out / 'chunks'}")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from simulation.experiments import sweep
    from simulation.interfaces import output

    folder = Path(args.results)
    sweep.check_analysis_folder(folder)  # before computing: only an earlier analysis is replaced
    output.check_out(folder / sweep.ANALYSIS, "analyze")  # and one that can be (what the swap needs)
    table = sweep.analyze(folder)

    def write(tmp: Path) -> None:
        from simulation.interfaces import plots

        csv, png = sweep.ANALYSIS_FILES
        output.write_csv(table, tmp / csv)
        plots.plot_sensitivity(table, tmp / png)

    output.write_atomically(folder / sweep.ANALYSIS, write, "analyze")
    # an undefined index (an output that does not vary) is blank, and its note says why, once per output
    print(table.drop(columns="note").to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""))
    for name, note in dict(zip(table.output, table.note, strict=True)).items():
        if note:
            print(f"note: {name} {note} (left blank)")
    print(f"written to {folder / sweep.ANALYSIS}")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    """Why did a pair move from one year to another: each motive's part of the change, ranked."""
    from simulation.experiments import explain
    from simulation.experiments.scenario import load_scenario, scenario_inputs
    from simulation.interfaces import output, plots
    from simulation.states import INDEX

    _force_needs_out(args, "DIR")
    scenario, _ = load_scenario(args.scenario)
    for code in args.pair:
        if code not in INDEX:
            raise InputError(f"unknown state {code!r} (one of {', '.join(INDEX)})", field="--pair")
    if args.pair[0] == args.pair[1]:
        raise InputError("--pair needs two different states", field="--pair")
    if not scenario.period.start <= args.start < args.end <= scenario.period.end:
        # the argument at fault: --to past the period's end, else --from
        raise InputError(f"--from and --to must satisfy {scenario.period.start} <= from < to <= {scenario.period.end}",
                         field="--to" if args.end > scenario.period.end else "--from")
    if args.out:
        output.check_out(Path(args.out), "explain", args.force)
    inputs, params = scenario_inputs(scenario)
    first = args.seed if args.seed is not None else 0
    seeds = _seeds(first, args.runs, "--seed")
    e = explain.explain_change(explain.trace(inputs, params, seeds), args.pair[0], args.pair[1], args.start, args.end)
    text = (explain.explanation_markdown(e) + f"\n({scenario.name}, calibrated weights; mean over {args.runs} run(s), "
            f"seeds {first}-{first + args.runs - 1})\n")

    def write(folder: Path) -> None:
        output.write_csv(e.table, folder / "explanation.csv")
        output.write_csv(explain.by_third_table(e), folder / "third_states.csv")
        (folder / "explanation.md").write_text(text, encoding="utf-8")
        plots.plot_explanation(e, folder / "explanation.png")

    if args.out:
        output.write_atomically(Path(args.out), write, "explain", args.force)
    print(text)
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    import errno
    import socket
    import subprocess

    app = Path(__file__).with_name("app.py")
    if not args.host.strip():  # an empty host is every interface, without the warning below
        raise InputError("an empty host is not allowed (give an address, e.g. 127.0.0.1)", field="--host")
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    try:  # a name that does not resolve is the host's fault, not the port's
        socket.getaddrinfo(args.host, args.port, family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"cannot serve on {args.host}: {getattr(exc, 'strerror', None) or exc}", field="--host") from None
    try:  # a port already taken fails inside the server otherwise, after start-up, exit 3
        with socket.create_server((args.host, args.port), family=family):
            pass
    except OSError as exc:  # (an address not of this machine is the host's fault too)
        raise InputError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}",
                         field="--host" if exc.errno == errno.EADDRNOTAVAIL else "--port") from None
    command = [sys.executable, "-m", "solara", "run", str(app), "--host", args.host, "--port", str(args.port),
               "--no-open", "--no-check-version"]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host}, reachable from other machines", file=sys.stderr)
    # no usage telemetry, no version check at start-up (--no-check-version), no banner;
    # front-end assets come from the solara-assets package, not a CDN
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_THEME_SHOW_BANNER": "False"}
    return subprocess.call(command, env=env)


def build_parser() -> argparse.ArgumentParser:
    parser = contract.Parser(prog="simulation", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    force_help = "replace --out even if it holds something other than an earlier result"
    run = sub.add_parser("run", help="run a scenario and write alignments, threats, inputs and plots")
    run.add_argument("scenario", help="scenario YAML file, e.g. scenarios/baseline.yaml")
    run.add_argument("--seed", type=SEED, help="run this one seed instead of the scenario's seeds")
    run.add_argument("--runs", type=count(1, MAX_RUNS),
                     help=f"run this many consecutive seeds, from --seed (or the first); at most {MAX_RUNS}")
    run.add_argument("--out", type=OUT, required=True, help="folder for the results (created if missing)")
    run.add_argument("--no-plots", action="store_true", help="skip the figures (faster)")
    run.add_argument("--parameters", type=contract.PARAMETERS, default=None,
                     help="weights: 'posterior' (a draw per run, by its seed; the default when one is committed), "
                          "'point' (the calibrated point) or a posterior file")
    run.add_argument("--full", action="store_true", help="many runs: also write every run (alignments.parquet, "
                     "threats.parquet)")
    run.add_argument("--force", action="store_true", help=force_help)
    run.set_defaults(func=_cmd_run)

    sc = sub.add_parser("score", help="score a run's alignments against the documented record")
    sc.add_argument("results", help="a run's --out folder (or its alignments.csv / alignments.parquet)")
    sc.add_argument("--split-year", type=year(FIRST_YEAR, LAST_YEAR), help="last in-sample year (default: the calibration's)")
    sc.add_argument("--no-baselines", action="store_true", help="score the model only")
    sc.add_argument("--out", type=OUT, help="also write the report to this JSON file")
    sc.add_argument("--force", action="store_true", help="replace the --out file if it exists (with --out)")
    sc.set_defaults(func=_cmd_score)

    cmp_ = sub.add_parser("compare", help="run two scenarios over the same seeds and report the differences")
    cmp_.add_argument("base", help="the reference scenario, e.g. scenarios/baseline.yaml")
    cmp_.add_argument("alternative", help="the counterfactual scenario")
    cmp_.add_argument("--runs", type=count(2, MAX_RUNS), default=200, help="paired runs (default 200; at least 2)")
    cmp_.add_argument("--first-seed", type=SEED, default=0, help="seeds are first-seed .. first-seed+runs-1")
    cmp_.add_argument("--parameters", type=contract.PARAMETERS, default=None,
                      help="weights: 'posterior' (a draw per paired run; the default when one is committed), "
                           "'point' (the calibrated point) or a posterior file")
    cmp_.add_argument("--theories", action="store_true",
                      help="also answer under each theory variant, each with its own calibration")
    cmp_.add_argument("--out", type=OUT, required=True, help="folder for the tables, plot and summary")
    cmp_.add_argument("--force", action="store_true", help=force_help)
    cmp_.set_defaults(func=_cmd_compare)

    po = sub.add_parser("posterior", help="ABC-SMC posterior of the weights, fitted on the record up to a year")
    po.add_argument("--fit-until", type=year(1950, 2023), default=DEFAULT_SPLIT, help="last year fitted (default 1990)")
    po.add_argument("--population", type=count(50, 20_000), default=1000, help="particles (default 1000)")
    po.add_argument("--generations", type=count(1, 100), default=8, help="thresholds (default 8)")
    po.add_argument("--objective-seeds", type=count(1, 64), default=4, help="runs averaged per evaluation (default 4)")
    po.add_argument("--check-runs", type=count(20, 10_000), default=400,
                    help="runs of the posterior predictive check (default 400)")
    po.add_argument("--seed", type=SEED, default=0, help="sampler seed (default 0)")
    po.add_argument("--out", type=OUT, required=True, help="folder for posterior.json, summary and figures")
    po.add_argument("--write-baseline", action="store_true", help="commit it as the posterior runs draw from")
    po.add_argument("--force", action="store_true", help=force_help)
    po.set_defaults(func=_cmd_posterior)

    sw = sub.add_parser("sweep", help="run a sweep spec (design x seeds) to Parquet chunks")
    sw.add_argument("spec", help="sweep spec YAML, e.g. sweeps/weights_sobol.yaml")
    sw.add_argument("--out", type=OUT, required=True, help="folder for the design, manifest and chunks")
    # exclusive: a cluster's workers are its own, so --workers would be ignored (default None, not 1:
    # argparse sees only values other than the default, and --workers 1 is one too)
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--workers", type=count(1, 4096), default=None,
                       help="processes on this machine, this one included (default 1; capped at the cores present; "
                       "not with --scheduler)")
    where.add_argument("--scheduler", type=SCHEDULER,
                       help="a Dask scheduler address, e.g. tcp://HOST:8786, whose workers run the sweep (not with --workers)")
    # exclusive: --force runs the sweep afresh, --resume goes on with the one in --out
    again = sw.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    again.add_argument("--force", action="store_true", help="replace an earlier sweep in --out once the new one is complete")
    sw.set_defaults(func=_cmd_sweep)

    an = sub.add_parser("analyze", help="sensitivity indices of a finished sweep (SALib)")
    an.add_argument("results", help="the sweep's --out folder")
    an.set_defaults(func=_cmd_analyze)

    ex = sub.add_parser("explain", help="why a pair converged or drew apart: the change split by motive")
    ex.add_argument("scenario", help="scenario YAML file, e.g. scenarios/baseline.yaml")
    ex.add_argument("--pair", nargs=2, required=True, metavar=("A", "B"), help="two state codes, e.g. RUS PAK")
    ex.add_argument("--from", dest="start", type=year(), required=True, help="first year of the window")
    ex.add_argument("--to", dest="end", type=year(), required=True, help="last year of the window")
    ex.add_argument("--runs", type=count(1, 2000), default=20, help="runs averaged (default 20)")
    ex.add_argument("--seed", type=SEED, help="first seed (default 0)")
    ex.add_argument("--out", type=OUT, help="folder for explanation.csv, third_states.csv, .md and .png (optional)")
    ex.add_argument("--force", action="store_true", help="replace --out even if it holds something else (with --out)")
    ex.set_defaults(func=_cmd_explain)

    app = sub.add_parser("app", help="start the classroom app in the browser (Mesa SolaraViz)")
    app.add_argument("--host", default="127.0.0.1", help="address to serve on (default: this machine only)")
    app.add_argument("--port", type=PORT, default=8765)
    app.set_defaults(func=_cmd_app)

    cal = sub.add_parser("calibrate", help="fit the rule weights to the record up to a year; test after it")
    cal.add_argument("--fit-until", type=year(1950, LAST_YEAR - 1), default=DEFAULT_SPLIT,
                     help="last year fitted (default 1990)")
    cal.add_argument("--out", type=OUT, required=True, help="folder for calibration.json and the tables")
    cal.add_argument("--optimizer", type=_optimizer, default="cmaes",
                     help="cmaes (default) or de (differential evolution, the fits before 2026-12-02)")
    cal.add_argument("--generations", type=count(1, 100_000), default=committed.GENERATIONS,
                     help=f"optimizer budget, in differential-evolution generations (default {committed.GENERATIONS}, "
                          "the budget the validation inside 1947-1990 chose); CMA-ES gets the same number of evaluations")
    cal.add_argument("--penalty", type=contract.number(0.0, 100.0), default=committed.PENALTY,
                     help="shrinkage toward the theory's defaults: weight of the mean squared distance, in "
                          f"shares of each range, added to the loss (default {committed.PENALTY:g}, the penalty the "
                          "validation inside 1947-1990 chose; 0: none)")
    cal.add_argument("--population", type=count(1, 1000), default=10,
                     help="evaluations per generation, per free parameter (default 10)")
    cal.add_argument("--objective-seeds", type=count(1, 1000), default=4, help="runs averaged per evaluation (default 4)")
    cal.add_argument("--eval-seeds", type=count(1, 10_000), default=100, help="runs the result is scored on (default 100)")
    cal.add_argument("--seed", type=count(0, 2**32 - 1), default=0, help="optimizer seed (default 0)")
    cal.add_argument("--workers", type=count(1, 4096), default=contract.cores(),
                     help="variants fitted side by side, one process each (default: all cores)")
    cal.add_argument("--ablation", action="store_true", help="also fit each ablated variant (threat only, ...)")
    cal.add_argument("--ablation-generations", type=count(1, 100_000), default=None,
                     help=f"budget per ablated variant (default {committed.ABLATION_GENERATIONS}: the budget rule gives the "
                          f"variants the full model's budget only when it is below {committed.ABLATION_GENERATIONS})")
    cal.add_argument("--warm-start", action="store_true", help="start from the committed calibration")
    cal.add_argument("--write-baseline", action="store_true", help="commit the fit as the baseline parameters")
    cal.add_argument("--force", action="store_true", help=force_help)
    cal.set_defaults(func=_cmd_calibrate)
    _add_validation_flags(cal)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (0 done, 2 a user's mistake, 130 interrupted, 141 its
    output's reader gone, as `| head` does once it has its lines)."""
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # so that a reader gone shows here, not as the interpreter exits
        return code
    except BrokenPipeError:
        if not contract.stdout_gone():
            raise  # some other pipe: a real failure
        return contract.quiet_stdout()


def _dispatch(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or an argument error, already printed on one line (2)
        return exc.code if isinstance(exc.code, int) else contract.EXIT_USAGE
    args.raw = list(argv if argv is not None else sys.argv[1:])[1:]
    try:
        return args.func(args)
    except InputError as exc:
        return contract.fail(exc)
    except KeyboardInterrupt:
        # a sweep keeps the chunks it finished (--resume goes on); every other command, and a sweep
        # replacing another (--force), publishes whole
        chunked = args.command == "sweep" and (args.resume or not args.force)
        print("interrupted; the sweep's finished chunks are kept (add --resume to go on)" if chunked
              else "interrupted; --out left unchanged", file=sys.stderr)
        return 130
