"""Statistical baselines: curve fits on the same inputs the model reads, trained on the same years.

A theory earns its keep out of sample only if it beats what a new user would fit without it. These
baselines see exactly what the rules see (the `Inputs` of `engine/series.py`, after the timeline)
and the documented levels of the fitted years, nothing else:

- features per pair-year (`pair_year_features`), one or two per series of the input schema, so they
  follow the model's inputs: both states' per-state series (capability, military share, log GDP
  and GDP per person, arms export share, nuclear status, aggression outside the six, regime change,
  energy need and supply, ...); every per-pair series both ways (acts, also last year's and as a
  decayed memory, `ACT_MEMORY` a year; presence, sanctions, dispute, contiguity, ...); the
  ideological distance of the two regimes, log distance, and the intent inherited from pre-1947
  rivalries;
- the target: the documented level of the pair-year (`targets.csv`), on the fitted years only;
- ridge regression with pair fixed effects (standardised features plus a one-hot pair) and
  gradient boosting (scikit-learn's histogram gradient boosting, fixed `random_state`, the pair one-hot
  among its features), both clipped to [-1, 1];
- the last fitted year's documented levels held, plus yearly N(0, sigma) noise (sigma = the model's
  stance noise), over several seeds: a persistence that cannot earn shift credit by rounding.

Every baseline returns (B, T, N, N) alignments, scored by `score.score` exactly like the model.
No year or trend is a feature: a fit that extrapolated calendar time would not be reading inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulation.engine.series import Inputs, schema
from simulation.experiments.score import TargetCells
from simulation.states import N_STATES, PAIR_A, PAIR_B, PAIRS

#: Share of last year's remembered acts kept each year in the decayed-acts feature (about the
#: model's fitted intent memory, 0.69).
ACT_MEMORY = 0.7
#: Ridge penalty on standardised features (pair effects included); small, since the design is tall.
RIDGE_ALPHA = 1.0
#: Gradient boosting (scikit-learn's HistGradientBoostingRegressor): its defaults with a fixed seed.
#: It runs on one thread: on a shared 2-core machine OpenMP's threads slow it 50-fold.
BOOSTING = {"max_iter": 100, "learning_rate": 0.1, "random_state": 0}
#: The statistical fits this module provides, by the name the reports use.
STATISTICAL = ("ridge_pair_effects", "gradient_boosting")

def pair_year_features(inputs: Inputs) -> tuple[np.ndarray, tuple[str, ...]]:
    """(T, P, F) features of every pair-year (P = 15 pairs in `PAIRS` order) and their names, built
    from the input schema (`engine/series.py`), so a series added to or removed from the model's
    inputs is added to or removed from the baselines' too. Per-state series give `NAME_a` and
    `NAME_b` (unbounded ones, GDP, as `log_NAME_*`); per-pair series both ways, `NAME_ab` (from a to
    b: directed arrays read x[t, j, i] = from j to i, so this is x[t, a, b]) and `NAME_ba`; acts also last year's and
    remembered (`ACT_MEMORY`); ideology as the distance between the two regimes; distance as its log;
    and the intent inherited from rivalries older than the start."""
    a, b = PAIR_A, PAIR_B
    T = inputs.n_years
    columns: dict[str, np.ndarray] = {}
    for name, meta in schema().items():
        x = np.asarray(getattr(inputs, name), dtype=float)
        if meta["per"] == "state":
            if meta["bounds"][1] == float("inf"):
                x, name = np.log1p(x), f"log_{name}"
            columns[f"{name}_a"], columns[f"{name}_b"] = x[:, a], x[:, b]
        elif meta["per"] == "pair":
            series = [(name, x)]
            if name == "acts":
                lagged = np.concatenate([np.zeros_like(x[:1]), x[:-1]])
                memory = np.zeros_like(x)
                for t in range(T):
                    memory[t] = x[t] + (ACT_MEMORY * memory[t - 1] if t else 0.0)
                series += [("acts_lag", lagged), ("acts_memory", memory)]
            for label, y in series:
                columns[f"{label}_ab"], columns[f"{label}_ba"] = y[:, a, b], y[:, b, a]
        elif meta["per"] == "ideology":
            columns["ideology_distance"] = np.linalg.norm(x[:, a] - x[:, b], axis=-1)
        else:  # static (N, N): distance between capitals
            columns[f"log_{name}"] = np.broadcast_to(np.log1p(x[a, b]), (T, len(PAIRS)))
    intent = np.asarray(inputs.initial_intent, dtype=float)
    columns["initial_intent_ab"] = np.broadcast_to(intent[b, a], (T, len(PAIRS)))
    columns["initial_intent_ba"] = np.broadcast_to(intent[a, b], (T, len(PAIRS)))
    names = tuple(columns)
    return np.stack([columns[n] for n in names], axis=-1), names


def _design(features: np.ndarray, t: np.ndarray, pair: np.ndarray, effects: bool) -> np.ndarray:
    x = features[t, pair]
    if not effects:
        return x
    onehot = np.zeros((len(pair), len(PAIRS)))
    onehot[np.arange(len(pair)), pair] = 1.0
    return np.concatenate([x, onehot], axis=1)


def _as_series(pred: np.ndarray) -> np.ndarray:
    """(T, P) pair predictions -> (1, T, N, N) symmetric alignments, clipped to [-1, 1]."""
    out = np.zeros((1, pred.shape[0], N_STATES, N_STATES))
    clipped = np.clip(pred, -1.0, 1.0)
    out[0][:, PAIR_A, PAIR_B] = clipped
    out[0][:, PAIR_B, PAIR_A] = clipped
    return out


def fit_predict(method: str, features: np.ndarray, train: TargetCells) -> np.ndarray:
    """Train `method` (one of STATISTICAL) on the cells `train` (their pair-years and documented
    levels) and predict every pair-year: (1, T, N, N) alignments."""
    T, P = features.shape[:2]
    all_t, all_p = np.repeat(np.arange(T), P), np.tile(np.arange(P), T)
    if method == "ridge_pair_effects":
        from sklearn.linear_model import Ridge

        x = features[train.t, train.pair]
        mean, sd = x.mean(axis=0), x.std(axis=0)
        sd = np.where(sd > 1e-12, sd, 1.0)  # a series constant over the fitted years carries nothing

        def scaled(t: np.ndarray, p: np.ndarray) -> np.ndarray:
            return _design((features - mean) / sd, t, p, effects=True)

        model = Ridge(alpha=RIDGE_ALPHA).fit(scaled(train.t, train.pair), train.level)
        pred = model.predict(scaled(all_t, all_p))
    elif method == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            model = HistGradientBoostingRegressor(**BOOSTING).fit(_design(features, train.t, train.pair, True),
                                                                  train.level)
            pred = model.predict(_design(features, all_t, all_p, True))
    else:
        raise ValueError(f"unknown statistical baseline {method!r}; choose from {', '.join(STATISTICAL)}")
    return _as_series(pred.reshape(T, P))


def statistical_baselines(inputs: Inputs, train: TargetCells) -> dict[str, np.ndarray]:
    """Every statistical fit, trained on `train`, as (1, T, N, N) alignments by name."""
    features, _ = pair_year_features(inputs)
    return {m: fit_predict(m, features, train) for m in STATISTICAL}


def persistence_with_jitter(held: np.ndarray, from_index: int, seeds: Sequence[int], sigma: float) -> np.ndarray:
    """(B, T, N, N): the levels of (T, N, N) `held` at year index `from_index` kept for every later
    year, plus yearly N(0, sigma) noise per pair, one seed per run (years up to `from_index` are the
    series itself, noiseless), clipped to [-1, 1]."""
    T = held.shape[0]
    out = np.broadcast_to(np.nan_to_num(held), (len(seeds), *held.shape)).copy()
    later = T - from_index - 1
    for b, s in enumerate(seeds):
        noise = np.random.default_rng(s).normal(0.0, sigma, (later, len(PAIRS)))
        level = np.nan_to_num(held[from_index])[PAIR_A, PAIR_B]
        run = out[b]  # a view; its last two axes stay adjacent, so run[t0:, A, B] is (years, pairs)
        run[from_index + 1:, PAIR_A, PAIR_B] = run[from_index + 1:, PAIR_B, PAIR_A] = np.clip(level + noise, -1, 1)
    return out
