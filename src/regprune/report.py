"""Tables and figures for the book: every table shown is also saved as CSV.

Tables carry a caption naming the profile and the data behind them, so no number in the
book is shown without saying where it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from . import paths


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
    precision: int = 4,
):
    """Save ``df`` as CSV and return a captioned view of it for the notebook to display."""
    save_table(df, name, notebook, tables_dir)
    return df.style.hide(axis="index").format(precision=precision, thousands=",").set_caption(
        caption(title, profile, data)
    )


def seed_summary(df: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Mean and standard deviation over seeds of ``columns``, grouped by ``by``, and the seed count."""
    grouped = df.groupby(list(by), sort=False)
    out = grouped[list(columns)].agg(["mean", "std"])
    out.columns = [f"{c}_{s}" for c, s in out.columns]
    out["seeds"] = grouped.size()
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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
