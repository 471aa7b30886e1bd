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

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from simulation.engine.ensemble import simulate
from simulation.engine.inputs import Inputs
from simulation.engine.params import ABLATIONS, Parameters
from simulation.experiments.baselines import persistence_with_jitter, statistical_baselines
from simulation.experiments.score import SHIFT_TOLERANCE, TOLERANCE, Score, score, target_cells
from simulation.states import INDEX, N_STATES, PAIRS

RANDOM_WALK_STEP = 0.1


def documented_series(targets: pd.DataFrame, years: np.ndarray) -> np.ndarray:
    """(T, N, N) documented levels (NaN where the record is silent)."""
    out = np.full((len(years), N_STATES, N_STATES), np.nan)
    for r in targets.itertuples(index=False):
        t0, t1 = max(r.start - years[0], 0), min(r.end - years[0], len(years) - 1)
        i, j = INDEX[r.a], INDEX[r.b]
        out[t0:t1 + 1, i, j] = out[t0:t1 + 1, j, i] = r.level
    return out


def persistence(targets: pd.DataFrame, years: np.ndarray, from_year: int) -> np.ndarray:
    """The documented level at `from_year` held for every year (1, T, N, N)."""
    record = documented_series(targets, years)
    held = np.nan_to_num(record[from_year - years[0]])
    return np.broadcast_to(held, record.shape)[None].copy()


def random_walk(years: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
    out = np.empty((len(seeds), len(years), N_STATES, N_STATES))
    for b, s in enumerate(seeds):
        rng = np.random.default_rng(s)
        x = np.zeros((N_STATES, N_STATES))
        for t in range(len(years)):
            step = rng.normal(0.0, RANDOM_WALK_STEP, (N_STATES, N_STATES))
            x = np.clip(x + np.triu(step, 1) + np.triu(step, 1).T, -1.0, 1.0)
            out[b, t] = x
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


def score_report(alignment: np.ndarray, inputs: Inputs, targets: pd.DataFrame, params: Parameters,
                 split_year: int, seeds: Sequence[int], baselines: bool = True,
                 shift_tolerance: float = SHIFT_TOLERANCE) -> dict:
    """Scores of (B, T, N, N) alignments in sample (to split_year), out of sample, and overall,
    per pair, and (optionally) for every baseline over the same seeds. `shift_tolerance` is the
    scorer's (score.SHIFT_TOLERANCE); 0 re-scores a record made before that rule."""
    years = inputs.years
    windows = {"in_sample": (int(years[0]), split_year), "out_of_sample": (split_year + 1, int(years[-1])),
               "all": (int(years[0]), int(years[-1]))}
    windows = {k: w for k, w in windows.items() if w[0] <= w[1]}
    cells = {k: target_cells(targets, years, w) for k, w in windows.items()}
    def scored(a: np.ndarray, c) -> Score:
        return score(a, c, shift_tolerance=shift_tolerance)

    model_scores = {k: scored(alignment, c) for k, c in cells.items()}
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
    if baselines:
        series = {
            "persistence_1947": persistence(targets, years, int(years[0])),
            "balance_of_power_only": simulate(inputs, balance_of_power_only(params), seeds,
                                              keep_threat=False).alignment,
            "random_walk": random_walk(years, seeds),
        }
        if "in_sample" in cells:
            series.update(statistical_baselines(inputs, cells["in_sample"]))
        report["baselines"] = {name: {k: _summary(scored(a, c)) for k, c in cells.items()}
                               for name, a in series.items()}
        if "out_of_sample" in cells:
            held = persistence(targets, years, split_year)
            report["baselines"][f"persistence_{split_year}"] = {
                "out_of_sample": _summary(scored(held, cells["out_of_sample"]))}
            jittered = persistence_with_jitter(documented_series(targets, years), split_year - int(years[0]), seeds,
                                               float(np.mean(params.noise)))
            report["baselines"][f"persistence_{split_year}_jitter"] = {
                "out_of_sample": _summary(scored(jittered, cells["out_of_sample"]))}
    return report


def format_report(report: dict) -> str:
    """A plain-text table of the headline scores."""
    lines = [f"score = mean of level accuracy (within ±{report['tolerance']}) and shift direction; "
             f"in sample to {report['split_year']}, out of sample after"]
    header = f"{'':26s}{'in sample':>14s}{'out of sample':>16s}{'all years':>14s}"
    lines.append(header)

    def row(name: str, scores: dict) -> str:
        cells = []
        for k in ("in_sample", "out_of_sample", "all"):
            s = scores.get(k)
            width = 16 if k == "out_of_sample" else 14
            cells.append(f"{s['score']:.3f} ± {s['score_sd']:.3f}".rjust(width) if s else "-".rjust(width))
        return f"{name:26s}" + "".join(cells)

    lines.append(row("model", report["model"]))
    for name, scores in report.get("baselines", {}).items():
        lines.append(row(name, scores))
    lines.append("")
    lines.append("level accuracy / shift direction, each on its own")
    lines.append(header)

    def parts(name: str, scores: dict) -> str:
        cells = []
        for k in ("in_sample", "out_of_sample", "all"):
            s = scores.get(k)
            width = 16 if k == "out_of_sample" else 14
            cells.append(f"{s['level']:.3f} / {s['shifts']:.3f}".rjust(width) if s else "-".rjust(width))
        return f"{name:26s}" + "".join(cells)

    lines.append(parts("model", report["model"]))
    for name, scores in report.get("baselines", {}).items():
        lines.append(parts(name, scores))
    return "\n".join(lines)
