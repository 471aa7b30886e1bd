"""The teaching notebooks run top to bottom, and show what they say they show: figures that are real
PNG images of a readable size, an explanation whose parts add up, and Sobol indices stable enough
to teach with (each outcome has a driver among its top three whose interval excludes 0, and the
notebook says so when the largest index's interval does not), whatever the calibration ranks first."""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_three_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03"]


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=lambda p: p.stem)
def executed(request):
    path = request.param
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return path.stem, nb


def _png_size(data: str) -> tuple[int, int]:
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", raw[16:24])


def _tagged(nb, tag: str):
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert cells, f"no cell tagged {tag!r}"
    return cells[0].outputs


def _text(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def _images(outputs) -> list[tuple[int, int]]:
    return [_png_size(o.data["image/png"]) for o in outputs if "image/png" in o.get("data", {})]


@pytest.mark.slow
def test_notebook_runs_and_shows_what_it_says(executed):
    name, nb = executed
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    sizes = _images(outputs)
    assert sizes and all(w >= 400 and h >= 200 for w, h in sizes), sizes  # every figure is a real image
    if name.startswith("01"):
        (w, _), = _images(_tagged(nb, "network"))  # the network figure displays (it did not under Agg)
        assert w >= 900
        text = _text(_tagged(nb, "explain"))
        parts, change = re.search(r"sum of the parts: (-?[\d.]+)\s+change: (-?[\d.]+)", text).groups()
        assert float(parts) == pytest.approx(float(change), abs=1e-6) and float(change) > 0.3
        assert "external balancing" in text and _images(_tagged(nb, "explain"))
    if name.startswith("02"):
        assert "threat" in _text(_tagged(nb, "explain")) and _images(_tagged(nb, "explain"))
        drawn = "".join(o.get("data", {}).get("text/plain", "") for o in _tagged(nb, "posterior"))
        assert "robust" in drawn and "True" in drawn  # effects under posterior draws, some robust
        by_theory = "".join(o.get("data", {}).get("text/plain", "") for o in _tagged(nb, "theories"))
        assert "depends_on_theory" in by_theory
    if name.startswith("03"):
        text = _text(_tagged(nb, "top"))
        weights = nb.cells[2].outputs[0].text  # the weights varied (printed first)
        tops = re.findall(r"^TOP (\S+) (\S+) ([\d.]+) ([\d.]+)$", text, flags=re.M)
        resolved = {m[0]: m[1:] for m in re.findall(r"^RESOLVED (\S+) (\S+) ([\d.]+) ([\d.]+) (\d+)$", text, flags=re.M)}
        assert {t[0] for t in tops} == set(resolved) == {"rus_pak_2020", "usa_ind_2015"}
        for output, parameter, st, conf in tops:
            assert parameter in weights
            if float(st) - float(conf) <= 0.0:  # the largest index is not told apart from 0, and the notebook says so
                assert f"{output}: the largest index, {parameter}, is not told apart from 0" in text
            best, best_st, best_conf, rank = resolved[output]
            assert best in weights and float(best_st) - float(best_conf) > 0.0  # a driver whose interval excludes 0
            assert 1 <= int(rank) <= 3 and (int(rank) == 1) == (best == parameter)  # among the top three
        assert "balancing_weight" in weights  # external balancing is among the weights
        (w, _), = _images(_tagged(nb, "figure"))
        assert w >= 900
