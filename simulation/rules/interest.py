"""Material self-interest: what makes a partner valuable apart from threat (Kosar 2024 §1.8.4;
Abbasi 2022 §4.2.1; docs/theory.md §5).

Arms, aid, energy and markets: a state values a partner that can supply what it needs and a
partner that needs what it can supply. Sanctions and embargoes cut the supply channel.
"""

from __future__ import annotations

import numpy as np

from simulation.rules.pairs import clear_diagonal, row_max
from simulation.rules.types import Array


def arms_need(threat: Array, self_reliance: Array) -> Array:
    """(B, N): a state threatened beyond its own means needs arms from abroad."""
    return row_max(threat) * (1.0 - self_reliance)


def aid_need(gdp_per_capita: Array) -> Array:
    """(B, N): poorer states need aid and finance more, in [0, 1)."""
    return 1.0 - gdp_per_capita / gdp_per_capita.max(axis=1, keepdims=True)


def aid_capacity(gdp: Array, gdp_per_capita: Array) -> Array:
    """(B, N): large and rich economies can give aid and finance, in (0, 1]."""
    size = gdp / gdp.max(axis=1, keepdims=True)
    wealth = gdp_per_capita / gdp_per_capita.max(axis=1, keepdims=True)
    return size * wealth


def self_interest(arms_need: Array, arms_supply: Array, arms_demand: Array, aid_need: Array,
                  aid_capacity: Array, energy_need: Array, energy_supply: Array,
                  investment: Array, sanction: Array) -> Array:
    """v[b, i, j] >= 0: the material value of j to i.

    i gains from buying arms and aid from j (cut by j's sanctions on i), from selling arms to j
    (cut by i's own sanctions on j), from energy trade either way, and from investment between
    them (BRI/CPEC). `sanction[b, j, i]` and `investment[b, j, i]` read from j to i.
    """
    open_from_j = 1.0 - np.swapaxes(sanction, 1, 2)  # [i, j]: j still supplies i
    open_to_j = 1.0 - sanction  # [i, j]: i still supplies j
    buy = (arms_need[:, :, None] * arms_supply[:, None, :] + aid_need[:, :, None] * aid_capacity[:, None, :]) * open_from_j
    sell = arms_supply[:, :, None] * arms_demand[:, None, :] * open_to_j
    energy = energy_need[:, :, None] * energy_supply[:, None, :] + energy_supply[:, :, None] * energy_need[:, None, :]
    invest = np.swapaxes(investment, 1, 2) + investment
    return clear_diagonal(buy + sell + energy + invest)
