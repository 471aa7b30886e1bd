"""The two types every rule is written in.

`Array` is a float array with a leading batch axis of runs. A `Weight` is a parameter of the theory
as the rules receive it: one float for every run, or an array with one value per run, already
shaped to broadcast against the arrays it scales (`engine.dynamics.per_run`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

type Array = npt.NDArray[np.float64]
type Weight = float | Array
