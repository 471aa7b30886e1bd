"""Classroom app: pick a scenario, move the sliders, step or play the years; ask why a pair moved;
read the scenario's lesson; or play a state yourself.

    python -m simulation app        (solara run simulation/interfaces/app.py --no-check-version)

A thin Solara page (not Mesa's SolaraViz, whose one model object all browser tabs shared and
whose framework controls students do not need): each browser tab has its own `Session`, the run
stops at the period's end, settings apply at once (the run is replayed to the same year), and
nothing is fetched from the network.
"""

from __future__ import annotations

import threading
import time
from html import escape
from typing import cast

import numpy as np
import solara
import solara.lab
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure

from simulation.engine import dynamics
from simulation.engine.params import Parameters
from simulation.experiments import explain
from simulation.interfaces import lessons
from simulation.interfaces.classroom import (
    Session,
    debrief_summary,
    differences_from_history,
    documented,
    mids_of,
    scenario_names,
    scenario_question,
)
from simulation.interfaces.plots import CMAP, DOWN, LINE_STYLES, NORM, SAFE_COLOURS, UP, draw_network, explanation_figure
from simulation.states import INDEX, STATES, display_name

PLAY_SECONDS = 0.35
DPI = 110
CSS = """
.v-application { font-size: 16px; }
.bop-title { font-size: 22px; font-weight: 600; margin: 0; line-height: 1.2; }
.bop-year { font-size: 40px; font-weight: 700; line-height: 1; }
.bop-diff { font-size: 15px; color: #333; }
.bop-question { font-size: 16px; font-style: italic; color: #222; margin: 4px 0 0 0; }
.bop-label { font-size: 15px; margin: 6px 0 -14px 0; }
.bop-label b { font-variant-numeric: tabular-nums; }
.bop-controls .v-slider { width: 100%; }
.bop-controls .v-input { margin-top: 0; }
.bop-panel { font-size: 15px; line-height: 1.4; }
.bop-panel table { border-collapse: collapse; } .bop-panel td, .bop-panel th { padding: 2px 8px; border-bottom: 1px solid #ddd; }
.bop-panel td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bop-fig img { max-width: 100%; height: auto; }
.bop-buttons { margin-bottom: 10px; } .bop-buttons .v-btn { margin: 0 4px 4px 0; }
.bop-grid { display: grid; grid-template-columns: repeat(3, 1fr); column-gap: 24px; }
.bop-grid > div { min-width: 0; }
.events-year { font-size: 20px; margin: 0 0 4px 0; }
"""


def _png(fig: Figure, *deps: object) -> solara.Element:
    return solara.FigureMatplotlib(fig, format="png", dpi=DPI, dependencies=list(deps))


def network_figure(session: Session, t: int) -> Figure:
    """The network after `t` years (read once by the caller: Play may step while the page draws)."""
    fig = Figure(figsize=(3.7, 3.8))
    ax = fig.subplots()
    if t == 0:
        ax.text(0.5, 0.5, "Press Step or Play\nto start in 1947", ha="center", va="center", fontsize=14,
                transform=ax.transAxes)
        ax.axis("off")
        return fig
    t -= 1
    draw_network(ax, session.alignment()[t], session.inputs.capability[t], int(session.inputs.years[t]))
    for text in ax.texts:
        text.set_fontsize(10.5)
    ax.set_title(f"{int(session.inputs.years[t])}: alignment network", fontsize=13)
    bar = fig.colorbar(ScalarMappable(cmap=CMAP, norm=NORM), ax=ax, shrink=0.7, orientation="horizontal", pad=0.02)
    bar.set_label("alignment: -1 rivalry (dashed) … +1 alliance", fontsize=11)
    bar.ax.tick_params(labelsize=10)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.1)
    return fig


def pairs_figure(session: Session, t: int, focus: str, partner: str) -> Figure:
    """The focus state's five pairs (colour-blind-safe colours and line styles), the documented
    record of the selected pair (black bars, ±0.3 band) and the running score."""
    fig = Figure(figsize=(4.7, 3.8))
    ax = fig.subplots()
    years = session.inputs.years
    i = INDEX[focus]
    series = session.alignment()[:t]  # the first t years (Play may step while the page draws)
    others = [s for s in STATES if s != focus]
    for k, other in enumerate(others):
        j = INDEX[other]
        selected = other == partner
        ax.plot(years[:t], series[:, i, j], color=SAFE_COLOURS[k], ls=LINE_STYLES[k],
                lw=3.0 if selected else 1.8, label=display_name(other, session.year).replace("United States", "US"))
    for k, r in enumerate(documented(focus, partner).itertuples(index=False)):
        ax.fill_between([r.start, r.end + 1], r.level - 0.3, r.level + 0.3, color="0.85", lw=0, zorder=0)
        ax.hlines(r.level, r.start, r.end + 1, color="black", lw=3, zorder=3,
                  label=f"record: {focus}–{partner}" if k == 0 else "_nolegend_")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlim(int(years[0]), int(years[-1]) + 1)
    ax.set_ylim(-1.05, 1.05)
    ax.tick_params(labelsize=11)
    ax.set_ylabel("alignment (−1 … +1)", fontsize=11)
    total, pair, n = session.running_score(focus, partner)
    title = f"Alignments of {display_name(focus, session.year)}"
    if total is not None:
        title += f"\nscore so far {total:.2f}"
        if pair is not None:
            title += f" · {focus}–{partner}: {pair:.0%} of {n} years on record"
    ax.set_title(title, fontsize=10.5)
    ax.grid(alpha=0.3)
    fig.legend(loc="lower center", ncol=3, fontsize=10, frameon=False, handlelength=2.4, columnspacing=1.0)
    fig.subplots_adjust(left=0.15, right=0.97, top=0.86, bottom=0.3)
    return fig


def why_figure(session: Session, a: str, b: str, year: int) -> Figure:
    """One year's parts of a's stance toward b and of b's toward a (bars add up to each stance)."""
    table = session.why(a, b, year)
    table = table[(table.a_to_b.abs() > 0.005) | (table.b_to_a.abs() > 0.005)]
    fig = Figure(figsize=(5.6, 0.42 * len(table) + 1.6))
    ax = fig.subplots()
    y = np.arange(len(table))
    ax.barh(y - 0.2, table.a_to_b, 0.4, color=UP, label=f"{a} toward {b}")
    ax.barh(y + 0.2, table.b_to_a, 0.4, color=DOWN, hatch="//", edgecolor="white", label=f"{b} toward {a}")
    ax.set_yticks(y, [explain.SHORT.get(p, p) for p in table.part], fontsize=11)
    ax.invert_yaxis()
    ax.axvline(0, color="0.4", lw=0.8)
    ax.tick_params(axis="x", labelsize=10)
    ax.set_title(f"{year}: the parts of each stance (they add up to it)", fontsize=12)
    ax.legend(fontsize=10, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


@solara.component
def Labelled(label: str, value: float, lo: float, hi: float, step: float, on_value, fmt: str = "{:.2f}",
             note: str = ""):
    """A full-width slider with its value shown in its label."""
    shown = round(round((value - lo) / step) * step + lo, 6)  # the slider snaps to its steps

    def moved(v: float) -> None:  # vuetify reports the snapped value at mount: not a change
        if abs(float(v) - shown) > 1e-9:
            on_value(float(v))

    with solara.Div(classes=["bop-slider"]):
        solara.HTML(tag="div", unsafe_innerHTML=f"{escape(label)}: <b>{fmt.format(value)}</b>{escape(note)}",
                    classes=["bop-label"])
        solara.SliderFloat("", value=shown, min=lo, max=hi, step=step, on_value=moved, thumb_label=False)


@solara.component
def Header(session: Session, version: tuple = ()):
    diff = differences_from_history(session.settings)
    players = (" · played by people: " + ", ".join(display_name(p) for p in session.players)) if session.players else ""
    with solara.Row(style={"align-items": "center", "gap": "24px"}):
        solara.HTML(tag="div", unsafe_innerHTML=str(session.year or "–"), classes=["bop-year"],
                    attributes={"data-year": str(session.year or "")})
        with solara.Column(gap="2px", style={"flex": "1"}):
            solara.HTML(tag="p", unsafe_innerHTML="Balance of power in South Asia, 1947-2024", classes=["bop-title"])
            what = "As in history (calibrated weights)" if not diff else "Differs from history: " + "; ".join(diff)
            solara.HTML(tag="div", unsafe_innerHTML=escape(what + players), classes=["bop-diff", "bop-differs"])
            solara.HTML(tag="p", unsafe_innerHTML=escape(scenario_question(session.settings.scenario)),
                        classes=["bop-question"])


@solara.component
def EventsView(session: Session, version: tuple = ()):
    """The year's events (timeline, with sources) and its militarized disputes (MID v5.0)."""
    year = session.year
    if year is None:
        solara.HTML(tag="div", unsafe_innerHTML="<b>Events</b> appear here year by year.", classes=["bop-panel"])
        return
    items = [f"<li><b>{escape(e.description or e.id)}</b> ({escape(e.kind)}: {e.actor}"
             f"{'&rarr;' + e.target if e.target else ''}). <i>Source: {escape(e.source)}</i></li>"
             for e in session.events_of(year)]
    mids = [f"<li>Militarized dispute {m['a']}–{m['b']}: {escape(m['hostility'])}{', fatal' if m['fatal'] else ''}. "
            f"<i>Source: {escape(m['source'])}</i></li>" for m in mids_of(year)]
    if year > 2014:
        mids.append("<li><i>MID v5.0 ends in 2014; later hostile acts come from the event timeline.</i></li>")
    body = "".join(items) or "<li>no event in the timeline this year</li>"
    solara.HTML(tag="div", classes=["bop-panel"], unsafe_innerHTML=(
        f"<h3 class='events-year'>{year}</h3><b>Events</b><ul>{body}</ul>"
        f"<b>Militarized disputes (an input)</b><ul>{''.join(mids) or '<li>none recorded between the six</li>'}</ul>"))


@solara.component
def WhyPanel(session: Session, focus: str, partner: str, version: tuple = ()):
    """Why did the pair move? One year's parts, and the change over a window split by motive."""
    span, set_span = solara.use_state(5)
    if session.t < 2:
        solara.HTML(tag="div", unsafe_innerHTML="Step a few years first: then this panel says why the pair moved.",
                    classes=["bop-panel", "why-panel"])
        return
    first, last = int(session.inputs.years[0]), int(session.year or 0)
    span = max(1, min(span, last - first))
    start = last - span
    e = session.why_since(focus, partner, start, last)
    rows = "".join(f"<tr><td>{escape(r.label)}</td><td class='num'>{r.alignment:+.2f}</td><td class='num'>{r.a_to_b:+.2f}</td>"
                   f"<td class='num'>{r.b_to_a:+.2f}</td></tr>"
                   for r in e.table.itertuples(index=False) if max(abs(r.alignment), abs(r.a_to_b), abs(r.b_to_a)) >= 0.005)
    splits = ""
    for motive, split in e.by_third.items():  # the motives that are sums or maxima over third states
        word, caption, _ = dynamics.THIRD_STATE_SPLITS[motive]
        cells = "".join(f"<tr><td>{escape(display_name(r.state, last))}</td><td class='num'>{r.alignment:+.2f}</td>"
                        f"<td class='num'>{r.a_to_b:+.2f}</td><td class='num'>{r.b_to_a:+.2f}</td></tr>"
                        for r in split.itertuples(index=False)
                        if max(abs(r.alignment), abs(r.a_to_b), abs(r.b_to_a)) >= 0.005)
        if cells:
            splits += (f"<p class='by-third'>{escape(caption)}:</p><table><tr><th>{word}</th><th>alignment</th>"
                       f"<th>{focus}→{partner}</th><th>{partner}→{focus}</th></tr>{cells}</table>")
    change = e.alignment[1] - e.alignment[0]
    players = [p for p in (focus, partner) if p in session.players]
    note = (f"<p><b>{', '.join(players)}</b> is played by people: its stance is their choice, shown as "
            f"'clipped' (it is no motive of the rules).</p>") if players else ""
    with solara.Column(classes=["why-panel"]):
        Labelled(f"Why did {display_name(focus, last)}–{display_name(partner, last)} move since", float(start),
                 float(first), float(last - 1), 1.0, lambda v: set_span(last - int(v)), fmt="{:.0f}")
        with solara.Columns([1, 1]):
            with solara.Column(classes=["bop-fig"]):
                _png(explanation_figure(e, width=4.6),
                     session.t, focus, partner, start, session.settings, session.players)
            with solara.Column(classes=["bop-panel"]):
                solara.HTML(tag="div", unsafe_innerHTML=(
                    f"<p>From {start} to {last} their alignment went from {e.alignment[0]:+.2f} to {e.alignment[1]:+.2f} "
                    f"(<b>{change:+.2f}</b>). Each row is what a motive added in {start + 1}-{last}, carried forward "
                    f"by inertia; 'inertia' is what faded of the {start} stance. Columns add up to the change.</p>{note}"
                    f"<table><tr><th>part</th><th>alignment</th><th>{focus}→{partner}</th><th>{partner}→{focus}</th></tr>"
                    f"{rows}</table>{splits}"))
        with solara.Column(classes=["bop-fig"]):
            _png(why_figure(session, focus, partner, last), session.t, focus, partner, session.settings, session.players)


@solara.component
def LessonPanel(scenario: str):
    try:
        text = lessons.lesson_text(scenario)
    except Exception:  # a scenario without a lesson yet
        text = f"# {scenario}\n\nNo lesson page for this scenario yet."
    students, teacher = lessons.split_teacher(text)
    show, set_show = solara.use_state(False)
    with solara.Column(classes=["bop-panel", "lesson-panel"]):
        solara.HTML(tag="div", unsafe_innerHTML=lessons.to_html(students))
        if teacher:
            solara.Button("Hide teacher notes" if show else "Show teacher notes", on_click=lambda: set_show(not show),
                          outlined=True)
            if show:
                solara.HTML(tag="div", unsafe_innerHTML=lessons.to_html(teacher), classes=["teacher-notes"])
        command = f"python -m simulation.interfaces.lessons {escape(scenario)} --out {escape(scenario)}.html"
        solara.HTML(tag="p", unsafe_innerHTML=f"Printable handout: <code>{command}</code>")


@solara.component
def RolePlay(session: Session, pending: dict, set_pending, bump, version: tuple = ()):
    """Play as one state (or teams: several). Each year the players set their stances; the other
    states follow the rules. The debrief compares the players' choices with the theory's."""
    choose = solara.use_reactive(list(session.players))

    def apply(players: list[str]) -> None:
        choose.set(players)
        session.set_players(tuple(players))
        set_pending({})
        bump()

    with solara.Column(classes=["bop-panel", "roleplay-panel"]):
        solara.SelectMultiple("Play as (one state, or one per team)", values=choose.value, all_values=list(STATES),
                              on_value=apply)
        if not session.players:
            solara.HTML(tag="p", unsafe_innerHTML=(
                "Pick a state to play. Each year you set how close your state stands to each other state "
                "(-1 hostile … +1 allied), then press <b>Step</b>. The other states follow the rules of the model. "
                "The debrief below shows where you departed from what the theory predicted, and what followed."))
            return
        nxt = session.next_year
        if nxt is not None:
            solara.HTML(tag="p", unsafe_innerHTML=(
                f"<b>Your stances for {nxt}</b>: each starts at the theory's suggestion; move a slider to take that "
                f"relation over (it then keeps your value until you move it again), then press <b>Step</b>."))
        for code in session.players:
            solara.HTML(tag="div", unsafe_innerHTML=f"<b>{escape(display_name(code, nxt))}</b>")
            with solara.Div(classes=["bop-controls", "bop-grid"]):
                start = session.default_row(code)
                suggested = session.suggestion(code)
                for other in STATES:
                    if other == code:
                        continue
                    value = float(pending.get(code, {}).get(other, start[INDEX[other]]))

                    def on(v: float, code: str = code, other: str = other) -> None:
                        mine = dict(pending.get(code, {}))
                        mine[other] = float(v)
                        set_pending({**pending, code: mine})

                    mine = other in session.pinned.get(code, set()) or other in pending.get(code, {})
                    note = f" (yours; theory {suggested[INDEX[other]]:+.2f})" if mine else " (theory)"
                    Labelled(f"toward {display_name(other, nxt)}", value, -1.0, 1.0, 0.05, on, fmt="{:+.2f}", note=note)
        if session.t:
            frame = session.debrief()
            lines = debrief_summary(frame)
            solara.HTML(tag="div", classes=["debrief"], unsafe_innerHTML=(
                "<h3>Debrief</h3><ul>" + "".join(f"<li>{escape(s)}</li>" for s in lines) + "</ul>" if lines else
                "<h3>Debrief</h3><p>So far you chose what the theory would have.</p>"))
            with solara.Column(classes=["bop-fig"]):
                _png(debrief_figure(frame, session.players[0]), session.t, tuple(session.players), session.settings)


def debrief_figure(frame, code: str) -> Figure:
    """Left: the player's stances and the theory's; right: the others' responses, with the player and rules only."""
    fig = Figure(figsize=(8.4, 3.4))
    left, right = fig.subplots(1, 2, sharey=True)
    g = frame[frame.player == code]
    for k, (other, h) in enumerate(g.groupby("partner", sort=False)):
        c = SAFE_COLOURS[k]
        left.plot(h.year, h.chosen, color=c, lw=2.2, label=f"toward {other}: chosen")
        left.plot(h.year, h.rules, color=c, lw=1.4, ls="--")
        right.plot(h.year, h.response, color=c, lw=2.2, label=other)
        right.plot(h.year, h.response_rules_only, color=c, lw=1.4, ls="--")
    left.set_title(f"{code} toward others: chosen (solid), theory (dashed)", fontsize=10.5)
    right.set_title(f"others toward {code}: played (solid), rules only (dashed)", fontsize=10.5)
    for ax in (left, right):
        ax.set_ylim(-1.05, 1.05)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=10)
    right.legend(fontsize=10, ncol=3, loc="lower center")
    fig.tight_layout()
    return fig


@solara.component
def Page():
    session = solara.use_memo(Session, [])  # one per browser tab (per render context), never shared
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    focus, set_focus = solara.use_state("PAK")
    partner, set_partner = solara.use_state("USA")
    tab, set_tab = solara.use_state(0)
    pending, set_pending = solara.use_state(cast(dict[str, dict[str, float]], {}))
    _ = tick.value  # re-render when the session steps
    # child components re-render when an argument changes: this one says the session moved on
    t_now = session.t  # read once per render: every figure below shows the same year
    version = (tick.value, t_now, session.settings, session.players)
    base = Parameters.baseline()
    s = session.settings

    def bump() -> None:
        tick.value = tick.value + 1

    def change(**kw: object) -> None:
        playing.set(False)
        session.rebuild(s.with_(**kw))
        bump()

    def step() -> None:
        session.step_once(_choices(session, pending))
        set_pending({})
        bump()

    def reset() -> None:
        playing.set(False)
        session.reset()
        set_pending({})
        bump()

    def to_end() -> None:
        playing.set(False)
        while session.step_once(_choices(session, pending)):
            pass
        bump()

    def play_loop(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            if not session.step_once(_choices(session, pending)):
                break
            bump()
            time.sleep(PLAY_SECONDS)
        if not cancel.is_set():
            playing.set(False)

    solara.use_thread(play_loop, dependencies=[playing.value])
    solara.Style(CSS)
    solara.Title("Balance of power in South Asia")
    if partner == focus:
        set_partner(next(x for x in ("USA", "RUS", "CHN") if x != focus))
    with solara.Column(style={"padding": "8px 16px"}):
        Header(session, version)
        with solara.Columns([1, 3], gutters_dense=True):
            with solara.Column(classes=["bop-controls"], gap="0px"):
                with solara.Row(gap="0px", style={"flex-wrap": "wrap"}, classes=["bop-buttons"]):
                    solara.Button("Step", on_click=step, disabled=session.done or playing.value, color="primary")
                    solara.Button("Pause" if playing.value else "Play", on_click=lambda: playing.set(not playing.value),
                                  disabled=session.done)
                    solara.Button("Reset", on_click=reset)
                    solara.Button("To 2024", on_click=to_end, disabled=session.done)
                if session.done:
                    solara.HTML(tag="div", unsafe_innerHTML="<b>2024 reached</b>: the run is complete.",
                                classes=["run-complete"])
                solara.Select("Scenario", value=s.scenario, values=scenario_names(), on_value=lambda v: change(scenario=v))
                solara.Select("Chart the pairs of", value=focus, values=list(STATES), on_value=set_focus)
                solara.Select("Pair to explain (with)", value=partner, values=[x for x in STATES if x != focus],
                              on_value=set_partner)
                for name, label, step_ in (("threat_weight", "Weight of threat (Walt)", 0.05),
                                           ("power_weight", "Weight of power (Waltz)", 0.05),
                                           ("interest_weight", "Weight of self-interest", 0.05),
                                           ("inertia", "Inertia (stickiness)", 0.01)):
                    lo, hi = Parameters.bounds()[name]
                    value = getattr(s, name)
                    Labelled(label, float(getattr(base, name) if value is None else value), lo, hi, step_,
                             lambda v, name=name: change(**{name: float(v)}))
                Labelled("US-India ties from 2005", s.us_india_ties, 0.0, 1.0, 0.05,
                         lambda v: change(us_india_ties=float(v)), fmt="{:.0%}", note=" (100% = history)")
                Labelled("China's growth after 1978", s.china_growth, 0.25, 1.5, 0.05,
                         lambda v: change(china_growth=float(v)), fmt="{:.2f}×", note=" (1 = history)")
            with solara.Column():
                with solara.lab.Tabs(value=tab, on_value=set_tab, lazy=True):  # draw only the open tab
                    with solara.lab.Tab("Model"):
                        with solara.Columns([4, 5], gutters_dense=True):
                            with solara.Column(classes=["bop-fig"]):
                                _png(network_figure(session, t_now), t_now, s)
                            with solara.Column(classes=["bop-fig"]):
                                _png(pairs_figure(session, t_now, focus, partner), t_now, s, focus, partner)
                        EventsView(session, version)
                    with solara.lab.Tab("Why did it move?"):
                        WhyPanel(session, focus, partner, version)
                    with solara.lab.Tab("Lesson"):
                        LessonPanel(s.scenario)
                    with solara.lab.Tab("Role play"):
                        RolePlay(session, pending, set_pending, bump, version)


def _choices(session: Session, pending: dict) -> dict[str, np.ndarray] | None:
    """The players' stance rows for the next year: the theory's suggestion, except the relations
    they have taken over (their last value) and what they moved this year."""
    if not session.players:
        return None
    return {code: session.default_row(code, pending.get(code, {})) for code in session.players}


page = Page
