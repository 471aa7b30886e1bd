"""The command line's contract, in one place: argument kinds, size limits, one-line errors.

Every command validates everything before any work (each argument by its `type=` below, files by
their loaders, the output folder by `output.check_out`, the work's size against the limits here
and in `experiments/sweep.py`), then computes, then publishes. A user's mistake is one line, `error: WHERE: WHAT`, and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from simulation.engine.shocks import MAX_SEED
from simulation.errors import InputError, missing
from simulation.experiments.periods import FIRST_YEAR, LAST_YEAR

if TYPE_CHECKING:
    from simulation.experiments.posterior import ParameterSource

EXIT_USAGE = 2
#: A command whose stdout's reader went away (`... | head`): quiet, as a Unix tool ended by SIGPIPE.
EXIT_PIPE = 128 + 13
#: Most runs one `run` or `compare` may ask for, and most points x seeds in one sweep.
MAX_RUNS = 100_000
MAX_SWEEP_RUNS = 50_000_000


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line naming the argument (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message}\n")


def _kind(name: str, check: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse `type=`: `check` returns the value or raises ValueError with the reason."""
    def parse(text: str) -> object:
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = name  # argparse names the kind in its message
    return parse


def _integer(text: str) -> int:
    # ASCII digits only: int() would also take '1_950', ' 7 ' and other scripts' digits
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f"expected a whole number, got {text!r}")
    return int(text, 10)


def seed(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"a seed must lie in 0..2**63-1, got {text}")
    return value


def _whole(kind: str, low: int, high: int, need: str) -> Callable[[str], object]:
    """An argparse `type=` for a whole number in low..high; `need` says what is needed in the error."""
    def check(text: str) -> int:
        value = _integer(text)
        if not low <= value <= high:
            raise ValueError(f"{need} {low}..{high}{' is needed' if kind == 'year' else ''}, got {text}")
        return value
    return _kind(kind, check)


def count(low: int, high: int) -> Callable[[str], object]:
    """A whole number in low..high (a count of runs, workers, generations...)."""
    return _whole("count", low, high, "must lie in")


def counts(low: int, high: int, most: int = 100) -> Callable[[str], object]:
    """A comma-separated list of 1..`most` whole numbers, each in low..high (origins, budgets, seeds)."""
    def check(text: str) -> list[int]:
        items = [v.strip() for v in text.split(",")]
        if not text.strip() or "" in items:
            raise ValueError(f"expected comma-separated whole numbers, got {text!r}")
        values = [_integer(v) for v in items]
        if len(set(values)) < len(values):
            raise ValueError(f"lists {next(v for v in values if values.count(v) > 1)} twice")
        if len(values) > most:
            raise ValueError(f"at most {most} values, got {len(values)}")
        outside = [v for v in values if not low <= v <= high]
        if outside:
            raise ValueError(f"each must lie in {low}..{high}, got {outside[0]}")
        return values
    return _kind("list", check)


def number(low: float, high: float) -> Callable[[str], object]:
    """A finite number in low..high (a weight, a penalty)."""
    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"must be a finite number in {low:g}..{high:g}, got {text}")
        return value
    return _kind("number", check)


def year(low: int = FIRST_YEAR, high: int = LAST_YEAR) -> Callable[[str], object]:
    """A calendar year in low..high."""
    return _whole("year", low, high, "a year in")


def port(text: str) -> int:
    value = _integer(text)
    if not 1 <= value <= 65535:
        raise ValueError(f"a port must lie in 1..65535, got {text}")
    return value


def out_path(text: str) -> str:
    """A folder or file path: not empty (an empty --out would write into the current folder)."""
    if not text.strip():
        raise ValueError("an empty path is not allowed (give a folder name)")
    if "\0" in text:
        raise ValueError("a path cannot contain a NUL byte")
    return text


def scheduler(text: str) -> str:
    """A Dask scheduler address: tcp://HOST:PORT (or tls://, inproc://, ws://, wss://)."""
    parts = urlsplit(text)
    if parts.scheme not in ("tcp", "tls", "inproc", "ws", "wss") or not parts.netloc:
        raise ValueError(f"expected an address like tcp://HOST:8786, got {text!r}")
    if parts.scheme != "inproc":
        try:
            if parts.port is None:
                raise ValueError
        except ValueError:
            raise ValueError(f"expected an address like tcp://HOST:8786 (with a port), got {text!r}") from None
    return text


def parameters(text: str) -> ParameterSource:
    """Where runs take their weights: 'point', 'posterior' (the committed posterior) or a parameter file
    (a posterior, or a record such as calibrated.json), read and checked whole here, when the arguments
    are parsed, so that a bad file is refused before any work (`posterior.read_parameter_file`)."""
    from pathlib import Path

    from simulation.experiments.posterior import POSTERIOR, ParameterSource

    if text == "posterior" and not POSTERIOR.exists():
        raise ValueError("no posterior is committed (simulation/data/posterior.json); use 'point'")
    if text not in ("point", "posterior") and (missing(Path(text)) is not None or not Path(text).is_file()):
        raise ValueError(f"expected 'point', 'posterior' or a posterior file, got {text!r}")
    try:
        return ParameterSource.parse(text)
    except InputError as exc:
        raise ValueError(str(exc)) from None


SEED = _kind("seed", seed)
PARAMETERS = _kind("parameters", parameters)
PORT = _kind("port", port)
OUT = _kind("path", out_path)
SCHEDULER = _kind("address", scheduler)


def cores() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def cap_workers(workers: int, argument: str = "--workers") -> int:
    """At most one process per core present: more only compete for the same cores."""
    n = cores()
    if workers > n:
        print(f"note: {argument} {workers} capped at the {n} cores present", file=sys.stderr)
        return n
    return workers


def fail(exc: InputError) -> int:
    """Print a user's mistake on one line and return the exit code."""
    print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
    return EXIT_USAGE


def stdout_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it (`| head` once it has its lines): its write
    end polls as an error. True where this cannot be asked (no poll, stdout not a file)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return True


def quiet_stdout() -> int:
    """After a BrokenPipeError on stdout: what is left to print goes to the null device, so the
    interpreter's last flush raises nothing (the Python docs' way, `signal` module, "Note on
    SIGPIPE"); returns the exit code. A command prints its report after publishing its results, so
    they are whole."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a file (a test's capture): nothing will flush it at exit
    return EXIT_PIPE
