"""The input schema: every series the rules read, declared once, with its shape, unit and range.

`YearInputs` is one year of them with a leading batch axis (what a rule sees); `Inputs` is the whole
period with a leading year axis (what a run is built from). Both are the same declaration, so a new
series is one field here. The scenario editor's allowed series, the event kinds' targets, the
long-form `inputs.csv` and the test fixtures all read this schema.

Directed per-pair arrays `x[..., j, i]` read "from j to i" (j's act against i, j's forces in i).
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from simulation.rules.types import IDEOLOGY_AXES, Array

Per = Literal["state", "pair", "ideology", "static"]
UNBOUNDED = float("inf")
#: What a scenario may make an unbounded series (GDP, GDP per person) at most, in its unit: ten
#: thousand times today's world output, so that the rules' sums of GDPs stay finite.
MAX_EDITED = 1e12


def _series(per: Per, unit: str, bounds: tuple[float, float], neutral: float, doc: str,
            editable: bool = True, positive: bool = False) -> Any:
    """A field of the schema. `neutral` is a value that carries no signal (the tests' quiet world);
    `editable` says whether a scenario may edit the series; `positive` that it must stay above its
    lower bound of 0 (the rules divide by it: shares of the largest economy, growth since a year)."""
    return field(metadata={"per": per, "unit": unit, "bounds": bounds, "neutral": neutral, "doc": doc,
                           "editable": editable, "positive": positive})


@dataclass(frozen=True, kw_only=True)
class YearInputs:
    """One year's inputs, with a leading batch axis (size B, or 1 when shared by every run)."""

    # --- capabilities and economies (data) --------------------------------------------------------
    capability: Array = _series("state", "CINC", (0.0, 1.0), 0.1, "COW composite index of national capability")
    milex_share: Array = _series("state", "share of the largest", (0.0, 1.0), 0.2,
                                 "military spending relative to the largest spender of the six that year")
    gdp: Array = _series("state", "million 2011 USD", (0.0, UNBOUNDED), 1000.0, "real GDP", positive=True)
    gdp_per_capita: Array = _series("state", "USD per person", (0.0, UNBOUNDED), 1000.0, "real GDP per person",
                                    positive=True)
    arms_export_share: Array = _series("state", "share of the six", (0.0, 1.0), 0.0,
                                       "share of the six's arms exports, 5-year mean (supplier capacity)")
    # --- force and its history (data and timeline) -------------------------------------------------
    acts: Array = _series("pair", "intensity", (0.0, 1.0), 0.0,
                          "intensity of i's hostile acts against j this year (read [actor, target])")
    outside_acts: Array = _series("state", "intensity", (0.0, 1.0), 0.0,
                                  "intensity of the state's aggression against states outside the six")
    nuclear: Array = _series("state", "0/1", (0.0, 1.0), 0.0, "1 when the state holds nuclear weapons")
    # --- regimes and domestic upheavals (timeline) ----------------------------------------------------
    ideology: Array = _series("ideology", "coordinates", (-1.0, 1.0), 0.0,
                              "the regime's position on the ideology axes", editable=False)
    vanguard: Array = _series("state", "0/1", (0.0, 1.0), 0.0,
                              "1 when the regime's doctrine claims one legitimate centre for a universal movement "
                              "(Marxism-Leninism; Walt 1987 ch. 6), set by the regime", editable=False)
    regime_change: Array = _series("state", "0/1", (0.0, 1.0), 0.0, "1 in a year a new regime takes power",
                                   editable=False)
    takeover: Array = _series("state", "0/1", (0.0, 1.0), 0.0, "1 in the first year of a regime that took the "
                              "capital by winning an armed internal conflict (a civil war won)")
    internal_threat: Array = _series("state", "intensity", (0.0, 1.0), 0.0,
                                     "armed internal conflict (civil war, insurgency) the government fights on its "
                                     "own territory: UCDP/PRIO intensity, 1 war (1,000+ battle deaths), 0.5 minor")
    # --- geography and standing issues (data and timeline) -------------------------------------------
    contiguity: Array = _series("pair", "0..1", (0.0, 1.0), 0.0, "symmetric: 1 a land border, 0 none")
    presence: Array = _series("pair", "0..1", (0.0, 1.0), 0.0,
                              "j's army of occupation in i after an invasion (projects j's power; never a stake)")
    dispute: Array = _series("pair", "0..1", (0.0, 1.0), 0.0,
                             "symmetric territorial dispute inherited in 1947 or created by a change of geography")
    # --- laws and multilateral decisions with a trigger outside the pair (timeline) ----------------
    sanction: Array = _series("pair", "share cut", (0.0, 1.0), 0.0,
                              "share of j's arms and aid supply to i cut by a multilateral decision whose trigger "
                              "lies outside the pair (or by a counterfactual's edit); no choice of j lifts it")
    mandate: Array = _series("pair", "share cut", (0.0, 1.0), 0.0,
                             "share of j's arms and aid supply to i that a law of j mandates cutting after a "
                             "trigger outside the pair (a test, a crackdown); j may waive it (rules.instruments)")
    # --- needs and endowments (data: GDP x documented net energy trade status) -------------------------
    energy_need: Array = _series("state", "0..1", (0.0, 1.0), 0.0,
                                 "a net energy importer's need: its GDP relative to the largest of the six")
    energy_supply: Array = _series("state", "0..1", (0.0, 1.0), 0.0,
                                   "a net energy exporter's capacity: its GDP relative to the largest of the six")
    # --- fixed for the whole period -------------------------------------------------------------------
    distance_km: Array = _series("static", "km", (0.0, UNBOUNDED), 8000.0,
                                 "great-circle distance between capitals (N, N), no batch axis", editable=False)


@dataclass(frozen=True, kw_only=True)
class Inputs(YearInputs):
    """Everything the rules read over a period: each yearly series with a leading axis of years."""

    years: npt.NDArray[np.int64]  # (T,) calendar years
    initial_intent: Array  # (N, N) perceived intent of j by i from rivalries predating the start

    @property
    def n_years(self) -> int:
        return len(self.years)

    def year(self, t: int) -> YearInputs:
        """Year t as the rules read it, with a batch axis of 1 (shared by every run of a batch)."""
        return YearInputs(**{f.name: getattr(self, f.name)[t][None] for f in yearly()},
                          distance_km=self.distance_km)

    def until(self, year: int) -> Inputs:
        """The same inputs, ending in `year` (the first years of a run do not depend on later ones)."""
        t = int(year) - int(self.years[0]) + 1
        return replace(self, years=self.years[:t], **{f.name: getattr(self, f.name)[:t] for f in yearly()})

    def to_long(self) -> Any:
        """All yearly series in long form (`year,series,i,j,value`, a pandas DataFrame) for `inputs.csv`."""
        import numpy as np
        import pandas as pd

        from simulation.states import STATES

        codes = np.array(STATES)
        frames = []
        for f in yearly():
            arr, per = getattr(self, f.name), f.metadata["per"]
            if per == "state":
                t, i = np.nonzero(np.ones_like(arr, dtype=bool))
                frames.append(pd.DataFrame({"year": self.years[t], "series": f.name, "i": codes[i], "j": "",
                                            "value": arr[t, i]}))
            elif per == "ideology":
                for axis, name in enumerate(f"ideology_{a}" for a in IDEOLOGY_AXES):
                    sub = arr[:, :, axis]
                    t, i = np.nonzero(np.ones_like(sub, dtype=bool))
                    frames.append(pd.DataFrame({"year": self.years[t], "series": name, "i": codes[i], "j": "",
                                                "value": sub[t, i]}))
            else:  # per pair: only the non-zero entries
                t, a, b = np.nonzero(arr)
                frames.append(pd.DataFrame({"year": self.years[t], "series": f.name, "i": codes[a], "j": codes[b],
                                            "value": arr[t, a, b]}))
        return pd.concat(frames, ignore_index=True)


def yearly() -> tuple[Field[Any], ...]:
    """The schema's series that change year by year (all but the static ones), in declaration order."""
    return tuple(f for f in fields(YearInputs) if f.metadata["per"] != "static")


def schema() -> dict[str, dict[str, Any]]:
    """name -> the series' metadata (per, unit, bounds, neutral, doc, editable, positive)."""
    return {f.name: dict(f.metadata) for f in fields(YearInputs)}


def editable() -> dict[str, bool]:
    """Series a scenario may edit -> whether it is per directed pair (True) or per state (False)."""
    return {name: m["per"] == "pair" for name, m in schema().items() if m["editable"]}
