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
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulation.engine.params import Parameters
from simulation.errors import InputError
from simulation.states import INDEX, STATES

Design = Literal["grid", "monte_carlo", "latin", "sobol", "morris"]


class Output(BaseModel):
    """One number kept per run: a pair's alignment in a year (or its mean over years), or the score."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    kind: Literal["alignment", "score"] = "alignment"
    pair: tuple[str, str] | None = None
    year: int | None = None
    years: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Output:
        if self.kind == "alignment":
            if self.pair is None or (self.year is None) == (self.years is None):
                raise ValueError("an alignment output needs 'pair' and one of 'year' or 'years'")
            for code in self.pair:
                if code not in INDEX:
                    raise ValueError(f"unknown state code {code!r} (expected one of {' '.join(STATES)})")
            if self.pair[0] == self.pair[1]:
                raise ValueError("a pair needs two different states")
        return self


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    scenario: str = Field(description="base scenario file, relative to the spec")
    design: Design
    samples: int = Field(ge=1, le=1_000_000, description="sobol/latin/monte_carlo: base sample size; "
                         "morris: trajectories; grid: levels per parameter")
    seeds_per_point: int = Field(1, ge=1, le=10_000)
    seed: int = Field(0, ge=0, description="seed of the design's sampler")
    parameters: dict[str, tuple[float, float]] = Field(min_length=1)
    outputs: list[Output] = Field(min_length=1)
    chunk_size: int = Field(1000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _unique(self) -> SweepSpec:
        names = [o.name for o in self.outputs]
        if len(set(names)) != len(names):
            raise ValueError("output names must be unique")
        return self


@dataclass(frozen=True)
class Sweep:
    spec: SweepSpec
    path: Path
    scenario_path: Path
    points: np.ndarray  # (P, D) in the order of spec.parameters

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
    from simulation.experiments.scenario import _line_of, read_yaml_mapping, validation_error

    path = Path(path)
    data, root = read_yaml_mapping(path, "sweep spec")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, path, root) from None
    bounds = Parameters.bounds()
    for name, (lo, hi) in spec.parameters.items():
        where = {"file": path, "line": _line_of(root, ("parameters", name)), "field": f"parameters.{name}"}
        if name not in bounds:
            raise InputError(f"unknown parameter {name!r} (known: {', '.join(bounds)})", **where)
        if name in Parameters.input_stage():
            raise InputError(f"{name} codes the data into inputs, which a sweep builds once; vary it in "
                             "scenario files instead", **where)
        if not bounds[name][0] <= lo < hi <= bounds[name][1]:
            raise InputError(f"range of {name} must satisfy {bounds[name][0]} <= low < high <= {bounds[name][1]}",
                             **where)
    scenario = path.parent / spec.scenario
    if not scenario.exists():
        raise InputError(f"scenario {spec.scenario!r} not found", file=path, line=_line_of(root, ("scenario",)),
                         field="scenario")
    return spec, scenario


def salib_problem(spec: SweepSpec) -> dict:
    """The parameters and their ranges, in SALib's form."""
    names = list(spec.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [list(spec.parameters[n]) for n in names]}


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

    spec, scenario_path = load_spec(path)
    load_scenario(scenario_path)  # validates the base scenario now, not in a worker
    return Sweep(spec, Path(path), scenario_path, sample(spec))


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


def _scenario(path: str) -> tuple:
    """Inputs, parameters and target cells of a scenario, built once per worker process."""
    if path not in _CACHE:
        from simulation.experiments.scenario import load_scenario, scenario_inputs
        from simulation.experiments.score import load_targets, target_cells

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
    frame = pd.DataFrame({"run": task.first_run + np.arange(len(task.seeds)), "point": task.point_ids,
                          "seed": task.seeds})
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

def execute(fn: Callable, items: list, workers: int = 1, scheduler: str | None = None) -> Iterator:
    """Apply fn to every item and yield results as they complete: in this process (workers=1),
    on local processes (workers>1), or on a Dask cluster (scheduler address)."""
    if scheduler is not None:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed

        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}", field="--scheduler") from None
        try:
            futures = client.map(fn, items, pure=False)
            for future in dask_completed(futures):
                yield future.result()
        finally:
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

def spec_hash(sweep: Sweep) -> str:
    payload = json.dumps({"spec": sweep.spec.model_dump(mode="json"),
                          "scenario": sweep.scenario_path.read_text(encoding="utf-8")}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def chunk_path(out: Path, k: int) -> Path:
    return out / "chunks" / f"part-{k:05d}.parquet"


def start(sweep: Sweep, out: Path, resume: bool) -> set[int]:
    """Create (or, with resume, check) the sweep folder; returns the chunks already done."""
    manifest = out / "manifest.json"
    digest = spec_hash(sweep)
    if manifest.exists():
        if not resume:
            raise InputError("already holds a sweep; add --resume to finish it, or choose another --out", file=out)
        if json.loads(manifest.read_text())["spec_hash"] != digest:
            raise InputError("holds a sweep of a different spec (or scenario); --resume needs the same one", file=out)
    else:
        if out.exists() and any(out.iterdir()):
            raise InputError("is not empty and holds no sweep", file=out)
        (out / "chunks").mkdir(parents=True, exist_ok=True)
        design = pd.DataFrame(sweep.points, columns=sweep.names)
        design.insert(0, "point", np.arange(len(design)))
        design.to_parquet(out / "design.parquet", index=False)
        (out / "spec.yaml").write_text(sweep.path.read_text(encoding="utf-8"), encoding="utf-8")
        tmp = manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps({"spec_hash": digest, "runs": sweep.n_runs, "chunks": sweep.n_chunks,
                                   "chunk_size": sweep.spec.chunk_size, "scenario": str(sweep.scenario_path)},
                                  indent=2) + "\n")
        os.replace(tmp, manifest)
    return {k for k in range(sweep.n_chunks) if chunk_path(out, k).exists()}


def write_chunk(out: Path, k: int, frame: pd.DataFrame) -> None:
    """Atomic: a chunk file is either whole or absent, whenever the sweep is killed."""
    final = chunk_path(out, k)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, final)


def run_sweep(sweep: Sweep, out: Path, workers: int = 1, scheduler: str | None = None, resume: bool = False,
              progress: bool = True) -> int:
    """Run every chunk not yet on disk; returns how many chunks this call ran."""
    from tqdm import tqdm

    done = start(sweep, out, resume)
    todo = tasks(sweep, done)
    bar = tqdm(total=sweep.n_runs, initial=sum(min(sweep.spec.chunk_size, sweep.n_runs - k * sweep.spec.chunk_size)
                                               for k in done),
               desc="sweep", unit="run", disable=not progress)
    ran = 0
    for k, frame in execute(run_chunk, todo, workers, scheduler):
        write_chunk(out, k, frame)
        bar.update(len(frame))
        ran += 1
    bar.close()
    return ran


def read_results(out: Path) -> pd.DataFrame:
    files = sorted((out / "chunks").glob("part-*.parquet"))
    if not files:
        raise InputError("holds no sweep results (run `simulation sweep SPEC --out DIR` first)", file=out)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True).sort_values("run", ignore_index=True)


# ---- analysis ----

def analyze(out: Path) -> pd.DataFrame:
    """Sensitivity indices per output and parameter, with 95% confidence intervals (SALib).

    Sobol: first-order (S1) and total (ST) indices. Morris: mu* and sigma (elementary effects).
    Latin / Monte Carlo: the delta moment-independent index and S1. Outputs are averaged over each
    point's seeds first.
    """
    spec = SweepSpec.model_validate(yaml.safe_load((out / "spec.yaml").read_text(encoding="utf-8")))
    manifest = json.loads((out / "manifest.json").read_text())
    results = read_results(out)
    if len(results) != manifest["runs"]:
        raise InputError(f"holds {len(results)} of {manifest['runs']} runs; finish it with --resume first", file=out)
    design = pd.read_parquet(out / "design.parquet")
    names = list(spec.parameters)
    problem = salib_problem(spec)
    X = design[names].to_numpy()
    rows = []
    for o in spec.outputs:
        Y = results.groupby("point")[o.name].mean().reindex(design.point).to_numpy()
        if spec.design == "sobol":
            from SALib.analyze import sobol

            r = sobol.analyze(problem, Y, calc_second_order=False, conf_level=0.95, seed=spec.seed)
            for k, n in enumerate(names):
                rows.append({"output": o.name, "parameter": n, "S1": r["S1"][k], "S1_conf": r["S1_conf"][k],
                             "ST": r["ST"][k], "ST_conf": r["ST_conf"][k]})
        elif spec.design == "morris":
            from SALib.analyze import morris

            r = morris.analyze(problem, X, Y, conf_level=0.95, seed=spec.seed)
            for k, n in enumerate(names):
                rows.append({"output": o.name, "parameter": n, "mu_star": r["mu_star"][k],
                             "mu_star_conf": r["mu_star_conf"][k], "sigma": r["sigma"][k]})
        elif spec.design in ("latin", "monte_carlo"):
            from SALib.analyze import delta

            r = delta.analyze(problem, X, Y, conf_level=0.95, seed=spec.seed)
            for k, n in enumerate(names):
                rows.append({"output": o.name, "parameter": n, "delta": r["delta"][k], "delta_conf": r["delta_conf"][k],
                             "S1": r["S1"][k], "S1_conf": r["S1_conf"][k]})
        else:
            raise InputError("a grid design has no sensitivity indices; use sobol, morris or latin", file=out)
    return pd.DataFrame(rows)
