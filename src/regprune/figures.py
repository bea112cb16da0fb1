"""The book's figures: one style, one way to show them, one function per kind of figure.

Every figure is drawn to be read at the book's content width (about 750 px) and on a phone:
at most two panels per row (three for small multiples: t-SNE maps, the depths of a sweep), at most
:data:`MAX_SERIES` series per axis, each told apart by a colour-blind-safe colour *and* a
marker or line style, legends outside the data, axis labels with units. Titles and the
profile, data and seeds behind a figure go into its caption (:func:`caption`), which
:func:`show` prints under the image as text, so it stays readable at any width.

Figure functions return a :class:`matplotlib.figure.Figure` and display nothing;
notebooks pass it to :func:`show`. Seed intervals are min-max bands over seeds (:func:`band`).
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from typing import Any, Iterator, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import paths, report

WIDTH = 7.5  # inches: the book's content width (~750 px) at 100 dpi
SINGLE = (6.4, 4.0)  # a one-panel figure: narrower than the page, so a phone scales it less
PANEL_HEIGHT = 3.0
DPI = 100  # the figure's layout resolution; PNGs are rendered at 2x (:data:`PNG_SCALE`)
PNG_SCALE = 2
MAX_SERIES = 8  # distinguishable series per axis
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
DASHES = ("-", "--", ":", "-.")
NARROW = 5.0  # inches: a one-panel figure that a phone shows at three quarters of its size
LOG_SPAN = 8  # a value axis spanning more than this factor is drawn on a log scale
OTHER = "0.7"  # grey: context drawn behind the series a figure is about

AXES = {"nonzero_weights": "nonzero weights", "macs": "MACs per example (nonzero weights)",
        "bits": "weight bits (nonzero weights x bits per weight)"}


def palette(n: int = 10) -> list:
    """Seaborn's colour-blind-safe palette without its grey (grey is :data:`OTHER`, context) and its
    yellow (faint on white): 8 colours, one per series an axis may hold, then repeating."""
    import seaborn as sns

    colors = [c for i, c in enumerate(sns.color_palette("colorblind", 10)) if i not in (7, 8)]
    return [colors[i % len(colors)] for i in range(max(n, 1))]


def _rc() -> dict[str, Any]:
    import seaborn as sns
    from cycler import cycler

    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=1.0)}
    rc.update({
        "font.size": 13, "axes.titlesize": 13, "axes.labelsize": 13, "xtick.labelsize": 12,
        "ytick.labelsize": 12, "legend.fontsize": 12, "legend.title_fontsize": 12, "figure.titlesize": 13,
        "legend.frameon": False, "figure.dpi": DPI, "savefig.dpi": DPI, "lines.linewidth": 1.8,
        "lines.markersize": 5, "grid.color": "0.88", "axes.edgecolor": "0.6",
        "axes.prop_cycle": cycler(color=palette(8)) + cycler(marker=MARKERS[:8]),
        "svg.fonttype": "path",  # glyphs as paths: the same text on every device, whatever its fonts
        "figure.constrained_layout.use": True,
    })
    return rc


@contextlib.contextmanager
def book_style() -> Iterator[None]:
    """The book's style for the figures drawn inside the block (seaborn's whitegrid, colour-blind
    palette with markers, font sizes that survive a phone's scaling)."""
    with plt.rc_context(_rc()):
        yield


# --- captions and display -------------------------------------------------------------


def seeds_text(seeds: Sequence[Any] | None) -> str:
    """``"seeds 0, 1, 2"``, ``"seed 0"``, or ``"no seeds stored"``."""
    seeds = sorted({int(s) for s in seeds}) if seeds is not None else []
    if not seeds:
        return "no seeds stored"
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(str(s) for s in seeds)


def caption(title: str, *, profile: str, data: str, seeds: Sequence[Any] | str | None, note: str = "") -> str:
    """A figure's caption: what it shows, then the profile, data and seeds behind it."""
    seeds = seeds if isinstance(seeds, str) else seeds_text(seeds)
    title = title.rstrip(".")
    return f"{title}. Profile: {profile}; data: {data}; {seeds}." + (f" {note}" if note else "")


def dataset_label(name: str) -> str:
    """How a caption names a data set: :func:`regprune.data.label` (``"CIFAR-10 (JPEG q75 copy)"``),
    or the name itself where it is no registered data set (the smoke grids' ``"synthetic"``)."""
    from . import data
    from .registry import ConfigError

    try:
        return data.label(name)
    except ConfigError:
        return name


def figures_root(root: str | Path | None = None) -> Path:
    """Where figures are saved: the argument, else ``<build>/figures``."""
    return Path(root).expanduser() if root else paths.build_root() / "figures"


def render(fig: Figure, vector: bool) -> tuple[str, bytes]:
    """The figure as SVG (``vector``) or as PNG at :data:`PNG_SCALE` x its layout resolution."""
    buf = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "path"}):
        fig.savefig(buf, format="svg" if vector else "png", dpi=DPI * (1 if vector else PNG_SCALE),
                    facecolor="white")  # constrained layout already fits everything in the figure
    return ("svg" if vector else "png"), buf.getvalue()


def show(fig: Figure, caption: str, *, name: str | None = None, notebook: str | None = None,
         vector: bool = False, figures_dir: str | Path | None = None) -> Path | None:
    """Display ``fig`` with ``caption`` printed under it, save it as ``<figures>/<notebook>/<name>.svg|png``
    when ``name`` and ``notebook`` are given, and close it (so the notebook shows it once).

    ``vector=True`` for simple line plots (SVG); otherwise PNG at 2x, displayed at its layout size.
    """
    from IPython.display import SVG, Image, Markdown, display

    kind, data = render(fig, vector)
    plt.close(fig)
    # A 2x PNG shown at half its pixel width; the width alone, so that a narrower screen scales
    # it down keeping its aspect ratio (a fixed height would stretch it).
    display(SVG(data) if vector else Image(data, format="png", width=int.from_bytes(data[16:20], "big") // PNG_SCALE))
    display(Markdown(f"*{caption}*"))
    if name and notebook:
        path = figures_root(figures_dir) / notebook / f"{name}.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path
    return None


# --- building blocks ------------------------------------------------------------------


def grid(n: int, *, per_row: int = 2, panel_height: float = PANEL_HEIGHT, width: float = WIDTH,
         sharex: bool = False, sharey: bool = False) -> tuple[Figure, list[plt.Axes]]:
    """A figure of ``n`` panels, at most ``per_row`` side by side; unused grid cells removed."""
    if n < 1:
        raise ValueError(f"n={n}; allowed: 1 or more panels")
    cols = min(n, per_row)
    rows = math.ceil(n / cols)
    size = SINGLE if n == 1 else (width, panel_height * rows + 0.6)
    fig, axes = plt.subplots(rows, cols, figsize=size, squeeze=False, sharex=sharex, sharey=sharey)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def panels(frame: pd.DataFrame, panel: str, *, per_row: int = 2, **kw) -> tuple[Figure, dict[Any, plt.Axes]]:
    """One axis per value of ``panel`` (in order of appearance), at most ``per_row`` per row."""
    values = list(dict.fromkeys(frame[panel]))
    fig, axes = grid(len(values), per_row=per_row, **kw)
    return fig, dict(zip(values, axes))


def series_styles(values: Sequence[Any]) -> dict[Any, dict[str, Any]]:
    """A colour and a marker for each value, in order (colour-blind palette; markers tell them apart in grey)."""
    values = list(dict.fromkeys(values))
    colors = palette(len(values))
    return {v: {"color": colors[i % len(colors)], "marker": MARKERS[i % len(MARKERS)]} for i, v in enumerate(values)}


def legend_below(fig: Figure, axes: Sequence[plt.Axes] | None = None, *, ncol: int | None = None) -> None:
    """One legend for the whole figure, under the panels (entries of all axes, each label once)."""
    entries: dict[str, Any] = {}
    for ax in axes if axes is not None else fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        longest = max(len(label) for label in entries)
        ncol = ncol or max(1, min(len(entries), 3 if longest < 22 else 2 if longest < 34 else 1))
        fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncol=ncol)


def legend_right(ax: plt.Axes, **kw) -> None:
    """The axis's legend outside it, on its right (for figures whose panels have different series)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def band(ax: plt.Axes, frame: pd.DataFrame, x: str, y: str, *, label: str, style: str = "-",
         color: Any = None, marker: str | None = None) -> None:
    """Mean of ``y`` over seeds at each ``x`` as a line, the seeds' min-max as a band.

    Where seeds differ in ``x`` too (e.g. nonzero parameters after pruning), group by the
    setting column ``k`` if present and plot at the mean ``x``.
    """
    keys = "k" if "k" in frame and x != "k" else x
    stats = frame.groupby(keys).agg(x=(x, "mean"), mean=(y, "mean"), lo=(y, "min"), hi=(y, "max")).sort_values("x")
    every = max(1, len(stats) // 12)  # markers tell series apart; more than ~12 per line only clutter
    (line,) = ax.plot(stats["x"], stats["mean"], style, label=label, color=color, marker=marker or "",
                      markersize=4, markevery=every)
    ax.fill_between(stats["x"], stats["lo"], stats["hi"], color=line.get_color(), alpha=0.18, linewidth=0)


def log_labels(ax_axis, divisor: float = 1.0, suffix: str = "") -> None:
    """Plain labels on a log axis (``value / divisor`` + ``suffix``) at mantissas 1, 2 and 5
    (only 1 where the axis spans more than two decades), major and minor ticks alike, so they
    read as numbers and never crowd."""

    def label(value: float, _pos=None) -> str:
        if value <= 0:
            return ""
        lo, hi = sorted(ax_axis.get_view_interval())
        mantissas = (1,) if lo > 0 and hi / lo > 300 else (1, 2, 5)
        mantissa = value / 10 ** math.floor(math.log10(value))
        if not any(abs(mantissa - m) < 1e-6 for m in mantissas):
            return ""
        if suffix == "K" and value >= 1e6:  # 1M, not 1000K
            return f"{value / 1e6:g}M"
        return f"{value / divisor:g}{suffix}"

    ax_axis.set_major_formatter(FuncFormatter(label))
    ax_axis.set_minor_formatter(FuncFormatter(label))


def ylabel_first_column(axes: Sequence[plt.Axes]) -> None:
    """Panels in a row that share a y quantity: its label once, on the row's first panel."""
    for ax in axes:
        spec = ax.get_subplotspec()
        if spec is not None and not spec.is_first_col():
            ax.set_ylabel("")


def ordinal(p: float) -> str:
    """7 -> "7th", 93 -> "93rd", 31 -> "31st"."""
    n = int(p)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{p:g}{suffix}"


def series_per_axis(fig: Figure) -> list[int]:
    """How many labelled series each axis of ``fig`` draws (what its legend would list)."""
    return [len(ax.get_legend_handles_labels()[1]) for ax in fig.axes]


def legends_overlapping_axes(fig: Figure) -> list[str]:
    """Legends that cover part of a data area (none should)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    out = []
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if box.overlaps(ax.get_window_extent(renderer)):
                out.append(f"legend {[t.get_text() for t in legend.get_texts()][:3]} over axis {ax.get_title()!r}")
    return out


# --- the book's figures ---------------------------------------------------------------


def learning_curves(history: pd.DataFrame, *, hue: str | None = None) -> Figure:
    """Loss and error per epoch, training (solid) and validation (dashed), mean over seeds with min-max band."""
    history = history.assign(**{f"{s}_error": 100 * (1 - history[f"{s}_acc"]) for s in ("train", "val")})
    with book_style():
        fig, axes = grid(2)
        groups = list(history.groupby(hue, sort=False)) if hue else [(None, history)]
        looks = series_styles([g for g, _ in groups])
        for label, part in groups:
            for split, dash in (("train", "-"), ("val", "--")):
                name = f"{label}, {split}" if label is not None else {"train": "training", "val": "validation"}[split]
                for ax, y in zip(axes, ("loss", "error")):
                    band(ax, part, "epoch", f"{split}_{y}", label=name, style=dash, **looks[label])
        axes[0].set(xlabel="epoch", ylabel="loss (cross-entropy, log scale)", yscale="log")
        axes[1].set(xlabel="epoch", ylabel="error (%, log scale)", yscale="log")
        for ax in axes:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        log_labels(axes[1].yaxis)
        legend_below(fig, axes[:1])
    return fig


def tradeoff(frame: pd.DataFrame, *, panel: str, hue: str, style: str | None = None,
             labels: dict[str, str] | None = None, x: str = "nonzero_params", y: str = "test_error_%") -> Figure:
    """Test error against nonzero parameters along pruning sweeps: one panel per ``panel`` value,
    colour and marker by ``hue``, line style by ``style``; mean over seeds, min-max band."""
    labels = labels or {}
    looks = series_styles(frame[hue])
    dashes = {v: d for v, d in zip(dict.fromkeys(frame[style]), DASHES)} if style else {}
    with book_style():
        fig, axes = panels(frame, panel)
        for value, ax in axes.items():
            part = frame[frame[panel] == value]
            for keys, group in part.groupby([hue] + ([style] if style else []), sort=False):
                keys = keys if isinstance(keys, tuple) else (keys,)
                name = ", ".join(labels.get(k, str(k)) for k in keys)
                band(ax, group, x, y, label=name, style=dashes.get(keys[-1], "-") if style else "-", **looks[keys[0]])
            ax.set(xscale="log", yscale="log", xlabel="nonzero parameters (log scale)",
                   ylabel="test error (%, log scale)", title=labels.get(value, str(value)))
            log_labels(ax.xaxis, 1000, "K")
            log_labels(ax.yaxis)
        ylabel_first_column(list(axes.values()))
        legend_below(fig)
    return fig


def error_curves(history: pd.DataFrame, *, panel: str, hue: str, labels: dict[str, str] | None = None,
                 splits: Sequence[str] = ("train", "test")) -> Figure:
    """Error per epoch for each split (solid, dashed, ...), one panel per ``panel`` value,
    colour and marker by ``hue``; mean over seeds, min-max band."""
    labels = labels or {}
    history = history.assign(**{f"{s}_error": 100 * (1 - history[f"{s}_acc"]) for s in splits})
    looks = series_styles(history[hue])
    with book_style():
        fig, axes = panels(history, panel)
        for value, ax in axes.items():
            part = history[history[panel] == value]
            for key, group in part.groupby(hue, sort=False):
                for split, dash in zip(splits, DASHES):
                    band(ax, group, "epoch", f"{split}_error", label=f"{labels.get(key, key)}, {split}", style=dash,
                         **looks[key])
            ax.set(xlabel="epoch", ylabel="error (%, log scale)", yscale="log", title=labels.get(value, str(value)))
            log_labels(ax.yaxis)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ylabel_first_column(list(axes.values()))
        legend_below(fig)
    return fig


def distributions(frame: pd.DataFrame, *, panel: str, hue: str, x: str = "w", y: str = "density",
                  labels: dict[str, str] | None = None, xlabel: str = "weight value") -> Figure:
    """Binned densities (mean over seeds, min-max band) on a log scale, one panel per ``panel`` value;
    a series keeps its colour in every panel, so one legend below serves them all."""
    labels = labels or {}
    looks = series_styles(frame[hue])
    with book_style():
        fig, axes = panels(frame, panel)
        for value, ax in axes.items():
            part = frame[frame[panel] == value]
            for key, group in part.groupby(hue, sort=False):
                band(ax, group, x, y, label=labels.get(key, str(key)), **{**looks[key], "marker": None})
            ax.set(yscale="log", xlabel=xlabel, ylabel="density (log scale)", title=labels.get(value, str(value)))
        ylabel_first_column(list(axes.values()))
        legend_below(fig)
    return fig


def percentile_bands(frame: pd.DataFrame, *, panel: str, percentiles: Sequence[float],
                     labels: dict[str, str] | None = None, zoom: float | None = None,
                     ylabel: str = "weight value") -> Figure:
    """Per-epoch percentiles of a layer's weights (paper 001, Figs. 3 and 4) as nested bands around
    the median: one panel per value of ``panel`` (columns ``p<percentile>``, x = ``epoch``), outer
    bands lighter; the panels share the y axis; ``zoom`` limits it to [-zoom, zoom]."""
    labels = labels or {}
    ps = sorted(percentiles)
    pairs = [(lo, hi) for lo, hi in zip(ps, ps[::-1]) if lo < hi]  # outermost first
    median = [p for p in ps if p == 50]
    cols = [f"p{p:g}" for p in ps]
    lo_all, hi_all = frame[cols].min().min(), frame[cols].max().max()
    blue = palette(1)[0]
    with book_style():
        fig, axes = panels(frame, panel, sharey=True)
        for value, ax in axes.items():
            part = frame[frame[panel] == value].sort_values("epoch")
            for i, (lo, hi) in enumerate(pairs):
                name = "min to max" if (lo, hi) == (0, 100) else f"{ordinal(lo)} to {ordinal(hi)} percentile"
                ax.fill_between(part["epoch"], part[f"p{lo:g}"], part[f"p{hi:g}"], color=blue,
                                alpha=0.15 + 0.2 * i, linewidth=0, label=name)
            if median:
                ax.plot(part["epoch"], part["p50"], color="black", lw=1.5, marker="", label="median")
            ax.set(xlabel="epoch", ylabel=ylabel, title=labels.get(value, str(value)),
                   ylim=(-zoom, zoom) if zoom else (lo_all - 0.05 * (hi_all - lo_all), hi_all + 0.05 * (hi_all - lo_all)))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ylabel_first_column(list(axes.values()))
        legend_below(fig)
    return fig


def class_names(dataset: str) -> tuple[str, ...] | None:
    """The names of a data set's classes, for :func:`tsne_maps`'s legend (``classes=``): CIFAR-10's
    ten words; None where the class index is the name (MNIST's digits) or none is known."""
    from .data import cifar10_jpeg

    name = dataset.removeprefix("synthetic-")
    return cifar10_jpeg.CLASSES if name in ("cifar10", "cifar10-jpeg") else None


def tsne_silhouette(tsne: dict[str, Any]) -> float:
    """The score each t-SNE panel shows (:func:`regprune.hooks.tsne_silhouette`); a claim uses it too."""
    from .hooks import tsne_silhouette as score  # lazy: torch and scikit-learn only where a map is drawn

    return score(tsne)


def tsne_maps(maps: Sequence[tuple[str, dict[str, Any]]], *, per_row: int | None = None,
              classes: Sequence[str] | None = None) -> Figure:
    """One square scatter panel per stored t-SNE map (``(label, extras["tsne"])``), coloured by class
    (all ten colours of the colour-blind palette: one per class), with its silhouette score in the
    panel's title; small multiples, so up to three per row (two for two or four maps). One legend
    below names the classes: ``classes[i]`` for class ``i`` (default: the class index, MNIST's digit)."""
    import seaborn as sns
    from matplotlib.lines import Line2D

    colors = sns.color_palette("colorblind", 10)
    per_row = per_row or (2 if len(maps) in (2, 4) else 3)
    present = sorted({int(c) for _, tsne in maps for c in tsne["labels"]})
    names = [str(classes[c]) if classes is not None and c < len(classes) else str(c) for c in present]
    ncol = len(present) if max((len(n) for n in names), default=1) <= 3 else 5
    legend_height = 0.35 * math.ceil(len(present) / max(ncol, 1)) + 0.35
    with book_style():
        width = WIDTH if per_row >= 3 else SINGLE[0]  # two square maps a row need not fill the page
        side = width / per_row
        rows = math.ceil(len(maps) / per_row)
        fig, axes = grid(len(maps), per_row=per_row, panel_height=side + 0.3, width=width)
        if len(maps) == 1:
            fig.set_size_inches(side * 1.6, side * 1.6 + 0.4 + legend_height)
        elif rows == 1:
            fig.set_size_inches(width, side + 0.6 + legend_height)
        else:
            fig.set_size_inches(width, fig.get_size_inches()[1] + legend_height)
        for ax, (label, tsne) in zip(axes, maps):
            xy = np.asarray(tsne["coords"])
            labels = np.asarray(tsne["labels"]).astype(int)
            ax.scatter(xy[:, 0], xy[:, 1], c=[colors[c % len(colors)] for c in labels], s=4, marker="o", linewidths=0)
            ax.set(title=f"{label}\nsilhouette {tsne_silhouette(tsne):.3f}", xticks=[], yticks=[])
            ax.set_aspect("equal", adjustable="datalim")
            ax.grid(False)
        handles = [Line2D([], [], ls="", marker="o", ms=8, color=colors[c % len(colors)]) for c in present]
        if handles:
            fig.legend(handles, names, loc="outside lower center", ncol=ncol, title="class",
                       handletextpad=0.1, columnspacing=1.0)
    return fig


def off_scale(values: Sequence[float], keep: Sequence[float] = (), *, gap_decades: float = 1.0) -> float | None:
    """The largest value an axis should show, when the values beyond it are a far-off cluster: the
    top of the values below the highest gap of more than ``gap_decades`` decades (log scale) that has
    none of ``keep`` (the Pareto front) above it; None when no such gap leaves most values below it.
    Such a cluster (the switcher networks' MACs: their gating network runs at inference) would stretch
    the axis tenfold and squeeze every other point into its left edge."""
    values = np.sort([float(v) for v in values if v > 0])
    logs = np.log10(values)
    if len(logs) < 2:
        return None
    top_kept = max((math.log10(v) for v in keep if v > 0), default=-math.inf)
    gaps = np.flatnonzero(np.diff(logs) > gap_decades)
    for i in gaps[::-1]:
        if logs[i] >= top_kept and i + 1 >= len(logs) / 2:
            return float(values[i])
    return None


def legend_under(ax: plt.Axes, **kw) -> None:
    """The axis's legend under it, in two columns (for stacked panels whose series differ): the axis
    keeps the figure's whole width, which a phone needs."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), borderaxespad=0.0, ncol=2, **kw)


def pareto(points: pd.DataFrame, *, x: str, panel: str, hue: str, labels: dict[str, str] | None = None,
           y: str = "test_error_%") -> Figure:
    """Error against size, one panel per ``panel`` value (stacked, each with its legend under it).

    The methods on a panel's Pareto front (:func:`regprune.sweeps.pareto_front`, the black step
    line) are drawn in colour, with their seed spread as vertical bars
    (:func:`regprune.sweeps.mean_points`); every other method's points are grey context. So a panel
    lists at most :data:`MAX_SERIES` entries however many methods the bench holds. A far-off
    cluster of points off the front (:func:`off_scale`) is not allowed to stretch the size axis: its
    points sit on the axis's right edge as grey triangles, their range named in the legend."""
    from .sweeps import pareto_front

    labels = labels or {}
    fronts = {}
    for value in dict.fromkeys(points[panel]):
        part = points[(points[panel] == value) & points[x].notna() & (points[x] > 0)]
        fronts[value] = (part, part[pareto_front(part, x, y)].sort_values(x))
    on_front = [m for _, front in fronts.values() for m in front[hue]]
    looks = series_styles(on_front)  # one colour per front method across panels
    with book_style():
        fig, axes = panels(points, panel, per_row=1, panel_height=3.4, width=SINGLE[0])
        for value, ax in axes.items():
            part, front = fronts[value]
            limit = off_scale(part[x], front[x])
            far = part[part[x] > limit] if limit is not None else part.iloc[:0]
            part = part.drop(far.index)
            shown = list(dict.fromkeys(front[hue]))[: MAX_SERIES - 2 - (not far.empty)]
            rest = part[~part[hue].isin(shown)]
            if not rest.empty:
                ax.scatter(rest[x], rest[y], s=12, color=OTHER, marker="o", linewidths=0,
                           label=f"other methods ({rest[hue].nunique()})", zorder=1)
            for name in shown:
                group = part[part[hue] == name]
                ax.errorbar(group[x], group[y], yerr=group.get(f"{y}_std"), fmt=looks[name]["marker"], ms=5,
                            color=looks[name]["color"], elinewidth=0.8, alpha=0.9, label=labels.get(name, str(name)),
                            zorder=2)
            ax.step(front[x], front[y], where="post", color="black", lw=1.2, marker="", label="Pareto front", zorder=3)
            ax.set(xscale="log", yscale="log", xlabel=AXES.get(x, x) + " (log scale)",
                   ylabel="test error (%, log scale)", title=labels.get(value, str(value)))
            if not far.empty:
                lo, hi = sorted(ax.get_xlim())
                right = 10 ** (math.log10(limit) + 0.08 * (math.log10(limit) - math.log10(max(lo, 1e-12))) + 0.02)
                ax.set_xlim(lo, right)
                ax.scatter([right] * len(far), far[y], s=30, marker=">", color=OTHER, clip_on=False, zorder=1)
                span = "–".join(dict.fromkeys(_size_text(v) for v in (far[x].min(), far[x].max())))
                ax.plot([], [], ls="", marker=">", color=OTHER, ms=6,
                        label=f"off the axis ({len(far)}, at {span})")
            log_labels(ax.xaxis, 1000, "K")
            log_labels(ax.yaxis)
            legend_under(ax, fontsize=11)
        fig.set_size_inches(SINGLE[0], sum(3.4 + 0.3 * math.ceil(len(ax.get_legend_handles_labels()[1]) / 2) + 0.9
                                           for ax in axes.values()))
    return fig


def _size_text(value: float) -> str:
    """A count as the size axes label it: 530M, 140K, 12."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def threshold_sweep(steps: pd.DataFrame, *, panel: str = "dataset", hue: str = "method") -> Figure:
    """Test accuracy against compression r along the threshold sweep (paper 003), mean over seeds;
    one panel per data set, two per row, one legend below."""
    looks = series_styles(steps[hue])
    with book_style():
        fig, axes = panels(steps, panel)
        for value, ax in axes.items():
            part = (steps[steps[panel] == value].groupby([hue, "step"], sort=False)[["compression", "test_acc_%"]]
                    .mean().reset_index())
            for method, m in part.groupby(hue, sort=False):
                every = max(1, len(m) // 8)
                ax.plot(m["compression"], m["test_acc_%"], "-", lw=1.4, label=method, markevery=every, ms=4,
                        **looks[method])
            ax.set(xscale="log", xlabel="compression r (log scale)", ylabel="test accuracy (%)", title=value)
        ylabel_first_column(list(axes.values()))
        legend_below(fig)
    return fig


def metric_by_bits(frame: pd.DataFrame, *, metric: str, ylabel: str, panel: str = "model", hue: str = "method",
                   logy: bool = False, per_row: int = 3) -> Figure:
    """One metric against total bits of quantization, mean over seeds: one panel per ``panel``
    value (paper 003, Figs. 1 and 3), one line per ``hue`` value, one legend below."""
    looks = series_styles(frame[hue])
    frame = frame.sort_values(panel, kind="stable")  # fnn1, fnn2, fnn3: depth left to right
    with book_style():
        fig, axes = panels(frame, panel, per_row=per_row, panel_height=2.8)
        for value, ax in axes.items():
            part = frame[frame[panel] == value].groupby([hue, "total_bits"], sort=False)[metric].mean().reset_index()
            for method, m in part.groupby(hue, sort=False):
                ax.plot(m["total_bits"], m[metric], "-", ms=4, label=method, **looks[method])
            ax.set(xlabel="total bits", ylabel=ylabel, title=value)
            if logy:
                ax.set_yscale("log")
                log_labels(ax.yaxis)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        ylabel_first_column(list(axes.values()))
        legend_below(fig)
    return fig


def reparam_functions(curves: dict[str, tuple[Any, Any, Any]], *, bound: float | None = None) -> Figure:
    """Psi(v) and Psi'(v) of each reparameterization (paper 001, Fig. 2): ``curves`` maps a name
    to ``(v, psi, dpsi)``; ``bound`` draws +-bound as grey lines on Psi."""
    looks = series_styles(list(curves))
    with book_style():
        fig, axes = grid(2)
        for (name, (v, psi, dpsi)), dash in zip(curves.items(), DASHES):
            every = max(1, len(v) // 10)
            axes[0].plot(v, psi, dash, label=name, markevery=every, **looks[name])
            axes[1].plot(v, dpsi, dash, label=name, markevery=every, **looks[name])
        if bound is not None:
            for b in (bound, -bound):
                axes[0].axhline(b, color="0.5", lw=0.8)
        axes[0].set(xlabel="v (stored parameter)", ylabel="Psi(v) (weight used)", title="Psi(v)")
        axes[1].set(xlabel="v (stored parameter)", ylabel="Psi'(v)", title="Psi'(v)")
        legend_below(fig)
    return fig


def learned_scales(part: pd.DataFrame, *, fine: str = "wc_fine", coarse: str = "wc_coarse",
                   start: dict[str, float] | None = None) -> Figure:
    """Learned compander parameters a and b per epoch (mean over seeds, min-max band): one line per
    layer for ``fine`` (one a, b per layer), one dashed line for ``coarse`` (one a, b in all)."""
    start = start or {}
    with book_style():
        fig, axes = grid(2)
        layers = [c[2:] for c in part.columns if c.startswith("a.") and part.loc[part["method"] == fine, c].notna().all()]
        looks = series_styles(layers + ["coarse (all layers)"])
        for ax, which in zip(axes, ("a", "b")):
            for method in (fine, coarse):
                sub = part[part["method"] == method]
                cols = [c for c in sub.columns if c.startswith(f"{which}.") and sub[c].notna().all()]
                for c in (cols if method == fine else cols[:1]):
                    name = c[2:] if method == fine else "coarse (all layers)"
                    band(ax, sub, "epoch", c, label=name, style="-" if method == fine else "--", **looks[name])
            ax.set(xlabel="epoch", ylabel=f"learned {which}",
                   title=f"{which} (start: {start[which]:g})" if which in start else which)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        legend_below(fig)
    return fig


def alternating(part: pd.DataFrame, *, dense: pd.DataFrame | None, labels: dict[str, str]) -> Figure:
    """Switcher training (paper 002): FC density and test error per epoch, one line per SNN method,
    the dense network dashed grey; shaded epochs train the switcher."""
    looks = series_styles(part["method"])
    with book_style():
        fig, axes = grid(2)
        for method, group in part.groupby("method", sort=False):
            band(axes[0], group, "epoch", "fc_density_pct", label=labels.get(method, method), **looks[method])
            band(axes[1], group, "epoch", "test_error", label=labels.get(method, method), **looks[method])
        if dense is not None and not dense.empty:
            band(axes[1], dense, "epoch", "test_error", label=labels.get("dense", "dense"), style="--", color="0.45")
        for ax in axes:
            for e in part["epoch"].unique():
                if e % 2 == 1:  # epoch e (1-based) is phase e-1: even phases train the SNN
                    ax.axvspan(e - 0.5, e + 0.5, color="0.93", zorder=0)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[0].set(xlabel="epoch", ylabel="nonzero FC weights (%)", title="FC density after gating")
        axes[1].set(xlabel="epoch", ylabel="test error (%, log scale)", yscale="log", title="test error")
        log_labels(axes[1].yaxis)
        legend_below(fig)
    return fig


def gate_bars(gates: pd.DataFrame, *, labels: dict[str, str]) -> Figure:
    """Learned switcher gates per layer as stacked bars (pruned, weakened, strengthened), one
    panel per model, stacked vertically, mean over seeds."""
    models = list(dict.fromkeys(gates["model"]))
    colors = ["0.35", *palette(2)]
    with book_style():
        fig, axes = grid(len(models), per_row=1)
        for ax, model in zip(axes, models):
            part = gates[gates["model"] == model].groupby(["method", "layer"], sort=False)[
                ["zero_%", "below1_%", "above1_%"]].mean()
            part.index = [f"{labels.get(m, m)}, {l.split('.')[-1]}" for m, l in part.index]
            part.columns = ["0 (pruned)", "(0, 1) weakened", "> 1 strengthened"]
            part.plot.barh(stacked=True, ax=ax, color=colors, width=0.7, legend=False)
            ax.set(xlabel="gates (% of the layer's)", title=labels.get(model, model), xlim=(0, 100))
            ax.invert_yaxis()
            ax.grid(axis="y", visible=False)
        fig.set_size_inches(WIDTH, sum(0.35 * len(gates[gates["model"] == m].groupby(["method", "layer"])) + 1.2
                                       for m in models) + 0.6)
        legend_below(fig, axes[:1], ncol=3)
    return fig


def accuracy_against_flops(table1: pd.DataFrame, ours: pd.DataFrame | None, *, methods: Sequence[str],
                           flops: pd.DataFrame | None = None) -> Figure:
    """Paper 004, Figs. 4-8: CIFAR-10 accuracy against MegaFLOPs, one panel per method (two per
    row): the paper's control (grey, dashed), the paper's method (colour) and ours (squares with
    the seeds' standard deviation) where stored."""
    control = table1[table1["method"] == "control"].sort_values("mflops")
    paper_look, ours_look = series_styles(["paper", "ours"]).values()
    with book_style():
        fig, axes = grid(len(methods), sharey=True, panel_height=2.7)
        for ax, method in zip(axes, methods):
            part = table1[table1["method"] == method].sort_values("mflops")
            ax.plot(control["mflops"], control["test_acc_%"], "--", color="0.5", marker="o", mfc="none",
                    label="control (paper)")
            ax.plot(part["mflops"], part["test_acc_%"], "-", label="with the method (paper)", **paper_look)
            if ours is not None and not ours.empty and flops is not None:
                mine = ours[ours["method"] == method].groupby("model")["test_acc_%"].agg(["mean", "std"])
                x = flops.set_index("model")["pruned (ours)" if "pruning" in method else "control (ours)"]
                ax.errorbar(x.reindex(mine.index), mine["mean"], yerr=mine["std"], fmt=ours_look["marker"],
                            color=ours_look["color"], label="with the method (ours)")
            ax.set(xscale="log", xlabel="MegaFLOPs (paper's rule, log scale)", title=method)
            ax.set_ylabel("test accuracy (%)")
            log_labels(ax.xaxis)
        ylabel_first_column(axes)
        legend_below(fig)
    return fig


def latency(compact: pd.DataFrame) -> Figure:
    """Measured time decrease against the paper rule's FLOP decrease, one panel per batch size:
    points on the grey diagonal would mean time falls as FLOPs do."""
    keys = list(dict.fromkeys(zip(compact["layout"], compact["keep_rate"])))
    looks = series_styles(keys)
    with book_style():
        batches = sorted(compact["batch"].unique())
        fig, axes = grid(len(batches), sharey=True)
        for ax, batch in zip(axes, batches):
            part = compact[compact["batch"] == batch]
            for (layout, keep), g in part.groupby(["layout", "keep_rate"], sort=False):
                ax.scatter(g["FLOP decrease, paper rule (%)"], g["time decrease (%)"], s=30,
                           label=f"{layout}, keep {keep:g}", **looks[(layout, keep)])
            lim = [0, max(60, part["FLOP decrease, paper rule (%)"].max() + 5)]
            ax.plot(lim, lim, ":", color="0.5", marker="", label="time falls as FLOPs")
            ax.axhline(0, color="black", lw=0.6)
            ax.set(xlabel="FLOP decrease (%, paper's rule)", ylabel="time decrease (%)", title=f"batch {batch}")
        ylabel_first_column(axes)
        legend_below(fig)
    return fig


def throughput(rows: pd.DataFrame) -> Figure:
    """Training throughput per model and loop (log scale) and its share of the machine's fp32
    matmul rate, as grouped bars."""
    loops = list(dict.fromkeys(rows["loop"]))
    models = list(dict.fromkeys(rows["model"]))
    colors = palette(len(loops))
    with book_style():
        fig, axes = grid(2)
        for ax, column, scale, ylabel in ((axes[0], "samples_per_s", 1, "samples / s (log scale)"),
                                          (axes[1], "share_of_fp32_matmul", 100, "% of fp32 matmul FLOP/s")):
            wide = rows.pivot(index="model", columns="loop", values=column).reindex(index=models, columns=loops) * scale
            wide.plot.bar(ax=ax, rot=0, color=colors, legend=False, logy=column == "samples_per_s", width=0.8)
            ax.set(xlabel="model", ylabel=ylabel)
            ax.grid(axis="x", visible=False)
        axes[1].axhline(50, color="black", ls="--", lw=0.8)
        axes[0].set_title("training throughput")
        axes[1].set_title("share of the machine's limit")
        legend_below(fig, axes[:1])
    return fig


def scatter(frame: pd.DataFrame, *, x: str, y: str, hue: str, xlabel: str, ylabel: str,
            labels: dict[str, str] | None = None, logx: bool = False) -> Figure:
    """One point per run, colour and marker by ``hue``, legend below."""
    labels = labels or {}
    looks = series_styles(frame[hue])
    with book_style():
        fig, (ax,) = grid(1)
        for key, part in frame.groupby(hue, sort=False):
            ax.scatter(part[x], part[y], s=24, label=labels.get(key, str(key)), **looks[key])
        ax.set(xlabel=xlabel, ylabel=ylabel, xscale="log" if logx else "linear")
        legend_below(fig)
    return fig


def errors_by_method(frame: pd.DataFrame, *, method: str = "method", hue: str = "model", y: str = "test_error_%",
                     labels: dict[str, str] | None = None, xlabel: str = "test error (%)") -> Figure:
    """One row per ``method`` value, its ``y`` as a dot (mean over seeds) with the seeds' min-max as a
    bar, one colour and marker per ``hue`` value (rows nudged apart): a one-panel figure, narrow enough
    (:data:`NARROW`) to keep its text readable on a phone, that shows where a paper's methods land
    (the landing page draws one per paper). The axis is logarithmic where the values span more than
    :data:`LOG_SPAN` x, linear otherwise (a log axis over less than a decade has one or two labels)."""
    labels = labels or {}
    rows = list(dict.fromkeys(frame[method]))
    hues = list(dict.fromkeys(frame[hue]))[:MAX_SERIES]
    looks = series_styles(hues)
    stats = frame.groupby([method, hue], sort=False)[y].agg(["mean", "min", "max"]).reset_index()
    positive = frame.loc[frame[y] > 0, y]
    logx = not positive.empty and positive.max() / positive.min() > LOG_SPAN
    with book_style():
        fig, (ax,) = grid(1)
        fig.set_size_inches(NARROW, 0.42 * len(rows) + 0.35 * math.ceil(len(hues) / 2) + 1.5)
        step = 0.5 / max(len(hues), 1)
        for j, value in enumerate(hues):
            part = stats[stats[hue] == value]
            pos = np.array([rows.index(m) for m in part[method]]) + (j - (len(hues) - 1) / 2) * step
            ax.errorbar(part["mean"], pos, xerr=[part["mean"] - part["min"], part["max"] - part["mean"]], fmt="",
                        ls="", elinewidth=1.2, capsize=0, color=looks[value]["color"], marker=looks[value]["marker"],
                        ms=6, label=labels.get(value, str(value)))
        ax.set_yticks(range(len(rows)), [labels.get(m, str(m)) for m in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)  # the first method on top
        if logx:
            ax.set(xscale="log", xlabel=f"{xlabel.rstrip(')')}, log scale)" if xlabel.endswith(")") else xlabel)
            log_labels(ax.xaxis)
        else:
            ax.set(xlabel=xlabel)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.grid(axis="y", visible=False)
        legend_below(fig, ncol=min(len(hues), 2) if max(len(str(labels.get(h, h))) for h in hues) > 10 else None)
    return fig
