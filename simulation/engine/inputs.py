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

from pathlib import Path

import numpy as np
import pandas as pd

from simulation.engine.params import Parameters
from simulation.engine.series import IDEOLOGY_AXES, Inputs, schema
from simulation.engine.timeline import KINDS, OUTSIDE, PER_YEAR, Event, load_events, needs_target
from simulation.errors import InputError
from simulation.states import INDEX, N_STATES, STATE_OF_COW, STATES

DATA_DIR = Path(__file__).parents[1] / "data"



def read_table(path: Path, columns: list[str], not_found: str = "data file not found",
               dtype: dict | None = None) -> pd.DataFrame:
    """Read a CSV file, failing with a clear message if it, or one of `columns`, is missing."""
    try:
        frame = pd.read_csv(path, dtype=dtype)
    except FileNotFoundError:
        raise InputError(not_found, file=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse CSV: {str(exc).splitlines()[0]}", file=path) from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=path, line=1, field=missing[0])
    return frame


def _state_year_matrix(frame: pd.DataFrame, value: str, years: np.ndarray, path: Path,
                       state_col: str = "ccode") -> np.ndarray:
    """Pivot a state-year series into (T, N), interpolating gaps and holding the ends."""
    codes = frame[state_col].map(STATE_OF_COW)
    if codes.isna().any():
        bad = frame.loc[codes.isna(), state_col].iloc[0]
        line = int(codes.isna().to_numpy().nonzero()[0][0]) + 2
        raise InputError(f"unknown COW state code {bad!r}", file=path, line=line, field=state_col)
    table = (frame.assign(state=codes).pivot_table(index="year", columns="state", values=value, aggfunc="mean")
             .reindex(columns=list(STATES)))
    full = table.reindex(range(min(table.index.min(), years[0]), max(table.index.max(), years[-1]) + 1))
    full = full.interpolate(limit_area="inside").ffill().bfill()
    if full.isna().any().any():
        state = full.columns[full.isna().any()][0]
        raise InputError(f"no observed {value} for {state}", file=path, field=value)
    return full.loc[years[0]: years[-1]].to_numpy(dtype=float)


def _gdp(path: Path, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frame = read_table(path, ["ccode", "year", "pwtrgdp", "pwtpop", "wb_gdp_current_usd"])
    real = frame.pivot_table(index="year", columns="ccode", values="pwtrgdp")
    wb = frame.pivot_table(index="year", columns="ccode", values="wb_gdp_current_usd")
    pop = frame.pivot_table(index="year", columns="ccode", values="pwtpop")
    span = range(min(years[0], int(real.index.min())), max(years[-1], int(wb.index.max())) + 1)
    real, wb, pop = (x.reindex(span) for x in (real, wb, pop))
    last = int(real.dropna(how="all").index.max())
    growth = (wb / wb.shift(1)).loc[last + 1:]
    for year in growth.index:  # carry real GDP forward with World Bank growth
        real.loc[year] = real.loc[year - 1] * growth.loc[year].fillna(1.0)
    pop_growth = (pop / pop.shift(1)).loc[:last].tail(5).mean()
    for year in range(last + 1, span[-1] + 1):
        pop.loc[year] = pop.loc[year - 1] * pop_growth
    real = real.interpolate(limit_area="inside").ffill().bfill()
    pop = pop.interpolate(limit_area="inside").ffill().bfill()
    order = [c for s in STATES for c, v in STATE_OF_COW.items() if v == s]
    gdp = real.loc[years[0]: years[-1], order].to_numpy(dtype=float)
    population = pop.loc[years[0]: years[-1], order].to_numpy(dtype=float)
    return gdp, gdp / population


def _energy(path: Path, years: np.ndarray, gdp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, N) energy need and supply: economy size (GDP relative to the largest of the six) in the
    years a state is a net importer, or exporter, of energy (energy_status.csv)."""
    frame = read_table(path, ["state", "start", "end", "status", "source"])
    size = gdp / gdp.max(axis=1, keepdims=True)
    need, supply = np.zeros_like(size), np.zeros_like(size)
    for line, row in enumerate(frame.itertuples(index=False), start=2):
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
    frame = read_table(path, ["ccode", "year", "tiv_exports_musd"])
    out = []
    for col in ("tiv_exports_musd",):
        table = frame.assign(state=frame.ccode.map(STATE_OF_COW)).pivot_table(
            index="year", columns="state", values=col).reindex(columns=list(STATES)).fillna(0.0)
        smooth = table.rolling(5, min_periods=1).mean()
        share = smooth.div(smooth.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
        last = share.index.max()
        tail = share.loc[last - 4: last].mean()
        full = share.reindex(range(min(years[0], share.index.min()), max(years[-1], last) + 1))
        full.loc[last + 1:] = tail.to_numpy()
        full = full.bfill()
        out.append(full.loc[years[0]: years[-1]].to_numpy(dtype=float))
    return out[0]


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
    for row in mids.itertuples(index=False):
        t = row.year - first
        # MID dyads are "naive": two states on the same side of a multilateral dispute are not foes
        if 0 <= t < len(years) and row.sidea1 != row.sidea2:
            a, b = INDEX[STATE_OF_COW[row.ccode1]], INDEX[STATE_OF_COW[row.ccode2]]
            severity = fatality.get(int(row.fatality), 1.0)
            for actor, target, level in ((a, b, row.hostlev1), (b, a, row.hostlev2)):
                act = hostility.get(int(level), 0.0) * (severity if int(level) == 4 else 1.0)
                acts[t, actor, target] = max(acts[t, actor, target], act)
    for row in wars.itertuples(index=False):
        t = row.year - first
        if 0 <= t < len(years):
            a, b = INDEX[STATE_OF_COW[row.ccode1]], INDEX[STATE_OF_COW[row.ccode2]]
            acts[t, a, b] = acts[t, b, a] = 1.0
    return acts


def _initial_intent(path: Path, start: int, level: float) -> np.ndarray:
    """Rivalries already under way before the start year: the history a state brings to 1947."""
    frame = read_table(path, ["ccode1", "ccode2", "start", "end"])
    intent = np.zeros((N_STATES, N_STATES))
    for row in frame.itertuples(index=False):
        if row.start < start <= row.end:
            a, b = INDEX[STATE_OF_COW[row.ccode1]], INDEX[STATE_OF_COW[row.ccode2]]
            intent[a, b] = intent[b, a] = level
    return intent


def _distances(path: Path) -> np.ndarray:
    frame = read_table(path, ["state", "lat", "lon"]).set_index("state").reindex(list(STATES))
    if frame.lat.isna().any():
        raise InputError(f"no capital for {frame.index[frame.lat.isna()][0]}", file=path, field="state")
    lat, lon = np.radians(frame.lat.to_numpy()), np.radians(frame.lon.to_numpy())
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


#: The per-state series a regime sets (regimes.csv): its ideology and whether its doctrine claims one centre.
REGIME_SERIES = ("ideology", "vanguard")


def _regimes(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """regime label -> the value of each series in REGIME_SERIES it sets."""
    frame = read_table(path, ["regime", *IDEOLOGY_AXES, "vanguard"])
    for line, r in enumerate(frame.itertuples(index=False), start=2):
        for col in (*IDEOLOGY_AXES, "vanguard"):
            low, high = (0.0, 1.0) if col == "vanguard" else schema()["ideology"]["bounds"]
            value = getattr(r, col)
            if not isinstance(value, (int, float)) or not low <= float(value) <= high:
                raise InputError(f"{col} must be a number in [{low:g}, {high:g}], got {value!r}",
                                 file=path, line=line, field=col)
    return {r.regime: {"ideology": np.array([getattr(r, a) for a in IDEOLOGY_AXES], dtype=float),
                       "vanguard": np.array(float(r.vanguard))}
            for r in frame.itertuples(index=False)}


def regime_labels(data_dir: Path = DATA_DIR) -> set[str]:
    return set(_regimes(data_dir / "regimes.csv"))


def _borders(path: Path) -> np.ndarray:
    frame = read_table(path, ["a", "b", "contiguity"])
    contiguity = np.zeros((N_STATES, N_STATES))
    for line, row in enumerate(frame.itertuples(index=False), start=2):
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
