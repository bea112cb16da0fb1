"""Tables and figures for the book: every table shown is also saved as CSV.

Tables carry a caption naming the profile and the data behind them, so no number in the
book is shown without saying where it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd

from . import paths


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
    precision: int = 4,
):
    """Save ``df`` as CSV and return a captioned view of it for the notebook to display."""
    save_table(df, name, notebook, tables_dir)
    return df.style.hide(axis="index").format(precision=precision, thousands=",").set_caption(
        caption(title, profile, data)
    )


def seed_summary(df: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Mean, standard deviation and count over seeds of ``columns``, grouped by ``by``."""
    grouped = df.groupby(list(by), sort=False)[list(columns)]
    out = grouped.agg(["mean", "std", "count"])
    out.columns = [f"{c}_{s}" for c, s in out.columns]
    return out.reset_index()


def learning_curves(history: pd.DataFrame, *, title: str, hue: str | None = None) -> plt.Figure:
    """Loss and error per epoch, training and validation, mean over seeds with min-max band."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    groups = history.groupby(hue, sort=False) if hue else [(None, history)]
    for label, part in groups:
        per_epoch = part.groupby("epoch")
        for split, style in (("train", "-"), ("val", "--")):
            for ax, metric, transform in (
                (axes[0], f"{split}_loss", lambda s: s),
                (axes[1], f"{split}_acc", lambda s: 100 * (1 - s)),
            ):
                stats = per_epoch[metric].agg(["mean", "min", "max"]).apply(transform)
                name = f"{label} {split}" if label is not None else split
                (line,) = ax.plot(stats.index, stats["mean"], style, label=name)
                ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.2)
    axes[0].set(xlabel="epoch", ylabel="loss", yscale="log", title="loss")
    axes[1].set(xlabel="epoch", ylabel="error (%)", yscale="log", title="error")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
