"""Tables for the book: every table shown is also saved as CSV (figures: :mod:`regprune.figures`;
verdicts: :mod:`regprune.claims`).

Tables carry a caption naming the profile and the data behind them, so no number in the
book is shown without saying where it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

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
