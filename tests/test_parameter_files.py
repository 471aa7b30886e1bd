"""`--parameters FILE` is checked whole before any work.

A bad parameter file (not JSON, the wrong shape, an unknown name, a value that is not a finite
number inside its documented bounds, bad draw weights, inconsistent lengths) is one line on stderr,
`error: FILE: field 'KEY': ...`, exit 2, and `--out` as it was; a valid file (the committed
posterior, `calibrated.json`, a run's own `parameters.json`) gives the same results as before.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.engine.params import CALIBRATED, Parameters
from simulation.errors import InputError
from simulation.experiments.posterior import POSTERIOR, ParameterSource, Posterior, read_parameter_file

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
COMMITTED = json.loads(POSTERIOR.read_text(encoding="utf-8"))


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "simulation", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def short(tmp: Path, name: str = "short.yaml") -> Path:
    path = tmp / name
    path.write_text(f"name: short\nextends: {BASELINE}\nperiod: {{start: 2000, end: 2024}}\n")
    return path


def user_folder(tmp: Path) -> tuple[Path, dict[str, bytes]]:
    """An --out folder holding the user's own file (and run with --force, so only validation keeps it)."""
    out = tmp / "out"
    out.mkdir()
    (out / "mine.txt").write_text("my notes\n")
    return out, snapshot(out)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_refused(done: subprocess.CompletedProcess[str], names: str, out: Path, before: dict[str, bytes]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and names in lines[0], lines[0]
    assert snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".out")) == []  # no partial folder
    return lines[0]


def posterior_with(tmp: Path, change, name: str = "p.json") -> Path:
    data = copy.deepcopy(COMMITTED)
    change(data)
    path = tmp / name
    path.write_text(json.dumps(data))  # json writes NaN and Infinity as the literals Python reads back
    return path


# ---- end to end: run and compare refuse a bad file before any work, --out untouched ----

def test_run_refuses_nan_weights_and_leaves_out_alone(tmp_path):
    def nan(d):
        d["samples"][3][5] = float("nan")
    bad = posterior_with(tmp_path, nan, "nan.json")
    out, before = user_folder(tmp_path)
    for runs in ("2", "9"):  # the few-run batch and the ensemble
        line = assert_refused(cli("run", BASELINE, "--runs", runs, "--no-plots", "--parameters", bad, "--out", out,
                                  "--force", cwd=tmp_path), "nan.json", out, before)
        assert "samples[3][5]" in line and COMMITTED["names"][5] in line


@pytest.mark.parametrize("content, where", [
    ("hello {", "notjson.json:1"),
    ("", "notjson.json:1"),
    ("[1, 2]", "notjson.json"),
    ('{"names": ["threat_weight"]}', "field 'samples'"),
])
def test_run_refuses_what_is_not_a_parameter_file(tmp_path, content, where):
    bad = tmp_path / "notjson.json"
    bad.write_text(content)
    out, before = user_folder(tmp_path)
    line = assert_refused(cli("run", BASELINE, "--runs", "2", "--no-plots", "--parameters", bad, "--out", out,
                              "--force", cwd=tmp_path), "notjson.json", out, before)
    assert where in line


def test_run_refuses_a_scenario_given_as_parameters(tmp_path):
    out, before = user_folder(tmp_path)
    line = assert_refused(cli("run", BASELINE, "--runs", "2", "--no-plots", "--parameters", BASELINE, "--out", out,
                              "--force", cwd=tmp_path), "baseline.yaml", out, before)
    assert "not valid JSON" in line


def test_compare_refuses_negative_draw_weights(tmp_path):
    def negative(d):
        d["weights"] = [-1.0] * len(d["weights"])
    bad = posterior_with(tmp_path, negative, "negw.json")
    out, before = user_folder(tmp_path)
    line = assert_refused(cli("compare", BASELINE, ROOT / "scenarios" / "us_india_ties_weaken.yaml", "--runs", "2",
                              "--parameters", bad, "--out", out, "--force", cwd=tmp_path), "negw.json", out, before)
    assert "weights[0]" in line


# ---- valid files: the same results as before ----

def test_valid_files_give_the_results_they_name(tmp_path):
    """The committed posterior by name and by path are one source; calibrated.json and a point run's
    own parameters.json are the calibrated point, to the byte."""
    scenario = short(tmp_path)

    def run(parameters: str | Path, name: str) -> Path:
        out = tmp_path / name
        done = cli("run", scenario, "--runs", "2", "--no-plots", "--parameters", parameters, "--out", out, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        return out

    def same(a: Path, b: Path) -> None:
        for name in ("alignments.csv", "threats.csv", "motives.csv", "instruments.csv", "score.json"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name

    point = run("point", "point")
    same(point, run(CALIBRATED, "calibrated"))
    same(point, run(point / "parameters.json", "again"))
    same(run("posterior", "posterior"), run(POSTERIOR, "posterior_file"))
    assert (point / "alignments.csv").read_bytes() != (tmp_path / "posterior" / "alignments.csv").read_bytes()


def test_the_committed_posterior_reads_as_written():
    post = read_parameter_file(POSTERIOR)
    assert isinstance(post, Posterior)
    assert post.names == tuple(COMMITTED["names"])
    assert np.array_equal(post.samples, np.asarray(COMMITTED["samples"], dtype=float))
    assert np.array_equal(post.weights, np.asarray(COMMITTED["weights"], dtype=float))  # not renormalized
    assert np.array_equal(post.distances, np.asarray(COMMITTED["distances"], dtype=float))


def test_a_record_is_a_point_and_its_values_are_used():
    source = ParameterSource.parse(str(CALIBRATED))
    assert source.posterior is None and source.point is not None
    base = Parameters.baseline()
    assert source.for_runs(base, [0, 1]) == base
    changed = ParameterSource(label="x", point={"threat_weight": 0.1, "inertia": 0.2})
    p = changed.for_runs(base, [0, 1], keep=("inertia",))
    assert p.threat_weight == 0.1 and p.inertia == base.inertia


def test_relative_draw_weights_are_normalized(tmp_path):
    def relative(d):
        d["weights"] = [0.0] * (len(d["weights"]) - 2) + [1.0, 3.0]
    post = Posterior.load(posterior_with(tmp_path, relative))
    assert post.weights[-2:].tolist() == [0.25, 0.75]
    assert set(post.draws_for(list(range(100)))) == {len(post.weights) - 2, len(post.weights) - 1}

    def huge(d):
        d["weights"] = [1e308] * len(d["weights"])  # each finite, their sum not
    post = Posterior.load(posterior_with(tmp_path, huge))
    assert np.allclose(post.weights, 1 / len(post.weights))


# ---- the validator, case by case ----

def _set(path: tuple, value):
    def change(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _drop(key: str):
    return lambda d: d.pop(key)


BAD_POSTERIORS = {
    "nan": (_set(("samples", 0, 0), float("nan")), "samples[0][0]"),
    "infinity": (_set(("samples", 1, 2), float("inf")), "samples[1][2]"),
    "above its bounds": (_set(("samples", 0, 0), 1e6), "samples[0][0]"),
    "below its bounds": (_set(("samples", 999, 31), -5.0), "samples[999][31]"),
    "text": (_set(("samples", 0, 1), "0.5"), "samples[0][1]"),
    "a bool": (_set(("samples", 0, 1), True), "samples[0][1]"),
    "null": (_set(("samples", 0, 1), None), "samples[0][1]"),
    "an integer too large for a float": (_set(("samples", 0, 1), 10**400), "samples[0][1]"),
    "an unknown name": (_set(("names", 0), "bogus_weight"), "names[0]"),
    "a name twice": (lambda d: d["names"].__setitem__(1, d["names"][0]), "names[1]"),
    "a name that is not text": (_set(("names", 0), 3), "names[0]"),
    "an input-stage name": (_set(("names", 0), Parameters.input_stage()[0]), "names[0]"),
    "no names": (lambda d: d.update(names=[], samples=[[] for _ in d["samples"]]), "names"),
    "a short row": (lambda d: d["samples"][4].pop(), "samples[4]"),
    "a row that is not a list": (_set(("samples", 4), 0.5), "samples[4]"),
    "fewer weights than samples": (lambda d: d.update(samples=d["samples"][:3]), "weights"),
    "no samples": (lambda d: d.update(samples=[], weights=[], distances=[]), "samples"),
    "a negative weight": (_set(("weights", 7), -0.001), "weights[7]"),
    "a NaN weight": (_set(("weights", 7), float("nan")), "weights[7]"),
    "an infinite weight": (_set(("weights", 7), float("inf")), "weights[7]"),
    "all weights zero": (lambda d: d.update(weights=[0] * len(d["weights"])), "weights"),
    "weights not a list": (_set(("weights",), 1.0), "weights"),
    "a NaN distance": (_set(("distances", 0), float("nan")), "distances[0]"),
    "fewer distances": (lambda d: d["distances"].pop(), "distances"),
    "no samples key": (_drop("samples"), "samples"),
    "no weights key": (_drop("weights"), "weights"),
    "an unknown key": (_set(("weight",), [1.0]), "weight"),
    "diagnostics not an object": (_set(("diagnostics",), []), "diagnostics"),
}


@pytest.mark.parametrize("case", sorted(BAD_POSTERIORS))
def test_a_bad_posterior_is_refused_by_key(tmp_path, case):
    change, where = BAD_POSTERIORS[case]
    path = posterior_with(tmp_path, change)
    with pytest.raises(InputError) as caught:
        read_parameter_file(path)
    assert caught.value.file == str(path) and caught.value.field == where, str(caught.value)
    with pytest.raises(InputError):
        ParameterSource.parse(str(path))


@pytest.mark.parametrize("text, field", [
    ("", None), ("hello {", None), ("null", None), ('"point"', None), ("[]", None), ("{}", None),
    ('{"parameters": {}}', "parameters"),
    ('{"parameters": [1]}', "parameters"),
    ('{"parameters": {"bogus": 1}}', "parameters.bogus"),
    ('{"parameters": {"threat_weight": NaN}}', "parameters.threat_weight"),
    ('{"parameters": {"threat_weight": -Infinity}}', "parameters.threat_weight"),
    ('{"parameters": {"threat_weight": 1e400}}', "parameters.threat_weight"),
    ('{"parameters": {"threat_weight": true}}', "parameters.threat_weight"),
    ('{"parameters": {"threat_weight": "1"}}', "parameters.threat_weight"),
    ('{"parameters": {"threat_weight": 1000}}', "parameters.threat_weight"),
    ('{"parameters": {"threat_weight": 1, "threat_weight": 2}}', None),  # a duplicate key
    (f'{{"parameters": {{"{Parameters.input_stage()[0]}": 0.01}}}}', f"parameters.{Parameters.input_stage()[0]}"),
])
def test_a_bad_file_or_record_is_refused(tmp_path, text, field):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_parameter_file(path)
    assert caught.value.file == str(path) and caught.value.field == field, str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_file_that_cannot_be_read_is_an_input_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(InputError, match="not UTF-8"):
        read_parameter_file(path)
    with pytest.raises(InputError, match="not found"):
        read_parameter_file(tmp_path / "missing.json")
    with pytest.raises(InputError, match="not a regular file"):  # a device would stream forever
        read_parameter_file(Path("/dev/zero"))


@pytest.mark.parametrize("runs", ["1", "12"])
def test_a_record_of_weights_is_what_the_run_records(tmp_path, runs):
    """A record's weights are the ones the runs use, so they are what parameters.json says ran
    (it said the calibrated ones), for a few runs and for many."""
    record = json.loads(CALIBRATED.read_text())
    record["parameters"]["threat_weight"] = 1.0
    path = tmp_path / "record.json"
    path.write_text(json.dumps({"parameters": record["parameters"]}))
    out = tmp_path / "out"
    done = cli("run", BASELINE, "--runs", runs, "--no-plots", "--parameters", path, "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = json.loads((out / "parameters.json").read_text())
    assert written["parameter_source"] == str(path) and written["parameters"]["threat_weight"] == 1.0
