"""Batch sweeps: a design of parameter points x seeds, run in chunks on the vectorized ensemble.

A sweep spec (YAML, validated like scenarios) names a base scenario, the parameters to vary and
their ranges, a design (SALib's samplers: grid, Monte Carlo, Latin hypercube, Sobol, Morris),
seeds per point and the outputs to keep. Chunks of runs go to one of three backends behind the
same interface (in-process, local processes, a Dask cluster); each finished chunk is written to
Parquet atomically, so memory stays flat, and `--resume` skips the chunks already on disk.
Every point uses the same seeds (common random numbers), so differences between points come
from the parameters, not from luck.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import multiprocessing
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from simulation.engine.params import Parameters
from simulation.errors import NOT_FOUND, InputError, missing, read_text_file, unreadable
from simulation.experiments.periods import FIRST_YEAR, LAST_YEAR
from simulation.experiments.yamlfile import line_of, read_yaml_mapping, validation_error
from simulation.states import INDEX, N_STATES, check_state

Design = Literal["grid", "monte_carlo", "latin", "sobol", "morris"]


#: Most runs (points x seeds) one sweep may ask for, and most parameter points its design may hold.
MAX_RUNS = 50_000_000
MAX_POINTS = 2_000_000
#: Most memory one chunk may need: runs x years x N x N floats for the shocks, the alignments and
#: the rules' working arrays (about 3 of each), estimated before the sweep starts.
MAX_CHUNK_BYTES = 1024**3
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
Year = Annotated[int, Strict()]
#: A bound of a parameter's range: a number as YAML writes one (not text such as "0", not true/false).
Bound = Annotated[float, Strict()]
#: The columns every row stores before the outputs (the parameters' values follow them); an output
#: may not take one of these names, nor a parameter's, or it would overwrite that column.
ROW_COLUMNS = ("run", "point", "seed")
#: Fewest samples a design needs for its analyzer's indices to be defined: Sobol's bootstrap
#: intervals resample the base samples, and Morris's sigma is the spread of each parameter's
#: elementary effects over trajectories (one sample gives intervals of 0 and S1 outside [0, 1],
#: or a NaN sigma).
MIN_SAMPLES = {"sobol": (2, "its bootstrap intervals resample the base samples"),
               "morris": (2, "sigma is the spread of the elementary effects over trajectories")}


class Output(BaseModel):
    """One number kept per run: a pair's alignment in a year (or its mean over years), or the score."""

    model_config = STRICT
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    kind: Literal["alignment", "score"] = "alignment"
    pair: tuple[str, str] | None = None
    year: Year | None = None
    years: tuple[Year, Year] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Output:
        if self.kind == "alignment":
            if self.pair is None or (self.year is None) == (self.years is None):
                raise ValueError("an alignment output needs 'pair' and one of 'year' or 'years'")
            for code in self.pair:
                try:
                    check_state(code)
                except InputError as exc:
                    raise ValueError(exc.message) from None
            if self.pair[0] == self.pair[1]:
                raise ValueError("a pair needs two different states")
        elif (self.pair, self.year, self.years) != (None, None, None):  # they were ignored
            raise ValueError("a score output takes no 'pair', 'year' or 'years': it is the run's score over every "
                             "pair and year")
        return self


class SweepSpec(BaseModel):
    """A sweep file: the base scenario, the design over parameters, the seeds and the outputs kept."""

    model_config = STRICT
    scenario: str = Field(description="base scenario file, relative to the spec")
    name: str = Field(min_length=1)
    description: str = ""
    design: Design
    samples: Annotated[int, Strict()] = Field(ge=1, le=1_000_000, description="sobol/latin/monte_carlo: base sample size; "
                         "morris: trajectories; grid: levels per parameter")
    seeds_per_point: Annotated[int, Strict()] = Field(1, ge=1, le=10_000)
    seed: Annotated[int, Strict()] = Field(0, ge=0, lt=2**32, description="seed of the design's sampler")
    parameters: dict[str, tuple[Bound, Bound]] = Field(min_length=1)
    outputs: list[Output] = Field(min_length=1)
    chunk_size: Annotated[int, Strict()] = Field(1000, ge=1, le=100_000)


@dataclass(frozen=True)
class Sweep:
    spec: SweepSpec
    path: Path
    scenario_path: Path
    points: np.ndarray  # (P, D) in the order of spec.parameters
    inputs: tuple[Path, ...] = ()  # every file a row depends on besides the spec: scenario chain, timeline

    @property
    def names(self) -> list[str]:
        return list(self.spec.parameters)

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.spec.seeds_per_point

    @property
    def n_chunks(self) -> int:
        return -(-self.n_runs // self.spec.chunk_size)


def load_spec(path: str | Path) -> tuple[SweepSpec, Path]:
    spec, scenario, _ = _load_spec(Path(path))
    return spec, scenario


def _load_spec(path: Path) -> tuple[SweepSpec, Path, Any]:
    """The spec, its scenario's path and its YAML tree (for line numbers)."""
    spec, root = read_spec(path)
    scenario = path.parent / spec.scenario
    why = unreadable(scenario, absent="not found")
    if why is not None:
        raise InputError(f"scenario {spec.scenario!r} {why}", file=path, line=line_of(root, ("scenario",)),
                         field="scenario")
    return spec, scenario, root


def read_spec(path: Path) -> tuple[SweepSpec, Any]:
    """A sweep spec, checked whole (everything but its scenario, which `prepare` checks): the schema,
    then what needs more than one field. Returns the spec and its YAML tree (for line numbers)."""
    data, root = read_yaml_mapping(path, "sweep spec")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, path, root) from None
    bounds = Parameters.bounds()
    for name, (lo, hi) in spec.parameters.items():
        line = line_of(root, ("parameters", name))
        if name not in bounds:
            raise InputError(f"unknown parameter {name!r} (known: {', '.join(bounds)})", file=path, line=line,
                             field=f"parameters.{name}")
        if name in Parameters.input_stage():
            raise InputError(f"{name} codes the data into inputs, which a sweep builds once; vary it in "
                             "scenario files instead", file=path, line=line, field=f"parameters.{name}")
        if not bounds[name][0] <= lo < hi <= bounds[name][1]:
            raise InputError(f"range of {name} must satisfy {bounds[name][0]} <= low < high <= {bounds[name][1]}",
                             file=path, line=line, field=f"parameters.{name}")
    chunk_bytes = spec.chunk_size * (LAST_YEAR - FIRST_YEAR + 1) * N_STATES**2 * 8 * 3
    if chunk_bytes > MAX_CHUNK_BYTES:
        raise InputError(f"a chunk of {spec.chunk_size} runs needs about {chunk_bytes / 1024**2:,.0f} MB "
                         f"(limit {MAX_CHUNK_BYTES // 1024**2:,} MB); use a smaller chunk_size", file=path,
                         line=line_of(root, ("chunk_size",)), field="chunk_size")
    points = design_size(spec)
    if points > MAX_POINTS or points * spec.seeds_per_point > MAX_RUNS:
        raise InputError(f"the {spec.design} design has {points:.3g} points x {spec.seeds_per_point} seeds; "
                         f"the limits are {MAX_POINTS:,} points and {MAX_RUNS:,} runs", file=path,
                         line=line_of(root, ("samples",)), field="samples")
    need, what = MIN_SAMPLES.get(spec.design, (1, ""))
    if spec.samples < need:
        raise InputError(f"a {spec.design} design needs at least {need} samples, got {spec.samples}: {what}",
                         file=path, line=line_of(root, ("samples",)), field="samples")
    if spec.design == "sobol" and spec.samples & (spec.samples - 1):
        # SALib warns and samples anyway; its estimates assume the balance of a 2^m-point Sobol' sequence
        below = 1 << (spec.samples.bit_length() - 1)
        raise InputError(f"a sobol design needs a power of 2 samples (the Sobol' sequence is balanced only at "
                         f"2^m points), got {spec.samples}; use {below} or {2 * below}",
                         file=path, line=line_of(root, ("samples",)), field="samples")
    for k, o in enumerate(spec.outputs):
        if o.name in [earlier.name for earlier in spec.outputs[:k]]:
            raise InputError(f"output names must be unique: {o.name!r} is given twice", file=path,
                             line=line_of(root, ("outputs", k, "name")), field=f"outputs.{k}.name")
        if o.name in ROW_COLUMNS or o.name in spec.parameters:
            raise InputError(f"output name {o.name!r} is taken: every row stores {', '.join(ROW_COLUMNS)} and each "
                             "parameter's value under its name; choose another name", file=path,
                             line=line_of(root, ("outputs", k, "name")), field=f"outputs.{k}.name")
    return spec, root


def salib_problem(spec: SweepSpec) -> dict:
    """The parameters and their ranges, in SALib's form."""
    names = list(spec.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [list(spec.parameters[n]) for n in names]}


def design_size(spec: SweepSpec) -> int:
    """How many points the design will have, computed before sampling (a grid grows as levels**D)."""
    d = len(spec.parameters)
    return {"grid": spec.samples ** d, "sobol": spec.samples * (d + 2), "morris": spec.samples * (d + 1)}.get(
        spec.design, spec.samples)


def sample(spec: SweepSpec) -> np.ndarray:
    """The design's parameter points (P, D), from SALib's samplers (grid: every combination of levels)."""
    problem = salib_problem(spec)
    if spec.design == "grid":
        levels = [np.linspace(lo, hi, spec.samples) for lo, hi in spec.parameters.values()]
        return np.array(list(itertools.product(*levels)), dtype=float)
    if spec.design == "monte_carlo":
        rng = np.random.default_rng(spec.seed)
        lo, hi = np.array(problem["bounds"]).T
        return lo + (hi - lo) * rng.random((spec.samples, problem["num_vars"]))
    if spec.design == "latin":
        from SALib.sample import latin

        return latin.sample(problem, spec.samples, seed=spec.seed)
    if spec.design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, spec.samples, calc_second_order=False, seed=spec.seed)
    from SALib.sample import morris

    return morris.sample(problem, spec.samples, seed=spec.seed)


def prepare(path: str | Path) -> Sweep:
    """Validate the spec and its scenario and build the design (before anything runs or is written)."""
    from simulation.experiments.scenario import load_scenario

    spec, scenario_path, root = _load_spec(Path(path))
    scenario, _ = load_scenario(scenario_path)
    # the scenario's events, edits and timeline are checked by building its inputs, here and once
    # (this process's chunks reuse them), not in a worker after the sweep has started
    _scenario(str(scenario_path), scenario)
    lo, hi = scenario.period.start, scenario.period.end
    for k, o in enumerate(spec.outputs):
        span = (o.year, o.year) if o.year is not None else o.years
        if span is not None and not lo <= span[0] <= span[1] <= hi:
            raise InputError(f"output {o.name}: years {span[0]}-{span[1]} are not inside the scenario's period "
                             f"{lo}-{hi}", file=path, line=line_of(root, ("outputs", k, "year" if o.year is not None
                                                                         else "years")), field=f"outputs.{k}")
    return Sweep(spec, Path(path), scenario_path, sample(spec), (*scenario.files, scenario.timeline))


# ---- the work: one chunk of runs (module level, so process and Dask workers can import it) ----

@dataclass(frozen=True)
class Task:
    index: int
    first_run: int
    scenario: str
    names: tuple[str, ...]
    points: np.ndarray  # (B, D) the run's parameter values
    point_ids: np.ndarray  # (B,)
    seeds: np.ndarray  # (B,)
    outputs: tuple[dict, ...]


_CACHE: dict[str, tuple] = {}


def _scenario(path: str, scenario: Any = None) -> tuple:
    """Inputs, parameters and target cells of a scenario, built once per worker process. Given the
    loaded `scenario` (by `prepare`), they are built afresh from it, so they are its current ones."""
    if path not in _CACHE or scenario is not None:
        from simulation.experiments.scenario import load_scenario, scenario_inputs
        from simulation.experiments.score import load_targets, target_cells

        if scenario is None:
            scenario, _ = load_scenario(path)
        inputs, params = scenario_inputs(scenario)
        _CACHE[path] = (inputs, params, target_cells(load_targets(), inputs.years))
    return _CACHE[path]


def run_chunk(task: Task) -> tuple[int, pd.DataFrame]:
    """Run one chunk on the ensemble engine and keep the requested outputs."""
    from simulation.engine.ensemble import simulate
    from simulation.experiments.score import score

    inputs, base, cells = _scenario(task.scenario)
    run = simulate(inputs, base.vary(task.names, task.points), task.seeds.tolist(), keep_threat=False)
    frame = pd.DataFrame(dict(zip(ROW_COLUMNS, (task.first_run + np.arange(len(task.seeds)), task.point_ids,
                                                task.seeds), strict=True)))
    for name, column in zip(task.names, task.points.T, strict=True):
        frame[name] = column
    years = inputs.years
    for out in task.outputs:
        if out["kind"] == "score":
            frame[out["name"]] = score(run.alignment, cells).overall
            continue
        i, j = INDEX[out["pair"][0]], INDEX[out["pair"][1]]
        lo, hi = (out["year"], out["year"]) if out["year"] is not None else out["years"]
        window = (years >= lo) & (years <= hi)
        if not window.any():
            raise InputError(f"output {out['name']}: no simulated year in {lo}-{hi}", field="outputs")
        frame[out["name"]] = run.alignment[:, window, i, j].mean(axis=1)
    return task.index, frame


def tasks(sweep: Sweep, skip: set[int]) -> list[Task]:
    """The chunks still to run. Run r is point r // seeds_per_point with seed r % seeds_per_point."""
    s = sweep.spec
    out = []
    for k in range(sweep.n_chunks):
        if k in skip:
            continue
        runs = np.arange(k * s.chunk_size, min((k + 1) * s.chunk_size, sweep.n_runs))
        point_ids = runs // s.seeds_per_point
        out.append(Task(k, int(runs[0]), str(sweep.scenario_path), tuple(sweep.names), sweep.points[point_ids], point_ids,
                        runs % s.seeds_per_point, tuple(o.model_dump() for o in s.outputs)))
    return out


# ---- backends: the same interface, results as they complete ----

def connect(scheduler: str) -> Any:
    """A Dask client for the scheduler at `scheduler`, or a one-line error naming --scheduler."""
    from dask.distributed import Client

    try:
        return Client(scheduler, timeout="10s")
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot reach the Dask scheduler {scheduler!r}: {' '.join(str(exc).split())[:200]}",
                         field="--scheduler") from None


def execute(fn: Callable, items: list, workers: int = 1, scheduler: Any = None) -> Iterator:
    """Apply fn to every item and yield results as they complete: in this process (workers=1),
    on local processes (workers>1), or on a Dask cluster (a scheduler address, or a client from
    `connect`, which the caller then closes)."""
    if scheduler is not None:
        from dask.distributed import as_completed as dask_completed

        client = connect(scheduler) if isinstance(scheduler, str) else scheduler
        try:
            futures = client.map(fn, items, pure=False)
            for future in dask_completed(futures):
                yield future.result()
        finally:
            if isinstance(scheduler, str):
                client.close()
    elif workers > 1 and len(items) > 1:
        yield from _local_processes(fn, items, workers)
    else:
        for item in items:
            yield fn(item)


def _local_processes(fn: Callable, items: list, workers: int) -> Iterator:
    """`workers` processes in all: workers - 1 new ones take items from the front of the queue while
    this one, already warmed up, takes them from the back. A new process needs about 0.6 s to start,
    so a short sweep on all cores is not slower than on one."""
    queue = collections.deque(items)
    # two items in flight per process, so none waits for this one to hand out the next
    in_flight = 2 * (workers - 1)
    # spawn, not fork: forking a process that runs threads (Dask, pytest) can deadlock
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        running = {pool.submit(fn, queue.popleft()) for _ in range(min(in_flight, len(queue) - 1))}
        try:
            while running or queue:
                if queue:
                    yield fn(queue.pop())
                finished, running = wait(running, timeout=0 if queue else None, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
                while queue and len(running) < in_flight:
                    running.add(pool.submit(fn, queue.popleft()))
        except BaseException:
            for future in running:
                future.cancel()
            raise


# ---- files ----

CHECKSUMS = "SHA256SUMS"
#: Largest chunks/SHA256SUMS read (a line is under 100 bytes: tens of millions of chunks).
MAX_CHECKSUMS_BYTES = 4 * 1024**3


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def spec_hash(sweep: Sweep) -> str:
    """The sweep's identity: everything a row depends on. The spec, every file of the scenario chain
    it `extends:` and its timeline, the committed calibration (the baseline parameters) and the
    package version; two sweeps with the same hash give the same rows."""
    from importlib.metadata import PackageNotFoundError, version

    from simulation.engine.params import CALIBRATED

    try:
        package = version("balance-of-power-sim")
    except PackageNotFoundError:
        package = "unknown"
    files = [sweep.scenario_path, *sweep.inputs, CALIBRATED]
    payload = json.dumps({"spec": sweep.spec.model_dump(mode="json"), "package": package,
                          "files": [_sha256(f) if f.exists() else None for f in files]}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


#: What `analyze` writes into DIR/analysis (with output.MARKER); it replaces only a folder of these.
ANALYSIS = "analysis"
ANALYSIS_FILES = ("sensitivity.csv", "sensitivity.png")
#: What a sweep folder holds: the sweep's own files (manifest.tmp: a manifest being written), its
#: analysis, and output.MARKER once it has replaced an earlier sweep (--force).
SWEEP_FILES = ("manifest.json", "manifest.tmp", "design.parquet", "spec.yaml", "chunks", ANALYSIS)
_CHUNK_NAME = re.compile(r"part-(\d{5,})\.parquet")


def chunk_path(out: Path, k: int) -> Path:
    return out / "chunks" / f"part-{k:05d}.parquet"


def chunk_index(name: str) -> int | None:
    """The chunk a file name is the file of (the inverse of `chunk_path`), or None if it is none's."""
    match = _CHUNK_NAME.fullmatch(name)
    if match is None or chunk_path(Path(), int(match[1])).name != name:
        return None
    return int(match[1])


def chunk_files(out: Path) -> dict[int, Path]:
    """The chunk files in DIR/chunks by chunk, in order; a file named like one that is not (a copy,
    part-abcde.parquet) is refused, since it would be read as rows of the sweep."""
    found = {}
    for path in (out / "chunks").glob("part-*.parquet"):
        k = chunk_index(path.name)
        if k is None or not path.is_file():
            raise InputError("is not a chunk of the sweep (chunks are part-NNNNN.parquet files, written by the "
                             "sweep); move it out of chunks/", file=path)
        found[k] = path
    return dict(sorted(found.items()))


def foreign_entry(folder: Path, owned: Iterable[str]) -> Path | None:
    """The first entry of `folder` whose name is not among `owned` (None if there is none)."""
    owned = set(owned)
    return next((p for p in sorted(folder.iterdir()) if p.name not in owned), None)


def check_analysis_folder(out: Path) -> Path:
    """DIR/analysis, checked before `analyze` computes: missing, empty, or an earlier analysis
    holding only what `analyze` writes (it is replaced whole); anything else is refused."""
    from simulation.interfaces import output

    folder = out / ANALYSIS
    problem = missing(out)
    if problem is not None and problem != NOT_FOUND:  # a name too long, a loop of links
        raise InputError(f"cannot be used: {problem}", file=out)
    output.clean_stale(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("is not a folder; `analyze` writes its results in a folder of this name, so move it",
                         file=folder)
    if folder.is_dir() and any(folder.iterdir()):
        stray = foreign_entry(folder, (*ANALYSIS_FILES, output.MARKER))
        if stray is None and output.result_command(folder) != "analyze":
            stray = folder
        if stray is not None:
            raise InputError("is not part of an earlier `analyze` result, which `analyze` replaces whole; "
                             "move it out of the way", file=stray)
    return folder


def _read_manifest(out: Path) -> dict:
    path = out / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest["spec_hash"], str):
            raise TypeError
        int(manifest["runs"]), int(manifest["chunks"])
    except FileNotFoundError:
        raise InputError("holds no sweep (no manifest.json)", file=out) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError("is damaged (not a sweep manifest); rerun the sweep into a new --out", file=path) from None
    return manifest


def check_stored(out: Path, manifest: dict) -> None:
    """The copy of the spec and the design a sweep stored beside its chunks are those its manifest
    recorded (`analyze` reads them, so `--resume` checks them too before it runs a chunk)."""
    spec_file = out / "spec.yaml"
    read_yaml_mapping(spec_file, "sweep spec")  # readable, before its hash is compared
    if hashlib.sha256(spec_file.read_bytes()).hexdigest() != manifest.get("spec_sha256"):
        raise InputError("was edited after the sweep ran (it no longer matches manifest.json); "
                         "run the edited spec as a new sweep", file=spec_file)
    design_file = out / "design.parquet"
    if not design_file.is_file() or _sha256(design_file) != manifest.get("design_sha256"):
        raise InputError("is missing or does not match manifest.json", file=design_file)


def verified_chunks(out: Path) -> dict[int, str]:
    """The chunks whose file matches the checksum recorded when it was written (k -> file hash).
    A chunk with no record (the sweep was killed between the two writes) or a different hash
    (truncated, edited) is not among them."""
    recorded: dict[str, str] = {}
    path = out / "chunks" / CHECKSUMS
    lines: list[str] = []
    if path.exists() or path.is_symlink():  # (none yet: no chunk has been written)
        try:
            lines = read_text_file(path, "the chunks' checksum list", MAX_CHECKSUMS_BYTES).splitlines()
        except InputError as exc:  # not a file, not UTF-8: damaged by something other than the sweep
            raise InputError(f"{exc.message.split('; ')[0]}, so no chunk can be verified; rerun the sweep with "
                             "--force or into a new --out", file=exc.file, line=exc.line) from None
    for line in lines:
        parts = line.split("  ")
        if len(parts) == 2 and len(parts[0]) == 64:
            recorded[parts[1]] = parts[0]
    good = {}
    for name, digest in recorded.items():
        path = out / "chunks" / name
        k = chunk_index(name)  # (a line cut short by a kill names no chunk)
        if k is not None and path.is_file() and _sha256(path) == digest:
            good[k] = digest
    return good


def check_replaceable(out: Path) -> None:
    """--force replaces the sweep in `out` whole, so `out` may hold nothing but that sweep and its analysis."""
    from simulation.interfaces import output

    check_analysis_folder(out)  # (and removes what a killed `analyze` left beside it)
    stray = foreign_entry(out, (*SWEEP_FILES, output.MARKER))
    if stray is not None:
        raise InputError("is not part of the sweep that --force would replace (the folder is replaced whole); "
                         "move it out of the way or choose another --out", file=stray)


def start(sweep: Sweep, out: Path, resume: bool) -> set[int]:
    """Create (or, with resume, check) the sweep folder; returns the chunks already done and intact."""
    manifest = out / "manifest.json"
    digest = spec_hash(sweep)
    if manifest.exists():
        if not resume:
            raise InputError("already holds a sweep; add --resume to finish it, --force to start it afresh, "
                             "or choose another --out", file=out)
        recorded = _read_manifest(out)
        if recorded["spec_hash"] != digest:
            raise InputError("holds a sweep of a different spec (or scenario, timeline, calibration or version); "
                             "--resume needs the same one", file=out)
        check_stored(out, recorded)  # a damaged design would leave a sweep `analyze` refuses
        chunks = out / "chunks"
        try:  # a chunks folder deleted by hand is made again: its chunks are missing, so all are run again
            chunks.mkdir(exist_ok=True)
        except OSError as exc:
            reason = "is not a folder" if chunks.exists() else f"cannot be created: {exc.strerror or exc}"
            raise InputError(f"{reason}; the sweep keeps its chunks in this folder", file=chunks) from None
        chunk_files(out)  # refuses a stray file before any chunk is removed or run
        done = verified_chunks(out)
        for k in range(sweep.n_chunks):
            if k not in done and chunk_path(out, k).exists():
                chunk_path(out, k).unlink()  # damaged or unrecorded: run again
        return set(done)
    if out.exists() and any(out.iterdir()):
        raise InputError("is not empty and holds no sweep; choose another --out", file=out)
    if resume:
        raise InputError("holds no sweep to resume (no manifest.json)", file=out)
    try:
        (out / "chunks").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", file=out) from None
    design = pd.DataFrame(sweep.points, columns=sweep.names)
    design.insert(0, "point", np.arange(len(design)))
    design.to_parquet(out / "design.parquet", index=False)
    spec_text = sweep.path.read_text(encoding="utf-8")
    (out / "spec.yaml").write_text(spec_text, encoding="utf-8")
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps({"spec_hash": digest, "runs": sweep.n_runs, "chunks": sweep.n_chunks,
                               "chunk_size": sweep.spec.chunk_size, "scenario": str(sweep.scenario_path),
                               "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
                               "design_sha256": _sha256(out / "design.parquet")}, indent=2) + "\n")
    os.replace(tmp, manifest)
    return set()


def write_chunk(out: Path, k: int, frame: pd.DataFrame) -> None:
    """Atomic: a chunk file is either whole or absent, whenever the sweep is killed; its checksum
    is appended to chunks/SHA256SUMS once the file is in place."""
    final = chunk_path(out, k)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    digest = _sha256(tmp)
    os.replace(tmp, final)
    with (out / "chunks" / CHECKSUMS).open("a", encoding="utf-8") as handle:
        handle.write(f"{digest}  {final.name}\n")
        handle.flush()
        os.fsync(handle.fileno())


def run_sweep(sweep: Sweep, out: Path, workers: int = 1, scheduler: str | None = None, resume: bool = False,
              progress: bool = True, force: bool = False) -> int:
    """Run every chunk not yet on disk; returns how many chunks this call ran. A fresh sweep that
    fails before its first chunk is written leaves nothing behind (so a retry needs no --resume).
    With force (and no resume), an earlier sweep in `out` is replaced only once the new one is
    complete: the new one runs in a sibling folder swapped in at the end, so a failed or killed
    sweep leaves the earlier one as it was (and the new one is not resumable)."""
    import shutil

    from tqdm import tqdm

    from simulation.interfaces import output

    out = Path(out)
    # a file, a path through a file, an unwritable folder (the sweep writes into `out`, swapped only by --force)
    output.check_out(out, "sweep", force=True, replace=False)
    if force and not resume and (out / "manifest.json").exists():
        check_replaceable(out)
        ran = 0

        def write(tmp: Path) -> None:
            nonlocal ran
            ran = run_sweep(sweep, tmp, workers, scheduler, progress=progress)

        output.write_atomically(out, write, "sweep", force=True)
        return ran
    existed = out.exists()
    client = connect(scheduler) if scheduler is not None else None
    try:
        done = start(sweep, out, resume)
        fresh = not done and not resume
        todo = tasks(sweep, done)
        size = sweep.spec.chunk_size
        bar = tqdm(total=sweep.n_runs, initial=sum(min(size, sweep.n_runs - k * size) for k in done),
                   desc="sweep", unit="run", disable=not progress)
        ran = 0
        try:
            for k, frame in execute(run_chunk, todo, workers, client):
                write_chunk(out, k, frame)
                bar.update(len(frame))
                ran += 1
        except BaseException:
            bar.close()  # so an error is printed on its own line, not on the bar's
            if fresh and ran == 0:
                if existed:
                    for name in SWEEP_FILES:
                        target = out / name
                        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
                else:
                    shutil.rmtree(out, ignore_errors=True)
            raise
        bar.close()
        return ran
    finally:
        if client is not None:
            client.close()


def read_results(out: Path) -> pd.DataFrame:
    """Every row of a sweep, in run order, from chunks whose checksums match."""
    files = chunk_files(out)
    if not files:
        raise InputError("holds no sweep results (run `simulation sweep SPEC --out DIR` first)", file=out)
    good = verified_chunks(out)
    for k, f in files.items():
        if k not in good:
            raise InputError("is damaged or unfinished (its checksum does not match); run the sweep again with "
                             "--resume to recompute it", file=f)
    return pd.concat([pd.read_parquet(f) for f in files.values()], ignore_index=True).sort_values("run",
                                                                                                   ignore_index=True)


# ---- analysis ----

def analyze(out: Path) -> pd.DataFrame:
    """Sensitivity indices per output and parameter, with 95% confidence intervals (SALib).

    Sobol: first-order (S1) and total (ST) indices. Morris: mu* and sigma (elementary effects).
    Latin / Monte Carlo: the delta moment-independent index and S1. Outputs are averaged over each
    point's seeds first. An output that does not vary over the sweep has no indices: they are NaN,
    and its `note` says so (the note is empty for every other output).
    """
    manifest = _read_manifest(out)
    check_stored(out, manifest)
    spec_file = out / "spec.yaml"
    # checked as `sweep` checks it now (a sweep run before a check was added is refused here)
    spec, _ = read_spec(spec_file)
    if spec.design == "grid":
        raise InputError("a grid design has no sensitivity indices; use sobol, morris, latin or monte_carlo", file=out)
    results = read_results(out)
    if len(results) != manifest["runs"]:
        raise InputError(f"holds {len(results)} of {manifest['runs']} runs; finish it with --resume first", file=out)
    design = pd.read_parquet(out / "design.parquet")
    names = list(spec.parameters)
    problem = salib_problem(spec)
    X = design[names].to_numpy()
    rows: list[dict] = []
    notes: dict[str, str] = {}
    for o in spec.outputs:
        Y = results.groupby("point")[o.name].mean().reindex(design.point).to_numpy()
        if not np.isfinite(Y).all():
            raise InputError(f"output {o.name} is not a finite number at every point; no indices computed",
                             file=out / "chunks")
        if _flat(Y):  # the indices are shares of a spread of 0 (or its differences): undefined, not 0
            notes[o.name] = (f"does not vary over the sweep ({Y[0]:.6g} at every point): its sensitivity to the "
                             "parameters is undefined")
            rows += [{"output": o.name, "parameter": n, **dict.fromkeys(INDEX_COLUMNS[spec.design], np.nan)} for n in names]
            continue
        # SALib warns as it goes (SALib 1.6's delta analyzer warns of each bin it cannot fill, then
        # fails): held back, and repeated only if the indices came out, so that a failure is one line
        with warnings.catch_warnings(record=True) as held:
            warnings.simplefilter("always")
            try:
                rows += _indices(spec, problem, names, X, Y, o.name)
            except (KeyError, ValueError, IndexError, ZeroDivisionError, FloatingPointError,
                    np.linalg.LinAlgError) as exc:
                raise InputError(f"SALib cannot compute {spec.design} indices of {o.name} from {len(Y)} points "
                                 f"({type(exc).__name__}: {exc}); use more samples", file=out / "spec.yaml",
                                 field="samples") from None
        table = pd.DataFrame(rows[-len(names):]).drop(columns=["output", "parameter"])
        if not np.isfinite(table.to_numpy(dtype=float)).all():
            raise InputError(f"SALib's {spec.design} indices of {o.name} from {len(Y)} points are not all finite "
                             "numbers; use more samples", file=out / "spec.yaml", field="samples")
        for w in held:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    frame = pd.DataFrame(rows)
    frame["note"] = [notes.get(name, "") for name in frame.output]
    return frame


def _flat(Y: np.ndarray) -> bool:
    """Whether an output does not vary over the sweep's points: its spread is no more than rounding
    (64 units in the last place of its largest value), which the analyzers would divide by."""
    return bool(np.ptp(Y) <= 64 * np.finfo(float).eps * np.abs(Y).max())


def _bootstrap_seed(seed: int) -> int:
    """The seed SALib's analyzers get for their bootstrap intervals: derived from the spec's, and
    never 0, which SALib's sobol and delta analyzers read as no seed (`if seed:`) and replace with
    numpy's global generator, so that the intervals of a spec with seed 0 changed from run to run."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1


#: The indices each analyzed design gives per parameter: the columns of sensitivity.csv between the
#: output and parameter and the note.
INDEX_COLUMNS: dict[str, tuple[str, ...]] = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"), "morris": ("mu_star", "mu_star_conf", "sigma"),
    "latin": ("delta", "delta_conf", "S1", "S1_conf"), "monte_carlo": ("delta", "delta_conf", "S1", "S1_conf")}


def _indices(spec: SweepSpec, problem: dict, names: list[str], X: np.ndarray, Y: np.ndarray,
             output: str) -> list[dict]:
    """One output's sensitivity indices per parameter, from SALib's analyzer for the design."""
    columns: tuple[Any, ...]  # one array per index, in the order of INDEX_COLUMNS
    if spec.design == "sobol":
        from SALib.analyze import sobol

        r = sobol.analyze(problem, Y, calc_second_order=False, conf_level=0.95, seed=_bootstrap_seed(spec.seed))
        columns = (r["S1"], r["S1_conf"], r["ST"], r["ST_conf"])
    elif spec.design == "morris":
        from SALib.analyze import morris

        r = morris.analyze(problem, X, Y, conf_level=0.95, seed=_bootstrap_seed(spec.seed))
        columns = (r["mu_star"], r["mu_star_conf"], r["sigma"])
    elif spec.design in ("latin", "monte_carlo"):
        from SALib.analyze import delta

        r = delta.analyze(problem, X, Y, conf_level=0.95, seed=_bootstrap_seed(spec.seed))
        # Borgonovo's delta with plain bootstrap resampling: SALib 1.6 names it delta_raw (beside two
        # variants of its own), 1.5 named it delta
        key = "delta_raw" if "delta_raw" in r else "delta"
        columns = (r[key], r[f"{key}_conf"], r["S1"], r["S1_conf"])
    else:
        raise ValueError("a grid design has no sensitivity indices")
    return [{"output": output, "parameter": n, **dict(zip(INDEX_COLUMNS[spec.design], (c[k] for c in columns), strict=True))}
            for k, n in enumerate(names)]
