"""Threat perception: Walt's balance of threat and Waltz's balance of power.

Walt (1987, ch. 2): threat of j to i grows with j's aggregate power, proximity, offensive power and
perceived aggressive intentions. Waltz (1979, ch. 6, 8): states also balance against power as such,
and in a bipolar system the two poles balance each other. Threat = capacity x intent follows
Singer (1958); docs/theory.md §2 sets out the four sources and how they combine.
"""

from __future__ import annotations

import numpy as np

from simulation.rules.pairs import clear_diagonal, through_third
from simulation.rules.types import Array, Weight

#: Largest possible distance between two regimes in ideology space
#: (economy in [-1, 1], religion in [0, 1], polity in [0, 1]).
MAX_IDEOLOGY_DISTANCE = float(np.sqrt(2.0**2 + 1.0 + 1.0))


def update_intent_memory(memory: Array, acts: Array, outside_acts: Array, proximity: Array,
                         persistence: Weight, impact: Weight, spillover: Weight, near_victim: Weight,
                         outside_share: Weight, excused: Array | float = 0.0) -> Array:
    """Perceived aggressive intent of j held by i, after this year's hostile acts, in [0, 1].

    Perceptions fade without new acts and jump after one (docs/theory.md §2.4, Walt's fourth source).
    `acts[b, j, k]` is j's act against k. The victim feels it fully; a third party i feels a share
    `spillover`, more when it is near the victim (a share `near_victim` of it depends on nearness:
    the 1979 invasion alarmed Pakistan most); aggression against a state outside the six is
    witnessed by all at `outside_share` of that share. `excused[b, i, j]` is the share of j's acts
    that i puts down to circumstance (`attribution`): fully for acts it witnesses, and for acts
    against itself as far as it did not answer them in kind.
    """
    direct = np.swapaxes(acts, 1, 2)  # [i, j] = j's act against i
    # witnessed[b, i, j] = max over k != i of acts[j, k] * nearness(i, k), as a running maximum
    # (every term is >= 0, so starting from the outside acts gives the same maximum)
    nearness = clear_diagonal((1.0 - near_victim) + near_victim * proximity)  # [i, k], 0 for k == i
    witnessed = np.broadcast_to(outside_share * outside_acts[:, None, :], np.broadcast_shapes(
        acts.shape, nearness.shape)).copy()
    for k in range(acts.shape[-1]):
        if np.any(acts[..., k]):  # most years few states are attacked; a zero term cannot raise the maximum
            np.maximum(witnessed, nearness[:, :, k, None] * acts[:, None, :, k], out=witnessed)
    # an act answered in kind is a clash, read as hostile whoever the other side is
    answered = np.minimum(acts, direct) / np.maximum(direct, 1e-12)  # [i, j]: i's act against j, per unit of j's
    direct = direct * (1.0 - excused * (1.0 - answered))
    new = persistence * memory + impact * (direct + spillover * witnessed * (1.0 - excused))
    return np.clip(clear_diagonal(new), 0.0, 1.0)


def attribution(alignment: Array, weight: Weight) -> Array:
    """x[b, i, j] in [0, 1]: the share of j's hostile acts that i puts down to circumstance.

    Observers read a rival's force as disposition and a partner's as forced by events (Jervis 1976,
    ch. 8; Mercer 1996, ch. 2): the closer i is aligned with j, the more of j's act it excuses.
    Hostile and neutral pairs excuse nothing. docs/theory.md §8.1.
    """
    return weight * np.clip(alignment, 0.0, 1.0)


def forget_on_regime_change(memory: Array, regime_change: Array, reset: Weight) -> Array:
    """A new regime in i drops a share `reset` of what i remembered of others' acts, and others
    drop the same share of what they held against i: a new government is judged partly afresh
    (the Karmal government installed by Soviet troops; the Islamic Republic after 2001)."""
    if not np.any(regime_change):  # most years: nothing to forget
        return memory
    keep = 1.0 - reset * regime_change  # (B, N)
    return memory * keep[:, :, None] * keep[:, None, :]


def inherited_grievance(memory: Array, alignment: Array, takeover: Array, weight: Weight) -> Array:
    """Perceived intent between a regime that won a civil war and the states aligned with the
    government it overthrew, added to remembered intent, in [0, 1].

    Outside states arm the rebels of governments they oppose and help the governments they are
    aligned with (Byman 2005; Salehyan, Gleditsch & Cunningham 2011), so a regime that takes power
    by arms inherits the war's enmities: the fallen government's partners become the new regime's
    adversaries, and it theirs, the more so the closer they were (Walt 1996: a revolution makes the
    old regime's patrons the new one's threats). `alignment` is last year's, with the fallen
    government; `takeover[b, h]` is 1 in the year h's new regime took power so. docs/theory.md §8.3.
    """
    if not np.any(takeover):  # most years: no civil war is won
        return memory
    backed = np.clip(alignment, 0.0, None)  # [i, h]: symmetric, i's alignment with h's fallen government
    grievance = weight * backed * (takeover[:, None, :] + takeover[:, :, None])
    return np.clip(memory + clear_diagonal(grievance), 0.0, 1.0)


def ideological_distance(ideology: Array) -> Array:
    """d[b, i, j] in [0, 1]: distance between the regimes' (economy, religion, polity) positions."""
    diff = ideology[:, :, None, :] - ideology[:, None, :, :]
    return np.sqrt((diff**2).sum(axis=-1)) / MAX_IDEOLOGY_DISTANCE


def security_dilemma(alignment: Array) -> Array:
    """s[b, i, j] in [0, 1]: how closely j is aligned with i's rival.

    i reads j's alignment with a state k that i is hostile to as hostile to itself: one side's
    measures for its security lower the other's (Herz 1950; Jervis 1978; Kosar 2024 §1.8.3; docs/theory.md §4).
    """
    friends = np.clip(alignment, 0.0, None)  # [j, k]
    rivals = np.clip(-alignment, 0.0, None)  # [i, k]
    return through_third(rivals, friends)


def divisive_doctrine(vanguard: Array, relative_power: Array) -> Array:
    """r[b, i, j] in [0, 1]: rivalry between two regimes whose shared doctrine admits one centre.

    Walt (1987, ch. 6): a creed that demands a single leadership divides its adherents, and the
    more so the nearer they are in power, since each can contest the other's claim. Parity is
    1 - |2 r - 1| for j's relative power r; it is 0 unless both regimes hold such a doctrine.
    docs/theory.md §8.4.
    """
    parity = 1.0 - np.abs(2.0 * relative_power - 1.0)
    return clear_diagonal(vanguard[:, :, None] * vanguard[:, None, :] * parity)


def perceived_intent(memory: Array, dispute: Array, ideological_distance: Array, dilemma: Array,
                     ideology_weight: Weight, dilemma_weight: Weight, schism: Array | float = 0.0) -> Array:
    """Total perceived aggressive intent of j held by i, in [0, 1): acts remembered, disputes,
    ideology (a weak source for Walt), the security dilemma and a divisive doctrine's rivalry
    (`schism`, already weighted). The sources add up and saturate smoothly (1 - e^-x), so that
    piling grievances still count without exceeding certainty."""
    raw = memory + dispute + ideology_weight * ideological_distance + dilemma_weight * dilemma + schism
    return clear_diagonal(1.0 - np.exp(-np.clip(raw, 0.0, None)))


def coalition_power(capability: Array, alignment: Array, coalition_weight: Weight) -> Array:
    """c[b, i, j]: j's capability plus a share of its allies' (not counting i itself), as i sees it."""
    allies = np.clip(alignment, 0.0, None)  # [j, k]
    backing = np.einsum("bjk,bk->bj", allies, np.broadcast_to(capability, allies.shape[:2]))  # all of j's allies
    backing_without_i = backing[:, None, :] - np.swapaxes(allies, 1, 2) * capability[:, :, None]  # [i, j]
    return capability[:, None, :] + coalition_weight * backing_without_i


def threat_capacity(capability: Array, coalition: Array, proximity: Array, offence: Array,
                    offence_weight: Weight) -> Array:
    """What j (with its allies) could do to i: aggregate power relative to i x proximity x offensive
    power (Walt's first three sources), in [0, 1]."""
    relative = coalition / np.maximum(coalition + capability[:, :, None], 1e-12)
    offensive = (1.0 - offence_weight) + offence_weight * offence[:, None, :]
    return relative * proximity * offensive


def deterrence(nuclear: Array, weight: Weight) -> Array:
    """m[b, i, j] in [0, 1]: the share of j's capacity to hurt i that still threatens i.

    Between two nuclear-armed states a second strike makes war too costly to contemplate, so the
    rival's power threatens less (Waltz 1981; Jervis 1989): a share `weight` of it is discounted
    when both hold nuclear arms. Intent alone is not discounted: a nuclear rival is still read as
    hostile. docs/theory.md §8.7.
    """
    return 1.0 - weight * nuclear[:, :, None] * nuclear[:, None, :]


def walt_threat(capacity: Array, intent: Array) -> Array:
    """Balance-of-threat threat of j to i: capability that could hurt i times intent to, in [0, 1]."""
    return clear_diagonal(capacity * intent)


def power_threat(relative_power: Array, proximity: Array, poles: Array, bipolarity: Array,
                 pole_weight: Weight) -> Array:
    """Balance-of-power threat, blind to intentions: a strong neighbour's power, plus the rival pole
    in a bipolar system (Waltz 1979)."""
    local = relative_power * proximity
    return clear_diagonal(local + pole_weight * bipolarity[:, None, None] * poles)


def effective_threat(walt: Array, intent: Array, waltz: Array, threat_weight: Weight, intent_weight: Weight,
                     power_weight: Weight) -> Array:
    """The threat a state acts on: Walt's capacity x intent, aggressive intent on its own, and
    Waltz's power threat, weighted."""
    return threat_weight * walt + intent_weight * intent + power_weight * waltz
