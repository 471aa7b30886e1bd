"""The instruments against the record: arms supplier shares (SIPRI) and documented sanctions.

Read only here, never by the model while it runs:
- `sipri_six.csv` (dyadic deliveries among the six) and `sipri_totals_six.csv` (each state's total
  imports), which give each recipient's supplier shares by five-year window: the share of its arms
  imports (TIV) from each of the other five and from suppliers outside the six ("other" = total
  imports less the six's deliveries). Deliveries to non-state groups (`state_to_state` = 0) are left
  out; the USSR and Russia are one supplier.
- `sanction_episodes.csv`: documented sanctions and arms cutoffs between two of the six. Episodes
  that are inputs (multilateral decisions) are not scored.

Two scores, each in [0, 1], in and out of sample beside the alignment score (which stays the
calibration objective: the instruments follow from the stances, and fitting them too would double
count the record):
- supplier fit: 1 - total variation distance between the model's and SIPRI's supplier shares, the
  mean over recipient-windows (1 when the shares match, 0 when they share nothing);
- sanctions: balanced accuracy over directed pair-years of the six: the share of documented
  episode years in which the model's sanction is at least `SANCTION_ON`, averaged with the share of
  the other pair-years in which it is below.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.engine.inputs import DATA_DIR, read_table
from simulation.states import INDEX, STATE_OF_COW, STATES

SIPRI_DYADIC = DATA_DIR / "sipri_six.csv"
SIPRI_TOTALS = DATA_DIR / "sipri_totals_six.csv"
EPISODES = DATA_DIR / "sanction_episodes.csv"
#: Five-year windows of the supplier score: in sample to 1990, out of sample from 1991 (SIPRI ends 2021).
WINDOWS: tuple[tuple[int, int], ...] = (*((s, s + 4) for s in range(1951, 2017, 5)), (2021, 2021))
#: Seed 000 (Abbasi 2022) Table 5.1: SIPRI shares of Pakistan's suppliers (China, US, Russia).
TABLE_5_1: dict[tuple[int, int], dict[str, float]] = {
    (2007, 2011): {"CHN": 0.42, "USA": 0.36, "RUS": 0.0},
    (2011, 2015): {"CHN": 0.63, "USA": 0.19, "RUS": 0.0},
    (2014, 2018): {"CHN": 0.70, "USA": 0.089, "RUS": 0.06},
}
#: A sanction counts as imposed from this share of supply cut.
SANCTION_ON = 0.2
SUPPLIERS = (*STATES, "other")


def supplier_shares(windows: tuple[tuple[int, int], ...] = WINDOWS, data_dir: Path = DATA_DIR) -> pd.DataFrame:
    """SIPRI supplier shares: `recipient, start, end, supplier, share` (suppliers: the other five and
    "other"), for every window in which the recipient imported anything. Computed once per windows
    and folder (a many-run score asks for it once a chunk); a copy, so callers may change it."""
    return _supplier_shares(tuple(windows), data_dir).copy()


@functools.lru_cache(maxsize=8)
def _supplier_shares(windows: tuple[tuple[int, int], ...], data_dir: Path) -> pd.DataFrame:
    dyadic = read_table(data_dir / "sipri_six.csv", ["supplier_cown", "recipient_cown", "year", "tiv_musd",
                                                     "state_to_state"])
    totals = read_table(data_dir / "sipri_totals_six.csv", ["ccode", "year", "tiv_imports_musd"])
    dyadic = dyadic[dyadic.state_to_state == 1].assign(supplier=lambda d: d.supplier_cown.map(STATE_OF_COW),
                                                         recipient=lambda d: d.recipient_cown.map(STATE_OF_COW))
    totals = totals.assign(state=totals.ccode.map(STATE_OF_COW))
    rows = []
    for start, end in windows:
        d = dyadic[dyadic.year.between(start, end)]
        for recipient in STATES:
            six = d[d.recipient == recipient].groupby("supplier").tiv_musd.sum()
            total = float(totals.loc[totals.year.between(start, end) & (totals.state == recipient),
                                     "tiv_imports_musd"].sum())
            total = max(total, float(six.sum()))
            if total <= 0:
                continue
            for supplier in SUPPLIERS:
                if supplier == recipient:
                    continue
                tiv = total - float(six.sum()) if supplier == "other" else float(six.get(supplier, 0.0))
                rows.append({"recipient": recipient, "start": start, "end": end, "supplier": supplier,
                             "share": tiv / total})
    return pd.DataFrame(rows)


def model_shares(arms: np.ndarray, years: np.ndarray, start: int, end: int) -> np.ndarray:
    """(B, N, N + 1): the model's supplier shares over a window, [b, j, i] = share of j's imports from
    i (the last column: suppliers outside the six), the mean of the yearly shares. `arms` is
    (B, T, N, N) [supplier, recipient]."""
    t = (years >= start) & (years <= end)
    six = arms[:, t].mean(axis=1).swapaxes(1, 2)  # [b, recipient, supplier]
    other = 1.0 - six.sum(axis=2, keepdims=True)
    return np.concatenate([six, other], axis=2)


@dataclass(frozen=True)
class InstrumentScore:
    """Per-run instrument scores (B,), and per recipient-window supplier fit (B, W)."""

    supplier_fit: np.ndarray
    sanctions: np.ndarray
    windows: list[tuple[str, int, int]]
    window_fit: np.ndarray


def _window_fit(arms: np.ndarray, years: np.ndarray, record: pd.DataFrame) -> tuple[list, np.ndarray]:
    keys, fits = [], []
    for (recipient, start, end), g in record.groupby(["recipient", "start", "end"], sort=True):
        if start < years[0] or end > years[-1]:
            continue
        documented = np.zeros(len(SUPPLIERS))
        for row in g.itertuples(index=False):
            documented[SUPPLIERS.index(row.supplier)] = row.share
        model = model_shares(arms, years, start, end)[:, INDEX[recipient]]
        keys.append((recipient, int(start), int(end)))
        fits.append(1.0 - 0.5 * np.abs(model - documented).sum(axis=1))
    return keys, (np.stack(fits, axis=1) if fits else np.zeros((arms.shape[0], 0)))


def load_episodes(path: Path = EPISODES) -> pd.DataFrame:
    return read_table(path, ["sanctioner", "target", "start", "end", "input", "source"], dtype={"sanctioner": str})


def sanction_accuracy(sanction: np.ndarray, years: np.ndarray, episodes: pd.DataFrame, window: tuple[int, int]
                      ) -> np.ndarray:
    """(B,) balanced accuracy of the model's sanctions (B, T, N, N) against the documented episodes
    over the years in `window`; pair-years of episodes that are inputs are left out."""
    n = sanction.shape[-1]
    t = (years >= window[0]) & (years <= window[1])
    documented = np.zeros((len(years), n, n), dtype=bool)
    excluded = np.zeros_like(documented)
    for row in episodes.itertuples(index=False):
        span = (years >= row.start) & (years <= row.end)
        target = excluded if int(row.input) else documented
        target[span, INDEX[row.sanctioner], INDEX[row.target]] = True
    off_diagonal = ~np.eye(n, dtype=bool)[None]
    on = documented & t[:, None, None]
    off = ~documented & ~excluded & off_diagonal & t[:, None, None]
    imposed = sanction >= SANCTION_ON
    hit = (imposed & on).sum(axis=(1, 2, 3)) / max(int(on.sum()), 1)
    rejected = (~imposed & off).sum(axis=(1, 2, 3)) / max(int(off.sum()), 1)
    return 0.5 * (hit + rejected) if on.any() else rejected


def instrument_score(arms: np.ndarray, sanction: np.ndarray, years: np.ndarray, window: tuple[int, int],
                     record: pd.DataFrame | None = None, episodes: pd.DataFrame | None = None) -> InstrumentScore:
    """Instrument scores of runs (B, T, N, N) over the windows and years inside `window`."""
    record = supplier_shares() if record is None else record
    episodes = load_episodes() if episodes is None else episodes
    inside = record[(record.start >= window[0]) & (record.end <= window[1])]
    keys, fits = _window_fit(arms, years, inside)
    supplier = fits.mean(axis=1) if fits.shape[1] else np.full(arms.shape[0], np.nan)
    return InstrumentScore(supplier, sanction_accuracy(sanction, years, episodes, window), keys, fits)


def table_5_1(arms: np.ndarray, years: np.ndarray) -> list[dict]:
    """Pakistan's supplier shares in seed 000's Table 5.1 windows: the model (mean over runs), SIPRI
    as computed here, and the thesis."""
    record = supplier_shares(tuple(TABLE_5_1))
    out = []
    for (start, end), thesis in TABLE_5_1.items():
        model = model_shares(arms, years, start, end)[:, INDEX["PAK"]].mean(axis=0)
        sipri = record[(record.recipient == "PAK") & (record.start == start)].set_index("supplier").share
        for supplier, share in thesis.items():
            out.append({"window": f"{start}-{end}", "supplier": supplier,
                        "model": round(float(model[SUPPLIERS.index(supplier)]), 3),
                        "sipri": round(float(sipri.get(supplier, 0.0)), 3), "thesis": share})
    return out


def instruments_frame(runs: list, names: tuple[str, ...]) -> pd.DataFrame:
    """Long form of the chosen instruments (`run,year,i,j,instrument,value`, non-zero cells only):
    `runs` are RunResults with an `instruments` dict of (T, N, N) series [from, to]."""
    codes = np.array(STATES)
    frames = []
    for run in runs:
        for name in names:
            series = run.instruments[name]
            t, i, j = np.nonzero(np.abs(series) > 1e-6)
            frames.append(pd.DataFrame({"run": run.seed, "year": run.years[t], "i": codes[i], "j": codes[j],
                                        "instrument": name, "value": np.round(series[t, i, j], 6)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["run", "year", "i", "j", "instrument", "value"])
