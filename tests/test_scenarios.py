"""Scenario files and counterfactuals: every library scenario runs, counterfactuals change what
the rules say they should, and malformed files give one clean error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.errors import InputError
from simulation.experiments.compare import alignment_differences, run_comparison
from simulation.experiments.scenario import load_scenario, scenario_events, scenario_inputs
from simulation.interfaces.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def test_the_library_has_the_scenarios_the_card_asks_for():
    names = {p.stem for p in SCENARIOS}
    assert {"baseline", "us_india_ties_weaken", "no_soviet_invasion_of_afghanistan", "no_9_11", "no_cpec",
            "russia_keeps_arms_embargo_on_pakistan", "no_us_withdrawal_2021", "no_sino_soviet_split"} <= names
    for path in SCENARIOS:
        scenario, _ = load_scenario(path)
        assert len(scenario.description.split()) >= 20, f"{path.name} needs a paragraph saying what it asks"


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_runs_from_the_cli(path, tmp_path, capsys):
    out = tmp_path / path.stem
    assert main(["run", str(path), "--seed", "1", "--out", str(out), "--no-plots"]) == 0
    frame = pd.read_csv(out / "alignments.csv")
    assert len(frame) == 78 * 15 and frame.alignment.between(-1, 1).all()


def test_extends_inherits_and_overrides(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"name: child\nextends: {BASELINE}\nseeds: [3, 4]\nparameters:\n  inertia: 0.5\n")
    scenario, _ = load_scenario(child)
    assert scenario.seeds == [3, 4] and scenario.period.start == 1947 and scenario.parameters["inertia"] == 0.5
    grandchild = tmp_path / "grandchild.yaml"
    grandchild.write_text("name: g\nextends: child.yaml\nevents:\n  remove: [galwan]\n")
    scenario, _ = load_scenario(grandchild)
    assert scenario.parameters["inertia"] == 0.5 and "galwan" not in {e.id for e in scenario_events(scenario)}


def test_event_edits_and_input_edits_change_inputs(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"""name: s
extends: {BASELINE}
events:
  move: [{{id: soviet_invasion, by: 3}}]
  scale: [{{id: glenn_sanctions_pak, factor: 0.5}}]
  add: [{{id: extra, year: 1990, kind: aggression, actor: CHN, target: IND, value: 0.7, source: test}}]
inputs:
  - {{series: capability, actor: CHN, from: 1980, growth: 0.5}}
""")
    scenario, _ = load_scenario(path)
    events = {e.id: e for e in scenario_events(scenario)}
    assert events["soviet_invasion"].year == 1982 and events["glenn_sanctions_pak"].value == 0.25
    inputs, _ = scenario_inputs(scenario)
    base, _ = scenario_inputs(load_scenario(BASELINE)[0])
    chn, t = 1, 2020 - 1947
    assert inputs.capability[t, chn] < base.capability[t, chn]
    assert inputs.capability[1979 - 1947, chn] == base.capability[1979 - 1947, chn]
    assert inputs.acts[1990 - 1947, chn, 2] >= 0.7
    assert inputs.mandate[2000 - 1947, 5, 3] == 0.25


def test_a_scenario_edits_internal_threat(tmp_path):
    """The series is editable like any per-state input, and its events can be removed or scaled:
    removing a conflict leaves the state's other conflicts that year (the highest still holds)."""
    path = tmp_path / "s.yaml"
    path.write_text(f"""name: s
extends: {BASELINE}
events:
  remove: [ind_kashmir_2002]
  scale: [{{id: rus_chechnya_1995, factor: 0.5}}]
inputs:
  - {{series: internal_threat, actor: USA, from: 1968, until: 1970, set: 0.5}}
""")
    inputs, _ = scenario_inputs(load_scenario(path)[0])
    base, _ = scenario_inputs(load_scenario(BASELINE)[0])
    usa, ind, rus = 5, 2, 4
    assert base.internal_threat[2003 - 1947, ind] == 1.0 and inputs.internal_threat[2003 - 1947, ind] == 0.5
    assert base.internal_threat[1995 - 1947, rus] == 1.0 and inputs.internal_threat[1995 - 1947, rus] == 0.5
    assert inputs.internal_threat[1968 - 1947: 1971 - 1947, usa].tolist() == [0.5, 0.5, 0.5]
    assert inputs.internal_threat[1971 - 1947, usa] == 0.0 and not base.internal_threat[:, usa].any()


@pytest.mark.slow
def test_us_india_counterfactual_lowers_us_india_alignment_after_2005(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(BASELINE), str(ROOT / "scenarios/us_india_ties_weaken.yaml"),
                 "--runs", "30", "--out", str(out)]) == 0
    diffs = pd.read_csv(out / "alignment_difference.csv")
    us_india = diffs[(diffs.a == "IND") & (diffs.b == "USA")]
    after = us_india[us_india.year > 2006]
    assert (after.ci_high < 0).all() and after.clear.all()  # lower, with the interval below zero
    assert (us_india[us_india.year < 2005].difference == 0).all()  # nothing changes before the edit
    divergence = pd.read_csv(out / "divergence.csv")
    row = divergence[(divergence.a == "IND") & (divergence.b == "USA")].iloc[0]
    # a cut made in 2005 is felt in the next year's perceptions (instruments feed back a year later)
    assert row.first_year == 2006 and row.largest_difference < 0
    assert (out / "comparison.png").stat().st_size > 10_000
    assert "India–United States: cooler" in (out / "summary.md").read_text()


@pytest.mark.slow
def test_no_soviet_invasion_lowers_pakistans_threat_and_the_us_frontline_alignment(tmp_path):
    """The causal chain the rules claim: no invasion -> less Soviet threat to Pakistan in the 1980s
    -> less reason for the US-Pakistan alignment."""
    base, cf = tmp_path / "base", tmp_path / "cf"
    for scenario, out in ((BASELINE, base), (ROOT / "scenarios/no_soviet_invasion_of_afghanistan.yaml", cf)):
        assert main(["run", str(scenario), "--runs", "10", "--out", str(out), "--no-plots"]) == 0

    def eighties(folder: Path, file: str, query: str, column: str) -> float:
        frame = pd.read_csv(folder / file).query(query)
        return float(frame[frame.year.between(1980, 1988)][column].mean())

    threat = "i == 'PAK' and j == 'RUS'"
    assert eighties(cf, "threats.csv", threat, "threat") < eighties(base, "threats.csv", threat, "threat") - 0.05
    us_pak = "a == 'PAK' and b == 'USA'"
    assert eighties(cf, "alignments.csv", us_pak, "alignment") < eighties(base, "alignments.csv", us_pak, "alignment")


def test_paired_runs_of_identical_scenarios_do_not_differ():
    scenario, _ = load_scenario(BASELINE)
    result = run_comparison(scenario, scenario, runs=5)
    assert (alignment_differences(result).difference == 0).all()


BAD = [
    ("events:\n  remove: [no_such_event]\n", "events.remove.0", "unknown event id 'no_such_event'", 4),
    # the second listing is named, with the line of the first
    ("events:\n  remove:\n    - galwan\n    - galwan\n", "events.remove.1",
     "lists event id 'galwan' twice (first given on line 5)", 6),
    # a second scale of the same event multiplied the factors without a word (galwan 0.6 became 0.15)
    ("events:\n  scale:\n    - {id: galwan, factor: 0.5}\n    - {id: galwan, factor: 0.5}\n", "events.scale.1.id",
     "lists event id 'galwan' twice (first given on line 5)", 6),
    ("events:\n  move: [{id: ghost, to: 1980}]\n", "events.move.0.id", "unknown event id 'ghost'", 4),
    # a second move of the same event added the moves up without a word
    ("events:\n  move:\n    - {id: cpec, by: 1}\n    - {id: cpec, by: 1}\n", "events.move.1.id",
     "lists event id 'cpec' twice (first given on line 5)", 6),
    ("inputs:\n  - {series: sanction, actor: USA, target: XYZ, from: 2005, set: 0.7}\n",
     "inputs.0.target", "unknown state code 'XYZ'", 4),
    ("inputs:\n  - {series: sanction, actor: USA, target: IND, from: 2030, set: 0.7}\n",
     "inputs.0.from", "outside the period", 4),
    ("events:\n  move: [{id: cpec, to: 1900}]\n", "events.move.0.to", "outside the period", 4),
    ("events:\n  add: [{id: x, year: 2030, kind: aggression, actor: CHN, target: IND, value: 1, source: s}]\n",
     "events.add.0.year", "outside the period", 4),
    ("events:\n  add: [{id: x, year: 2000, kind: aggression, actor: ZZZ, target: IND, value: 1, source: s}]\n",
     "events.add.0.actor", "unknown state code 'ZZZ'", 4),
    # an id added twice in one file was said to exist "in the timeline"; one that does is still said to
    ("events:\n  add:\n    - {id: x, year: 2000, kind: aggression, actor: CHN, target: IND, value: 1, source: s}\n"
     "    - {id: x, year: 2001, kind: aggression, actor: CHN, target: IND, value: 1, source: s}\n",
     "events.add.1.id", "lists event id 'x' twice (first given on line 5)", 6),
    ("events:\n  add: [{id: galwan, year: 2000, kind: aggression, actor: CHN, target: IND, value: 1, source: s}]\n",
     "events.add.0.id", "event id 'galwan' already exists in the timeline", 4),
    # the same edit of the same cells twice: two scales were multiplied (two sets: the first was lost)
    ("inputs:\n  - {series: gdp, actor: IND, from: 1990, scale: 2}\n  - {series: gdp, actor: IND, from: 1990, scale: 1.5}\n",
     "inputs.1", "lists a scale of gdp for IND from 1990 until 2024 twice (first given on line 4)", 5),
    ("parameters:\n  inertia: high\n", "parameters.inertia", "valid number", 4),
    ("inputs:\n  - {series: sanction, actor: USA, target: IND, from: 2005, set: 0.7, scale: 2}\n",
     "inputs.0", "exactly one of", 4),
    ("inputs:\n  - {series: alignment, actor: USA, target: IND, from: 2005, set: 1}\n",
     "inputs.0.series", "Input should be", 4),
]


@pytest.mark.parametrize("body,field,message,line", BAD, ids=[b[1] + ":" + b[2][:20] for b in BAD])
def test_scenario_errors_name_file_line_and_field(tmp_path, capsys, body, field, message, line):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nextends: {BASELINE}\n{body}")
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plots"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"bad.yaml:{line}: field '{field}'" in err and message in err, err
    assert not (tmp_path / "out").exists()


def test_input_edits_of_one_series_may_compose(tmp_path):
    """Only the same operation on the same cells from the same year to the same year is a slip: a set
    then a scale, a second set from a later year, or a set of part of the span are meant."""
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nextends: {BASELINE}\ninputs:\n"
                    "  - {series: sanction, actor: USA, target: IND, from: 2005, set: 0.5}\n"
                    "  - {series: sanction, actor: USA, target: IND, from: 2005, scale: 0.5}\n"
                    "  - {series: sanction, actor: USA, target: IND, from: 2010, set: 0.2}\n"
                    "  - {series: sanction, actor: USA, target: IND, from: 2005, until: 2008, set: 0.9}\n"
                    "  - {series: sanction, actor: IND, target: USA, from: 2005, set: 0.5}\n")
    scenario, _ = load_scenario(path)
    assert len(scenario.input_edits) == 5


def test_missing_extends_and_cycles(tmp_path, capsys):
    missing = tmp_path / "m.yaml"
    missing.write_text("name: m\nextends: nowhere.yaml\n")
    with pytest.raises(InputError, match=r"m\.yaml:2: field 'extends': extends 'nowhere.yaml', which does not exist"):
        load_scenario(missing)
    (tmp_path / "a.yaml").write_text("name: a\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("name: b\n\nextends: a.yaml\n")
    with pytest.raises(InputError, match=r"b\.yaml:3: field 'extends': 'extends' makes a cycle: a.yaml -> b.yaml -> a.yaml"):
        load_scenario(tmp_path / "a.yaml")


def test_a_child_may_remove_what_its_parent_adds_but_not_the_other_way(tmp_path):
    """A parent's remove of what only its child adds dropped the child's event unseen, exit 0."""
    add = "events:\n  add: [{id: y1, year: 1980, kind: aggression, actor: IND, target: PAK, value: 0.5, source: s}]\n"
    (tmp_path / "p.yaml").write_text(f"name: p\nextends: {BASELINE}\nevents:\n  remove: [y1]\n")
    (tmp_path / "c.yaml").write_text(f"name: c\nextends: p.yaml\n{add}")
    with pytest.raises(InputError, match=r"p\.yaml:4: field 'events.remove.0': unknown event id 'y1' \(only .*c\.yaml"):
        scenario_events(load_scenario(tmp_path / "c.yaml")[0])
    (tmp_path / "p.yaml").write_text(f"name: p\nextends: {BASELINE}\n{add}")
    (tmp_path / "c.yaml").write_text("name: c\nextends: p.yaml\nevents:\n  remove: [y1]\n")
    assert "y1" not in {e.id for e in scenario_events(load_scenario(tmp_path / "c.yaml")[0])}


def test_an_id_a_parent_adds_is_not_said_to_be_in_the_timeline(tmp_path):
    """A child adding an id its parent adds was told the id "already exists in the timeline", which has
    no such event."""
    add = "events:\n  add: [{id: y1, year: 1980, kind: aggression, actor: IND, target: PAK, value: 0.5, source: s}]\n"
    (tmp_path / "p.yaml").write_text(f"name: p\nextends: {BASELINE}\n{add}")
    (tmp_path / "c.yaml").write_text(f"name: c\nextends: p.yaml\n{add}")
    with pytest.raises(InputError, match=r"c\.yaml:4: field 'events.add.0.id': event id 'y1' is already added by "
                                         r".*p\.yaml, which this scenario extends$"):
        scenario_events(load_scenario(tmp_path / "c.yaml")[0])


def test_a_parents_edit_outside_a_childs_period_names_the_file_setting_it(tmp_path):
    """The error pointed at the committed parent only; the period that leaves its edit out is the child's."""
    child = tmp_path / "c.yaml"
    child.write_text(f"name: c\nextends: {ROOT / 'scenarios/china_grows_half_as_fast.yaml'}\n"
                     "period: {start: 2000, end: 2024}\n")
    with pytest.raises(InputError, match=r"china_grows_half_as_fast\.yaml:\d+: field 'inputs.0.from': year 1978 is "
                                         r"outside the period 2000-2024 \(set by .*c\.yaml\)"):
        load_scenario(child)


def test_aliases_are_refused(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("name: b\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n")
    with pytest.raises(InputError, match="anchors and aliases"):
        load_scenario(bomb)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(["name", "description", "extends", "period", "seeds", "parameters", "timeline",
                        "events", "inputs", "start", "end", "remove", "add", "move", "scale", "series",
                        "actor", "target", "from", "set", "inertia", "id", "year", "kind", "value"])
scenario_like = st.dictionaries(keys, yaml_values | st.dictionaries(keys, yaml_values, max_size=4), max_size=6)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=scenario_like)
def test_fuzzed_structured_yaml_gives_a_scenario_or_a_clean_error(tmp_path, document):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    try:
        scenario, _ = load_scenario(path)
        scenario_events(scenario)
    except InputError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
       | st.binary(max_size=120).map(lambda b: b.decode("latin-1")))
def test_fuzzed_raw_text_gives_a_scenario_or_a_clean_error(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    try:
        load_scenario(path)
    except InputError as exc:
        assert "\n" not in str(exc)


@pytest.mark.slow
def test_deeply_nested_yaml_is_a_clean_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nparameters: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError):
        load_scenario(path)
