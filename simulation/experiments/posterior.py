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
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.engine.params import Parameters
from simulation.engine.shocks import stream
from simulation.errors import InputError, read_text_file

#: The committed posterior (written by `simulation posterior ... --write-baseline`).
POSTERIOR = Path(__file__).resolve().parents[1] / "data" / "posterior.json"

#: Most samples a posterior file may hold (`posterior --population` writes at most 20,000), and the
#: largest parameter file read (a 20,000-sample posterior of every weight is about 20 MB).
MAX_SAMPLES = 100_000
MAX_FILE_BYTES = 256 * 2**20
#: The keys a posterior file may have (`Posterior.to_json`); the first three are needed.
_POSTERIOR_KEYS = ("names", "samples", "weights", "distances", "diagnostics")


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
        """A posterior file, checked whole (`read_parameter_file`); InputError names what is wrong."""
        read = read_parameter_file(path)
        if not isinstance(read, Posterior):
            raise InputError("expected a posterior (names, samples, weights), not a parameter record", file=path)
        return read

    @classmethod
    def point(cls, params: Parameters) -> Posterior:
        """A posterior of one repeated point: runs drawn from it equal runs of the point."""
        names = Parameters.fitted()
        return cls(names, np.array([[float(getattr(params, n)) for n in names]]), np.ones(1), np.zeros(1))


def _finite(x: object) -> float | None:
    """A JSON number as a finite float, or None (a bool, text, null, NaN, infinity, or an integer too
    large for a float, is not one)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    try:
        value = float(x)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _weight(path: Path, where: str, name: str, value: object) -> float:
    """One parameter's value from a file: a finite number inside the parameter's documented bounds."""
    lo, hi = Parameters.bounds()[name]
    number = _finite(value)
    if number is None or not lo <= number <= hi:
        raise InputError(f"{name} must be a finite number in [{lo:g}, {hi:g}], got {_show(value)}", file=path, field=where)
    return number


def _non_negative(path: Path, key: str, what: str, value: object, length: int) -> np.ndarray:
    """A list of `length` finite numbers, each at least 0 (draw weights, distances)."""
    out = np.empty(length)
    for i, item in enumerate(_list(path, key, value, length)):
        number = _finite(item)
        if number is None or number < 0:
            raise InputError(f"{what} must be a finite number, at least 0, got {_show(item)}", file=path,
                             field=f"{key}[{i}]")
        out[i] = number
    return out


def _list(path: Path, where: str, value: object, length: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"expected a list, got {type(value).__name__}", file=path, field=where)
    if length is not None and len(value) != length:
        raise InputError(f"has {len(value)} entries; expected {length}", file=path, field=where)
    return value


def _read_posterior(path: Path, data: dict[str, Any]) -> Posterior:
    unknown = sorted(set(data) - set(_POSTERIOR_KEYS))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} (a posterior has {', '.join(_POSTERIOR_KEYS)})", file=path,
                         field=unknown[0])
    for key in _POSTERIOR_KEYS[:3]:
        if key not in data:
            raise InputError(f"missing (a posterior needs {', '.join(_POSTERIOR_KEYS[:3])})", file=path, field=key)
    bounds, input_stage = Parameters.bounds(), set(Parameters.input_stage())
    names = _list(path, "names", data["names"])
    if not names:
        raise InputError("lists no parameter", file=path, field="names")
    for k, name in enumerate(names):
        if not isinstance(name, str) or name not in bounds:
            raise InputError(f"unknown parameter {_show(name)}", file=path, field=f"names[{k}]")
        if name in input_stage:
            raise InputError(f"{name} acts when the inputs are built, so runs cannot draw it; set it in the "
                             "scenario's parameters", file=path, field=f"names[{k}]")
        if name in names[:k]:
            raise InputError(f"{name} is named twice", file=path, field=f"names[{k}]")
    rows = _list(path, "samples", data["samples"])
    if not 1 <= len(rows) <= MAX_SAMPLES:
        raise InputError(f"holds {len(rows)} samples; 1..{MAX_SAMPLES} are needed", file=path, field="samples")
    for i, row in enumerate(rows):
        _list(path, f"samples[{i}]", row, len(names))
    if {type(value) for row in rows for value in row} <= {float}:  # as `to_json` writes them: read at once
        samples = np.array(rows, dtype=float)
    else:  # NaN where a value is not a finite number (a bool, text, null, an integer too large)
        samples = np.array([[np.nan if (v := _finite(value)) is None else v for value in row] for row in rows])
    samples = samples.reshape(len(rows), len(names))
    lo, hi = (np.array([bounds[n][k] for n in names]) for k in (0, 1))
    bad = np.argwhere(~(np.isfinite(samples) & (samples >= lo) & (samples <= hi)))
    if len(bad):
        i, j = (int(k) for k in bad[0])
        _weight(path, f"samples[{i}][{j}]", names[j], rows[i][j])  # raises, saying which bound
    weights = _non_negative(path, "weights", "a draw weight", data["weights"], len(rows))
    with np.errstate(over="ignore"):
        total = float(weights.sum())
    if not math.isfinite(total):  # every weight is finite, their sum need not be
        weights = weights / weights.max()
        total = float(weights.sum())
    if not total > 0:
        raise InputError("every draw weight is 0; at least one must be positive", file=path, field="weights")
    if abs(total - 1.0) > 1e-9:  # relative weights; a file whose weights sum to 1 is used exactly as written
        weights = weights / total
    distances = (_non_negative(path, "distances", "a distance", data["distances"], len(rows)) if "distances" in data
                 else np.zeros(len(rows)))
    diagnostics = data.get("diagnostics", {})
    if not isinstance(diagnostics, dict):
        raise InputError("expected an object", file=path, field="diagnostics")
    return Posterior(tuple(names), samples, weights, distances, diagnostics)


def _read_point(path: Path, values: object) -> dict[str, float]:
    if not isinstance(values, dict) or not values:
        raise InputError("expected a non-empty object of parameter values", file=path, field="parameters")
    point: dict[str, float] = {}
    for name, value in values.items():
        if name not in Parameters.bounds():
            raise InputError(f"unknown parameter {name!r}", file=path, field=f"parameters.{name}")
        point[name] = _weight(path, f"parameters.{name}", name, value)
    return point


def _read_json(path: Path) -> object:
    """A JSON file a user gave, read whole (errors.read_text_file: a regular UTF-8 file of at most
    MAX_FILE_BYTES) and parsed with duplicate keys refused."""
    text = read_text_file(path, "parameter file", MAX_FILE_BYTES)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=path, line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not a valid parameter file: {exc}", file=path) from None


def read_parameter_record(path: Path) -> dict[str, float]:
    """The `parameters` object of a record (a run's parameters.json, calibrated.json), each name a
    parameter and each value a finite number inside its documented bounds."""
    data = _read_json(path)
    if not isinstance(data, dict) or "parameters" not in data:
        raise InputError("expected an object with a 'parameters' object", file=path, field="parameters")
    return _read_point(path, data["parameters"])


def read_parameter_file(path: Path) -> Posterior | dict[str, float]:
    """A parameter file, checked whole before any run; InputError names the file and the key.

    Two shapes are read: a posterior (`Posterior.to_json`: `names`, `samples` (M rows of one value
    per name), `weights` (M draw weights, relative: finite, at least 0, not all 0), optional
    `distances` and `diagnostics`), returned as a Posterior; or a parameter record with a
    `parameters` object of name -> value (`calibrated.json`, a run's `parameters.json`; its other
    keys are left alone), returned as that mapping. Every name must be a parameter and every value
    a finite number inside its documented bounds (`Parameters.bounds()`). Parameters that act when
    the inputs are built cannot be drawn per run, nor changed from the calibration by a record."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object (a posterior or a parameter record), got a {type(data).__name__}",
                         file=path)
    if any(key in data for key in _POSTERIOR_KEYS[:3]):
        return _read_posterior(path, data)  # (which refuses a 'parameters' key beside them)
    if "parameters" in data:
        point = _read_point(path, data["parameters"])
        base = Parameters.baseline()
        for name in Parameters.input_stage():
            if name in point and point[name] != getattr(base, name):
                raise InputError(f"{name} acts when the inputs are built, so --parameters cannot change it from "
                                 f"{getattr(base, name)!r}; set it in the scenario's parameters", file=path,
                                 field=f"parameters.{name}")
        return point
    raise InputError("expected a posterior (names, samples, weights) or a parameter record (parameters)", file=path)


@dataclass(frozen=True)
class ParameterSource:
    """Where a batch of runs takes its weights: the calibrated point, one posterior draw per run,
    chosen by the run's seed (so that two scenarios run with the same seeds share their draws), or
    the values of a parameter record (`point`) in place of the calibrated ones."""

    posterior: Posterior | None = None
    label: str = "point"
    point: dict[str, float] | None = None

    def for_runs(self, params: Parameters, seeds: list[int], keep: tuple[str, ...] = ()) -> Parameters:
        """`params` for a batch of `seeds`, with the posterior's weights drawn per run (or the record's
        values); weights named in `keep` (a scenario's own overrides) keep their value."""
        if self.point is not None:
            return params.with_overrides({n: v for n, v in self.point.items() if n not in set(keep)})
        if self.posterior is None:
            return params
        names = [n for n in self.posterior.names if n not in set(keep)]
        columns = [self.posterior.names.index(n) for n in names]
        return params.vary(names, self.posterior.samples[self.posterior.draws_for(seeds)][:, columns])

    def fixed(self, params: Parameters, keep: tuple[str, ...] = ()) -> Parameters:
        """The weights every run of the batch shares: a record's values in place of `params`' (a
        scenario's own overrides, `keep`, kept), else `params`; what a run's parameters.json records."""
        return self.for_runs(params, [], keep) if self.point is not None else params

    @classmethod
    def parse(cls, spec: str) -> ParameterSource:
        """'point' (the calibrated weights), 'posterior' (the committed posterior) or a parameter file
        (a posterior or a parameter record), checked whole (`read_parameter_file`)."""
        if spec == "point":
            return cls()
        path = POSTERIOR if spec == "posterior" else Path(spec)
        label = "posterior" if spec == "posterior" else str(path)
        read = read_parameter_file(path)
        if isinstance(read, Posterior):
            return cls(read, label)
        return cls(label=label, point=read)


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
