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
from simulation.engine.shocks import stance_shocks
from simulation.states import INDEX, N_STATES, STATES


class StateAgent(mesa.Agent):
    """A state choosing its stance toward each other state, from what it perceives this year."""

    def __init__(self, model: AlignmentModel, code: str) -> None:
        super().__init__(model)
        self.code = code
        self.index = INDEX[code]
        self.next_stance = np.zeros((1, 1, N_STATES))
        self.instruments: dict[str, np.ndarray] = {}

    def decide(self) -> None:
        """Move my stance toward what my motives call for, keeping part of last year's (inertia), and
        choose from it what I do toward each other state (arms, sanctions, aid, troops, exercises)."""
        m = self.model
        row = slice(self.index, self.index + 1)
        self.next_stance = dynamics.choose(m.state.stance[:, row], m.assessment.target[:, row], m.assessment.keep,
                                           m.params, m.shocks[m.t][:, row])
        self.instruments = dynamics.decide_instruments(m.assessment, self.next_stance, row, m.params)

    def commit(self) -> None:
        self.model.stance_next[:, self.index] = self.next_stance[:, 0]
        for name, value in self.instruments.items():
            self.model.choices_next.setdefault(name, np.zeros_like(self.model.stance_next))[:, self.index] = value[:, 0]


class AlignmentModel(mesa.Model):
    """Six states choosing alignments year by year from `inputs.years[0]` to `inputs.years[-1]`."""

    def __init__(self, inputs: Inputs, params: Parameters | None = None, seed: int = 0) -> None:
        super().__init__(rng=seed)
        self.inputs = inputs
        self.params = params or Parameters()
        self.shocks = stance_shocks([seed], inputs.years)  # (T, 1, N, N)
        zeros = np.zeros((1, N_STATES, N_STATES))
        self.state = dynamics.State(memory=inputs.initial_intent[None].copy(), stance=zeros, alignment=zeros)
        instruments = {name: (lambda m, n=name: getattr(m.state, n)[0].copy()) for name in dynamics.INSTRUMENTS}
        self.t = 0
        self.year = int(inputs.years[0])
        self.state_agents = [StateAgent(self, code) for code in STATES]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": "year",
                "alignment": lambda m: m.state.alignment[0].copy(),
                "threat": lambda m: m.assessment.seen.threat[0].copy(),
                "stance": lambda m: m.state.stance[0].copy(),
                **instruments,
            }
        )

    def step(self) -> None:
        """One year: perceive, every state decides (simultaneously), alignments form by mutual consent.
        Past the period's last year there is nothing left to simulate: a further step does nothing."""
        if self.t >= self.inputs.n_years:
            self.running = False
            return
        self.year = int(self.inputs.years[self.t])
        self.assessment = dynamics.assess(self.state, self.inputs.year(self.t), self.params, first_year=self.t == 0)
        self.stance_next = np.empty_like(self.state.stance)
        self.choices_next: dict[str, np.ndarray] = {}
        for agent in self.state_agents:  # fixed order; decisions read only last year's state
            agent.decide()
        for agent in self.state_agents:
            agent.commit()
        self.state = dynamics.settle(self.assessment, self.stance_next, self.choices_next, self.params)
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
