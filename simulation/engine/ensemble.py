"""Many runs at once: the same rules as the Mesa model, stepped with a batch axis of runs.

Run b with seed s draws exactly the shocks the Mesa model draws for seed s, so an ensemble row
equals the Mesa run (tests/test_model.py checks this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from simulation.engine import dynamics
from simulation.engine.inputs import Inputs
from simulation.engine.params import Parameters
from simulation.engine.shocks import stance_shocks


@dataclass(frozen=True)
class Ensemble:
    """Series of B runs: alignment and threat are (B, T, N, N); `instruments` maps the names in
    `keep_instruments` to (B, T, N, N) series of the instruments the states chose."""

    seeds: tuple[int, ...]
    years: np.ndarray
    alignment: np.ndarray
    threat: np.ndarray
    instruments: dict[str, np.ndarray] = field(default_factory=dict)


def shocks_for(seeds: Sequence[int], years: np.ndarray) -> np.ndarray:
    """(B, T, N, N): each seed's stance shocks for calendar `years`, the numbers its Mesa run draws."""
    return np.swapaxes(stance_shocks(seeds, years), 0, 1)


def simulate(inputs: Inputs, params: Parameters, seeds: Sequence[int],
             shocks: np.ndarray | None = None, keep_threat: bool = True,
             keep_instruments: Sequence[str] = ()) -> Ensemble:
    """Run len(seeds) runs of the same inputs and parameters in one batch; keep the threat series
    and the instrument series named in `keep_instruments` (dynamics.INSTRUMENTS)."""
    B, T, N = len(seeds), inputs.n_years, inputs.capability.shape[1]  # N: six, or a synthetic world's
    by_year = (stance_shocks(seeds, inputs.years, N) if shocks is None
               else np.ascontiguousarray(np.swapaxes(shocks, 0, 1)))  # (T, B, N, N): each year contiguous
    zeros = np.zeros((B, N, N))
    state = dynamics.State(np.broadcast_to(inputs.initial_intent, zeros.shape).copy(), zeros, zeros)
    # stored year-major, so each year's write is contiguous; returned as (B, T, N, N) views
    alignment = np.empty((T, B, N, N))
    threat = np.empty((T, B, N, N)) if keep_threat else np.empty((0, 0))
    kept = {name: np.empty((T, B, N, N)) for name in keep_instruments}
    for t in range(T):
        state, year = dynamics.step(state, inputs.year(t), params, by_year[t], first_year=t == 0)
        alignment[t] = state.alignment
        if keep_threat:
            threat[t] = year.seen.threat
        for name, series in kept.items():
            series[t] = getattr(state, name)
    return Ensemble(tuple(seeds), inputs.years, np.swapaxes(alignment, 0, 1), np.swapaxes(threat, 0, 1),
                    {name: np.swapaxes(series, 0, 1) for name, series in kept.items()})
