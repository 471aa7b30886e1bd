"""Material self-interest: what makes a partner valuable apart from threat (Kosar 2024 §1.8.4;
Abbasi 2022 §4.2.1; docs/theory.md §5).

Arms, aid, energy and markets: a state values a partner that can supply what it needs and a
partner that needs what it can supply; and it values what past choices have built between them
(an installed base of arms, aid, invited troops). Sanctions cut the supply channel.
"""

from __future__ import annotations

import numpy as np

from simulation.rules.pairs import clear_diagonal, row_max
from simulation.rules.types import IDEOLOGY_AXES, Array, Weight


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


def self_interest(arms_need: Array, arms_capacity: Array, aid_need: Array, aid_capacity: Array,
                  energy_need: Array, energy_supply: Array, sanction: Array, installed_base: Array,
                  aid: Array, presence: Array, base_weight: Weight, stake_weight: Weight) -> Array:
    """v[b, i, j] >= 0: the material value of j to i.

    What j could supply: i gains from buying arms and aid from j (cut by j's sanctions on i) and
    from selling arms to j (its market, cut by i's own sanctions on j), and from energy trade either
    way. What the two have done: j's arms in i's forces, and i's in j's (`installed_base[b, j, i]`,
    the share of i's forces built by j: spares and training bind buyer and seller), and last year's
    aid and invited troops either way (a donor's and a guest's stake, a recipient's and a host's
    benefit). `sanction`, `installed_base`, `aid` and `presence` read [from, to]; they are the agents'
    own choices of earlier years (rules.instruments), never inputs.
    """
    open_from_j = 1.0 - np.swapaxes(sanction, 1, 2)  # [i, j]: j still supplies i
    open_to_j = 1.0 - sanction  # [i, j]: i still supplies j
    buy = (arms_need[:, :, None] * arms_capacity[:, None, :] + aid_need[:, :, None] * aid_capacity[:, None, :]) * open_from_j
    sell = arms_capacity[:, :, None] * arms_need[:, None, :] * open_to_j
    energy = energy_need[:, :, None] * energy_supply[:, None, :] + energy_supply[:, :, None] * energy_need[:, None, :]
    bound = base_weight * (np.swapaxes(installed_base, 1, 2) + installed_base)
    stake = stake_weight * (np.swapaxes(aid, 1, 2) + aid + np.swapaxes(presence, 1, 2) + presence)
    return clear_diagonal(buy + sell + energy + bound + stake)


def market_orientation(ideology: Array) -> Array:
    """(B, N) in [0, 1]: how far each economy is a market economy, from the regime's position on the
    economy axis of ideology space (-1 planned, +1 market; docs/theory.md §2.7)."""
    return (ideology[..., IDEOLOGY_AXES.index("economy")] + 1.0) / 2.0


def trade_dependence(gdp: Array, distance_km: Array, market: Array) -> Array:
    """g[b, i, j] in [0, 1): j's share of the trade a gravity model predicts for i among the six, as
    far as both are market economies.

    Trade between two economies grows with their product and falls with the distance between them
    (Tinbergen 1962; distance elasticity about 1: Head & Mayer 2014), so i's expected trade with j
    is proportional to gdp_j / distance_ij. Expected gains from trade raise the cost of hostility
    (Russett & Oneal 2001); observed trade is shaped by alignment (Gowa & Mansfield 1993), so the
    model reads the trade that size and distance predict, never the trade that happened. Planned
    economies trade by the plan, not by size and distance (Holzman 1974, Foreign Trade under
    Central Planning), and it is markets that put gains from trade at stake in a relation
    (Gartzke 2007, "The Capitalist Peace", AJPS 51(1); McDonald 2009, The Invisible Hand of Peace),
    so the share counts as far as both economies are market ones: times `market[b, i] x market[b, j]`
    (`market_orientation`). docs/theory.md §8.5.
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # the diagonal's zero distance is cleared below
        pull = clear_diagonal(gdp[:, None, :] / distance_km)
    share = pull / np.maximum(pull.sum(axis=2, keepdims=True), 1e-300)
    return market[:, :, None] * market[:, None, :] * share
