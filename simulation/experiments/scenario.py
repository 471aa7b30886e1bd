"""Scenario files: YAML data (never code) stating a run or a counterfactual.

A scenario names its period, seeds, parameter overrides and timeline, and may change history's
*inputs*: remove, add, move or scale events, and edit an input series from a year on. It may
`extends:` another scenario and state only the difference. Files are parsed safely (no tags, no
aliases, no code) and validated by pydantic; every error names the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, create_model, model_validator

from simulation.engine import series
from simulation.engine.inputs import DATA_DIR, Inputs, build_inputs, regime_labels
from simulation.engine.params import Parameters
from simulation.engine.shocks import MAX_SEED
from simulation.engine.timeline import Event, has_strength, load_events, parse_event
from simulation.errors import NOT_FOUND, InputError, missing, unreadable
from simulation.experiments.periods import FIRST_YEAR, LAST_YEAR
from simulation.experiments.yamlfile import line_of, read_yaml_mapping, validation_error
from simulation.states import INDEX, check_state

#: Unknown fields are errors, and so are NaN and infinity (a NaN input would run and score silently).
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
#: A year or a count of years: a whole number written as one (the string "1950" is refused).
Year = Annotated[int, Strict()]
#: A run's seed: a whole number in 0 .. 2**63 - 1 (what numpy's generators take without surprise).
Seed = Annotated[int, Strict(), Field(ge=0, le=MAX_SEED)]
#: A number written as one, 0.5 or 1 (the string "0.5" and true are refused, not read as numbers).
Number = Annotated[float, Strict()]


class Period(BaseModel):
    model_config = STRICT
    start: Year = Field(FIRST_YEAR, ge=FIRST_YEAR, le=LAST_YEAR, description="first simulated year")
    end: Year = Field(LAST_YEAR, ge=FIRST_YEAR, le=LAST_YEAR, description="last simulated year")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        if self.end == self.start:
            raise ValueError(f"a period needs at least two years (start and end are both {self.start})")
        return self


#: Parameter overrides: every Parameters field, optional, within its documented bounds.
_OVERRIDE_FIELDS: dict[str, Any] = {
    name: (Number | None, Field(None, ge=lo, le=hi, description=Parameters.docs()[name]))
    for name, (lo, hi) in Parameters.bounds().items()}
ParameterOverrides = create_model("ParameterOverrides", __config__=STRICT, **_OVERRIDE_FIELDS)


class EventAdd(BaseModel):
    """A new event, with the same fields as a timeline row (simulation/data/events.csv)."""

    model_config = STRICT
    id: str = Field(min_length=1)
    year: Year
    until: Year | None = None
    kind: str
    actor: str
    target: str = ""
    value: Number | str
    source: str = Field(min_length=1)
    description: str = ""


class EventMove(BaseModel):
    """Move an event: to a year, or by a number of years (a multi-year act keeps its length)."""

    model_config = STRICT
    id: str
    to: Year | None = None
    by: Year | None = None

    @model_validator(mode="after")
    def _one(self) -> EventMove:
        if (self.to is None) == (self.by is None):
            raise ValueError("give exactly one of 'to' (a year) or 'by' (a number of years)")
        return self

    def shift(self, year: int) -> int:
        """How many years this moves an event that starts in `year`."""
        if self.by is not None:
            return self.by
        assert self.to is not None  # exactly one of them is set (checked when read)
        return self.to - year


class EventScale(BaseModel):
    """Scale an event's effect (its value), e.g. 0.5 for half as strong; clipped to [0, 1]."""

    model_config = STRICT
    id: str
    factor: Number = Field(ge=0.0, le=10.0)


class EventEdits(BaseModel):
    model_config = STRICT
    remove: list[str] = Field(default_factory=list)
    add: list[EventAdd] = Field(default_factory=list)
    move: list[EventMove] = Field(default_factory=list)
    scale: list[EventScale] = Field(default_factory=list)


#: Input series a scenario may edit -> whether they are per directed pair (True) or per state (False).
EDITABLE_SERIES: dict[str, bool] = series.editable()


class InputEdit(BaseModel):
    """Change one input series from a year on (to `until`, default the end): set it, scale it, or
    scale its growth since `from` (growth 0.5: grows half as fast)."""

    model_config = STRICT  # `from` by its name only: the field's Python name from_ is not a key of the file
    series: Literal[tuple(EDITABLE_SERIES)]  # type: ignore[valid-type]
    actor: str
    target: str | None = None
    from_: Year = Field(alias="from")
    until: Year | None = None
    set: Number | None = None
    scale: Number | None = Field(None, ge=0.0, le=100.0)
    growth: Number | None = Field(None, ge=0.0, le=10.0)

    @model_validator(mode="after")
    def _one_operation(self) -> InputEdit:
        if sum(x is not None for x in (self.set, self.scale, self.growth)) != 1:
            raise ValueError("give exactly one of 'set', 'scale' or 'growth'")
        return self


class ScenarioFile(BaseModel):
    """One file's content, before `extends` is resolved."""

    model_config = STRICT
    name: str = Field(min_length=1)
    description: str = ""
    extends: str | None = None
    period: Period | None = None
    seeds: list[Seed] | None = Field(None, min_length=1, max_length=10_000)
    parameters: ParameterOverrides = Field(default_factory=ParameterOverrides)
    timeline: str | None = Field(None, description="event timeline CSV, relative to the scenario file "
                                 "or, if not found there, to the package data directory")
    events: EventEdits = Field(default_factory=EventEdits)
    inputs: list[InputEdit] = Field(default_factory=list)


#: Which model validates each section, to list the allowed fields in an "unknown field" error.
_SECTIONS: dict[str, type[BaseModel]] = {
    "": ScenarioFile, "period": Period, "parameters": ParameterOverrides, "events": EventEdits,
    "events.add": EventAdd, "events.move": EventMove, "events.scale": EventScale, "inputs": InputEdit,
}


@dataclass(frozen=True)
class Where:
    """Where an edit was written, for error messages."""

    file: Path
    line: int | None
    field: str


@dataclass
class Scenario:
    """A resolved scenario: its own fields over those of the scenarios it extends."""

    name: str
    description: str
    period: Period
    seeds: list[int]
    parameters: dict[str, float]
    timeline: Path
    files: list[Path]  # the chain, root first
    removes: list[tuple[str, Where]] = field(default_factory=list)
    adds: list[tuple[EventAdd, Where]] = field(default_factory=list)
    moves: list[tuple[EventMove, Where]] = field(default_factory=list)
    scales: list[tuple[EventScale, Where]] = field(default_factory=list)
    input_edits: list[tuple[InputEdit, Where]] = field(default_factory=list)
    period_file: Path | None = None  # the file of the chain that sets the period (None: the default)

    def overrides(self) -> dict[str, float]:
        return dict(self.parameters)

    def period_words(self, where: Where) -> str:
        """'the period A-B', saying which file sets it when that is not the file of `where` (a child's
        period can leave a parent's edit outside it)."""
        words = f"the period {self.period.start}-{self.period.end}"
        if self.period_file is not None and self.period_file != where.file:
            words += f" (set by {self.period_file})"
        return words


def _read_file(path: Path) -> tuple[ScenarioFile, yaml.Node | None]:
    data, root = read_yaml_mapping(path, "scenario file")
    try:
        scenario = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, path, root, _SECTIONS) from None
    except RecursionError:
        raise InputError("YAML is nested too deeply", file=path) from None
    # the same seed twice would count one run twice: refused as a list of edits refuses a key twice
    _listed_once([(seed, Where(path, line_of(root, ("seeds", k)), f"seeds.{k}"))
                  for k, seed in enumerate(scenario.seeds or [])], lambda seed: f"seed {seed}")
    return scenario, root


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """Read a scenario and the chain it extends; returns the resolved scenario and its timeline path."""
    path = Path(path)
    chain: list[tuple[Path, ScenarioFile, yaml.Node | None]] = []
    current: Path | None = path
    while current is not None:
        # realpath, not Path.resolve: that raises on a loop of symbolic links, which the reader names
        resolved = os.path.realpath(current)
        if any(os.path.realpath(p) == resolved for p, _, _ in chain):
            names = " -> ".join(p.name for p, _, _ in chain) + f" -> {current.name}"
            raise InputError(f"'extends' makes a cycle: {names}", file=chain[-1][0],
                             line=line_of(chain[-1][2], ("extends",)), field="extends")
        data, root = _read_file(current)
        chain.append((current, data, root))
        if data.extends is None:
            current = None
        else:
            parent = current.parent / data.extends
            which = unreadable(parent)
            if which is not None:
                raise InputError(f"extends {data.extends!r}, which {which}", file=current,
                                 line=line_of(root, ("extends",)), field="extends")
            current = parent
    chain.reverse()  # root first: children override and add to their parents
    scenario = _resolve(chain)
    _check(scenario)
    return scenario, scenario.timeline


def _resolve(chain: list[tuple[Path, ScenarioFile, yaml.Node | None]]) -> Scenario:
    period, seeds, timeline_at = Period(), [0], None
    params: dict[str, float] = {}
    name = description = ""
    out = Scenario(name, description, period, seeds, params, DATA_DIR / "events.csv", [p for p, _, _ in chain])
    for path, data, root in chain:
        out.name, out.description = data.name, data.description or out.description
        out.period = data.period or out.period
        out.period_file = path if data.period is not None else out.period_file
        out.seeds = data.seeds or out.seeds
        out.parameters.update(data.parameters.model_dump(exclude_none=True))
        if data.timeline is not None:
            timeline_at = (path, root, data.timeline)

        def where(*loc: Any, _path: Path = path, _root: yaml.Node | None = root) -> Where:
            return Where(_path, line_of(_root, loc), ".".join(str(x) for x in loc))

        out.removes += [(eid, where("events", "remove", k)) for k, eid in enumerate(data.events.remove)]
        out.adds += [(e, where("events", "add", k)) for k, e in enumerate(data.events.add)]
        out.moves += [(e, where("events", "move", k)) for k, e in enumerate(data.events.move)]
        out.scales += [(e, where("events", "scale", k)) for k, e in enumerate(data.events.scale)]
        out.input_edits += [(e, where("inputs", k)) for k, e in enumerate(data.inputs)]
    if timeline_at is not None:
        path, root, name = timeline_at
        candidate = path.parent / name
        problem = missing(candidate)
        out.timeline = candidate if problem is None else DATA_DIR / name
        if problem is not None and missing(out.timeline) is not None:
            why = "" if problem == NOT_FOUND else f" ({problem})"
            raise InputError(f"timeline {name!r} not found next to the scenario or in {DATA_DIR}{why}",
                             file=path, line=line_of(root, ("timeline",)), field="timeline")
    return out


def _fail(message: str, where: Where, field: str | None = None) -> InputError:
    return InputError(message, file=where.file, line=where.line,
                      field=f"{where.field}.{field}" if field else where.field)


def _check(s: Scenario) -> None:
    """Checks that need the whole chain: states, years inside the period."""
    lo, hi = s.period.start, s.period.end
    for edit, where in s.input_edits:
        for name in ("actor", "target"):
            code = getattr(edit, name)
            if code is not None:
                check_state(code, file=where.file, line=where.line, field=f"{where.field}.{name}")
        if EDITABLE_SERIES[edit.series] != (edit.target is not None):
            need = "needs a 'target' (it is per pair)" if EDITABLE_SERIES[edit.series] else "takes no 'target'"
            raise _fail(f"series {edit.series} {need}", where, "target")
        if edit.target == edit.actor:
            raise _fail("actor and target are the same state", where, "target")
        if not lo <= edit.from_ <= hi:
            raise _fail(f"year {edit.from_} is outside {s.period_words(where)}", where, "from")
        if edit.until is not None and not edit.from_ <= edit.until <= hi:
            raise _fail(f"until {edit.until} is not within {edit.from_}-{hi}", where, "until")
        meta = series.schema()[edit.series]
        (low, high), positive = meta["bounds"], meta["positive"]
        if edit.set is not None and not (low < edit.set <= high if positive else low <= edit.set <= high):
            if high < series.UNBOUNDED:
                bounds = f"within {low:g}..{high:g}"
            else:
                bounds = f"above {low:g}" if positive else f"at least {low:g}"
            raise _fail(f"set {edit.set:.12g} is outside the range of {edit.series} ({bounds})", where, "set")
        if positive and edit.scale == 0:
            raise _fail(_not_positive(edit.series), where, "scale")
    for move, where in s.moves:
        if move.to is not None and not lo <= move.to <= hi:
            raise _fail(f"year {move.to} is outside {s.period_words(where)}", where, "to")
    # the same id twice in one file's list is a slip (for another id?), not a stronger edit: a second
    # removal removes nothing more, a second scale multiplied the factors, a second move added to the
    # first; a file may restate what a file it extends removes, scales or moves (each can be read,
    # and run, alone). An id added twice is said so here, not as one the timeline has already.
    _listed_once(s.removes, _event_id)
    _listed_once([(e.id, where) for e, where in s.adds], _event_id, "id")
    _listed_once([(e.id, where) for e, where in s.scales], _event_id, "id")
    _listed_once([(e.id, where) for e, where in s.moves], _event_id, "id")
    # edits of one series compose in order (a set then a scale, a set from a later year, a set of
    # part of the span), but the same operation on the same cells over the same years twice is the
    # same slip: two scales multiplied, a second set lost the first (an edit to the period's end is one
    # without an end)
    cells = [((e.series, e.actor, e.target, e.from_, hi if e.until is None else e.until, _operation(e)), where)
             for e, where in s.input_edits]
    _listed_once(cells, _input_edit)


def _operation(edit: InputEdit) -> str:
    return "set" if edit.set is not None else "scale" if edit.scale is not None else "growth"


def _input_edit(key: tuple[str, str, str | None, int, int, str]) -> str:
    series_name, actor, target, start, until, operation = key
    towards = f" towards {target}" if target is not None else ""
    return f"a {operation} of {series_name} for {actor}{towards} from {start} until {until}"


def _event_id(eid: str) -> str:
    return f"event id {eid!r}"


def _listed_once(edits: list[tuple[Any, Where]], what: Callable[[Any], str], field: str | None = None) -> None:
    """Refuse a key listed twice in one file's list of edits, at the second listing's line and naming
    the first's, as a duplicate key is refused. `what` says what the key is, in words."""
    first: dict[tuple[Path, Any], Where] = {}
    for key, where in edits:
        earlier = first.setdefault((where.file, key), where)
        if earlier is not where:
            at = f" (first given on line {earlier.line})" if earlier.line is not None else ""
            raise _fail(f"lists {what(key)} twice{at}", where, field)


def scenario_events(s: Scenario) -> list[Event]:
    """The timeline with the scenario's edits applied: removed, scaled, moved, then added."""
    regimes = regime_labels()
    events = load_events(s.timeline, regimes)
    by_id = {e.id: e for e in events}
    added_at: dict[str, Where] = {}
    for add, where in s.adds:
        row = {k: ("" if v is None else str(v)) for k, v in add.model_dump().items()}
        try:  # (a scenario edit without a line, from the app, is reported as line 0)
            added = parse_event(row, file=where.file, line=where.line or 0, regimes=regimes)
        except InputError as exc:  # same checks as a timeline row, reported at the scenario's field
            raise _fail(exc.message, where, exc.field) from None
        if added.id in by_id:
            removed = any(eid == added.id for eid, _ in s.removes)
            earlier = added_at.get(added.id)  # (one file's second add of an id is refused when read)
            clash = ("already exists in the timeline" if earlier is None else
                     f"is already added by {earlier.file}, which this scenario extends")
            raise _fail(f"event id {added.id!r} {clash}" +
                        (" (a scenario of the chain removes it; give the new event an id of its own)" if removed else ""),
                        where, "id")
        if not s.period.start <= added.year <= s.period.end:
            raise _fail(f"year {added.year} is outside {s.period_words(where)}", where, "year")
        if add.until is not None and add.until > s.period.end:
            raise _fail(f"until {add.until} is after the period's end ({s.period.end})", where, "until")
        if isinstance(add.value, str) and has_strength(added.kind):  # a regime's value is its label; others are numbers
            raise _fail(f"the value of an event of kind {added.kind} is a number in [0, 1], written as one "
                        f"(not {add.value!r})",
                        where, "value")
        by_id[added.id] = added
        added_at[added.id] = where
    known = set(by_id)

    def check_id(eid: str, where: Where, field: str | None) -> None:
        if eid not in known:
            near = ", ".join(sorted(k for k in known if k.split("_")[0] in eid)[:5])
            hint = f" (similar: {near})" if near else ""
            raise _fail(f"unknown event id {eid!r}{hint}", where, field)

    def depth(where: Where) -> int:  # a file's place in the chain, root first (an edit made in the app: last)
        return s.files.index(where.file) if where.file in s.files else len(s.files)

    removed_at: dict[str, Where] = {}
    for eid, where in s.removes:
        # a file removes what the timeline or a file it extends has, never what it or a file extending it adds
        # (that add would be dropped unseen)
        add_where = added_at.get(eid)
        if add_where is not None and depth(add_where) >= depth(where):
            raise _fail(f"event {eid!r} is added by this scenario, so it cannot be removed (drop the add instead)"
                        if add_where.file == where.file else
                        f"unknown event id {eid!r} (only {add_where.file}, which extends this scenario, adds it)",
                        where)
        check_id(eid, where, None)
        by_id.pop(eid, None)
        removed_at.setdefault(eid, where)

    def not_removed_here(eid: str, where: Where, what: str) -> None:
        # a file may remove what a file it extends edits (the child overrides); an edit of an event its
        # own file, or a file it extends, removed would be dropped unseen, so it is refused
        removed = removed_at.get(eid)
        if removed is not None and depth(removed) <= depth(where):
            by = "this scenario" if removed.file == where.file else f"{removed.file}, which this scenario extends"
            raise _fail(f"event {eid!r} is removed by {by}, so it cannot be {what}", where, "id")

    for scale, where in s.scales:
        check_id(scale.id, where, "id")
        not_removed_here(scale.id, where, "scaled")
        event = by_id.get(scale.id)
        if event is not None:
            if not has_strength(event.kind):
                raise _fail(f"a {event.kind} event has no strength to scale", where, "id")
            by_id[scale.id] = dataclasses.replace(event, value=float(np.clip(float(event.value) * scale.factor, 0, 1)))
    for move, where in s.moves:
        check_id(move.id, where, "id")
        not_removed_here(move.id, where, "moved")
        event = by_id.get(move.id)
        if event is not None:
            shift = move.shift(event.year)
            if not (s.period.start <= event.year + shift and event.until + shift <= s.period.end):
                raise _fail(f"moves {move.id} ({event.year}-{event.until}) to {event.year + shift}-"
                            f"{event.until + shift}, outside {s.period_words(where)}",
                            where, "by" if move.by is not None else "to")
            by_id[move.id] = dataclasses.replace(event, year=event.year + shift, until=event.until + shift)
    return list(by_id.values())


def apply_input_edits(inputs: Inputs, edits: list[tuple[InputEdit, Where]]) -> Inputs:
    """The inputs with each series edit applied, in order, and kept within the series' range; an
    edit that makes a series overflow (a set near the largest float, then scaled) is refused."""
    changed: dict[str, np.ndarray] = {}
    first, last = int(inputs.years[0]), int(inputs.years[-1])
    for edit, where in edits:
        arr = changed.get(edit.series)
        if arr is None:
            arr = changed[edit.series] = getattr(inputs, edit.series).copy()
        meta = series.schema()[edit.series]
        t0 = edit.from_ - first
        t1 = (edit.until if edit.until is not None else last) - first + 1
        index = (slice(t0, t1), INDEX[edit.actor]) + ((INDEX[edit.target],) if edit.target else ())
        base = float(arr[(t0, *index[1:])])
        if edit.growth is not None and not base > 0:  # growth scales the change since `from`: a ratio to `base`
            raise _fail(f"growth needs {edit.series} above 0 in {edit.from_} (it is {base:g} there); "
                        "use set or scale", where, "growth")
        with np.errstate(over="ignore"):  # refused below, once, in the user's words
            _apply(arr, index, edit, base, meta["bounds"])
        if not (np.isfinite(arr[index]).all() and (meta["bounds"][1] < series.UNBOUNDED
                                                   or arr[index].max() <= series.MAX_EDITED)):
            raise _fail(f"makes {edit.series} larger than {series.MAX_EDITED:g} {meta['unit']}, beyond any economy; "
                        "use a smaller value", where)
        if meta["positive"] and not (arr[index] > 0).all():  # a value too small for a float: 0
            raise _fail(_not_positive(edit.series), where)
    return dataclasses.replace(inputs, **changed)


def _not_positive(name: str) -> str:
    return f"makes {name} 0, and it must stay above 0 (the rules divide by it); use a value above 0"


def _apply(arr: np.ndarray, index: tuple, edit: InputEdit, base: float, bounds: tuple[float, float]) -> None:
    """One series edit, in place on the cells `index` of `arr` (`base`: their value in the edit's first
    year, above 0 for growth), then the series kept within `bounds`."""
    if edit.set is not None:
        arr[index] = edit.set
    elif edit.scale is not None:
        arr[index] = arr[index] * edit.scale
    elif edit.growth is not None:
        arr[index] = base * np.power(np.clip(arr[index] / base, 1e-12, None), edit.growth)
    # a series that must stay above 0 (GDP) is not clipped up to it: an edit reaching 0 is refused
    np.clip(arr, *bounds, out=arr)


def scenario_inputs(s: Scenario, events: list[Event] | None = None) -> tuple[Inputs, Parameters]:
    """Everything a run of this scenario needs, validated before anything runs or is written."""
    events = scenario_events(s) if events is None else events
    params = Parameters.baseline().with_overrides(s.overrides())
    inputs = build_inputs(s.period.start, s.period.end, events, params=params)
    return apply_input_edits(inputs, s.input_edits), params
