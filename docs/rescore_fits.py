"""Re-score earlier committed fits with the current scorer, for the README's score table.

    .venv/bin/python docs/rescore_fits.py

Each fit is read from `git show REV:simulation/data/calibrated.json`; the weights of the mechanisms
its model lacked are set to 0, which gives that model's rules exactly on the code these fits were
made with. From `2b49a7a` interdependence is weighted by both economies' market orientation, so a
listed fit whose trade weight is above 0 is another model under the current code: the README's
figures for them were computed at `9012fd0` (`git worktree add /tmp/r 9012fd0`, then run this file
there). Scored on the 100 runs of seeds 1000-1099, in sample (to the committed split year), out of
sample (after it) and all years.
"""

from __future__ import annotations

import json
import subprocess

from simulation.engine.ensemble import simulate
from simulation.engine.inputs import build_inputs
from simulation.engine.params import Parameters
from simulation.experiments.periods import FIRST_YEAR, LAST_YEAR, split_year
from simulation.experiments.score import load_targets, score, target_cells

SIX = {"attribution_weight": 0.0, "deterrence_weight": 0.0, "trade_weight": 0.0, "structural_weight": 0.0,
       "schism_weight": 0.0, "omnibalancing_weight": 0.0}
#: commit of the fit -> the weights its model did not have
FITS = {
    "1f0be85": {"takeover_weight": 0.0, **SIX},  # before the mechanisms (instruments chosen)
    "292fdcd": {"takeover_weight": 0.0},  # six mechanisms
    "4b4730f": {},  # seven mechanisms, fitted with the scorer that dropped five shifts
    "fc7f64d": {},  # seven mechanisms, the last fit by differential evolution
    "a91723f": {},  # seven mechanisms, CMA-ES at 150 generations' evaluations
    "d12a845": {},  # seven mechanisms, CMA-ES at 80, no shrinkage
}


def main() -> None:
    inputs, targets, split = build_inputs(FIRST_YEAR, LAST_YEAR), load_targets(), split_year()
    windows = {"in": (FIRST_YEAR, split), "out": (split + 1, LAST_YEAR), "all": (FIRST_YEAR, LAST_YEAR)}
    cells = {k: target_cells(targets, inputs.years, w) for k, w in windows.items()}
    for rev, missing in FITS.items():
        record = json.loads(subprocess.check_output(["git", "show", f"{rev}:simulation/data/calibrated.json"]))
        fitted = {k: float(v) for k, v in record["parameters"].items() if k in Parameters.names()}
        params = Parameters().with_overrides({**fitted, **missing})
        run = simulate(inputs, params, list(range(1000, 1100)), keep_threat=False)
        parts = []
        for k, c in cells.items():
            s = score(run.alignment, c)
            parts.append(f"{k} {s.overall.mean():.3f} ± {s.overall.std():.3f} (level {s.level.mean():.3f} / "
                         f"shifts {s.shifts.mean():.3f})")
        print(rev, "; ".join(parts))


if __name__ == "__main__":
    main()
