"""Is the committed fit converged? The full model's own loss at each ablated variant's fitted point
(`calibrate.nested_losses`; tested in tests/test_baseline.py). Reads no year after the fit's last.

    .venv/bin/python docs/trials/nested_losses.py     # about 1 s
"""

from __future__ import annotations

import json
from importlib import resources

from simulation.experiments.calibrate import nested_losses


def main() -> None:
    record = json.loads(resources.files("simulation.data").joinpath("calibrated.json").read_text())
    table = nested_losses(record)
    print(f"full model's 1947-{record['fit_until']} loss at each variant's point "
          f"(committed fit: {record['loss']:.4f})")
    for row in table.itertuples():
        note = "" if row.nested else "  (outside the full model's space: a fixed constant differs)"
        print(f"  {row.variant:32s} {row.loss:.4f}{note}")


if __name__ == "__main__":
    main()
