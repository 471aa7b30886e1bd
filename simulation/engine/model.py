"""The Mesa layer: one StateAgent per state, and a Model that advances the world a year per step.

Each year the model updates what every state perceives (the shared information environment),
then every agent chooses its own stance toward the others, simultaneously, and the model records
the mutual alignments. The theory lives in simulation.rules; this module only sequences it.
"""

from __future__ import annotations

import mesa
import numpy as np

from simulation.engine import dynamics
from simulation.engine.inputs import Inputs
from simulation.engine.params import Parameters
from simulation.rules import choice
from simulation.states import INDEX, N_STATES, STATES


def draw_shocks(rng: np.random.Generator, n_years: int) -> np.ndarray:
    """All of a run's randomness, drawn up front: one standard-normal shock per year and directed pair."""
    shocks = rng.standard_normal((n_years, N_STATES, N_STATES))
    shocks[:, np.arange(N_STATES), np.arange(N_STATES)] = 0.0
    return shocks


class StateAgent(mesa.Agent):
    """A state choosing its stance toward each other state, from what it perceives this year."""

    def __init__(self, model: AlignmentModel, code: str) -> None:
        super().__init__(model)
        self.code = code
        self.index = INDEX[code]
        self.next_stance: np.ndarray | None = None

    def decide(self) -> None:
        """Move my stance toward what my motives call for, keeping part of last year's (inertia)."""
        m = self.model
        row = slice(self.index, self.index + 1)
        self.next_stance = choice.update_stance(
            m.state.stance[:, row], m.target[:, row], m.inertia,
            dynamics.per_run(m.params.noise, 3) * m.shocks[m.t][None, row]
        )

    def commit(self) -> None:
        self.model.stance_next[:, self.index] = self.next_stance[:, 0]


class AlignmentModel(mesa.Model):
    """Six states choosing alignments year by year from `inputs.years[0]` to `inputs.years[-1]`."""

    def __init__(self, inputs: Inputs, params: Parameters | None = None, seed: int = 0) -> None:
        super().__init__(rng=seed)
        self.inputs = inputs
        self.params = params or Parameters()
        self.shocks = draw_shocks(self.rng, inputs.n_years)
        zeros = np.zeros((1, N_STATES, N_STATES))
        self.state = dynamics.State(memory=inputs.initial_intent[None].copy(), stance=zeros, alignment=zeros)
        self.t = 0
        self.year = int(inputs.years[0])
        self.state_agents = [StateAgent(self, code) for code in STATES]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": "year",
                "alignment": lambda m: m.state.alignment[0].copy(),
                "threat": lambda m: m.seen.threat[0].copy(),
                "stance": lambda m: m.state.stance[0].copy(),
            }
        )

    def step(self) -> None:
        """One year: perceive, every state decides (simultaneously), alignments form by mutual consent."""
        self.year = int(self.inputs.years[self.t])
        x = self.inputs.year(self.t)
        memory, self.seen = dynamics.perceive(self.state.memory, self.state.alignment, x, self.params)
        self.target = dynamics.desired(self.seen, self.state.alignment, self.params)
        self.inertia = dynamics.inertia(self.seen, self.params, first_year=self.t == 0)
        self.stance_next = np.empty_like(self.state.stance)
        for agent in self.state_agents:  # fixed order; decisions read only last year's state
            agent.decide()
        for agent in self.state_agents:
            agent.commit()
        self.state = dynamics.State(memory, self.stance_next, choice.mutual_alignment(self.stance_next))
        self.datacollector.collect(self)
        self.t += 1
        if self.t >= self.inputs.n_years:
            self.running = False

    def run(self) -> None:
        while self.running:
            self.step()

    def series(self, name: str) -> np.ndarray:
        """A collected matrix series as a (T, N, N) array."""
        return np.stack(self.datacollector.get_model_vars_dataframe()[name].to_list())
