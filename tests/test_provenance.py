"""The timeline holds only exogenous facts: the kinds allowed between two of the six, enforced.

What one of the six does toward another that expresses their relation (sanctions and embargoes
between them, arms cutoffs and resumptions, invited troops, investment programmes, claims or
settlements timed by the relation) is the agents' choice (rules/instruments.py), never an event.
"""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from simulation.engine.inputs import DATA_DIR, regime_labels
from simulation.engine.timeline import INTERNAL_CONFLICT_INTENSITY, KINDS, OUTSIDE, load_events

EVENTS = load_events(DATA_DIR / "events.csv", regime_labels())
BY_ID = {e.id: e for e in EVENTS}
#: kinds allowed between two of the six, and why each is exogenous
ALLOWED_BETWEEN_SIX = {
    "aggression": "a use or threat of force",
    "presence": "an army of occupation, the continuation of an invasion",
    "border": "geography, changed by state formation or dissolution",
    "dispute": "a territorial dispute inherited at the start or created by a change of geography",
    "statutory_sanction": "a general law of the sanctioner whose trigger lies outside the pair",
    "multilateral_sanction": "a decision taken with states outside the six, triggered outside the pair",
}
#: the last year a dispute may start: inherited in 1947 or created by the Tibet border of 1950
LAST_INHERITED_DISPUTE = 1950
PAIR_EVENTS = [e for e in EVENTS if e.target and e.target != OUTSIDE]
#: per-state domestic upheavals: regime changes and armed internal conflicts (no target, never an act
#: of one of the six toward another; who helps either side is not coded)
DOMESTIC_KINDS = {"regime", "internal_conflict"}
INTERNAL = [e for e in EVENTS if e.kind == "internal_conflict"]


def test_no_kind_can_express_a_relation():
    """No event kind writes an instrument or an alignment: bilateral sanctions, investment and
    hand-set needs are gone from the vocabulary."""
    assert set(KINDS) >= set(ALLOWED_BETWEEN_SIX)
    assert not {"sanction", "investment", "energy_need", "energy_supply", "alliance", "arms"} & set(KINDS)


@pytest.mark.parametrize("event", PAIR_EVENTS, ids=lambda e: e.id)
def test_only_exogenous_kinds_between_two_of_the_six(event):
    assert event.kind in ALLOWED_BETWEEN_SIX, f"{event.id}: {event.kind} between {event.actor} and {event.target}"


def test_an_occupation_follows_an_invasion_and_ends_once():
    """Troops in another state are an input only as an army of occupation: the presence starts in
    the year the same actor uses force against that state, and ends with a withdrawal event."""
    for e in (e for e in PAIR_EVENTS if e.kind == "presence"):
        if float(e.value) > 0:
            assert any(a.kind == "aggression" and a.actor == e.actor and a.target == e.target and e.year in a.years
                       for a in EVENTS), e.id
        else:
            assert any(p.kind == "presence" and p.actor == e.actor and p.target == e.target and p.year < e.year
                       and float(p.value) > 0 for p in EVENTS), e.id


def test_disputes_are_inherited_not_timed_by_the_relation():
    for e in (e for e in PAIR_EVENTS if e.kind == "dispute"):
        assert e.year <= LAST_INHERITED_DISPUTE, f"{e.id}: a claim raised or settled in {e.year}"


def test_border_changes_come_with_a_change_of_state():
    """A border changes only when a state forms, dissolves or takes territory outside the six: a
    regime change of one of the two within a year."""
    for e in (e for e in PAIR_EVENTS if e.kind == "border"):
        assert any(r.kind == "regime" and r.actor in (e.actor, e.target) and abs(r.year - e.year) <= 1
                   for r in EVENTS), e.id


@pytest.mark.parametrize("event", [e for e in PAIR_EVENTS if e.kind.endswith("_sanction")], ids=lambda e: e.id)
def test_a_sanction_input_names_a_trigger_outside_the_pair(event):
    """A law or multilateral decision is an input only with a trigger outside the pair: an event by
    the target that is not an act against the sanctioner (a test, an act against a third state), or
    a domestic one. Its lifting is never an event."""
    match = re.match(r"trigger: ([^.]+)\.", event.description)
    assert match, f"{event.id}: the description must start with 'trigger: ...'"
    trigger = match.group(1).strip()
    if trigger.startswith("domestic"):
        return
    assert trigger in BY_ID, f"{event.id}: unknown trigger {trigger!r}"
    cause = BY_ID[trigger]
    assert cause.actor == event.target and cause.target != event.actor, f"{event.id}: trigger inside the pair"
    assert abs(cause.year - event.year) <= 1
    assert float(event.value) > 0, f"{event.id}: a lifting is the sanctioner's choice, not an event"


def test_acts_are_coded_symmetrically_for_nuclear_tests():
    """Selection symmetry: a nuclear test coded as an act against a rival is coded for both sides."""
    tests = [e for e in EVENTS if e.kind == "aggression" and e.id.startswith("nuclear_tests_")]
    assert tests
    for e in tests:
        assert any(o.actor == e.target and o.target == e.actor and o.year == e.year for o in tests), e.id


def test_every_great_power_acts_against_outsiders_are_coded():
    """Selection symmetry: China, the USSR/Russia and the US each have acts against states outside
    the six coded, by the same standard (PROVENANCE.md)."""
    counts = {s: sum(1 for e in EVENTS if e.kind == "aggression" and e.target == OUTSIDE and e.actor == s)
              for s in ("CHN", "RUS", "USA")}
    assert min(counts.values()) >= 5, counts


def test_provenance_lists_every_event():
    text = (DATA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \| \d{4}", text, re.M))
    assert listed == {e.id for e in EVENTS}


def test_domestic_kinds_name_no_other_state():
    assert DOMESTIC_KINDS <= set(KINDS)
    assert all(not e.target for e in EVENTS if e.kind in DOMESTIC_KINDS)


@pytest.mark.parametrize("event", INTERNAL, ids=lambda e: e.id)
def test_an_internal_conflict_names_its_ucdp_conflict_and_codes_its_level(event):
    """Each internal conflict cites the UCDP/PRIO conflict it codes, and its value is that level by the
    coding convention (intensity 2, war = 1.0; 1, minor = 0.5; PROVENANCE.md)."""
    conflict = re.match(r"UCDP conflict (\d+) '[^']+': ", event.description)
    assert conflict, f"{event.id}: the description must start with \"UCDP conflict N 'name': \""
    assert event.source.startswith("UCDP/PRIO Armed Conflict Dataset v25.1")
    assert event.source.endswith(f"conflict {conflict.group(1)}")
    level = re.search(r"intensity ([12]) \(", event.description)
    assert level and float(event.value) == INTERNAL_CONFLICT_INTENSITY[int(level.group(1))], event.id


def test_internal_conflict_runs_are_disjoint_and_maximal():
    """One event per run of years at one intensity: a conflict's runs never overlap, and two runs
    that touch differ in intensity (else they would be one event)."""
    runs: dict[str, list] = {}
    for e in INTERNAL:
        runs.setdefault(e.source, []).append(e)
    for conflict in runs.values():
        conflict.sort(key=lambda e: e.year)
        for before, after in pairwise(conflict):
            assert before.until < after.year, (before.id, after.id)
            assert before.until + 1 < after.year or before.value != after.value, (before.id, after.id)
