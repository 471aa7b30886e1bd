"""Result files (the output contract) and how they are written: all or nothing.

`alignments.csv`: run,year,a,b,alignment (unordered pairs, a < b, alignment in [-1, 1]); for more
                  than `runner.FULL_MAX_RUNS` runs, year,a,b,alignment,q05,q50,q95,runs (the mean
                  and quantiles over runs), and with --full every run in alignments.parquet.
`threats.csv`:    run,year,i,j,threat (directed: threat of j as perceived by i); for many runs
                  year,i,j,threat,sd,runs (mean and standard deviation), every run in threats.parquet.
`inputs.csv`:     year,series,i,j,value (every input series the rules read).
`instruments.csv`: run,year,i,j,instrument,value (what i chose toward j: arms = share of j's arms
                 imports from i, sanction, aid, troops, exercise, installed_base; non-zero cells);
                 for many runs year,i,j,instrument,value,runs (the mean), every run in instruments.parquet.
`events.csv`:     the timeline used; `parameters.json`: the parameter values used.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simulation.errors import InputError
from simulation.states import PAIR_A, PAIR_B, PAIRS, STATES

if TYPE_CHECKING:
    import pandas as pd

    from simulation.engine.ensemble import Ensemble
    from simulation.engine.series import Inputs
    from simulation.experiments.runner import Summary

FLOAT_FORMAT = "%.6f"
#: A table to write: column name -> (R,) array, or one value for every row.
Columns = dict[str, Any]
#: Directed pairs i != j, in row order: (i, j) state indices.
_I, _J = np.nonzero(~np.eye(len(STATES), dtype=bool))
_CODES = np.array(STATES)


def alignments_columns(seeds: Sequence[int], years: np.ndarray, alignment: np.ndarray) -> Columns:
    """`alignments.csv` of a few runs: run, year, a, b, alignment; `alignment` is (B, T, N, N)."""
    B, T, P = len(seeds), len(years), len(PAIRS)
    return {"run": np.repeat(np.asarray(seeds, dtype=np.int64), T * P), "year": np.tile(np.repeat(years, P), B),
            "a": np.tile([a for a, _ in PAIRS], B * T), "b": np.tile([b for _, b in PAIRS], B * T),
            "alignment": alignment[:, :, PAIR_A, PAIR_B].reshape(-1)}


def threats_columns(seeds: Sequence[int], years: np.ndarray, threat: np.ndarray) -> Columns:
    """`threats.csv` of a few runs: run, year, i, j, threat (of j as i perceives it); `threat` is (B, T, N, N)."""
    B, T, D = len(seeds), len(years), len(_I)
    return {"run": np.repeat(np.asarray(seeds, dtype=np.int64), T * D), "year": np.tile(np.repeat(years, D), B),
            "i": np.tile(_CODES[_I], B * T), "j": np.tile(_CODES[_J], B * T),
            "threat": threat[:, :, _I, _J].reshape(-1)}


def instruments_columns(seeds: Sequence[int], years: np.ndarray, instruments: Mapping[str, np.ndarray]) -> Columns:
    """`instruments.csv` of a few runs: run, year, i, j, instrument, value (what i chose toward j;
    non-zero cells only, run by run, instrument by instrument); each series is (B, T, N, N) [from, to]."""
    parts: list[Columns] = []
    for b, seed in enumerate(seeds):
        for name, series in instruments.items():
            t, i, j = np.nonzero(np.abs(series[b]) > 1e-6)
            parts.append({"run": np.full(len(t), seed, dtype=np.int64), "year": years[t], "i": _CODES[i],
                          "j": _CODES[j], "instrument": np.full(len(t), name), "value": np.round(series[b][t, i, j], 6)})
    if not parts:
        return {"run": np.zeros(0, dtype=np.int64), "year": np.zeros(0, dtype=np.int64), "i": _CODES[:0],
                "j": _CODES[:0], "instrument": _CODES[:0], "value": np.zeros(0)}
    return {k: np.concatenate([c[k] for c in parts]) for k in parts[0]}


def inputs_columns(inputs: Inputs) -> Columns:
    """`inputs.csv`: year, series, i, j, value for every yearly input series (per state: every value,
    j empty; ideology: one series per axis; per pair: the non-zero cells)."""
    from simulation.engine.series import yearly
    from simulation.rules.types import IDEOLOGY_AXES

    parts: list[tuple[np.ndarray, str, np.ndarray, np.ndarray | str, np.ndarray]] = []
    for f in yearly():
        arr, per = getattr(inputs, f.name), f.metadata["per"]
        if per == "state":
            t, i = np.nonzero(np.ones_like(arr, dtype=bool))
            parts.append((t, f.name, i, "", arr[t, i]))
        elif per == "ideology":
            for axis, name in enumerate(f"ideology_{a}" for a in IDEOLOGY_AXES):
                sub = arr[:, :, axis]
                t, i = np.nonzero(np.ones_like(sub, dtype=bool))
                parts.append((t, name, i, "", sub[t, i]))
        else:
            t, a, b = np.nonzero(arr)
            parts.append((t, f.name, a, _CODES[b], arr[t, a, b]))
    return {"year": np.concatenate([inputs.years[t] for t, *_ in parts]),
            "series": np.concatenate([np.full(len(t), name) for t, name, *_ in parts]),
            "i": np.concatenate([_CODES[i] for _, _, i, *_ in parts]),
            "j": np.concatenate([np.full(len(t), j) if isinstance(j, str) else j for t, _, _, j, _ in parts]),
            "value": np.concatenate([v for *_, v in parts])}


def alignment_summary_columns(summary: Summary) -> Columns:
    """Many runs: per year and pair, the mean alignment and its 5%, 50% and 95% quantiles over runs."""
    from simulation.experiments.runner import QUANTILES

    T, P = summary.alignment_mean.shape
    columns: Columns = {"year": np.repeat(summary.years, P), "a": np.tile([a for a, _ in PAIRS], T),
                        "b": np.tile([b for _, b in PAIRS], T), "alignment": summary.alignment_mean.reshape(-1)}
    for q in QUANTILES:
        columns[f"q{round(q * 100):02d}"] = summary.alignment_quantile(q).reshape(-1)
    columns["runs"] = summary.runs
    return columns


def threat_summary_columns(summary: Summary) -> Columns:
    """Many runs: per year and directed pair, the mean threat and its standard deviation over runs."""
    T = len(summary.years)
    return {"year": np.repeat(summary.years, len(_I)), "i": np.tile(_CODES[_I], T), "j": np.tile(_CODES[_J], T),
            "threat": summary.threat_mean[:, _I, _J].reshape(-1), "sd": summary.threat_sd[:, _I, _J].reshape(-1),
            "runs": summary.runs}


def instrument_summary_columns(summary: Summary) -> Columns:
    """Many runs: per year, directed pair and instrument, the mean over runs (non-zero cells only)."""
    parts = []
    for name in summary.instrument_sum:
        mean = summary.instrument_mean(name)
        t, i, j = np.nonzero(np.abs(mean) > 1e-6)
        parts.append({"year": summary.years[t], "i": _CODES[i], "j": _CODES[j], "instrument": np.full(len(t), name),
                      "value": mean[t, i, j]})
    columns: Columns = {k: np.concatenate([c[k] for c in parts]) for k in parts[0]}
    columns["runs"] = summary.runs
    return columns


class FullTables:
    """Every run of a many-run `run --full`, appended a chunk at a time to alignments.parquet,
    threats.parquet and instruments.parquet in `folder` (same columns as the few-run CSVs)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writers: dict[str, object] = {}

    def _append(self, name: str, columns: Columns) -> None:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)
        if name not in self.writers:
            self.writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema)
        self.writers[name].write_table(table)  # type: ignore[attr-defined]

    def add(self, run: Ensemble) -> None:
        self._append("alignments", alignments_columns(run.seeds, run.years, run.alignment))
        self._append("threats", threats_columns(run.seeds, run.years, run.threat))
        self._append("instruments", instruments_columns(run.seeds, run.years, run.instruments))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()  # type: ignore[attr-defined]


def _cells(values: Any, rows: int) -> list[str]:
    """One column as CSV cells: floats to FLOAT_FORMAT (NaN an empty cell), anything else as text."""
    array = np.asarray(values)
    if array.ndim == 0:
        array = np.broadcast_to(array, (rows,))
    if array.dtype.kind == "f":
        # one %-formatting of the whole column: its loop runs in C, not a Python step per cell
        cells = ((FLOAT_FORMAT + "\n") * len(array) % tuple(array.tolist())).split("\n")[:-1]
        return ["" if v != v else c for v, c in zip(array.tolist(), cells)] if np.isnan(array).any() else cells
    if array.dtype.kind in "iuU":  # whole numbers and text: numpy's own conversion, the same digits
        return array.astype(str).tolist()
    return ["" if v is None else str(v) for v in array.tolist()]


def write_columns(columns: Columns, path: Path) -> None:
    """Write a table (column name -> values) as CSV: a header, floats to six decimals, whole numbers
    and text as they are, quoted only where the csv module must. Without pandas, whose import costs
    more than a one-run `run`; the same bytes as `write_csv` of the same table."""
    rows = max((len(v) for v in columns.values() if np.ndim(v) > 0), default=0)
    cells = [_cells(v, rows) for v in columns.values()]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(zip(*cells, strict=True))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_json(data: object, path: Path) -> None:
    """JSON as the standard has it: a number that is not finite (the sd of a single run) is null."""
    path.write_text(json.dumps(_standard(data), indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")


def _standard(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _standard(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_standard(v) for v in value]
    return value


MARKER = ".simulation-run.json"


def _alive(pid: int) -> bool:
    """Whether the process that owns a temporary folder still runs. A killed process its parent has
    not yet reaped (a zombie: a notebook's or a test's Popen.kill() without wait()) answers signals
    but writes nothing more, so it counts as dead and its half-written folder is cleaned."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: the state follows the parenthesised command name in /proc/PID/stat
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _siblings(out: Path, kind: str) -> list[tuple[Path, int]]:
    """Temporary folders beside `out` of a kind ("partial": being written, "old": being replaced), with their pid."""
    # compared by prefix, not globbed: a folder named `*` or `[a]` must not match other results' folders
    prefix = f".{out.name}.{kind}-"
    found = []
    for path in out.parent.iterdir():
        pid = path.name[len(prefix):]
        if path.name.startswith(prefix) and pid.isdigit():
            found.append((path, int(pid)))
    return found


def clean_stale(out: Path) -> None:
    """Remove what a killed run left beside `out`: its half-written folder, and (if it was killed
    between the two renames of the swap) put the previous result back."""
    if not out.parent.is_dir():
        return
    for path, pid in _siblings(out, "partial"):
        if not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
    for path, pid in _siblings(out, "old"):
        if not _alive(pid):
            if out.exists():
                _remove(path)
            else:
                os.replace(path, out)


def _remove(path: Path) -> None:
    """Remove a replaced result: a folder with what it holds, or a symbolic link (not its target)."""
    if path.is_symlink():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def result_command(folder: Path) -> str | None:
    """The command that wrote `folder` (from its marker file), or None if no command of ours did."""
    try:
        return str(json.loads((folder / MARKER).read_text(encoding="utf-8"))["command"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_out(out: Path, command: str, force: bool = False, what: str = "--out", replace: bool = True) -> None:
    """Refuse, before any work, an output folder this command may not (or cannot) write.

    Allowed: a missing folder whose nearest existing parent is writable, an empty folder, or an
    earlier result of the same command (it is replaced whole); anything else only with --force.
    With `replace` (the folder will be swapped for the result, `write_atomically`), an existing
    folder must also be one that can be renamed aside (not immutable, not a mount point).
    """
    try:
        _check_out(Path(out), command, force, what)
        if replace and Path(out).exists():
            _check_renamable(Path(out), what)
    except OSError as exc:  # a name too long, a loop of links: the path itself is unusable
        raise InputError(f"{what} cannot be used: {exc.strerror or exc}", file=out) from None


def _check_renamable(out: Path, what: str) -> None:
    """Rename `out` aside and back, as the swap of `write_atomically` will: under the swap's own name
    (`.NAME.old-PID`, which `clean_stale` puts back should this process die in between) and with
    interrupts held back for the two renames. Cheap, and it is the only test of what the swap needs
    that root's permissions do not pass regardless (an immutable folder, a mount point)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    held = {signal.SIGINT, signal.SIGTERM} if hasattr(signal, "pthread_sigmask") else set()
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        try:
            os.rename(out, old)
        except OSError as exc:
            raise InputError(f"{what} cannot be replaced ({exc.strerror or exc}), and the result is swapped in for "
                             f"it whole; choose another {what}", file=out) from None
        os.rename(old, out)
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _check_out(out: Path, command: str, force: bool, what: str) -> None:
    clean_stale(out)
    if out.is_symlink() and not out.exists():
        raise InputError(f"{what} is a symbolic link to nothing ({os.readlink(out)})", file=out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{what} exists and is not a folder", file=out)
    if out.is_dir() and any(out.iterdir()) and not force:
        earlier = result_command(out)
        if earlier != command:
            holds = f"an earlier `{earlier}` result" if earlier else "files that are not a `simulation` result"
            raise InputError(f"{what} holds {holds}; choose another {what} or add --force to replace it", file=out)
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write here: {parent} is not a writable folder", file=out)
    # the result is written beside `out` under a longer name first, so that name must fit too
    if len(os.fsencode(f".{out.name}.partial-{os.getpid()}")) > os.pathconf(parent, "PC_NAME_MAX"):
        raise InputError(f"{what}'s folder name is too long ({len(os.fsencode(out.name))} bytes)", file=out)
    refused = _cannot_create(parent, out)
    if refused is not None:
        raise InputError(f"cannot write here: {parent} refuses a new folder ({refused})", file=out)


def _cannot_create(parent: Path, out: Path) -> str | None:
    """Why no entry can be made in `parent`, the nearest existing folder of `out` (None if one can): a
    folder is made there and removed, under the name the result is first written to when `parent` is
    its folder. The permission bits (`os.access`) pass for root where a folder takes no new entries
    (/proc, /sys), and the refusal came only after the work."""
    probe = parent / (f".{out.name}.partial-{os.getpid()}" if parent == out.parent else f".simulation-probe-{os.getpid()}")
    try:
        probe.mkdir()
    except FileExistsError:
        return None
    except OSError as exc:
        return str(exc.strerror or exc)
    probe.rmdir()
    return None


def write_atomically(out: Path, write: Callable[[Path], None], command: str = "", force: bool = False) -> None:
    """Write a result folder whole: into a sibling `.NAME.partial-PID`, then swapped in for `out`.

    `out` only ever holds one complete result, marked with `MARKER` (naming `command`). If `write`
    fails, `out` is as it was and the partial folder is removed; a folder left by a killed process
    is removed by the next `check_out`.
    """
    out = Path(out)
    check_out(out, command, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()  # mode 0777 less the umask, like any folder the user makes
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", file=out) from None
    try:
        write(tmp)
        write_json({"command": command}, tmp / MARKER)
        if not out.exists():
            os.replace(tmp, out)
            return
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except OSError:
            os.replace(old, out)
            raise
        _remove(old)
    except OSError as exc:
        raise InputError(f"cannot write the results: {exc.strerror or exc}", file=getattr(exc, "filename", None) or out) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_file(path: Path, force: bool = False) -> None:
    """Refuse, before any work, an output file that exists (unless --force) or cannot be written."""
    try:
        _check_file(Path(path), force)
    except OSError as exc:  # a name too long, a loop of links: the path itself is unusable
        raise InputError(f"cannot be used: {exc.strerror or exc}", file=path) from None


def _check_file(path: Path, force: bool) -> None:
    if path.exists() and (path.is_dir() or not force):
        raise InputError("exists; choose another --out or add --force to replace it" if not path.is_dir()
                         else "is a folder; give a file name", file=path)
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write here: {parent} is not a writable folder", file=path)
    refused = _cannot_create(parent, path)
    if refused is not None:
        raise InputError(f"cannot write here: {parent} refuses a new file ({refused})", file=path)


def write_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write one file whole: into a sibling temporary file, then renamed over `path`."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", file=path) from None
    finally:
        tmp.unlink(missing_ok=True)
