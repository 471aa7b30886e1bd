"""Every figure the package draws: alignment over time, the network, ablation, comparison, sensitivity.

Figures are built on `matplotlib.figure.Figure` directly, not pyplot: no backend is chosen at
import (a notebook keeps its inline backend) and no global figure state is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import colormaps, rcParams
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from simulation.states import PAIRS, STATES, display_name

if TYPE_CHECKING:
    import pandas as pd

    from simulation.experiments.compare import Paired
    from simulation.experiments.explain import Explanation
    from simulation.experiments.instrument_score import SupplierShares
    from simulation.experiments.score import Target

NETWORK_YEARS = (1955, 1972, 1985, 2003, 2022)
#: Fixed, roughly geographic layout so that the pictures can be compared year to year.
LAYOUT = {"USA": (-1.0, 0.55), "RUS": (0.2, 1.0), "CHN": (1.0, 0.35), "AFG": (-0.2, 0.1),
          "PAK": (-0.1, -0.55), "IND": (0.55, -0.75)}
CMAP = colormaps["RdBu"]
NORM = TwoSlopeNorm(vmin=-1.0, vcenter=0.0, vmax=1.0)
#: Resolution of the figures a run writes.
DPI = 110
#: Where fig.tight_layout() puts the 3 x 5 panels of the alignment figure at its size and with its
#: labels (the same for any period, title or number of runs). Fixed, because tight_layout lays the
#: figure out by measuring every tick label of the 15 panels, which took 40% of the figure's time;
#: tests/test_plots.py checks that tight_layout still chooses these.
SERIES_LAYOUT = {"left": 0.0579, "right": 0.9912, "bottom": 0.0454, "top": 0.9225, "wspace": 0.0659, "hspace": 0.174}


def _save(fig: Figure, path: Path, crop: bool = False) -> None:
    """Write `fig` as a PNG at DPI with the Agg renderer. `crop` trims the margins the way
    savefig's bbox_inches="tight" does, measured from the figure's artists: "tight" first draws the
    whole figure (with drawing switched off) only to measure it, a fifth of the network figure's
    time; the pixels are the same (tests/test_plots.py)."""
    box = None
    if crop:
        fig.set_dpi(DPI)  # measure at the resolution the file is written at, as "tight" does
        box = fig.get_tightbbox(FigureCanvasAgg(fig).get_renderer()).padded(rcParams["savefig.pad_inches"])
    fig.savefig(path, dpi=DPI, bbox_inches=box)


def plot_alignment_series(years: np.ndarray, mean: np.ndarray, path: Path,
                          band: tuple[np.ndarray, np.ndarray] | None = None, targets: list[Target] | None = None,
                          title: str = "Alignment by pair") -> None:
    """One panel per pair: the mean over runs (T, P: pairs in PAIRS order), a band (5-95% across
    runs, each (T, P)) when there are several, and the documented target levels when given
    (score.load_targets)."""
    _save(alignment_series_figure(years, mean, band, targets, title), path)


def alignment_series_figure(years: np.ndarray, mean: np.ndarray, band: tuple[np.ndarray, np.ndarray] | None = None,
                            targets: list[Target] | None = None, title: str = "Alignment by pair") -> Figure:
    """The figure `plot_alignment_series` writes."""
    fig = Figure(figsize=(17, 8.5))
    axes = fig.subplots(3, 5, sharex=True, sharey=True)
    for p, (ax, (a, b)) in enumerate(zip(axes.flat, PAIRS, strict=True)):
        ax.axhline(0, color="0.6", lw=0.8)
        if band is not None:
            ax.fill_between(years, band[0][:, p], band[1][:, p], color="tab:blue", alpha=0.2, lw=0)
        ax.plot(years, mean[:, p], color="tab:blue", lw=1.8, label="model")
        documented = [t for t in targets or () if (t.a, t.b) == (a, b)]
        if documented:  # one collection per panel: the pixels of one per period, with far fewer artists
            ax.hlines([r.level for r in documented], [r.start for r in documented],
                      [r.end + 1 for r in documented], color="black", lw=2.5, alpha=0.6, label="documented")
        ax.set_title(f"{a}–{b}", fontsize=10)
        ax.set_ylim(-1.05, 1.05)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="lower left", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("alignment\n(-1 rivalry, +1 alliance)")
    fig.suptitle(title)
    fig.subplots_adjust(**SERIES_LAYOUT)
    return fig


def draw_network(ax: Axes, alignment: np.ndarray, capability: np.ndarray, year: int) -> None:
    """One year's alignment network on `ax`: edge colour and width by alignment (dashed when hostile),
    node size by capability (CINC). `alignment` is (N, N), `capability` (N,)."""
    for a, b in PAIRS:
        v = float(alignment[STATES.index(a), STATES.index(b)])
        if abs(v) < 0.1:
            continue
        (x1, y1), (x2, y2) = LAYOUT[a], LAYOUT[b]
        ax.plot([x1, x2], [y1, y2], color=CMAP(NORM(v)), lw=1 + 7 * abs(v), alpha=0.9, zorder=1,
                ls="-" if v > 0 else "--")
    for k, s in enumerate(STATES):
        x, y = LAYOUT[s]
        ax.scatter([x], [y], s=300 + 9000 * float(capability[k]), color="0.92", edgecolor="0.2", zorder=2)
        ax.text(x, y, display_name(s, year).replace("United States", "USA"), ha="center", va="center",
                fontsize=8.5, zorder=3)
    ax.set_title(str(year))
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.15, 1.35)
    ax.axis("off")


def plot_networks(years: np.ndarray, mean: np.ndarray, capability: np.ndarray, path: Path,
                  shown: tuple[int, ...] = NETWORK_YEARS) -> None:
    """The alignment network in the `shown` years among `years` (none: no file): `mean` is the mean
    alignment over runs (T, P: pairs in PAIRS order), `capability` (T, N) each state's CINC."""
    fig = network_figure(years, mean, capability, shown)
    if fig is not None:
        _save(fig, path, crop=True)


def network_figure(years: np.ndarray, mean: np.ndarray, capability: np.ndarray,
                   shown: tuple[int, ...] = NETWORK_YEARS) -> Figure | None:
    """The figure `plot_networks` writes (None if no year of `shown` lies in `years`)."""
    shown = tuple(y for y in shown if y in set(years.tolist()))
    if not shown:
        return None
    fig = Figure(figsize=(4.2 * len(shown), 4.6))
    axes = fig.subplots(1, len(shown))
    axes = np.atleast_1d(axes)
    for ax, year in zip(axes, shown, strict=True):
        t = year - int(years[0])
        matrix = np.zeros((len(STATES), len(STATES)))
        for p, (a, b) in enumerate(PAIRS):
            i, j = STATES.index(a), STATES.index(b)
            matrix[i, j] = matrix[j, i] = mean[t, p]
        draw_network(ax, matrix, capability[t], year)
    sm = ScalarMappable(cmap=CMAP, norm=NORM)
    fig.colorbar(sm, ax=list(axes), shrink=0.7, label="alignment (dashed: hostile)")
    fig.suptitle("Alignment network (node size: capability, CINC)")
    return fig


def plot_ablation(table: pd.DataFrame, path: Path) -> None:
    """Bars of in-sample and out-of-sample score per model variant, with the spread across seeds."""
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    x = np.arange(len(table))
    for k, (col, label) in enumerate((("in_sample", "in sample"), ("out_of_sample", "out of sample"))):
        ax.bar(x + (k - 0.5) * 0.38, table[col], 0.38, yerr=table[f"{col}_sd"], capsize=3, label=label)
    ax.set_xticks(x, table["variant"], rotation=30, ha="right", rotation_mode="anchor")
    ax.set_ylim(0, 1)
    ax.set_ylabel("score (share of the record reproduced)")
    ax.set_title("Which theory explains what: each variant refitted on the fitted years (mean ± sd over runs)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_comparison(c: Paired, div: pd.DataFrame, path: Path, max_pairs: int = 6) -> None:
    """Both scenarios for the pairs that change most: mean and 95% band across runs."""
    pairs = [(r.a, r.b) for r in div.head(max_pairs).itertuples(index=False)] or list(PAIRS[:3])
    cols = min(3, len(pairs))
    rows = int(np.ceil(len(pairs) / cols))
    fig = Figure(figsize=(5.2 * cols, 3.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for ax, (a, b) in zip(axes.flat, pairs):
        p = PAIRS.index((a, b))
        for summary, label, color in ((c.base_summary, c.base.name, "0.35"), (c.alt_summary, c.alt.name, "tab:red")):
            lo, hi = summary.alignment_quantile(0.025)[:, p], summary.alignment_quantile(0.975)[:, p]
            ax.fill_between(c.years, lo, hi, color=color, alpha=0.18, lw=0)
            ax.plot(c.years, summary.alignment_mean[:, p], color=color, lw=1.8, label=label)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_title(f"{a}–{b}")
        ax.set_ylim(-1.05, 1.05)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(pairs):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"{c.alt.name} vs {c.base.name}: mean alignment and 95% band across runs")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_sensitivity(table: pd.DataFrame, path: Path) -> None:
    outputs = list(dict.fromkeys(table.output))
    main, conf, total = (("S1", "S1_conf", "ST") if "ST" in table else ("mu_star", "mu_star_conf", None)
                         if "mu_star" in table else ("delta", "delta_conf", None))
    fig = Figure(figsize=(6.5 * len(outputs), 0.32 * table.parameter.nunique() + 1.8))
    axes = fig.subplots(1, len(outputs), squeeze=False)
    for ax, name in zip(axes[0], outputs):
        t = table[table.output == name].sort_values(total or main)
        y = np.arange(len(t))
        if "note" in t and t.note.iloc[0]:  # an output that does not vary over the sweep: no indices to draw
            ax.set_yticks(y, t.parameter)
            ax.set_xticks([])
            ax.set_title(name)
            ax.text(0.5, 0.5, "does not vary over the sweep:\nits indices are undefined", transform=ax.transAxes,
                    ha="center", va="center", color="0.3")
            continue
        if total:
            ax.barh(y + 0.2, t[total], 0.4, xerr=t[f"{total}_conf"], label="total (ST)", color="tab:orange")
        ax.barh(y - 0.2 if total else y, t[main], 0.4, xerr=t[conf], label=main, color="tab:blue")
        ax.set_yticks(y, t.parameter)
        ax.set_title(name)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


#: Okabe & Ito's colour-blind-safe palette (and line styles, so no line is told apart by colour alone).
SAFE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))
UP, DOWN = "#0072B2", "#D55E00"


def explanation_figure(e: Explanation, column: str = "alignment", min_share: float = 0.005, width: float = 9.0) -> Figure:
    """A waterfall: the pair's alignment at the start, each motive's part of the change (largest
    first), the alignment at the end. `e` is an experiments.explain.Explanation."""
    rows = [r for r in e.table.itertuples(index=False) if abs(getattr(r, column)) >= min_share]
    start = {"alignment": e.alignment[0], "a_to_b": e.stance_ab[0], "b_to_a": e.stance_ba[0]}[column]
    end = {"alignment": e.alignment[1], "a_to_b": e.stance_ab[1], "b_to_a": e.stance_ba[1]}[column]
    fig = Figure(figsize=(width, 0.5 * len(rows) + 2.4))
    ax = fig.subplots()
    from simulation.experiments.explain import SHORT

    labels = [f"{e.start}"] + [SHORT.get(r.part, r.part) for r in rows] + [f"{e.end}"]
    level, levels = start, [0.0, start, end]
    ax.barh(0, start, color="0.6")
    ax.text(start, 0, f" {start:+.2f}", va="center", ha="left" if start >= 0 else "right", fontsize=10)
    for k, r in enumerate(rows, start=1):
        v = getattr(r, column)
        ax.barh(k, v, left=level, color=UP if v > 0 else DOWN, hatch="" if v > 0 else "//", edgecolor="white")
        ax.text(max(level, level + v), k, f" {v:+.2f}", va="center", ha="left", fontsize=10)
        level += v
        levels.append(level)
    ax.barh(len(rows) + 1, end, color="0.3")
    ax.text(end, len(rows) + 1, f" {end:+.2f}", va="center", ha="left" if end >= 0 else "right", fontsize=10)
    ax.set_yticks(range(len(labels)), labels, fontsize=10)
    ax.invert_yaxis()
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_xlim(min(-1.05, min(levels) - 0.1), max(1.05, max(levels)) + 0.25)
    what = {"alignment": "alignment", "a_to_b": f"{e.a}'s stance toward {e.b}", "b_to_a": f"{e.b}'s stance toward {e.a}"}
    ax.set_xlabel(f"{what[column]} (-1 rivalry, +1 alliance)")
    # centred on the figure, not the axes (the labels push the axes right): fits a narrow panel too
    fig.suptitle(f"Why {e.a}–{e.b} moved, {e.start}-{e.end}:\neach motive's part, carried to {e.end}",
                 fontsize=12 if width >= 6 else 11)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_explanation(e: Explanation, path: Path) -> None:
    explanation_figure(e).savefig(path, dpi=110)


#: Suppliers drawn in the supplier-share figure, with their colours.
SUPPLIER_COLOURS = {"CHN": "tab:red", "RUS": "tab:blue", "USA": "tab:green", "other": "tab:gray"}


def plot_supplier_shares(arms: np.ndarray, years: np.ndarray, record: SupplierShares, path: Path,
                         recipients: tuple[str, ...] = ("PAK", "IND")) -> None:
    """Each recipient's arms supplier shares: the model's yearly shares (mean over runs, lines; `arms`
    is (B, T, N, N) [supplier, recipient]) against SIPRI's by five-year window (steps)."""
    from simulation.experiments.instrument_score import SUPPLIERS
    from simulation.states import INDEX

    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, len(recipients), sharey=True)
    mean = arms.mean(axis=0)  # (T, N, N)
    for ax, recipient in zip(np.atleast_1d(axes), recipients, strict=True):
        j = INDEX[recipient]
        for supplier, colour in SUPPLIER_COLOURS.items():
            if supplier == recipient:
                continue
            model = 1.0 - mean[:, :, j].sum(axis=1) if supplier == "other" else mean[:, INDEX[supplier], j]
            name = display_name(supplier) if supplier != "other" else "outside the six"
            ax.plot(years, model, color=colour, lw=1.6, label=f"{name} (model)")
            w = np.flatnonzero(record.imported[:, j])  # the windows in which the recipient imported
            if len(w):
                ax.hlines(record.share[w, j, SUPPLIERS.index(supplier)], [record.windows[k][0] for k in w],
                          [record.windows[k][1] + 1 for k in w], color=colour, lw=4, alpha=0.45,
                          label="SIPRI, 5-year window" if supplier == "CHN" else None)
        ax.set_title(f"{display_name(recipient)}: who supplies its arms")
        ax.set_ylim(0, 1)
        ax.set_xlim(years[0], years[-1])
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("share of arms imports")
    np.atleast_1d(axes)[-1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    _save(fig, path)


def plot_theories(table: pd.DataFrame, path: Path) -> None:
    """Pairs x theories: the counterfactual's effect under each theory (colour), with a cross where
    it is not clear and a dot where it is robust; the rows where the theories disagree are marked."""
    import pandas as pd

    from simulation.experiments.compare import theory_dependence

    theories = list(dict.fromkeys(table.theory))
    pairs = list(dict.fromkeys(zip(table.a, table.b, strict=True)))
    effect = table.pivot_table(index=["a", "b"], columns="theory", values="effect", sort=False)
    effect = effect.reindex(index=pd.MultiIndex.from_tuples(pairs), columns=theories)
    flags = table.set_index(["a", "b", "theory"])
    depends = theory_dependence(table).set_index(["a", "b"])["depends_on_theory"]
    fig = Figure(figsize=(2.0 + 1.5 * len(theories), 0.42 * len(pairs) + 1.6))
    ax = fig.subplots()
    limit = max(0.05, float(np.nanmax(np.abs(effect.to_numpy()))))
    image = ax.imshow(effect.to_numpy(), cmap=CMAP, norm=TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit),
                      aspect="auto")
    for r, (a, b) in enumerate(pairs):
        for c, theory in enumerate(theories):
            row = flags.loc[(a, b, theory)]
            mark = "•" if row.robust else ("" if row.clear else "×")
            ax.text(c, r, f"{row.effect:+.2f}{mark}", ha="center", va="center", fontsize=8,
                    color="white" if abs(row.effect) > 0.6 * limit else "black")
    ax.set_xticks(range(len(theories)), [t.replace(" only", "\nonly").replace("without ", "without\n")
                                         for t in theories], fontsize=8)
    ax.set_yticks(range(len(pairs)), [f"{a}–{b}" + ("  (depends)" if depends.loc[(a, b)] else "")
                                      for a, b in pairs], fontsize=8)
    fig.colorbar(image, ax=ax, shrink=0.8, label="effect on alignment (alt - base)")
    ax.set_title("The counterfactual under each theory (• robust, × not clear)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_predictive(check: dict, path: Path) -> None:
    """The posterior predictive check: per pair, the 95% band of runs drawn from the posterior and
    the documented levels, with the share of documented pair-years inside the band."""
    years, lo, hi, mean, targets = check["years"], check["low"], check["high"], check["mean"], check["targets"]
    fig = Figure(figsize=(17, 8.5))
    axes = fig.subplots(3, 5, sharex=True, sharey=True)
    for k, (ax, (a, b)) in enumerate(zip(axes.flat, PAIRS, strict=True)):
        ax.fill_between(years, lo[:, k], hi[:, k], color="tab:blue", alpha=0.25, lw=0, label="95% band")
        ax.plot(years, mean[:, k], color="tab:blue", lw=1.2, label="posterior mean")
        for n, r in enumerate(t for t in targets if (t.a, t.b) == (a, b)):
            ax.hlines(r.level, r.start, r.end + 1, color="black", lw=2.2, alpha=0.7, label="documented" if n == 0 else None)
        cov = [check["coverage"][w].get(f"{a}-{b}", float("nan")) for w in ("in_sample", "out_of_sample")]
        ax.set_title(f"{a}–{b}  inside: {cov[0]:.0%} / {cov[1]:.0%}", fontsize=9)
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_ylim(-1.05, 1.05)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="lower left", fontsize=7)
    cov = check["coverage"]
    fig.suptitle(f"Posterior predictive check: documented levels inside the 95% band, in sample "
                 f"{cov['in_sample']['overall']:.0%}, out of sample {cov['out_of_sample']['overall']:.0%}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_marginals(post: Any, path: Path) -> None:
    """Each weight's posterior marginal within its bounds (histogram), to see which the record pins down."""
    from simulation.engine.params import Parameters

    names = list(post.names)
    cols = 6
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(2.6 * cols, 1.9 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (k, name) in zip(axes.flat, enumerate(names)):
        lo, hi = Parameters.bounds()[name]
        ax.hist(post.samples[:, k], bins=25, range=(lo, hi), weights=post.weights, color="tab:blue", alpha=0.8)
        ax.set_title(name, fontsize=8)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    fig.suptitle("Posterior marginals of the fitted weights (x axis: each weight's documented bounds)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
