"""Tables and claims for the book: every table shown is also saved as CSV (figures: :mod:`regprune.figures`).

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
