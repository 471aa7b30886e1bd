"""Comparative statics of the instruments (rules/instruments.py) and their feedback a year later.

Each test would fail if the theory it names broke.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simulation.engine import dynamics
from simulation.engine.params import Parameters
from simulation.rules import instruments
from tests.conftest import N, ix, quiet_state, year

P = Parameters()
OTHERS = 1.0 - np.eye(N)
SUP, BUY = ix("RUS"), ix("IND")


def stances(value: float, i: int = SUP, j: int = BUY, back: float | None = None) -> np.ndarray:
    s = np.zeros((1, N, N))
    s[0, i, j] = value
    s[0, j, i] = value if back is None else back
    return s


def shares(stance: np.ndarray, capacity: float = 0.5) -> np.ndarray:
    cap = np.full((1, N, 1), capacity)
    offer = instruments.arms_offer(OTHERS, stance, cap, np.zeros((1, N, N)), P.arms_openness)
    accept = instruments.arms_acceptance(OTHERS, stance, P.arms_openness)
    return instruments.arms_shares(offer, accept, np.full((1, N), P.outside_arms_supply))


def test_a_closer_patron_supplies_more_arms():
    """Arms follow the stance (a patron arms the clients it supports): the warmer the two
    stances, the larger the supplier's share of the buyer's imports."""
    assert shares(stances(0.8))[0, SUP, BUY] > shares(stances(0.2))[0, SUP, BUY] > shares(stances(-0.1))[0, SUP, BUY]


def test_no_state_buys_from_a_rival():
    """A buyer must want to buy: hostile beyond the openness of trade, nothing flows however keen the seller."""
    assert shares(stances(0.9, back=-0.5))[0, SUP, BUY] == 0.0


def test_shares_of_a_buyer_sum_to_at_most_one():
    s = shares(np.clip(np.random.default_rng(1).normal(0, 0.5, (1, N, N)), -1, 1) * OTHERS)
    assert np.all(s >= 0) and np.all(s.sum(axis=1) <= 1.0 + 1e-12)


def sanction(stance_value: float, gdp_self: float = 10.0, gdp_other: float = 1.0, mandate: float = 0.0,
             imposed: float = 0.0) -> float:
    s = stances(stance_value)
    full = np.full((1, N, N), mandate), np.full((1, N, N), imposed)
    out = instruments.sanctions(OTHERS, s, np.full((1, N, 1), gdp_self), np.full((1, 1, N), gdp_other), *full,
                                P.sanction_threshold, P.waiver_stance)
    return float(out[0, SUP, BUY])


def test_adversaries_sanction_friends_do_not():
    """Drezner (1999): sanctions come from adversaries; none between friends or neutrals."""
    assert sanction(-0.9) > 0.0
    assert sanction(0.0) == sanction(0.6) == 0.0


def test_economic_leverage_deepens_a_sanction():
    assert sanction(-0.9, gdp_self=10.0) > sanction(-0.9, gdp_self=1.0)


def test_a_mandated_sanction_is_waived_only_for_a_friend():
    """A law with an outside trigger binds a neutral or hostile sanctioner; a warm one waives it."""
    assert sanction(0.0, mandate=0.5) == 0.5
    assert sanction(P.waiver_stance, mandate=0.5) == 0.0
    assert 0.0 < sanction(0.5 * P.waiver_stance, mandate=0.5) < 0.5


def test_a_multilateral_sanction_holds_whatever_the_stance():
    assert sanction(0.9, imposed=0.8) == 0.8


def test_installed_base_accumulates_and_decays():
    base = np.zeros((1, N, N))
    supply = np.zeros((1, N, N))
    supply[0, SUP, BUY] = 0.8
    for _ in range(20):
        base = instruments.installed_base(base, supply, P.base_persistence)
    built = base[0, SUP, BUY]
    assert 0.5 < built < 0.8
    for _ in range(5):
        base = instruments.installed_base(base, np.zeros((1, N, N)), P.base_persistence)
    assert 0.0 < base[0, SUP, BUY] < built


def test_aid_goes_from_the_rich_to_the_poor_it_is_close_to():
    s = stances(0.7)
    rich, poor = np.full((1, N, 1), 0.9), np.full((1, 1, N), 0.9)
    more = instruments.aid_offer(OTHERS, s, rich, poor, np.zeros((1, N, N)))[0, SUP, BUY]
    less = instruments.aid_offer(OTHERS, s, rich, poor * 0.2, np.zeros((1, N, N)))[0, SUP, BUY]
    cold = instruments.aid_offer(OTHERS, stances(-0.2), rich, poor, np.zeros((1, N, N)))[0, SUP, BUY]
    assert more > less > 0.0 == cold


def test_troops_come_only_by_invitation_against_a_shared_threat():
    """A warm host facing a threat the guest openly opposes invites it; without the threat, or
    without warmth, it does not (an occupation is an input, never an invitation)."""
    host, guest, rival = ix("AFG"), ix("USA"), ix("PAK")
    threat = np.zeros((1, N, N))
    threat[0, host, rival] = 0.8
    alignment = np.zeros((1, N, N))
    alignment[0, guest, rival] = alignment[0, rival, guest] = -0.6
    warm = stances(0.8, host, guest)
    assert instruments.invitation(OTHERS, warm, threat, alignment, P.invitation_threshold)[0, host, guest] > 0
    assert instruments.invitation(OTHERS, warm, threat * 0, alignment, P.invitation_threshold)[0, host, guest] == 0
    cold = stances(0.1, host, guest)
    assert instruments.invitation(OTHERS, cold, threat, alignment, P.invitation_threshold)[0, host, guest] == 0


def perceived_interest(state: dynamics.State, i: int, j: int) -> float:
    x = year()
    return float(dynamics.perceive(state.memory, state.alignment, x, P, state)[1].interest[0, i, j])


def test_past_supply_binds_the_buyer_to_its_supplier():
    """India's Soviet-built arms: an installed base raises the buyer's value of its supplier next year."""
    base = np.zeros((1, N, N))
    base[0, SUP, BUY] = 0.7
    plain = quiet_state()
    bound = dataclasses.replace(plain, installed_base=base)
    assert perceived_interest(bound, BUY, SUP) > perceived_interest(plain, BUY, SUP)


def test_an_occupation_is_no_stake():
    """Troops of occupation (an input) project power but add nothing to the invader's or the
    victim's interest in the other."""
    occupied = year()
    occupied.presence[0, ix("RUS"), ix("AFG")] = 1.0
    state = quiet_state()
    for i, j in ((ix("AFG"), ix("RUS")), (ix("RUS"), ix("AFG"))):
        plain = dynamics.perceive(state.memory, state.alignment, year(), P, state)[1].interest[0, i, j]
        seen = dynamics.perceive(state.memory, state.alignment, occupied, P, state)[1].interest[0, i, j]
        assert seen == plain


def test_each_state_chooses_its_own_row():
    """A state deciding its instruments alone (the Mesa agent) gets exactly the batch's row."""
    rng = np.random.default_rng(3)
    x = year(capability=rng.uniform(0.01, 0.3, (1, N)), gdp=rng.uniform(10, 1000, (1, N)),
             arms_export_share=rng.dirichlet(np.ones(N))[None], milex_share=rng.random((1, N)))
    state = quiet_state(intent=0.3)
    assessed = dynamics.assess(state, x, P, first_year=False)
    stance = np.clip(rng.normal(0, 0.6, (1, N, N)), -1, 1) * OTHERS
    batch = dynamics.decide_instruments(assessed, stance, slice(None), P)
    for r in range(N):
        alone = dynamics.decide_instruments(assessed, stance[:, r:r + 1], slice(r, r + 1), P)
        for name, value in alone.items():
            np.testing.assert_array_equal(value[:, 0], batch[name][:, r], err_msg=name)


def test_instruments_feed_back_the_next_year():
    """What a state chose this year is in next year's state, and changes next year's perceptions."""
    x = year(arms_export_share=np.full((1, N), 1.0 / N))
    state = quiet_state()
    warm = 0.8 * OTHERS[None]
    state = dataclasses.replace(state, stance=warm)
    assessed = dynamics.assess(state, x, P, first_year=False)
    after = dynamics.settle(assessed, warm, dynamics.decide_instruments(assessed, warm, slice(None), P), P)
    assert after.arms[0, SUP, BUY] > 0 and after.installed_base[0, SUP, BUY] > 0
    assert perceived_interest(after, BUY, SUP) > perceived_interest(state, BUY, SUP)
