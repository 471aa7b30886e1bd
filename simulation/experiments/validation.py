"""The honest test: rolling origin, leave one pair out, and the spread over optimizer budgets and seeds.

Every year of the record has been looked at while the model was designed (docs/validation-log.md),
so one split at 1990 is not a blind test. This module refits the model with the same optimizer
(`calibrate.Objective`, `calibrate.fit`: CMA-ES from the theory's defaults, never
from the committed calibration, which has seen the years to 1990) and scores it on what the fit has
not seen, beside baselines fitted on exactly the same years:

- **rolling origin**: fit 1947..origin, test origin+1..end, where an origin before 1990 is tested to
  1990 (the Cold War's remaining years) and a later one to 2024 (`held_out_window`);
- **leave one pair out**: fit 1947-1990 on the other 14 pairs' targets only, and score the held-out
  pair in 1947-1990 (years the fit saw, for other pairs) and 1991-2024 (years it did not see at all);
- **budget and seed spread**: the fit to 1990 at several generations x optimizer seeds, so a reader
  sees how much of a score is optimizer luck.

Baselines in every table, trained on the same cells as the model: ridge with pair effects and
gradient boosting on the same inputs (`baselines.py`), the origin's documented levels held
(persistence) and held with yearly noise (persistence with jitter). Level accuracy and shift
direction are reported on their own beside their mean. Fits run in `workers` processes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.engine.ensemble import simulate
from simulation.engine.inputs import Inputs, build_inputs
from simulation.engine.params import Parameters
from simulation.experiments import baselines
from simulation.experiments.calibrate import Budget, Fit, Objective, fit, free_parameters
from simulation.experiments.report import documented_series, persistence
from simulation.experiments.score import Target, TargetCells, load_targets, score, target_cells
from simulation.states import PAIRS

FIRST, LAST = 1947, 2024
#: The split of the committed calibration, and the end of a pre-1990 origin's test window.
SPLIT = 1990
ROLLING_ORIGINS = (1970, 1990, 2005)
SPREAD_GENERATIONS = (40, 80, 150)
SPREAD_SEEDS = (0, 1, 2)


#: The budget of a validation fit when none is given: modest (60 generations' evaluations, not the
#: committed 80), so that the whole set runs in minutes; the spread table shows what that costs.
VALIDATION_BUDGET = Budget(generations=60)


def _head(*lines: str) -> list[str]:
    """A Markdown table's opening: the given lines (a title, a blank, ...), the header row last, and
    the separator row derived from the header."""
    return [*lines, "|" + "---|" * (lines[-1].count("|") - 1)]


def _read_csv(path: Path) -> pd.DataFrame | None:
    """A table written by an earlier validation run, or None if that test was not run."""
    return pd.read_csv(path) if path.exists() else None


def held_out_window(origin: int) -> tuple[int, int]:
    """The years an origin is tested on: to 1990 for an origin before it, else to 2024."""
    return origin + 1, SPLIT if origin < SPLIT else LAST


def without_pair(cells: TargetCells, pair: int) -> TargetCells:
    """The same cells and shifts less every one of pair `pair` (an index into PAIRS)."""
    keep = cells.pair != pair
    shifts = [k for k in range(len(cells.shift_sign)) if cells.shift_pair[k] != pair]
    return TargetCells(cells.t[keep], cells.i[keep], cells.j[keep], cells.level[keep], cells.pair[keep],
                       [cells.shift_from[k] for k in shifts], [cells.shift_to[k] for k in shifts],
                       cells.shift_sign[shifts], cells.shift_pair[shifts])


def fit_model(inputs: Inputs, cells: TargetCells, fit_until: int, budget: Budget,
              fixed: Mapping[str, float] | None = None) -> Fit:
    """Fit the free weights on `cells` (inside 1947..fit_until) from the theory's defaults."""
    fixed = dict(fixed or {})
    objective = Objective(inputs.until(fit_until), cells, free_parameters(tuple(fixed)), budget.objective_seeds, fixed,
                          penalty=budget.penalty)
    return fit(objective, Parameters(), budget.generations, budget.population, budget.seed,
               optimizer=budget.optimizer)


# --- scoring helpers ---------------------------------------------------------------------------------

def _window(alignment: np.ndarray, cells: TargetCells) -> dict[str, float]:
    s = score(alignment, cells)
    return {"score": float(s.overall.mean()), "score_sd": float(s.overall.std()),
            "level": float(s.level.mean()), "shifts": float(s.shifts.mean()),
            "cells": len(cells.t), "shift_count": len(cells.shift_sign)}


def _pair(alignment: np.ndarray, cells: TargetCells, p: int) -> dict[str, float]:
    """One pair's level accuracy, shift direction and their mean (its level alone when the window
    holds none of its shifts), mean and sd over runs."""
    s = score(alignment, cells)
    level, shifts = s.pair_level[:, p], s.pair_shifts[:, p]
    both = level if np.isnan(shifts).all() else 0.5 * (level + shifts)
    return {"score": float(both.mean()), "score_sd": float(both.std()), "level": float(level.mean()),
            "shifts": float(np.nan) if np.isnan(shifts).all() else float(shifts.mean()),
            "cells": int((cells.pair == p).sum()), "shift_count": int((cells.shift_pair == p).sum())}


def _prefixed(prefix: str, values: Mapping[str, float]) -> dict[str, float]:
    return {f"{prefix}_{k}": v for k, v in values.items()}


def _baseline_series(inputs: Inputs, targets: list[Target], train: TargetCells, origin: int,
                     seeds: Sequence[int], noise: float) -> dict[str, np.ndarray]:
    """Every baseline fitted on `train` (the model's fitted cells), the origin's levels held and held
    with jitter."""
    record = documented_series(targets, inputs.years)
    series = baselines.statistical_baselines(inputs, train)
    series[f"persistence {origin}"] = persistence(targets, inputs.years, origin)
    series[f"persistence {origin} with jitter"] = baselines.persistence_with_jitter(
        record, origin - int(inputs.years[0]), seeds, noise)
    return series


HELD = ("persistence",)  # baselines that are the record itself in the fitted years: no in-sample score


# --- rolling origin ----------------------------------------------------------------------------------

def _rolling_task(origin: int, budget: Budget) -> dict[str, Any]:
    targets, inputs = load_targets(), build_inputs(FIRST, LAST)
    fit_cells = target_cells(targets, inputs.years, (FIRST, origin))
    test = held_out_window(origin)
    test_cells = target_cells(targets, inputs.years, test)
    fitted = _fit(inputs, fit_cells, origin, budget)
    model = simulate(inputs, fitted.params, list(budget.eval_seeds), keep_threat=False).alignment
    series = {"model": model, **_baseline_series(inputs, targets, fit_cells, origin, budget.eval_seeds,
                                                 float(fitted.params.noise))}
    rows, pair_rows = [], []
    for method, a in series.items():
        row: dict[str, Any] = {"origin": origin, "fit": f"{FIRST}-{origin}", "test": f"{test[0]}-{test[1]}",
                               "method": method}
        in_sample = _window(a, fit_cells)
        if method.startswith(HELD):
            in_sample = {k: np.nan for k in in_sample}
        row.update(_prefixed("in", in_sample))
        row.update(_prefixed("out", _window(a, test_cells)))
        rows.append(row)
        for p, (x, y) in enumerate(PAIRS):
            pair_rows.append({"origin": origin, "test": f"{test[0]}-{test[1]}", "pair": f"{x}-{y}", "method": method,
                              **_prefixed("out", _pair(a, test_cells, p))})
    rows[0]["loss"] = fitted.loss
    return {"rows": rows, "pairs": pair_rows}


def rolling_origin(origins: Sequence[int] = ROLLING_ORIGINS, budget: Budget = VALIDATION_BUDGET,
                   workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per origin: the model refitted on 1947..origin and every baseline trained on the same years,
    scored in sample and on `held_out_window(origin)`; and the same per pair out of sample."""
    for origin in origins:
        if not FIRST + 3 <= origin < LAST:
            raise ValueError(f"an origin must lie in {FIRST + 3}..{LAST - 1}, got {origin}")
    results = _map(_rolling_task, [(o, budget) for o in sorted(origins, reverse=True)], workers)
    results.sort(key=lambda r: r["rows"][0]["origin"])
    return (pd.DataFrame([row for r in results for row in r["rows"]]),
            pd.DataFrame([row for r in results for row in r["pairs"]]))


# --- leave one pair out ------------------------------------------------------------------------------

def _lopo_task(pair: int, budget: Budget, fit_until: int) -> list[dict[str, Any]]:
    targets, inputs = load_targets(), build_inputs(FIRST, LAST)
    all_fit = target_cells(targets, inputs.years, (FIRST, fit_until))
    fit_cells = without_pair(all_fit, pair)
    test_cells = target_cells(targets, inputs.years, (fit_until + 1, LAST))
    fitted = _fit(inputs, fit_cells, fit_until, budget)
    model = simulate(inputs, fitted.params, list(budget.eval_seeds), keep_threat=False).alignment
    series = {"model": model, **_baseline_series(inputs, targets, fit_cells, fit_until, budget.eval_seeds,
                                                 float(fitted.params.noise))}
    a, b = PAIRS[pair]
    rows = []
    for method, x in series.items():
        in_sample = _pair(x, all_fit, pair)
        if method.startswith(HELD):
            in_sample = {k: np.nan for k in in_sample}
        rows.append({"pair": f"{a}-{b}", "method": method, "fit": f"{FIRST}-{fit_until}, other 14 pairs",
                     **_prefixed("in", in_sample), **_prefixed("out", _pair(x, test_cells, pair)),
                     "loss": fitted.loss if method == "model" else np.nan})
    return rows


def leave_one_pair_out(pairs: Sequence[int] | None = None, budget: Budget = VALIDATION_BUDGET, workers: int = 1,
                       fit_until: int = SPLIT) -> pd.DataFrame:
    """Per pair: the model fitted on 1947..fit_until without that pair's targets, and the baselines
    trained on the same cells, scored on that pair in the fitted years and after them. Persistence
    holds the pair's own documented level of `fit_until`, which the model never saw."""
    chosen = list(range(len(PAIRS))) if pairs is None else list(pairs)
    results = _map(_lopo_task, [(p, budget, fit_until) for p in chosen], workers)
    return pd.DataFrame([row for r in results for row in r])


# --- spread over budgets and seeds -------------------------------------------------------------------

def _spread_task(generations: int, seed: int, budget: Budget, fit_until: int) -> dict[str, Any]:
    targets, inputs = load_targets(), build_inputs(FIRST, LAST)
    fit_cells = target_cells(targets, inputs.years, (FIRST, fit_until))
    # a fit that ends before 1990 is tested on the years to 1990, as a rolling origin is
    test_cells = target_cells(targets, inputs.years, held_out_window(fit_until))
    fitted = _fit(inputs, fit_cells, fit_until, replace(budget, generations=generations, seed=seed))
    model = simulate(inputs, fitted.params, list(budget.eval_seeds), keep_threat=False).alignment
    return {"generations": generations, "optimizer_seed": seed, "loss": fitted.loss,
            **_prefixed("in", _window(model, fit_cells)), **_prefixed("out", _window(model, test_cells))}


def budget_spread(generations: Sequence[int] = SPREAD_GENERATIONS, seeds: Sequence[int] = SPREAD_SEEDS,
                  budget: Budget = VALIDATION_BUDGET, workers: int = 1,
                  fit_until: int = SPLIT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fit to `fit_until` at every budget x optimizer seed: one row per fit, and per budget the
    mean, min and max of the in- and out-of-sample scores."""
    tasks = [(g, s, budget, fit_until) for g in sorted(generations, reverse=True) for s in seeds]
    fits = pd.DataFrame(_map(_spread_task, tasks, workers)).sort_values(["generations", "optimizer_seed"])
    cols = ["in_score", "in_level", "in_shifts", "out_score", "out_level", "out_shifts"]
    summary = fits.groupby("generations")[cols].agg(["mean", "min", "max"])
    summary.columns = [f"{c}_{s}" for c, s in summary.columns]
    return fits.reset_index(drop=True), summary.reset_index()


# --- everything the command line asks for ---------------------------------------------------------

def validation_tables(origins: Sequence[int] = (), lopo: bool = False, spread: Sequence[int] = (),
                      spread_seeds: Sequence[int] = SPREAD_SEEDS, budget: Budget = VALIDATION_BUDGET, workers: int = 1,
                      fit_until: int = SPLIT) -> dict[str, pd.DataFrame]:
    """The tables `calibrate --rolling-origin / --leave-one-pair-out / --budget-spread` write, by file stem."""
    import sys

    tables: dict[str, pd.DataFrame] = {}
    if origins:
        print(f"rolling origin {list(origins)}: {budget.describe()}", file=sys.stderr)
        tables["rolling_origin"], tables["rolling_origin_pairs"] = rolling_origin(origins, budget, workers)
    if lopo:
        print(f"leave one pair out, fit to {fit_until}: {budget.describe()}", file=sys.stderr)
        tables["leave_one_pair_out"] = leave_one_pair_out(None, budget, workers, fit_until)
    if spread:
        print(f"budget spread {list(spread)} generations x optimizer seeds {list(spread_seeds)}, fit to {fit_until}",
              file=sys.stderr)
        tables["budget_spread"], tables["budget_spread_summary"] = budget_spread(spread, spread_seeds, budget,
                                                                                 workers, fit_until)
    return tables


def format_tables(tables: Mapping[str, pd.DataFrame]) -> str:
    """The headline columns of each table, as plain text."""
    keep = {"rolling_origin": ["origin", "test", "method", "in_score", "out_score", "out_level", "out_shifts"],
            "leave_one_pair_out": ["pair", "method", "in_score", "out_score", "out_level", "out_shifts"],
            "budget_spread_summary": ["generations", "in_score_mean", "in_score_min", "in_score_max",
                                      "out_score_mean", "out_score_min", "out_score_max"]}
    parts = []
    for name, cols in keep.items():
        if name in tables:
            parts += [f"{name}:", tables[name][cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    return "\n".join(parts)


# --- the summary the README quotes ------------------------------------------------------------------

def _f(v: Any, sd: Any = None) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    return f"{v:.3f}" if sd is None or np.isnan(sd) or sd == 0 else f"{v:.3f} ± {sd:.3f}"


def _commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def summary_markdown(folder: Any) -> str:
    """Markdown tables of every validation table found in `folder` (what docs/validate.sh writes)."""
    import json
    from pathlib import Path

    folder = Path(folder)
    out = [f"# Validation tables (computed on commit `{_commit()}`)", "",
           "Written by `docs/validate.sh`; every number below is in the CSV files beside this one. "
           "Score = mean of level accuracy (within ±0.3) and shift direction (a move of more than "
           "0.05 the documented way); each cell reads score (level / shifts).", ""]
    for meta in sorted(folder.glob("*.json")):
        if meta.name != "committed_calibration_score.json":
            m = json.loads(meta.read_text())
            out.append(f"- `{m['command']}`: {m['budget']}; {m['seconds']:.0f} s")
    out.append("")

    def cell(row: Mapping[str, Any], w: str) -> str:
        if np.isnan(row.get(f"{w}_score", np.nan)):
            return "–"
        return (f"{_f(row[f'{w}_score'], row.get(f'{w}_score_sd'))} "
                f"({_f(row[f'{w}_level'])} / {_f(row[f'{w}_shifts'])})")

    committed = folder / "committed_calibration_score.json"
    if committed.exists():
        rep = json.loads(committed.read_text())
        out += ["## The committed calibration, re-scored with the current scorer", "",
                f"100 runs; in sample to {rep['split_year']}, out of sample after.", "",
                "| | in sample | out of sample |", "|---|---|---|"]
        rows = {"model": rep["model"], **rep.get("baselines", {})}
        for name, r in rows.items():
            parts = []
            for w in ("in_sample", "out_of_sample"):
                x = r.get(w)
                parts.append("–" if x is None else f"{_f(x['score'], x['score_sd'])} ({_f(x['level'])} / {_f(x['shifts'])})")
            out.append(f"| {name} | {parts[0]} | {parts[1]} |")
        out.append("")
    if (t := _read_csv(folder / "rolling_origin.csv")) is not None:
        out += ["## Rolling origin", "", "Each origin refitted on 1947..origin; every baseline trained on the same years.",
                "", "| origin | test | method | in sample | out of sample |", "|---|---|---|---|---|"]
        for r in t.to_dict("records"):
            out.append(f"| {r['origin']} | {r['test']} | {r['method']} | {cell(r, 'in')} | {cell(r, 'out')} |")
        out.append("")
    lo = folder / "leave_one_pair_out.csv"
    if (t := _read_csv(lo)) is not None:
        methods = list(dict.fromkeys(t.method))
        out += ["## Leave one pair out", "",
                "The model fitted on 1947-1990 without the pair's targets; the pair scored in 1947-1990 and "
                "1991-2024. Baselines trained on the same cells (persistence holds the pair's own 1990 level, "
                "which the model never saw). Out-of-sample score (level / shifts) per pair:", "",
                "| pair | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
        for pair, g in t.groupby("pair", sort=False):
            by = {r["method"]: r for r in g.to_dict("records")}
            out.append(f"| {pair} | " + " | ".join(cell(by[m], "out") for m in methods) + " |")
        means = t.groupby("method", sort=False)[["in_score", "out_score", "out_level", "out_shifts"]].mean()
        out.append("| **mean over pairs** | " + " | ".join(
            f"**{_f(means.loc[m, 'out_score'])}** ({_f(means.loc[m, 'out_level'])} / {_f(means.loc[m, 'out_shifts'])})"
            for m in methods) + " |")
        out.append("")
        model = t[t.method == "model"]
        out.append(f"Held-out pair in 1947-1990 (years the fit saw, for other pairs): model mean "
                   f"{_f(model.in_score.mean())}.")
        out.append("")
    if (t := _read_csv(folder / "budget_spread_summary.csv")) is not None:
        out += _head("## Spread over optimizer budgets and seeds (fit to 1990)", "",
                     "| generations | in sample mean (min-max) | out of sample mean (min-max) | out level mean | out shifts mean |")
        for r in t.to_dict("records"):
            out.append(f"| {r['generations']} | {_f(r['in_score_mean'])} ({_f(r['in_score_min'])}-{_f(r['in_score_max'])}) "
                       f"| {_f(r['out_score_mean'])} ({_f(r['out_score_min'])}-{_f(r['out_score_max'])}) "
                       f"| {_f(r['out_level_mean'])} | {_f(r['out_shifts_mean'])} |")
        out.append("")
    if (t := _read_csv(folder / "rolling_origin_pairs.csv")) is not None:
        t = t[t.origin == SPLIT] if (t.origin == SPLIT).any() else t[t.origin == t.origin.max()]
        methods = list(dict.fromkeys(t.method))
        pairs_committed = (json.loads(committed.read_text()).get("per_pair", {}) if committed.exists() else {})
        first = ["committed calibration"] if pairs_committed else []
        out += [f"## Per pair, out of sample after {int(t.origin.iloc[0])}: what the model still misses", "",
                "Level accuracy / shift direction of each pair: the committed calibration (100 runs), then the "
                "rolling-origin fit and its baselines; ⚠ marks a model level below 0.4 in either fit.",
                "", "| pair | " + " | ".join(first + methods) + " |", "|---|" + "---|" * (len(first) + len(methods))]
        for pair, g in t.groupby("pair", sort=False):
            by = {r["method"]: r for r in g.to_dict("records")}
            cells = [f"{_f(by[m]['out_level'])} / {_f(by[m]['out_shifts'])}" for m in methods]
            levels = [by["model"]["out_level"]]
            if pairs_committed:
                c = pairs_committed.get(pair, {})
                level, shifts = c.get("out_of_sample_level"), c.get("out_of_sample_shifts")
                levels.append(np.nan if level is None else level)
                cells.insert(0, f"{_f(level)} / {_f(shifts)}")
            flag = " ⚠" if np.nanmin(levels) < 0.4 else ""
            out.append(f"| {pair}{flag} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def headline_markdown(folder: Any) -> str:
    """The README's "Validation" tables, from the tables in `folder`: the committed calibration beside
    the baselines, rolling origin (model, best statistical fit, persistence), leave one pair out
    (means over the held-out pairs), the budget spread, and the pairs below 0.4."""
    import json
    from pathlib import Path

    folder = Path(folder)

    def c(r: Mapping[str, Any], w: str = "out") -> str:
        sd = r.get(f"{w}_score_sd", 0.0)
        head = f"{r[f'{w}_score']:.3f}" + (f" ± {sd:.3f}" if sd and not np.isnan(sd) else "")
        return f"{head} ({r[f'{w}_level']:.3f} / {r[f'{w}_shifts']:.3f})"

    out: list[str] = []
    committed = folder / "committed_calibration_score.json"
    if committed.exists():
        rep = json.loads(committed.read_text())
        label = {"gradient_boosting": "gradient boosting, same inputs and years",
                 "ridge_pair_effects": "ridge with pair effects, same inputs and years",
                 f"persistence_{rep['split_year']}": f"persistence ({rep['split_year']} levels held)",
                 f"persistence_{rep['split_year']}_jitter": f"persistence ({rep['split_year']} levels held, with jitter)",
                 "balance_of_power_only": "balance of power only", "random_walk": "random walk",
                 "persistence_1947": "persistence (1947 levels held)"}
        out += ["**The committed calibration, re-scored with the current scorer:**", "",
                f"| | in sample {rep['period'][0]}-{rep['split_year']} "
                f"| out of sample {rep['split_year'] + 1}-{rep['period'][1]} |",
                "|---|---|---|"]
        rows = {"**model**": rep["model"], **{label.get(k, k): v for k, v in rep.get("baselines", {}).items()}}
        for name, r in rows.items():
            cells = ["–" if r.get(w) is None else
                     f"{_f(r[w]['score'], r[w]['score_sd'])} ({_f(r[w]['level'])} / {_f(r[w]['shifts'])})"
                     for w in ("in_sample", "out_of_sample")]
            out.append(f"| {name} | {cells[0]} | {cells[1]} |")
        out.append("")
    if (t := _read_csv(folder / "rolling_origin.csv")) is not None:
        out += _head("**Rolling origin** (the baselines trained on the same years):", "",
                       "| origin | test years | model | best statistical fit | persistence | persistence with jitter |")
        for o, g in t.groupby("origin"):
            by = {r["method"]: r for r in g.to_dict("records")}
            stat = g[g.method.isin(baselines.STATISTICAL)].sort_values("out_score").iloc[-1]
            name = {"ridge_pair_effects": "ridge", "gradient_boosting": "boosting"}[stat.method]
            m = by["model"]
            out.append(f"| {o} | {m['test']} | **{c(m)}** (in sample {m['in_score']:.3f}) | {c(stat.to_dict())} "
                       f"{name} | {c(by[f'persistence {o}'])} | {c(by[f'persistence {o} with jitter'])} |")
        out.append("")
    lo = folder / "leave_one_pair_out.csv"
    if (t := _read_csv(lo)) is not None:
        methods = list(dict.fromkeys(t.method))
        means = t.groupby("method", sort=False)[["out_score", "out_level", "out_shifts"]].mean()
        wins = sum(int(g.set_index("method").out_score["model"]
                       > g[g.method.isin(baselines.STATISTICAL)].out_score.max()) for _, g in t.groupby("pair"))
        out += ["**Leave one pair out** (mean over the 15 held-out pairs of each pair's out-of-sample score; "
                f"the model beats both statistical fits on {wins} of 15 pairs):", "",
                "| | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods),
                "| mean over pairs | " + " | ".join(
                    f"{means.loc[m, 'out_score']:.3f} ({means.loc[m, 'out_level']:.3f} / {means.loc[m, 'out_shifts']:.3f})"
                    for m in methods) + " |", ""]
    if (t := _read_csv(folder / "budget_spread_summary.csv")) is not None:
        out += _head("**Optimizer budget and seed** (fit to 1990; mean and range over the optimizer seeds):", "",
                       "| generations | in sample | out of sample | out-of-sample level | out-of-sample shifts |")
        for r in t.to_dict("records"):
            out.append(f"| {r['generations']} | " + " | ".join(
                f"{r[f'{k}_mean']:.3f} ({r[f'{k}_min']:.3f}-{r[f'{k}_max']:.3f})"
                for k in ("in_score", "out_score", "out_level", "out_shifts")) + " |")
        out.append("")
    if committed.exists():
        pp = json.loads(committed.read_text()).get("per_pair", {})
        low = sorted((v["out_of_sample_level"], k) for k, v in pp.items()
                     if v.get("out_of_sample_level") is not None and v["out_of_sample_level"] < 0.4)
        out.append("Pairs below 0.4 out-of-sample level accuracy (committed calibration): "
                   + (", ".join(f"{k} {v:.3f}" for v, k in low) or "none") + ".")
        if lo.exists():
            t = pd.read_csv(lo)
            below = t[(t.method == "model") & (t.out_level < 0.4)].pair.tolist()
            out.append(f"Left out of the fit: {', '.join(below) or 'none'}.")
        out.append("")
    return "\n".join(out)


def write_summary(folder: Any) -> None:
    """Write `summary.md` into `folder` from the tables there."""
    from pathlib import Path

    text = summary_markdown(folder) + "\n\n## Headline tables (as the README quotes them)\n\n" + headline_markdown(folder)
    (Path(folder) / "summary.md").write_text(text + "\n", encoding="utf-8")


# --- plumbing ----------------------------------------------------------------------------------------

def _fit(inputs: Inputs, cells: TargetCells, fit_until: int, budget: Budget) -> Fit:
    """The one place a validation fit happens (tests replace it to see the cells a fit is given)."""
    return fit_model(inputs, cells, fit_until, budget)


def _map(task: Callable[..., Any], args: Sequence[tuple], workers: int) -> list[Any]:
    """task(*a) for every a, in `workers` processes (longest first is the caller's order)."""
    if workers <= 1 or len(args) <= 1:
        return [task(*a) for a in args]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(workers, len(args)), mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(task, *zip(*args)))


def best_statistical(table: pd.DataFrame, by: Sequence[str], column: str = "out_score") -> pd.DataFrame:
    """Per group of `by`, the statistical baseline with the highest `column`."""
    stat = table[table.method.isin(baselines.STATISTICAL)]
    return stat.loc[stat.groupby(list(by))[column].idxmax()]
