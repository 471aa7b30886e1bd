"""Invariants over random inputs and parameters (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.engine import dynamics
from simulation.engine.params import Parameters
from tests.conftest import N, year

unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def parameters(draw) -> Parameters:
    values = {name: draw(st.floats(lo, hi, allow_nan=False)) for name, (lo, hi) in Parameters.bounds().items()}
    return Parameters(**values)


@st.composite
def random_year(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sym = lambda: np.triu(rng.random((1, N, N)), 1) + np.triu(rng.random((1, N, N)), 1).transpose(0, 2, 1)  # noqa: E731
    return year(
        capability=rng.uniform(1e-4, 0.4, (1, N)),
        milex_share=rng.random((1, N)),
        gdp=rng.uniform(1, 1e6, (1, N)),
        gdp_per_capita=rng.uniform(100, 80000, (1, N)),
        arms_export_share=rng.dirichlet(np.ones(N))[None],
        acts=rng.random((1, N, N)) * (rng.random((1, N, N)) < 0.3) * (1 - np.eye(N)),
        outside_acts=rng.random((1, N)) * (rng.random((1, N)) < 0.2),
        nuclear=(rng.random((1, N)) < 0.5).astype(float),
        ideology=np.stack([rng.uniform(-1, 1, (1, N)), rng.random((1, N)), rng.random((1, N))], axis=-1),
        regime_change=(rng.random((1, N)) < 0.1).astype(float),
        contiguity=sym(), presence=rng.random((1, N, N)) * (1 - np.eye(N)) * (rng.random((1, N, N)) < 0.2),
        dispute=sym() * 0.5, sanction=rng.random((1, N, N)) * (1 - np.eye(N)) * (rng.random((1, N, N)) < 0.2),
        energy_need=rng.random((1, N)), energy_supply=rng.random((1, N)),
        mandate=rng.random((1, N, N)) * (1 - np.eye(N)) * (rng.random((1, N, N)) < 0.2),
        distance_km=np.where(np.eye(N, dtype=bool), 0.0, rng.uniform(300, 15000, (N, N))),
    ), rng


@settings(max_examples=60, deadline=None)
@given(random_year(), parameters(), st.integers(1, 6))
def test_alignments_stay_in_range_symmetric_and_finite(case, p, years):
    x, rng = case
    zeros = np.zeros((1, N, N))
    state = dynamics.State(np.zeros((1, N, N)), zeros, zeros)
    for t in range(years):
        state, year = dynamics.step(state, x, p, rng.standard_normal((1, N, N)) * (1 - np.eye(N)), first_year=t == 0)
        seen = year.seen
        a = state.alignment
        assert np.all(np.isfinite(a)) and np.all(a >= -1) and np.all(a <= 1)
        assert np.array_equal(a, a.transpose(0, 2, 1))
        assert np.all(np.diagonal(a, axis1=1, axis2=2) == 0)
        assert np.all(seen.intent >= 0) and np.all(seen.intent <= 1)
        assert np.all(seen.walt_threat >= 0) and np.all(seen.walt_threat <= 1)
        assert np.all(seen.interest >= 0)
        assert np.all(state.memory >= 0) and np.all(state.memory <= 1)


@settings(max_examples=30, deadline=None)
@given(random_year(), parameters())
def test_a_step_is_a_pure_function(case, p):
    x, rng = case
    shock = rng.standard_normal((1, N, N)) * (1 - np.eye(N))
    zeros = np.zeros((1, N, N))
    state = dynamics.State(np.zeros((1, N, N)), zeros, zeros)
    first, _ = dynamics.step(state, x, p, shock, first_year=True)
    second, _ = dynamics.step(state, x, p, shock, first_year=True)
    assert np.array_equal(first.alignment, second.alignment)


@settings(max_examples=30, deadline=None)
@given(random_year(), parameters())
def test_batch_rows_are_independent(case, p):
    """Runs stacked on the batch axis give exactly what each gives alone."""
    x, rng = case
    shocks = rng.standard_normal((3, N, N)) * (1 - np.eye(N))
    zeros = np.zeros((3, N, N))
    batch, _ = dynamics.step(dynamics.State(np.zeros((3, N, N)), zeros, zeros), x, p, shocks, first_year=True)
    for b in range(3):
        z = np.zeros((1, N, N))
        alone, _ = dynamics.step(dynamics.State(z, z, z), x, p, shocks[b:b + 1], first_year=True)
        np.testing.assert_allclose(batch.alignment[b], alone.alignment[0], rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_structural_balance_is_the_security_dilemma_from_the_other_end(seed, batch):
    """j is the enemy of i's friend exactly as far as i is the friend of j's rival: the engine reads
    structural balance off the perceived security dilemma, and this checks it against balance
    theory's own terms (the friend k through whom the strain runs) on random signed alignments."""
    from simulation.rules import choice, threat

    rng = np.random.default_rng(seed)
    upper = np.triu(rng.uniform(-1, 1, (batch, N, N)) * (rng.random((batch, N, N)) < 0.7), 1)
    alignment = upper + upper.transpose(0, 2, 1)
    friends, rivals = np.clip(alignment, 0.0, None), np.clip(-alignment, 0.0, None)
    by_definition = (friends[:, :, None, :] * rivals[:, None, :, :]).max(axis=-1) * (1 - np.eye(N))
    np.testing.assert_array_equal(choice.structural_balance(threat.security_dilemma(alignment)), by_definition)
    np.testing.assert_array_equal(choice.structural_balance_through(alignment).max(axis=-1), by_definition)
