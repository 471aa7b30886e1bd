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
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation.engine.ensemble import Ensemble, simulate
from simulation.engine.params import ABLATIONS, Parameters
from simulation.engine.series import yearly
from simulation.errors import InputError
from simulation.experiments.posterior import ParameterSource
from simulation.experiments.scenario import Scenario, scenario_inputs
from simulation.states import PAIR_A, PAIR_B, PAIRS, STATES, display_name

MIN_EFFECT = 0.05
#: A clear effect is robust when its sign holds in at least this share of the paired runs (with the
#: posterior: of the parameter draws), not only on average.
ROBUST_SHARE = 0.9

if TYPE_CHECKING:
    from simulation.experiments.runner import Summary


@dataclass(frozen=True)
class Comparison:
    """Every paired run of both scenarios, on the years they share (for notebooks and small runs)."""

    base: Scenario
    alt: Scenario
    years: np.ndarray
    base_alignment: np.ndarray  # (R, T, P) per run, year and pair
    alt_alignment: np.ndarray
    base_threat: np.ndarray  # (R, T, N, N)
    alt_threat: np.ndarray


class Moments:
    """Count, mean and standard deviation over runs of an array, added a chunk (axis 0) at a time."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.n, self.total, self.squares = 0, np.zeros(shape), np.zeros(shape)
        self.positive, self.negative = np.zeros(shape), np.zeros(shape)

    def add(self, x: np.ndarray) -> None:
        self.n += x.shape[0]
        self.total += x.sum(axis=0)
        self.squares += (x ** 2).sum(axis=0)
        self.positive += (x > 0).sum(axis=0)
        self.negative += (x < 0).sum(axis=0)

    @property
    def same_sign(self) -> np.ndarray:
        """Share of the runs whose value has the sign of the mean (with parameters drawn from the
        posterior, the share of draws under which the effect holds)."""
        return np.where(self.total >= 0, self.positive, self.negative) / max(self.n, 1)

    @property
    def mean(self) -> np.ndarray:
        return self.total / self.n

    @property
    def sd(self) -> np.ndarray:
        if self.n < 2:
            return np.full_like(self.total, np.nan)
        return np.sqrt(np.clip((self.squares - self.total ** 2 / self.n) / (self.n - 1), 0.0, None))


@dataclass
class Paired:
    """What the tables, plot and summary need from paired runs: per-scenario alignment summaries
    (mean, quantiles), means of threats, and moments of the paired differences. Its size does not
    depend on the number of runs."""

    base: Scenario
    alt: Scenario
    years: np.ndarray
    base_summary: Summary
    alt_summary: Summary
    alignment_diff: Moments  # (T, P)
    threat_diff: Moments  # (T, N, N)

    @property
    def runs(self) -> int:
        return self.alignment_diff.n

    def add(self, a: Ensemble, b: Ensemble) -> None:
        self.base_summary.add(a)
        self.alt_summary.add(b)
        self.alignment_diff.add(b.alignment[:, :, PAIR_A, PAIR_B] - a.alignment[:, :, PAIR_A, PAIR_B])
        self.threat_diff.add(b.threat - a.threat)


def _on_shared_years(run: Ensemble, years: np.ndarray) -> Ensemble:
    index = np.searchsorted(run.years, years)
    return Ensemble(run.seeds, years, run.alignment[:, index], run.threat[:, index])


def check_shared_period(base: Scenario, alt: Scenario, alt_file: str | Path) -> None:
    """Two scenarios are compared on the years both simulate: at least two (as a period needs), or the
    comparison's tables would be empty (no year shared) and its summary say nothing changed."""
    start, end = max(base.period.start, alt.period.start), min(base.period.end, alt.period.end)
    shared = max(0, end - start + 1)
    if shared < 2:
        raise InputError(f"simulates {alt.period.start}-{alt.period.end} and the base scenario "
                         f"{base.period.start}-{base.period.end}, {shared} year{'s' if shared != 1 else ''} in common; "
                         "a comparison needs at least two years both simulate", file=alt_file, field="period")


def _paired_chunks(base: Scenario, alt: Scenario, seeds: list[int], chunk: int,
                   source: ParameterSource | None = None, params: Parameters | None = None):
    """Both scenarios over the same seeds, `chunk` runs at a time, cut to the years both simulate.
    Run b of both takes the same weights: the point, or the same posterior draw (by its seed);
    `params`, if given, replaces the calibrated weights (a theory's own calibration)."""
    source = source or ParameterSource()
    prepared = []
    for s in (base, alt):
        inputs, p = scenario_inputs(s)
        if params is not None:
            p = params.with_overrides(s.overrides())
        prepared.append((inputs, p, tuple(s.overrides())))
    years = np.intersect1d(prepared[0][0].years, prepared[1][0].years)
    for k in range(0, len(seeds), chunk):
        part = seeds[k:k + chunk]
        a, b = (_on_shared_years(simulate(inputs, source.for_runs(p, part, keep), part), years)
                for inputs, p, keep in prepared)
        yield years, a, b
        del a, b  # before the next chunk is simulated, so only one is ever held


def run_comparison(base: Scenario, alt: Scenario, runs: int, first_seed: int = 0) -> Comparison:
    """Run both scenarios over the same `runs` seeds on the vectorized engine (same rules as Mesa),
    keeping every run. Shocks are keyed by calendar year, so runs pair year by year."""
    seeds = list(range(first_seed, first_seed + runs))
    years, a, b = next(_paired_chunks(base, alt, seeds, len(seeds)))
    return Comparison(base, alt, years, a.alignment[:, :, PAIR_A, PAIR_B], b.alignment[:, :, PAIR_A, PAIR_B],
                      a.threat, b.threat)


def run_paired(base: Scenario, alt: Scenario, runs: int, first_seed: int = 0, chunk: int = 500,
               source: ParameterSource | None = None, params: Parameters | None = None) -> Paired:
    """As `run_comparison`, `chunk` runs at a time, keeping only summaries: memory stays flat in `runs`.
    With a posterior `source`, each paired run draws its weights from it (intervals then include
    parameter uncertainty)."""
    from simulation.experiments.runner import Summary

    seeds = list(range(first_seed, first_seed + runs))
    paired: Paired | None = None
    for years, a, b in _paired_chunks(base, alt, seeds, chunk, source, params):
        if paired is None:
            shape = (len(years), len(PAIRS))
            paired = Paired(base, alt, years, Summary(years), Summary(years), Moments(shape),
                            Moments((len(years), len(STATES), len(STATES))))
        paired.add(a, b)
        del a, b
    assert paired is not None, "runs must be at least 1"
    return paired


def paired(c: Comparison | Paired) -> Paired:
    """The summaries of a comparison (a `Paired` as it is)."""
    if isinstance(c, Paired):
        return c
    from simulation.experiments.runner import Summary

    out = Paired(c.base, c.alt, c.years, Summary(c.years), Summary(c.years), Moments(c.base_alignment.shape[1:]),
                 Moments(c.base_threat.shape[1:]))
    seeds = tuple(range(len(c.base_alignment)))
    full = np.zeros((*c.base_alignment.shape[:2], len(STATES), len(STATES)))
    for series, summary in ((c.base_alignment, out.base_summary), (c.alt_alignment, out.alt_summary)):
        full[:, :, PAIR_A, PAIR_B] = series
        summary.add(Ensemble(seeds, c.years, full, c.base_threat if summary is out.base_summary else c.alt_threat))
    out.alignment_diff.add(c.alt_alignment - c.base_alignment)
    out.threat_diff.add(c.alt_threat - c.base_threat)
    return out


def t_975(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (for 95% intervals).

    scipy.special's inverse of the t distribution is what scipy.stats.t.ppf calls, to the bit; it
    imports in a third of the time (scipy.stats loads every distribution to answer one quantile)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.975))


def _interval(m: Moments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t interval over runs (no interval, NaN, from a single run: never "clear")."""
    if m.n < 2:
        return m.mean, np.full_like(m.mean, np.nan), np.full_like(m.mean, np.nan)
    half = t_975(m.n - 1) * m.sd / np.sqrt(m.n)
    return m.mean, m.mean - half, m.mean + half


def alignment_differences(c: Comparison | Paired) -> pd.DataFrame:
    """Per pair and year: both means, the difference (alt - base) and its 95% interval."""
    p = paired(c)
    mean, lo, hi = _interval(p.alignment_diff)
    T, P = mean.shape
    frame = pd.DataFrame({
        "a": np.tile([a for a, _ in PAIRS], T), "b": np.tile([b for _, b in PAIRS], T),
        "year": np.repeat(p.years, P),
        "base": p.base_summary.alignment_mean.reshape(-1), "alt": p.alt_summary.alignment_mean.reshape(-1),
        "difference": mean.reshape(-1), "ci_low": lo.reshape(-1), "ci_high": hi.reshape(-1),
    })
    frame["clear"] = ((frame.ci_low > 0) | (frame.ci_high < 0)) & (frame.difference.abs() >= MIN_EFFECT)
    frame["same_sign"] = p.alignment_diff.same_sign.reshape(-1)
    frame["robust"] = frame.clear & (frame.same_sign >= ROBUST_SHARE)
    return frame


def threat_differences(c: Comparison | Paired) -> pd.DataFrame:
    """Per directed pair and year: change in the threat i perceives from j (the rules' explanation)."""
    p = paired(c)
    mean, lo, hi = _interval(p.threat_diff)
    n = len(STATES)
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    T = len(p.years)
    frame = pd.DataFrame({
        "i": np.tile(np.array(STATES)[i], T), "j": np.tile(np.array(STATES)[j], T), "year": np.repeat(p.years, len(i)),
        "base": p.base_summary.threat_mean[:, i, j].reshape(-1), "alt": p.alt_summary.threat_mean[:, i, j].reshape(-1),
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
                     "ci_low": float(peak.ci_low), "ci_high": float(peak.ci_high),
                     "same_sign": float(peak.same_sign), "robust": bool(peak.robust)})
    out = pd.DataFrame(rows, columns=["a", "b", "first_year", "clear_years", "largest_difference",
                                      "year_of_largest", "ci_low", "ci_high", "same_sign", "robust"])
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


def summary_markdown(c: Comparison | Paired, diffs: pd.DataFrame, div: pd.DataFrame, threats: pd.DataFrame,
                     runs: int, parameters: str = "point", first_seed: int = 0, drawn: bool | None = None) -> str:
    """A short plain-language account a teacher can read aloud. `parameters` names where the weights
    came from; `drawn` says whether each run drew its own (a posterior), by default unless 'point'."""
    lines = [f"# {c.alt.name} compared with {c.base.name}", ""]
    if c.alt.description:
        lines += [c.alt.description.strip(), ""]
    edits = _edits_in_words(c.alt)
    if edits:
        lines += ["**What this scenario changes** (inputs only; alignments are left to the rules):", ""]
        lines += [f"- {w}" for w in edits] + [""]
    if drawn is None:
        drawn = parameters != "point"
    weights = ("each pair of runs with the same weights drawn from the calibrated posterior, so the intervals "
               "include parameter uncertainty" if drawn else
               f"with the {'calibrated weights' if parameters == 'point' else 'weights in ' + parameters} "
               "(a point: the intervals leave out parameter uncertainty)")
    starts = (c.base.period.start, c.alt.period.start)
    cause = ("the changed inputs" if starts[0] == starts[1] else
             f"the changed inputs and from {c.alt.name if starts[1] > starts[0] else c.base.name}'s later start "
             f"in {max(starts)}: its runs begin then with neutral stances and no memory of the years before "
             f"(the other scenario starts in {min(starts)}), so differences in its first years are the start's")
    shared = (max(starts), min(c.base.period.end, c.alt.period.end))
    if (c.base.period.start, c.base.period.end) != (c.alt.period.start, c.alt.period.end):
        lines += [f"The scenarios simulate different periods ({c.base.name} {c.base.period.start}-{c.base.period.end}, "
                  f"{c.alt.name} {c.alt.period.start}-{c.alt.period.end}); they are compared on the years both "
                  f"simulate, {shared[0]}-{shared[1]}.", ""]
    lines += [f"Both scenarios were run {runs} times with the same random seeds, {weights}; every difference "
              f"below comes from {cause}. A difference counts as clear when its 95% interval "
              f"excludes zero and it is at least {MIN_EFFECT} on the -1..+1 scale, and as **robust** when, "
              f"besides, its sign holds in at least {ROBUST_SHARE:.0%} of the paired runs.", ""]
    if div.empty:
        lines += ["**No pair's alignment changes clearly.**", ""]
    else:
        lines += ["**What changes**", ""]
        for r in div.head(6).itertuples(index=False):
            direction = "warmer" if r.largest_difference > 0 else "cooler"
            verdict = ("**robust**" if r.robust else f"not robust: its sign holds in {r.same_sign:.0%} of runs")
            lines.append(
                f"- {display_name(r.a)}–{display_name(r.b)}: {direction}, clearly from {r.first_year}; "
                f"largest change {r.largest_difference:+.2f} in {r.year_of_largest} "
                f"(95% interval {r.ci_low:+.2f} to {r.ci_high:+.2f}); {verdict}."
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
    lines += motive_section(c.base, c.alt, div, runs, first_seed)
    lines += ["Files: `alignment_difference.csv` (every pair and year), `divergence.csv` (first year and "
              "size of each clear change), `threat_difference.csv`, `comparison.png`.", ""]
    return "\n".join(lines)


#: Runs the motive split is averaged over (it keeps every part of every stance of every run).
MOTIVE_RUNS = 200


def motive_section(base: Scenario, alt: Scenario, div: pd.DataFrame, runs: int, first_seed: int = 0,
                   max_pairs: int = 4) -> list[str]:
    """**Why, by motive**: the pairs that change most, their change split by motive (experiments.explain),
    with the calibrated weights, over the first `MOTIVE_RUNS` of the same seeds."""
    if div.empty:
        return []
    from simulation.experiments import explain

    seeds = list(range(first_seed, first_seed + min(runs, MOTIVE_RUNS)))
    traces = [explain.trace(*scenario_inputs(s), seeds) for s in (base, alt)]
    pairs = [(str(r.a), str(r.b), int(r.first_year), int(r.year_of_largest))
             for r in div.head(max_pairs).itertuples(index=False)]
    lines = explain.comparison_lines(traces[0], traces[1], pairs)
    if not lines:
        return []
    return ["**Why, by motive** (the part of each pair's change, from the year before it parts to its largest "
            "difference, that each motive accounts for, scenario minus base, with the calibrated weights; "
            "`python -m simulation explain` gives the whole table):", "", *lines, ""]


def first_difference(base: Scenario, alt: Scenario) -> int:
    """The first calendar year in which the two scenarios' inputs differ (their start, if the
    weights differ): the year from which an effect can appear."""
    (ia, pa), (ib, pb) = scenario_inputs(base), scenario_inputs(alt)
    years = np.intersect1d(ia.years, ib.years)
    # a later start is a difference: that scenario's runs begin from neutral stances then
    if pa.as_dict() != pb.as_dict() or years.size == 0 or ia.years[0] != ib.years[0]:
        return int(years[0]) if years.size else int(ia.years[0])
    ta, tb = np.searchsorted(ia.years, years), np.searchsorted(ib.years, years)
    differs = np.zeros(len(years), dtype=bool)
    for f in yearly():
        x, y = getattr(ia, f.name)[ta], getattr(ib, f.name)[tb]
        differs |= np.any(x != y, axis=tuple(range(1, x.ndim)))
    return int(years[np.argmax(differs)]) if differs.any() else int(years[-1])


def theories(base: Scenario, alt: Scenario, runs: int, first_seed: int = 0, chunk: int = 500) -> pd.DataFrame:
    """The counterfactual's effect on every pair under each theory variant (params.ABLATIONS), each
    with its own calibration: the paired difference in alignment averaged over the years from the
    first changed input to the end, with its 95% interval and whether its sign is robust."""
    start = first_difference(base, alt)
    rows = []
    seeds = list(range(first_seed, first_seed + runs))
    for theory in ABLATIONS:
        params = Parameters.variant(theory)
        effects = []
        for years, a, b in _paired_chunks(base, alt, seeds, chunk, params=params):
            window = years >= start
            diff = b.alignment[:, window][:, :, PAIR_A, PAIR_B] - a.alignment[:, window][:, :, PAIR_A, PAIR_B]
            effects.append(diff.mean(axis=1))  # (runs, P)
        e = np.concatenate(effects)
        mean, sd = e.mean(axis=0), e.std(axis=0, ddof=1)
        half = t_975(len(e) - 1) * sd / np.sqrt(len(e))
        same = np.where(mean >= 0, (e > 0).mean(axis=0), (e < 0).mean(axis=0))
        for k, (pa, pb) in enumerate(PAIRS):
            clear = (abs(mean[k]) >= MIN_EFFECT) and (mean[k] - half[k] > 0 or mean[k] + half[k] < 0)
            rows.append({"theory": theory, "a": pa, "b": pb, "from_year": start, "effect": float(mean[k]),
                         "ci_low": float(mean[k] - half[k]), "ci_high": float(mean[k] + half[k]),
                         "same_sign": float(same[k]), "clear": bool(clear),
                         "robust": bool(clear and same[k] >= ROBUST_SHARE)})
    return pd.DataFrame(rows)


def theory_dependence(table: pd.DataFrame) -> pd.DataFrame:
    """Per pair: the sign of the effect under each theory (+, -, or 0 when not clear), and whether
    the conclusion depends on the theory (the theories do not all agree)."""
    sign = np.where(table.clear, np.sign(table.effect), 0).astype(int)
    wide = table.assign(sign=sign).pivot_table(index=["a", "b"], columns="theory", values="sign", sort=False)
    names = list(dict.fromkeys(table.theory))
    wide = wide[names]
    # a theory under which no pair changes is silent on the scenario (it leaves out the channels the
    # scenario acts through); it is reported once, not counted as disagreeing on every pair
    wide["depends_on_theory"] = wide[speaking_theories(wide, names)].nunique(axis=1) > 1
    return wide.reset_index()


def speaking_theories(wide: pd.DataFrame, names: list[str]) -> list[str]:
    """The theories under which some pair changes clearly (all of them when none does)."""
    return [n for n in names if (wide[n] != 0).any()] or names


def theories_markdown(table: pd.DataFrame) -> str:
    """Which conclusions hold under every theory, and which depend on the theory, in plain words."""
    wide = theory_dependence(table)
    names = [c for c in wide.columns if c not in ("a", "b", "depends_on_theory")]
    symbol = {1: "warmer", -1: "cooler", 0: "no clear change"}
    start = int(table.from_year.iloc[0])
    lines = ["", "## Under each theory", "",
             f"Each theory answers with its own calibration (fit 1947-1990); the effect is the mean paired "
             f"difference from {start}, the first year the inputs differ. `theories.csv` has every number, "
             "`theories.png` the picture.", ""]
    moved = wide[(wide[names] != 0).any(axis=1)]
    voices = speaking_theories(wide, names)
    silent = [n for n in names if n not in voices]
    agree, depend = moved[~moved.depends_on_theory], moved[moved.depends_on_theory]
    qualifier = " that sees the scenario's channels" if silent else ""
    if not agree.empty:
        lines += [f"**Holds under every theory{qualifier}:**", ""]
        lines += [f"- {display_name(r.a)}–{display_name(r.b)}: {symbol[int(r[voices[0]])]}." for _, r in agree.iterrows()]
        lines.append("")
    if not depend.empty:
        lines += ["**Depends on the theory** (the first theory's answer, then the theories that differ):", ""]
        for _, r in depend.iterrows():
            first = int(r[voices[0]])
            others = "; ".join(f"{n}: {symbol[int(r[n])]}" for n in voices[1:] if int(r[n]) != first)
            lines.append(f"- {display_name(r.a)}–{display_name(r.b)} — {voices[0]}: {symbol[first]}; but {others}.")
        lines.append("")
    if silent and not moved.empty:
        lines += [f"Under {', '.join(silent)} no pair changes clearly: the scenario acts through channels that "
                  f"{'this theory leaves' if len(silent) == 1 else 'these theories leave'} out.", ""]
    if moved.empty:
        lines += ["No theory finds a clear change in any pair.", ""]
    return "\n".join(lines)
