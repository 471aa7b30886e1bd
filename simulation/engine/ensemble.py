"""Many runs at once: the same rules as the Mesa model, stepped with a batch axis of runs.

Run b with seed s draws exactly the shocks the Mesa model draws for seed s, so an ensemble row
equals the Mesa run (tests/test_model.py checks this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.engine import dynamics
from simulation.engine.inputs import Inputs
from simulation.engine.params import Parameters
from simulation.engine.shocks import stance_shocks


@dataclass(frozen=True)
class Ensemble:
    """Series of B runs: alignment and threat are (B, T, N, N)."""

    seeds: tuple[int, ...]
    years: np.ndarray
    alignment: np.ndarray
    threat: np.ndarray


def shocks_for(seeds: Sequence[int], years: np.ndarray) -> np.ndarray:
    """(B, T, N, N): each seed's stance shocks for calendar `years`, the numbers its Mesa run draws."""
    return np.swapaxes(stance_shocks(seeds, years), 0, 1)


def simulate(inputs: Inputs, params: Parameters, seeds: Sequence[int],
             shocks: np.ndarray | None = None, keep_threat: bool = True) -> Ensemble:
    """Run len(seeds) runs of the same inputs and parameters in one batch."""
    B, T, N = len(seeds), inputs.n_years, inputs.capability.shape[1]  # N: six, or a synthetic world's
    by_year = (stance_shocks(seeds, inputs.years, N) if shocks is None
               else np.ascontiguousarray(np.swapaxes(shocks, 0, 1)))  # (T, B, N, N): each year contiguous
    zeros = np.zeros((B, N, N))
    state = dynamics.State(np.broadcast_to(inputs.initial_intent, zeros.shape).copy(), zeros, zeros)
    # stored year-major, so each year's write is contiguous; returned as (B, T, N, N) views
    alignment = np.empty((T, B, N, N))
    threat = np.empty((T, B, N, N)) if keep_threat else np.empty((0, 0))
    for t in range(T):
        state, year = dynamics.step(state, inputs.year(t), params, by_year[t], first_year=t == 0)
        alignment[t] = state.alignment
        if keep_threat:
            threat[t] = year.seen.threat
    return Ensemble(tuple(seeds), inputs.years, np.swapaxes(alignment, 0, 1), np.swapaxes(threat, 0, 1))
