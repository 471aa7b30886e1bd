"""One year of the system, composed from the rules: perceive, then choose, then align.

Each year every state perceives (threats, interests) from this year's inputs and what the states
did last year (the instruments carried in `State`), chooses its stances and, from them, its
instruments toward each other state (its own row: arms offered and accepted, sanctions, aid,
troops, exercises); `settle` forms the alignments and the flows, which enter next year's perceptions.

The Mesa model (simulation.engine.model) and any batch engine call these same functions, so they give
the same result for the same inputs, parameters and shocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulation.engine.params import Parameters
from simulation.engine.series import YearInputs
from simulation.rules import choice, instruments, interest, power, threat
from simulation.rules.types import Array


def per_run(value: float | Array, ndim: int) -> Array:
    """A weight as an array that broadcasts against a batch of runs: a float for every run, or
    one value per run (shape (B,)), reshaped to (B, 1, ...) with `ndim` axes in all."""
    v = np.asarray(value, dtype=float)
    return v.reshape(v.shape + (1,) * (ndim - v.ndim))


def w3(value: float | Array) -> Array:
    """A weight that acts on (B, N, N) arrays."""
    return per_run(value, 3)


#: The instruments a year settles, each (B, N, N) and read [from, to] (rules.instruments).
INSTRUMENTS = ("arms", "sanction", "aid", "troops", "exercise", "installed_base")


@dataclass(frozen=True)
class State:
    """What carries over from one year to the next: remembered intent, stances, alignments, and the
    instruments the states chose (zero before the first year)."""

    memory: Array  # (B, N, N) perceived intent from remembered acts
    stance: Array  # (B, N, N) what i wants with j
    alignment: Array  # (B, N, N) symmetric, mutual
    arms: Array = field(default=None)  # type: ignore[arg-type]  # [i, j] share of j's arms imports from i
    sanction: Array = field(default=None)  # type: ignore[arg-type]  # [i, j] share of i's supply to j cut
    aid: Array = field(default=None)  # type: ignore[arg-type]  # [i, j] aid and investment from i to j
    troops: Array = field(default=None)  # type: ignore[arg-type]  # [i, j] i's troops in j by invitation
    exercise: Array = field(default=None)  # type: ignore[arg-type]  # symmetric: exercises held together
    installed_base: Array = field(default=None)  # type: ignore[arg-type]  # [i, j] share of j's forces built by i

    def __post_init__(self) -> None:
        for name in INSTRUMENTS:
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(np.shape(self.memory)))


@dataclass(frozen=True)
class Perception:
    """What each state sees this year (all (B, N, N), [i, j] = i's view of j)."""

    proximity: Array
    relative_power: Array
    military_balance: Array  # [i, j] = milex_j / (milex_i + milex_j)
    intent: Array
    ideological_distance: Array
    walt_threat: Array
    power_threat: Array
    threat: Array  # effective threat acted on
    interest: Array
    self_reliance: Array  # (B, N)
    bipolarity: Array  # (B,)
    arms_need: Array  # (B, N)
    aid_need: Array  # (B, N)
    aid_capacity: Array  # (B, N)
    dilemma: Array  # [i, j] how closely j is aligned with i's rival (threat.security_dilemma), unweighted
    schism: Array  # [i, j] rivalry of a doctrine admitting one centre (threat.divisive_doctrine), unweighted
    trade: Array  # [i, j] j's share of i's trade as size and distance predict it, as far as both are markets
    patronage: Array  # [i, j] j's worth as a patron against i's insurgents


def perceive(memory: Array, alignment: Array, x: YearInputs, p: Parameters,
             past: State | None = None) -> tuple[Array, Perception]:
    """Update remembered intentions with this year's acts and compute every state's threats and
    interests; `past` carries last year's instruments (none when omitted)."""
    past = past if past is not None else State(memory, alignment, alignment)
    rel = power.relative_power(x.capability)
    # troops project power whether they came as occupiers (an input) or by invitation (a choice)
    projected = np.maximum(x.presence, past.troops)
    prox = power.proximity(x.distance_km, x.contiguity, projected, x.capability, x.milex_share,
                           per_run(p.reach_km, 2), w3(p.global_reach))
    memory = threat.forget_on_regime_change(memory, x.regime_change, per_run(p.regime_reset, 2))
    memory = threat.inherited_grievance(memory, alignment, x.takeover, w3(p.takeover_weight))
    memory = threat.update_intent_memory(memory, x.acts, x.outside_acts, prox,
                                         w3(p.intent_memory), w3(p.act_impact), w3(p.act_spillover),
                                         w3(p.near_victim_weight), w3(p.outside_witness_share),
                                         threat.attribution(alignment, w3(p.attribution_weight)))
    grievance = x.dispute + w3(p.sanction_grievance) * np.swapaxes(past.sanction, 1, 2)
    distance = threat.ideological_distance(x.ideology)
    schism = threat.divisive_doctrine(x.vanguard, rel)
    dilemma = threat.security_dilemma(alignment)
    intent = threat.perceived_intent(memory, grievance, distance,
                                     dilemma, w3(p.ideology_weight), w3(p.dilemma_weight),
                                     w3(p.schism_weight) * schism)
    coalition = threat.coalition_power(x.capability, alignment, w3(p.coalition_weight))
    offence = power.offence(x.nuclear, x.milex_share, per_run(p.nuclear_offence, 2))
    capacity = threat.threat_capacity(x.capability, coalition, prox, offence,
                                      w3(p.offence_weight))
    deterred = threat.deterrence(x.nuclear, w3(p.deterrence_weight))
    walt = threat.walt_threat(capacity * deterred, intent)
    # polarity by military spending: superpower status is military, and CINC (population, steel)
    # ranks China first from the mid-1990s, which no account of the period does
    bipolar = power.bipolarity(x.milex_share)
    waltz = threat.power_threat(rel, prox, power.poles(x.milex_share), bipolar, w3(p.pole_weight)) * deterred
    effective = threat.effective_threat(walt, intent, waltz, w3(p.threat_weight), w3(p.intent_weight),
                                        w3(p.power_weight))
    reliance = power.self_reliance(np.broadcast_to(x.capability, effective.shape[:2]), effective)
    need = interest.arms_need(effective, reliance)
    aid_need, aid_capacity = interest.aid_need(x.gdp_per_capita), interest.aid_capacity(x.gdp, x.gdp_per_capita)
    # an army of occupation is no stake (it is force, an input); what binds are the states' own
    # choices of last year: the arms base, aid and invited troops (rules.instruments)
    value = interest.self_interest(need, x.arms_export_share, aid_need, aid_capacity, x.energy_need, x.energy_supply,
                                   past.sanction, past.installed_base, past.aid, past.troops,
                                   w3(p.installed_base_weight), w3(p.stake_weight))
    military = power.relative_power(x.milex_share)
    trade = interest.trade_dependence(x.gdp, x.distance_km, interest.market_orientation(x.ideology))
    return memory, Perception(prox, rel, military, intent, distance, walt, waltz, effective, value, reliance, bipolar,
                              need, aid_need, aid_capacity, dilemma, schism, trade, choice.omnibalancing(x.internal_threat, prox,
                                                                                        x.milex_share))


#: Each motive of `motives`, in its order, with a plain-language label and a short name for figures
#: (what `explain`, `motives.csv` and the app call it). A new motive adds its row here.
MOTIVES: dict[str, tuple[str, str]] = {
    "balancing": ("external balancing (an ally against shared threats)", "external balancing"),
    "threat": ("threat (balance against it)", "threat"),
    "bandwagoning": ("bandwagoning (join an overwhelming threat)", "bandwagoning"),
    "interest": ("self-interest (arms, aid, energy, investment)", "self-interest"),
    "affinity": ("ideology (affinity of regimes)", "ideology"),
    "interdependence": ("interdependence (trade that size and distance predict)", "expected trade"),
    "omnibalancing": ("omnibalancing (a patron against insurgents at home)", "patron at home"),
    "structural balance": ("structural balance (the cost of courting a friend's enemy)", "friend's enemy"),
    "buffer": ("buffer (weak ground a rival could use)", "buffer"),
}


def motives(seen: Perception, alignment: Array, p: Parameters) -> dict[str, Array]:
    """The weighted parts of every state's net motive toward every other this year, by name.

    Their sum, squashed, is the stance each state's motives call for (`choice.desired_stance`); the
    parts are what `explain` reports. A new mechanism is one more entry here.
    """
    help_ = _ally_help(seen, p)
    # a state strong against its main threat relies less on allies (internal balancing)
    external = (w3(p.balancing_weight) * (1.0 - per_run(p.self_reliance_weight, 2) * seen.self_reliance)[:, :, None]
                * choice.external_balancing(seen.threat, alignment, help_))
    # bandwagoning answers an overwhelming power *nearby* (Walt), so it reads the threats that
    # carry capability and proximity, not hostile intent on its own
    overwhelming = w3(p.threat_weight) * seen.walt_threat + w3(p.power_weight) * seen.power_threat
    return {
        "balancing": external,
        "threat": -seen.threat,
        "bandwagoning": w3(p.bandwagon_weight) * choice.bandwagoning(overwhelming, seen.military_balance, alignment),
        "interest": w3(p.interest_weight) * seen.interest,
        "affinity": w3(p.affinity_weight) * choice.ideological_affinity(seen.ideological_distance,
                                                                         w3(p.schism_affinity) * seen.schism),
        "interdependence": w3(p.trade_weight) * seen.trade,
        "omnibalancing": w3(p.omnibalancing_weight) * seen.patronage,
        "structural balance": -w3(p.structural_weight) * choice.structural_balance(seen.dilemma),
        "buffer": w3(p.buffer_weight) * choice.buffer_value(seen.threat, seen.proximity, seen.relative_power,
                                                                 seen.intent),
    }


def _ally_help(seen: Perception, p: Parameters) -> Array:
    """How much each state can do against each other (choice.ally_help), as the balancing motive reads it."""
    return choice.ally_help(seen.relative_power, seen.proximity, w3(p.ally_power_exponent), w3(p.frontline_weight))


def balancing_shares(seen: Perception, alignment: Array, p: Parameters) -> Array:
    """(B, N, N, K): the share of i's external-balancing motive toward j that answers the threat
    from each third state k (they sum to 1 over k; all 0 where the motive is 0)."""
    return _shares(choice.balancing_against(seen.threat, alignment, _ally_help(seen, p)))


def structural_shares(seen: Perception, alignment: Array, p: Parameters) -> Array:
    """(B, N, N, K): 1 for the friend k of i through whom j's enmity costs i most (the maximum the
    structural-balance motive takes), 0 for the others and wherever the motive is 0."""
    terms = choice.structural_balance_through(alignment)
    binding = np.argmax(terms, axis=-1)[..., None] == np.arange(terms.shape[-1])
    return (binding & (terms.max(axis=-1, keepdims=True) > 0.0)).astype(float)


def buffer_shares(seen: Perception, alignment: Array, p: Parameters) -> Array:
    """(B, N, N, K): the share of i's buffer motive toward j that each rival k's reach makes (they sum
    to 1 over k; all 0 where the motive is 0)."""
    return _shares(choice.buffer_against(seen.threat, seen.proximity, seen.relative_power, seen.intent))


def _shares(terms: Array) -> Array:
    """Non-negative terms (B, N, N, K) as shares of their sum over k; all 0 where the sum is 0."""
    total = terms.sum(axis=-1, keepdims=True)
    return np.divide(terms, total, out=np.zeros_like(terms), where=total > 0.0)


#: Motives that are sums or maxima over third states: what `explain` heads the third state's column
#: and its table with, and each year's shares of the motive by third state (they add up to 1, or are all 0).
THIRD_STATE_SPLITS: dict[str, tuple[str, str, Callable[[Perception, Array, Parameters], Array]]] = {
    "balancing": ("against", "External balancing, by the third state whose threat it answers", balancing_shares),
    "structural balance": ("through", "Structural balance, by the friend whose enemy the other side is",
                           structural_shares),
    "buffer": ("against", "Buffer, by the rival whose reach makes the other side worth keeping", buffer_shares),
}


def inertia(seen: Perception, p: Parameters, first_year: bool) -> Array:
    """(B,): how much of last year's stance each run keeps; none in the first year (no past yet)."""
    keep = per_run(p.inertia, 1) + per_run(p.bipolar_inertia, 1) * seen.bipolarity
    if first_year:
        return np.zeros_like(keep)
    return np.clip(keep, 0.0, per_run(p.max_inertia, 1))


@dataclass(frozen=True)
class Assessment:
    """Everything the states work out in a year before they choose: what they see, what moves them,
    the stance their motives call for and how much of last year's stance they keep."""

    memory: Array  # (B, N, N) remembered intent after this year's acts
    seen: Perception
    inputs: YearInputs  # this year's inputs (the instruments read capacities, needs and laws)
    past: State  # last year's state (alignments and installed base the instruments build on)
    motives: dict[str, Array]  # name -> (B, N, N) weighted part of the net motive
    target: Array  # (B, N, N) desired stance
    keep: Array  # (B,) inertia


def assess(state: State, x: YearInputs, p: Parameters, first_year: bool) -> Assessment:
    """Perceive this year's world and work out every state's motives and desired stance."""
    memory, seen = perceive(state.memory, state.alignment, x, p, state)
    parts = motives(seen, state.alignment, p)
    return Assessment(memory, seen, x, state, parts, choice.desired_stance(parts, w3(p.gain)),
                      inertia(seen, p, first_year))


def choose(stance: Array, target: Array, keep: Array, p: Parameters, shock: Array) -> Array:
    """New stances for some rows of the stance matrix (all of them, or one agent's): keep part of
    last year's, move the rest toward the target, plus the run's shock scaled by `noise`."""
    return choice.update_stance(stance, target, keep, per_run(p.noise, 3) * shock)


def _rows(value: Array, batch: int, rows: slice) -> Array:
    """Per-state values (B or 1, N) of the choosing rows, as (B, R, 1)."""
    return np.broadcast_to(value, (batch, value.shape[-1]))[:, rows, None]


def decide_instruments(year: Assessment, stance: Array, rows: slice, p: Parameters) -> dict[str, Array]:
    """The choosing rows' instruments toward every state, from their new stances (B, R, N) this year:
    sanctions, arms offered (as supplier) and accepted (as buyer), aid offered and accepted, troops
    invited (as host) and sent (as guest), exercises offered. Each row reads only its own stances and
    public facts (capacities, needs, threats, last year's alignments), so a Mesa agent deciding its
    own row gets the batch's row exactly."""
    x, seen = year.inputs, year.seen
    n = stance.shape[-1]
    others = 1.0 - np.eye(n)[rows]  # (R, N)
    b = stance.shape[0]
    sanction = instruments.sanctions(others, stance, _rows(x.gdp, b, rows), x.gdp[:, None, :], x.mandate[:, rows],
                                     x.sanction[:, rows], w3(p.sanction_threshold), w3(p.waiver_stance))
    threshold = w3(p.invitation_threshold)
    return {
        "sanction": sanction,
        "arms_offer": instruments.arms_offer(others, stance, _rows(x.arms_export_share, b, rows), sanction, w3(p.arms_openness)),
        "arms_accept": instruments.arms_acceptance(others, stance, w3(p.arms_openness)),
        "aid_offer": instruments.aid_offer(others, stance, _rows(seen.aid_capacity, b, rows), seen.aid_need[:, None, :],
                                           sanction),
        "aid_accept": instruments.willingness(stance, w3(p.arms_openness)) * others,
        "invite": instruments.invitation(others, stance, seen.threat[:, rows], year.past.alignment, threshold),
        "deploy": instruments.deployment(others, stance, _rows(x.milex_share, b, rows), threshold),
        "exercise": instruments.exercise_offer(others, stance, seen.threat[:, rows], seen.threat, threshold),
    }


def settle(assessment: Assessment, stance: Array, choices: dict[str, Array], p: Parameters) -> State:
    """The year's outcome once every state has chosen: alignment is the mutual part of the stances;
    each flow happens where the giver offers and the receiver accepts (rules.instruments)."""
    x, past = assessment.inputs, assessment.past
    # suppliers outside the six follow a multilateral sanction on a buyer (the EU's on Russia)
    outside = per_run(p.outside_arms_supply, 2) * (1.0 - x.sanction.max(axis=1))
    arms = instruments.arms_shares(choices["arms_offer"], choices["arms_accept"], outside)
    return State(
        assessment.memory, stance, choice.mutual_alignment(stance),
        arms=arms, sanction=choices["sanction"],
        aid=instruments.mutual(choices["aid_offer"], choices["aid_accept"]),
        troops=instruments.mutual(choices["deploy"], choices["invite"]),
        exercise=np.minimum(choices["exercise"], np.swapaxes(choices["exercise"], 1, 2)),
        installed_base=instruments.installed_base(past.installed_base, arms, w3(p.base_persistence)),
    )


def step(state: State, x: YearInputs, p: Parameters, shock: Array, first_year: bool) -> tuple[State, Assessment]:
    """Advance the whole system one year (all states decide simultaneously)."""
    year = assess(state, x, p, first_year)
    stance = choose(state.stance, year.target, year.keep, p, shock)
    every = slice(None)
    return settle(year, stance, decide_instruments(year, stance, every, p), p), year
