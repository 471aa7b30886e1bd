"""Run a scenario: build its inputs once, then step a few runs in one batch recording every part of
every stance (each run written in full), or many on the ensemble in chunks (equal to the Mesa runs
to 1e-9), keeping summaries so that memory stays flat in the number of runs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulation.engine import dynamics
from simulation.engine.ensemble import Ensemble, simulate
from simulation.engine.inputs import Inputs
from simulation.engine.params import Parameters
from simulation.engine.timeline import Event
from simulation.experiments.posterior import ParameterSource
from simulation.experiments.scenario import Scenario, scenario_events, scenario_inputs
from simulation.states import N_STATES, PAIR_A, PAIR_B, PAIRS

if TYPE_CHECKING:
    from simulation.experiments.explain import Trace

#: Up to this many runs, `run` writes every run in full (and their motives); above, summaries.
FULL_MAX_RUNS = 8
#: Runs simulated at once on the ensemble (about 45 MB each chunk for 78 years).
CHUNK_RUNS = 500
#: Quantiles of many-run alignments are read off a histogram of this bin width over [-1, 1].
QUANTILE_STEP = 1e-3
QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class FewRuns:
    """What a few-run `run` computes: the scenario's inputs, parameters and events, its runs traced
    (`explain.trace`), and the balance-of-power-only baseline's alignments over the same seeds."""

    inputs: Inputs
    params: Parameters
    events: list[Event]
    trace: Trace
    baseline: np.ndarray  # (B, T, N, N): report.balance_of_power_only(params), seeds[:report.BASELINE_RUNS]


def _batch(*groups: tuple[Parameters, int]) -> Parameters:
    """One Parameters for consecutive groups of runs, each (weights, runs) with its own weights (a
    point, or one value per run)."""
    return Parameters(**{name: np.concatenate([np.broadcast_to(np.asarray(getattr(p, name), dtype=float), (k,))
                                               for p, k in groups]) for name in Parameters.names()})


def run_scenario(scenario: Scenario, seeds: Iterable[int] | None = None,
                 source: ParameterSource | None = None) -> FewRuns:
    """Every seed in one batch, with every year's stance split into its parts and the instruments
    chosen (`explain.trace`): what a few-run `run` writes. With a posterior `source`, each run takes
    its seed's draw (the scenario's own parameter overrides kept).

    The batch steps the same yearly functions as the Mesa model (`engine/dynamics.py`) and equals
    it, run by run, to the bit (tests/test_model.py); it does not import Mesa, whose import alone
    takes longer than the whole run. The score's balance-of-power-only baseline rides in the same
    batch (its own rows, its own weights): a year's step costs about as much for 2 runs as for 1."""
    from simulation.experiments.explain import trace
    from simulation.experiments.report import BASELINE_RUNS, balance_of_power_only

    events = scenario_events(scenario)
    inputs, params = scenario_inputs(scenario, events)
    source = source or ParameterSource()
    params = source.fixed(params, tuple(scenario.overrides()))  # a record's weights, recorded and scored as run
    seeds = list(scenario.seeds if seeds is None else seeds)
    base = seeds[:BASELINE_RUNS]
    weights = _batch((source.for_runs(params, seeds, tuple(scenario.overrides())), len(seeds)),
                     (balance_of_power_only(params), len(base)))
    both = trace(inputs, weights, seeds + base, dynamics.INSTRUMENTS)
    return FewRuns(inputs, params, events, both.runs(slice(0, len(seeds))), both.alignment[len(seeds):])


def run_chunks(inputs: Inputs, params: Parameters, seeds: Sequence[int], chunk: int = CHUNK_RUNS,
               progress: bool = False, source: ParameterSource | None = None,
               keep: tuple[str, ...] = ()) -> Iterator[Ensemble]:
    """The runs of `seeds` on the ensemble, `chunk` at a time, in seed order (each with its posterior
    draw when `source` has one; weights named in `keep` stay as `params` has them)."""
    from tqdm import tqdm

    source = source or ParameterSource()
    with tqdm(total=len(seeds), desc="runs", unit="run", disable=not progress) as bar:
        for k in range(0, len(seeds), chunk):
            part_seeds = list(seeds[k:k + chunk])
            part = simulate(inputs, source.for_runs(params, part_seeds, keep), part_seeds,
                            keep_instruments=dynamics.INSTRUMENTS)
            bar.update(len(part.seeds))
            yield part
            del part  # before the next chunk is simulated, so only one is ever held


class Summary:
    """Per pair-year alignment mean and quantiles, and per directed pair-year threat mean and standard
    deviation, over runs added a chunk at a time. Memory does not grow with the number of runs:
    quantiles come from a fixed histogram (bins of `QUANTILE_STEP`), so they are exact to half a bin."""

    def __init__(self, years: np.ndarray) -> None:
        self.years = years
        self.runs = 0
        T = len(years)
        self.bins = round(2 / QUANTILE_STEP) + 1
        self.counts = np.zeros((T * len(PAIRS), self.bins), dtype=np.int64)
        self.align_sum = np.zeros((T, len(PAIRS)))
        self.threat_sum = np.zeros((T, N_STATES, N_STATES))
        self.threat_sq = np.zeros((T, N_STATES, N_STATES))
        self.instrument_sum = {name: np.zeros((T, N_STATES, N_STATES)) for name in dynamics.INSTRUMENTS}

    def add(self, run: Ensemble) -> None:
        pairs = run.alignment[:, :, PAIR_A, PAIR_B]  # (B, T, P)
        self.runs += pairs.shape[0]
        self.align_sum += pairs.sum(axis=0)
        self.threat_sum += run.threat.sum(axis=0)
        self.threat_sq += (run.threat ** 2).sum(axis=0)
        for name, series in run.instruments.items():
            self.instrument_sum[name] += series.sum(axis=0)
        index = np.clip(np.rint((pairs + 1.0) / QUANTILE_STEP), 0, self.bins - 1).astype(np.int64)
        flat = (np.arange(index[0].size).reshape(index.shape[1:]) * self.bins + index).reshape(-1)
        self.counts += np.bincount(flat, minlength=self.counts.size).reshape(self.counts.shape)

    def alignment_quantile(self, q: float) -> np.ndarray:
        """(T, P): the smallest bin value with at least a share q of the runs at or below it."""
        cumulative = np.cumsum(self.counts, axis=1)
        first = (cumulative >= q * self.runs - 1e-9).argmax(axis=1)
        return (first * QUANTILE_STEP - 1.0).reshape(self.align_sum.shape)

    @property
    def alignment_mean(self) -> np.ndarray:
        return self.align_sum / self.runs

    def instrument_mean(self, name: str) -> np.ndarray:
        """(T, N, N) [from, to]: the mean over runs of an instrument's series."""
        return self.instrument_sum[name] / self.runs

    @property
    def threat_mean(self) -> np.ndarray:
        return self.threat_sum / self.runs

    @property
    def threat_sd(self) -> np.ndarray:
        n = self.runs
        var = (self.threat_sq - self.threat_sum ** 2 / n) / max(n - 1, 1)
        return np.sqrt(np.clip(var, 0.0, None))
