"""Fit 1947-1990 with the committed budget and print the in-sample loss and score only.

For trials of candidate rules (docs/trials/README.md): it computes no score after 1990, so a rule
can be judged on the fitted years without spending the held-out ones.

    .venv/bin/python docs/trials/insample_fit.py '{"reassurance_weight": 0.0}'   # JSON of weights held fixed
    .venv/bin/python docs/trials/insample_fit.py '{}' 80   # at another budget (the trials' table ran at 80)
    .venv/bin/python docs/trials/insample_fit.py '{}' 80 1   # and another optimizer seed (the adoption rule uses 0, 1, 2)
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import numpy as np

from simulation.engine.ensemble import simulate
from simulation.engine.inputs import build_inputs
from simulation.engine.params import Parameters
from simulation.experiments import calibrate
from simulation.experiments.score import load_targets, score, target_cells

FIT_UNTIL = 1990


def main() -> None:
    fixed = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    budget = calibrate.Budget()
    if len(sys.argv) > 2:  # a budget other than the committed one, in generations' evaluations
        budget = replace(budget, generations=int(sys.argv[2]))
    if len(sys.argv) > 3:  # an optimizer seed other than the committed one
        budget = replace(budget, seed=int(sys.argv[3]))
    inputs = build_inputs(1947, FIT_UNTIL)
    cells = target_cells(load_targets(), inputs.years, (1947, FIT_UNTIL))
    objective = calibrate.Objective(inputs, cells, calibrate.free_parameters(tuple(fixed)), budget.objective_seeds,
                                    dict(fixed), penalty=budget.penalty)
    fitted = calibrate.fit(objective, Parameters(), budget.generations, budget.population, budget.seed,
                           optimizer=budget.optimizer)
    s = score(simulate(inputs, fitted.params, list(budget.eval_seeds), keep_threat=False).alignment, cells)
    print(json.dumps({"fixed": fixed, "seed": budget.seed, "loss": round(fitted.loss, 4),
                      "in_sample": round(float(np.mean(s.overall)), 4),
                      "parameters": {k: round(v, 3) for k, v in fitted.params.as_dict().items()}}))


if __name__ == "__main__":
    main()
