"""Why a stance moved: each state's stance each year split into the motives the rules computed.

The engine updates a stance as

    stance_t = clip(keep_t * stance_{t-1} + (1 - keep_t) * target_t + noise * shock_t)
    target_t = tanh(gain * sum(parts_t))      parts: balancing, threat, bandwagoning, interest, affinity

so a stance splits exactly (to rounding) into

    inertia   keep_t * stance_{t-1}
    motive m  (1 - keep_t) * target_t * part_m / sum(parts)   (the motive's share of the pull)
    shock     noise * shock_t
    clip      what clipping to [-1, 1] took off

(`year_parts`). Over a window, the inertia term carries earlier years' motives forward: unrolling
the recursion, stance_t is a sum over earlier years of their motive, shock and clip terms, each
discounted by the product of the keeps since. `explain_change` uses this to split the change of a
stance (or of an alignment, the lower of the two stances) from year a to year b into: what each
motive contributed in the years a+1..b, and how much of the year-a stance faded ("inertia").

Nothing here re-implements a rule: the parts are the engine's own (`dynamics.motives`, through
`dynamics.assess`), and `Stepper` composes the engine's yearly pieces (assess, choose, settle),
recording what they computed. A mechanism the engine gains is one more motive here, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulation.engine import dynamics
from simulation.engine.inputs import Inputs
from simulation.engine.params import Parameters
from simulation.engine.shocks import stance_shocks
from simulation.rules import choice
from simulation.states import INDEX, N_STATES, STATES, display_name

if TYPE_CHECKING:
    import pandas as pd

#: The motives of the net pull, in the order the rules add them, with a plain-language label.
MOTIVES: dict[str, str] = {name: label for name, (label, _) in dynamics.MOTIVES.items()}
#: Every additive part of a year's stance, in table order.
PARTS: tuple[str, ...] = ("inertia", *MOTIVES, "shock", "clip")
LABELS: dict[str, str] = {"inertia": "inertia (last year's stance kept)", **MOTIVES,
                          "shock": "random shock", "clip": "clipped at ±1"}
#: Short names for figures.
SHORT: dict[str, str] = {"inertia": "inertia: earlier stance faded",
                         **{name: short for name, (_, short) in dynamics.MOTIVES.items()}, "shock": "random shock",
                         "clip": "clipped at ±1", "mutuality": "mutuality: other side was lower"}
#: Below this |sum of parts| a motive's share is taken in the limit (target / sum -> gain).
_TINY = 1e-12


def year_parts(previous: np.ndarray, stance: np.ndarray, motives: dict[str, np.ndarray], target: np.ndarray,
               keep: np.ndarray, shock: np.ndarray, gain: float | np.ndarray) -> dict[str, np.ndarray]:
    """One year's stance (B, N, N) split into inertia, each motive, shock and clip; they add up to
    `stance` exactly (the clip part takes the rounding). `target` = tanh(gain * sum(motives)) is the
    engine's desired stance, `keep` (B,) its inertia, `shock` the scaled shock (noise * draw)."""
    total = choice.net_motive(motives)
    safe = np.where(np.abs(total) < _TINY, 1.0, total)
    per_unit = np.where(np.abs(total) < _TINY, dynamics.w3(gain), target / safe)  # target / sum
    move = (1.0 - keep)[:, None, None] * per_unit
    out = {"inertia": keep[:, None, None] * previous}
    out.update({k: move * v for k, v in motives.items()})
    out["shock"] = np.broadcast_to(shock, stance.shape).copy()
    out["clip"] = stance - sum(out.values())
    return out


@dataclass
class Trace:
    """A run (or a batch of B runs) with every year's stance split into parts.

    `parts[name]` is (B, T, N, N); `keep` (B, T); stance and alignment (B, T, N, N); `raw` the
    motives before the (1 - keep) * target / sum scaling (B, T, N, N), for "what pulled how hard";
    `by_third[motive]` (B, T, N, N, K) each third state's share of that part, for the motives that
    are sums or maxima over third states (dynamics.THIRD_STATE_SPLITS).
    """

    years: np.ndarray
    seeds: tuple[int, ...]
    stance: np.ndarray
    alignment: np.ndarray
    threat: np.ndarray
    keep: np.ndarray
    parts: dict[str, np.ndarray]
    raw: dict[str, np.ndarray] = field(default_factory=dict)
    instruments: dict[str, np.ndarray] = field(default_factory=dict)  # those asked for: name -> (B, T, N, N)
    by_third: dict[str, np.ndarray] = field(default_factory=dict)

    def runs(self, rows: slice) -> Trace:
        """The trace of some of its runs (views, not copies)."""
        def pick(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {k: v[rows] for k, v in d.items()}

        return Trace(self.years, self.seeds[rows], self.stance[rows], self.alignment[rows], self.threat[rows],
                     self.keep[rows], pick(self.parts), pick(self.raw), pick(self.instruments), pick(self.by_third))

    def copy(self) -> Trace:
        """A copy that shares nothing with this trace (a stepper may go on writing into its arrays)."""
        def copied(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {k: v.copy() for k, v in d.items()}

        return Trace(self.years.copy(), self.seeds, self.stance.copy(), self.alignment.copy(), self.threat.copy(),
                     self.keep.copy(), copied(self.parts), copied(self.raw), copied(self.instruments),
                     copied(self.by_third))

    def t(self, year: int) -> int:
        if not int(self.years[0]) <= year <= int(self.years[-1]):
            raise ValueError(f"year {year} outside {self.years[0]}-{self.years[-1]}")
        return int(year) - int(self.years[0])


class Stepper:
    """Steps a batch of runs a year at a time on the engine's pieces, recording each year's parts.

    `step(override)` takes optional stance rows chosen by people: {state code: (N,) stance toward
    each state}; those rows replace what the rules chose for that state (the others still follow
    the rules, simultaneously, reading only last year's state), which is how role play runs.
    """

    def __init__(self, inputs: Inputs, params: Parameters, seeds: Iterable[int],
                 keep_instruments: Iterable[str] = ()) -> None:
        self.inputs, self.params, self.seeds = inputs, params, tuple(int(s) for s in seeds)
        B, T, N = len(self.seeds), inputs.n_years, N_STATES
        self.shocks = stance_shocks(self.seeds, inputs.years)  # (T, B, N, N): the runs' own draws
        zeros = np.zeros((B, N, N))
        self.state = dynamics.State(np.broadcast_to(inputs.initial_intent, zeros.shape).copy(), zeros, zeros)
        self.t = 0
        self.stance = np.zeros((B, T, N, N))
        self.alignment = np.zeros((B, T, N, N))
        self.threat = np.zeros((B, T, N, N))
        self.rules_stance = np.zeros((B, T, N, N))  # what the rules chose, before any override
        self.keep = np.zeros((B, T))
        # third states' shares of the motives that are sums or maxima over them
        self.by_third = {m: np.zeros((B, T, N, N, N)) for m in dynamics.THIRD_STATE_SPLITS}
        self.parts: dict[str, np.ndarray] = {}  # filled in the engine's order: inertia, motives, shock, clip
        self.raw: dict[str, np.ndarray] = {}
        # the instruments named (dynamics.INSTRUMENTS), as the state holds them after each year
        self.instruments = {name: np.zeros((B, T, N, N)) for name in keep_instruments}

    @property
    def done(self) -> bool:
        return self.t >= self.inputs.n_years

    @property
    def year(self) -> int:
        """The year the next step simulates (the last year once done)."""
        return int(self.inputs.years[min(self.t, self.inputs.n_years - 1)])

    def preview(self) -> np.ndarray:
        """(B, N, N): the stances the rules would choose next year from the current state (nothing is
        committed; role play shows it as the theory's suggestion)."""
        if self.done:
            return self.state.stance.copy()
        t, p = self.t, self.params
        year = dynamics.assess(self.state, self.inputs.year(t), p, first_year=t == 0)
        return dynamics.choose(self.state.stance, year.target, year.keep, p, self.shocks[t])

    def step(self, override: dict[str, np.ndarray] | None = None) -> bool:
        """Advance one year; False (and nothing changes) once the period is over."""
        if self.done:
            return False
        t, p, previous = self.t, self.params, self.state
        year = dynamics.assess(previous, self.inputs.year(t), p, first_year=t == 0)
        stance = dynamics.choose(previous.stance, year.target, year.keep, p, self.shocks[t])
        self.rules_stance[:, t] = stance
        if override:
            stance = stance.copy()
            for code, row in override.items():
                i = INDEX[code]
                stance[:, i] = np.clip(np.asarray(row, dtype=float), -1.0, 1.0)
                stance[:, i, i] = 0.0
        # instruments (arms, aid, sanctions, troops...) follow each row's stance by the rules, a
        # person's row included: people choose how close to stand, the rules what that means in kind
        self.state = dynamics.settle(year, stance, dynamics.decide_instruments(year, stance, slice(None), p), p)
        keep = np.broadcast_to(year.keep, (len(self.seeds),))
        parts = year_parts(previous.stance, stance, year.motives, year.target, keep,
                           dynamics.per_run(p.noise, 3) * self.shocks[t], p.gain)
        if override:  # a person's choice is not a motive of the rules: it all goes to one part
            for code in override:
                i = INDEX[code]
                for k in parts:
                    parts[k][:, i] = 0.0
                parts["clip"][:, i] = stance[:, i]
        for k, v in parts.items():
            self.parts.setdefault(k, np.zeros_like(self.stance))[:, t] = v
        for k, v in year.motives.items():
            self.raw.setdefault(k, np.zeros_like(self.stance))[:, t] = v
        for m, (_, _, shares) in dynamics.THIRD_STATE_SPLITS.items():
            self.by_third[m][:, t] = shares(year.seen, previous.alignment, p)
        self.stance[:, t], self.alignment[:, t], self.threat[:, t] = stance, self.state.alignment, year.seen.threat
        for name, series in self.instruments.items():
            series[:, t] = getattr(self.state, name)
        self.keep[:, t] = keep
        self.t += 1
        return True

    def trace(self) -> Trace:
        T = self.t
        if not self.parts:  # nothing simulated yet
            self.parts = {k: np.zeros_like(self.stance) for k in PARTS}
        return Trace(self.inputs.years[:T], self.seeds, self.stance[:, :T], self.alignment[:, :T],
                     self.threat[:, :T], self.keep[:, :T], {k: v[:, :T] for k, v in self.parts.items()},
                     {k: v[:, :T] for k, v in self.raw.items()}, {k: v[:, :T] for k, v in self.instruments.items()},
                     {k: v[:, :T] for k, v in self.by_third.items()})


def trace(inputs: Inputs, params: Parameters, seeds: Iterable[int], keep_instruments: Iterable[str] = ()) -> Trace:
    """Run the whole period for each seed (the same runs as the Mesa model) and record the parts,
    and the instruments named in `keep_instruments`."""
    s = Stepper(inputs, params, seeds, keep_instruments)
    while s.step():
        pass
    return s.trace()


def motives_columns(tr: Trace) -> dict[str, np.ndarray]:
    """`motives.csv`: run, year, i, j, stance and its parts (i's stance toward j; they add up to it)."""
    n = N_STATES
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    B, T = tr.stance.shape[:2]
    columns = {
        "run": np.repeat(np.asarray(tr.seeds, dtype=np.int64), T * len(i)),
        "year": np.tile(np.repeat(tr.years, len(i)), B),
        "i": np.tile(np.array(STATES)[i], B * T),
        "j": np.tile(np.array(STATES)[j], B * T),
        "stance": tr.stance[:, :, i, j].reshape(-1),
    }
    for k in tr.parts:
        columns[k] = tr.parts[k][:, :, i, j].reshape(-1)
    columns["keep"] = np.repeat(tr.keep.reshape(-1), len(i))
    return columns


def _carry(tr: Trace, series: np.ndarray, start: int, end: int) -> np.ndarray:
    """What a yearly part (B, T, ...) added in years start+1..end to the stance at `end`, each
    year's discounted by the keeps since (B, ...)."""
    a, b = tr.t(start), tr.t(end)
    out = np.zeros(series.shape[:1] + series.shape[2:])
    for t in range(a + 1, b + 1):
        later = np.prod(tr.keep[:, t + 1: b + 1], axis=1)  # discount from t to end
        out += later.reshape(later.shape + (1,) * (series.ndim - 2)) * series[:, t]
    return out


def carried(tr: Trace, i: int, j: int, start: int, end: int) -> dict[str, np.ndarray]:
    """Each part's contribution in years start+1..end to i's stance toward j at `end`, carried
    forward through the keeps (B,), and the 'inertia' row: minus the share of the `start` stance
    that faded by `end`. They add up to stance[end] - stance[start] exactly."""
    out = {k: _carry(tr, tr.parts[k][:, :, i, j], start, end) for k in tr.parts if k != "inertia"}
    kept = np.prod(tr.keep[:, tr.t(start) + 1: tr.t(end) + 1], axis=1)
    return {"inertia": (kept - 1.0) * tr.stance[:, tr.t(start), i, j], **out}


def carried_by_third(tr: Trace, motive: str, i: int, j: int, start: int, end: int) -> np.ndarray:
    """(B, K): the `motive` part of `carried`, split by third state; the columns add up to
    carried(...)[motive]."""
    return _carry(tr, tr.parts[motive][:, :, i, j, None] * tr.by_third[motive][:, :, i, j], start, end)


@dataclass(frozen=True)
class Explanation:
    """Why the alignment of a pair changed from `start` to `end` (means over runs)."""

    a: str
    b: str
    start: int
    end: int
    alignment: tuple[float, float]  # at start and end
    stance_ab: tuple[float, float]
    stance_ba: tuple[float, float]
    table: pd.DataFrame  # part, label, a_to_b, b_to_a, alignment; rows add up to the changes
    #: motive -> state, a_to_b, b_to_a, alignment: that motive's row split by third state (its rows
    #: add up to the motive's row), ranked by the alignment column as `table` is
    by_third: dict[str, pd.DataFrame]


def explain_change(tr: Trace, a: str, b: str, start: int, end: int) -> Explanation:
    """Split the change of a's and b's stances toward each other, and of their alignment, by part.

    The alignment is the lower stance, so its change is the change of the stance that binds at
    `end`, plus (if the other stance bound at `start`) a 'mutuality' row for the switch. Per run,
    then averaged: every column adds up to the mean change exactly.
    """
    import pandas as pd

    if start >= end:
        raise ValueError("the window must run forward: start < end")
    i, j = INDEX[a], INDEX[b]
    ab, ba = carried(tr, i, j, start, end), carried(tr, j, i, start, end)
    ta, tb = tr.t(start), tr.t(end)
    s_ab, s_ba = tr.stance[:, :, i, j], tr.stance[:, :, j, i]
    binds_ab = s_ab[:, tb] <= s_ba[:, tb]  # (B,): which side's stance is the alignment at end
    align = {k: np.where(binds_ab, ab[k], ba[k]) for k in tr.parts}
    # alignment[end] - alignment[start] = (binding stance change) + (binding stance at start - alignment at start)
    bound_start = np.where(binds_ab, s_ab[:, ta], s_ba[:, ta])
    mutuality = bound_start - tr.alignment[:, ta, i, j]
    label = {**LABELS, "inertia": f"inertia (what faded of the {start} stance)"}
    rows = [{"part": k, "label": label.get(k, k), "a_to_b": float(ab[k].mean()), "b_to_a": float(ba[k].mean()),
             "alignment": float(align[k].mean())} for k in tr.parts]
    rows.append({"part": "mutuality", "label": f"mutuality (the other side's lower stance set the {start} alignment)",
                 "a_to_b": 0.0, "b_to_a": 0.0, "alignment": float(mutuality.mean())})
    table = pd.DataFrame(rows)
    order = table.alignment.abs().sort_values(ascending=False).index
    table = table.loc[order].reset_index(drop=True)
    by_third = {}
    for motive in tr.by_third:
        by_ab, by_ba = carried_by_third(tr, motive, i, j, start, end), carried_by_third(tr, motive, j, i, start, end)
        by_align = np.where(binds_ab[:, None], by_ab, by_ba)
        split = pd.DataFrame([{"state": code, "a_to_b": float(by_ab[:, k].mean()), "b_to_a": float(by_ba[:, k].mean()),
                               "alignment": float(by_align[:, k].mean())}
                              for k, code in enumerate(STATES) if k not in (i, j)])
        by_third[motive] = split.loc[split.alignment.abs().sort_values(ascending=False).index].reset_index(drop=True)
    mean = lambda x: float(np.mean(x))  # noqa: E731
    return Explanation(a, b, start, end,
                       (mean(tr.alignment[:, ta, i, j]), mean(tr.alignment[:, tb, i, j])),
                       (mean(s_ab[:, ta]), mean(s_ab[:, tb])), (mean(s_ba[:, ta]), mean(s_ba[:, tb])), table, by_third)


def by_third_table(e: Explanation) -> pd.DataFrame:
    """`third_states.csv`: motive, state, a_to_b, b_to_a, alignment, every split motive's rows."""
    import pandas as pd

    return pd.concat([split.assign(motive=m)[["motive", "state", "a_to_b", "b_to_a", "alignment"]]
                      for m, split in e.by_third.items()], ignore_index=True)


def year_table(tr: Trace, a: str, b: str, year: int, run: int = 0) -> pd.DataFrame:
    """One year's parts of a's stance toward b and b's toward a, for one run (the app's 'why' panel)."""
    import pandas as pd

    t, i, j = tr.t(year), INDEX[a], INDEX[b]
    return pd.DataFrame([{"part": k, "label": LABELS.get(k, k), "a_to_b": float(tr.parts[k][run, t, i, j]),
                          "b_to_a": float(tr.parts[k][run, t, j, i])} for k in tr.parts])


def _name(code: str, year: int) -> str:
    return display_name(code, year)


def _of(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def explanation_markdown(e: Explanation, min_share: float = 0.005) -> str:
    """The ranked table in words: what moved the pair, largest first."""
    a, b = _name(e.a, e.end), _name(e.b, e.end)
    change = e.alignment[1] - e.alignment[0]
    # (a change that rounds to 0.00 in the text is no change)
    verb, ask = (("converged", "converge") if change >= 0.005 else ("drew apart", "draw apart") if change <= -0.005
                 else ("stayed where they were", "stay where they were"))
    lines = [f"# Why did {a} and {b} {ask} from {e.start} to {e.end}?", "",
             f"In the model their alignment went from {e.alignment[0]:+.2f} to {e.alignment[1]:+.2f} "
             f"({change:+.2f}): they {verb}. {_of(a)} stance toward {b} went from {e.stance_ab[0]:+.2f} to "
             f"{e.stance_ab[1]:+.2f}; {_of(b)} toward {a} from {e.stance_ba[0]:+.2f} to {e.stance_ba[1]:+.2f}.", "",
             f"Each row is what one motive added in {e.start + 1}-{e.end}, carried to {e.end} through inertia; "
             f"'inertia' is the part of the {e.start} stance that faded. Each column adds up to its change.", "",
             f"| motive | alignment | {e.a}→{e.b} | {e.b}→{e.a} |", "|---|---:|---:|---:|"]
    for r in e.table.itertuples(index=False):
        if max(abs(r.alignment), abs(r.a_to_b), abs(r.b_to_a)) >= min_share:
            lines.append(f"| {r.label} | {r.alignment:+.3f} | {r.a_to_b:+.3f} | {r.b_to_a:+.3f} |")
    lines.append(f"| **total (the change)** | **{e.table.alignment.sum():+.3f}** | **{e.table.a_to_b.sum():+.3f}** "
                 f"| **{e.table.b_to_a.sum():+.3f}** |")
    for motive in e.by_third:
        lines += _by_third_lines(e, motive, min_share)
    return "\n".join(lines) + "\n"


def _by_third_lines(e: Explanation, motive: str, min_share: float) -> list[str]:
    """A motive's row split by third state: against whom each side wants the other (balancing),
    through which friend the other's enmity costs (structural balance)."""
    rows = [r for r in e.by_third[motive].itertuples(index=False)
            if max(abs(r.alignment), abs(r.a_to_b), abs(r.b_to_a)) >= min_share]
    if not rows:
        return []
    word, caption, _ = dynamics.THIRD_STATE_SPLITS[motive]
    return ["", f"{caption} (each column adds up to its row above):", "",
            f"| {word} | alignment | {e.a}→{e.b} | {e.b}→{e.a} |", "|---|---:|---:|---:|",
            *(f"| {_name(r.state, e.end)} | {r.alignment:+.3f} | {r.a_to_b:+.3f} | {r.b_to_a:+.3f} |" for r in rows)]


def difference(base: Trace, alt: Trace, a: str, b: str, start: int, end: int) -> pd.DataFrame:
    """Why two runs of the same seeds differ: each part's share of the pair's alignment change from
    `start` to `end` in both, and alt minus base (ranked by size). With `start` a year before the
    runs part, the difference column explains the counterfactual's effect by motive."""
    import pandas as pd

    tb = explain_change(base, a, b, start, end).table.set_index("part")
    ta = explain_change(alt, a, b, start, end).table.set_index("part")
    out = pd.DataFrame({"label": tb.label, "base": tb.alignment, "alt": ta.alignment.reindex(tb.index)})
    out["difference"] = out.alt - out.base
    return out.reindex(out.difference.abs().sort_values(ascending=False).index).reset_index()


def comparison_lines(base: Trace, alt: Trace, pairs: list[tuple[str, str, int, int]], top: int = 3) -> list[str]:
    """Markdown bullets for compare's summary: per pair (a, b, first year it differs, year of the
    largest difference), the motives that account for most of the difference."""
    lines = []
    for a, b, first, peak in pairs:
        start = max(int(base.years[0]), int(alt.years[0]), first - 1)  # years both simulate
        if not start < peak <= min(int(base.years[-1]), int(alt.years[-1])):
            continue
        d = difference(base, alt, a, b, start, peak)
        d = d[d.difference.abs() >= 0.01].head(top)
        if d.empty:
            continue
        words = ", ".join(f"{SHORT.get(r.part, r.part)} {r.difference:+.2f}" for r in d.itertuples(index=False))
        lines.append(f"- {display_name(a, peak)}–{display_name(b, peak)}, {start}-{peak}: {words}.")
    return lines
