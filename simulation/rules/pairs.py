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


def through_third(a: Array, b: Array) -> Array:
    """t[b, i, j] = max over third states k of a[i, k] * b[j, k], for a, b >= 0 with zero diagonals.

    How strongly i and j are tied through some k: i's relation to k and j's to k. The security
    dilemma (j the friend of i's rival) and structural balance (j the enemy of i's friend) are both
    this, with other ties. A running maximum over k, since numpy reduces a 6-long axis slowly.
    """
    out = np.zeros(np.broadcast_shapes(a.shape, b.shape))
    for k in range(a.shape[-1]):
        np.maximum(out, a[:, :, k, None] * b[:, None, :, k], out=out)
    return clear_diagonal(out)


def third_terms(a: Array, b: Array) -> Array:
    """p[b, i, j, k] = a[i, k] * b[j, k] (0 for i == j): the terms `through_third` takes the
    maximum of, one per third state k (what `explain` reports as "through whom")."""
    terms = a[:, :, None, :] * b[:, None, :, :]
    n = a.shape[-1]
    terms[:, np.arange(n), np.arange(n)] = 0.0
    return terms
