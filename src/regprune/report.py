"""Tables and figures for the book: every table shown is also saved as CSV.

Tables carry a caption naming the profile and the data behind them, so no number in the
book is shown without saying where it came from.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import paths, tables


PAPER_NUMBERS = Path(__file__).with_name("paper_data") / "paper_numbers.csv"


def paper_numbers(**where: str) -> pd.DataFrame:
    """Numbers the papers report (transcribed with paper, table and page), filtered by column values."""
    df = pd.read_csv(PAPER_NUMBERS, dtype={"paper": str})
    for column, value in where.items():
        df = df[df[column] == value]
    return df.reset_index(drop=True)


def beside_paper(reference: pd.DataFrame, ours: pd.Series, *, profile: str) -> pd.DataFrame:
    """The paper's rows with our mean, standard deviation and seed count beside them.

    ``ours`` holds samples of the same metric (one per seed), in the paper's unit.
    """
    out = reference[["paper", "table", "model", "dataset", "method", "metric", "value"]].rename(
        columns={"value": "paper_value"}
    )
    return out.assign(
        ours_mean=ours.mean(), ours_std=ours.std(), seeds=len(ours), difference=ours.mean() - out["paper_value"],
        our_profile=profile,
    )


def caption(title: str, profile: str, data: str) -> str:
    return f"{title} (profile: {profile}; data: {data})"


def save_table(df: pd.DataFrame, name: str, notebook: str, tables_dir: str | Path | None = None) -> Path:
    """Write ``df`` to ``<tables>/<notebook>/<name>.csv`` and return the path."""
    path = paths.tables_root(tables_dir) / notebook / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


def show_table(
    df: pd.DataFrame,
    name: str,
    notebook: str,
    *,
    title: str,
    profile: str,
    data: str,
    tables_dir: str | Path | None = None,
    precision: int = 2,
):
    """Save ``df`` as CSV (raw values) and return the book's formatted view of it
    (:func:`regprune.tables.render`) for the notebook to display."""
    save_table(df, name, notebook, tables_dir)
    return tables.render(df, caption(title, profile, data), precision=precision)


def seed_summary(df: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Mean and standard deviation over seeds of ``columns``, grouped by ``by``, and the seed count."""
    grouped = df.groupby(list(by), sort=False)
    out = grouped[list(columns)].agg(["mean", "std"])
    out.columns = [f"{c}_{s}" for c, s in out.columns]
    out["seeds"] = grouped.size()
    return out.reset_index()


def band(ax: plt.Axes, frame: pd.DataFrame, x: str, y: str, *, label: str, style: str = "-",
         color: str | None = None, marker: str | None = None) -> None:
    """Mean of ``y`` over seeds at each ``x`` as a line, the seeds' min-max as a band.

    Where seeds differ in ``x`` too (e.g. nonzero parameters after pruning), group by the
    setting column ``k`` if present and plot at the mean ``x``.
    """
    keys = "k" if "k" in frame and x != "k" else x
    stats = frame.groupby(keys).agg(x=(x, "mean"), mean=(y, "mean"), lo=(y, "min"), hi=(y, "max")).sort_values("x")
    (line,) = ax.plot(stats["x"], stats["mean"], style, label=label, color=color, marker=marker, markersize=3)
    ax.fill_between(stats["x"], stats["lo"], stats["hi"], color=line.get_color(), alpha=0.2, linewidth=0)


def learning_curves(history: pd.DataFrame, *, title: str, hue: str | None = None) -> plt.Figure:
    """Loss and error per epoch, training and validation, mean over seeds with min-max band."""
    history = history.assign(**{f"{s}_error": 100 * (1 - history[f"{s}_acc"]) for s in ("train", "val")})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    groups = history.groupby(hue, sort=False) if hue else [(None, history)]
    for label, part in groups:
        for split, style in (("train", "-"), ("val", "--")):
            name = f"{label} {split}" if label is not None else split
            band(axes[0], part, "epoch", f"{split}_loss", label=name, style=style)
            band(axes[1], part, "epoch", f"{split}_error", label=name, style=style)
    axes[0].set(xlabel="epoch", ylabel="loss", yscale="log", title="loss")
    axes[1].set(xlabel="epoch", ylabel="error (%)", yscale="log", title="error")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def panels(frame: pd.DataFrame, panel: str, *, title: str, width: float = 5.0, height: float = 3.8):
    """A figure with one axis per value of ``panel`` (in order of appearance)."""
    values = list(dict.fromkeys(frame[panel]))
    fig, axes = plt.subplots(1, len(values), figsize=(width * len(values), height), squeeze=False)
    fig.suptitle(title)
    return fig, dict(zip(values, axes[0]))


def compare(frame: pd.DataFrame, *, by: str, a: str, b: str, metric: str, expect: str,
            within: Sequence[str] = ()) -> pd.DataFrame:
    """Does ``b`` have a lower (``expect="lower"``) or higher ``metric`` than ``a``?

    Per group of ``within``: both means and standard deviations over seeds, the difference
    b - a and its standard error, and a verdict: *supported* when the difference has the
    expected sign and exceeds twice its standard error, *contradicted* when it has the other
    sign and exceeds it, otherwise *not resolved* by our seeds.
    """
    check = {"lower": -1, "higher": 1}
    if expect not in check:
        raise ValueError(f"expect={expect!r}; allowed: 'lower', 'higher'")
    rows = []
    groups = frame.groupby(list(within), sort=False) if within else [((), frame)]
    for key, part in groups:
        sa, sb = part.loc[part[by] == a, metric], part.loc[part[by] == b, metric]
        if sa.empty or sb.empty:
            continue
        diff = sb.mean() - sa.mean()
        se = (sa.var(ddof=1) / len(sa) + sb.var(ddof=1) / len(sb)) ** 0.5 if min(len(sa), len(sb)) > 1 else float("nan")
        if se == se and abs(diff) > 2 * se:
            verdict = "supported" if diff * check[expect] > 0 else "contradicted"
        else:
            verdict = "not resolved"
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(within, key)), "metric": metric, f"{a}_mean": sa.mean(), f"{a}_std": sa.std(),
                     f"{b}_mean": sb.mean(), f"{b}_std": sb.std(), "difference": diff, "std_error": se,
                     "seeds": f"{len(sa)}/{len(sb)}", "verdict": verdict})
    return pd.DataFrame(rows)


def against_value(frame: pd.DataFrame, *, metric: str, value: float, expect: str,
                  within: Sequence[str] = ()) -> pd.DataFrame:
    """Is our ``metric`` at most (``expect="at most"``) or at least (``"at least"``) a number a
    paper reports, such as "a LeNet-5 of 31K parameters"?

    Per group of ``within``: our mean and standard deviation over seeds, the difference
    ours - ``value`` and its standard error, and a verdict: *supported* when our mean lies on the
    claimed side of ``value``, *contradicted* when it lies on the other side by more than twice
    its standard error, otherwise (or with a single seed on the other side) *not resolved*. Rows have
    :func:`compare`'s ``metric``, ``difference`` and ``verdict`` columns, so both mix in one
    claims table.
    """
    sign = {"at most": 1, "at least": -1}
    if expect not in sign:
        raise ValueError(f"expect={expect!r}; allowed: 'at most', 'at least'")
    rows = []
    groups = frame.groupby(list(within), sort=False) if within else [((), frame)]
    for key, part in groups:
        ours = part[metric].dropna()
        if ours.empty:
            continue
        diff = ours.mean() - value
        se = ours.std(ddof=1) / len(ours) ** 0.5 if len(ours) > 1 else float("nan")
        excess = diff * sign[expect]  # > 0: on the wrong side of the paper's number
        if excess <= 0:
            verdict = "supported"
        elif se == se and excess > 2 * se:
            verdict = "contradicted"
        else:
            verdict = "not resolved"
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(within, key)), "metric": metric, "ours_mean": ours.mean(), "ours_std": ours.std(),
                     "paper": value, "difference": diff, "std_error": se, "seeds": str(len(ours)), "verdict": verdict})
    return pd.DataFrame(rows)


def _styles(frame: pd.DataFrame, hue: str, style: str | None):
    colors = {v: f"C{i}" for i, v in enumerate(dict.fromkeys(frame[hue]))}
    dashes = {v: s for v, s in zip(dict.fromkeys(frame[style]), ("-", "--", ":", "-."))} if style else {}
    return colors, dashes


def log_labels(ax_axis, divisor: float = 1.0, suffix: str = "") -> None:
    """Plain labels on a log axis (``value / divisor`` + ``suffix``) at mantissas 1, 2 and 5
    only, major and minor ticks alike, so they read as numbers and never overlap."""

    def label(value: float, _pos=None) -> str:
        if value <= 0:
            return ""
        mantissa = value / 10 ** math.floor(math.log10(value))
        return f"{value / divisor:g}{suffix}" if any(abs(mantissa - m) < 1e-6 for m in (1, 2, 5)) else ""

    ax_axis.set_major_formatter(FuncFormatter(label))
    ax_axis.set_minor_formatter(FuncFormatter(label))


def tradeoff_figure(frame: pd.DataFrame, *, panel: str, hue: str, style: str | None = None, title: str,
                    labels: dict[str, str] | None = None, x: str = "nonzero_params", y: str = "test_error_%"
                    ) -> plt.Figure:
    """Test error against nonzero parameters along pruning sweeps: one panel per ``panel``
    value, colour by ``hue``, line style by ``style``; mean over seeds, min-max band."""
    labels = labels or {}
    colors, dashes = _styles(frame, hue, style)
    fig, axes = panels(frame, panel, title=title)
    for value, ax in axes.items():
        part = frame[frame[panel] == value]
        for keys, group in part.groupby([hue] + ([style] if style else []), sort=False):
            keys = keys if isinstance(keys, tuple) else (keys,)
            name = ", ".join(labels.get(k, str(k)) for k in keys)
            band(ax, group, x, y, label=name, style=dashes.get(keys[-1], "-") if style else "-",
                 color=colors[keys[0]], marker="o")
        ax.set(xscale="log", yscale="log", xlabel="nonzero parameters (log scale)",
               ylabel="test error (%, log scale)", title=labels.get(value, str(value)))
        log_labels(ax.xaxis, 1000, "K")
        log_labels(ax.yaxis)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def error_curves(history: pd.DataFrame, *, panel: str, hue: str, title: str,
                 labels: dict[str, str] | None = None, splits: Sequence[str] = ("train", "test")) -> plt.Figure:
    """Error per epoch for each split (solid, dashed, ...), one panel per ``panel`` value,
    colour by ``hue``; mean over seeds, min-max band."""
    labels = labels or {}
    history = history.assign(**{f"{s}_error": 100 * (1 - history[f"{s}_acc"]) for s in splits})
    colors, _ = _styles(history, hue, None)
    fig, axes = panels(history, panel, title=title)
    for value, ax in axes.items():
        part = history[history[panel] == value]
        for key, group in part.groupby(hue, sort=False):
            for split, style in zip(splits, ("-", "--", ":")):
                band(ax, group, "epoch", f"{split}_error", label=f"{labels.get(key, key)} {split}", style=style,
                     color=colors[key])
        ax.set(xlabel="epoch", ylabel="error (%)", yscale="log", title=labels.get(value, str(value)))
        log_labels(ax.yaxis)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def distributions(frame: pd.DataFrame, *, panel: str, hue: str, title: str, x: str = "w", y: str = "density",
                  labels: dict[str, str] | None = None, xlabel: str = "weight value") -> plt.Figure:
    """Binned densities (mean over seeds, min-max band) on a log scale, one panel per ``panel`` value."""
    labels = labels or {}
    colors, _ = _styles(frame, hue, None)
    fig, axes = panels(frame, panel, title=title)
    for value, ax in axes.items():
        part = frame[frame[panel] == value]
        for key, group in part.groupby(hue, sort=False):
            band(ax, group, x, y, label=labels.get(key, str(key)), color=colors[key])
        ax.set(yscale="log", xlabel=xlabel, ylabel="density", title=labels.get(value, str(value)))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def percentile_lines(frame: pd.DataFrame, *, panel: str, percentiles: Sequence[float], title: str,
                     labels: dict[str, str] | None = None, zoom: float | None = None,
                     ylabel: str = "weight value") -> plt.Figure:
    """Per-epoch percentiles of a layer's weights (paper 001, Figs. 3 and 4): one panel per value of
    ``panel``, one line per percentile (columns ``p<percentile>``, x = ``epoch``), outer percentiles
    lighter; the panels share the y axis; ``zoom`` limits it to [-zoom, zoom]."""
    labels = labels or {}
    fig, axes = panels(frame, panel, title=title)
    cols = [f"p{p:g}" for p in percentiles]
    lo, hi = frame[cols].min().min(), frame[cols].max().max()
    for value, ax in axes.items():
        part = frame[frame[panel] == value].sort_values("epoch")
        for p, col in zip(percentiles, cols):
            shade = 0.35 + 0.65 * (1 - abs(p - 50) / 50)
            ax.plot(part["epoch"], part[col], color=plt.cm.Blues(shade), label=f"{p:g}%" if 0 < p < 100 else
                    ("max" if p == 100 else "min"))
        ax.set(xlabel="epoch", ylabel=ylabel, title=labels.get(value, str(value)),
               ylim=(-zoom, zoom) if zoom else (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)))
        ax.grid(alpha=0.3)
    next(iter(axes.values())).legend(fontsize=7, ncol=3)
    fig.tight_layout()
    return fig


def side_by_side(reference: pd.DataFrame, ours: pd.DataFrame, *, by: Sequence[str], metrics: Sequence[str],
                 profile: str, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The paper's rows (one per method) above ours (one per group of ``by``, mean and std
    over seeds), with the same metric columns; the paper gives no std. Metrics the paper
    does not report stay empty in its rows."""
    labels = labels or {}
    rows = []
    for method, part in reference.groupby("method", sort=False):
        paper = f"paper {part['paper'].iloc[0]}, " if "paper" in part else "paper, "
        row = {"source": f"{paper}{part['table'].iloc[0]}", "method": method, "seeds": None}
        for m in metrics:
            hit = part.loc[part["metric"] == m, "value"]
            row[f"{m} mean"], row[f"{m} std"] = (hit.iloc[0] if len(hit) else None), None
        rows.append(row)
    for key, part in ours.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = {"source": f"ours ({profile})", "method": ", ".join(labels.get(k, str(k)) for k in key),
               "seeds": len(part)}
        for m in metrics:
            row[f"{m} mean"], row[f"{m} std"] = part[m].mean(), part[m].std()
        rows.append(row)
    return pd.DataFrame(rows)


def signed(x: float) -> str:
    return f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.3g}"


def verdict_summary(claims: pd.DataFrame, labels: dict[str, str] | None = None) -> str:
    """Markdown bullets, one per claim: how many comparisons support it, and each difference.

    ``claims`` is :func:`compare` (or :func:`against_value`) output with a ``claim`` column; the
    columns between ``claim`` and ``metric`` name the group of each comparison.
    """
    labels = labels or {}
    cols = list(claims.columns)
    within = [c for c in cols[: cols.index("metric")] if c != "claim"]
    lines = []
    for claim, part in claims.groupby("claim", sort=False):
        counts = ", ".join(f"{n} {v}" for v, n in part["verdict"].value_counts().items())
        here = [c for c in within if part[c].notna().all()]  # claims group by different columns
        detail = "; ".join(
            f"{' / '.join(labels.get(r[c], str(r[c])) for c in here)}: {signed(r['difference'])} ({r['verdict']})"
            for _, r in part.iterrows()
        )
        against = "paper" in part and part["paper"].notna().all()  # rows of against_value()
        meaning = (f"ours minus the paper's {part['paper'].iloc[0]:g}" if against else "claimed method minus baseline")
        lines.append(f"* **{claim}** ({part['metric'].iloc[0]}, difference = {meaning}): "
                     f"{counts} of {len(part)} comparisons. {detail}.")
    return "\n".join(lines)


def tsne_silhouette(tsne: dict[str, Any]) -> float:
    """Silhouette score of a stored 2-D t-SNE map (hook ``tsne_embedding``) by class: higher means
    tighter, better separated classes; NaN with fewer than two classes."""
    from sklearn.metrics import silhouette_score  # lazy: only t-SNE pages need scikit-learn

    y = np.asarray(tsne["labels"])
    return float(silhouette_score(np.asarray(tsne["coords"]), y)) if len(set(y.tolist())) > 1 else float("nan")


def tsne_panels(maps: Sequence[tuple[str, dict[str, Any]]], *, title: str) -> plt.Figure:
    """One scatter panel per stored t-SNE map (``(label, extras["tsne"])``), coloured by class,
    with its silhouette score in the panel's title."""
    fig, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps), 3.4), squeeze=False)
    for ax, (label, tsne) in zip(axes[0], maps):
        xy = np.asarray(tsne["coords"])
        ax.scatter(xy[:, 0], xy[:, 1], c=tsne["labels"], cmap="tab10", s=5)
        ax.set(title=f"{label}\nsilhouette {tsne_silhouette(tsne):.3f}", xticks=[], yticks=[])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


AXES = {"nonzero_weights": "nonzero weights", "macs": "MACs per example (nonzero weights)",
        "bits": "weight bits (nonzero weights x bits per weight)"}


def pareto_figure(points: pd.DataFrame, *, x: str, panel: str, hue: str, title: str,
                  labels: dict[str, str] | None = None, y: str = "test_error_%") -> plt.Figure:
    """Error against size: one panel per ``panel`` value, one point cloud per ``hue`` value
    (seed spread as vertical bars, from :func:`regprune.sweeps.mean_points`), and the panel's
    Pareto front (:func:`regprune.sweeps.pareto_front`) as a black step line."""
    from .sweeps import pareto_front

    labels = labels or {}
    colors = {v: f"C{i % 10}" for i, v in enumerate(dict.fromkeys(points[hue]))}
    markers = {v: "os^Dv<>pP*"[i // 10 % 10] for i, v in enumerate(dict.fromkeys(points[hue]))}
    fig, axes = panels(points, panel, title=title, width=6.0, height=4.6)
    for value, ax in axes.items():
        part = points[(points[panel] == value) & points[x].notna() & (points[x] > 0)]
        for name, group in part.groupby(hue, sort=False):
            ax.errorbar(group[x], group[y], yerr=group.get(f"{y}_std"), fmt=markers[name], ms=4, alpha=0.7,
                        color=colors[name], elinewidth=0.6, label=labels.get(name, str(name)))
        front = part[pareto_front(part, x, y)].sort_values(x)
        ax.step(front[x], front[y], where="post", color="black", lw=1, label="Pareto front")
        ax.set(xscale="log", yscale="log", xlabel=AXES.get(x, x) + " (log scale)", ylabel="test error (%, log scale)",
               title=labels.get(value, str(value)))
        log_labels(ax.yaxis)
        ax.grid(alpha=0.3, which="both")
    legend = {}
    for ax in axes.values():
        for handle, name in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(name, handle)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=4, fontsize=8, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig

