"""Instruments: what each state does toward each other state, chosen each year from its stances.

Arms supplied or denied, sanctions imposed or waived, aid and investment given, troops sent or
hosted by invitation, exercises held together. These were inputs once (timeline events); they are
the agents' choices now, and they enter the next year's perceptions (docs/theory.md §5): supply
and its installed base in `interest`, sanctions as grievance and as a cut channel, invited troops
as power projection and as a stake (`engine.dynamics.perceive`).

Row-wise: a chooser's offers depend only on its own row of stances (its own stance toward each
partner) and on public facts, so a Mesa agent computing its row gets exactly the batch's row. Shapes:
`(B, R, N)` for the R choosing rows (R = N in a batch), per-chooser values `(B, R, 1)`, per-partner
values `(B, 1, N)`; `others` is 1 where the partner is another state, 0 on the chooser itself
(`(R, N)`: a row's diagonal cell is not at the row's index when R < N). Flows are settled from
offers and acceptances (`arms_shares`, `mutual`), as an alignment is settled from stances.
"""

from __future__ import annotations

import numpy as np

from simulation.rules.types import Array, Weight


def willingness(stance: Array, openness: Weight) -> Array:
    """w in [0, 1]: how far a state is willing to deal with a partner at a stance: 0 at a stance of
    -openness or below, openness / (1 + openness) at a neutral stance, 1 with a close ally.
    `openness` > 0 lets states trade at arm's length (commercial arms sales; Kinsella 1994)."""
    return np.clip((stance + openness) / (1.0 + openness), 0.0, 1.0)


def warmth(stance: Array, threshold: Weight) -> Array:
    """In [0, 1]: how far a stance exceeds `threshold`, rescaled (0 at or below it, 1 at +1)."""
    return np.clip((stance - threshold) / (1.0 - threshold), 0.0, 1.0)


def sanctions(others: Array, stance: Array, gdp_self: Array, gdp_other: Array, mandate: Array, imposed: Array,
              threshold: Weight, waiver_stance: Weight) -> Array:
    """s[b, i, j] in [0, 1]: the share of i's arms and aid supply to j that i cuts.

    Drezner (1999, The Sanctions Paradox, ch. 2): sanctions come from adversaries, in proportion to
    the sanctioner's economic leverage, and are lifted when the relation improves. i sanctions j when
    its stance toward j is hostile beyond `threshold`, scaled by its share of the pair's GDP.
    A law of i that mandates a cut after a trigger outside the pair (`mandate`: Symington, Glenn)
    binds unless i waives it, fully at a stance of `waiver_stance` (the national-interest waivers of
    1981 and 2001: the waiver, not the law, is the choice). A multilateral decision (`imposed`)
    holds whatever i's stance. Elementwise in i's row.
    """
    hostility = np.clip((-stance - threshold) / (1.0 - threshold), 0.0, 1.0)
    leverage = gdp_self / np.maximum(gdp_self + gdp_other, 1e-12)
    waived = mandate * (1.0 - np.clip(stance / waiver_stance, 0.0, 1.0))
    return others * np.maximum(np.maximum(hostility * leverage, waived), imposed)


def arms_offer(others: Array, stance: Array, capacity: Array, sanction: Array, openness: Weight) -> Array:
    """o[b, i, j] >= 0: what supplier i offers j: its capacity on the arms market times its
    willingness to arm j, less what it cuts by sanction.

    A patron arms the clients it wants to support, and sells at arm's length to states it is not
    hostile to: arms follow the stance. Yarhi-Milo, Lanoszka & Cooper (2016, International Security
    41(2)) see arming as a substitute for alliance; that choice between the two is not modelled.
    """
    return others * capacity * willingness(stance, openness) * (1.0 - sanction)


def arms_acceptance(others: Array, stance: Array, openness: Weight) -> Array:
    """a[b, j, i] in [0, 1]: buyer j's willingness to buy from i (a buyer must want to buy: no
    state arms itself from a rival)."""
    return others * willingness(stance, openness)


def arms_shares(offer: Array, acceptance: Array, outside: Array) -> Array:
    """m[b, i, j] in [0, 1): the share of j's arms imports supplied by i.

    Supply i -> j is i's offer times j's acceptance of i; the rest of the world (suppliers outside
    the six) offers `outside[b, j]` (less where a multilateral sanction closes it). Each recipient's
    shares of the six and the outside sum to 1; its need (`interest.arms_need`) sets the volume.
    """
    flow = offer * np.swapaxes(acceptance, 1, 2)  # [i, j]
    total = flow.sum(axis=1) + outside  # (B, N): per recipient j
    return flow / np.maximum(total, 1e-12)[:, None, :]


def installed_base(previous: Array, shares: Array, persistence: Weight) -> Array:
    """k[b, i, j] in [0, 1]: the share of j's forces built by supplier i, a stock that decays as
    equipment ages out and grows with this year's supply. Past choices bind: spares, training and
    doctrine tie a buyer to its supplier for decades (India's Soviet-built arms)."""
    return persistence * previous + (1.0 - persistence) * shares


def aid_offer(others: Array, stance: Array, capacity: Array, need: Array, sanction: Array) -> Array:
    """g[b, i, j] >= 0: aid and investment i offers j: i's capacity (large, rich) times j's need
    (poor) times i's warmth toward j (aid follows alliance: Morgenthau 1962, 'A Political Theory of
    Foreign Aid', APSR 56(2); Alesina & Dollar 2000, J. of Economic Growth 5), less i's sanctions."""
    return others * capacity * need * np.clip(stance, 0.0, 1.0) * (1.0 - sanction)


def mutual(offer: Array, acceptance: Array) -> Array:
    """f[b, i, j] = offer[i, j] x acceptance[j, i]: a flow happens when the giver offers and the
    receiver accepts."""
    return offer * np.swapaxes(acceptance, 1, 2)


def invitation(others: Array, stance: Array, threat: Array, alignment: Array, threshold: Weight) -> Array:
    """v[b, j, i] in [0, 1]: host j invites i's troops when j's stance toward i is warm beyond
    `threshold` and j faces a threat that i openly opposes (Walt 1987 ch. 5; Lake 2009,
    Hierarchy in International Relations, ch. 3: bases by invitation). `threat` and `alignment` are
    j's own row and last year's public alignments (B, N, N)."""
    hostile = np.clip(-alignment, 0.0, 1.0)  # [i, k]: i openly opposes k
    shared = np.zeros(np.broadcast_shapes(stance.shape, threat.shape))
    for k in range(threat.shape[-1]):  # max over k of threat[j, k] * hostile[i, k]
        np.maximum(shared, threat[:, :, k, None] * hostile[:, None, :, k], out=shared)
    return others * warmth(stance, threshold) * np.clip(shared, 0.0, 1.0)


def deployment(others: Array, stance: Array, reach: Array, threshold: Weight) -> Array:
    """d[b, i, j] in [0, 1]: guest i's readiness to station forces in j: its warmth toward j times
    its reach (military spending relative to the largest)."""
    return others * warmth(stance, threshold) * reach


def exercise_offer(others: Array, stance: Array, threat: Array, partner_threat: Array, threshold: Weight) -> Array:
    """x[b, i, j] in [0, 1]: i's readiness to exercise with j: warmth times the largest threat the
    two share (min of i's and j's threat from a third state k). Exercises are settled as the mutual
    part of both offers (`np.minimum` with the transpose), like an alignment."""
    shared = np.zeros(np.broadcast_shapes(stance.shape, threat.shape))
    for k in range(threat.shape[-1]):
        np.maximum(shared, np.minimum(threat[:, :, k, None], partner_threat[:, None, :, k]), out=shared)
    return others * warmth(stance, threshold) * np.clip(shared, 0.0, 1.0)
