"""The two types every rule is written in, and the layout of ideology space they read.

`Array` is a float array with a leading batch axis of runs. A `Weight` is a parameter of the theory
as the rules receive it: one float for every run, or an array with one value per run, already
shaped to broadcast against the arrays it scales (`engine.dynamics.per_run`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

type Array = npt.NDArray[np.float64]
type Weight = float | Array

#: Axes of a regime's position in ideology space, in the order of the last axis of every ideology
#: array (regimes.csv): planned (-1) to market (+1) economy, secular (0) to theocratic (1),
#: autocracy (0) to democracy (1). Defined here, below the engine, so rules and inputs share it.
IDEOLOGY_AXES = ("economy", "religion", "polity")
