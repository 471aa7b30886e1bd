"""A calibrated posterior over the weights instead of a point: ABC-SMC on the batched objective.

Approximate Bayesian computation by sequential Monte Carlo (Toni et al. 2009; Beaumont, Cornuet,
Marin & Robert 2009): a population of weight vectors drawn from the prior (uniform inside each
weight's documented bounds) is moved, generation by generation, toward the vectors whose distance
to the record (the calibration loss on 1947-1990) lies under a falling threshold; importance
weights correct for the perturbation kernel. The result is a weighted sample of the parameter sets
that fit history about equally well: which weights the record pins down, and which it cannot tell
apart.

Why this loop rather than pyabc's or ELFI's: the objective costs about 30 times less per particle
when a whole population runs as one ensemble batch, and pyabc evaluates one particle at a time;
ELFI takes batches but pins matplotlib below 3.9 and brings GPy. So the loop is the textbook
algorithm (a few lines below), and the parts that are easy to get wrong are pyabc's: the adaptive
multivariate normal perturbation kernel with its bandwidth rule, and the weighted statistics.
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


def abc_smc(distance: Callable[[np.ndarray], np.ndarray], bounds: np.ndarray, names: tuple[str, ...],
            population: int, generations: int, seed: int, quantile: float = 0.5, batch: int = 0,
            min_acceptance: float = 0.02, progress: bool = False) -> Posterior:
    """ABC-SMC with an adaptive threshold (the `quantile` of the last generation's distances).

    `distance` maps candidates (S, D) to distances (S,) in one call; `bounds` is (D, 2), the uniform
    prior's box. Stops after `generations` thresholds, or when fewer than `min_acceptance` of the
    proposals are accepted (the threshold can hardly fall further).
    """
    import pandas as pd
    from pyabc.transition import MultivariateNormalTransition
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    lo, hi = bounds[:, 0], bounds[:, 1]
    batch = batch or population
    # generation 0: the prior itself
    theta = lo + rng.random((population, len(names))) * (hi - lo)
    d = distance(theta)
    w = np.full(population, 1.0 / population)
    log: list[dict[str, float]] = [{"generation": 0, "epsilon": float("inf"), "acceptance": 1.0,
                                    "ess": float(population), "evaluations": population}]
    evaluations = population
    bar = tqdm(total=generations, desc="posterior", unit="gen", disable=not progress)
    for t in range(1, generations + 1):
        epsilon = float(_weighted_quantile(d, w, quantile))
        kernel = MultivariateNormalTransition()
        kernel.fit(pd.DataFrame(theta, columns=list(names)), w)
        accepted_theta: list[np.ndarray] = []
        accepted_d: list[np.ndarray] = []
        proposed, n_accepted = 0, 0
        while n_accepted < population:
            candidates = kernel.rvs(batch).to_numpy()
            inside = np.all((candidates >= lo) & (candidates <= hi), axis=1)
            candidates = candidates[inside]
            proposed += batch
            if len(candidates):
                dist = distance(candidates)
                evaluations += len(candidates)
                keep = dist <= epsilon
                accepted_theta.append(candidates[keep])
                accepted_d.append(dist[keep])
                n_accepted += int(keep.sum())
            if proposed > population / min_acceptance:
                break
        new_theta = np.concatenate(accepted_theta)[:population]
        new_d = np.concatenate(accepted_d)[:population]
        acceptance = len(new_theta) / proposed
        if len(new_theta) < population:  # the threshold has stopped falling: keep the last generation
            log.append({"generation": t, "epsilon": epsilon, "acceptance": acceptance, "ess": float("nan"),
                        "evaluations": evaluations, "stopped": 1.0})
            break
        # importance weights: uniform prior over the kernel's mixture density
        density = kernel.pdf(pd.DataFrame(new_theta, columns=list(names)))
        w = 1.0 / np.maximum(np.asarray(density, dtype=float), 1e-300)
        w /= w.sum()
        theta, d = new_theta, new_d
        log.append({"generation": t, "epsilon": epsilon, "acceptance": acceptance, "ess": float(1.0 / np.sum(w**2)),
                    "evaluations": evaluations})
        bar.update(1)
        bar.set_postfix(epsilon=f"{epsilon:.4f}", acceptance=f"{acceptance:.2f}")
    bar.close()
    return Posterior(names, theta, w, d, {"generations": log, "evaluations": evaluations})


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
