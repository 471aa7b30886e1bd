"""Result files (the output contract) and how they are written: all or nothing.

`alignments.csv`: run,year,a,b,alignment (unordered pairs, a < b, alignment in [-1, 1]).
`threats.csv`:    run,year,i,j,threat (directed: threat of j as perceived by i).
`inputs.csv`:     year,series,i,j,value (every input series the rules read).
`instruments.csv`: run,year,i,j,instrument,value (what i chose toward j: arms = share of j's arms
                 imports from i, sanction, aid, troops, exercise, installed_base; non-zero cells).
`events.csv`:     the timeline used; `parameters.json`: the parameter values used.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.errors import InputError
from simulation.experiments.runner import RunResult
from simulation.states import PAIR_A, PAIR_B, PAIRS, STATES

FLOAT_FORMAT = "%.6f"


def alignments_frame(runs: list[RunResult]) -> pd.DataFrame:
    frames = []
    for r in runs:
        T, P = len(r.years), len(PAIRS)
        frames.append(pd.DataFrame({
            "run": r.seed,
            "year": np.repeat(r.years, P),
            "a": np.tile([a for a, _ in PAIRS], T),
            "b": np.tile([b for _, b in PAIRS], T),
            "alignment": r.alignment[:, PAIR_A, PAIR_B].reshape(-1),
        }))
    return pd.concat(frames, ignore_index=True)


def threats_frame(runs: list[RunResult]) -> pd.DataFrame:
    n = len(STATES)
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    frames = []
    for r in runs:
        T = len(r.years)
        frames.append(pd.DataFrame({
            "run": r.seed,
            "year": np.repeat(r.years, len(i)),
            "i": np.tile(np.array(STATES)[i], T),
            "j": np.tile(np.array(STATES)[j], T),
            "threat": r.threat[:, i, j].reshape(-1),
        }))
    return pd.concat(frames, ignore_index=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_json(data: object, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_atomically(out: Path, write: Callable[[Path], None]) -> None:
    """Write every file into a temporary folder beside `out`, then move them in.

    If `write` fails, nothing in `out` has changed and the temporary folder is removed.
    """
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", file=out) from None
    if out.exists() and not out.is_dir():
        raise InputError("--out exists and is not a folder", file=out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write(tmp)
        if not out.exists():
            os.replace(tmp, out)
            return
        for item in sorted(tmp.iterdir()):
            target = out / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
