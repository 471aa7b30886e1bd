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
from typing import Any

import numpy as np

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


@dataclass(frozen=True)
class SupplierShares:
    """SIPRI supplier shares by window: `share[w, j, s]` is the share of recipient j's arms imports
    in `windows[w]` from supplier s (SUPPLIERS: the six, then "other", suppliers outside the six; a
    recipient never supplies itself), for the recipient-windows where `imported[w, j]`."""

    windows: tuple[tuple[int, int], ...]
    share: np.ndarray  # (W, N, N + 1)
    imported: np.ndarray  # (W, N) bool

    def of(self, recipient: str, window: tuple[int, int]) -> np.ndarray | None:
        """(N + 1,) the recipient's shares in `window`, or None if it imported nothing then."""
        w, j = self.windows.index(window), INDEX[recipient]
        return self.share[w, j] if self.imported[w, j] else None


def supplier_shares(windows: tuple[tuple[int, int], ...] = WINDOWS, data_dir: Path = DATA_DIR) -> SupplierShares:
    """SIPRI supplier shares for `windows` (each recipient's imports from the other five and from
    outside the six). Computed once per windows and folder (a many-run score asks for it once a
    chunk); the arrays are read-only, since every caller shares them."""
    return _supplier_shares(tuple(windows), data_dir)


@functools.lru_cache(maxsize=8)
def _supplier_shares(windows: tuple[tuple[int, int], ...], data_dir: Path) -> SupplierShares:
    dyadic = [r for r in read_table(data_dir / "sipri_six.csv", ["supplier_cown", "recipient_cown", "year", "tiv_musd",
                                                                 "state_to_state"])
              if r.state_to_state == 1 and r.supplier_cown in STATE_OF_COW and r.recipient_cown in STATE_OF_COW]
    totals = [r for r in read_table(data_dir / "sipri_totals_six.csv", ["ccode", "year", "tiv_imports_musd"])
              if r.ccode in STATE_OF_COW]
    n = len(STATES)
    share, imported = np.zeros((len(windows), n, n + 1)), np.zeros((len(windows), n), dtype=bool)
    for w, (start, end) in enumerate(windows):
        six = np.zeros((n, n))  # [recipient, supplier]: deliveries among the six in the window
        for r in dyadic:
            if start <= r.year <= end:
                six[INDEX[STATE_OF_COW[r.recipient_cown]], INDEX[STATE_OF_COW[r.supplier_cown]]] += r.tiv_musd
        for j, recipient in enumerate(STATES):
            total = float(sum(r.tiv_imports_musd for r in totals
                              if start <= r.year <= end and STATE_OF_COW[r.ccode] == recipient))
            from_six = float(six[j].sum())
            total = max(total, from_six)
            if total <= 0:
                continue
            imported[w, j] = True
            share[w, j, :n] = six[j] / total
            share[w, j, j] = 0.0
            share[w, j, n] = (total - from_six) / total
    share.flags.writeable = imported.flags.writeable = False
    return SupplierShares(windows, share, imported)


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


def _window_fit(arms: np.ndarray, years: np.ndarray, record: SupplierShares, inside: tuple[int, int]
                ) -> tuple[list, np.ndarray]:
    """Supplier fit (B, K) of the recipient-windows of `record` lying in `inside` and in `years`,
    recipient by recipient (keys (recipient, start, end), in that order)."""
    by_window = {}
    for w, (start, end) in enumerate(record.windows):
        if inside[0] <= start and end <= inside[1] and years[0] <= start and end <= years[-1]:
            model = model_shares(arms, years, start, end)  # (B, N, N + 1), every recipient at once
            by_window[w] = 1.0 - 0.5 * np.abs(model - record.share[w]).sum(axis=2)  # (B, N)
    keys, fits = [], []
    for j, recipient in enumerate(STATES):
        for w in sorted(by_window, key=lambda w: record.windows[w]):
            if record.imported[w, j]:
                keys.append((recipient, *record.windows[w]))
                fits.append(by_window[w][:, j])
    return keys, (np.stack(fits, axis=1) if fits else np.zeros((arms.shape[0], 0)))


def load_episodes(path: Path = EPISODES) -> list[Any]:
    """The documented sanction episodes (rows with sanctioner, target, start, end, input, source)."""
    return read_table(path, ["sanctioner", "target", "start", "end", "input", "source"], text=("sanctioner", "target"))


def sanction_accuracy(sanction: np.ndarray, years: np.ndarray, episodes: list[Any], window: tuple[int, int]
                      ) -> np.ndarray:
    """(B,) balanced accuracy of the model's sanctions (B, T, N, N) against the documented episodes
    over the years in `window`; pair-years of episodes that are inputs are left out."""
    n = sanction.shape[-1]
    t = (years >= window[0]) & (years <= window[1])
    documented = np.zeros((len(years), n, n), dtype=bool)
    excluded = np.zeros_like(documented)
    for row in episodes:
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
                     record: SupplierShares | None = None, episodes: list[Any] | None = None) -> InstrumentScore:
    """Instrument scores of runs (B, T, N, N) over the windows and years inside `window`."""
    record = supplier_shares() if record is None else record
    episodes = load_episodes() if episodes is None else episodes
    keys, fits = _window_fit(arms, years, record, window)
    supplier = fits.mean(axis=1) if fits.shape[1] else np.full(arms.shape[0], np.nan)
    return InstrumentScore(supplier, sanction_accuracy(sanction, years, episodes, window), keys, fits)


def table_5_1(arms: np.ndarray, years: np.ndarray) -> list[dict]:
    """Pakistan's supplier shares in seed 000's Table 5.1 windows: the model (mean over runs), SIPRI
    as computed here, and the thesis."""
    record = supplier_shares(tuple(TABLE_5_1))
    out = []
    for (start, end), thesis in TABLE_5_1.items():
        if not years[0] <= start <= end <= years[-1]:  # a window the run did not simulate (a shorter period)
            continue
        model = model_shares(arms, years, start, end)[:, INDEX["PAK"]].mean(axis=0)
        sipri = record.of("PAK", (start, end))
        for supplier, share in thesis.items():
            k = SUPPLIERS.index(supplier)
            out.append({"window": f"{start}-{end}", "supplier": supplier,
                        "model": round(float(model[k]), 3),
                        "sipri": round(float(sipri[k]) if sipri is not None else 0.0, 3), "thesis": share})
    return out
