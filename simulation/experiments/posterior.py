"""A calibrated posterior over the weights instead of a point: ABC-SMC on the batched objective.

Approximate Bayesian computation by sequential Monte Carlo (Toni et al. 2009; Del Moral, Doucet &
Jasra 2012): a population of weight vectors drawn from the prior (uniform inside each weight's
documented bounds) is moved, generation by generation, toward the vectors whose distance to the
record (the calibration loss on 1947-1990) lies under a falling threshold. The result is a sample
of the parameter sets that fit history about equally well: which weights the record pins down, and
which it cannot tell apart.

Why this loop rather than pyabc's or ELFI's: the objective costs about 30 times less per particle
when a whole population runs as one ensemble batch, and pyabc evaluates one particle at a time;
ELFI takes batches but pins matplotlib below 3.9 and brings GPy. And with 22 weights, importance
weights against a perturbation kernel's density (Beaumont et al. 2009, pyabc's default)
degenerated here to an effective sample of 3-11 particles in 1,000; MCMC moves keep every
particle's weight equal. So the loop is the textbook algorithm, in a few lines, tested on a
problem whose posterior is known (tests/test_posterior.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.engine.params import Parameters
from simulation.engine.shocks import stream

#: The committed posterior (written by `simulation posterior ... --write-baseline`).
POSTERIOR = Path(__file__).resolve().parents[1] / "data" / "posterior.json"


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of weight vectors, with how it was obtained."""

    names: tuple[str, ...]
    samples: np.ndarray  # (M, D)
    weights: np.ndarray  # (M,), summing to 1
    distances: np.ndarray  # (M,)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def ess(self) -> float:
        """Effective sample size of the importance weights (Kish)."""
        return float(1.0 / np.sum(self.weights**2))

    def params(self, base: Parameters, draws: np.ndarray) -> Parameters:
        """One Parameters for a batch: row b takes sample `draws[b]`; unsampled fields keep `base`'s."""
        return base.vary(self.names, self.samples[draws])

    def draws_for(self, seeds: list[int]) -> np.ndarray:
        """The sample each run uses, chosen by weight from the run's own seed (its 'posterior' stream):
        the same seed takes the same draw in any scenario, so paired runs share their parameters."""
        cdf = np.cumsum(self.weights)
        cdf[-1] = 1.0
        return np.array([int(np.searchsorted(cdf, stream(s, "posterior").random(), side="right")) for s in seeds])

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "samples": self.samples.tolist(), "weights": self.weights.tolist(),
                "distances": self.distances.tolist(), "diagnostics": self.diagnostics}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Posterior:
        return cls(tuple(data["names"]), np.asarray(data["samples"], dtype=float),
                   np.asarray(data["weights"], dtype=float), np.asarray(data["distances"], dtype=float),
                   data.get("diagnostics", {}))

    @classmethod
    def load(cls, path: Path = POSTERIOR) -> Posterior:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def point(cls, params: Parameters) -> Posterior:
        """A posterior of one repeated point: runs drawn from it equal runs of the point."""
        names = Parameters.fitted()
        return cls(names, np.array([[float(getattr(params, n)) for n in names]]), np.ones(1), np.zeros(1))


@dataclass(frozen=True)
class ParameterSource:
    """Where a batch of runs takes its weights: the calibrated point, or one posterior draw per run,
    chosen by the run's seed (so that two scenarios run with the same seeds share their draws)."""

    posterior: Posterior | None = None
    label: str = "point"

    def for_runs(self, params: Parameters, seeds: list[int], keep: tuple[str, ...] = ()) -> Parameters:
        """`params` for a batch of `seeds`, with the posterior's weights drawn per run; weights named
        in `keep` (a scenario's own overrides) keep their value."""
        if self.posterior is None:
            return params
        names = [n for n in self.posterior.names if n not in set(keep)]
        columns = [self.posterior.names.index(n) for n in names]
        return params.vary(names, self.posterior.samples[self.posterior.draws_for(seeds)][:, columns])

    @classmethod
    def parse(cls, spec: str) -> ParameterSource:
        """'point' (the calibrated weights), 'posterior' (the committed posterior) or a posterior file."""
        if spec == "point":
            return cls()
        path = POSTERIOR if spec == "posterior" else Path(spec)
        return cls(Posterior.load(path), "posterior" if spec == "posterior" else str(path))


def abc_smc(distance: Callable[[np.ndarray], np.ndarray], bounds: np.ndarray, names: tuple[str, ...],
            population: int, generations: int, seed: int, quantile: float = 0.5, moves: int = 2,
            progress: bool = False) -> Posterior:
    """ABC-SMC with MCMC moves and an adaptive threshold (Del Moral, Doucet & Jasra 2012).

    `distance` maps candidates (S, D) to distances (S,) in one call; `bounds` is (D, 2), the uniform
    prior's box. Each generation lowers the threshold to the `quantile` of the current distances,
    resamples the particles under it, and moves each by `moves` Metropolis steps that keep only
    proposals under the threshold. Particles move in logit space (a weight's place in its bounds),
    so none leaves the prior's box; the uniform prior's density there, s(z)(1 - s(z)) with s the
    logistic function, enters the acceptance ratio. Every particle carries the same weight.
    """
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    lo, hi = bounds[:, 0], bounds[:, 1]
    dim = len(names)

    def to_theta(z: np.ndarray) -> np.ndarray:
        return lo + (hi - lo) / (1.0 + np.exp(-z))

    def log_prior(z: np.ndarray) -> np.ndarray:
        return np.sum(-np.logaddexp(0.0, -z) - np.logaddexp(0.0, z), axis=1)

    u = np.clip(rng.random((population, dim)), 1e-12, 1 - 1e-12)
    z = np.log(u) - np.log1p(-u)  # generation 0: the prior itself
    d = distance(to_theta(z))
    evaluations = population
    log: list[dict[str, float]] = [{"generation": 0, "epsilon": float("inf"), "move_acceptance": 1.0,
                                    "distinct": float(population), "evaluations": evaluations}]
    bar = tqdm(total=generations, desc="posterior", unit="gen", disable=not progress)
    for t in range(1, generations + 1):
        epsilon = float(np.quantile(d, quantile))
        alive = np.flatnonzero(d <= epsilon)
        pick = alive[rng.integers(0, len(alive), population)]  # resample the particles under the threshold
        z, d = z[pick], d[pick]
        # random-walk Metropolis with the population's covariance, at the usual 2.38^2 / dim scale
        cov = np.cov(z, rowvar=False).reshape(dim, dim) * 2.38**2 / dim + 1e-9 * np.eye(dim)
        chol = np.linalg.cholesky(cov)
        accepted = 0
        for _ in range(moves):
            proposal = z + rng.standard_normal((population, dim)) @ chol.T
            dist = distance(to_theta(proposal))
            evaluations += population
            ok = (dist <= epsilon) & (np.log(rng.random(population)) < log_prior(proposal) - log_prior(z))
            z, d = np.where(ok[:, None], proposal, z), np.where(ok, dist, d)
            accepted += int(ok.sum())
        rate = accepted / (moves * population)
        log.append({"generation": t, "epsilon": epsilon, "move_acceptance": rate,
                    "distinct": float(len(np.unique(z, axis=0))), "evaluations": evaluations})
        bar.update(1)
        bar.set_postfix(epsilon=f"{epsilon:.4f}", moves=f"{rate:.2f}")
    bar.close()
    return Posterior(names, to_theta(z), np.full(population, 1.0 / population), d,
                     {"generations": log, "evaluations": evaluations})


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cdf = np.cumsum(w[order])
    return float(x[order][min(int(np.searchsorted(cdf, q * cdf[-1])), len(x) - 1)])


def summary(post: Posterior, top: int = 8) -> dict[str, Any]:
    """Per-weight marginals (weighted mean, sd, 5/50/95% quantiles) and the strongest correlations
    between weights: the pairs the record cannot tell apart."""
    w = post.weights
    mean = w @ post.samples
    centred = post.samples - mean
    cov = (w[:, None] * centred).T @ centred
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.maximum(np.outer(sd, sd), 1e-300)
    marginals = {n: {"mean": float(mean[k]), "sd": float(sd[k]),
                     **{f"q{int(q * 100):02d}": _weighted_quantile(post.samples[:, k], w, q) for q in (0.05, 0.5, 0.95)}}
                 for k, n in enumerate(post.names)}
    pairs = [(abs(corr[a, b]), a, b) for a in range(len(post.names)) for b in range(a + 1, len(post.names))]
    strongest = [{"a": post.names[a], "b": post.names[b], "correlation": float(corr[a, b])}
                 for _, a, b in sorted(pairs, reverse=True)[:top]]
    return {"ess": post.ess, "marginals": marginals, "correlations": strongest}


def fit_posterior(fit_until: int, population: int, generations: int, seed: int, objective_seeds: tuple[int, ...],
                  quantile: float = 0.5, progress: bool = False) -> Posterior:
    """The posterior of the fitted weights given the record up to `fit_until`, with the calibration's
    objective (the loss on 1947..fit_until, averaged over `objective_seeds`) as the ABC distance."""
    from simulation.engine.inputs import build_inputs
    from simulation.experiments.calibrate import Objective, free_parameters
    from simulation.experiments.score import load_targets, target_cells

    inputs = build_inputs(1947, 2024)
    cells = target_cells(load_targets(), inputs.years, (1947, fit_until))
    names = free_parameters()
    objective = Objective(inputs.until(fit_until), cells, names, objective_seeds)
    bounds = np.array([Parameters.bounds()[n] for n in names])
    post = abc_smc(objective.losses, bounds, names, population, generations, seed, quantile, progress=progress)
    post.diagnostics.update({"fit_until": fit_until, "population": population, "max_generations": generations,
                             "seed": seed, "objective_seeds": list(objective_seeds), "quantile": quantile})
    return post


def predictive_check(post: Posterior, seeds: list[int]) -> dict[str, Any]:
    """The posterior predictive check: runs drawn from the posterior (one draw per seed), their 95%
    band per pair-year, and the share of the documented pair-years that fall inside it, in and out
    of sample. Returns the bands (for the figure) and the coverage table."""
    from simulation.engine.ensemble import simulate
    from simulation.engine.inputs import build_inputs
    from simulation.experiments.score import load_targets, target_cells
    from simulation.states import PAIR_A, PAIR_B, PAIRS

    inputs = build_inputs(1947, 2024)
    targets = load_targets()
    run = simulate(inputs, post.params(Parameters.baseline(), post.draws_for(seeds)), seeds, keep_threat=False)
    pairs = run.alignment[:, :, PAIR_A, PAIR_B]  # (R, T, P)
    lo, hi = np.percentile(pairs, [2.5, 97.5], axis=0)
    fit_until = int(post.diagnostics.get("fit_until", 1990))
    coverage = {}
    for window, span in (("in_sample", (1947, fit_until)), ("out_of_sample", (fit_until + 1, 2024))):
        cells = target_cells(targets, inputs.years, span)
        p = cells.pair
        inside = (cells.level >= lo[cells.t, p] - 1e-12) & (cells.level <= hi[cells.t, p] + 1e-12)
        coverage[window] = {"overall": float(inside.mean()),
                            **{f"{a}-{b}": float(inside[p == k].mean()) for k, (a, b) in enumerate(PAIRS)
                               if np.any(p == k)}}
    return {"years": inputs.years, "low": lo, "high": hi, "mean": pairs.mean(axis=0), "coverage": coverage,
            "targets": targets}
