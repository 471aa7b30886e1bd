"""The committed notebooks are what notebooks/build_notebooks.py writes: nobody edits one by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def cells(path: Path) -> list[tuple[str, str, list[str]]]:
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, list(c.metadata.get("tags", []))) for c in nb.cells]


def test_rebuilding_the_notebooks_reproduces_the_committed_ones(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "notebooks" / "build_notebooks.py")], check=True, cwd=ROOT,
                   env={**os.environ, "NOTEBOOKS_OUT": str(tmp_path)})
    built = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    committed = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert built == committed and built
    for name in built:
        assert cells(tmp_path / name) == cells(ROOT / "notebooks" / name), f"{name} differs from its source"
