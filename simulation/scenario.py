"""Scenario files: YAML data (never code) naming the period, seeds, parameter overrides and timeline.

Loaded with `yaml.safe_load`-equivalent composition (no tags, no code) and validated by a pydantic
schema; every error names the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from simulation.errors import InputError
from simulation.inputs import DATA_DIR
from simulation.params import Parameters

FIRST_YEAR, LAST_YEAR = 1947, 2024


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: int = Field(FIRST_YEAR, ge=FIRST_YEAR, le=LAST_YEAR, description="first simulated year")
    end: int = Field(LAST_YEAR, ge=FIRST_YEAR, le=LAST_YEAR, description="last simulated year")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


#: Parameter overrides: every Parameters field, optional, within its documented bounds.
ParameterOverrides = create_model(
    "ParameterOverrides",
    __config__=ConfigDict(extra="forbid"),
    **{name: (float | None, Field(None, ge=lo, le=hi, description=Parameters.docs()[name]))
       for name, (lo, hi) in Parameters.bounds().items()},
)


class Scenario(BaseModel):
    """A run specification. `parameters` overrides the committed baseline values by name."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    period: Period = Period()
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    parameters: ParameterOverrides = Field(default_factory=ParameterOverrides)  # type: ignore[valid-type]
    timeline: str = Field("events.csv", description="event timeline CSV, relative to the scenario file "
                          "or, if not found there, to the package data directory")

    def overrides(self) -> dict[str, float]:
        """The parameters this scenario sets, by name."""
        return self.parameters.model_dump(exclude_none=True)

    @field_validator("seeds")
    @classmethod
    def _non_negative(cls, value: list[int]) -> list[int]:
        if any(s < 0 for s in value):
            raise ValueError("seeds must be non-negative integers")
        return value


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (the deepest one that exists)."""
    node, line = root, None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            node = match[1]
            line = match[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    if line is None and root is not None:
        line = root.start_mark.line + 1
    return line


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """Read and validate a scenario file; returns the scenario and the resolved timeline path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("scenario file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read scenario file: {exc}", file=path) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", file=path,
                         line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping (name: ..., period: ...)", file=path, line=1)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or None
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            parent = Scenario if len(loc) == 1 else ParameterOverrides if loc[0] == "parameters" else Period
            message = f"unknown field {loc[-1]!r} (expected one of {', '.join(parent.model_fields)})"
        raise InputError(message, file=path, line=_line_of(root, loc), field=field) from None
    timeline = path.parent / scenario.timeline
    if not timeline.exists():
        timeline = DATA_DIR / scenario.timeline
    if not timeline.exists():
        raise InputError(f"timeline {scenario.timeline!r} not found next to the scenario or in {DATA_DIR}",
                         file=path, line=_line_of(root, ("timeline",)), field="timeline")
    return scenario, timeline
