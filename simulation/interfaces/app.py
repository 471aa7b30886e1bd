"""Classroom app (Mesa SolaraViz): pick a scenario, move the sliders, step or play the years.

    solara run simulation/interfaces/app.py --host 127.0.0.1      (or: python -m simulation app)

Shows the alignment network of the current year (edge colour and width by alignment, node size by
capability), a line chart of the chosen state's pairs so far, and the year's events with sources.
"""

from __future__ import annotations

from html import escape

import solara
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from simulation.engine.params import Parameters
from simulation.interfaces.classroom import ClassroomModel, scenario_names
from simulation.interfaces.plots import CMAP, NORM, draw_network
from simulation.states import INDEX, STATES, display_name


def NetworkView(model: ClassroomModel):
    """The alignment network of the year just simulated."""
    fig = Figure(figsize=(5.6, 5.2))
    ax = fig.subplots()
    if model.t == 0:
        ax.text(0.5, 0.5, "Press Step or Play to start in 1947", ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
    else:
        draw_network(ax, model.state.alignment[0], model.inputs.capability[model.t - 1], model.year)
        ax.set_title(f"{model.year}: alignment network ({model.counterfactual})")
        fig.colorbar(ScalarMappable(cmap=CMAP, norm=NORM), ax=ax, shrink=0.6, label="alignment (dashed: hostile)")
    return solara.FigureMatplotlib(fig, format="png", dependencies=[model.t, model.counterfactual])


def PairsChart(model: ClassroomModel):
    """Alignment over time of the focus state's five pairs, up to the current year."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    i = INDEX[model.focus]
    if model.t > 0:
        series = model.series("alignment")
        years = model.inputs.years[: model.t]
        for j, other in enumerate(STATES):
            if j != i:
                ax.plot(years, series[:, i, j], lw=1.8, label=f"{model.focus}–{other}")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlim(int(model.inputs.years[0]), int(model.inputs.years[-1]))
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("alignment (-1 rivalry, +1 alliance)")
    ax.set_title(f"Alignments of {display_name(model.focus)}")
    ax.grid(alpha=0.3)
    if model.t > 0:
        ax.legend(fontsize=8, loc="lower left", ncol=2)
    fig.tight_layout()
    return solara.FigureMatplotlib(fig, format="png", dependencies=[model.t, model.focus, model.counterfactual])


def EventsView(model: ClassroomModel):
    """What happened this year, with its source (plain HTML: Markdown would load a math renderer)."""
    if model.t == 0:
        return solara.HTML(tag="div", unsafe_innerHTML="<b>Events</b> appear here year by year.")
    items = [f"<li><b>{escape(e.description or e.id)}</b> ({escape(e.kind)}: {e.actor}"
             f"{'&rarr;' + e.target if e.target else ''}). <i>Source: {escape(e.source)}</i></li>"
             for e in model.events_of(model.year)] or ["<li>no event in the timeline this year</li>"]
    return solara.HTML(tag="div", unsafe_innerHTML=f"<h3 class='events-year'>{model.year}</h3><ul>{''.join(items)}</ul>")


def model_params() -> dict:
    base = Parameters.baseline()
    bounds = Parameters.bounds()

    def slider(name: str, label: str, step: float = 0.05) -> dict:
        lo, hi = bounds[name]
        return {"type": "SliderFloat", "value": round(getattr(base, name), 2), "min": lo, "max": hi,
                "step": step, "label": label}

    return {
        "counterfactual": {"type": "Select", "value": "baseline", "values": scenario_names(), "label": "Scenario"},
        "threat_weight": slider("threat_weight", "Weight of threat (Walt)"),
        "power_weight": slider("power_weight", "Weight of power (Waltz)"),
        "interest_weight": slider("interest_weight", "Weight of self-interest"),
        "inertia": slider("inertia", "Inertia (stickiness of alignments)", 0.01),
        "us_india_ties": {"type": "SliderFloat", "value": 1.0, "min": 0.0, "max": 1.0, "step": 0.05,
                          "label": "US-India ties from 2005 (1 = as in history)"},
        "china_growth": {"type": "SliderFloat", "value": 1.0, "min": 0.25, "max": 1.5, "step": 0.05,
                         "label": "China's growth after 1978 (1 = as in history)"},
        "focus": {"type": "Select", "value": "PAK", "values": list(STATES), "label": "Chart the pairs of"},
        "seed": 0,
    }


model = ClassroomModel()
page = SolaraViz(
    model,
    components=[(NetworkView, 0), (PairsChart, 0), (EventsView, 0)],
    model_params=model_params(),
    name="Balance of power in South Asia, 1947-2024",
    play_interval=300,
)
