"""Behaviour of the rules: each test would fail if the theory it names broke."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulation.engine import dynamics
from simulation.engine.params import Parameters
from simulation.rules import choice, power, threat
from tests.conftest import N, ix, quiet_state, year

P = Parameters()
I, J, K = ix("PAK"), ix("IND"), ix("CHN")


def perceived(x, state=None, p=P):
    state = state or quiet_state(intent=0.3)
    return dynamics.perceive(state.memory, state.alignment, x, p, state)[1]


def test_more_capability_raises_threat():
    """Walt's first source: aggregate power."""
    weak, strong = year(), year()
    strong.capability[0, J] = 0.4
    assert perceived(strong).walt_threat[0, I, J] > perceived(weak).walt_threat[0, I, J]


def test_proximity_raises_threat():
    """Walt's second source: geography. A shared border raises j's threat to i."""
    far, near = year(), year()
    near.contiguity[0, I, J] = near.contiguity[0, J, I] = 1.0
    assert perceived(near).walt_threat[0, I, J] > perceived(far).walt_threat[0, I, J]


def test_offensive_power_raises_threat():
    """Walt's third source: nuclear arms raise j's threat."""
    plain, armed = year(), year()
    armed.nuclear[0, J] = 1.0
    assert perceived(armed).walt_threat[0, I, J] > perceived(plain).walt_threat[0, I, J]


def test_aggression_raises_victims_and_third_parties_threat():
    """Walt's fourth source: an act of aggression by j raises the victim's and others' threat from j."""
    calm, war = year(), year()
    war.acts[0, J, I] = 1.0  # j attacks i
    before, after = perceived(calm).walt_threat[0], perceived(war).walt_threat[0]
    assert after[I, J] > before[I, J]  # the victim
    for other in range(N):
        if other not in (I, J):
            assert after[other, J] > before[other, J]  # every third party
    assert after[I, J] - before[I, J] > after[ix("USA"), J] - before[ix("USA"), J]  # victim most


def test_aggression_against_an_outsider_raises_everyones_threat():
    calm, war = year(), year()
    war.outside_acts[0, ix("RUS")] = 1.0
    for other in range(N):
        if other != ix("RUS"):
            assert perceived(war).walt_threat[0, other, ix("RUS")] > perceived(calm).walt_threat[0, other, ix("RUS")]


def test_intent_fades_without_new_acts():
    memory = np.full((1, N, N), 0.8) * (1 - np.eye(N))
    x = year()
    prox = power.proximity(x.distance_km, x.contiguity, x.presence, x.capability, x.milex_share, P.reach_km, P.global_reach)
    faded = threat.update_intent_memory(memory, x.acts, x.outside_acts, prox, P.intent_memory, P.act_impact,
                                        P.act_spillover, P.near_victim_weight, P.outside_witness_share)
    assert np.all(faded[0][~np.eye(N, dtype=bool)] < 0.8)


def test_shared_main_threat_pulls_states_together():
    """External balancing: two states threatened by the same third state move toward each other."""
    p = Parameters(noise=0.0, interest_weight=0.0)
    calm, menaced = year(), year()
    for x in (calm, menaced):
        x.capability[0, K] = 0.3
    for victim in (I, J):  # China is hostile to both Pakistan and India
        menaced.acts[0, K, victim] = 1.0
        menaced.contiguity[0, K, victim] = menaced.contiguity[0, victim, K] = 1.0
    s_calm = dynamics.step(quiet_state(), calm, p, np.zeros((1, N, N)), first_year=True)[0]
    s_menaced = dynamics.step(quiet_state(), menaced, p, np.zeros((1, N, N)), first_year=True)[0]
    assert s_menaced.alignment[0, I, J] > s_calm.alignment[0, I, J] + 0.05
    assert s_menaced.alignment[0, I, K] < 0 and s_menaced.alignment[0, J, K] < 0


def test_balancing_against_splits_external_balancing_by_the_threat_it_answers():
    """The terms of external balancing, one per third state, add up to it; a state that threatens
    no one adds nothing, and the threat it poses to i is answered only through allies that oppose it."""
    rng = np.random.default_rng(3)
    threat = rng.random((4, N, N))
    alignment = rng.uniform(-1, 1, (4, N, N))
    alignment = (alignment + np.swapaxes(alignment, 1, 2)) / 2
    help_ = rng.random((4, N, N))
    for x in (threat, alignment, help_):
        x[:, np.arange(N), np.arange(N)] = 0.0
    terms = choice.balancing_against(threat, alignment, help_)
    np.testing.assert_allclose(terms.sum(axis=-1), choice.external_balancing(threat, alignment, help_), atol=1e-12)
    assert np.all(terms >= 0) and np.all(terms[:, np.arange(N), np.arange(N)] == 0)
    calm = threat.copy()
    calm[:, :, K] = 0.0  # nobody reads a threat from K
    assert np.all(choice.balancing_against(calm, alignment, help_)[..., K] == 0)
    raised = threat.copy()
    raised[:, I, K] += 0.5  # I's threat from K grows: every partner opposed to K is worth more against K
    more = choice.balancing_against(raised, alignment, help_)[:, I, :, K] - terms[:, I, :, K]
    assert np.all(more >= 0) and np.all(more[:, [n for n in range(N) if n not in (I, K)]] > 0)


def test_structural_balance_binds_through_one_friend():
    """The terms of structural balance, one per friend k of i, have it as their maximum (and it is
    the security dilemma read from j's end); j's hostility to a friend of i costs i, its hostility
    to a state i is hostile to costs nothing."""
    alignment, L = np.zeros((1, N, N)), ix("USA")
    for a, b, v in ((I, K, 0.8), (J, K, -0.6), (I, L, -0.5), (J, L, -0.9)):
        alignment[0, a, b] = alignment[0, b, a] = v
    terms = choice.structural_balance_through(alignment)
    np.testing.assert_array_equal(terms.max(axis=-1), choice.structural_balance(threat.security_dilemma(alignment)))
    assert terms[0, I, J, K] == pytest.approx(0.8 * 0.6)  # J is the enemy of I's friend K
    assert terms[0, I, J, L] == 0.0  # J's enemy L is I's enemy too: no strain


def test_security_dilemma_aligning_with_my_rival_raises_my_threat_from_you():
    """If j aligns with i's rival k, i perceives more hostile intent from j (Jervis 1978)."""
    alignment = np.zeros((1, N, N))
    alignment[0, I, K] = alignment[0, K, I] = -0.8  # i and k are rivals
    neutral = threat.security_dilemma(alignment)
    alignment[0, J, K] = alignment[0, K, J] = 0.8  # j allies with k
    assert threat.security_dilemma(alignment)[0, I, J] > neutral[0, I, J]
    state = quiet_state()
    before = dynamics.perceive(state.memory, np.zeros((1, N, N)), year(), P)[1].intent[0, I, J]
    after = dynamics.perceive(state.memory, alignment, year(), P)[1].intent[0, I, J]
    assert after > before


def test_mutuality_no_alignment_if_one_side_is_hostile():
    stance = np.zeros((1, N, N))
    stance[0, I, J], stance[0, J, I] = 0.9, -0.4
    aligned = choice.mutual_alignment(stance)
    assert aligned[0, I, J] == aligned[0, J, I] == -0.4
    stance[0, J, I] = 0.2
    assert choice.mutual_alignment(stance)[0, I, J] == 0.2  # only as far as both want it


def test_weak_state_bandwagons_only_without_an_ally():
    """Walt: a weak state facing an overwhelming threat bandwagons when no ally is in reach."""
    t = np.zeros((1, N, N))
    t[0, ix("AFG"), ix("RUS")] = 0.6
    cap = np.full((1, N), 0.1)
    cap[0, ix("AFG")], cap[0, ix("RUS")] = 0.002, 0.2
    rel = power.relative_power(cap)
    alone = choice.bandwagoning(t, rel, np.zeros((1, N, N)))
    allied = np.zeros((1, N, N))
    allied[0, ix("AFG"), ix("USA")] = allied[0, ix("USA"), ix("AFG")] = 0.9
    backed = choice.bandwagoning(t, rel, allied)
    assert alone[0, ix("AFG"), ix("RUS")] > 0.5 * 0.6
    assert backed[0, ix("AFG"), ix("RUS")] < alone[0, ix("AFG"), ix("RUS")]
    # a strong state does not bandwagon with a weaker one
    assert choice.bandwagoning(t.transpose(0, 2, 1), rel, np.zeros((1, N, N)))[0, ix("RUS"), ix("AFG")] == 0


def test_a_stronger_ally_deters_bandwagoning_more():
    """Walt: what keeps a weak state from bandwagoning is an ally able to stand up to the threat, so
    an ally stronger than the threat holds it back more than an ally weaker than the threat."""
    pulls = []
    for usa in (0.05, 0.5):  # weaker, then stronger, than the threat (0.2)
        t = np.zeros((1, N, N))
        t[0, ix("AFG"), ix("RUS")] = 0.6
        cap = np.full((1, N), 0.1)
        cap[0, ix("AFG")], cap[0, ix("RUS")], cap[0, ix("USA")] = 0.002, 0.2, usa
        alignment = np.zeros((1, N, N))
        alignment[0, ix("AFG"), ix("USA")] = alignment[0, ix("USA"), ix("AFG")] = 0.9
        pulls.append(choice.bandwagoning(t, power.relative_power(cap), alignment)[0, ix("AFG"), ix("RUS")])
    assert pulls[1] < pulls[0]


def test_a_fellow_target_is_no_ally_at_hand():
    """Walt (1987, ch. 2 and 5): bandwagoning is likelier when allies are unavailable. A strong state
    that the same power threatens holds the weak state back only as far as the two are aligned: the
    US, threatened by the USSR but unaligned with Afghanistan, is no support to Kabul."""
    t = np.zeros((1, N, N))
    t[0, ix("AFG"), ix("RUS")], t[0, ix("USA"), ix("RUS")] = 0.6, 0.9
    cap = np.full((1, N), 0.1)
    cap[0, ix("AFG")], cap[0, ix("RUS")], cap[0, ix("USA")] = 0.002, 0.2, 0.5
    rel = power.relative_power(cap)
    pull = {}
    for tie in (0.0, 0.5):
        alignment = np.zeros((1, N, N))
        alignment[0, ix("AFG"), ix("USA")] = alignment[0, ix("USA"), ix("AFG")] = tie
        pull[tie] = choice.bandwagoning(t, rel, alignment)[0, ix("AFG"), ix("RUS")]
    nobody = choice.bandwagoning(np.where(np.arange(N)[None, :, None] == ix("USA"), 0.0, t), rel, np.zeros((1, N, N)))
    assert pull[0.0] == nobody[0, ix("AFG"), ix("RUS")]  # sharing the threat alone changes nothing
    assert pull[0.5] < pull[0.0]


def test_sanctions_cut_the_value_of_a_supplier():
    """Self-interest: last year's sanction by j (its own choice) lowers j's value to i next year."""
    x = year()
    x.arms_export_share[0, ix("USA")] = 0.6
    open_ = quiet_state(intent=0.3)
    sanction = np.zeros((1, N, N))
    sanction[0, ix("USA"), I] = 1.0
    cut = dataclasses.replace(open_, sanction=sanction)
    assert perceived(x, cut).interest[0, I, ix("USA")] < perceived(x, open_).interest[0, I, ix("USA")]


def test_internal_balancing_strong_states_rely_less_on_allies():
    cap = np.array([[0.01, 0.3, 0.1, 0.1, 0.1, 0.1]])
    t = np.zeros((1, N, N))
    t[:, :, ix("CHN")] = 0.5
    t[0, ix("CHN"), ix("IND")] = 0.5
    reliance = power.self_reliance(cap, t)
    assert reliance[0, ix("AFG")] < reliance[0, ix("IND")]


def test_reversal_needs_a_sustained_cause():
    """Inertia: one year of a reversed motive does not flip a strong alignment."""
    stance = np.full((1, N, N), 0.8) * (1 - np.eye(N))
    target = -stance
    one_year = choice.update_stance(stance, target, np.array([P.inertia]), np.zeros((1, N, N)))
    assert one_year[0, I, J] > 0
    s = stance
    for _ in range(8):
        s = choice.update_stance(s, target, np.array([P.inertia]), np.zeros((1, N, N)))
    assert s[0, I, J] < 0


def test_bipolarity_and_poles():
    cap = np.array([[0.01, 0.1, 0.05, 0.01, 0.17, 0.3]])  # the 1950s
    assert power.bipolarity(cap)[0] > 0.3
    poles = power.poles(cap)[0]
    assert poles[ix("USA"), ix("RUS")] == poles[ix("RUS"), ix("USA")] == 1 and poles.sum() == 2
