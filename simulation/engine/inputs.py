"""Yearly input arrays built from the copied public data (simulation/data) and the event timeline.

Only *inputs* are read here. Data that record alignment itself (ATOP alliances, dyadic SIPRI
flows, rivalries that began after the simulation starts) are kept for validation, never fed in.

How each series is extended past its last observed year (and filled inside gaps):
- COW NMC (CINC, military spending), to 2022: gaps are interpolated linearly; after 2022 the
  last value is held.
- GDP: Fariss et al. real GDP to 2019, carried to 2023 with the World Bank's growth in current
  USD, then held.
- SIPRI totals, 1950-2021: 5-year trailing mean of each state's share of the six's arms exports
  (supplier capacity); before 1950 the 1950 value, after 2021 the 2017-2021 mean. Imports are not
  read: a buyer's demand is its arms need, from its threats (rules.interest.arms_need), since total
  imports include the flows among the six, which are the agents' choices.
- Energy: a state's need (net importer) or capacity (net exporter) is its GDP relative to the
  largest of the six, in the years `energy_status.csv` gives it that status (each row sourced).
- MIDs (to 2014) and wars (to 2007) give hostile acts in the years they record; later acts come
  from the event timeline only.
"""

from __future__ import annotations

import csv
from collections import namedtuple
from pathlib import Path
from typing import Any

import numpy as np

from simulation.engine.params import Parameters
from simulation.engine.series import Inputs, schema
from simulation.engine.timeline import KINDS, OUTSIDE, PER_YEAR, Event, load_events, needs_target
from simulation.errors import InputError
from simulation.rules.types import IDEOLOGY_AXES
from simulation.states import INDEX, N_STATES, STATE_OF_COW, STATES

DATA_DIR = Path(__file__).parents[1] / "data"


def _typed(cells: list[str], text: bool) -> list[Any]:
    """A column's cells as one type: whole numbers (int), numbers with empty cells as NaN (float), or
    text with empty cells as None; `text` keeps it text (state codes, say, whatever they look like)."""
    if not text:
        try:
            return [int(c) for c in cells]
        except ValueError:
            pass
        try:
            return [float(c) if c.strip() else np.nan for c in cells]
        except ValueError:
            pass
    return [c if c else None for c in cells]


def read_table(path: Path, columns: list[str], not_found: str = "data file not found",
               text: tuple[str, ...] = ()) -> list[Any]:
    """A CSV file's rows as named tuples (blank lines skipped), each column typed as a whole
    (`_typed`); fails with a clear message if the file, or one of `columns`, is missing. Read with
    the csv module: the data files are small, and pandas' import alone costs more than a run."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = [(n, cells) for n, cells in enumerate(csv.reader(handle), start=1) if cells]
    except FileNotFoundError:
        raise InputError(not_found, file=path) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot parse CSV: {str(exc).splitlines()[0]}", file=path) from None
    if not lines:
        raise InputError("cannot parse CSV: no header", file=path)
    header = lines[0][1]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=path, line=1, field=missing[0])
    for n, cells in lines[1:]:
        if len(cells) > len(header):
            raise InputError(f"cannot parse CSV: expected {len(header)} fields, saw {len(cells)}", file=path, line=n)
    body = [cells + [""] * (len(header) - len(cells)) for _, cells in lines[1:]]
    values = [_typed([row[k] for row in body], name in text) for k, name in enumerate(header)]
    Row = namedtuple("Row", header, rename=True)  # type: ignore[misc]  # the file's own columns
    return [Row(*cells) for cells in zip(*values, strict=True)] if body else []


def column(rows: list[Any], name: str) -> np.ndarray:
    """One column of `read_table`'s rows as an array."""
    return np.array([getattr(r, name) for r in rows])


def _fill(table: np.ndarray) -> np.ndarray:
    """Fill the NaN of each column of a (years, k) table: linearly between observed years, and the
    first or last observation held beyond them (np.interp does both: the same numbers as
    interpolating inside, then carrying the ends). A column with no observation stays NaN."""
    out = table.copy()
    index = np.arange(len(table), dtype=float)
    for k in range(table.shape[1]):
        seen = ~np.isnan(table[:, k])
        if seen.any() and not seen.all():
            out[~seen, k] = np.interp(index[~seen], index[seen], table[seen, k])
    return out


def _pivot(keys: list[Any], years: np.ndarray, values: np.ndarray, labels: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(years observed, (Y, len(labels)) table): the mean of `values` per year and label, NaN where
    there is none; a year or cell whose values are all NaN counts as unobserved."""
    observed = ~np.isnan(values)
    rows = np.unique(years[observed])
    total = np.zeros((len(rows), len(labels)))
    count = np.zeros((len(rows), len(labels)))
    position = {label: k for k, label in enumerate(labels)}
    for key, year, value, ok in zip(keys, years, values, observed, strict=True):
        if ok and key in position:
            r = int(np.searchsorted(rows, year))
            total[r, position[key]] += value
            count[r, position[key]] += 1
    with np.errstate(invalid="ignore"):
        return rows, np.where(count > 0, total / count, np.nan)


def _span(observed: np.ndarray, table: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """The table laid on every year from `first` to `last` (NaN in the years not observed)."""
    span = np.arange(first, last + 1)
    full = np.full((len(span), table.shape[1]), np.nan)
    inside = (observed >= first) & (observed <= last)
    full[observed[inside] - first] = table[inside]
    return span, full


def _state_year_matrix(rows: list[Any], value: str, years: np.ndarray, path: Path,
                       state_col: str = "ccode") -> np.ndarray:
    """Pivot a state-year series into (T, N), interpolating gaps and holding the ends."""
    codes = [STATE_OF_COW.get(getattr(r, state_col)) for r in rows]
    if None in codes:
        k = codes.index(None)
        raise InputError(f"unknown COW state code {getattr(rows[k], state_col)!r}", file=path, line=k + 2,
                         field=state_col)
    observed, table = _pivot(codes, column(rows, "year"), column(rows, value).astype(float), list(STATES))
    span, full = _span(observed, table, min(int(observed[0]), int(years[0])), max(int(observed[-1]), int(years[-1])))
    full = _fill(full)
    if np.isnan(full).any():
        raise InputError(f"no observed {value} for {STATES[int(np.isnan(full).any(axis=0).argmax())]}", file=path,
                         field=value)
    return full[int(years[0]) - span[0]: int(years[-1]) - span[0] + 1]


def _gdp(path: Path, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = read_table(path, ["ccode", "year", "pwtrgdp", "pwtpop", "wb_gdp_current_usd"])
    # every country listed counts for the years observed; the six are taken in STATES order
    ccode, year = [r.ccode for r in rows], column(rows, "year")
    listed = sorted(set(ccode))
    six = [listed.index(c) for s in STATES for c, v in STATE_OF_COW.items() if v == s]
    real_years, real = _pivot(ccode, year, column(rows, "pwtrgdp").astype(float), listed)
    wb_years, wb = _pivot(ccode, year, column(rows, "wb_gdp_current_usd").astype(float), listed)
    pop_years, pop = _pivot(ccode, year, column(rows, "pwtpop").astype(float), listed)
    real, wb, pop = real[:, six], wb[:, six], pop[:, six]
    first, end = min(int(years[0]), int(real_years[0])), max(int(years[-1]), int(wb_years[-1]))
    span, real = _span(real_years, real, first, end)
    wb = _span(wb_years, wb, first, end)[1]
    pop = _span(pop_years, pop, first, end)[1]
    last = int(real_years[-1]) - first  # the last year with real GDP, as a row of the span
    for t in range(last + 1, len(span)):  # carry real GDP forward with World Bank growth
        growth = wb[t] / wb[t - 1]
        real[t] = real[t - 1] * np.where(np.isnan(growth), 1.0, growth)
    ratios = pop[max(last - 4, 1): last + 1] / pop[max(last - 4, 1) - 1: last]  # the last five years' growth
    seen = ~np.isnan(ratios)
    pop_growth = np.where(seen, ratios, 0.0).sum(axis=0) / seen.sum(axis=0)
    for t in range(last + 1, len(span)):
        pop[t] = pop[t - 1] * pop_growth
    rows_of_years = slice(int(years[0]) - first, int(years[-1]) - first + 1)
    gdp = _fill(real)[rows_of_years]
    return gdp, gdp / _fill(pop)[rows_of_years]


def _energy(path: Path, years: np.ndarray, gdp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, N) energy need and supply: economy size (GDP relative to the largest of the six) in the
    years a state is a net importer, or exporter, of energy (energy_status.csv)."""
    rows = read_table(path, ["state", "start", "end", "status", "source"])
    size = gdp / gdp.max(axis=1, keepdims=True)
    need, supply = np.zeros_like(size), np.zeros_like(size)
    for line, row in enumerate(rows, start=2):
        if row.state not in INDEX:
            raise InputError(f"unknown state code {row.state!r}", file=path, line=line, field="state")
        if row.status not in ("importer", "exporter", "none"):
            raise InputError(f"unknown status {row.status!r} (importer, exporter or none)", file=path, line=line,
                             field="status")
        mask = (years >= row.start) & (years <= row.end)
        target = need if row.status == "importer" else supply if row.status == "exporter" else None
        if target is not None:
            target[mask, INDEX[row.state]] = size[mask, INDEX[row.state]]
    return need, supply


def _arms_shares(path: Path, years: np.ndarray) -> np.ndarray:
    """(T, N) each state's share of the six's arms exports: 5-year trailing means of its exports
    (years without a record count as none), the last five years' mean held after the record, the
    first year's share before it."""
    rows = read_table(path, ["ccode", "year", "tiv_exports_musd"])
    observed, table = _pivot([STATE_OF_COW.get(r.ccode) for r in rows], column(rows, "year"),
                             column(rows, "tiv_exports_musd").astype(float), list(STATES))
    table = np.nan_to_num(table, nan=0.0)
    smooth = np.stack([table[max(k - 4, 0): k + 1].mean(axis=0) for k in range(len(table))])  # over listed years
    total = smooth.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total != 0, smooth / np.where(total != 0, total, 1.0), 0.0)
    last = int(observed[-1])
    tail = share[observed >= last - 4].mean(axis=0)
    span, full = _span(observed, share, min(int(years[0]), int(observed[0])), max(int(years[-1]), last))
    full[span > last] = tail
    for t in range(len(span) - 2, -1, -1):  # a year without a record takes the next year's shares
        if np.isnan(full[t]).all():
            full[t] = full[t + 1]
    return full[int(years[0]) - span[0]: int(years[-1]) - span[0] + 1]


def _data_acts(mids_path: Path, wars_path: Path, years: np.ndarray, p: Parameters) -> np.ndarray:
    """Hostile acts j -> i from MIDs (each side's hostility level, on the act scale the parameters
    set) and inter-state wars (intensity 1)."""
    # COW hostility level (1 no militarized action .. 5 war) -> intensity of the act, in [0, 1]
    hostility = {1: 0.0, 2: float(p.act_threat), 3: float(p.act_display), 4: float(p.act_use), 5: 1.0}
    # a use of force counts in full when it killed, less when it killed no one or the toll is unknown (-9)
    fatality = {0: float(p.nonfatal_force_share), -9: float(p.unknown_fatality_share)}
    acts = np.zeros((len(years), N_STATES, N_STATES))
    first = int(years[0])
    mids = read_table(mids_path, ["ccode1", "ccode2", "year", "sidea1", "sidea2", "hostlev1", "hostlev2", "fatality"])
    wars = read_table(wars_path, ["ccode1", "ccode2", "year"])
    for row in mids:
        t = row.year - first
        # MID dyads are "naive": two states on the same side of a multilateral dispute are not foes
        if 0 <= t < len(years) and row.sidea1 != row.sidea2:
            a, b = INDEX[STATE_OF_COW[row.ccode1]], INDEX[STATE_OF_COW[row.ccode2]]
            severity = fatality.get(int(row.fatality), 1.0)
            for actor, target, level in ((a, b, row.hostlev1), (b, a, row.hostlev2)):
                act = hostility.get(int(level), 0.0) * (severity if int(level) == 4 else 1.0)
                acts[t, actor, target] = max(acts[t, actor, target], act)
    for row in wars:
        t = row.year - first
        if 0 <= t < len(years):
            a, b = INDEX[STATE_OF_COW[row.ccode1]], INDEX[STATE_OF_COW[row.ccode2]]
            acts[t, a, b] = acts[t, b, a] = 1.0
    return acts


def _initial_intent(path: Path, start: int, level: float) -> np.ndarray:
    """Rivalries already under way before the start year: the history a state brings to 1947."""
    rows = read_table(path, ["ccode1", "ccode2", "start", "end"])
    intent = np.zeros((N_STATES, N_STATES))
    for row in rows:
        if row.start < start <= row.end:
            a, b = INDEX[STATE_OF_COW[row.ccode1]], INDEX[STATE_OF_COW[row.ccode2]]
            intent[a, b] = intent[b, a] = level
    return intent


def _distances(path: Path) -> np.ndarray:
    capitals = {r.state: (float(r.lat), float(r.lon)) for r in read_table(path, ["state", "lat", "lon"])}
    missing = [s for s in STATES if s not in capitals or np.isnan(capitals[s]).any()]
    if missing:
        raise InputError(f"no capital for {missing[0]}", file=path, field="state")
    lat, lon = np.radians(np.array([capitals[s] for s in STATES])).T
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


#: The per-state series a regime sets (regimes.csv): its ideology and whether its doctrine claims one centre.
REGIME_SERIES = ("ideology", "vanguard")


def _regimes(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """regime label -> the value of each series in REGIME_SERIES it sets."""
    rows = read_table(path, ["regime", *IDEOLOGY_AXES, "vanguard"])
    for line, r in enumerate(rows, start=2):
        for col in (*IDEOLOGY_AXES, "vanguard"):
            low, high = (0.0, 1.0) if col == "vanguard" else schema()["ideology"]["bounds"]
            value = getattr(r, col)
            if not isinstance(value, (int, float)) or not low <= float(value) <= high:
                raise InputError(f"{col} must be a number in [{low:g}, {high:g}], got {value!r}",
                                 file=path, line=line, field=col)
    return {r.regime: {"ideology": np.array([getattr(r, a) for a in IDEOLOGY_AXES], dtype=float),
                       "vanguard": np.array(float(r.vanguard))}
            for r in rows}


def regime_labels(data_dir: Path = DATA_DIR) -> set[str]:
    return set(_regimes(data_dir / "regimes.csv"))


def _borders(path: Path) -> np.ndarray:
    rows = read_table(path, ["a", "b", "contiguity"])
    contiguity = np.zeros((N_STATES, N_STATES))
    for line, row in enumerate(rows, start=2):
        for col in ("a", "b"):
            if getattr(row, col) not in INDEX:
                raise InputError(f"unknown state code {getattr(row, col)!r}", file=path, line=line, field=col)
        a, b = INDEX[row.a], INDEX[row.b]
        contiguity[a, b] = contiguity[b, a] = float(row.contiguity)
    return contiguity


def apply_events(events: list[Event], years: np.ndarray, base: dict[str, np.ndarray],
                 regimes: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Compile the timeline into yearly arrays: a stateful event holds from its year on, an
    aggression or an internal conflict in each of its years only (timeline.PER_YEAR).

    Events are applied in year order (file order within a year); each writes the series its kind
    names in the schema (timeline.KINDS), and no series is, or can become, an alignment.
    """
    T, first = len(years), int(years[0])
    written = {series for series, _ in KINDS.values()} | {"outside_acts", "regime_change", *REGIME_SERIES}
    out = {name: np.zeros((T, N_STATES) if schema()[name]["per"] == "state" else (T, N_STATES, N_STATES))
           for name in written - {"ideology"}}
    out["ideology"] = np.zeros((T, N_STATES, len(IDEOLOGY_AXES)))
    out["acts"] = base["acts"].copy()
    out["contiguity"] = np.repeat(base["contiguity"][None], T, axis=0)
    for ev in sorted(events, key=lambda e: e.year):  # stable: file order within a year
        a, series = INDEX[ev.actor], KINDS[ev.kind][0]
        if ev.kind in PER_YEAR:  # a value in each of its years; where events overlap, the highest
            cell: tuple[int, ...] = (a, INDEX[ev.target]) if needs_target(ev.kind) and ev.target != OUTSIDE else (a,)
            arr = out["outside_acts"] if ev.target == OUTSIDE else out[series]
            for year in ev.years:
                t = year - first
                if 0 <= t < T:
                    arr[(t, *cell)] = max(arr[(t, *cell)], float(ev.value))
            continue
        t0 = max(ev.year - first, 0)  # a state that holds from its year on
        if t0 >= T:
            continue
        if ev.kind == "regime":
            for name, value in regimes[str(ev.value)].items():
                out[name][t0:, a] = value
            if ev.year > first:
                out["regime_change"][t0, a] = 1.0
        elif not needs_target(ev.kind):
            out[series][t0:, a] = float(ev.value)
        elif ev.kind in ("border", "dispute"):  # symmetric by nature
            b = INDEX[ev.target]
            out[series][t0:, a, b] = out[series][t0:, b, a] = float(ev.value)
        else:  # directed actor -> target
            out[series][t0:, a, INDEX[ev.target]] = float(ev.value)
    return out


def build_inputs(start: int, end: int, events: list[Event] | None = None,
                 data_dir: Path = DATA_DIR, params: Parameters | None = None) -> Inputs:
    """Load every data series for `start..end` and apply the event timeline; `params` gives the
    coding of the data into inputs (its input-stage parameters; the defaults if none)."""
    p = params or Parameters()
    years = np.arange(start, end + 1)
    regimes = _regimes(data_dir / "regimes.csv")
    if events is None:
        events = load_events(data_dir / "events.csv", set(regimes))
    nmc_path = data_dir / "nmc_six.csv"
    nmc = read_table(nmc_path, ["ccode", "year", "cinc", "milex"])
    capability = _state_year_matrix(nmc, "cinc", years, nmc_path)
    milex = _state_year_matrix(nmc, "milex", years, nmc_path)
    gdp, gdp_pc = _gdp(data_dir / "gdp_six.csv", years)
    exports = _arms_shares(data_dir / "sipri_totals_six.csv", years)
    energy_need, energy_supply = _energy(data_dir / "energy_status.csv", years, gdp)
    base = {
        "acts": _data_acts(data_dir / "mids_six.csv", data_dir / "wars_six.csv", years, p),
        "contiguity": _borders(data_dir / "borders_1947.csv"),
    }
    compiled = apply_events(events, years, base, regimes)
    return Inputs(
        years=years,
        capability=capability,
        milex_share=milex / milex.max(axis=1, keepdims=True),
        gdp=gdp,
        gdp_per_capita=gdp_pc,
        arms_export_share=exports,
        energy_need=energy_need,
        energy_supply=energy_supply,
        distance_km=_distances(data_dir / "capitals.csv"),
        initial_intent=_initial_intent(data_dir / "rivalries_tss_six.csv", start, float(p.prior_rivalry_intent)),
        **compiled,
    )
