"""Comparative statics of the mechanisms added for the post-Cold War record (docs/theory.md §8):
each test would fail if the theory it names broke, and each checks that the weight switches it off."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulation.engine import dynamics
from simulation.engine.params import ABLATIONS, Parameters
from simulation.rules import choice, interest, threat
from tests.conftest import N, ix, quiet_state, year

P = Parameters()
I, J, K = ix("RUS"), ix("PAK"), ix("IND")


def desired(state, x=None, p=P):
    """The stances the motives call for this year."""
    return dynamics.assess(state, x if x is not None else year(), p, first_year=False).target


def with_alignment(pairs: dict[tuple[int, int], float]):
    alignment = np.zeros((1, N, N))
    for (a, b), v in pairs.items():
        alignment[0, a, b] = alignment[0, b, a] = v
    state = quiet_state()
    return dataclasses.replace(state, alignment=alignment, stance=alignment.copy())


def test_structural_balance_courting_a_friends_enemy_costs():
    """Heider: i allied with k warms less to j when j is k's enemy, the more so the closer i and k
    and the more hostile j and k."""
    alone = with_alignment({(I, K): 0.8})
    strained = with_alignment({(I, K): 0.8, (J, K): -0.8})
    def cost(state: dynamics.State) -> float:
        return float(choice.structural_balance(threat.security_dilemma(state.alignment))[0, I, J])

    assert cost(strained) > 0.5
    assert cost(alone) == 0.0
    assert desired(strained)[0, I, J] < desired(alone)[0, I, J]
    closer = with_alignment({(I, K): 0.9, (J, K): -0.8})
    assert cost(closer) > cost(strained)
    off = dataclasses.replace(P, structural_weight=0.0)
    assert np.allclose(dynamics.assess(strained, year(), off, False).motives["structural balance"], 0.0)


def test_attribution_a_partners_unanswered_force_counts_less():
    """Jervis, Mercer: the same use of force raises i's perceived intent of j less when j is i's
    partner, unless i answered it in kind; a rival's counts in full; weight 0 switches it off."""
    x = year()
    x.acts[0, J, I] = 0.6  # j uses force against i
    partner, rival = with_alignment({(I, J): 0.8}), with_alignment({(I, J): -0.8})
    neutral = with_alignment({})

    def intent(state, inputs=x, p=P):
        return dynamics.perceive(state.memory, state.alignment, inputs, p, state)[0][0, I, J]

    assert intent(partner) < intent(neutral) == intent(rival)
    answered = year()
    answered.acts[0, J, I] = answered.acts[0, I, J] = 0.6  # a clash: i fired back
    assert intent(partner, answered) == intent(neutral, answered)
    off = dataclasses.replace(P, attribution_weight=0.0)
    assert intent(partner, p=off) == intent(neutral, p=off)
    # a third party excuses its partner's act against someone else, too
    witness = ix("USA")
    seen = year()
    seen.acts[0, J, K] = 0.6
    friend = with_alignment({(witness, J): 0.8})

    def witnessed(state):
        return dynamics.perceive(state.memory, state.alignment, seen, P, state)[0][0, witness, J]

    assert witnessed(friend) < witnessed(neutral)


def test_deterrence_a_nuclear_rival_threatens_a_nuclear_state_less():
    """Waltz 1981: j's nuclear arms raise its threat to a non-nuclear i (offensive power) but, once
    i is nuclear-armed too, j's power threatens i less; j's hostile intent is still read in full."""
    state = quiet_state(intent=0.4)

    def seen(i_nuclear, p=P):
        x = year()
        x.nuclear[0, J] = 1.0
        x.nuclear[0, I] = i_nuclear
        return dynamics.perceive(state.memory, state.alignment, x, p, state)[1]

    exposed, deterred = seen(0.0), seen(1.0)
    assert deterred.walt_threat[0, I, J] < exposed.walt_threat[0, I, J]
    assert deterred.power_threat[0, I, J] < exposed.power_threat[0, I, J]
    assert deterred.intent[0, I, J] == exposed.intent[0, I, J]
    # a third, non-nuclear state's threat from j is unchanged by i's bomb
    assert deterred.walt_threat[0, K, J] == exposed.walt_threat[0, K, J]
    off = dataclasses.replace(P, deterrence_weight=0.0)
    assert seen(1.0, off).power_threat[0, I, J] == seen(0.0, off).power_threat[0, I, J]


def test_interdependence_a_larger_nearer_economy_pulls_more():
    """Gravity and the liberal peace: j's pull on i grows with j's economy and falls with distance;
    shares of i's predicted trade sum to one; weight 0 switches the motive off."""
    def pull(x):  # nearness also brings j's threat closer, so the motive is read on its own
        return dynamics.assess(quiet_state(), x, P, False).motives["interdependence"][0, I, J]

    small, large = year(), year()
    large.gdp[0, J] = 5000.0
    base = pull(small)
    assert pull(large) > base
    assert desired(quiet_state(), large)[0, I, J] > desired(quiet_state(), small)[0, I, J]
    distance = year().distance_km.copy()
    distance[I, J] = distance[J, I] = 1000.0
    near = year(distance_km=distance)
    assert pull(near) > base
    shares = interest.trade_dependence(large.gdp, large.distance_km, np.ones((1, N)))
    assert np.allclose(shares.sum(axis=2), 1.0) and np.all(np.diagonal(shares, axis1=1, axis2=2) == 0)
    off = dataclasses.replace(P, trade_weight=0.0)
    assert np.all(dynamics.assess(quiet_state(), large, off, False).motives["interdependence"] == 0)


def test_interdependence_counts_as_far_as_both_are_market_economies():
    """The capitalist peace (Gartzke 2007; Holzman 1974 on planned trade): the same predicted trade
    pulls i toward j less the more planned j's economy, and not at all when j's is wholly planned;
    a market reform raises the pull, and the market weights scale the gravity share as a product."""
    def with_economy(position):
        ideology = year().ideology.copy()
        ideology[0, J, 0] = position
        return year(ideology=ideology)

    def pull(position):
        return dynamics.assess(quiet_state(), with_economy(position), P, False).motives["interdependence"][0, I, J]

    assert pull(-1.0) == 0.0 < pull(-0.3) < pull(0.4) < pull(1.0)
    assert interest.market_orientation(with_economy(-1.0).ideology)[0, J] == 0.0
    assert interest.market_orientation(with_economy(1.0).ideology)[0, J] == 1.0
    # a wholly market pair reads the gravity share unchanged
    x = year()
    market = np.ones((1, N))
    shares = interest.trade_dependence(x.gdp, x.distance_km, market)
    half = interest.trade_dependence(x.gdp, x.distance_km, np.full((1, N), 0.5))
    assert np.allclose(half, 0.25 * shares)


def doctrine_year(vanguard, cap_j=0.1):
    """A year in which the states in `vanguard` hold a one-centre doctrine, every regime the same
    (the whole affinity), all of capability 0.1 but j, of `cap_j`."""
    v = np.zeros((1, N))
    v[0, list(vanguard)] = 1.0
    cap = np.full((1, N), 0.1)
    cap[0, J] = cap_j
    return year(vanguard=v, capability=cap, ideology=np.zeros((1, N, 3)))


def test_divisive_doctrine_near_equal_adherents_become_rivals():
    """Walt ch. 6: two regimes of a one-centre doctrine read hostile intent into each other, more
    when nearer in power; a regime outside the doctrine, or weight 0, sees none of it."""
    state = quiet_state()

    def intent(vanguard, cap_j=0.1, p=P):
        return dynamics.perceive(state.memory, state.alignment, doctrine_year(vanguard, cap_j), p, state)[1].intent[0, I, J]

    plain = intent([])
    assert intent([I, J]) > plain
    assert intent([I]) == intent([J]) == plain  # it takes two adherents
    assert intent([I, J], cap_j=0.1) > intent([I, J], cap_j=0.9)  # parity sharpens the contest
    assert intent([I, J], p=dataclasses.replace(P, schism_weight=0.0)) == plain


def test_divisive_doctrine_turns_adherents_affinity_into_a_contest():
    """Walt ch. 6: what two regimes of a one-centre doctrine share binds them less the nearer they
    are in power; one adherent alone keeps the whole affinity, and schism_affinity 0 restores it."""
    def affinity(vanguard, cap_j=0.1, p=P):
        return dynamics.assess(quiet_state(), doctrine_year(vanguard, cap_j), p, False).motives["affinity"][0, I, J]

    whole = affinity([])
    assert whole > 0.0
    assert affinity([I]) == affinity([J]) == whole  # it takes two adherents
    assert affinity([I, J]) == 0.0  # equals in power: no solidarity left
    assert 0.0 < affinity([I, J], cap_j=0.9) < whole  # a far stronger j: some of it survives
    assert affinity([I, J], p=dataclasses.replace(P, schism_affinity=0.0)) == whole


def test_the_divisive_doctrine_ablation_switches_off_both_of_its_effects():
    """The ablation row 'without divisive doctrine' fixes both the intent and the affinity it acts on."""
    assert ABLATIONS["without divisive doctrine"] == {"schism_weight": 0.0, "schism_affinity": 0.0}


def test_a_regime_sets_its_doctrine_from_the_regime_table(baseline_inputs):
    """The vanguard series comes from regimes.csv through each regime event (USSR to 1991)."""
    t = {int(y): k for k, y in enumerate(baseline_inputs.years)}
    assert baseline_inputs.vanguard[t[1960], ix("RUS")] == 1.0
    assert baseline_inputs.vanguard[t[1995], ix("RUS")] == 0.0
    assert baseline_inputs.vanguard[t[1960], ix("USA")] == 0.0


def test_omnibalancing_a_government_at_war_at_home_seeks_a_strong_patron():
    """David 1991: civil war at home pulls i toward a state with the military means to help, more
    when its power reaches i and the war is more intense; a state at peace at home feels none of it."""
    def pull(intensity, spend=0.8, contiguous=False, p=P):
        x = year()
        x.internal_threat[0, I] = intensity
        x.milex_share[0, J] = spend
        if contiguous:
            x.contiguity[0, I, J] = x.contiguity[0, J, I] = 1.0
        return dynamics.assess(quiet_state(), x, p, False).motives["omnibalancing"][0, I, J]

    assert pull(0.0) == 0.0
    assert pull(1.0) > pull(0.5) > 0.0
    assert pull(1.0, spend=0.8) > pull(1.0, spend=0.2)
    assert pull(1.0, contiguous=True) > pull(1.0)
    assert pull(1.0, p=dataclasses.replace(P, omnibalancing_weight=0.0)) == 0.0
    x = year()
    x.internal_threat[0, I] = 1.0
    assert desired(quiet_state(), x)[0, I, J] > desired(quiet_state())[0, I, J]


def test_inherited_grievance_a_civil_war_won_makes_the_old_patrons_adversaries():
    """Walt 1996; Byman 2005: when h's rebels take power, the states aligned with the government
    they overthrew and the new regime read hostile intent into each other, the more so the closer
    the alignment was; the fallen government's rivals, a regime change without a civil war won,
    and weight 0 add none of it."""
    H, patron, rival = ix("AFG"), ix("RUS"), ix("PAK")

    def new_regime(won: float):
        """A year in which h's regime changes, by a civil war won (1) or otherwise (0)."""
        x = year()
        x.takeover[0, H], x.regime_change[0, H] = won, 1.0
        return x

    def intent(takeover=1.0, closeness=0.8, p=P):
        state = with_alignment({(patron, H): closeness, (rival, H): -0.8})
        return dynamics.perceive(state.memory, state.alignment, new_regime(takeover), p, state)[0][0]

    won, plain = intent(), intent(takeover=0.0)
    assert won[patron, H] > plain[patron, H] and won[H, patron] > plain[H, patron]
    assert intent(closeness=0.9)[H, patron] > intent(closeness=0.4)[H, patron]
    assert won[rival, H] == plain[rival, H] and won[H, rival] == plain[H, rival]
    assert np.array_equal(np.delete(np.delete(won, H, 0), H, 1), np.delete(np.delete(plain, H, 0), H, 1))
    assert np.array_equal(intent(p=dataclasses.replace(P, takeover_weight=0.0)), plain)
    allied = with_alignment({(patron, H): 0.8})
    assert desired(allied, new_regime(1.0))[0, patron, H] < desired(allied, new_regime(0.0))[0, patron, H]


def test_the_timeline_codes_each_civil_war_won_with_its_regime(baseline_inputs):
    """armed_takeover events fall in the years of the regime events they belong to, and nowhere else."""
    t = {int(y): k for k, y in enumerate(baseline_inputs.years)}
    won = {(int(baseline_inputs.years[k]), s) for k, s in zip(*np.nonzero(baseline_inputs.takeover), strict=True)}
    assert won == {(1949, ix("CHN")), (1992, ix("AFG")), (1996, ix("AFG")), (2002, ix("AFG")), (2021, ix("AFG"))}
    assert all(baseline_inputs.regime_change[t[y], s] == 1.0 for y, s in won)


def test_buffer_a_weak_state_its_rivals_reach_is_worth_courting():
    """Partem, Fazal: i values a weak j by i's threat from the third states whose power reaches j,
    as far as i's own power reaches j; nothing when the rivals cannot reach j, less when j is
    strong beside i or read as hostile; weight 0 switches it off."""
    threats = np.zeros((1, N, N))
    threats[0, I, K] = 0.6  # i threatened by k
    reach = np.zeros((1, N, N))
    reach[0, J, K] = 0.8  # k's power reaches j
    reach[0, J, I] = 1.0  # and so does i's
    weak = np.full((1, N, N), 0.1)  # r[i, j]: j a tenth of the pair's power
    calm = np.zeros((1, N, N))

    def value(t=threats, p=reach, r=weak, intent=calm) -> float:
        return float(choice.buffer_value(t, p, r, intent)[0, I, J])

    assert value() > 0.0
    assert value(t=2.0 * threats) > value()  # more threat from k, more worth keeping j from it
    unreached = reach.copy()
    unreached[0, J, K] = 0.0
    assert value(p=unreached) == 0.0  # ground the rival cannot use is no buffer
    assert value(r=np.full((1, N, N), 0.6)) < value()  # a strong j is an ally or a threat, less a buffer
    hostile = calm.copy()
    hostile[0, I, J] = 0.9
    assert value(intent=hostile) < 0.2 * value()  # a rival is no buffer
    assert choice.buffer_value(threats, reach, weak, calm)[0, J, I] == 0.0  # j is not threatened here

    # explain's split by rival: one term per k, adding up to the motive, all of it k's here
    rng = np.random.default_rng(0)
    t, p, r, q = (rng.uniform(0.0, 1.0, (3, N, N)) for _ in range(4))
    for m in (t, p):
        m[:, np.arange(N), np.arange(N)] = 0.0
    np.testing.assert_allclose(choice.buffer_against(t, p, r, q).sum(axis=-1), choice.buffer_value(t, p, r, q),
                               rtol=1e-12, atol=1e-15)
    split = choice.buffer_against(threats, reach, weak, calm)[0, I, J]
    assert split[K] == pytest.approx(value()) and np.delete(split, K).sum() == 0.0

    # in the engine: with a threat on record the motive raises the stance; its weight switches it off
    x = year()
    x.acts[0, K, I] = 0.6
    state = quiet_state()
    on = dynamics.assess(state, x, P, False).motives["buffer"]
    assert on.max() > 0.0 and (on >= 0.0).all()
    off = dataclasses.replace(P, buffer_weight=0.0)
    assert np.allclose(dynamics.assess(state, x, off, False).motives["buffer"], 0.0)
    assert ABLATIONS["without buffer states"] == {"buffer_weight": 0.0}
