"""The documented record as targets, and how well a run reproduces it.

Targets (simulation/data/targets.csv) are read only here, never by the model while it runs.
Two things are scored, each a share in [0, 1]:
- level: the share of (pair, year) cells where the model's alignment lies within `tolerance`
  of the documented level (0.3 by default: about one step of the documented scale);
- shifts: the share of documented shifts (consecutive periods of a pair whose levels differ by at
  least `MIN_SHIFT`) where the model moves the same way, comparing its mean over the two periods;
  a move counts only if it exceeds `SHIFT_TOLERANCE` in the documented direction, so a series
  that stays put (a held level, which rounding can nudge by 1e-16 either way) earns no credit.
The score is their mean, so getting the levels and getting the turns both count.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from simulation.engine.inputs import DATA_DIR, read_table
from simulation.engine.params import Parameters
from simulation.errors import InputError
from simulation.experiments.periods import FIRST_YEAR, LAST_YEAR
from simulation.states import INDEX, PAIR_A, PAIR_B, PAIRS

TARGETS = DATA_DIR / "targets.csv"
TOLERANCE = 0.3
MIN_SHIFT = 0.2
#: Levels are recorded to one decimal, so two of them 0.2 apart may differ by 0.19999999999999998
#: in floating point: a difference within this of MIN_SHIFT is a shift (before, five documented
#: shifts of exactly 0.2 were dropped).
LEVEL_ROUNDING = 1e-9
#: The smallest change of a pair's mean level between two periods that counts as a move. A quarter
#: of the smallest documented shift (MIN_SHIFT), and the size of the model's yearly stance noise
#: (`noise`, 0.05): a change below it is no change. Before this rule, `np.sign` of a rounding error
#: (1e-16) counted as a turn, and the 1990 levels held scored 0.469 out of sample rather than 0.307.
#: Calibration records made before it (no `shift_tolerance` key in calibrated.json) used 0.
SHIFT_TOLERANCE = 0.05

if TYPE_CHECKING:
    import pandas as pd


class Target(NamedTuple):
    """One documented period of a pair (a row of targets.csv): a < b, `level` in [-1, 1]."""

    a: str
    b: str
    start: int
    end: int
    level: float
    source: str
    note: str | None = None


def load_targets(path: Path = TARGETS) -> list[Target]:
    """Read and validate the target record: known states, a < b, periods in range and not
    overlapping, levels in [-1, 1], every row sourced. Sorted by pair and start."""
    rows = read_table(path, ["a", "b", "start", "end", "level", "source"], not_found="target file not found",
                      text=("a", "b", "source", "note"))
    for k, row in enumerate(rows, start=2):
        for col in ("a", "b"):
            if getattr(row, col) not in INDEX:
                raise InputError(f"unknown state code {getattr(row, col)!r}", file=path, line=k, field=col)
        if not row.a < row.b:
            raise InputError(f"write pairs with a < b ({row.a}, {row.b})", file=path, line=k, field="b")
        if not FIRST_YEAR <= row.start <= row.end <= LAST_YEAR:
            raise InputError(f"period {row.start}-{row.end} is not inside {FIRST_YEAR}-{LAST_YEAR}",
                             file=path, line=k, field="start")
        if not -1.0 <= row.level <= 1.0:
            raise InputError(f"level {row.level} is outside [-1, 1]", file=path, line=k, field="level")
        if not isinstance(row.source, str) or not row.source.strip():
            raise InputError("every target needs a source", file=path, line=k, field="source")
    targets = sorted((Target(r.a, r.b, r.start, r.end, r.level, r.source, getattr(r, "note", None)) for r in rows),
                     key=lambda t: (t.a, t.b, t.start))
    for before, after in itertools.pairwise(targets):
        if (before.a, before.b) == (after.a, after.b) and after.start <= before.end:
            raise InputError(f"overlapping periods for {after.a}-{after.b}", file=path, field="start")
    return targets


@dataclass(frozen=True)
class TargetCells:
    """Targets as arrays for fast scoring of (B, T, N, N) alignments over `years`."""

    t: np.ndarray  # (C,) year index of each cell
    i: np.ndarray  # (C,) state indices of the pair
    j: np.ndarray
    level: np.ndarray  # (C,)
    pair: np.ndarray  # (C,) index into PAIRS
    shift_from: list[np.ndarray]  # per shift: cell indices of the earlier period
    shift_to: list[np.ndarray]  # per shift: cell indices of the later period
    shift_sign: np.ndarray  # (S,) +1 or -1
    shift_pair: np.ndarray  # (S,)


def target_cells(targets: Iterable[Target], years: np.ndarray, window: tuple[int, int] | None = None) -> TargetCells:
    """Cells (pair-years) and shifts inside `years` and `window` (inclusive), e.g. (1991, 2024), of
    `targets` sorted by pair and start (as `load_targets` gives them)."""
    lo, hi = window or (int(years[0]), int(years[-1]))
    lo, hi = max(lo, int(years[0])), min(hi, int(years[-1]))
    pair_index = {p: k for k, p in enumerate(PAIRS)}
    t: list[int] = []
    i: list[int] = []
    j: list[int] = []
    level: list[float] = []
    pair: list[int] = []
    period_cells: dict[int, np.ndarray] = {}
    rows = list(targets)
    for r, row in enumerate(rows):
        ys = np.arange(max(row.start, lo), min(row.end, hi) + 1)
        first = len(t)
        t.extend(ys - int(years[0]))
        i.extend([INDEX[row.a]] * len(ys))
        j.extend([INDEX[row.b]] * len(ys))
        level.extend([row.level] * len(ys))
        pair.extend([pair_index[(row.a, row.b)]] * len(ys))
        period_cells[r] = np.arange(first, len(t))
    shift_from, shift_to, signs, shift_pair = [], [], [], []
    for r in range(1, len(rows)):
        prev, cur = rows[r - 1], rows[r]
        if (prev.a, prev.b) != (cur.a, cur.b) or abs(cur.level - prev.level) < MIN_SHIFT - LEVEL_ROUNDING:
            continue
        if not lo <= cur.start <= hi or len(period_cells[r]) == 0:
            continue  # a shift counts in the window where it happens
        before = np.arange(max(prev.start, int(years[0])), prev.end + 1) - int(years[0])
        if len(before) == 0:
            continue  # the earlier period lies before the simulated years: nothing to compare with
        shift_from.append(before)
        shift_to.append(np.asarray(t)[period_cells[r]])
        signs.append(np.sign(cur.level - prev.level))
        shift_pair.append(pair_index[(cur.a, cur.b)])
    # shifts hold year indices, not cell indices, so the earlier period may lie outside the window
    return TargetCells(np.asarray(t, dtype=int), np.asarray(i, dtype=int), np.asarray(j, dtype=int),
                       np.asarray(level, dtype=float), np.asarray(pair, dtype=int),
                       shift_from, shift_to, np.asarray(signs, dtype=float), np.asarray(shift_pair, dtype=int))


@dataclass(frozen=True)
class Score:
    """Per-run scores (B,) and per-pair level accuracy (B, 15)."""

    level: np.ndarray
    shifts: np.ndarray
    rmse: np.ndarray
    pair_level: np.ndarray
    pair_shifts: np.ndarray

    @property
    def overall(self) -> np.ndarray:
        return 0.5 * (self.level + self.shifts)


def score(alignment: np.ndarray, cells: TargetCells, tolerance: float = TOLERANCE,
          shift_tolerance: float = SHIFT_TOLERANCE) -> Score:
    """Score (B, T, N, N) alignments (or (T, N, N) for one run) against target cells. A documented
    shift is taken when the model's mean moves more than `shift_tolerance` in its direction; with
    `shift_tolerance=0` any move in the direction counts (the rule before SHIFT_TOLERANCE)."""
    a = alignment[None] if alignment.ndim == 3 else alignment
    model = a[:, cells.t, cells.i, cells.j]  # (B, C)
    hit = np.abs(model - cells.level) <= tolerance + 1e-12
    n_pairs = len(PAIRS)
    pair_level = np.full((a.shape[0], n_pairs), np.nan)
    for p in range(n_pairs):
        mask = cells.pair == p
        if mask.any():
            pair_level[:, p] = hit[:, mask].mean(axis=1)
    if len(cells.shift_sign):
        moved = []
        for k, (before, after) in enumerate(zip(cells.shift_from, cells.shift_to, strict=True)):
            ii, jj = PAIR_A[cells.shift_pair[k]], PAIR_B[cells.shift_pair[k]]
            change = a[:, after, ii, jj].mean(axis=1) - a[:, before, ii, jj].mean(axis=1)
            if shift_tolerance > 0:
                moved.append(change * cells.shift_sign[k] > shift_tolerance)
            else:  # the old rule, kept exactly so records made with it re-score to the last bit
                moved.append(np.sign(change) == cells.shift_sign[k])
        shift_hit = np.stack(moved, axis=1)  # (B, S)
    else:
        shift_hit = np.zeros((a.shape[0], 0), dtype=bool)
    pair_shifts = np.full((a.shape[0], n_pairs), np.nan)
    for p in range(n_pairs):
        mask = cells.shift_pair == p
        if mask.any():
            pair_shifts[:, p] = shift_hit[:, mask].mean(axis=1)
    shifts = shift_hit.mean(axis=1) if shift_hit.shape[1] else np.ones(a.shape[0])
    rmse = np.sqrt(((model - cells.level) ** 2).mean(axis=1))
    return Score(hit.mean(axis=1), shifts, rmse, pair_level, pair_shifts)



#: Largest alignments file `read_alignments` accepts (a 100-run baseline is about 5 MB); reading it
#: whole takes several times its size in memory.
MAX_ALIGNMENT_BYTES = 256 * 1024**2


def _cell(value: object) -> str:
    """A cell of the file as a message shows it: text quoted, a number plain (nan, 1.5), not numpy's
    repr (np.float64(nan))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first_bad(bad: np.ndarray) -> int:
    """Line of the first flagged row (the header is line 1)."""
    return int(np.flatnonzero(bad)[0]) + 2


def _read_frame(path: Path, columns: list[str]) -> pd.DataFrame:
    """A user's alignments CSV as a DataFrame (`read_alignments` checks it with pandas' vectorized
    tests: it may hold millions of rows), failing with a clear message if it or a column is missing."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={"a": str, "b": str})
    except FileNotFoundError:
        raise InputError("no alignments here", file=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse CSV: {str(exc).splitlines()[0]}", file=path) from None
    missing = [c for c in columns if c not in frame.columns]
    if "run" in missing and "runs" in frame.columns:  # the summary `run` writes of more runs than it writes in full
        from simulation.experiments.runner import FULL_MAX_RUNS

        raise InputError(f"holds summaries over runs only (a run of more than {FULL_MAX_RUNS} runs writes its quantiles, "
                         "not every run); rerun it with --full to write every run (alignments.parquet), which score "
                         "reads", file=path)
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=path, line=1, field=missing[0])
    return frame


def read_alignments(path: Path) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(R, T, N, N) alignments, their years and run seeds, from a run's alignments.csv (or the
    alignments.parquet of `run --full`), checked whole: known pairs with a < b, whole-number runs
    and years inside the period, finite alignments in [-1, 1], no duplicate rows, and every run
    holding every pair in every year of one unbroken span. Errors name the file, line and field."""
    import pandas as pd

    from simulation.states import N_STATES, check_state

    columns = ["run", "year", "a", "b", "alignment"]
    try:
        if not path.is_file():  # missing, a folder, a device, or a path through a file
            raise InputError("no alignments here (give a run's --out folder or its alignments file)", file=path)
        size = path.stat().st_size
    except OSError as exc:  # a name too long, a loop of links
        raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
    if size > MAX_ALIGNMENT_BYTES:
        raise InputError(f"is larger than {MAX_ALIGNMENT_BYTES // 1024**2} MB", file=path)
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise InputError(f"cannot read Parquet: {str(exc).splitlines()[0]}", file=path) from None
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", file=path, field=missing[0])
    else:
        frame = _read_frame(path, columns)
    if frame.empty:
        raise InputError("holds no rows", file=path, line=2)
    for col in ("run", "year"):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna().to_numpy() | (values != np.floor(values)).to_numpy()
        if bad.any():
            raise InputError(f"expected a whole number, got {_cell(frame[col].iloc[_first_bad(bad) - 2])}",
                             file=path, line=_first_bad(bad), field=col)
        frame[col] = values.astype(np.int64) if values.abs().max() < 2**63 else values
    bad = ((frame.run < 0) | (frame.run >= 2**63)).to_numpy()
    if bad.any():
        raise InputError("a run's seed must lie in 0..2**63-1", file=path, line=_first_bad(bad), field="run")
    bad = ((frame.year < FIRST_YEAR) | (frame.year > LAST_YEAR)).to_numpy()
    if bad.any():
        raise InputError(f"year {frame.year.iloc[_first_bad(bad) - 2]} is outside {FIRST_YEAR}-{LAST_YEAR}",
                         file=path, line=_first_bad(bad), field="year")
    for col in ("a", "b"):
        known = frame[col].isin(list(INDEX)).to_numpy()
        if not known.all():
            line = _first_bad(~known)
            check_state(frame[col].iloc[line - 2], file=path, line=line, field=col)
    bad = (frame.a >= frame.b).to_numpy()
    if bad.any():
        raise InputError("write pairs with a < b", file=path, line=_first_bad(bad), field="b")
    values = pd.to_numeric(frame.alignment, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (np.abs(values) > 1.0 + 1e-9)
    if bad.any():
        raise InputError(f"expected a number in [-1, 1], got {_cell(frame.alignment.iloc[_first_bad(bad) - 2])}",
                         file=path, line=_first_bad(bad), field="alignment")
    dup = frame.duplicated(["run", "year", "a", "b"]).to_numpy()
    if dup.any():
        raise InputError("duplicate row (same run, year and pair as an earlier one)", file=path,
                         line=_first_bad(dup))
    years = np.arange(int(frame.year.min()), int(frame.year.max()) + 1)
    if len(years) < 2:
        raise InputError("holds one year only; a score needs at least two", file=path, field="year")
    runs = sorted(int(r) for r in frame.run.unique())
    expected = len(runs) * len(years) * len(PAIRS)
    if len(frame) != expected:
        have = set(zip(frame.run, frame.year, frame.a, frame.b, strict=True))
        gap = next((r, y, a, b) for r in runs for y in years for a, b in PAIRS if (r, y, a, b) not in have)
        raise InputError(f"incomplete: no row for run {gap[0]}, year {gap[1]}, pair {gap[2]}-{gap[3]} "
                         f"(every run needs every pair in every year {years[0]}-{years[-1]})", file=path)
    stack = np.zeros((len(runs), len(years), N_STATES, N_STATES))
    r = frame.run.map({v: k for k, v in enumerate(runs)}).to_numpy()
    t = (frame.year - years[0]).to_numpy()
    i, j = frame.a.map(INDEX).to_numpy(), frame.b.map(INDEX).to_numpy()
    stack[r, t, i, j] = stack[r, t, j, i] = values
    return stack, years, runs


def read_parameters(path: Path) -> Parameters:
    """The parameters a run used (its parameters.json), each known and inside its documented bounds
    (checked as any parameter file is: posterior.read_parameter_record)."""
    from simulation.experiments.posterior import read_parameter_record

    return Parameters(**{**Parameters().as_dict(), **read_parameter_record(path)})


def check_run_record(record: Path, alignments: Path, years: np.ndarray, runs: list[int]) -> None:
    """The alignments of a run folder hold what its parameters.json (`record`) says the run wrote:
    every year of its `period` and a run for each of its `seeds`, no more. A file cut at a whole line,
    or with runs taken out, would otherwise be scored on what is left without a word. A record
    without these keys (written by hand) is not checked against."""
    from simulation.experiments.posterior import _list, _read_json

    data = _read_json(record)
    assert isinstance(data, dict)  # read_parameters has checked it is a record
    if "period" in data:
        period = _list(record, "period", data["period"], 2)
        if not all(type(v) is int for v in period):
            raise InputError(f"expected [start, end] as two whole years, got {period}", file=record, field="period")
        if (int(years[0]), int(years[-1])) != (period[0], period[1]):
            raise InputError(f"holds the years {years[0]}-{years[-1]}, but the run's {record.name} records its period "
                             f"as {period[0]}-{period[1]} (a file cut short?)", file=alignments, field="year")
    if "seeds" in data:
        seeds = _list(record, "seeds", data["seeds"])
        if not all(type(v) is int for v in seeds):
            raise InputError("expected a list of whole-number seeds", file=record, field="seeds")
        missing, extra = sorted(set(seeds) - set(runs)), sorted(set(runs) - set(seeds))
        if missing or extra:
            which = f"no run {missing[0]}" if missing else f"a run {extra[0]} it does not record"
            raise InputError(f"holds {len(runs)} run(s), but the run's {record.name} records {len(set(seeds))} "
                             f"seed(s): {which}", file=alignments, field="run")
