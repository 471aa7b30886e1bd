"""Aggregate power, geography and polarity (Walt 1987 ch. 2; Waltz 1979 ch. 8; Boulding 1962)."""

from __future__ import annotations

import numpy as np

from simulation.rules.pairs import clear_diagonal
from simulation.rules.types import Array, Weight


def relative_power(capability: Array) -> Array:
    """r[b, i, j] = cap_j / (cap_i + cap_j): how strong j is from i's standpoint, in (0, 1)."""
    ci = capability[:, :, None]
    cj = capability[:, None, :]
    return cj / np.maximum(ci + cj, 1e-12)


def proximity(distance_km: Array, contiguity: Array, presence: Array, capability: Array,
              milex_share: Array, reach_km: Weight, global_reach: Weight) -> Array:
    """p[b, i, j]: how much of j's power reaches i, in [0, 1].

    Power decays with distance (Boulding's loss-of-strength gradient) over a reach that grows with
    j's capability; a shared border gives full proximity; j's forces stationed in a neighbour k of i
    bring j to i's border (the USSR in Afghanistan, 1979-89; the US, 2001-21); and a state with the
    military spending for fleets, bases and missiles projects some power everywhere (the superpowers).
    """
    strongest = capability.max(axis=1, keepdims=True)
    reach = reach_km * np.sqrt(capability / strongest)  # (B, N): j's reach
    decay = np.exp(-distance_km[None, :, :] / np.maximum(reach[:, None, :], 1e-9))
    # presence[b, j, k] (j's forces in k) x contiguity[b, k, i] -> j at i's border through k
    # (B, j, i), as a running maximum over k (all terms >= 0; numpy reduces a 6-long axis slowly)
    through = np.zeros(np.broadcast_shapes(presence.shape, contiguity.shape))
    for k in range(presence.shape[-1]):
        np.maximum(through, presence[:, :, k, None] * contiguity[:, None, k, :], out=through)
    via_presence = np.swapaxes(through, 1, 2)
    worldwide = global_reach * milex_share[:, None, :]
    return clear_diagonal(np.maximum(np.maximum(np.maximum(decay, contiguity), via_presence), worldwide))


def bipolarity(capability: Array) -> Array:
    """How far the third power trails the second: 1 - c3/c2, in [0, 1] (Waltz: two poles vs. many)."""
    top = -np.sort(-capability, axis=1)
    return 1.0 - top[:, 2] / np.maximum(top[:, 1], 1e-12)


def poles(capability: Array) -> Array:
    """1 for the pair of the two strongest states, 0 elsewhere (B, N, N)."""
    order = np.argsort(-capability, axis=1, kind="stable")
    b = np.arange(capability.shape[0])
    out = np.zeros(capability.shape + capability.shape[1:])
    out[b, order[:, 0], order[:, 1]] = 1.0
    out[b, order[:, 1], order[:, 0]] = 1.0
    return out


def self_reliance(capability: Array, threat: Array) -> Array:
    """Internal balancing: i's strength against its main threat, cap_i / (cap_i + cap_k*), in (0, 1).

    A state that can match its main threat alone leans on arming rather than allies
    (Waltz 1979; Abbasi 2022 §2.2.4 on internal versus external balancing; docs/theory.md §3.4).
    """
    main = np.argmax(threat, axis=2)  # (B, N)
    c_main = np.take_along_axis(capability, main, axis=1)
    return capability / np.maximum(capability + c_main, 1e-12)


def offence(nuclear: Array, milex_share: Array, nuclear_share: Weight) -> Array:
    """Offensive power of each state in [0, 1]: nuclear arms (a share `nuclear_share`) and relative
    military spending (Walt 1987)."""
    return nuclear_share * nuclear + (1.0 - nuclear_share) * milex_share
