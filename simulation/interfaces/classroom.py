"""The model as a classroom app builds it: a scenario plus a few sliders, all turned into inputs,
and one `Session` per browser tab that steps it a year at a time.

Slider values never touch an alignment: "US-India ties" cuts the supply channels between the two
from 2005 (as scenarios/us_india_ties_weaken.yaml does), "China's growth" re-scales China's growth
after 1978, and the weights override the calibrated parameters.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.engine.inputs import DATA_DIR, Inputs
from simulation.engine.model import AlignmentModel
from simulation.engine.params import Parameters
from simulation.engine.timeline import Event
from simulation.experiments import explain
from simulation.experiments.scenario import InputEdit, Scenario, Where, load_scenario, scenario_events, scenario_inputs
from simulation.experiments.score import Target, load_targets, score, target_cells
from simulation.states import INDEX, PAIRS, STATES, display_name

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
#: Weights a teacher can move, with their slider ranges (inside the documented bounds).
SLIDER_WEIGHTS = ("threat_weight", "power_weight", "interest_weight", "inertia")
WEIGHT_LABELS = {"threat_weight": "weight of threat (Walt)", "power_weight": "weight of power (Waltz)",
                 "interest_weight": "weight of self-interest", "inertia": "inertia"}
#: COW MID hostility levels (Palmer et al. 2022, codebook).
HOSTILITY = {1: "no militarized action", 2: "threat to use force", 3: "display of force", 4: "use of force", 5: "war"}
MID_CITATION = "Palmer et al. 2022, COW Militarized Interstate Disputes (MID) v5.0"


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


@cache
def scenario_question(name: str) -> str:
    """The question a scenario asks: the sentences of its description that end in '?', else its first."""
    scenario, _ = load_scenario(SCENARIOS / f"{name}.yaml")
    text = " ".join((scenario.description or "").split())
    # the theses by author and year, as events.csv and docs/citations.md cite them
    text = text.replace("seed 000 §", "Abbasi 2022 §").replace("seed 001 §", "Kosar 2024 §")
    sentences = [s.strip() for s in text.replace("?", "?|").replace(". ", ".|").split("|") if s.strip()]
    asked = [s for s in sentences if s.endswith("?")]
    if name == "baseline":
        return "History as it happened: do the rules, fed only the inputs, produce the alignments historians document?"
    return " ".join(asked) if asked else (sentences[0] if sentences else name)


def slider_edits(us_india_ties: float, china_growth: float) -> list[tuple[InputEdit, Where]]:
    """Input edits for the two history sliders (1.0 = as in history)."""
    here = Where(Path("<app>"), None, "sliders")
    edits = []
    if us_india_ties < 1.0:
        for actor, target in (("USA", "IND"), ("IND", "USA")):
            edits.append(InputEdit.model_validate({"series": "sanction", "actor": actor, "target": target,
                                                   "from": 2005, "set": 1.0 - us_india_ties}))
    if china_growth != 1.0:
        for series in ("capability", "milex_share", "gdp"):
            edits.append(InputEdit.model_validate({"series": series, "actor": "CHN", "from": 1978, "growth": china_growth}))
    return [(e, here) for e in edits]


@dataclass(frozen=True)
class Settings:
    """Everything a class can set that changes the model (the focus and the pair shown do not)."""

    scenario: str = "baseline"
    threat_weight: float | None = None  # None: the calibrated value
    power_weight: float | None = None
    interest_weight: float | None = None
    inertia: float | None = None
    us_india_ties: float = 1.0
    china_growth: float = 1.0
    seed: int = 0

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def build(settings: Settings) -> tuple[Scenario, list[Event], Inputs, Parameters]:
    """The scenario with the sliders applied: its events, inputs and parameters."""
    scenario, _ = load_scenario(SCENARIOS / f"{settings.scenario}.yaml")
    # the sliders are more scenario edits: inputs for the history sliders, overrides for the weights
    scenario.input_edits += slider_edits(settings.us_india_ties, settings.china_growth)
    chosen = {k: getattr(settings, k) for k in SLIDER_WEIGHTS}
    scenario.parameters.update({k: float(v) for k, v in chosen.items() if v is not None})
    events = scenario_events(scenario)
    inputs, params = scenario_inputs(scenario, events)
    return scenario, events, inputs, params


def differences_from_history(settings: Settings) -> list[str]:
    """What this run changes from history and the calibration, in a few words each ([] = history)."""
    out = [] if settings.scenario == "baseline" else [f"scenario: {settings.scenario.replace('_', ' ')}"]
    base = Parameters.baseline()
    for k in SLIDER_WEIGHTS:
        v = getattr(settings, k)
        if v is not None and abs(v - getattr(base, k)) > 1e-9:
            out.append(f"{WEIGHT_LABELS[k]} {v:.2f} (calibrated {getattr(base, k):.2f})")
    if settings.us_india_ties < 1.0:
        out.append(f"US-India ties at {settings.us_india_ties:.0%} from 2005")
    if settings.china_growth != 1.0:
        out.append(f"China grows at {settings.china_growth:.2f}× its pace after 1978")
    if settings.seed != 0:
        out.append(f"random seed {settings.seed}")
    return out


@cache
def _mids() -> pd.DataFrame:
    frame = pd.read_csv(DATA_DIR / "mids_six.csv")
    return frame[frame.abb1.isin(STATES) & frame.abb2.isin(STATES)]


def mids_of(year: int) -> list[dict]:
    """The year's militarized disputes between two of the six (COW MID v5.0 dyadic records)."""
    rows = _mids()[_mids().year == year]
    out, seen = [], set()
    for r in rows.itertuples(index=False):
        a, b = sorted((r.abb1, r.abb2))
        key = (int(r.dispnum), a, b)
        if key in seen:
            continue
        seen.add(key)
        out.append({"dispute": int(r.dispnum), "a": a, "b": b, "hostility": HOSTILITY.get(int(r.hostlev), str(r.hostlev)),
                    "fatal": int(r.fatality) > 0,
                    "source": f"{MID_CITATION}, dispute {int(r.dispnum)}"})
    return out


@cache
def _targets() -> list[Target]:
    return load_targets()


def documented(a: str, b: str) -> pd.DataFrame:
    """The documented record of a pair: start, end, level, source, note."""
    a, b = sorted((a, b))
    return pd.DataFrame([t for t in _targets() if (t.a, t.b) == (a, b)], columns=list(Target._fields))


class ClassroomModel(AlignmentModel):
    """The Mesa model built from a scenario name and slider values."""

    def __init__(self, counterfactual: str = "baseline", threat_weight: float | None = None,
                 power_weight: float | None = None, interest_weight: float | None = None,
                 inertia: float | None = None, us_india_ties: float = 1.0, china_growth: float = 1.0,
                 focus: str = "PAK", seed: int = 0) -> None:
        settings = Settings(counterfactual, threat_weight, power_weight, interest_weight, inertia, us_india_ties,
                            china_growth, int(seed))
        _, self.events, inputs, params = build(settings)
        super().__init__(inputs, params, seed=int(seed))
        self.counterfactual = counterfactual
        self.focus = focus if focus in STATES else "PAK"

    def events_of(self, year: int) -> list:
        return [e for e in self.events if e.year <= year <= e.until]


class Session:
    """One browser tab's run: its settings, the model stepped so far, and who plays which state.

    The run is an `explain.Stepper` (the engine's yearly pieces, the same runs as the Mesa model,
    tested) with one run; it records every year's motives, so the app can say why a pair moved.
    Changing a setting rebuilds the run and replays it to the same year; the people's choices are
    kept and replayed too. Thread-safe: Play steps from a thread while the page reads.
    """

    stepper: explain.Stepper

    def __init__(self, settings: Settings | None = None) -> None:
        self.lock = threading.RLock()
        self.players: tuple[str, ...] = ()
        self.choices: dict[int, dict[str, np.ndarray]] = {}  # year index -> {state: stance row}
        self.pinned: dict[str, set[str]] = {}  # the relations each player has taken over
        self.rebuild(settings or Settings())

    def rebuild(self, settings: Settings, keep_year: bool = True) -> None:
        with self.lock:
            t = self.stepper.t if keep_year and hasattr(self, "stepper") else 0
            self.settings = settings
            self.scenario, self.events, self.inputs, self.params = build(settings)
            self.stepper = explain.Stepper(self.inputs, self.params, [settings.seed])
            self.free: explain.Stepper | None = None  # the rules-only run, for the role-play debrief
            while self.stepper.t < t and self.step_once():
                pass

    def reset(self) -> None:
        with self.lock:
            self.choices = {}
            self.pinned = {}
            self.rebuild(self.settings, keep_year=False)

    def set_players(self, players: tuple[str, ...]) -> None:
        """Who plays (state codes); changing it restarts the run in 1947."""
        with self.lock:
            if tuple(players) != self.players:
                self.players = tuple(p for p in players if p in INDEX)
                self.reset()

    @property
    def t(self) -> int:
        return self.stepper.t

    @property
    def done(self) -> bool:
        return self.stepper.done

    @property
    def year(self) -> int | None:
        """The last year simulated (None before the first step)."""
        return None if self.t == 0 else int(self.inputs.years[self.t - 1])

    @property
    def next_year(self) -> int | None:
        return None if self.done else int(self.inputs.years[self.t])

    def step_once(self, choices: dict[str, np.ndarray] | None = None) -> bool:
        """One year; the players' stance rows for it (default: what they chose before, or last year's stance)."""
        with self.lock:
            if self.done:
                return False
            t = self.stepper.t
            if self.players:
                given = choices or {}
                row = {p: np.asarray(given.get(p, self.choices.get(t, {}).get(p, self.default_row(p))), dtype=float)
                       for p in self.players}
                self.choices[t] = row
                return self.stepper.step(row)
            return self.stepper.step()

    def suggestion(self, code: str) -> np.ndarray:
        """The stance row the rules would choose for `code` next year, from where the run stands."""
        with self.lock:
            return self.stepper.preview()[0, INDEX[code]].copy()

    def default_row(self, code: str, moved: dict[str, float] | None = None) -> np.ndarray:
        """A player's stance row for next year before they move anything: the theory's suggestion,
        except the relations they have taken over (moved once), which keep their last value; `moved`
        are this year's slider moves (which take those relations over)."""
        with self.lock:
            row = self.suggestion(code)
            last = self.last_stance(code)
            if moved:
                self.pinned.setdefault(code, set()).update(moved)
            for other in self.pinned.get(code, ()):
                row[INDEX[other]] = last[INDEX[other]]
            for other, v in (moved or {}).items():
                row[INDEX[other]] = v
            return row

    def last_stance(self, code: str) -> np.ndarray:
        """The state's stance row last year (zeros before the first year)."""
        return np.zeros(len(STATES)) if self.t == 0 else self.stepper.stance[0, self.t - 1, INDEX[code]].copy()

    # --- what the page shows ------------------------------------------------------------------
    def alignment(self) -> np.ndarray:
        """(t, N, N): the alignments so far (a copy, consistent even while Play steps)."""
        with self.lock:
            return self.stepper.alignment[0, : self.t].copy()

    def events_of(self, year: int) -> list[Event]:
        return [e for e in self.events if e.year <= year <= e.until]

    def running_score(self, a: str, b: str) -> tuple[float | None, float | None, int]:
        """Score against the record up to the last year simulated: (all pairs, this pair's level
        accuracy, documented pair-years so far)."""
        with self.lock:
            if self.t == 0:
                return None, None, 0
            full = self.stepper.alignment.copy()  # future years are 0 and outside the window
            last = int(self.year or 0)
        cells = target_cells(_targets(), self.inputs.years, (int(self.inputs.years[0]), last))
        if len(cells.t) == 0:
            return None, None, 0
        s = score(full, cells)
        p = PAIRS.index(tuple(sorted((a, b))))
        n = int((cells.pair == p).sum())
        pair = float(s.pair_level[0, p]) if n else None
        return float(s.overall[0]), pair, n

    def trace(self) -> explain.Trace:
        """The years so far with their parts (copies: Play may step meanwhile)."""
        with self.lock:
            return self.stepper.trace().copy()

    def why(self, a: str, b: str, year: int) -> pd.DataFrame:
        """One year's parts of both stances of the pair (inertia, each motive, shock, clip)."""
        return explain.year_table(self.trace(), a, b, year)

    def why_since(self, a: str, b: str, start: int, end: int) -> explain.Explanation:
        return explain.explain_change(self.trace(), a, b, start, end)

    # --- role play ----------------------------------------------------------------------------
    def rules_only(self) -> explain.Stepper:
        """The same settings and seed with nobody playing, stepped to the current year."""
        with self.lock:
            if self.free is None or self.free.t > self.t:
                self.free = explain.Stepper(self.inputs, self.params, [self.settings.seed])
            while self.free.t < self.t and self.free.step():
                pass
            return self.free

    def debrief(self) -> pd.DataFrame:
        """Per year and player and partner: the player's stance, what the rules would have chosen
        for that row that year (from the same state of the world), and the partner's stance toward
        the player here and in the rules-only run (what followed)."""
        with self.lock:
            return self._debrief()

    def _debrief(self) -> pd.DataFrame:
        free = self.rules_only()
        rows = []
        for code in self.players:
            i = INDEX[code]
            for j, other in enumerate(STATES):
                if j == i:
                    continue
                for t in range(self.t):
                    rows.append({"year": int(self.inputs.years[t]), "player": code, "partner": other,
                                 "chosen": float(self.stepper.stance[0, t, i, j]),
                                 "rules": float(self.stepper.rules_stance[0, t, i, j]),
                                 "response": float(self.stepper.stance[0, t, j, i]),
                                 "response_rules_only": float(free.stance[0, t, j, i]),
                                 "alignment": float(self.stepper.alignment[0, t, i, j]),
                                 "alignment_rules_only": float(free.alignment[0, t, i, j])})
        return pd.DataFrame(rows)


def debrief_summary(frame: pd.DataFrame, top: int = 5) -> list[str]:
    """Sentences for the debrief: where the players departed most from the theory, and what followed."""
    if frame.empty:
        return []
    lines = []
    frame = frame.assign(departure=frame.chosen - frame.rules, followed=frame.response - frame.response_rules_only)
    for code, g in frame.groupby("player"):
        big = g.loc[g.departure.abs().sort_values(ascending=False).index].head(top)
        for r in big.itertuples(index=False):
            if abs(r.departure) < 0.05:
                continue
            lines.append(f"{r.year}: {display_name(code, r.year)} chose {r.chosen:+.2f} toward {display_name(r.partner, r.year)}; "
                         f"the theory would have chosen {r.rules:+.2f} ({'warmer' if r.departure > 0 else 'cooler'} "
                         f"by {abs(r.departure):.2f}).")
        last = g[g.year == g.year.max()]
        for r in last.itertuples(index=False):
            if abs(r.followed) >= 0.02:
                lines.append(f"By {r.year}, {display_name(r.partner, r.year)} stands {r.response:+.2f} toward "
                             f"{display_name(code, r.year)}, against {r.response_rules_only:+.2f} had the rules played "
                             f"({r.followed:+.2f}).")
    return lines


def settings_dict(s: Settings) -> dict:
    return asdict(s)
