"""Bad input: one line naming file, line and field; exit code 2; no traceback; nothing written to --out."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.engine.inputs import DATA_DIR, build_inputs
from simulation.errors import InputError
from simulation.experiments.scenario import load_scenario
from simulation.interfaces.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD_ROW = 'x1,1980,,aggression,IND,PAK,0.5,"seed 000 §4.1",test'


def scenario(tmp: Path, body: str = "", rows: list[str] | None = None) -> Path:
    """A scenario in tmp with its own timeline (header + the given rows)."""
    header = (DATA_DIR / "events.csv").read_text().splitlines()[0]
    (tmp / "events.csv").write_text("\n".join([header, *(rows if rows is not None else [GOOD_ROW])]) + "\n")
    path = tmp / "s.yaml"
    path.write_text("name: test\ntimeline: events.csv\n" + body)
    return path


def fails(capsys, args: list[str], out: Path, *expected: str) -> str:
    code = main(["run", *args, "--out", str(out), "--no-plots"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for text in expected:
        assert text in err, err
    assert not out.exists()
    return err


@pytest.mark.parametrize("row,expected", [
    ('x1,19x0,,aggression,IND,PAK,0.5,"seed",t', ["events.csv:2", "field 'year'", "19x0"]),
    ('x1,1980,,aggression,XYZ,PAK,0.5,"seed",t', ["events.csv:2", "field 'actor'", "unknown state code 'XYZ'"]),
    ('x1,1980,,aggression,IND,PAK,7,"seed",t', ["events.csv:2", "field 'value'", "[0, 1]"]),
    ('x1,1980,,alignment,IND,PAK,1,"seed",t', ["events.csv:2", "field 'kind'", "unknown kind 'alignment'"]),
    ('x1,1980,,aggression,IND,PAK,0.5,,t', ["events.csv:2", "field 'source'"]),
    ('x1,1980,,regime,IND,,fascism,"seed",t', ["events.csv:2", "field 'value'", "unknown regime"]),
    ('x1,1980,,aggression,IND,PAK,0.5,"seed",t,extra', ["events.csv:2", "more fields"]),
    ('x1,1980,,internal_conflict,IND,PAK,0.5,"seed",t', ["events.csv:2", "field 'target'", "takes no target"]),
    ('x1,1980,1985,regime,IND,,secular_democracy,"seed",t', ["events.csv:2", "field 'until'", "internal_conflict"]),
])
def test_malformed_timeline_row(tmp_path, capsys, row, expected):
    path = scenario(tmp_path, rows=[GOOD_ROW.replace("x1", "x0"), row])
    expected = [e.replace(":2", ":3") for e in expected]
    fails(capsys, [str(path)], tmp_path / "out", *expected)


@pytest.mark.parametrize("rows,expected", [
    # a quote left open swallowed the next events into its field (exit 0, events missing)
    ([GOOD_ROW.replace("x1", "x0"), 'y_ev,1961,,aggression,RUS,PAK,0.4,"src, and then a newline', GOOD_ROW,
      GOOD_ROW.replace("x1", "x2")], ["events.csv:3", "runs on to line", "quote left open"]),
    # a file cut inside a quoted field
    ([GOOD_ROW, 'x2,1980,,aggression,IND,PAK,0.5,"seed 000'], ["events.csv:3", "never closed"]),
    # a field holding a line break, even when its quotes are balanced
    ([GOOD_ROW, 'x2,1980,,aggression,IND,PAK,0.5,"seed\n000",t'], ["events.csv:3", "line break"]),
    ([GOOD_ROW, 'x2,1980,,aggression,IND,PAK,0.5,"seed"000,t'], ["events.csv:3", "not valid CSV"]),
])
def test_timeline_quote_left_open(tmp_path, capsys, rows, expected):
    fails(capsys, [str(scenario(tmp_path, rows=rows))], tmp_path / "out", *expected)


def test_timeline_blank_lines_and_crlf_read_as_before(tmp_path):
    """Blank lines and CRLF line ends are not fields with line breaks; the committed timeline has none."""
    from simulation.engine.inputs import regime_labels
    from simulation.engine.timeline import load_events

    text = (DATA_DIR / "events.csv").read_text()
    committed = load_events(DATA_DIR / "events.csv", regime_labels())
    assert len(committed) == text.count("\n") - 1  # one event a line, after the header
    variant = tmp_path / "events.csv"
    variant.write_bytes(text.replace("\n", "\r\n", 40).replace("\n", "\n\n", 60).encode())
    assert load_events(variant, regime_labels()) == committed


def test_duplicate_event_id(tmp_path, capsys):
    fails(capsys, [str(scenario(tmp_path, rows=[GOOD_ROW, GOOD_ROW]))], tmp_path / "out",
          "events.csv:3", "field 'id'", "duplicate")


@pytest.mark.parametrize("body,expected", [
    ("parameters:\n  inertia: 5\n", ["s.yaml:4", "parameters.inertia", "less than or equal to 0.95"]),
    ("parameters:\n  charisma: 1\n", ["s.yaml:4", "parameters.charisma", "unknown field 'charisma'", "inertia"]),
    ("period:\n  start: 1900\n", ["s.yaml:4", "period.start"]),
    ("period:\n  start: 2000\n  end: 1990\n", ["s.yaml:3", "end (1990) is before start (2000)"]),
    ("seeds: [a]\n", ["s.yaml:3", "seeds.0"]),
    ("colour: red\n", ["s.yaml:3", "colour"]),
    ("parameters: [1, 2\n", ["s.yaml", "invalid YAML"]),
    # numbers must be written as numbers: a quoted number or true is refused, not read as one
    ("parameters:\n  inertia: \"0.5\"\n", ["s.yaml:4", "parameters.inertia", "valid number"]),
    ("parameters:\n  inertia: true\n", ["s.yaml:4", "parameters.inertia", "valid number"]),
    # and why a number reached the schema as text: quoted, or an exponent YAML 1.1 reads as text
    ("parameters:\n  inertia: \"0.5\"\n", ["parameters.inertia", "'0.5' is written as text (in quotes)"]),
    ("inputs:\n  - {series: gdp, actor: IND, from: 1980, set: 1e6}\n", ["inputs.0.set", "YAML reads 1e6 as text", "1.0e+6"]),
    ("period:\n  start: 2e3\n", ["period.start", "YAML reads 2e3 as text; write the whole number in digits"]),
    ("events:\n  scale: [{id: x1, factor: \"0.5\"}]\n", ["events.scale.0.factor", "valid number"]),
    ("inputs:\n  - {series: sanction, actor: IND, target: PAK, from: 1980, set: true}\n", ["inputs.0.set", "valid number"]),
    # an input set outside its series' range is refused, not clipped
    ("inputs:\n  - {series: sanction, actor: IND, target: PAK, from: 1980, set: 7}\n", ["inputs.0.set", "within 0..1"]),
    # one file cannot both remove an event and edit it
    ("events:\n  remove: [x1]\n  scale: [{id: x1, factor: 0.5}]\n", ["events.scale.0.id", "removed by this scenario"]),
    ("events:\n  remove: [x1]\n  move: [{id: x1, by: 1}]\n", ["events.move.0.id", "removed by this scenario"]),
    # nor add an event and remove it (the add was dropped unseen)
    ("events:\n  add: [{id: y1, year: 1980, kind: aggression, actor: IND, target: PAK, value: 0.5, source: s}]\n"
     "  remove: [y1]\n", ["s.yaml:5", "events.remove.0", "added by this scenario"]),
    # an added event's number written as text, or lasting past the period
    ("events:\n  add: [{id: y1, year: 1980, kind: aggression, actor: IND, target: PAK, value: '0.5', source: s}]\n",
     ["events.add.0.value", "written as one"]),
    ("events:\n  add: [{id: y1, year: 1980, until: 2090, kind: internal_conflict, actor: IND, value: 0.5, source: s}]\n",
     ["events.add.0.until", "after the period's end"]),
    # a set near the largest float, then scaled: refused rather than run on infinity
    ("inputs:\n  - {series: gdp, actor: IND, from: 1980, set: 1.0e+11}\n  - {series: gdp, actor: IND, from: 1980, scale: 100}\n",
     ["inputs.1", "beyond any economy"]),
    # the Python name of a field is not a key of the file
    ("inputs:\n  - {series: gdp, actor: IND, from_: 1980, scale: 2}\n", ["inputs.0", "from"]),
    ("inputs:\n  - {series: sanction, actor: IND, target: PAK, from: 1980, set: 1.0000001}\n", ["set 1.0000001"]),
    # growth scales the change since a base that must be positive (a zero base wiped the series out)
    ("inputs:\n  - {series: nuclear, actor: CHN, from: 1947, growth: 1.0}\n", ["inputs.0.growth", "above 0 in 1947"]),
    # a GDP of 0 (set, scaled, or too small to hold) ran on a GDP of 1e-9, clamped without a word:
    # the rules divide by GDP, so it must stay above 0
    ("inputs:\n  - {series: gdp, actor: IND, from: 1980, set: 0}\n", ["s.yaml:4", "field 'inputs.0.set'",
                                                                       "set 0 is outside the range of gdp (above 0)"]),
    ("inputs:\n  - {series: gdp_per_capita, actor: IND, from: 1980, set: -5}\n",
     ["s.yaml:4", "field 'inputs.0.set'", "(above 0)"]),
    ("inputs:\n  - {series: gdp, actor: IND, from: 1980, scale: 0}\n",
     ["s.yaml:4", "field 'inputs.0.scale'", "makes gdp 0", "above 0"]),
    ("inputs:\n  - {series: gdp, actor: IND, from: 1980, set: 1.0e-300}\n  - {series: gdp, actor: IND, from: 1980, "
     "scale: 1.0e-30}\n", ["s.yaml:5", "field 'inputs.1'", "makes gdp 0", "above 0"]),
    # a GDP beyond any economy overflowed the rules' sums of GDPs
    ("inputs:\n  - {series: gdp, actor: USA, from: 1980, set: 1.0e+308}\n", ["inputs.0", "beyond any economy"]),
    # the same seed twice would count one run twice
    ("seeds: [3, 3]\n", ["s.yaml:3", "seeds", "lists seed 3 twice"]),
    # at the second listing's line, naming the first's, as the lists of edits are (it was the key's line)
    ("seeds:\n  - 3\n  - 4\n  - 3\n", ["s.yaml:6", "field 'seeds.2'", "lists seed 3 twice (first given on line 4)"]),
    # the same event removed twice in one list was accepted without a word (a slip for another id?)
    ("events:\n  remove: [x1, x1]\n", ["s.yaml:4", "field 'events.remove.1'", "lists event id 'x1' twice"]),
    # nor scaled twice: the factors were multiplied without a word
    ("events:\n  scale:\n    - {id: x1, factor: 0.5}\n    - {id: x1, factor: 0.5}\n",
     ["s.yaml:6", "field 'events.scale.1.id'", "lists event id 'x1' twice (first given on line 5)"]),
    # nor moved twice: the moves were added up
    ("events:\n  move:\n    - {id: x1, by: 1}\n    - {id: x1, to: 1990}\n",
     ["s.yaml:6", "field 'events.move.1.id'", "lists event id 'x1' twice (first given on line 5)"]),
    # nor added twice (it was said to exist already "in the timeline", which has no such event)
    ("events:\n  add:\n    - {id: y1, year: 1980, kind: aggression, actor: IND, target: PAK, value: 0.5, source: s}\n"
     "    - {id: y1, year: 1981, kind: aggression, actor: IND, target: PAK, value: 0.5, source: s}\n",
     ["s.yaml:6", "field 'events.add.1.id'", "lists event id 'y1' twice (first given on line 5)"]),
    # nor the same input edit twice: a second set of the same cells lost the first without a word
    # (an edit to the period's end is one without an end)
    ("inputs:\n  - {series: sanction, actor: IND, target: PAK, from: 1980, set: 0.5}\n"
     "  - {series: sanction, actor: IND, target: PAK, from: 1980, until: 2024, set: 0.2}\n",
     ["s.yaml:5", "field 'inputs.1'",
      "lists a set of sanction for IND towards PAK from 1980 until 2024 twice (first given on line 4)"]),
])
def test_malformed_scenario(tmp_path, capsys, body, expected):
    fails(capsys, [str(scenario(tmp_path, body))], tmp_path / "out", *expected)


def test_timeline_not_utf8_and_files_that_are_not_files(tmp_path, capsys):
    """A timeline saved as Latin-1 names its line; a device (it would stream forever) is refused unread."""
    path = scenario(tmp_path, rows=[GOOD_ROW, GOOD_ROW.replace("x1", "x2").replace("test", "Herat")])
    timeline = tmp_path / "events.csv"
    timeline.write_bytes(timeline.read_bytes().replace(b"Herat", "Hérat".encode("latin-1")))
    fails(capsys, [str(path)], tmp_path / "out", "events.csv:3", "not UTF-8")
    path.write_text("name: test\ntimeline: /dev/zero\n")
    fails(capsys, [str(path)], tmp_path / "out", "/dev/zero", "not a regular file")
    fails(capsys, ["/dev/zero"], tmp_path / "out", "/dev/zero", "not a regular file")


def test_missing_scenario_and_missing_timeline(tmp_path, capsys):
    fails(capsys, [str(tmp_path / "nope.yaml")], tmp_path / "out", "nope.yaml", "not found")
    path = tmp_path / "s.yaml"
    path.write_text("name: t\ntimeline: missing.csv\n")
    fails(capsys, [str(path)], tmp_path / "out", "s.yaml:2", "field 'timeline'", "missing.csv")


def test_scenario_and_sweep_readers_share_the_words_for_a_file_that_cannot_be_opened(tmp_path):
    """`errors.unreadable` says why a named file cannot be opened; the readers that name one (a
    scenario's `extends`, a sweep spec's `scenario`) compose their messages from it, as they read."""
    from simulation.errors import NOT_FOUND, unreadable

    (tmp_path / "loop_a").symlink_to("loop_b")
    (tmp_path / "loop_b").symlink_to("loop_a")
    (tmp_path / "here.yaml").write_text("name: here\n")
    loop = "cannot be read (Too many levels of symbolic links)"
    assert unreadable(tmp_path / "here.yaml") is None
    assert unreadable(tmp_path / "nowhere.yaml") == NOT_FOUND == "does not exist"
    assert unreadable(tmp_path / "nowhere.yaml", absent="not found") == "not found"
    assert unreadable(tmp_path / "loop_a") == unreadable(tmp_path / "loop_a", absent="not found") == loop
    for target, words in (("nowhere.yaml", "does not exist"), ("loop_a", loop)):
        (tmp_path / "c.yaml").write_text(f"name: c\nextends: {target}\n")
        with pytest.raises(InputError, match=re.escape(f"c.yaml:2: field 'extends': extends {target!r}, which {words}")):
            load_scenario(tmp_path / "c.yaml")
    from simulation.experiments import sweep

    for target, words in (("nowhere.yaml", "not found"), ("loop_a", loop)):
        (tmp_path / "spec.yaml").write_text(f"name: t\nscenario: {target}\ndesign: latin\nsamples: 4\n"
                                            "parameters: {inertia: [0.3, 0.9]}\noutputs: [{name: s, kind: score}]\n")
        with pytest.raises(InputError, match=re.escape(f"spec.yaml:2: field 'scenario': scenario {target!r} {words}")):
            sweep.load_spec(tmp_path / "spec.yaml")


def test_missing_data_file_names_it(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "nmc_six.csv").unlink()
    with pytest.raises(InputError, match=r"nmc_six\.csv: data file not found"):
        build_inputs(1947, 2024, data_dir=data)


def test_data_file_missing_a_column(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "nmc_six.csv").write_text("ccode,year,milex\n2,1947,1\n")
    with pytest.raises(InputError, match=r"nmc_six\.csv:1: field 'cinc': missing column"):
        build_inputs(1947, 2024, data_dir=data)


def test_failed_run_leaves_existing_out_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "alignments.csv").write_text("previous results\n")
    path = scenario(tmp_path, rows=['x1,1980,,aggression,IND,ZZZ,0.5,"s",t'])
    assert main(["run", str(path), "--out", str(out), "--no-plots"]) == 2
    assert [p.name for p in out.iterdir()] == ["alignments.csv"]
    assert (out / "alignments.csv").read_text() == "previous results\n"


@pytest.mark.slow
def test_process_level_error_has_no_traceback(tmp_path):
    path = scenario(tmp_path, rows=['x1,1980,,aggression,IND,PAK,0.5,"s",t', 'x2,1980,,aggression,USA,ATL,1,"s",t'])
    proc = subprocess.run([sys.executable, "-m", "simulation", "run", str(path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: ") and "Traceback" not in proc.stderr
    assert "events.csv:3: field 'target': unknown state code 'ATL'" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_bad_arguments_exit_2(capsys):
    assert main(["run"]) == 2
    assert main(["run", str(ROOT / "scenarios/baseline.yaml"), "--runs", "0", "--out", "/tmp/never"]) == 2
