"""Writes the teaching notebooks (run from the repository root: python notebooks/build_notebooks.py).

The notebooks are generated so that their text and code can be reviewed like any other source;
the test suite executes them top to bottom (tests/test_notebooks.py).
"""

import os
from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).parent
#: Where the notebooks are written (the tests rebuild them elsewhere and compare with the committed ones).
OUT = Path(os.environ.get("NOTEBOOKS_OUT", HERE))
# the package is installed (make install), so the notebooks import it; ROOT only finds the scenarios
SETUP = """import pathlib
ROOT = pathlib.Path.cwd().parent if pathlib.Path.cwd().name == "notebooks" else pathlib.Path.cwd()
%matplotlib inline"""


def notebook(name: str, cells: list[tuple[str, ...]]) -> None:
    """Cells are (kind, text) or (kind, text, tag); tests/test_notebooks.py finds outputs by tag."""
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = []
    for kind, text, *tag in cells:
        cell = nbf.v4.new_markdown_cell(text) if kind == "md" else nbf.v4.new_code_cell(text)
        if tag:
            cell.metadata["tags"] = list(tag)
        out.append(cell)
    nb.cells = out
    nbf.write(nb, OUT / name)


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
    draw_network(ax, alignment[year - 1947], inputs.capability[year - 1947], year)
plt.show()""", "network"),
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
    ("md", """## Why did a pair move?
Every stance, every year, is the sum of its parts as the rules computed them: what was kept from
last year (inertia), each motive's share of the pull (external balancing, threat, bandwagoning,
self-interest, ideology) and the random shock. Over a window, `explain_change` carries each year's
motives forward through inertia, so the parts add up to the change exactly. Why did Russia and
Pakistan converge in 1986-2006? (The same as `python -m simulation explain scenarios/baseline.yaml
--pair RUS PAK --from 1986 --to 2006`.)"""),
    ("code", """from simulation.experiments import explain
from simulation.interfaces.plots import explanation_figure
trace = explain.trace(inputs, Parameters.baseline(), range(20))
why = explain.explain_change(trace, "RUS", "PAK", 1986, 2006)
print(why.table[["label", "alignment", "a_to_b", "b_to_a"]].round(3).to_string(index=False))
print("sum of the parts:", round(why.table.alignment.sum(), 6), " change:", round(why.alignment[1] - why.alignment[0], 6))
for motive, split in why.by_third.items():  # the motives that are sums or maxima over third states
    print(motive, "by third state:")
    print(split.round(3).to_string(index=False))
explanation_figure(why)""", "explain"),
    ("md", """## Exercises
1. Find the year in which US-Pakistan alignment is highest. Which events happen just before it?
2. Look at China-USSR: when does the model's alliance break? Which inputs change around then?
3. The score's `persistence_1947` line is "nothing ever changes". Why is it a fair baseline to beat?
4. India and Pakistan fought in 1965. Run `explain.explain_change(trace, "IND", "PAK", 1963, 1965)`:
   which way does Pakistan's stance toward India move, and against which state (`.by_third`) does the
   model have Pakistan want India? Is that what happened, and which rule would you change?"""),
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
    ("md", """## Why, motive by motive
The threat table above is one reason. `explain` splits the change of a pair into all of them; here
India-US from 2005 to 2024 in the counterfactual. The cut is entered as a sanction, and the rules
read a sanction as a grievance too, so watch the threat row, not only self-interest."""),
    ("code", """from simulation.experiments import explain
from simulation.experiments.scenario import scenario_inputs
from simulation.interfaces.plots import explanation_figure
alt_inputs, alt_params = scenario_inputs(alt)
why = explain.explain_change(explain.trace(alt_inputs, alt_params, range(20)), "IND", "USA", 2005, 2024)
print(why.table[["label", "alignment"]].round(3).to_string(index=False))
explanation_figure(why)""", "explain"),
    ("md", """## Does the answer survive other weights, and the other theory?
The runs above share one weight vector, the calibrated point, so their intervals leave out how
uncertain the weights are. Here each paired run draws its weights from the calibrated posterior
(the same draw for both scenarios), and an effect is **robust** when its sign holds in at least 90%
of the runs. Then the same question under each theory, each with its own calibration."""),
    ("code", """from simulation.experiments.compare import run_paired, theories, theory_dependence
from simulation.experiments.posterior import ParameterSource
drawn = run_paired(base, alt, 100, source=ParameterSource.parse("posterior"))
robust = divergence(alignment_differences(drawn))
robust[["a", "b", "first_year", "largest_difference", "ci_low", "ci_high", "same_sign", "robust"]].head(8)""",
     "posterior"),
    ("code", """by_theory = theories(base, alt, 40)
theory_dependence(by_theory)""", "theories"),
    ("md", """## Exercises
1. Which *other* pairs change, and why? (Hint: look at `threat_differences(result)`.)
2. Copy the scenario file and make the cut start in 1991 instead. Does the story change?
3. Write your own scenario: close China's supply to Pakistan from 2013 with an `inputs:` edit like
   the one above (`series: sanction, actor: CHN, target: PAK`; `scenarios/no_cpec.yaml` is one
   answer). What happens to China-Pakistan and Russia-Pakistan?"""),
])

notebook("03_sweeps_and_sensitivity.ipynb", [
    ("md", """# 3. Sweeps and sensitivity: which theory matters most?

A *sweep* runs the model many times over a range of parameter values. A **Sobol** design lets us
ask how much of the variation in an outcome each parameter explains: alone (first-order index S1)
and with all its interactions (total index ST). Each index comes with a 95% interval (bootstrap):
an index whose interval is wide tells us little, and the intervals are part of the answer.

We vary the **13 weights of the rules** over their documented ranges (the spec the README's table
comes from, `sweeps/weights_sobol.yaml`), including **external balancing** (`balancing_weight`),
and ask about Russia-Pakistan alignment in 2020 and US-India alignment in 2015. With 1024 base
samples that is 15,360 parameter points; the vectorized ensemble runs them in seconds."""),
    ("code", SETUP),
    ("code", """import tempfile, pathlib, yaml
from simulation.experiments import sweep
spec = yaml.safe_load((ROOT / "sweeps" / "weights_sobol.yaml").read_text())
spec.update(scenario=str(ROOT / "scenarios" / "baseline.yaml"), chunk_size=4000,
            outputs=[o for o in spec["outputs"] if o["name"] != "score"])
print("samples:", spec["samples"], "| weights varied:", ", ".join(spec["parameters"]))
path = pathlib.Path(tempfile.mkdtemp()) / "spec.yaml"
path.write_text(yaml.safe_dump(spec, sort_keys=False))  # keep the spec's parameter order: it fixes the design
plan = sweep.prepare(path)
out = path.parent / "results"
sweep.run_sweep(plan, out, progress=False)
print(plan.n_runs, "runs")"""),
    ("code", """table = sweep.analyze(out)
table["ST_low"], table["ST_high"] = table.ST - table.ST_conf, table.ST + table.ST_conf
table.sort_values(["output", "ST"], ascending=[True, False]).groupby("output").head(4).round(3)""", "indices"),
    ("md", """The top three drivers of each outcome, with their 95% intervals, in words, and the largest index
whose interval lies above 0 (when the largest index's own interval reaches 0, the sweep does not tell
that driver's effect apart from none):"""),
    ("code", """for name, t in table.groupby("output"):
    ranked = t.sort_values("ST", ascending=False).reset_index(drop=True)
    words = [f"{r.parameter} ST = {r.ST:.2f} (95% interval {r.ST_low:.2f} to {r.ST_high:.2f})" for r in ranked.head(3).itertuples()]
    print(f"{name}: " + "; ".join(words))
    first = ranked.iloc[0]
    print(f"TOP {name} {first.parameter} {first.ST:.4f} {first.ST_conf:.4f}")
    if first.ST_low <= 0:
        print(f"{name}: the largest index, {first.parameter}, is not told apart from 0 (its interval reaches {first.ST_low:.2f})")
    above = ranked[ranked.ST_low > 0]  # the drivers the sweep tells apart from 0, largest first
    if len(above):
        r, rank = above.iloc[0], above.index[0] + 1
        print(f"{name}: the largest index told apart from 0 is {r.parameter}'s, ranked {rank}")
        print(f"RESOLVED {name} {r.parameter} {r.ST:.4f} {r.ST_conf:.4f} {rank}")""", "top"),
    ("code", """import matplotlib.pyplot as plt
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
order = table[table.output == "rus_pak_2020"].sort_values("ST").parameter
for ax, (name, t) in zip(axes, table.groupby("output")):
    t = t.set_index("parameter").loc[order]
    ax.barh(range(len(t)), t.ST, xerr=t.ST_conf, color="#E69F00", label="total (ST), 95% interval")
    ax.barh(range(len(t)), t.S1, height=0.4, color="#0072B2", label="first order (S1)")
    ax.set_yticks(range(len(t)), t.index)
    ax.set_title(name); ax.grid(axis="x", alpha=.3)
axes[0].legend(loc="lower right")
plt.show()""", "figure"),
    ("md", """## Reading the result
The printout names each outcome's top drivers as this calibration of the model has them; it is
computed, not written in advance, so it stays true when the model is recalibrated (the README's
Sobol table is from one calibration; compare them). The suite checks, every time this notebook runs,
that each outcome has a driver among its top three whose interval lies above 0, and that the
printout says so when the largest index's interval does not. How wide the intervals are depends on
the calibration (the weights not varied stay at the committed point): on the committed one the top
three drivers' intervals are about ±0.27 to ±0.92 at 1024 samples, widest for Russia-Pakistan's
largest index, self-interest's, which the sweep does not tell apart from 0: most of it comes from a
few points at which moving that weight flips the 2020 alignment from friendship to enmity, and a
total index made of a few flips is not a steady effect. The sweep does resolve inertia for
Russia-Pakistan and external balancing for US-India. An interval that reaches above 1 is estimation
noise (a total index cannot exceed 1). Read the drivers with their intervals: where two intervals
overlap the sweep does not tell those two drivers apart (on the committed calibration the top three
of each outcome overlap).
Is the top driver a balance-of-threat weight (threat, intent, external balancing), a
balance-of-power weight (power, poles), self-interest or inertia?

## Exercises
1. Which weights have ST intervals that include 0? Could they be fixed without changing the outcomes?
2. Set `spec["samples"] = 64` and run again. How wide do the intervals get? Would you trust the ranking?
3. Add the output `{name: score, kind: score}` back. Which theory drives the fit to the record?"""),
])
