"""Score reports: the model against the record, beside honest baselines, in and out of sample.

Baselines (each scored exactly like the model):
- persistence (1947): the documented 1947 level of every pair, held for ever;
- persistence (split year): the documented level at the last fitted year, held after it
  (out of sample only: in sample it would simply be the record);
- balance of power only: the same model with threat perceptions (capacity x intent, intent alone,
  the security dilemma), ideology and interests switched off (params.ABLATIONS), capabilities and
  geography alone;
- random walk: from 0, a yearly N(0, 0.1) step, clipped to [-1, 1];
- statistical fits on the same inputs, trained on the documented levels of the fitted years only
  (`baselines.py`: ridge with pair fixed effects, gradient boosting);
- persistence (split year) with jitter: the split year's levels held plus yearly N(0, noise) per
  pair, over the same seeds, so it is scored like a noisy model that does not move.
Level accuracy and shift direction are reported on their own for every row, beside their mean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from typing import Any

import numpy as np

from simulation.engine.ensemble import simulate
from simulation.engine.inputs import Inputs
from simulation.engine.params import ABLATIONS, Parameters
from simulation.experiments.baselines import persistence_with_jitter, statistical_baselines
from simulation.experiments.score import SHIFT_TOLERANCE, TOLERANCE, Score, Target, TargetCells, score, target_cells
from simulation.states import INDEX, N_STATES, PAIRS

RANDOM_WALK_STEP = 0.1


def documented_series(targets: Iterable[Target], years: np.ndarray) -> np.ndarray:
    """(T, N, N) documented levels (NaN where the record is silent)."""
    out = np.full((len(years), N_STATES, N_STATES), np.nan)
    for r in targets:
        t0, t1 = max(r.start - years[0], 0), min(r.end - years[0], len(years) - 1)
        i, j = INDEX[r.a], INDEX[r.b]
        out[t0:t1 + 1, i, j] = out[t0:t1 + 1, j, i] = r.level
    return out


def persistence(targets: Iterable[Target], years: np.ndarray, from_year: int) -> np.ndarray:
    """The documented level at `from_year` held for every year (1, T, N, N)."""
    record = documented_series(targets, years)
    held = np.nan_to_num(record[from_year - years[0]])
    return np.broadcast_to(held, record.shape)[None].copy()


def random_walk(years: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
    """(B, T, N, N): from 0, each seed's yearly symmetric N(0, step) moves, clipped to [-1, 1]."""
    steps = np.stack([np.random.default_rng(s).normal(0.0, RANDOM_WALK_STEP, (len(years), N_STATES, N_STATES))
                      for s in seeds])
    upper = np.triu(np.ones((N_STATES, N_STATES), dtype=bool), 1)
    steps = np.where(upper, steps, 0.0)
    steps = steps + np.swapaxes(steps, -1, -2)
    out = np.empty_like(steps)
    x = np.zeros((len(seeds), N_STATES, N_STATES))
    for t in range(len(years)):
        x = np.clip(x + steps[:, t], -1.0, 1.0)
        out[:, t] = x
    return out


def balance_of_power_only(params: Parameters) -> Parameters:
    """Capabilities and geography only: no perceived intentions, ideology or interests."""
    return replace(params, **ABLATIONS["balance of power only"])


def _summary(s: Score) -> dict[str, float]:
    return {
        "score": float(s.overall.mean()), "score_sd": float(s.overall.std()),
        "level": float(s.level.mean()), "shifts": float(s.shifts.mean()), "rmse": float(s.rmse.mean()),
        "runs": len(s.overall),
    }


#: Baseline runs simulated at once, so a report on many runs keeps memory flat.
CHUNK_RUNS = 500
#: The simulated baselines (balance of power only, random walk) are scored on at most this many of
#: the model's seeds: their mean and spread are settled well before, and a 2000-run report would
#: otherwise spend half its time re-running the baseline.
BASELINE_RUNS = 500
#: Instruments the report scores (against SIPRI supplier shares and documented sanctions).
SCORED_INSTRUMENTS = ("arms", "sanction")

#: A chunk of runs to score: its (B, T, N, N) alignments and, optionally, its instruments by name.
Chunk = tuple[np.ndarray, dict[str, np.ndarray] | None]


def _scores(chunks: Iterable[Chunk], cells: dict[str, TargetCells], years: np.ndarray,
            windows: dict[str, tuple[int, int]],
            shift_tolerance: float = SHIFT_TOLERANCE) -> tuple[dict[str, Score], dict | None]:
    """Per-run scores of chunks of runs, joined in order, per window; and, when the chunks carry
    instruments, their report."""
    parts: dict[str, list[Score]] = {k: [] for k in cells}
    inst_parts: dict[str, list] = {k: [] for k in windows}
    arms_sum, runs, record = None, 0, None
    for a, instruments in chunks:
        for k, c in cells.items():
            parts[k].append(score(a, c, shift_tolerance=shift_tolerance))
        if instruments is not None:
            from simulation.experiments.instrument_score import instrument_score, supplier_shares

            record = supplier_shares() if record is None else record
            for k, w in windows.items():
                inst_parts[k].append(instrument_score(instruments["arms"], instruments["sanction"], years, w, record))
            total = instruments["arms"].sum(axis=0)
            arms_sum = total if arms_sum is None else arms_sum + total
            runs += a.shape[0]
        del a, instruments  # before the next chunk is made
    scores = {k: Score(*(np.concatenate([getattr(p, f.name) for p in ps]) for f in fields(Score)))
              for k, ps in parts.items()}
    if arms_sum is None:
        return scores, None
    return scores, instrument_report(inst_parts, arms_sum[None] / runs, years)


def _in_chunks(seeds: Sequence[int], series: Callable[[list[int]], np.ndarray]) -> Iterable[Chunk]:
    for k in range(0, len(seeds), CHUNK_RUNS):
        yield series(list(seeds[k:k + CHUNK_RUNS])), None


def score_report(alignment: np.ndarray | Iterable[Chunk], inputs: Inputs, targets: list[Target],
                 params: Parameters, split_year: int, seeds: Sequence[int], baselines: bool = True,
                 statistical: bool = True,
                 instruments: dict[str, np.ndarray] | None = None,
                 shift_tolerance: float = SHIFT_TOLERANCE, balance_of_power: np.ndarray | None = None) -> dict:
    """Scores of (B, T, N, N) alignments in sample (to split_year), out of sample, and overall,
    per pair, and (optionally) for every baseline over the same seeds (the first `BASELINE_RUNS`); with the runs' `instruments`
    ("arms" and "sanction", (B, T, N, N)), their scores too (experiments.instrument_score).
    `alignment` may instead be chunks of runs in seed order, each (alignments, instruments or
    None), so that memory stays flat in the number of runs. `shift_tolerance` is the scorer's
    (score.SHIFT_TOLERANCE); 0 re-scores a record made before that rule. `balance_of_power` is the
    balance-of-power-only baseline's (B, T, N, N) alignments over the baseline seeds when the caller
    has simulated them already (runner.run_scenario steps them beside its runs)."""
    years = inputs.years
    windows = {"in_sample": (int(years[0]), split_year), "out_of_sample": (split_year + 1, int(years[-1])),
               "all": (int(years[0]), int(years[-1]))}
    windows = {k: w for k, w in windows.items() if w[0] <= w[1]}
    cells = {k: target_cells(targets, years, w) for k, w in windows.items()}
    chunks: Iterable[Chunk] = [(alignment, instruments)] if isinstance(alignment, np.ndarray) else alignment
    model_scores, instrument_scores = _scores(chunks, cells, years, windows, shift_tolerance)
    def pair_mean(values: np.ndarray) -> float | None:  # None where the record has nothing to score
        return None if np.isnan(values).all() else round(float(np.nanmean(values)), 4)

    per_pair = {
        f"{a}-{b}": {f"{k}_{part}": pair_mean(getattr(s, f"pair_{part}")[:, p])
                     for k, s in model_scores.items() if k != "all" for part in ("level", "shifts")}
        for p, (a, b) in enumerate(PAIRS)
    }
    report: dict[str, Any] = {
        "tolerance": TOLERANCE, "shift_tolerance": shift_tolerance, "split_year": split_year,
        "period": [int(years[0]), int(years[-1])],
        "model": {k: _summary(s) for k, s in model_scores.items()},
        "per_pair": per_pair,
    }
    if instrument_scores is not None:
        report["instruments"] = instrument_scores
    if baselines:
        bop = balance_of_power_only(params)
        seeds = list(seeds[:BASELINE_RUNS])
        series: dict[str, Iterable[Chunk]] = {
            "persistence_1947": [(persistence(targets, years, int(years[0])), None)],
            "balance_of_power_only": ([(balance_of_power, None)] if balance_of_power is not None else
                                      _in_chunks(seeds, lambda s: simulate(inputs, bop, s, keep_threat=False).alignment)),
            "random_walk": _in_chunks(seeds, lambda s: random_walk(years, s)),
        }
        if statistical and "in_sample" in cells:  # fitting them takes seconds: `score` does, `run` does not
            series.update({name: [(a, None)] for name, a in statistical_baselines(inputs, cells["in_sample"]).items()})
        baseline_scores: dict[str, dict] = {
            name: {k: _summary(v) for k, v in _scores(parts, cells, years, windows, shift_tolerance)[0].items()}
            for name, parts in series.items()}
        if "out_of_sample" in cells and years[0] <= split_year:  # the split's level must be simulated
            out = cells["out_of_sample"]
            held = persistence(targets, years, split_year)
            baseline_scores[f"persistence_{split_year}"] = {
                "out_of_sample": _summary(score(held, out, shift_tolerance=shift_tolerance))}
            jittered = persistence_with_jitter(documented_series(targets, years), split_year - int(years[0]), seeds,
                                               float(np.mean(params.noise)))
            baseline_scores[f"persistence_{split_year}_jitter"] = {
                "out_of_sample": _summary(score(jittered, out, shift_tolerance=shift_tolerance))}
        report["baselines"] = baseline_scores
    return report


def instrument_report(parts: dict[str, list], mean_arms: np.ndarray, years: np.ndarray) -> dict:
    """Supplier-share fit and sanction accuracy in each window, from the per-chunk InstrumentScores
    in `parts` (window -> list), and seed 000's Table 5.1 from the runs' mean arms shares (1, T, N, N)
    (the table's shares are means over runs, linear in the arms series)."""
    from simulation.experiments.instrument_score import InstrumentScore, table_5_1

    out: dict = {}
    for k, scores in parts.items():
        s = InstrumentScore(np.concatenate([x.supplier_fit for x in scores]),
                            np.concatenate([x.sanctions for x in scores]), scores[0].windows,
                            np.concatenate([x.window_fit for x in scores]))
        # (a span without a SIPRI window, such as a fit to 1950, has no supplier fit: NaN, written as null)
        fits = s.supplier_fit[np.isfinite(s.supplier_fit)]
        out[k] = {"supplier_fit": round(float(fits.mean()), 4) if fits.size else float("nan"),
                  "supplier_fit_sd": round(float(fits.std()), 4) if fits.size else float("nan"),
                  "sanctions": round(float(s.sanctions.mean()), 4),
                  "windows": {f"{r}:{a}-{b}": round(float(s.window_fit[:, c].mean()), 3)
                              for c, (r, a, b) in enumerate(s.windows)}}
    out["table_5_1"] = table_5_1(mean_arms, years)
    return out


def format_report(report: dict) -> str:
    """A plain-text table of the headline scores."""
    lines = [f"score = mean of level accuracy (within ±{report['tolerance']}) and shift direction; "
             f"in sample to {report['split_year']}, out of sample after"]
    header = f"{'':26s}{'in sample':>14s}{'out of sample':>16s}{'all years':>14s}"
    lines.append(header)

    def row(name: str, scores: dict, cell=lambda s: f"{s['score']:.3f} ± {s['score_sd']:.3f}") -> str:
        """One line of the table: `cell` formats a window's scores, '-' where there are none."""
        return f"{name:26s}" + "".join((cell(scores[k]) if scores.get(k) else "-").rjust(16 if k == "out_of_sample" else 14)
                                       for k in ("in_sample", "out_of_sample", "all"))

    lines.append(row("model", report["model"]))
    for name, scores in report.get("baselines", {}).items():
        lines.append(row(name, scores))
    if "instruments" in report:
        inst = report["instruments"]
        for label, key in (("arms supplier fit", "supplier_fit"), ("sanctions (balanced)", "sanctions")):
            cells = "".join((f"{inst[k][key]:.3f}" if k in inst else "-").rjust(16 if k == "out_of_sample" else 14)
                            for k in ("in_sample", "out_of_sample", "all"))
            lines.append(f"{label:26s}{cells}")
    lines.append("")
    lines.append("level accuracy / shift direction, each on its own")
    lines.append(header)

    def parts(s: dict) -> str:
        return f"{s['level']:.3f} / {s['shifts']:.3f}"

    lines.append(row("model", report["model"], parts))
    for name, scores in report.get("baselines", {}).items():
        lines.append(row(name, scores, parts))
    return "\n".join(lines)
