"""The vectorized ensemble: the same rules as the Mesa model, many runs and parameter points at once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.engine.ensemble import simulate
from simulation.engine.model import AlignmentModel
from simulation.engine.params import Parameters


@st.composite
def parameter_points(draw) -> Parameters:
    return Parameters(**{n: draw(st.floats(lo, hi, allow_nan=False)) for n, (lo, hi) in Parameters.bounds().items()})


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(points=st.lists(parameter_points(), min_size=2, max_size=4), first_seed=st.integers(0, 10**6))
def test_ensemble_equals_mesa_model_for_random_points(baseline_inputs, points, first_seed):
    """Each row of a batch of parameter points and seeds equals the Mesa model for that point and seed.
    Seeds repeat across points, as in a sweep (common random numbers)."""
    seeds = [first_seed + b % 2 for b in range(len(points))]
    batch = simulate(baseline_inputs, Parameters.stack(points), seeds)
    for b, (p, seed) in enumerate(zip(points, seeds, strict=True)):
        model = AlignmentModel(baseline_inputs, p, seed=seed)
        model.run()
        np.testing.assert_allclose(batch.alignment[b], model.series("alignment"), rtol=0, atol=1e-9)
        np.testing.assert_allclose(batch.threat[b], model.series("threat"), rtol=0, atol=1e-9)


def test_ensemble_shocks_are_the_mesa_models_shocks(baseline_inputs):
    from simulation.engine.ensemble import shocks_for

    seeds = [7, 0, 1, 7, 12345, 0, 2**31 - 1]  # repeated and unsorted, as a sweep's chunk can be
    batch = shocks_for(seeds, baseline_inputs.years)
    for b, seed in enumerate(seeds):
        assert np.array_equal(batch[b], AlignmentModel(baseline_inputs, seed=seed).shocks[:, 0])


def test_shocks_are_keyed_by_calendar_year_so_any_two_periods_stay_paired():
    from simulation.engine.shocks import stance_shocks

    full = stance_shocks([3, 4], np.arange(1947, 2025))
    late = stance_shocks([3, 4], np.arange(1975, 2001))
    assert np.array_equal(late, full[1975 - 1947:2001 - 1947])
    assert not np.array_equal(full[0], full[1])  # a fresh draw each year


def test_stance_stream_keeps_the_numbers_runs_had_before_streams_were_named():
    """The root stream of a seed is numpy's default_rng(seed): the golden file and the committed
    calibration were made with it."""
    from simulation.engine.shocks import stream

    assert np.array_equal(stream(11, "stance").standard_normal(5), np.random.default_rng(11).standard_normal(5))
