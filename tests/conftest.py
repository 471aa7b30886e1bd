"""Shared fixtures: neutral synthetic inputs that a test changes one thing in."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.dynamics import State, YearInputs
from simulation.engine.inputs import Inputs, build_inputs
from simulation.engine.params import Parameters
from simulation.states import INDEX, N_STATES

N = N_STATES


def year(**overrides: np.ndarray) -> YearInputs:
    """One year, batch of 1: equal capabilities, far apart, no acts, no disputes, same regime."""
    base = dict(
        capability=np.full((1, N), 0.1),
        milex_share=np.full((1, N), 0.2),
        gdp=np.full((1, N), 1000.0),
        gdp_per_capita=np.full((1, N), 1000.0),
        arms_export_share=np.zeros((1, N)),
        arms_import_share=np.zeros((1, N)),
        acts=np.zeros((1, N, N)),
        outside_acts=np.zeros((1, N)),
        nuclear=np.zeros((1, N)),
        ideology=np.zeros((1, N, 3)),
        regime_change=np.zeros((1, N)),
        contiguity=np.zeros((1, N, N)),
        presence=np.zeros((1, N, N)),
        dispute=np.zeros((1, N, N)),
        sanction=np.zeros((1, N, N)),
        energy_need=np.zeros((1, N)),
        energy_supply=np.zeros((1, N)),
        investment=np.zeros((1, N, N)),
        distance_km=np.full((N, N), 8000.0) * (1 - np.eye(N)),
    )
    base.update(overrides)
    return YearInputs(**base)


def quiet_state(intent: float = 0.0) -> State:
    memory = np.full((1, N, N), intent) * (1 - np.eye(N))
    zeros = np.zeros((1, N, N))
    return State(memory=memory, stance=zeros, alignment=zeros)


def ix(code: str) -> int:
    return INDEX[code]


@pytest.fixture(scope="session")
def baseline_inputs() -> Inputs:
    return build_inputs(1947, 2024)


@pytest.fixture()
def params() -> Parameters:
    return Parameters()
