"""Is the committed fit converged? The full model's own loss at each ablated variant's fitted point.

A variant that fixes weights inside the full model's bounds is a point of the full model's search
space: if the full model's objective (1947-1990, its seeds and penalty) is lower there than at the
committed point, the full fit has not converged. Variants that fix a parameter the full model does
not fit (a fixed constant such as `schism_affinity`) lie outside that space and are marked so.
Reads no year after 1990.

    .venv/bin/python docs/trials/nested_losses.py     # about 10 s
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from simulation.engine.inputs import build_inputs
from simulation.engine.params import Parameters
from simulation.experiments import calibrate
from simulation.experiments.score import load_targets, target_cells


def main() -> None:
    record = json.loads(resources.files("simulation.data").joinpath("calibrated.json").read_text())
    fit_until = record["fit_until"]
    inputs = build_inputs(1947, fit_until)
    cells = target_cells(load_targets(), inputs.years, (1947, fit_until))
    names = calibrate.free_parameters()
    objective = calibrate.Objective(inputs, cells, names, tuple(record["objective_seeds"]),
                                    penalty=record["penalty"])
    bounds = Parameters.bounds()
    rows, xs = [], []
    for name, variant in record["variants"].items():
        point = {**Parameters().as_dict(), **variant["parameters"]}
        inside = all(point[k] == getattr(Parameters(), k) for k in point if k not in names) and \
            all(bounds[k][0] <= point[k] <= bounds[k][1] for k in names)
        rows.append((name, inside))
        xs.append([point[k] for k in names])
    losses = objective.losses(np.array(xs))
    print(f"full model's 1947-{fit_until} loss at each variant's point (committed fit: {record['loss']:.4f})")
    for (name, inside), loss in sorted(zip(rows, losses, strict=True), key=lambda r: r[1]):
        note = "" if inside else "  (outside the full model's space: a fixed constant differs)"
        print(f"  {name:32s} {loss:.4f}{note}")


if __name__ == "__main__":
    main()
