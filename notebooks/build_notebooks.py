"""Writes the teaching notebooks (run from the repository root: python notebooks/build_notebooks.py).

The notebooks are generated so that their text and code can be reviewed like any other source;
the test suite executes them top to bottom (tests/test_notebooks.py).
"""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).parent
SETUP = """import sys, pathlib
ROOT = pathlib.Path.cwd().parent if pathlib.Path.cwd().name == "notebooks" else pathlib.Path.cwd()
sys.path.insert(0, str(ROOT))
%matplotlib inline"""


def notebook(name: str, cells: list[tuple[str, str]]) -> None:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbf.v4.new_markdown_cell(text) if kind == "md" else nbf.v4.new_code_cell(text) for kind, text in cells]
    nbf.write(nb, HERE / name)


notebook("01_introduction.ipynb", [
    ("md", """# 1. Balance of power in South Asia: an introduction

Six states (Afghanistan, China, India, Pakistan, the USSR/Russia and the United States) decide every
year how close to stand to one another. In this model they decide by three kinds of reasons that
International Relations theory gives:

* **Threat** (Stephen Walt, 1987): states line up against whoever threatens them. Threat grows with the
  other state's **power**, how **near** it is, its **offensive** weapons, and how **aggressive** its
  intentions look (wars, invasions, disputes).
* **Power** (Kenneth Waltz, 1979): states watch the balance of capabilities; in a world of two
  superpowers, the two poles balance each other.
* **Self-interest**: arms, aid, energy and investment make a partner valuable.

Nothing in the model says "Pakistan joins the West in 1954". The model only knows the *inputs*
(capabilities, wars, regime changes, sanctions...) and the *rules*. The alignments come out of the
rules, and we then compare them with what historians document."""),
    ("code", SETUP),
    ("md", "## The inputs\nEvery state's capability (COW's CINC index) from 1947 to 2024:"),
    ("code", """from simulation.engine.inputs import build_inputs
from simulation.states import STATES, display_name
import matplotlib.pyplot as plt

inputs = build_inputs(1947, 2024)
fig, ax = plt.subplots(figsize=(8, 3.5))
for k, s in enumerate(STATES):
    ax.plot(inputs.years, inputs.capability[:, k], label=display_name(s))
ax.set_ylabel("share of world capabilities (CINC)"); ax.legend(ncol=3, fontsize=8); ax.grid(alpha=.3)"""),
    ("md", "The event timeline lists what happened and where each fact comes from. Here are the 1970s:"),
    ("code", """from simulation.engine.timeline import load_events
from simulation.engine.inputs import DATA_DIR, regime_labels
events = load_events(DATA_DIR / "events.csv", regime_labels())
for e in events:
    if 1970 <= e.year < 1980:
        print(f"{e.year}  {e.kind:11s} {e.actor}->{e.target or '-':4s} {e.description}  [{e.source}]")"""),
    ("md", "## Run the baseline\nOne run of the whole period takes a fraction of a second."),
    ("code", """from simulation.engine.model import AlignmentModel
from simulation.engine.params import Parameters
model = AlignmentModel(inputs, Parameters.baseline(), seed=0)
model.run()
alignment = model.series("alignment")   # (year, state, state), from -1 (rivalry) to +1 (alliance)
i, j = STATES.index("PAK"), STATES.index("USA")
print("US-Pakistan alignment in 1955, 1985, 1995:",
      [round(float(alignment[y - 1947, i, j]), 2) for y in (1955, 1985, 1995)])"""),
    ("code", """from simulation.interfaces.plots import draw_network
fig, axes = plt.subplots(1, 3, figsize=(13, 4.5))
for ax, year in zip(axes, (1955, 1985, 2022)):
    draw_network(ax, alignment[year - 1947], inputs.capability[year - 1947], year)"""),
    ("md", """## How good is it?
We score the model against a record of documented alignments (`simulation/data/targets.csv`, with a
source for every row): a year counts as right when the model is within 0.3 of the documented level,
and each documented *shift* counts when the model moves the same way. The parameters were fitted on
1947-1990 only, so 1991-2024 is an honest test."""),
    ("code", """from simulation.engine.ensemble import simulate
from simulation.experiments.score import load_targets
from simulation.experiments.report import score_report, format_report
runs = simulate(inputs, Parameters.baseline(), range(20), keep_threat=False)
report = score_report(runs.alignment, inputs, load_targets(), Parameters.baseline(), 1990, list(range(20)))
print(format_report(report))"""),
    ("md", """## Exercises
1. Find the year in which US-Pakistan alignment is highest. Which events happen just before it?
2. Look at China-USSR: when does the model's alliance break? Which inputs change around then?
3. The score's `persistence_1947` line is "nothing ever changes". Why is it a fair baseline to beat?"""),
])

notebook("02_counterfactual_lab.ipynb", [
    ("md", """# 2. Counterfactual lab: what if US-India ties had weakened after 2005?

A *counterfactual* changes history's inputs and lets the rules do the rest. The scenario file
`scenarios/us_india_ties_weaken.yaml` cuts the arms, aid and market channels between the US and
India to 30% from 2005. It never says "India and the US are less aligned": we want to see whether
the rules produce that, and what else follows."""),
    ("code", SETUP),
    ("code", """print((ROOT / "scenarios" / "us_india_ties_weaken.yaml").read_text())"""),
    ("md", "We run both scenarios 100 times with the *same* random seeds, so any difference comes from the inputs."),
    ("code", """from simulation.experiments.scenario import load_scenario
from simulation.experiments.compare import run_comparison, alignment_differences, divergence, threat_differences, summary_markdown
base, _ = load_scenario(ROOT / "scenarios" / "baseline.yaml")
alt, _ = load_scenario(ROOT / "scenarios" / "us_india_ties_weaken.yaml")
result = run_comparison(base, alt, runs=100)
diffs = alignment_differences(result)
div = divergence(diffs)
div.head(8)"""),
    ("code", """from IPython.display import Markdown
Markdown(summary_markdown(result, diffs, div, threat_differences(result), 100))"""),
    ("code", """import matplotlib.pyplot as plt
from simulation.states import PAIRS
fig, ax = plt.subplots(figsize=(8, 3.5))
p = PAIRS.index(("IND", "USA"))
for series, label in ((result.base_alignment, "baseline"), (result.alt_alignment, "ties weakened")):
    ax.plot(result.years, series[:, :, p].mean(axis=0), label=label)
ax.axvline(2005, color="0.5", ls=":"); ax.set_title("India-US alignment"); ax.legend(); ax.grid(alpha=.3)"""),
    ("md", """## Exercises
1. Which *other* pairs change, and why? (Hint: look at `threat_differences(result)`.)
2. Copy the scenario file and make the cut start in 1991 instead. Does the story change?
3. Write your own scenario: remove the event `cpec` (see `simulation/data/events.csv`). What happens
   to China-Pakistan and Russia-Pakistan?"""),
])

notebook("03_sweeps_and_sensitivity.ipynb", [
    ("md", """# 3. Sweeps and sensitivity: which theory matters most?

A *sweep* runs the model many times over a range of parameter values. A **Sobol** design lets us
ask how much of the variation in an outcome each parameter explains: alone (first-order index S1)
and together with the others (total index ST). Here we ask it of Russia-Pakistan alignment in 2020,
the rapprochement both theses study."""),
    ("code", SETUP),
    ("code", """import tempfile, pathlib
spec = pathlib.Path(tempfile.mkdtemp()) / "spec.yaml"
spec.write_text(f'''name: classroom_sobol
scenario: {ROOT / "scenarios" / "baseline.yaml"}
design: sobol
samples: 64
seeds_per_point: 1
parameters:
  threat_weight: [0.0, 3.0]
  intent_weight: [0.0, 3.0]
  power_weight: [0.0, 3.0]
  interest_weight: [0.0, 4.0]
  affinity_weight: [0.0, 2.0]
  inertia: [0.3, 0.95]
outputs:
  - {{name: rus_pak_2020, pair: [PAK, RUS], year: 2020}}
chunk_size: 500
''')
from simulation.experiments import sweep
plan = sweep.prepare(spec)
print(plan.n_runs, "runs")
out = spec.parent / "results"
sweep.run_sweep(plan, out, progress=False)
results = sweep.read_results(out)
results.head()"""),
    ("code", """table = sweep.analyze(out)
table.sort_values("ST", ascending=False)"""),
    ("code", """import matplotlib.pyplot as plt
t = table.sort_values("ST")
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh(t.parameter, t.ST, xerr=t.ST_conf, label="total (ST)")
ax.barh(t.parameter, t.S1, alpha=.7, label="first order (S1)")
ax.set_title("Russia-Pakistan alignment in 2020: what drives it?"); ax.legend()"""),
    ("md", """## Exercises
1. Which parameter matters most? Is it a balance-of-threat, a balance-of-power or a self-interest weight?
2. Change the output to `pair: [IND, USA], year: 2015`. Does the ranking change?
3. Why do the confidence intervals shrink when you raise `samples`?"""),
])
