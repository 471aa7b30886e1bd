"""The six states, their codes and their fixed order in every array.

Arrays indexed by state always use the alphabetical order of `STATES`; a pair
(a, b) is written with a < b. RUS stands for the USSR before 1992 (COW keeps
one code, 365, for both).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simulation.errors import InputError

STATES: tuple[str, ...] = ("AFG", "CHN", "IND", "PAK", "RUS", "USA")
N_STATES = len(STATES)
INDEX: dict[str, int] = {code: i for i, code in enumerate(STATES)}

#: Correlates of War country codes (simulation/data/PROVENANCE.md).
COW_CODE: dict[str, int] = {"USA": 2, "RUS": 365, "AFG": 700, "CHN": 710, "IND": 750, "PAK": 770}
STATE_OF_COW: dict[int, str] = {v: k for k, v in COW_CODE.items()}

NAMES: dict[str, str] = {
    "AFG": "Afghanistan",
    "CHN": "China",
    "IND": "India",
    "PAK": "Pakistan",
    "RUS": "USSR/Russia",
    "USA": "United States",
}

#: Unordered pairs (a < b), in the order alignments.csv lists them.
PAIRS: tuple[tuple[str, str], ...] = tuple(
    (a, b) for i, a in enumerate(STATES) for b in STATES[i + 1 :]
)
#: Array indices of each pair's two states: x[..., PAIR_A, PAIR_B] picks the 15 pairs of an (N, N) array.
PAIR_A = np.array([INDEX[a] for a, _ in PAIRS])
PAIR_B = np.array([INDEX[b] for _, b in PAIRS])


def display_name(code: str, year: int | None = None) -> str:
    """Human name of a state; RUS reads 'USSR' before 1992 and 'Russia' after."""
    if code == "RUS" and year is not None:
        return "USSR" if year < 1992 else "Russia"
    return NAMES[code]


def check_state(code: object, *, file: str | Path | None = None, line: int | None = None,
                field: str | None = None, also: tuple[str, ...] = ()) -> str:
    """`code` if it is one of the six state codes (or in `also`); otherwise the one error every
    file and argument reports for an unknown code, listing the valid ones."""
    if isinstance(code, str) and (code in INDEX or code in also):
        return code
    expected = " ".join(STATES) + "".join(f" or {x!r}" for x in also)
    raise InputError(f"unknown state code {code!r} (expected one of {expected})", file=file, line=line, field=field)
