"""Compare two scenarios over the same seeds: what changed, for which pairs, from when, how sure.

Both scenarios run with identical seeds, and a run's shocks are keyed by calendar year
(engine/shocks.py), so run b of one and run b of the other share the shock of every year they
both simulate, whatever their start years: their difference is due to the inputs alone (paired
design), and the two are compared on the years they share. For each pair and year the
mean difference gets a 95% interval (t interval over the paired runs). A difference is "clear"
when its interval excludes 0 and it is at least `MIN_EFFECT` in size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.engine.ensemble import simulate
from simulation.experiments.scenario import Scenario, scenario_inputs
from simulation.states import PAIR_A, PAIR_B, PAIRS, STATES, display_name

MIN_EFFECT = 0.05


@dataclass(frozen=True)
class Comparison:
    base: Scenario
    alt: Scenario
    years: np.ndarray
    base_alignment: np.ndarray  # (R, T, P) per run, year and pair
    alt_alignment: np.ndarray
    base_threat: np.ndarray  # (R, T, N, N)
    alt_threat: np.ndarray


def run_comparison(base: Scenario, alt: Scenario, runs: int, first_seed: int = 0) -> Comparison:
    """Run both scenarios over the same `runs` seeds on the vectorized engine (same rules as Mesa)."""
    seeds = list(range(first_seed, first_seed + runs))
    out = []
    for s in (base, alt):
        inputs, params = scenario_inputs(s)
        out.append((inputs.years, simulate(inputs, params, seeds)))
    (years_a, a), (years_b, b) = out
    years = np.intersect1d(years_a, years_b)
    ia, ib = np.searchsorted(years_a, years), np.searchsorted(years_b, years)
    return Comparison(base, alt, years,
                      a.alignment[:, ia][:, :, PAIR_A, PAIR_B], b.alignment[:, ib][:, :, PAIR_A, PAIR_B],
                      a.threat[:, ia], b.threat[:, ib])


def _interval(diff: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t interval over axis 0 (no interval, NaN, from a single run: never "clear")."""
    from scipy import stats  # only here: one quantile of Student's t

    n = diff.shape[0]
    mean = diff.mean(axis=0)
    if n < 2:
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    half = stats.t.ppf(0.975, n - 1) * diff.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def alignment_differences(c: Comparison) -> pd.DataFrame:
    """Per pair and year: both means, the difference (alt - base) and its 95% interval."""
    mean, lo, hi = _interval(c.alt_alignment - c.base_alignment)
    T, P = mean.shape
    frame = pd.DataFrame({
        "a": np.tile([a for a, _ in PAIRS], T), "b": np.tile([b for _, b in PAIRS], T),
        "year": np.repeat(c.years, P),
        "base": c.base_alignment.mean(axis=0).reshape(-1), "alt": c.alt_alignment.mean(axis=0).reshape(-1),
        "difference": mean.reshape(-1), "ci_low": lo.reshape(-1), "ci_high": hi.reshape(-1),
    })
    frame["clear"] = ((frame.ci_low > 0) | (frame.ci_high < 0)) & (frame.difference.abs() >= MIN_EFFECT)
    return frame


def threat_differences(c: Comparison) -> pd.DataFrame:
    """Per directed pair and year: change in the threat i perceives from j (the rules' explanation)."""
    mean, lo, hi = _interval(c.alt_threat - c.base_threat)
    n = len(STATES)
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    T = len(c.years)
    frame = pd.DataFrame({
        "i": np.tile(np.array(STATES)[i], T), "j": np.tile(np.array(STATES)[j], T), "year": np.repeat(c.years, len(i)),
        "base": c.base_threat.mean(axis=0)[:, i, j].reshape(-1), "alt": c.alt_threat.mean(axis=0)[:, i, j].reshape(-1),
        "difference": mean[:, i, j].reshape(-1), "ci_low": lo[:, i, j].reshape(-1), "ci_high": hi[:, i, j].reshape(-1),
    })
    frame["clear"] = ((frame.ci_low > 0) | (frame.ci_high < 0)) & (frame.difference.abs() >= MIN_EFFECT)
    return frame


def divergence(diffs: pd.DataFrame) -> pd.DataFrame:
    """Per pair with a clear difference: the first year it appears, and the largest difference."""
    rows = []
    for (a, b), g in diffs.groupby(["a", "b"], sort=False):
        clear = g[g.clear]
        if clear.empty:
            continue
        peak = g.loc[g.difference.abs().idxmax()]
        rows.append({"a": a, "b": b, "first_year": int(clear.year.min()), "clear_years": len(clear),
                     "largest_difference": float(peak.difference), "year_of_largest": int(peak.year),
                     "ci_low": float(peak.ci_low), "ci_high": float(peak.ci_high)})
    out = pd.DataFrame(rows, columns=["a", "b", "first_year", "clear_years", "largest_difference",
                                      "year_of_largest", "ci_low", "ci_high"])
    return out.sort_values("largest_difference", key=np.abs, ascending=False, ignore_index=True)


def _edits_in_words(s: Scenario) -> list[str]:
    words = [f"removes event `{eid}`" for eid, _ in s.removes]
    words += [f"adds event `{e.id}` ({e.kind}, {e.actor}{'→' + e.target if e.target else ''}, {e.year})"
              for e, _ in s.adds]
    words += [f"moves event `{e.id}` " + (f"to {e.to}" if e.to is not None else f"by {e.by:+d} years")
              for e, _ in s.moves]
    words += [f"scales event `{e.id}` by {e.factor:g}" for e, _ in s.scales]
    for e, _ in s.input_edits:
        who = e.actor + (f"→{e.target}" if e.target else "")
        how = (f"set to {e.set:g}" if e.set is not None else f"scaled by {e.scale:g}" if e.scale is not None
               else f"growing at {e.growth:g}× its pace")
        span = f"from {e.from_}" + (f" to {e.until}" if e.until else "")
        words.append(f"{e.series} of {who} {how} {span}")
    words += [f"sets parameter {k} = {v:g}" for k, v in s.parameters.items()]
    return words


def summary_markdown(c: Comparison, diffs: pd.DataFrame, div: pd.DataFrame, threats: pd.DataFrame,
                     runs: int) -> str:
    """A short plain-language account a teacher can read aloud."""
    lines = [f"# {c.alt.name} compared with {c.base.name}", ""]
    if c.alt.description:
        lines += [c.alt.description.strip(), ""]
    edits = _edits_in_words(c.alt)
    if edits:
        lines += ["**What this scenario changes** (inputs only; alignments are left to the rules):", ""]
        lines += [f"- {w}" for w in edits] + [""]
    lines += [f"Both scenarios were run {runs} times with the same random seeds, so every difference "
              f"below comes from the changed inputs. A difference counts as clear when its 95% interval "
              f"excludes zero and it is at least {MIN_EFFECT} on the -1..+1 scale.", ""]
    if div.empty:
        lines += ["**No pair's alignment changes clearly.**", ""]
    else:
        lines += ["**What changes**", ""]
        for r in div.head(6).itertuples(index=False):
            direction = "warmer" if r.largest_difference > 0 else "cooler"
            lines.append(
                f"- {display_name(r.a)}–{display_name(r.b)}: {direction}, clearly from {r.first_year}; "
                f"largest change {r.largest_difference:+.2f} in {r.year_of_largest} "
                f"(95% interval {r.ci_low:+.2f} to {r.ci_high:+.2f})."
            )
        lines.append("")
        clear = threats[threats.clear]
        if not clear.empty:
            top = clear.loc[clear.difference.abs().groupby([clear.i, clear.j]).idxmax()]
            top = top.sort_values("difference", key=np.abs, ascending=False).head(4)
            lines += ["**Why, in the model's terms** (largest changes in perceived threat):", ""]
            for r in top.itertuples(index=False):
                verb = "more" if r.difference > 0 else "less"
                lines.append(f"- {display_name(r.i)} feels {verb} threatened by {display_name(r.j)} "
                             f"({r.difference:+.2f} in {r.year}).")
            lines.append("")
    lines += ["Files: `alignment_difference.csv` (every pair and year), `divergence.csv` (first year and "
              "size of each clear change), `threat_difference.csv`, `comparison.png`.", ""]
    return "\n".join(lines)
