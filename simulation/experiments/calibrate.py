"""Fit the rule weights to the documented record up to a year, then test on the years after.

CMA-ES (pycma; Hansen & Ostermeier 2001) searches inside each parameter's documented bounds with a
fixed budget of candidate evaluations and a fixed seed, so the same command gives the same result;
differential evolution (scipy.optimize), the optimizer of the fits before 2026-12-02, stays
available with `optimizer="de"`. The objective is the in-sample score's complement plus a small
RMSE term that breaks ties between parameter sets scoring the same, averaged over several seeds so
no single lucky run wins, plus an optional shrinkage toward the theory's defaults.

A whole generation is evaluated as one ensemble batch (candidates x seeds runs, each candidate's
weights one row of the batch), and only the fitted years are simulated: the dynamics are causal,
so the years after the fit cannot change its loss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from simulation.engine.ensemble import shocks_for, simulate
from simulation.engine.inputs import Inputs, build_inputs
from simulation.engine.params import Parameters
from simulation.experiments import committed
from simulation.experiments.score import SHIFT_TOLERANCE, TargetCells, load_targets, score, target_cells

RMSE_WEIGHT = 0.25

#: CMA-ES candidates per generation. Large populations suit rugged objectives (Hansen & Kern 2004),
#: and this one is a step function of the weights (counts of hits) plus a small RMSE term. 128 was
#: chosen over 64 on the 1947-1990 loss alone: at the committed budget, mean loss 0.328 against
#: 0.343 over optimizer seeds 0-2 (docs/validation-log.md, 2026-12-02).
CMA_POPULATION = 128
#: CMA-ES's initial step, as a share of each parameter's range (the search runs on [0, 1] per parameter).
CMA_SIGMA = 0.3
#: What a calibration record names as its optimizer.
OPTIMIZER_NAMES = {"cmaes": f"cma.CMAEvolutionStrategy (pycma, population {CMA_POPULATION}, sigma0 {CMA_SIGMA})",
                   "de": "scipy.optimize.differential_evolution"}
OPTIMIZERS = tuple(OPTIMIZER_NAMES)


@dataclass
class Objective:
    """Loss of a parameter vector on the fitted targets; picklable, so workers can share it."""

    inputs: Inputs
    cells: TargetCells
    names: tuple[str, ...]
    seeds: tuple[int, ...]
    fixed: dict[str, float] = field(default_factory=dict)
    shocks: np.ndarray | None = None
    #: weight of the shrinkage toward the theory's defaults: the loss gains penalty x the mean squared
    #: distance of the free weights from their defaults, each as a share of its range (a Gaussian
    #: prior centred on the documented values; 0, the committed fit's, is no shrinkage)
    penalty: float = 0.0

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
        loss = (1.0 - s.overall + RMSE_WEIGHT * s.rmse).reshape(len(xs), n_seeds).mean(axis=1)
        if self.penalty:
            loss = loss + self.penalty * self.shrinkage(xs)
        return loss

    def shrinkage(self, xs: np.ndarray) -> np.ndarray:
        """(S,) mean squared distance of each candidate from the theory's defaults, in shares of range."""
        bounds = Parameters.bounds()
        lo, hi = np.array([bounds[n] for n in self.names]).T
        default = np.array([getattr(Parameters(), n) for n in self.names])
        return (((np.atleast_2d(xs) - default) / (hi - lo)) ** 2).mean(axis=1)

    def __call__(self, x: np.ndarray) -> float:
        return float(self.losses(np.asarray(x)[None])[0])


@dataclass(frozen=True)
class Fit:
    params: Parameters
    loss: float
    start_loss: float
    evaluations: int


def fit(objective: Objective, start: Parameters, generations: int, population: int, seed: int,
        progress: bool | int = False, optimizer: str = "cmaes") -> Fit:
    """Minimise the objective over the free parameters within their bounds, a generation per batch.

    The budget is differential evolution's: `generations` x (`population` x free parameters)
    candidate evaluations; CMA-ES spends the same number in generations of CMA_POPULATION."""
    from tqdm import tqdm

    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    bounds = [Parameters.bounds()[n] for n in objective.names]
    x0 = np.array([getattr(start, n) for n in objective.names])
    lo, hi = np.array(bounds).T
    # a hair inside the bounds: scipy rescales x0 and rejects a value a rounding error outside
    x0 = np.clip(x0, lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
    start_loss = objective(x0)
    evaluations = generations * population * len(bounds)
    steps = generations if optimizer == "de" else -(-evaluations // CMA_POPULATION)
    # progress may be a bar position (several variants fitting side by side in processes)
    bar = tqdm(total=steps, desc="calibrating", unit="gen", disable=progress is False,
               position=0 if progress is True else int(progress), leave=progress is True)

    def tick(loss: float) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")

    if optimizer == "de":
        best, loss, used = _differential_evolution(objective, bounds, x0, generations, population, seed, tick)
    else:
        best, loss, used = _cma_es(objective, lo, hi, x0, evaluations, seed, tick)
    bar.close()
    if loss > start_loss:
        best, loss = x0, start_loss
    return Fit(objective.params(best), float(loss), start_loss, used + 1)


def _differential_evolution(objective: Objective, bounds: list, x0: np.ndarray, generations: int, population: int,
                            seed: int, tick) -> tuple[np.ndarray, float, int]:
    """scipy's differential evolution, a generation per batch: (best x, its loss, evaluations)."""
    from scipy.optimize import differential_evolution

    def callback(intermediate_result) -> None:  # scipy passes the OptimizeResult under this name only
        tick(intermediate_result.fun)

    # scipy hands a vectorized objective the generation as columns (parameters x candidates)
    result = differential_evolution(
        lambda columns: objective.losses(columns.T), bounds, x0=x0, maxiter=generations, popsize=population,
        seed=seed, tol=0.0, mutation=(0.5, 1.0), recombination=0.7, polish=False, init="sobol",
        updating="deferred", vectorized=True, callback=callback,
    )
    # scipy counts calls of a vectorized objective; a call evaluates the whole population
    return result.x, float(result.fun), int(result.population.shape[0] * (result.nit + 1))


def _cma_es(objective: Objective, lo: np.ndarray, hi: np.ndarray, x0: np.ndarray, evaluations: int, seed: int,
            tick) -> tuple[np.ndarray, float, int]:
    """pycma's CMA-ES on the unit cube (each parameter scaled to its range), from x0, a generation
    per batch, until the evaluation budget is spent: (best x, its loss, evaluations)."""
    import cma

    rng = np.random.default_rng(seed)
    span = hi - lo
    options = {
        "bounds": [0.0, 1.0], "popsize": CMA_POPULATION, "maxfevals": evaluations, "verbose": -9,
        # draws from the run's own Generator; a nan seed keeps pycma off numpy's global RNG
        "randn": lambda *shape: rng.standard_normal(shape), "seed": float("nan"),
        # the budget alone ends the search: a plateau of the step-shaped loss is not convergence
        "tolfun": 0.0, "tolfunhist": 0.0, "tolflatfitness": 10**9, "tolx": 0.0, "tolstagnation": 10**9,
    }
    es = cma.CMAEvolutionStrategy((x0 - lo) / span, CMA_SIGMA, options)
    best, best_loss = x0, np.inf
    while not es.stop():
        unit = np.asarray(es.ask())
        losses = objective.losses(lo + unit * span)
        es.tell(list(unit), losses.tolist())
        k = int(np.argmin(losses))
        if losses[k] < best_loss:
            best, best_loss = lo + unit[k] * span, float(losses[k])
        tick(best_loss)
    return best, best_loss, int(es.countevals)


def free_parameters(fixed: Sequence[str] = ()) -> tuple[str, ...]:
    """The fitted parameters, less those a variant fixes."""
    return tuple(n for n in Parameters.fitted() if n not in set(fixed))


def calibration_record(fit_: Fit, fit_until: int, generations: int, population: int, seed: int,
                       seeds: Sequence[int], command: str, optimizer: str = "cmaes", penalty: float = 0.0) -> dict:
    """What `calibrated.json` holds: the parameters and exactly how they were obtained."""
    return {
        "command": command,
        "fit_until": fit_until,
        "optimizer": OPTIMIZER_NAMES[optimizer],
        "generations": generations, "population": population, "optimizer_seed": seed,
        "objective_seeds": list(seeds), "evaluations": fit_.evaluations, "penalty": penalty,
        "start_loss": fit_.start_loss, "loss": fit_.loss,
        "shift_tolerance": SHIFT_TOLERANCE,  # the scorer's rule the loss and scores were computed with
        "parameters": fit_.params.as_dict(),
    }


@dataclass(frozen=True)
class Budget:
    """How every fit is run, the calibration's and each validation fit's: the optimizer, its budget
    and seed, the shrinkage, the runs each evaluation averages and the runs the fit is scored on.
    The defaults are the committed command's (README, "Calibration and validation")."""

    generations: int = committed.GENERATIONS  # in differential-evolution generations of `population` x free parameters
    population: int = 10
    seed: int = 0  # the optimizer's
    objective_seeds: tuple[int, ...] = (0, 1, 2, 3)
    eval_seeds: tuple[int, ...] = tuple(range(1000, 1100))
    optimizer: str = "cmaes"
    penalty: float = committed.PENALTY  # Objective.penalty

    def describe(self, generations: Sequence[int] | None = None) -> str:
        """One line for a record; `generations` names the budgets of a spread, which override this one's."""
        budgets = "/".join(map(str, generations)) if generations else str(self.generations)
        evaluations = f"{budgets} generations x population {self.population} of evaluations"
        shrink = f", penalty {self.penalty:g} toward the defaults" if self.penalty else ""
        return (f"{OPTIMIZER_NAMES[self.optimizer]}, {evaluations}{shrink}, "
                f"optimizer seed {self.seed}, {len(self.objective_seeds)} seeds per evaluation, "
                f"scored on {len(self.eval_seeds)} runs (seeds {self.eval_seeds[0]}-{self.eval_seeds[-1]})")


def fit_variant(name: str, fixed: Mapping[str, float], budget: Budget, fit_until: int, warm_start: bool = False,
                position: int = 0) -> dict[str, Any]:
    """Fit one model variant on the years up to `fit_until` (from the committed calibration if
    `warm_start`) and score it on the evaluation runs in and out of sample: its table row, its fitted
    parameters and its score report."""
    from simulation.experiments.report import score_report

    targets = load_targets()
    inputs = build_inputs(1947, 2024)
    cells = target_cells(targets, inputs.years, (1947, fit_until))
    objective = Objective(inputs.until(fit_until), cells, free_parameters(tuple(fixed)),
                          budget.objective_seeds, dict(fixed), penalty=budget.penalty)
    fitted = fit(objective, Parameters.baseline() if warm_start else Parameters(), budget.generations,
                 budget.population, budget.seed, progress=position, optimizer=budget.optimizer)
    run = simulate(inputs, fitted.params, list(budget.eval_seeds), keep_threat=False,
                   keep_instruments=("arms", "sanction"))
    report = score_report(run.alignment, inputs, targets, fitted.params, fit_until, list(budget.eval_seeds),
                          baselines=name == "full model", instruments=run.instruments)
    row = {"variant": name, **{f"{k}{suffix}": report["model"][k][key] for k in ("in_sample", "out_of_sample")
                               for suffix, key in (("", "score"), ("_sd", "score_sd"))},
           **{f"{k}_{key}": report["instruments"][k][key] for k in ("in_sample", "out_of_sample")
              for key in ("supplier_fit", "sanctions")}}
    return {"row": row, "fit": fitted, "report": report}


def calibrate_variants(variants: Mapping[str, Mapping[str, float]], budget: Budget, fit_until: int,
                       ablation_generations: int, workers: int = 1, command: str = "",
                       warm_start: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit every variant (in `workers` processes side by side; the ablated ones at
    `ablation_generations`) and return the table of their scores and the calibration record of the
    full model."""
    names = list(variants)
    tasks = [(n, variants[n], budget if n == "full model" else replace(budget, generations=ablation_generations),
              fit_until, warm_start) for n in names]
    if workers > 1 and len(names) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(names)), mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(fit_variant, *task, k) for k, task in enumerate(tasks)]
            results = [f.result() for f in futures]
    else:
        results = [fit_variant(*task) for task in tasks]
    full = results[names.index("full model")]
    record = calibration_record(full["fit"], fit_until, budget.generations, budget.population, budget.seed,
                                budget.objective_seeds, command, budget.optimizer, budget.penalty)
    record["scores"] = full["report"]
    # each variant's own fit, so that a counterfactual can be answered under each theory
    record["variants"] = {n: {"fixed": dict(variants[n]), "evaluations": r["fit"].evaluations,
                              "parameters": r["fit"].params.as_dict(),
                              **{k: r["row"][k] for k in ("in_sample", "out_of_sample")}}
                          for n, r in zip(names, results, strict=True)}
    return pd.DataFrame([r["row"] for r in results]), record


def nested_losses(record: Mapping[str, Any]) -> pd.DataFrame:
    """The full model's objective (its years, seeds and penalty) at each ablated variant's fitted point
    in a calibration record, beside the record's own loss: a convergence check for a nesting model.

    A variant that fixes fitted weights inside their bounds is a point of the full model's search
    space, so a loss there below the committed point's means the full fit has not converged. A variant
    that fixes a constant the full model does not fit lies outside that space (`nested` False)."""
    fit_until = record["fit_until"]
    inputs = build_inputs(1947, fit_until)
    cells = target_cells(load_targets(), inputs.years, (1947, fit_until))
    names = free_parameters()
    objective = Objective(inputs, cells, names, tuple(record["objective_seeds"]), penalty=record["penalty"])
    bounds, default = Parameters.bounds(), Parameters()
    rows, points = [], []
    for name, variant in record["variants"].items():
        point = {**default.as_dict(), **variant["parameters"]}
        nested = (all(point[k] == getattr(default, k) for k in point if k not in names)
                  and all(bounds[k][0] <= point[k] <= bounds[k][1] for k in names))
        rows.append({"variant": name, "nested": nested})
        points.append([point[k] for k in names])
    table = pd.DataFrame(rows)
    table["loss"] = objective.losses(np.array(points))
    table["committed_loss"] = record["loss"]
    return table.sort_values("loss", ignore_index=True)
