"""Run a scenario: build its inputs once, run the Mesa model once per seed, collect the series."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from simulation.engine import dynamics
from simulation.engine.inputs import Inputs
from simulation.engine.model import AlignmentModel
from simulation.engine.params import Parameters
from simulation.engine.timeline import Event
from simulation.experiments.scenario import Scenario, scenario_events, scenario_inputs


@dataclass(frozen=True)
class RunResult:
    """One run's yearly series, each (T, N, N)."""

    seed: int
    years: np.ndarray
    alignment: np.ndarray
    threat: np.ndarray
    instruments: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (T, N, N) [from, to]


def run_one(inputs: Inputs, params: Parameters, seed: int) -> RunResult:
    model = AlignmentModel(inputs, params, seed=seed)
    model.run()
    return RunResult(seed, inputs.years, model.series("alignment"), model.series("threat"),
                     {name: model.series(name) for name in dynamics.INSTRUMENTS})


def run_scenario(scenario: Scenario, seeds: Iterable[int] | None = None,
                 progress: bool = False) -> tuple[Inputs, Parameters, list[RunResult], list[Event]]:
    from tqdm import tqdm

    events = scenario_events(scenario)
    inputs, params = scenario_inputs(scenario, events)
    seeds = list(scenario.seeds if seeds is None else seeds)
    runs = [run_one(inputs, params, s) for s in tqdm(seeds, desc="runs", unit="run",
                                                       disable=not progress or len(seeds) < 20)]
    return inputs, params, runs, events
