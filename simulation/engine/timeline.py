"""The event timeline: dated, sourced changes to the model's inputs.

Each event changes an *input*: an exogenous fact (docs: simulation/data/PROVENANCE.md). Between two
of the six only force (acts, and an occupation as its continuation), geography, disputes inherited
at the start, and laws or multilateral decisions whose trigger lies outside the pair may be events;
what one of the six does toward another that expresses their relation (arms, sanctions chosen or
lifted, aid, investment, invited troops) is the agents' choice (simulation.rules.instruments), never
an event (tests/test_provenance.py enforces the allowed kinds per pair). A stateful kind holds its
value until a later event of the same kind and states changes it; an aggression is an act in `year`
(repeated each year to `until`), and an internal conflict likewise holds in each year from `year`
to `until` only. Where such events overlap in a year, the highest value holds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from simulation.engine.series import schema
from simulation.errors import InputError, read_text_file
from simulation.states import INDEX, STATES

OUTSIDE = "*"  # target of an act against a state outside the six (e.g. Ukraine)

#: kind -> (the input series it writes, what its value means). Whether a kind needs a target
#: follows from its series' shape in the schema (per directed pair, or per state).
KINDS: dict[str, tuple[str, str]] = {
    "regime": ("ideology", "regime label from regimes.csv; sets the state's ideology"),
    "aggression": ("acts", "intensity of a hostile act by actor against target (or '*', a state outside the six)"),
    "nuclear": ("nuclear", "1 when the actor holds nuclear weapons (offensive power)"),
    "multilateral_sanction": ("sanction", "share of actor's arms and aid supply to target cut by a multilateral "
                              "decision whose trigger lies outside the pair (the description names it: 'trigger: ...')"),
    "statutory_sanction": ("mandate", "share of actor's arms and aid supply to target that a law of actor mandates "
                           "cutting after a trigger outside the pair ('trigger: ...'); actor may waive it"),
    "border": ("contiguity", "contiguity of actor and target: 1 a land border, 0 none"),
    "presence": ("presence", "actor's army of occupation in target after an invasion (projects actor's power to "
                 "target's neighbours; never a stake)"),
    "dispute": ("dispute", "territorial dispute between actor and target inherited at the start or created by a "
                "change of geography"),
    "internal_conflict": ("internal_threat", "intensity of an armed internal conflict (civil war, insurgency) that "
                          "actor's government fights on its own territory, in each year to `until` "
                          "(UCDP/PRIO intensity coded by INTERNAL_CONFLICT_INTENSITY)"),
    "armed_takeover": ("takeover", "1 in the first year of actor's regime when its forces took the capital from the "
                       "previous government in an armed internal conflict (the regime event of the same year)"),
}
#: Kinds that hold only in their own years, `year` to `until` (the others are stateful).
PER_YEAR = ("aggression", "internal_conflict", "armed_takeover")
#: The coding of the UCDP/PRIO intensity level of an internal conflict-year into its value in
#: `internal_threat` (simulation/data/PROVENANCE.md): 2, war (1,000 or more battle-related deaths),
#: and 1, minor (25-999). A data-coding convention, not a model parameter.
INTERNAL_CONFLICT_INTENSITY: dict[int, float] = {2: 1.0, 1: 0.5}


def needs_target(kind: str) -> bool:
    """A kind whose series is per directed pair names a target state."""
    return schema()[KINDS[kind][0]]["per"] == "pair"


def has_strength(kind: str) -> bool:
    """Every kind but a regime change has a strength in [0, 1] (which a scenario may scale)."""
    return KINDS[kind][0] != "ideology"


COLUMNS = ("id", "year", "until", "kind", "actor", "target", "value", "source", "description")


@dataclass(frozen=True)
class Event:
    """One dated change to an input, with its source."""

    id: str
    year: int
    until: int
    kind: str
    actor: str
    target: str  # a state code, OUTSIDE, or "" for kinds without a target
    value: float | str
    source: str
    description: str = ""

    @property
    def years(self) -> range:
        return range(self.year, self.until + 1)


def _state(code: str, *, field: str, file: Path, line: int, allow_outside: bool = False) -> str:
    if code in INDEX or (allow_outside and code == OUTSIDE):
        return code
    expected = " ".join(STATES) + (" or '*'" if allow_outside else "")
    raise InputError(f"unknown state code {code!r} (expected one of {expected})", file=file, line=line, field=field)


def parse_event(row: dict[str, str], *, file: Path, line: int, regimes: set[str]) -> Event:
    """Validate one timeline row; raise InputError naming the file, line and field."""

    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    eid = get("id")
    if not eid:
        raise InputError("every event needs an id", file=file, line=line, field="id")
    try:
        year = int(get("year"))
    except ValueError:
        raise InputError(f"expected a whole year, got {get('year')!r}", file=file, line=line, field="year") from None
    if not 1900 <= year <= 2100:
        raise InputError(f"year {year} is outside 1900..2100", file=file, line=line, field="year")
    until = year
    if get("until"):
        try:
            until = int(get("until"))
        except ValueError:
            raise InputError(f"expected a whole year, got {get('until')!r}", file=file, line=line, field="until") from None
        if until < year:
            raise InputError(f"until ({until}) is before year ({year})", file=file, line=line, field="until")
    kind = get("kind")
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})", file=file, line=line, field="kind")
    if until != year and kind not in PER_YEAR:
        raise InputError(f"only {' or '.join(PER_YEAR)} events can last several years ('until')",
                         file=file, line=line, field="until")
    actor = _state(get("actor"), field="actor", file=file, line=line)
    target = get("target")
    if needs_target(kind):
        target = _state(target, field="target", file=file, line=line, allow_outside=kind == "aggression")
        if target == actor:
            raise InputError("actor and target are the same state", file=file, line=line, field="target")
    elif target:
        raise InputError(f"a {kind} event takes no target", file=file, line=line, field="target")
    raw = get("value")
    value: float | str
    if not has_strength(kind):
        if raw not in regimes:
            raise InputError(f"unknown regime {raw!r} (expected one of {', '.join(sorted(regimes))})",
                             file=file, line=line, field="value")
        value = raw
    else:
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"expected a number in [0, 1], got {raw!r}", file=file, line=line, field="value") from None
        if not 0.0 <= value <= 1.0:
            raise InputError(f"expected a number in [0, 1], got {value}", file=file, line=line, field="value")
    source = get("source")
    if not source:
        raise InputError("every event needs a source (seed file and section, or data set)",
                         file=file, line=line, field="source")
    return Event(eid, year, until, kind, actor, target, value, source, get("description"))


def write_events(events: list[Event], path: Path) -> None:
    """Write a timeline in the same format it is read (the events a run actually used)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for e in sorted(events, key=lambda e: e.year):
            writer.writerow([e.id, e.year, e.until if e.until != e.year else "", e.kind, e.actor, e.target,
                             e.value if isinstance(e.value, str) else f"{e.value:g}", e.source, e.description])


#: A timeline larger than this is refused unread (the committed one is about 60 kB).
MAX_TIMELINE_BYTES = 64 * 2**20


def load_events(path: Path, regimes: set[str]) -> list[Event]:
    """Read and validate a timeline CSV; events come back in file order. Each event is one line: a
    field holding a line break, or a quote left open (which would swallow the lines after it into
    one field), is refused naming the line where the record starts."""
    text = read_text_file(path, "the event timeline", MAX_TIMELINE_BYTES)
    with io.StringIO(text, newline="") as handle:
        records = _records(handle, path)
        header = next(records, (1, []))[1]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}", file=path, line=1)
        events: list[Event] = []
        seen: dict[str, int] = {}
        for line, fields in records:
            if not fields:
                continue  # a blank line
            if len(fields) > len(header):
                raise InputError("more fields than the header has (quote values that contain commas)", file=path, line=line)
            row = dict(zip(header, fields))
            event = parse_event(row, file=path, line=line, regimes=regimes)
            if event.id in seen:
                raise InputError(f"duplicate event id {event.id!r} (first on line {seen[event.id]})",
                                 file=path, line=line, field="id")
            seen[event.id] = line
            events.append(event)
    return events


def _records(handle: io.StringIO, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on; one that is not a single line (a field with a line
    break, a quote left open) or is not valid CSV is an `InputError` naming that line."""
    reader = csv.reader(handle, strict=True)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "end of data" in str(exc):  # the file ends inside a quoted field
                raise InputError("a quote opened on this line is never closed (the file ends inside it)",
                                 file=path, line=start) from None
            if reader.line_num != start:
                raise _runs_on(path, start, reader.line_num) from None
            raise InputError(f"not valid CSV ({exc}); quote a field that holds a comma or a quote, and double "
                             "the quotes inside it", file=path, line=start) from None
        end = reader.line_num
        if end != start:
            raise _runs_on(path, start, end)
        yield start, fields
        start = end + 1


def _runs_on(path: Path, start: int, end: int) -> InputError:
    return InputError(f"a quoted field runs on to line {end} (a quote left open?); every event is one line, "
                      "and a field cannot hold a line break", file=path, line=start)
