"""The command line's contract (issue 14), driven as a new user would drive it.

Every case ends either with exit 0 and correct output, or with exit 2 and one line, `error: ...`,
naming the file, line or argument: never a traceback, never a half-written or mixed folder, never
a pre-existing file lost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.interfaces import output
from simulation.interfaces.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios/baseline.yaml"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) and its bytes; {} if it does not exist."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(capsys, argv: list[str], *mentions: str, watch: Path | None = None) -> str:
    """Run the CLI, expecting exit 2 with one line naming what is wrong, and `watch` unchanged."""
    before = snapshot(watch) if watch is not None else None
    code = main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, (code, err)
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err, err
    for text in mentions:
        assert text in err, err
    if watch is not None:
        assert snapshot(watch) == before, "the folder changed"
        assert not [p for p in watch.parent.iterdir() if ".partial-" in p.name or ".old-" in p.name]
    return err


def short(tmp: Path, body: str = "", name: str = "s.yaml") -> Path:
    """A scenario extending the baseline over 2000-2024 (fast), with `body` appended."""
    path = tmp / name
    path.write_text(f"name: short\nextends: {BASELINE}\nperiod: {{start: 2000, end: 2024}}\n{body}")
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """One finished `run` (3 seeds, 2000-2024), shared by the score cases."""
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["run", str(short(out.parent)), "--runs", "3", "--out", str(out), "--no-plots"]) == 0
    return out


# ---- arguments: one line naming the argument, exit 2, nothing written ----

@pytest.mark.parametrize("extra,mention", [
    (["--seed", str(2**63)], "--seed"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--runs", "0"], "--runs"),
    (["--runs", str(10**9)], "--runs"),
    (["--seed", str(2**63 - 1), "--runs", "20"], "field '--seed'"),  # the seed is at fault, not --runs
    (["--seed", str(2**63 - 1), "--runs", "2"], f"--seed may be at most {2**63 - 2}"),
    (["--full"], "--full"),
])
def test_run_arguments(tmp_path, capsys, extra, mention):
    out = tmp_path / "out"
    refused(capsys, ["run", str(short(tmp_path)), "--out", str(out), "--no-plots", *extra], mention, watch=out)
    assert not out.exists()


@pytest.mark.parametrize("argv,mention", [
    (["run", str(BASELINE), "--out", ""], "--out"),
    (["compare", str(BASELINE), str(BASELINE), "--first-seed", "-5", "--out", "o"], "--first-seed"),
    (["compare", str(BASELINE), str(BASELINE), "--runs", "1", "--out", "o"], "--runs"),
    (["compare", str(BASELINE), str(BASELINE), "--runs", "2", "--first-seed", str(2**63 - 1), "--out", "o"],
     "field '--first-seed'"),
    (["sweep", "spec.yaml", "--out", "o", "--scheduler", "not a url"], "--scheduler"),
    (["sweep", "spec.yaml", "--out", "o", "--workers", "0"], "--workers"),
    (["sweep", "spec.yaml", "--out", "o", "--resume", "--force"], "not allowed with argument --resume"),
    (["app", "--port", "99999"], "--port"),
    (["calibrate", "--out", "o", "--workers", "0"], "--workers"),
    (["calibrate", "--out", "o", "--objective-seeds", "0"], "--objective-seeds"),
    (["calibrate", "--out", "o", "--fit-until", "1800"], "--fit-until"),
    (["calibrate", "--out", "o", "--optimizer", "nelder-mead"], "--optimizer"),
    (["calibrate", "--out", "o", "--penalty", "nan"], "--penalty"),
    (["calibrate", "--out", "o", "--penalty", "-1"], "--penalty"),
    # validation lists: whole numbers in range, at least one (these failed inside the fits, or ran hours)
    (["calibrate", "--out", "o", "--budget-spread", "1", "--spread-seeds", "-1"], "--spread-seeds"),
    (["calibrate", "--out", "o", "--budget-spread", "1", "--spread-seeds", ""], "--spread-seeds"),
    (["calibrate", "--out", "o", "--budget-spread", "1000000000"], "--budget-spread"),
    (["calibrate", "--out", "o", "--budget-spread", "40", "--spread-seeds", str(2**40)], "--spread-seeds"),
    (["calibrate", "--out", "o", "--rolling-origin", ","], "--rolling-origin"),
    (["calibrate", "--out", "o", "--rolling-origin", "1900"], "--rolling-origin"),
    (["calibrate", "--out", "o", "--budget-spread", "4x"], "--budget-spread"),
    (["calibrate", "--out", "o", "--rolling-origin", "1950,"], "--rolling-origin"),
    (["calibrate", "--out", "o", "--rolling-origin", "1_970"], "--rolling-origin"),
    (["run", str(BASELINE), "--out", "o", "--runs", "1_000"], "--runs"),
    (["calibrate", "--out", "o", "--budget-spread", "40,40"], "twice"),
    # the committed baseline holds every variant's fit: no --write-baseline without --ablation, nor with a validation
    (["calibrate", "--out", "o", "--write-baseline"], "--ablation"),
    (["calibrate", "--out", "o", "--ablation", "--write-baseline", "--rolling-origin", "1970"], "--write-baseline"),
    # seeds of a budget spread without the spread: refused, not silently a full calibration
    (["calibrate", "--out", "o", "--spread-seeds", "1"], "--budget-spread"),
    # flags the chosen fits do not use: refused, not silently ignored
    (["calibrate", "--out", "o", "--ablation-generations", "5"], "field '--ablation-generations'"),
    (["calibrate", "--out", "o", "--rolling-origin", "1970", "--ablation"], "field '--ablation'"),
    (["calibrate", "--out", "o", "--leave-one-pair-out", "--warm-start"], "field '--warm-start'"),
    (["score", "somewhere", "--split-year", "1800"], "--split-year"),
    (["run"], "required"),
    (["fly"], "invalid choice"),
])
def test_argument_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, mention):
    monkeypatch.chdir(tmp_path)
    refused(capsys, argv, mention)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["explain", str(BASELINE), "--pair", "USA", "PAK", "--from", "2000", "--to", "2001", "--runs", "1", "--force"],
    ["score", "somewhere", "--no-baselines", "--force"],
])
def test_force_without_out_is_refused(tmp_path, capsys, monkeypatch, argv):
    """--force replaces --out, which these commands write only when asked: without --out it did
    nothing, and explain ran with exit 0 as if it meant something."""
    monkeypatch.chdir(tmp_path)
    refused(capsys, argv, "field '--force'", "--out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sweep_refuses_workers_with_a_scheduler(tmp_path, capsys, monkeypatch, workers):
    """The help said the scheduler overrides --workers, and giving both was accepted without a word
    (--workers 1 too: it is the default's value); refused before the spec is read."""
    monkeypatch.chdir(tmp_path)
    for argv in (["--workers", workers, "--scheduler", "tcp://127.0.0.1:8786"],
                 ["--scheduler", "tcp://127.0.0.1:8786", "--workers", workers]):
        refused(capsys, ["sweep", "spec.yaml", "--out", "o", *argv], "--workers", "--scheduler", "not allowed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("window,blamed", [(("1999", "2010"), "--from"), (("2005", "2024"), "--to"),
                                           (("2010", "2005"), "--from")])
def test_explain_blames_the_year_outside_the_scenarios_period(tmp_path, capsys, window, blamed):
    """A --to past the period's end was blamed on --from."""
    path = tmp_path / "s.yaml"
    path.write_text(f"name: short\nextends: {BASELINE}\nperiod: {{start: 2000, end: 2020}}\n")
    refused(capsys, ["explain", str(path), "--pair", "USA", "PAK", "--from", window[0], "--to", window[1]],
            f"field '{blamed}'", "2000 <= from < to <= 2020")


# ---- scenario files: wrong answers that used to run with exit 0 ----

@pytest.mark.parametrize("body,mentions", [
    ("inputs:\n  - {series: gdp, actor: IND, from: 2005, set: .nan}\n", ["s.yaml:5", "inputs.0.set", "finite"]),
    ("inputs:\n  - {series: gdp, actor: IND, from: 2005, scale: .inf}\n", ["s.yaml:5", "inputs.0.scale"]),
    ("events:\n  move:\n    - {id: taliban_kabul_2021, by: 500}\n", ["s.yaml:6", "events.move.0.by", "outside"]),
    ("name: twice\n", ["s.yaml:4", "duplicate key 'name'", "line 1"]),
    ("inputs:\n  - {series: gdp, actor: IND, from: '2005', scale: 2}\n", ["s.yaml:5", "inputs.0.from"]),
    ("seeds: [9223372036854775808]\n", ["s.yaml:4", "seeds.0"]),
    ("seeds: ['1']\n", ["s.yaml:4", "seeds.0"]),
])
def test_scenario_mistakes_that_used_to_run(tmp_path, capsys, body, mentions):
    out = tmp_path / "out"
    refused(capsys, ["run", str(short(tmp_path, body)), "--out", str(out), "--no-plots"], *mentions, watch=out)


def test_seeds_past_the_limit_from_a_scenarios_first_seed_blame_runs(tmp_path, capsys):
    path = short(tmp_path, f"seeds: [{2**63 - 5}]\n")
    refused(capsys, ["run", str(path), "--runs", "20", "--out", str(tmp_path / "o")], "field '--runs'",
            "--runs may be at most 5")


def test_one_year_period_is_refused(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: one\nextends: {BASELINE}\nperiod: {{start: 2000, end: 2000}}\n")
    refused(capsys, ["run", str(path), "--out", str(tmp_path / "o"), "--no-plots"], "s.yaml:3", "two years")


def _unlookable_paths(tmp: Path) -> dict[str, str]:
    """Names that cannot even be looked at (Path.exists raises on the first), with what the error says."""
    (tmp / "loop_a").symlink_to("loop_b")
    (tmp / "loop_b").symlink_to("loop_a")
    return {"n" * 300 + ".yaml": "File name too long", "loop_a": "Too many levels of symbolic links"}


@pytest.mark.parametrize("where", ["extends", "timeline", "scenario", "--parameters", "analyze", "sweep scenario"])
def test_a_name_too_long_or_a_loop_of_links_is_one_line(tmp_path, capsys, where):
    """These were tracebacks (OSError from Path.exists/resolve): the path named, and the system's reason."""
    out = tmp_path / "out"
    for name, reason in _unlookable_paths(tmp_path).items():
        bad = tmp_path / name
        if where == "extends":
            (tmp_path / "c.yaml").write_text(f"name: c\nextends: {name}\n")
            argv = ["run", str(tmp_path / "c.yaml"), "--out", str(out)]
            mentions = ["c.yaml:2", "field 'extends'", reason]
        elif where == "timeline":
            argv = ["run", str(short(tmp_path, f"timeline: {name}\n")), "--out", str(out)]
            mentions = ["s.yaml:4", "field 'timeline'", reason]
        elif where == "scenario":
            argv = ["run", str(bad), "--out", str(out)]
            mentions = [reason]
        elif where == "--parameters":
            argv = ["run", str(short(tmp_path)), "--out", str(out), "--parameters", str(bad)]
            mentions = ["--parameters"]
        elif where == "analyze":
            argv = ["analyze", str(bad)]
            mentions = [reason]
        else:
            spec = tmp_path / "spec.yaml"
            spec.write_text(sweep_spec(tmp_path).read_text().replace(f"scenario: {tmp_path / 's.yaml'}",
                                                                     f"scenario: {name}"))
            argv = ["sweep", str(spec), "--out", str(out)]
            mentions = ["spec.yaml:2", "field 'scenario'", reason]
        refused(capsys, [*argv, "--no-plots"] if argv[0] == "run" else argv, *mentions)
        assert not out.exists()


# ---- score: the file is checked whole; the run's own score.json is never overwritten ----

def _edit_alignments(run_dir: Path, tmp: Path, edit) -> Path:
    folder = tmp / "edited"
    folder.mkdir()
    lines = (run_dir / "alignments.csv").read_text().splitlines()
    (folder / "alignments.csv").write_text("\n".join(edit(lines)) + "\n")
    return folder


@pytest.mark.parametrize("edit,mentions", [
    (lambda ls: ls[:5] + ls[6:], ["incomplete", "no row for run"]),
    (lambda ls: [*ls[:2], ls[2].rsplit(",", 1)[0] + ",nan", *ls[3:]], ["alignments.csv:3", "'alignment'", "got nan"]),
    (lambda ls: [*ls[:2], ls[2].rsplit(",", 1)[0] + ",1.5", *ls[3:]], ["alignments.csv:3", "[-1, 1], got 1.5"]),
    (lambda ls: [*ls[:2], "0.5" + ls[2][1:], *ls[3:]], ["alignments.csv:3", "'run'", "got 0.5"]),
    (lambda ls: [*ls[:2], ls[2].rsplit(",", 1)[0] + ",warm", *ls[3:]], ["alignments.csv:3", "'alignment'"]),
    (lambda ls: [*ls, ls[1]], ["duplicate row"]),
    (lambda ls: [*ls, ls[1].replace(",2000,", ",1000000000,")], ["'year'", "outside"]),
    (lambda ls: [*ls, ls[1].replace(",2000,", ",1990,")], ["incomplete"]),
    (lambda ls: ls[:1], ["alignments.csv:2", "no rows"]),
    (lambda ls: [ls[0], *(line.replace(",2000,", ",y2k,") for line in ls[1:])], ["'year'", "whole number"]),
    (lambda ls: [ls[0], *(line.replace("AFG", "ATL") for line in ls[1:])], ["unknown state code 'ATL'"]),
])
def test_score_checks_the_alignments_whole(run_dir, tmp_path, capsys, edit, mentions):
    folder = _edit_alignments(run_dir, tmp_path, edit)
    err = refused(capsys, ["score", str(folder), "--no-baselines"], *mentions, watch=folder)
    assert "np." not in err, err  # a value as the file writes it, not numpy's repr (np.float64(nan))


@pytest.mark.parametrize("text,mention", [
    ("{not json", "not valid JSON"),
    ('{"parameters": {"threat_weight": -1}}', "parameters.threat_weight"),
    ('{"parameters": {"charisma": 1}}', "unknown parameter"),
    ('{"parameters": [1, 2]}', "parameters"),
])
def test_score_checks_parameters_json(run_dir, tmp_path, capsys, text, mention):
    folder = _edit_alignments(run_dir, tmp_path, lambda ls: ls)
    (folder / "parameters.json").write_text(text)
    refused(capsys, ["score", str(folder), "--no-baselines"], "parameters.json", mention, watch=folder)


@pytest.mark.parametrize("keep,mentions", [
    # cut at a whole line: the years kept were scored without a word
    (lambda line: not line.startswith(("0,2024,", "1,2024,", "2,2024,")), ["2000-2023", "period", "2000-2024"]),
    # a whole run taken out
    (lambda line: not line.startswith("1,"), ["holds 2 run(s)", "3 seed(s)", "no run 1"]),
])
def test_score_refuses_alignments_short_of_the_run_record(run_dir, tmp_path, capsys, keep, mentions):
    folder = _edit_alignments(run_dir, tmp_path, lambda ls: [ls[0], *filter(keep, ls[1:])])
    (folder / "parameters.json").write_bytes((run_dir / "parameters.json").read_bytes())
    refused(capsys, ["score", str(folder), "--no-baselines"], "alignments.csv", *mentions, watch=folder)


def test_score_refuses_a_parameters_json_that_is_a_link_to_nothing(run_dir, tmp_path, capsys):
    """It was taken for a missing record, so the run was scored with the calibrated weights."""
    folder = _edit_alignments(run_dir, tmp_path, lambda ls: ls)
    (folder / "parameters.json").symlink_to(tmp_path / "nowhere.json")
    refused(capsys, ["score", str(folder), "--no-baselines"], "parameters.json", "not found")


def test_score_prints_and_writes_only_where_asked(run_dir, tmp_path, capsys):
    before = snapshot(run_dir)
    assert main(["score", str(run_dir), "--no-baselines", "--split-year", "2010"]) == 0
    assert "in sample to 2010" in capsys.readouterr().out
    assert snapshot(run_dir) == before
    target = tmp_path / "score.json"
    assert main(["score", str(run_dir), "--no-baselines", "--out", str(target)]) == 0
    assert json.loads(target.read_text())["model"]["all"]["runs"] == 3
    refused(capsys, ["score", str(run_dir), "--out", str(target)], "--force", watch=tmp_path)
    refused(capsys, ["score", str(run_dir), "--split-year", "1990"], "--split-year", "2000-2024")


def test_score_never_overwrites_the_runs_own_score_json(run_dir, tmp_path, capsys):
    """README: never over the run's own score.json; --force overwrote it."""
    for target in (run_dir / "score.json", run_dir / ".." / run_dir.name / "score.json"):
        for source in (run_dir, run_dir / "alignments.csv"):
            refused(capsys, ["score", str(source), "--no-baselines", "--out", str(target), "--force"],
                    "score.json", "own", "--out", watch=run_dir)
    link = tmp_path / "run"
    link.symlink_to(run_dir, target_is_directory=True)
    refused(capsys, ["score", str(link), "--no-baselines", "--out", str(run_dir / "score.json"), "--force"], "own",
            watch=run_dir)


# ---- output folders: one run each, written whole, nothing else lost ----

def test_output_folder_holds_one_run_and_normal_permissions(tmp_path, capsys):
    scenario, out = short(tmp_path), tmp_path / "out"
    assert main(["run", str(scenario), "--seed", "1", "--out", str(out)]) == 0
    assert (out / "alignment_over_time.png").exists()
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask
    # a rerun into the same folder replaces it whole: no figure left over from the first run
    assert main(["run", str(scenario), "--seed", "2", "--out", str(out), "--no-plots"]) == 0
    assert not (out / "alignment_over_time.png").exists()
    assert json.loads((out / "parameters.json").read_text())["seeds"] == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]


def test_a_folder_that_is_not_an_earlier_result_is_refused_unless_forced(tmp_path, capsys):
    scenario, out = short(tmp_path), tmp_path / "out"
    out.mkdir()
    (out / "thesis.docx").write_text("two years of work")
    refused(capsys, ["run", str(scenario), "--seed", "1", "--out", str(out), "--no-plots"], "--force", watch=out)
    compare_out = tmp_path / "cmp"
    assert main(["compare", str(scenario), str(scenario), "--runs", "2", "--out", str(compare_out)]) == 0
    capsys.readouterr()
    refused(capsys, ["run", str(scenario), "--out", str(compare_out), "--no-plots"], "`compare`", watch=compare_out)
    assert main(["run", str(scenario), "--seed", "1", "--out", str(out), "--no-plots", "--force"]) == 0
    assert not (out / "thesis.docx").exists() and (out / "alignments.csv").exists()


def test_unwritable_out_is_found_before_the_run(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    refused(capsys, ["run", str(short(tmp_path)), "--out", str(blocker / "out"), "--no-plots"], "writable",
            watch=tmp_path)
    refused(capsys, ["run", str(short(tmp_path)), "--out", str(blocker), "--no-plots"], "not a folder", watch=tmp_path)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_out_in_a_folder_taking_no_new_entries_is_found_before_the_work(tmp_path, capsys, monkeypatch):
    """/proc passes the permission bits for root, so posterior ran its whole fit before failing to write."""
    from simulation.experiments import posterior

    def never(*args, **kwargs):
        raise AssertionError("the fit started")

    monkeypatch.setattr(posterior, "fit_posterior", never)
    refused(capsys, ["posterior", "--out", "/proc/simulation-out"], "/proc/simulation-out", "cannot write here")
    refused(capsys, ["score", "somewhere", "--out", "/proc/simulation-score.json"], "cannot write here")


def test_an_out_that_cannot_be_replaced_is_found_before_the_run(tmp_path, capsys, monkeypatch):
    """An immutable empty folder (root passes every permission check) failed only at the final swap."""
    out = tmp_path / "out"
    out.mkdir()
    if subprocess.run(["chattr", "+i", str(out)], capture_output=True).returncode != 0:
        pytest.skip("needs chattr +i (root, on a file system with attributes)")
    try:
        import simulation.experiments.runner as runner

        def no_work(*args, **kwargs):
            raise AssertionError("the run started before --out was checked")

        monkeypatch.setattr(runner, "run_scenario", no_work)
        refused(capsys, ["run", str(short(tmp_path)), "--seed", "1", "--out", str(out), "--no-plots"],
                "--out cannot be replaced", "Operation not permitted", watch=out)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=True)


def test_leftovers_of_a_killed_run_are_cleaned_and_a_failed_run_leaves_none(tmp_path, capsys):
    out = tmp_path / "out"
    dead = 2**22 + 12345  # above the default pid_max: no process has it
    (tmp_path / f".out.partial-{dead}").mkdir()
    (tmp_path / f".out.partial-{dead}" / "alignments.csv").write_text("half")
    assert main(["run", str(short(tmp_path)), "--seed", "1", "--out", str(out), "--no-plots"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]

    def boom(folder: Path) -> None:
        (folder / "a.csv").write_text("partial")
        raise OSError(28, "No space left on device")

    before = snapshot(out)
    with pytest.raises(Exception, match="No space left"):
        output.write_atomically(out, boom, "run")
    assert snapshot(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]


def test_a_killed_run_not_yet_reaped_counts_as_dead(tmp_path):
    """A process killed from Python without wait() stays a zombie, which still answers signals: its
    half-written folder is cleaned all the same (a sweep killed so once left `.DIR.partial-PID`)."""
    import signal
    import time

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / f".out.partial-{child.pid}").mkdir()
        output.clean_stale(tmp_path / "out")
        assert (tmp_path / f".out.partial-{child.pid}").exists()  # running: its folder is its own
        os.kill(child.pid, signal.SIGKILL)
        for _ in range(200):  # until the kernel has made it a zombie (not reaped: no wait() yet)
            if Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                break
            time.sleep(0.01)
        output.clean_stale(tmp_path / "out")
        assert not (tmp_path / f".out.partial-{child.pid}").exists()
    finally:
        child.kill()
        child.wait()


def test_an_out_named_like_a_pattern_touches_no_other_results_leftovers(tmp_path, capsys):
    """`--out '*'`: the leftovers of a killed run are found by name, not by globbing the name, so
    the backup another result's swap left behind (here `.results.old-PID`) is not taken for its own."""
    dead = 2**22 + 12345
    backup = tmp_path / f".results.old-{dead}"
    backup.mkdir()
    (backup / "notes.txt").write_text("the only copy")
    assert main(["run", str(short(tmp_path)), "--seed", "1", "--out", str(tmp_path / "*"), "--no-plots"]) == 0
    assert (backup / "notes.txt").read_text() == "the only copy"
    assert (tmp_path / "*" / "alignments.csv").exists()


def test_replacing_a_result_through_a_link_leaves_no_link_behind(tmp_path, capsys):
    scenario, target = short(tmp_path), tmp_path / "target"
    assert main(["run", str(scenario), "--seed", "1", "--out", str(target), "--no-plots"]) == 0
    (tmp_path / "link").symlink_to(target)
    assert main(["run", str(scenario), "--seed", "2", "--out", str(tmp_path / "link"), "--no-plots"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "s.yaml", "target"]
    assert json.loads((target / "parameters.json").read_text())["seeds"] == [1]  # the link's target is kept


def test_app_refuses_a_port_in_use_in_one_line(capsys):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        refused(capsys, ["app", "--port", str(port)], "--port", f"127.0.0.1:{port}")


@pytest.mark.parametrize("host", ["", "::zz", "[::1]", "127.0.0.1:80"])
def test_app_blames_a_host_it_cannot_serve_on_on_host(capsys, monkeypatch, host):
    """A host that does not resolve was blamed on --port; an empty one served on every interface."""
    import subprocess

    monkeypatch.setattr(subprocess, "call", lambda *a, **k: pytest.fail("the server was started"))
    refused(capsys, ["app", "--host", host, "--port", "8765"], "field '--host'")


def test_a_link_to_nothing_as_out_is_refused_naming_it(tmp_path, capsys):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    refused(capsys, ["run", str(short(tmp_path)), "--out", str(tmp_path / "dangling"), "--no-plots"],
            "dangling: --out is a symbolic link to nothing", watch=tmp_path)


def test_score_refuses_what_is_not_an_alignments_file(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "run" / "alignments.csv").mkdir(parents=True)
    for path in (tmp_path / "afile" / "x.csv", tmp_path / "run", Path("/dev/zero"), tmp_path / ("q" * 300)):
        refused(capsys, ["score", str(path)], "no alignments here" if len(path.name) < 255 else "cannot read")


@pytest.mark.parametrize("name", ["x" * 300, "x" * 250])
def test_an_out_name_too_long_is_refused_before_the_run(tmp_path, capsys, name):
    """300 bytes is too long for the folder itself, 250 for the sibling the result is written into first."""
    refused(capsys, ["run", str(short(tmp_path)), "--out", str(tmp_path / name), "--no-plots"], "--out",
            watch=tmp_path)


# ---- many runs: the ensemble, compact outputs ----

def test_many_runs_use_the_ensemble_and_write_quantiles(tmp_path, capsys):
    from simulation.engine.ensemble import simulate
    from simulation.experiments.scenario import load_scenario, scenario_inputs
    from simulation.states import PAIR_A, PAIR_B

    scenario, out = short(tmp_path), tmp_path / "out"
    assert main(["run", str(scenario), "--runs", "40", "--seed", "7", "--out", str(out), "--no-plots", "--full",
                 "--parameters", "point"]) == 0
    summary = pd.read_csv(out / "alignments.csv")
    assert list(summary.columns) == ["year", "a", "b", "alignment", "q05", "q50", "q95", "runs"]
    assert len(summary) == 25 * 15 and (summary.runs == 40).all()
    inputs, params = scenario_inputs(load_scenario(scenario)[0])
    pairs = simulate(inputs, params, list(range(7, 47))).alignment[:, :, PAIR_A, PAIR_B]  # (R, T, P)
    np.testing.assert_allclose(summary.alignment, pairs.mean(axis=0).reshape(-1), atol=2e-6)
    q50 = np.quantile(pairs, 0.5, axis=0, method="inverted_cdf").reshape(-1)
    assert np.abs(summary.q50 - q50).max() <= 1e-3
    full = pd.read_parquet(out / "alignments.parquet")
    assert len(full) == 40 * 25 * 15 and sorted(full.run.unique()) == list(range(7, 47))
    # the full table scores like the run did
    assert main(["score", str(out)]) == 0
    assert json.loads((out / "score.json").read_text())["model"]["all"]["runs"] == 40
    # without it, the summaries are not taken for a file missing a column ("missing column(s) run")
    capsys.readouterr()
    refused(capsys, ["score", str(out / "alignments.csv"), "--no-baselines"], "alignments.csv", "summaries",
            "--full", watch=out)


def test_compare_pairs_runs_by_calendar_year(tmp_path, capsys):
    """A copy of the baseline starting in 1980 differs only through its start: most in its first
    years, and from 2015 by a fifth as much on average (the shocks of each year are shared; unpaired
    runs would differ by the noise's size throughout). What lasts is the model's memory: the late
    run never saw 1947-1979; remembered intent fades by `intent_memory` a year, an installed arms
    base by `base_persistence` (0.93), a sanction holds until its threshold, and with the committed
    fit some pairs settle where their start put them (clear differences last to 2024)."""
    late = tmp_path / "late.yaml"
    late.write_text(f"name: late\nextends: {BASELINE}\nperiod: {{start: 1980, end: 2024}}\n")
    out = tmp_path / "cmp"
    assert main(["compare", str(BASELINE), str(late), "--runs", "20", "--parameters", "point", "--out", str(out)]) == 0
    diffs = pd.read_csv(out / "alignment_difference.csv")
    assert diffs.year.min() == 1980
    assert diffs[diffs.year == 1980].clear.any()
    early, late_years = diffs[diffs.year <= 1985].difference.abs(), diffs[diffs.year >= 2015].difference.abs()
    assert late_years.mean() < 0.25 * early.mean() and late_years.max() < 0.5 * early.max()
    # and the summary says where the early differences come from, not only from inputs
    summary = (out / "summary.md").read_text()
    assert "late's later start in 1980" in summary and "neutral stances" in summary
    assert "compared on the years both simulate, 1980-2024" in summary


@pytest.mark.parametrize("periods,shared", [("{start: 1947, end: 1960}", 0), ("{start: 1947, end: 2000}", 1)])
def test_compare_refuses_scenarios_sharing_fewer_than_two_years(tmp_path, capsys, periods, shared):
    """With no year in common compare wrote empty tables and "no pair changes clearly", exit 0."""
    base = tmp_path / "base.yaml"
    base.write_text(f"name: early\nextends: {BASELINE}\nperiod: {periods}\n")
    out = tmp_path / "out"
    refused(capsys, ["compare", str(base), str(short(tmp_path)), "--runs", "2", "--out", str(out)],
            "s.yaml: field 'period'", f"{shared} year", "at least two years", watch=out)
    assert not out.exists()


# ---- sweeps ----

def sweep_spec(tmp: Path, extra: str = "", design: str = "latin", samples: int = 4) -> Path:
    path = tmp / "spec.yaml"
    path.write_text(f"""name: t
scenario: {short(tmp)}
design: {design}
samples: {samples}
parameters:
  threat_weight: [0.0, 3.0]
  inertia: [0.3, 0.95]
outputs:
  - {{name: score, kind: score}}
chunk_size: 2
{extra}""")
    return path


@pytest.mark.parametrize("extra,design,samples,mentions", [
    ("colour: red\n", "latin", 4, ["spec.yaml:11", "unknown field 'colour'"]),
    ("name: twice\n", "latin", 4, ["spec.yaml:11", "duplicate key 'name'"]),
    ("", "grid", 10**6, ["spec.yaml:4", "samples", "limits"]),  # 10**12 points
    ("seeds_per_point: 10000\n", "sobol", 1_000_000, ["samples", "limits"]),
])
def test_sweep_specs_are_checked_before_anything_is_written(tmp_path, capsys, extra, design, samples, mentions):
    path = sweep_spec(tmp_path, extra, design, samples)
    refused(capsys, ["sweep", str(path), "--out", str(tmp_path / "o")], *mentions)
    assert not (tmp_path / "o").exists()


def test_a_sweep_chunk_too_large_for_memory_is_refused(tmp_path, capsys):
    path = sweep_spec(tmp_path)
    path.write_text(path.read_text().replace("chunk_size: 2", "chunk_size: 50000"))
    refused(capsys, ["sweep", str(path), "--out", str(tmp_path / "o")], "spec.yaml:10", "chunk_size", "MB")
    assert not (tmp_path / "o").exists()


def test_sweep_force_starts_afresh_and_resume_needs_a_sweep(tmp_path, capsys):
    path, out = sweep_spec(tmp_path), tmp_path / "o"
    refused(capsys, ["sweep", str(path), "--out", str(out), "--resume"], "no sweep to resume")
    assert not out.exists()
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    first = snapshot(out)
    (tmp_path / "s.yaml").write_text((tmp_path / "s.yaml").read_text() + "parameters: {inertia: 0.5}\n")
    assert main(["sweep", str(path), "--out", str(out), "--force"]) == 0
    assert snapshot(out)["manifest.json"] != first["manifest.json"]
    capsys.readouterr()
    refused(capsys, ["analyze", str(out)], "spec.yaml", "samples")  # 4 points are too few for delta indices
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    capsys.readouterr()
    refused(capsys, ["sweep", str(path), "--out", str(mine), "--force"], "holds no sweep", watch=mine)


def test_a_sweep_output_year_outside_the_period_leaves_nothing(tmp_path, capsys):
    path = sweep_spec(tmp_path)
    path.write_text(path.read_text().replace("  - {name: score, kind: score}",
                                             "  - {name: late, pair: [IND, USA], year: 2100}"))
    refused(capsys, ["sweep", str(path), "--out", str(tmp_path / "o")], "outputs.0", "2100")
    assert not (tmp_path / "o").exists()
    refused(capsys, ["sweep", str(sweep_spec(tmp_path)), "--out", str(tmp_path / "o"),
                     "--scheduler", "tcp://127.0.0.1:1"], "--scheduler")
    assert not (tmp_path / "o").exists()


def test_sweep_checksums_guard_resume_and_analyze(tmp_path, capsys):
    path, out = sweep_spec(tmp_path, design="sobol", samples=4), tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1000"]) == 0
    assert "capped at the" in capsys.readouterr().err
    assert main(["analyze", str(out)]) == 0
    chunk = out / "chunks" / "part-00001.parquet"
    good = chunk.read_bytes()
    chunk.write_bytes(good[: len(good) // 2])  # truncated
    refused(capsys, ["analyze", str(out)], "part-00001.parquet", "--resume")
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 0
    assert chunk.read_bytes() == good
    assert main(["analyze", str(out)]) == 0
    capsys.readouterr()
    spec_copy = out / "spec.yaml"
    spec_copy.write_text(spec_copy.read_text().replace("samples: 4", "samples: 5"))
    refused(capsys, ["analyze", str(out)], "spec.yaml", "edited")
    (out / "manifest.json").write_text("{broken")
    refused(capsys, ["analyze", str(out)], "manifest.json")


@pytest.mark.parametrize("damage", ["not utf-8", "a folder"])
def test_a_damaged_checksum_list_is_one_line_for_resume_and_analyze(tmp_path, capsys, damage):
    """chunks/SHA256SUMS with bytes that are not UTF-8, or replaced by a folder: a traceback before."""
    path, out = sweep_spec(tmp_path, design="sobol", samples=4), tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    sums = out / "chunks" / "SHA256SUMS"
    if damage == "a folder":
        sums.unlink()
        sums.mkdir()
    else:
        sums.write_bytes(sums.read_bytes() + b"\xff\xfe\n")
    capsys.readouterr()
    refused(capsys, ["analyze", str(out)], "SHA256SUMS", "--force", watch=out)
    refused(capsys, ["sweep", str(path), "--out", str(out), "--resume"], "SHA256SUMS", "--force", watch=out)
    assert main(["sweep", str(path), "--out", str(out), "--force"]) == 0  # what the message advises
    assert main(["analyze", str(out)]) == 0


def test_resume_remakes_a_chunks_folder_deleted_by_hand(tmp_path, capsys):
    """Its chunks are missing, so --resume runs them all again (an OSError traceback before)."""
    path, out = sweep_spec(tmp_path, design="sobol", samples=4), tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    first = snapshot(out)
    shutil.rmtree(out / "chunks")
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 0
    assert snapshot(out) == first
    (out / "chunks" / "part-00001.parquet").unlink()
    (out / "chunks" / "part-00001.parquet").mkdir()
    capsys.readouterr()
    refused(capsys, ["sweep", str(path), "--out", str(out), "--resume"], "part-00001.parquet", watch=out)
    refused(capsys, ["analyze", str(out)], "part-00001.parquet", watch=out)


@pytest.mark.parametrize("damage", ["design truncated", "spec copy edited"])
def test_resume_checks_the_stored_design_and_spec_as_analyze_does(tmp_path, capsys, damage):
    """--resume went on (exit 0) with a truncated design.parquet, leaving a sweep analyze refuses."""
    path, out = sweep_spec(tmp_path, design="sobol", samples=4), tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    (out / "chunks" / "part-00003.parquet").unlink()  # something left to resume
    if damage == "design truncated":
        design = out / "design.parquet"
        design.write_bytes(design.read_bytes()[:100])
        mentions = ["design.parquet", "manifest.json"]
    else:
        (out / "spec.yaml").write_text((out / "spec.yaml").read_text() + "# edited\n")
        mentions = ["spec.yaml", "edited"]
    capsys.readouterr()
    refused(capsys, ["sweep", str(path), "--out", str(out), "--resume"], *mentions, watch=out)
    refused(capsys, ["analyze", str(out)], *mentions, watch=out)


def test_sweep_identity_covers_the_scenario_chain(tmp_path, capsys):
    path, out = sweep_spec(tmp_path), tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    capsys.readouterr()
    (tmp_path / "s.yaml").write_text((tmp_path / "s.yaml").read_text() + "parameters: {inertia: 0.5}\n")
    refused(capsys, ["sweep", str(path), "--out", str(out), "--resume"], "different spec")


# ---- imports stay lazy per command ----

@pytest.mark.slow
def test_commands_load_only_what_they_need(tmp_path):
    code = f"""
import sys
from simulation.interfaces.cli import main
assert main(["run", {str(short(tmp_path))!r}, "--seed", "1", "--out", {str(tmp_path / 'r')!r}, "--no-plots"]) == 0
assert "matplotlib" not in sys.modules, "run --no-plots loaded matplotlib"
assert main(["run", {str(short(tmp_path))!r}, "--runs", "12", "--out", {str(tmp_path / 'r12')!r}]) == 0
for heavy in ("mesa", "pandas", "scipy"):  # each costs more to import than a whole one-run `run`
    assert heavy not in sys.modules, f"run loaded {{heavy}}"
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
    code = f"""
import sys
from simulation.interfaces.cli import main
assert main(["compare", {str(short(tmp_path))!r}, {str(short(tmp_path))!r}, "--runs", "2", "--out", {str(tmp_path / 'c2')!r}]) == 0
assert "mesa" not in sys.modules, "compare loaded mesa"
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)


@pytest.mark.slow
def test_a_real_process_prints_one_line_and_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "simulation", "run", str(BASELINE), "--seed", str(2**64),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--seed" in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["score", "run"])
def test_a_reader_gone_early_is_a_quiet_exit_with_the_results_whole(run_dir, tmp_path, command):
    """`... | head -c1`: the report's print met a closed pipe and ended in a BrokenPipeError traceback."""
    out = tmp_path / "o"
    argv = (["score", str(run_dir), "--no-baselines", "--out", str(tmp_path / "score.json")] if command == "score"
            else ["run", str(short(tmp_path)), "--seed", "1", "--no-plots", "--out", str(out)])
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command prints
    try:
        proc = subprocess.run([sys.executable, "-m", "simulation", *argv], stdout=write, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT)
    finally:
        os.close(write)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr  # 128 + SIGPIPE, as a Unix tool
    if command == "score":
        assert json.loads((tmp_path / "score.json").read_text())["model"]["all"]["runs"] == 3
    else:
        assert json.loads((out / "parameters.json").read_text())["seeds"] == [1]


@pytest.mark.slow
def test_memory_is_flat_in_the_number_of_runs(tmp_path):
    """Peak memory of `run` and `compare` of 1947-2024, each in a fresh process, at 300 and 1200 runs:
    it grows by less than 25 MB, where keeping every run would add about 40 MB (run) and 80 MB (compare)."""
    # a fixed mmap threshold: freed arrays go back to the system, so the peak is what was live
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}

    def peak_mb(argv: list[str]) -> float:
        code = ("import resource\nfrom simulation.interfaces.cli import main\n"
                f"assert main({argv!r}) == 0\n"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                              env=env)
        return float(proc.stdout.strip().splitlines()[-1])

    for command in (["run", str(BASELINE), "--no-plots"], ["compare", str(BASELINE), str(BASELINE)]):
        small, large = (peak_mb([*command, "--runs", str(n), "--out", str(tmp_path / f"{command[0]}{n}")])
                        for n in (300, 1200))
        assert large - small < 25, (command[0], small, large)


def test_chunked_comparison_equals_the_one_batch(tmp_path):
    from simulation.experiments import compare
    from simulation.experiments.scenario import load_scenario

    base = load_scenario(short(tmp_path))[0]
    alt = load_scenario(short(tmp_path, "inputs:\n  - {series: sanction, actor: USA, target: IND, from: 2005, set: 0.7}\n",
                              name="t.yaml"))[0]
    whole = compare.alignment_differences(compare.run_comparison(base, alt, 12, first_seed=3))
    chunked = compare.alignment_differences(compare.run_paired(base, alt, 12, first_seed=3, chunk=5))
    pd.testing.assert_frame_equal(whole, chunked, atol=1e-12)
    assert whole.clear.any()


# ---- hypothesis: random tokens in place of a scenario's values, random arguments ----

TOKENS = [".nan", "-.inf", "1e309", "'1950'", "-1", "0", "2050", "1900", "[", "{}", "[]", "xyz", "null", "true",
          "9223372036854775808", "&a 1", "*a", "'IND'", "USA", "0.5", "1947", "3", "\"\"", "- 1", "!!python/none"]
TEMPLATE = """name: fuzz
extends: {base}
period: {{start: {v0}, end: {v1}}}
seeds: [{v2}]
parameters:
  inertia: {v3}
events:
  move:
    - {{id: taliban_kabul_2021, by: {v4}}}
inputs:
  - {{series: gdp, actor: {v5}, from: {v6}, scale: {v7}}}
"""
GOOD = ["2000", "2024", "1", "0.5", "1", "IND", "2005", "2"]


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(TOKENS)), min_size=1, max_size=3))
def test_mutated_scenarios_keep_the_contract(tmp_path_factory, capsys, mutations):
    tmp = tmp_path_factory.mktemp("fuzz")
    values = list(GOOD)
    for k, token in mutations:
        values[k] = token
    path = tmp / "s.yaml"
    path.write_text(TEMPLATE.format(base=BASELINE, **{f"v{k}": v for k, v in enumerate(values)}))
    out = tmp / "out"
    code = main(["run", str(path), "--out", str(out), "--no-plots"])
    err = capsys.readouterr().err.strip()
    assert code in (0, 2) and "Traceback" not in err
    assert sorted(p.name for p in tmp.iterdir()) == (["out", "s.yaml"] if code == 0 else ["s.yaml"])
    if code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("error: ") and "s.yaml" in err, err
    else:
        frame = pd.read_csv(out / "alignments.csv")
        assert np.isfinite(frame.alignment).all() and frame.alignment.abs().max() <= 1


ARGS = st.lists(st.sampled_from(["--seed", "--runs", "--out", "--no-plots", "--full", "--force", "-1", "0", "1",
                                 "3", "1e3", "x", "", str(2**63), "--split-year", "1800", "2010"]), max_size=5)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["run", "score", "compare"]), extra=ARGS)
def test_random_arguments_keep_the_contract(tmp_path_factory, capsys, run_dir, command, extra):
    tmp = tmp_path_factory.mktemp("args")
    scenario = short(tmp)
    before = snapshot(run_dir)
    head = {"run": ["run", str(scenario)], "score": ["score", str(run_dir)],
            "compare": ["compare", str(scenario), str(scenario)]}[command]
    here = os.getcwd()
    os.chdir(tmp)  # a relative --out lands here
    try:
        code = main([*head, *extra])
    finally:
        os.chdir(here)
    err = capsys.readouterr().err.strip()
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert snapshot(run_dir) == before
    assert not [p for p in tmp.rglob("*") if ".partial-" in p.name]

