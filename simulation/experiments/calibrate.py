"""Fit the rule weights to the documented record up to a year, then test on the years after.

Differential evolution (scipy.optimize) searches inside each parameter's documented bounds with a
fixed budget (generations x population) and a fixed seed, so the same command gives the same
result. The objective is the in-sample score's complement plus a small RMSE term that breaks ties
between parameter sets scoring the same, averaged over several seeds so no single lucky run wins.

A whole generation is evaluated as one ensemble batch (candidates x seeds runs, each candidate's
weights one row of the batch), and only the fitted years are simulated: the dynamics are causal,
so the years after the fit cannot change its loss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution

from simulation.engine.ensemble import shocks_for, simulate
from simulation.engine.inputs import Inputs, build_inputs
from simulation.engine.params import Parameters
from simulation.experiments.score import SHIFT_TOLERANCE, TargetCells, load_targets, score, target_cells

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
            self.shocks = shocks_for(self.seeds, self.inputs.years)

    def params(self, x: np.ndarray) -> Parameters:
        values = {**Parameters().as_dict(), **self.fixed, **dict(zip(self.names, map(float, x), strict=True))}
        return Parameters(**values)

    def losses(self, xs: np.ndarray) -> np.ndarray:
        """(S,) losses of S candidate vectors (S, len(names)), as one batch of S x len(seeds) runs
        that share the objective's shocks (common random numbers across candidates)."""
        xs = np.atleast_2d(np.asarray(xs, dtype=float))
        n_seeds = len(self.seeds)
        batch = Parameters(**{**Parameters().as_dict(), **self.fixed}).vary(self.names, np.repeat(xs, n_seeds, axis=0))
        assert self.shocks is not None
        shocks = np.tile(self.shocks, (len(xs), 1, 1, 1))
        run = simulate(self.inputs, batch, self.seeds * len(xs), shocks, keep_threat=False)
        s = score(run.alignment, self.cells)
        return (1.0 - s.overall + RMSE_WEIGHT * s.rmse).reshape(len(xs), n_seeds).mean(axis=1)

    def __call__(self, x: np.ndarray) -> float:
        return float(self.losses(np.asarray(x)[None])[0])


@dataclass(frozen=True)
class Fit:
    params: Parameters
    loss: float
    start_loss: float
    evaluations: int


def fit(objective: Objective, start: Parameters, generations: int, population: int, seed: int,
        progress: bool | int = False) -> Fit:
    """Minimise the objective over the free parameters within their bounds, a generation per batch."""
    from tqdm import tqdm

    bounds = [Parameters.bounds()[n] for n in objective.names]
    x0 = np.array([getattr(start, n) for n in objective.names])
    lo, hi = np.array(bounds).T
    # a hair inside the bounds: scipy rescales x0 and rejects a value a rounding error outside
    x0 = np.clip(x0, lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
    start_loss = objective(x0)
    # progress may be a bar position (several variants fitting side by side in processes)
    bar = tqdm(total=generations, desc="calibrating", unit="gen", disable=progress is False,
               position=0 if progress is True else int(progress), leave=progress is True)

    def tick(intermediate_result) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{intermediate_result.fun:.4f}")

    # scipy hands a vectorized objective the generation as columns (parameters x candidates)
    result = differential_evolution(
        lambda columns: objective.losses(columns.T), bounds, x0=x0, maxiter=generations, popsize=population,
        seed=seed, tol=0.0, mutation=(0.5, 1.0), recombination=0.7, polish=False, init="sobol",
        updating="deferred", vectorized=True, callback=tick,
    )
    bar.close()
    best = result.x if result.fun <= start_loss else x0
    # scipy counts calls of a vectorized objective; a call evaluates the whole population
    evaluations = int(result.population.shape[0] * (result.nit + 1)) + 1
    return Fit(objective.params(best), float(min(result.fun, start_loss)), start_loss, evaluations)


def free_parameters(fixed: Sequence[str] = ()) -> tuple[str, ...]:
    """The fitted parameters, less those a variant fixes."""
    return tuple(n for n in Parameters.fitted() if n not in set(fixed))


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
        "shift_tolerance": SHIFT_TOLERANCE,  # the scorer's rule the loss and scores were computed with
        "parameters": fit_.params.as_dict(),
    }


@dataclass(frozen=True)
class Budget:
    """How a calibration is run: the optimizer's budget and seeds, the runs it is scored on."""

    fit_until: int
    generations: int  # for the full model
    ablation_generations: int  # for each ablated variant
    population: int
    seed: int
    objective_seeds: tuple[int, ...]
    eval_seeds: tuple[int, ...]
    warm_start: bool = False


def fit_variant(name: str, fixed: Mapping[str, float], budget: Budget, position: int = 0) -> dict[str, Any]:
    """Fit one model variant on the years up to `budget.fit_until` and score it on the evaluation
    runs in and out of sample: its table row, its fitted parameters and its score report."""
    from simulation.experiments.report import score_report

    targets = load_targets()
    inputs = build_inputs(1947, 2024)
    cells = target_cells(targets, inputs.years, (1947, budget.fit_until))
    objective = Objective(inputs.until(budget.fit_until), cells, free_parameters(tuple(fixed)),
                          budget.objective_seeds, dict(fixed))
    generations = budget.generations if name == "full model" else budget.ablation_generations
    fitted = fit(objective, Parameters.baseline() if budget.warm_start else Parameters(), generations,
                 budget.population, budget.seed, progress=position)
    run = simulate(inputs, fitted.params, list(budget.eval_seeds), keep_threat=False,
                   keep_instruments=("arms", "sanction"))
    report = score_report(run.alignment, inputs, targets, fitted.params, budget.fit_until, list(budget.eval_seeds),
                          baselines=name == "full model", instruments=run.instruments)
    row = {"variant": name, **{f"{k}{suffix}": report["model"][k][key] for k in ("in_sample", "out_of_sample")
                               for suffix, key in (("", "score"), ("_sd", "score_sd"))},
           **{f"{k}_{key}": report["instruments"][k][key] for k in ("in_sample", "out_of_sample")
              for key in ("supplier_fit", "sanctions")}}
    return {"row": row, "fit": fitted, "report": report}


def calibrate_variants(variants: Mapping[str, Mapping[str, float]], budget: Budget, workers: int = 1,
                       command: str = "") -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit every variant (in `workers` processes side by side) and return the table of their scores
    and the calibration record of the full model."""
    names = list(variants)
    if workers > 1 and len(names) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(names)), mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(fit_variant, n, variants[n], budget, k) for k, n in enumerate(names)]
            results = [f.result() for f in futures]
    else:
        results = [fit_variant(n, variants[n], budget) for n in names]
    full = results[names.index("full model")]
    record = calibration_record(full["fit"], budget.fit_until, budget.generations, budget.population, budget.seed,
                                budget.objective_seeds, command)
    record["scores"] = full["report"]
    # each variant's own fit, so that a counterfactual can be answered under each theory
    record["variants"] = {n: {"fixed": dict(variants[n]), "evaluations": r["fit"].evaluations,
                              "parameters": r["fit"].params.as_dict(),
                              **{k: r["row"][k] for k in ("in_sample", "out_of_sample")}}
                          for n, r in zip(names, results, strict=True)}
    return pd.DataFrame([r["row"] for r in results]), record
