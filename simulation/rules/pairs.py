"""Pair matrices: [b, i, j] is something i perceives of, or wants from, j. A state has no relation
with itself, so every such matrix has a zero diagonal."""

from __future__ import annotations

import numpy as np

from simulation.rules.types import Array


def clear_diagonal(x: Array) -> Array:
    """Set the diagonal (i == j) of a (..., N, N) array to 0 in place and return it.

    Only for an array the caller has just computed. Writing N zeros per run is several times faster
    than multiplying the whole matrix by an off-diagonal mask, and the rules do it every year.
    """
    n = x.shape[-1]
    x[..., np.arange(n), np.arange(n)] = 0.0
    return x


def row_max(x: Array) -> Array:
    """Max over the last axis, as a running maximum over the columns: numpy reduces a last axis
    as short as six about ten times slower."""
    out = x[..., 0].copy()
    for k in range(1, x.shape[-1]):
        np.maximum(out, x[..., k], out=out)
    return out
