"""The posterior: ABC-SMC recovers a known posterior, and drawing from a posterior is paired by seed."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.params import Parameters
from simulation.experiments.posterior import Posterior, abc_smc, summary


def test_abc_smc_recovers_a_known_gaussian_posterior():
    """Data: 20 draws from N(theta, 1); flat prior on [-5, 5]. The exact posterior is N(mean, 1/20)."""
    observed = 1.3
    noise = np.random.default_rng(7)

    def distance(theta: np.ndarray) -> np.ndarray:  # a stochastic simulator's summary against the data
        simulated = theta[:, 0] + noise.standard_normal(len(theta)) / np.sqrt(20)
        return np.abs(simulated - observed)

    post = abc_smc(distance, np.array([[-5.0, 5.0]]), ("theta",), population=2000, generations=8, seed=0)
    s = summary(post)["marginals"]["theta"]
    assert abs(s["mean"] - observed) < 0.05
    assert 0.8 * np.sqrt(1 / 20) < s["sd"] < 1.3 * np.sqrt(1 / 20)
    assert post.diagnostics["generations"][-1]["distinct"] > 200  # the moves keep the population from collapsing


def test_a_posterior_of_one_point_draws_that_point_for_every_seed():
    p = Parameters.baseline()
    post = Posterior.point(p)
    draws = post.draws_for(list(range(50)))
    assert np.all(draws == 0)
    batch = post.params(p, draws)
    assert np.all(np.asarray(batch.inertia) == p.inertia)


def test_draws_are_keyed_by_seed_so_two_scenarios_share_them():
    rng = np.random.default_rng(0)
    post = Posterior(("inertia",), rng.random((40, 1)), np.full(40, 1 / 40), np.zeros(40))
    first = post.draws_for([5, 6, 7, 8])
    assert np.array_equal(first, post.draws_for([5, 6, 7, 8]))
    assert np.array_equal(first[2:], post.draws_for([7, 8]))
    assert len(set(post.draws_for(list(range(200))))) > 20  # weights are honoured, not one draw for all


@pytest.mark.slow
def test_the_posterior_command_writes_its_sample_diagnostics_and_check(tmp_path):
    import json

    from simulation.interfaces.cli import main

    out = tmp_path / "post"
    assert main(["posterior", "--population", "50", "--generations", "1", "--objective-seeds", "1",
                 "--check-runs", "20", "--out", str(out)]) == 0
    post = Posterior.load(out / "posterior.json")
    assert post.samples.shape == (50, len(Parameters.fitted()))
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["marginals"]) == set(Parameters.fitted())
    assert 0.0 <= summary["coverage"]["in_sample"]["overall"] <= 1.0
    assert summary["generations"][-1]["generation"] == 1
    assert (out / "predictive_check.png").stat().st_size > 10_000
