"""Shared fixtures: neutral synthetic inputs that a test changes one thing in."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.dynamics import State
from simulation.engine.inputs import build_inputs
from simulation.engine.params import Parameters
from simulation.engine.series import Inputs, YearInputs, schema
from simulation.experiments.score import Target
from simulation.states import INDEX, N_STATES

N = N_STATES


def year(**overrides: np.ndarray) -> YearInputs:
    """One year, batch of 1, every series at its schema's neutral value (equal capabilities, far
    apart, no acts, no disputes, same regime), with the given series replaced."""
    shapes = {"state": (1, N), "pair": (1, N, N), "ideology": (1, N, 3), "static": (N, N)}
    base = {name: np.full(shapes[m["per"]], float(m["neutral"])) for name, m in schema().items()}
    base["distance_km"] = base["distance_km"] * (1 - np.eye(N))
    base.update(overrides)
    return YearInputs(**base)


#: The years of the synthetic record below.
YEARS = np.arange(1947, 1967)


def hand_targets() -> list[Target]:
    """A synthetic record for scoring tests: two pairs, each with a documented shift, no level near 0."""
    return [
        Target("IND", "PAK", 1947, 1956, -0.8, "test"), Target("IND", "PAK", 1957, 1966, -0.4, "test"),
        Target("PAK", "USA", 1947, 1953, 0.5, "test"), Target("PAK", "USA", 1954, 1966, 0.9, "test"),
    ]


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


#: Modules that drive whole commands end to end (CLI runs, sweeps, the app, notebooks): the
#: editing loop (`make check`) leaves them to `make test`.
END_TO_END = {"test_notebooks.py", "test_cli_contract.py", "test_sweep.py", "test_app.py", "test_validation.py",
              "test_compare_uncertainty.py", "test_errors.py", "test_roleplay.py", "test_lessons.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end modules are slow, and tests that start a browser are browser tests, whichever
    file declares them."""
    for item in items:
        if item.path.name in END_TO_END:
            item.add_marker(pytest.mark.slow)
        if "browser" in item.name:
            item.add_marker(pytest.mark.browser)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true",
                     help="the editing loop: do not even import the end-to-end modules (make check)")


def pytest_ignore_collect(collection_path, config: pytest.Config) -> bool | None:
    """With --fast, the end-to-end modules are not collected at all (importing the app alone takes seconds)."""
    if config.getoption("fast") and collection_path.name in END_TO_END:
        return True
    return None
