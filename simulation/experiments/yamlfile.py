"""Reading user YAML files (scenarios, sweep specs) safely, and reporting schema errors by line.

One reader for every YAML file a user writes: size-limited, UTF-8, no tags, no anchors or aliases,
no duplicate keys (YAML would silently keep the last), no pathological nesting. Schema errors from
pydantic are turned into one `InputError` naming the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulation.errors import InputError, read_text_file

MAX_FILE_BYTES = 1_000_000


def line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (the deepest one that exists)."""
    return _walk(root, loc)[1]


def _walk(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, int | None]:
    """The deepest YAML node on the path `loc` and its 1-based line."""
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
    return node, line


def _number_as_text(value: object, node: yaml.Node | None, whole: bool) -> str | None:
    """Why a number the user wrote reached the schema as text: quoted, or an exponent YAML 1.1 does
    not read as a number (1e6: it needs a dot and a sign, 1.0e+6)."""
    if not isinstance(value, str) or not isinstance(node, yaml.ScalarNode) or node.value != value:
        return None
    try:
        float(value)
    except ValueError:
        return None
    if node.style:
        return f"{value!r} is written as text (in quotes); write the number without them"
    if whole:
        return f"YAML reads {value} as text; write the whole number in digits"
    return f"YAML reads {value} as text; write an exponent with a dot and a sign, e.g. 1.0e+6"


def check_tree(node: yaml.Node, path: Path) -> None:
    """Refuse anchors and aliases (they can expand exponentially or make cycles) and duplicate keys
    in a mapping (YAML keeps the last silently, so an edit would be lost without a word)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            raise InputError("YAML anchors and aliases (&, *) are not supported", file=path,
                             line=current.start_mark.line + 1)
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            first: dict[object, int] = {}
            for key, value in current.value:
                label = key.value if isinstance(key, yaml.ScalarNode) else None
                if label is not None and label in first:
                    raise InputError(f"duplicate key {label!r} (first given on line {first[label]})", file=path,
                                     line=key.start_mark.line + 1, field=str(label))
                if label is not None:
                    first[label] = key.start_mark.line + 1
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def read_yaml_mapping(path: Path, what: str) -> tuple[dict, yaml.Node | None]:
    """Read a YAML file that must hold a mapping. Returns the data and its node tree (for line numbers)."""
    text = read_text_file(path, what, MAX_FILE_BYTES)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            check_tree(root, path)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", file=path, line=mark.line + 1 if mark else None) from None
    except RecursionError:
        raise InputError("YAML is nested too deeply", file=path) from None
    if not isinstance(data, dict):
        raise InputError(f"a {what} must be a YAML mapping of fields", file=path, line=1)
    return data, root


def validation_error(exc: ValidationError, path: Path, root: yaml.Node | None,
                     sections: dict[str, type[BaseModel]] | None = None) -> InputError:
    """The first schema error as an InputError naming file, line and field. `sections` maps a
    dotted section to its model, to list the allowed fields when an unknown one is given."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p == "function-after")))
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] in ("float_type", "int_type"):
        why = _number_as_text(err.get("input"), _walk(root, loc)[0] if loc else None, err["type"] == "int_type")
        if why is not None:
            message += f": {why}"
    if err["type"] == "extra_forbidden":
        message = f"unknown field {loc[-1]!r}"
        parent = (sections or {}).get(".".join(str(p) for p in loc[:-1] if not isinstance(p, int)))
        if parent is not None:
            allowed = [f.alias or name for name, f in parent.model_fields.items()]
            message += f" (expected one of {', '.join(allowed)})"
    return InputError(message, file=path, line=line_of(root, loc), field=".".join(str(p) for p in loc) or None)
