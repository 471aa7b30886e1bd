"""The model as a classroom app builds it: a scenario plus a few sliders, all turned into inputs.

Slider values never touch an alignment: "US-India ties" cuts the supply channels between the two
from 2005 (as scenarios/us_india_ties_weaken.yaml does), "China's growth" re-scales China's growth
after 1978, and the weights override the calibrated parameters.
"""

from __future__ import annotations

from pathlib import Path

from simulation.engine.model import AlignmentModel
from simulation.experiments.scenario import InputEdit, Where, load_scenario, scenario_events, scenario_inputs
from simulation.states import STATES

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
#: Weights a teacher can move, with their slider ranges (inside the documented bounds).
SLIDER_WEIGHTS = ("threat_weight", "power_weight", "interest_weight", "inertia")


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


def slider_edits(us_india_ties: float, china_growth: float) -> list[tuple[InputEdit, Where]]:
    """Input edits for the two history sliders (1.0 = as in history)."""
    here = Where(Path("<app>"), None, "sliders")
    edits = []
    if us_india_ties < 1.0:
        for actor, target in (("USA", "IND"), ("IND", "USA")):
            edits.append(InputEdit(series="sanction", actor=actor, target=target, **{"from": 2005},
                                   set=1.0 - us_india_ties))
    if china_growth != 1.0:
        for series in ("capability", "milex_share", "gdp"):
            edits.append(InputEdit(series=series, actor="CHN", **{"from": 1978}, growth=china_growth))
    return [(e, here) for e in edits]


class ClassroomModel(AlignmentModel):
    """An AlignmentModel built from a scenario name and slider values (SolaraViz re-creates it
    with these keyword arguments whenever a slider moves)."""

    def __init__(self, counterfactual: str = "baseline", threat_weight: float | None = None,
                 power_weight: float | None = None, interest_weight: float | None = None,
                 inertia: float | None = None, us_india_ties: float = 1.0, china_growth: float = 1.0,
                 focus: str = "PAK", seed: int = 0) -> None:
        scenario, _ = load_scenario(SCENARIOS / f"{counterfactual}.yaml")
        # the sliders are more scenario edits: inputs for the history sliders, overrides for the weights
        scenario.input_edits += slider_edits(us_india_ties, china_growth)
        chosen = {"threat_weight": threat_weight, "power_weight": power_weight,
                  "interest_weight": interest_weight, "inertia": inertia}
        scenario.parameters.update({k: v for k, v in chosen.items() if v is not None})
        self.events = scenario_events(scenario)
        inputs, params = scenario_inputs(scenario, self.events)
        super().__init__(inputs, params, seed=int(seed))
        self.counterfactual = counterfactual
        self.focus = focus if focus in STATES else "PAK"

    def events_of(self, year: int) -> list:
        return [e for e in self.events if e.year <= year <= e.until]
