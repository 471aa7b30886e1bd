"""Fit the rule weights to the documented record up to a year, then test on the years after.

Differential evolution (scipy.optimize) searches inside each parameter's documented bounds with a
fixed budget (generations x population) and a fixed seed, so the same command gives the same
result. The objective is the in-sample score's complement plus a small RMSE term that breaks ties
between parameter sets scoring the same, averaged over several seeds so no single lucky run wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution

from simulation.engine.ensemble import shocks_for, simulate
from simulation.engine.inputs import Inputs
from simulation.engine.params import Parameters
from simulation.experiments.score import TargetCells, score

RMSE_WEIGHT = 0.25


@dataclass
class Objective:
    """Loss of a parameter vector on the fitted targets; picklable, so workers can share it."""

    inputs: Inputs
    cells: TargetCells
    names: tuple[str, ...]
    seeds: tuple[int, ...]
    fixed: dict[str, float] = field(default_factory=dict)
    shocks: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.shocks is None:
            self.shocks = shocks_for(self.seeds, self.inputs.n_years)

    def params(self, x: np.ndarray) -> Parameters:
        values = {**Parameters().as_dict(), **self.fixed, **dict(zip(self.names, map(float, x), strict=True))}
        return Parameters(**values)

    def __call__(self, x: np.ndarray) -> float:
        run = simulate(self.inputs, self.params(x), self.seeds, self.shocks, keep_threat=False)
        s = score(run.alignment, self.cells)
        return float(np.mean(1.0 - s.overall + RMSE_WEIGHT * s.rmse))


@dataclass(frozen=True)
class Fit:
    params: Parameters
    loss: float
    start_loss: float
    evaluations: int


def fit(objective: Objective, start: Parameters, generations: int, population: int, seed: int,
        workers: int = 1, progress: bool = False) -> Fit:
    """Minimise the objective over the free parameters within their bounds."""
    from tqdm import tqdm

    bounds = [Parameters.bounds()[n] for n in objective.names]
    x0 = np.array([getattr(start, n) for n in objective.names])
    lo, hi = np.array(bounds).T
    # a hair inside the bounds: scipy rescales x0 and rejects a value a rounding error outside
    x0 = np.clip(x0, lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
    start_loss = objective(x0)
    bar = tqdm(total=generations, desc="calibrating", unit="gen", disable=not progress)

    def tick(intermediate_result: object) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{getattr(intermediate_result, 'fun', float('nan')):.4f}")

    result = differential_evolution(
        objective, bounds, x0=x0, maxiter=generations, popsize=population, seed=seed, tol=0.0,
        mutation=(0.5, 1.0), recombination=0.7, polish=False, init="sobol",
        updating="deferred" if workers != 1 else "immediate", workers=workers, callback=tick,
    )
    bar.close()
    best = result.x if result.fun <= start_loss else x0
    return Fit(objective.params(best), float(min(result.fun, start_loss)), start_loss, int(result.nfev))


def free_parameters(fixed: Iterable[str] = ()) -> tuple[str, ...]:
    """Every parameter except the fixed ones (noise is a property of the world, not fitted)."""
    skip = set(fixed) | {"noise"}
    return tuple(n for n in Parameters.names() if n not in skip)


def calibration_record(fit_: Fit, fit_until: int, generations: int, population: int, seed: int,
                       seeds: Sequence[int], command: str) -> dict:
    """What `calibrated.json` holds: the parameters and exactly how they were obtained."""
    return {
        "command": command,
        "fit_until": fit_until,
        "optimizer": "scipy.optimize.differential_evolution",
        "generations": generations, "population": population, "optimizer_seed": seed,
        "objective_seeds": list(seeds), "evaluations": fit_.evaluations,
        "start_loss": fit_.start_loss, "loss": fit_.loss,
        "parameters": fit_.params.as_dict(),
    }


def run_calibration(fit_until: int, generations: int, population: int, objective_seeds: int, eval_seeds: int,
                    seed: int, workers: int, command: str, ablation: bool = False, ablation_generations: int = 60,
                    warm_start: bool = False, progress: bool = True) -> tuple[dict, pd.DataFrame]:
    """Fit the full model (and, with `ablation`, each variant of params.ABLATIONS) on 1947..fit_until,
    score each on `eval_seeds` runs (seeds 1000, 1001, ...). Returns the full model's calibration
    record (what `calibrated.json` holds) and one row of scores per variant."""
    import sys

    from simulation.engine.inputs import build_inputs
    from simulation.engine.params import ABLATIONS
    from simulation.experiments.periods import FIRST_YEAR, LAST_YEAR
    from simulation.experiments.report import score_report
    from simulation.experiments.score import load_targets, target_cells

    targets = load_targets()
    inputs = build_inputs(FIRST_YEAR, LAST_YEAR)
    cells = target_cells(targets, inputs.years, (FIRST_YEAR, fit_until))
    seeds = tuple(range(objective_seeds))
    scored_on = list(range(1000, 1000 + eval_seeds))
    variants = ABLATIONS if ablation else {"full model": {}}
    rows, record = [], {}
    for name, fixed in variants.items():
        objective = Objective(inputs, cells, free_parameters(fixed), seeds, dict(fixed))
        budget = generations if name == "full model" else ablation_generations
        print(f"{name}: {len(objective.names)} free parameters, {budget} generations", file=sys.stderr)
        fitted = fit(objective, Parameters.baseline() if warm_start else Parameters(), budget, population, seed,
                     workers, progress=progress)
        run = simulate(inputs, fitted.params, scored_on, keep_threat=False)
        report = score_report(run.alignment, inputs, targets, fitted.params, fit_until, scored_on,
                              baselines=name == "full model")
        rows.append({"variant": name, **{f"{k}{suffix}": report["model"][k][key]
                                         for k in ("in_sample", "out_of_sample")
                                         for suffix, key in (("", "score"), ("_sd", "score_sd"))}})
        if name == "full model":
            record = calibration_record(fitted, fit_until, generations, population, seed, seeds, command)
            record["scores"] = report
    return record, pd.DataFrame(rows)
