"""The random-number contract: all of a run's randomness comes from its seed, by purpose and calendar year.

Each purpose has its own stream (a `numpy.random.SeedSequence` of the run's seed with the purpose's
spawn key), so adding a source of randomness never shifts another's numbers. Within a stream the
draws are laid out by calendar year from `CALENDAR_START`: the shock a run gets in 1980 is the same
whether its scenario starts in 1947 or in 1975, so two scenarios run with the same seeds stay
paired year by year (common random numbers). The Mesa model and the ensemble both draw here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulation.rules.types import Array
from simulation.states import N_STATES

#: The first calendar year a stream lays out; no scenario may start before it.
CALENDAR_START = 1947
#: Spawn key of each purpose's stream. The stance shocks keep the root key () so that runs keep
#: the numbers they had before streams were named (the golden baseline and the calibration).
PURPOSES: dict[str, tuple[int, ...]] = {"stance": (), "posterior": (1,)}
#: Seeds are non-negative and below 2**63 (what the ensemble stores them in).
MAX_SEED = 2**63 - 1


def stream(seed: int, purpose: str) -> np.random.Generator:
    """The generator of one run's stream for one purpose."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must lie in 0..2**63-1, got {seed}")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=PURPOSES[purpose]))


def stance_shocks(seeds: Sequence[int], years: np.ndarray, n_states: int = N_STATES) -> Array:
    """(T, B, N, N) standard-normal shocks to each directed stance, year-major (each year contiguous),
    for calendar `years` (consecutive). A batch often repeats a few seeds (a sweep uses the same seeds at
    every point), so each distinct seed is drawn once and copied."""
    first = int(years[0]) - CALENDAR_START
    if first < 0:
        raise ValueError(f"years start in {years[0]}, before the calendar's {CALENDAR_START}")
    distinct, which = np.unique(np.asarray(seeds, dtype=np.int64), return_inverse=True)
    draws = np.empty((len(distinct), first + len(years), n_states, n_states))
    for d, seed in enumerate(distinct):
        stream(int(seed), "stance").standard_normal(out=draws[d])
    draws = draws[:, first:]
    draws[:, :, np.arange(n_states), np.arange(n_states)] = 0.0  # no stance toward oneself
    return np.swapaxes(draws, 0, 1)[:, which.reshape(-1)]
