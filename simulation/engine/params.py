"""The model's parameters: every weight of the theory, with unit, default and bounds, documented once,
in the table `parameters.toml` beside this module; here it becomes the frozen dataclass `Parameters`.

A scenario file may override any of them by name; calibration searches inside `bounds`.
All weights are dimensionless unless a unit is given.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import Field, field, fields, make_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from simulation.rules.types import Weight

#: The declaration of every parameter, and of the model variants that fix some of them.
TABLE = Path(__file__).with_name("parameters.toml")

#: The committed calibration (written by `simulation calibrate ... --write-baseline`).
CALIBRATED = Path(__file__).parents[1] / "data" / "calibrated.json"

#: The keys every [parameters.NAME] table has; it may also have a `unit`.
_KEYS = {"default", "bounds", "doc", "fitted", "stage"}


def _number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)  # TOML's true would pass as 1


def _entry(where: str, entry: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """One parameter's default and field metadata, checked; a ValueError says `where` and what is wrong."""
    def need(ok: bool, problem: str) -> None:
        if not ok:
            raise ValueError(f"{where}: {problem}")

    need(_KEYS <= set(entry) <= _KEYS | {"unit"}, f"has the keys {sorted(entry)}; needs {sorted(_KEYS)} and may have unit")
    default, bounds = entry["default"], entry["bounds"]
    need(isinstance(bounds, list) and len(bounds) == 2 and all(map(_number, [default, *bounds])),
         "default must be a number and bounds a list [lo, hi] of two numbers")
    lo, hi = float(bounds[0]), float(bounds[1])
    need(lo < hi and lo <= default <= hi, f"default {default} must lie within bounds [{lo}, {hi}], and lo < hi")
    need(isinstance(entry["doc"], str) and entry["doc"].strip() != "", "doc must be a non-empty string")
    need(isinstance(entry.get("unit", ""), str), "unit must be a string")
    need(isinstance(entry["fitted"], bool), "fitted must be true or false")
    need(entry["stage"] in ("rules", "inputs"), 'stage must be "rules" or "inputs"')
    return float(default), {"bounds": (lo, hi), "doc": entry["doc"], "unit": entry.get("unit", ""),
                            "fitted": entry["fitted"], "stage": entry["stage"]}


def read_table(path: Path = TABLE) -> tuple[dict[str, tuple[float, dict[str, Any]]], dict[str, dict[str, float]]]:
    """A table's parameters (name -> default and field metadata, in the table's order) and its
    ablations, checked, so that a broken entry fails at import, by name, rather than as a wrong run."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    declared = {name: _entry(f"{path.name}: [parameters.{name}]", entry)
                for name, entry in table.get("parameters", {}).items()}
    ablations = table.get("ablations", {})
    for variant, fixed in ablations.items():
        if not set(fixed) <= set(declared) or not all(map(_number, fixed.values())):
            raise ValueError(f"{path.name}: [ablations.{variant!r}]: each key must be a parameter, each value a number")
    return declared, {variant: {k: float(v) for k, v in fixed.items()} for variant, fixed in ablations.items()}


#: The parameters as declared (name -> default and field metadata), and ABLATIONS: the model variants
#: that switch a theory off, each with the weights it fixes, and at what. The calibration ablation
#: refits each; the score report uses "balance of power only" as a baseline.
_DECLARED, ABLATIONS = read_table()


class Parameters:
    """Weights of the rules (simulation.rules) and of the year-to-year dynamics.

    Each field is one float, or (in a batch of runs) an array with one value per run."""

    if TYPE_CHECKING:
        # What mypy knows of the fields, which are made at run time from the table: one Weight per name.
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

        def __init__(self, **values: Weight) -> None: ...
        def __getattr__(self, name: str) -> Weight: ...

    @classmethod
    def baseline(cls, path: Path = CALIBRATED) -> Parameters:
        """The calibrated parameters every scenario starts from (theory defaults if none are committed)."""
        if not path.exists():
            return cls()
        fitted = json.loads(path.read_text(encoding="utf-8"))["parameters"]
        return replace(cls(), **{k: float(v) for k, v in fitted.items() if k in cls.names()})

    @classmethod
    def variant(cls, name: str, path: Path = CALIBRATED) -> Parameters:
        """A model variant (a theory of ABLATIONS) with its own calibrated weights, as recorded by
        `calibrate --ablation --write-baseline`; the full model is the baseline."""
        if name == "full model":
            return cls.baseline(path)
        variants = json.loads(path.read_text(encoding="utf-8")).get("variants", {}) if path.exists() else {}
        if name not in variants:
            raise KeyError(f"no calibration of the variant {name!r} is recorded; run calibrate --ablation "
                           "--write-baseline")
        fitted = variants[name]["parameters"]
        return replace(cls(), **{k: float(v) for k, v in fitted.items() if k in cls.names()})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def fitted(cls) -> tuple[str, ...]:
        """The parameters calibration searches (the others are fixed at their documented values)."""
        return tuple(f.name for f in fields(cls) if f.metadata["fitted"])

    @classmethod
    def input_stage(cls) -> tuple[str, ...]:
        """The parameters that code the data into inputs (they act when inputs are built)."""
        return tuple(f.name for f in fields(cls) if f.metadata["stage"] == "inputs")

    @classmethod
    def bounds(cls) -> dict[str, tuple[float, float]]:
        return {f.name: f.metadata["bounds"] for f in fields(cls)}

    @classmethod
    def docs(cls) -> dict[str, str]:
        return {f.name: f.metadata["doc"] + (f" [{f.metadata['unit']}]" if f.metadata["unit"] else "") for f in fields(cls)}

    def with_overrides(self, overrides: dict[str, float]) -> Parameters:
        """A copy with some values replaced; names and bounds are checked by the caller's schema."""
        return replace(self, **{k: float(v) for k, v in overrides.items()})

    @classmethod
    def stack(cls, points: list[Parameters]) -> Parameters:
        """One Parameters whose every field is an array with one value per run (for batch runs)."""
        return cls(**{n: np.array([getattr(p, n) for p in points], dtype=float) for n in cls.names()})

    def vary(self, names: list[str] | tuple[str, ...], table: np.ndarray) -> Parameters:
        """One Parameters for a batch of runs in which `names` take one value per run (the columns of
        `table`, shape (B, len(names))) and every other field keeps this instance's value."""
        return replace(self, **{n: np.asarray(table[:, c], dtype=float) for c, n in enumerate(names)})

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.names()}


if not TYPE_CHECKING:
    # The dataclass itself, frozen: its fields from the table, in the table's order, and the methods of
    # the class above, its base (whose name it keeps, so repr, pickling and error messages are unchanged).
    Parameters = make_dataclass(
        "Parameters", [(name, "Weight", field(default=default, metadata=metadata))
                       for name, (default, metadata) in _DECLARED.items()],
        bases=(Parameters,), namespace={"__doc__": Parameters.__doc__}, frozen=True, module=__name__,
    )
