"""The machine a benchmark ran on, printed beside every absolute figure (ratios travel, seconds do not)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np


def describe() -> str:
    """One line: CPU model, cores available to this process, Python and numpy versions."""
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {cores} core(s), Python {platform.python_version()}, numpy {np.__version__}"
