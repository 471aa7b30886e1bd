"""Alignment choice: balancing, bandwagoning, self-interest, inertia and mutuality.

A state's *stance* toward another (-1 hostile .. +1 allied) is what it wants; an *alignment*
exists only as far as both want it (mutuality). Walt (1987, ch. 5): balancing is the rule;
weak states near an overwhelming threat with no ally in reach bandwagon.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

from simulation.rules.pairs import clear_diagonal, third_terms
from simulation.rules.types import Array, Weight


def ally_help(relative_power: Array, proximity: Array, power_exponent: Weight, frontline: Weight) -> Array:
    """h[b, j, k] in (0, 1]: how much j can do against k: its power relative to k (raised to
    `power_exponent`), more when near k (a share `frontline` of it depends on nearness: an ally
    bordering the threat is worth more)."""
    versus = np.swapaxes(relative_power, 1, 2)  # [j, k] = cap_j / (cap_j + cap_k)
    return versus**power_exponent * ((1.0 - frontline) + frontline * proximity)


def external_balancing(threat: Array, alignment: Array, help_: Array) -> Array:
    """e[b, i, j] >= 0: value of j as an ally against the states that threaten i.

    Sums, over third states k, i's threat from k times how much j opposes k (j's own threat from k,
    or its open hostility to k) times j's ability to help against k (Walt 1987; Waltz 1979).
    """
    # sum over k of threat[i, k] * value[j, k]; k == i and k == j drop out because threat[i, i] and
    # the cleared value[j, j] are 0 (i's threat from j itself is no reason to ally with j)
    return clear_diagonal(threat @ np.swapaxes(_ally_value(threat, alignment, help_), 1, 2))


def balancing_against(threat: Array, alignment: Array, help_: Array) -> Array:
    """e_k[b, i, j, k] >= 0: the terms of `external_balancing`, one per third state k whose threat
    j would help i balance; they sum over k to it (to rounding). What `explain` reports as
    "against whom"; the engine adds them in one matrix product."""
    return third_terms(threat, _ally_value(threat, alignment, help_))


def _ally_value(threat: Array, alignment: Array, help_: Array) -> Array:
    """v[b, j, k]: how much j stands against k (its own threat from k, or its open hostility to k)
    times its ability to help against k."""
    opposes = np.maximum(threat, np.clip(-alignment, 0.0, None))  # [j, k]
    return clear_diagonal(opposes * help_)


def bandwagoning(threat: Array, relative_power: Array, alignment: Array) -> Array:
    """w[b, i, j] >= 0: pull of a weak i toward an overwhelming threat j when no ally is in reach.

    Walt (1987, ch. 2 and 5): bandwagoning is the exception, for weak states facing a nearby,
    overwhelming offensive power when allies are unavailable (Afghanistan beside the USSR after the
    US declined to arm it; Pakistan and the US in 2001). An available ally against j is a state k
    already aligned with i, weighted by k's strength relative to j; a state that merely shares the
    threat is no ally at hand. `relative_power` here is military (spending), the power that overwhelms.
    """
    overwhelming = np.clip(2.0 * relative_power - 1.0, 0.0, 1.0)  # 0 unless j is stronger than i
    allies = np.clip(alignment, 0.0, None)  # [i, k]
    counter = relative_power  # [j, k] = cap_k / (cap_j + cap_k): k's strength against j
    # support[i, j] = max over k (not i, not j) of allies[i, k] * counter[j, k]; every term is >= 0,
    # so a running maximum over k gives the same result, faster
    support = np.zeros(np.broadcast_shapes(allies.shape, counter.shape))
    masks = _third_party_masks(threat.shape[-1])
    for k in range(threat.shape[-1]):
        np.maximum(support, allies[:, :, k, None] * (counter[:, None, :, k] * masks[k]), out=support)
    return threat * overwhelming * (1.0 - support)


@functools.cache
def _third_party_masks(n: int) -> np.ndarray:
    """m[k, i, j] = 1 when k is neither i nor j."""
    eye = np.eye(n, dtype=bool)
    return (~eye[:, :, None] & ~eye[:, None, :]).astype(float)


def structural_balance(dilemma: Array) -> Array:
    """c[b, i, j] in [0, 1]: how far j is the enemy of a friend of i, a cost of warming to j.

    Balance theory (Heider 1946; Cartwright & Harary 1956): a triad with one hostile tie among
    friends is under strain, so courting a valued partner's enemy costs the partner's goodwill
    (Snyder 1984: the fear of abandonment). The weight on i's friendship with k is how closely the
    two are aligned; on j's enmity with k, how hostile. docs/theory.md §8.6.

    It is the security dilemma (`threat.security_dilemma`, [j, i]: how closely i is aligned with j's
    rival) read from the other end of the same triads, so it takes that matrix rather than
    recomputing it: j is the enemy of i's friend exactly as far as i is the friend of j's enemy.
    """
    return np.swapaxes(dilemma, 1, 2)


def structural_balance_through(alignment: Array) -> Array:
    """c_k[b, i, j, k]: the terms `structural_balance` takes the maximum of, one per friend k of i
    whose enemy j is (what `explain` reports as "through whom")."""
    return third_terms(*_friends_and_rivals(alignment))


def _friends_and_rivals(alignment: Array) -> tuple[Array, Array]:
    """How closely i is aligned with k, and how hostile j is to k."""
    return np.clip(alignment, 0.0, None), np.clip(-alignment, 0.0, None)


def omnibalancing(internal_threat: Array, proximity: Array, milex_share: Array) -> Array:
    """o[b, i, j] >= 0: value of j as a patron to a government that fights insurgents at home.

    Rulers of weak states balance against threats to their own hold on power as much as against
    states, and seek the patron that can help them survive (David 1991): money, arms and advisers
    from a state with the military means, whose power reaches them. It grows with the intensity of
    i's internal conflict and j's military spending, times how much of j's power reaches i.
    docs/theory.md §8.2.
    """
    return clear_diagonal(internal_threat[:, :, None] * proximity * milex_share[:, None, :])


def buffer_value(threat: Array, proximity: Array, relative_power: Array, intent: Array) -> Array:
    """u[b, i, j] >= 0: worth to i of a weak j that i's power reaches and its rivals' power reaches too.

    A great power must keep the weak ground between it and its rivals from falling to them, and values
    such a buffer's friendship by the threat of the rivals who could use it (Partem 1983; Fazal 2007):
    i's threat from each third k times how much of k's power reaches j, summed over k, times how much
    of i's power reaches j, how weak j is beside i and how far i does not read j as hostile (a rival
    is no buffer). Unlike an ally, a buffer is valued for where it lies, not for what it can do.
    """
    reach_of_rivals = threat @ np.swapaxes(proximity, 1, 2)  # [i, j] = sum_k threat[i, k] p[j, k]; k = i, j add 0
    return clear_diagonal(_buffer_weakness(proximity, relative_power, intent) * reach_of_rivals)


def buffer_against(threat: Array, proximity: Array, relative_power: Array, intent: Array) -> Array:
    """u_k[b, i, j, k] >= 0: the terms of `buffer_value`, one per rival k whose reach makes j worth
    keeping; they sum over k to it (to rounding). What `explain` reports as "against whom"."""
    return _buffer_weakness(proximity, relative_power, intent)[..., None] * third_terms(threat, proximity)


def _buffer_weakness(proximity: Array, relative_power: Array, intent: Array) -> Array:
    """How far j is a buffer for i at all: i's power reaches it, it is weak beside i, i does not read it as hostile."""
    return (1.0 - relative_power) * (1.0 - intent) * np.swapaxes(proximity, 1, 2)


def ideological_affinity(distance: Array, schism: Array | float = 0.0) -> Array:
    """f[b, i, j] in [0, 1]: solidarity between close regimes, 0 beyond half the largest distance,
    less the share `schism` in [0, 1] that a doctrine admitting one centre turns into a contest.

    Walt (1987, ch. 6): such a creed divides its adherents instead of binding them, so what two
    near-equal Leninist states share is no solidarity (threat.divisive_doctrine). docs/theory.md §8.4.
    """
    return clear_diagonal(np.clip(1.0 - 2.0 * distance, 0.0, 1.0) * (1.0 - schism))


def desired_stance(motives: Mapping[str, Array], gain: Weight) -> Array:
    """s*[b, i, j] in (-1, 1): the stance i's motives call for this year.

    `motives` are the weighted parts of i's net motive toward j (balancing against j's threat
    counts negative; external balancing, bandwagoning, interest and ideology positive), summed in
    order and squashed by tanh: strong motives saturate, opposite ones cancel.
    """
    return clear_diagonal(np.tanh(gain * net_motive(motives)))


def net_motive(motives: Mapping[str, Array]) -> Array:
    """The sum of the motive parts, in their order (so that results are reproducible to the bit)."""
    parts = iter(motives.values())
    total = next(parts)
    for part in parts:
        total = total + part
    return total


def update_stance(stance: Array, target: Array, inertia: Array, shock: Array) -> Array:
    """New stance: keep `inertia` of last year's, move the rest toward the target, plus a shock.

    Alignments are sticky: with inertia 0.75 a reversal takes several years of sustained cause.
    Elementwise, so a state updating only its own row gets exactly the batch result; the diagonal
    stays 0 because target and shock are 0 there.
    """
    new = inertia[:, None, None] * stance + (1.0 - inertia[:, None, None]) * target + shock
    return np.clip(new, -1.0, 1.0)


def mutual_alignment(stance: Array) -> Array:
    """a[b, i, j] = min(stance_ij, stance_ji): cooperation needs both; hostility needs only one."""
    return np.minimum(stance, np.swapaxes(stance, 1, 2))
