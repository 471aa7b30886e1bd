"""Run a scenario: build its inputs once, run the Mesa model once per seed, collect the series."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulation.inputs import Inputs, build_inputs, regime_labels
from simulation.model import AlignmentModel
from simulation.params import Parameters
from simulation.scenario import Scenario
from simulation.timeline import load_events


@dataclass(frozen=True)
class RunResult:
    """One run's yearly series, each (T, N, N)."""

    seed: int
    years: np.ndarray
    alignment: np.ndarray
    threat: np.ndarray


def run_one(inputs: Inputs, params: Parameters, seed: int) -> RunResult:
    model = AlignmentModel(inputs, params, seed=seed)
    model.run()
    return RunResult(seed, inputs.years, model.series("alignment"), model.series("threat"))


def scenario_inputs(scenario: Scenario, timeline: Path) -> tuple[Inputs, Parameters]:
    """Validate the timeline and data, and resolve the parameters, before anything runs or is written."""
    events = load_events(timeline, regime_labels())
    inputs = build_inputs(scenario.period.start, scenario.period.end, events)
    return inputs, Parameters.baseline().with_overrides(scenario.overrides())


def run_scenario(scenario: Scenario, timeline: Path, seeds: Iterable[int] | None = None,
                 progress: bool = False) -> tuple[Inputs, Parameters, list[RunResult]]:
    from tqdm import tqdm

    inputs, params = scenario_inputs(scenario, timeline)
    seeds = list(scenario.seeds if seeds is None else seeds)
    runs = [run_one(inputs, params, s) for s in tqdm(seeds, desc="runs", unit="run",
                                                       disable=not progress or len(seeds) < 20)]
    return inputs, params, runs
