"""The simulated period and the in-sample / out-of-sample split, defined once.

Every module that checks a year against the period, or needs the split between fitted and held-out
years, reads it from here.
"""

from __future__ import annotations

import json

from simulation.engine.params import CALIBRATED
from simulation.errors import InputError

FIRST_YEAR, LAST_YEAR = 1947, 2024
#: Last in-sample year when no calibration is committed.
DEFAULT_SPLIT = 1990


def split_year() -> int:
    """The last year the committed calibration was fitted on (in sample up to it, out of sample after)."""
    if not CALIBRATED.exists():
        return DEFAULT_SPLIT
    try:
        year = json.loads(CALIBRATED.read_text(encoding="utf-8"))["fit_until"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"cannot read 'fit_until': {type(exc).__name__}", file=CALIBRATED) from None
    if not isinstance(year, int) or not FIRST_YEAR <= year < LAST_YEAR:
        raise InputError(f"'fit_until' must be a year in {FIRST_YEAR}-{LAST_YEAR - 1}, got {year!r}", file=CALIBRATED)
    return year
