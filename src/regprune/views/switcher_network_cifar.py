"""The switcher network on CIFAR-10 and CIFAR-100 (paper 002, Tables 2 and 3;
notebooks/switcher_network_cifar.ipynb): the grid, the paper's tables with our runs beside its SNN
rows, and accuracy against FC sparsity.

These runs need a GPU: the view is opened with ``needs_gpu=True``, so a cpu build shows the stored
``paper`` runs (none yet) and trains nothing; the smoke profile runs tiny synthetic data.
"""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from .. import figures, report, sweeps
from ..chapters.switcher_network import LABELS, PAPER_METHODS, describe
from ..claims import AWAITS_GPU
from . import ChapterView


def runs(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per finished run (:func:`regprune.sweeps.dense_frame`) with ``test_acc_%``; empty if none."""
    ours = sweeps.dense_frame(records, describe)
    return ours.assign(**{"test_acc_%": 100 - ours["test_error_%"]}) if not ours.empty else ours


def data_label(view: ChapterView) -> str:
    """The first run's data set "and others", with its split sizes; before any run, that none ran."""
    if not view.records:
        return "CIFAR-10/100 (not yet run)"
    data = view.records[0]["data"]
    sizes = data["sizes"]
    return (f"{data['dataset']} and others, {sizes['train']:,} train / {sizes['val']:,} validation / "
            f"{sizes['test']:,} test")


def grid_frame(configs: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per data set and model of the grid, with its methods in grid order."""
    grid = pd.DataFrame([describe(c) for c in configs], columns=["dataset", "model", "method"])
    return grid.groupby(["dataset", "model"], sort=False)["method"].agg(
        lambda m: ", ".join(dict.fromkeys(m))).reset_index()


def grid(view: ChapterView) -> None:
    view.table(grid_frame(view.configs).replace(LABELS), "grid",
               f"The grid of profile {view.grid_profile!r}: methods per data set and model", data=data_label(view))


def paper_tables(paper_numbers: pd.DataFrame, ours: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Tables 2 and 3 (``{"Table 2": ..., "Table 3": ...}``): the paper's rows, and beside its SNN rows
    our mean accuracy, its std, our mean nonzero parameters and the seed count; before any run the
    SNN rows say they await a GPU."""
    theirs = paper_numbers[paper_numbers["table"].isin(["Table 2", "Table 3"])]
    theirs = theirs.pivot_table(index=["table", "model", "dataset", "method"], columns="metric", values="value",
                                sort=False).reset_index()
    theirs["ours_method"] = theirs["method"].map(PAPER_METHODS)
    if ours.empty:
        table = theirs.assign(ours_acc=[AWAITS_GPU if isinstance(m, str) else "" for m in theirs["ours_method"]])
    else:
        stats = ours.groupby(["model", "dataset", "method"]).agg(
            ours_acc=("test_acc_%", "mean"), ours_std=("test_acc_%", "std"), ours_nonzero=("nonzero_params", "mean"),
            seeds=("seed", "size")).reset_index().rename(columns={"method": "ours_method"})
        table = theirs.merge(stats, on=["model", "dataset", "ours_method"], how="left")
    return {t: part.drop(columns=["table", "ours_method"])
            for t, part in table.groupby("table", sort=False)}


def tables2_3(view: ChapterView) -> None:
    for title, table in paper_tables(report.paper_numbers(paper="002"), runs(view.records)).items():
        view.table(table.replace(LABELS), title.lower().replace(" ", "_"),
                   f"{title}: test accuracy (%) and parameters, paper beside ours", data=data_label(view))


def accuracy_against_sparsity(view: ChapterView) -> None:
    """Test accuracy against nonzero FC weights, one point per run; before any run, a note."""
    ours = runs(view.records)
    if ours.empty:
        view.note(f"**Awaits the GPU run**: no `{view.grid_profile}` run of this chapter is stored yet, so there is "
                  "nothing to plot here.", "awaits")
        return
    label = ours["model"].map(lambda m: LABELS.get(m, m)) + ", " + ours["method"].map(lambda m: LABELS.get(m, m))
    fig = figures.scatter(ours.assign(line=label), x="fc_nonzero", y="test_acc_%", hue="line", logx=True,
                          xlabel="nonzero FC weights and biases (log scale)", ylabel="test accuracy (%)")
    view.figure(fig, "snn_cifar", "SNN on CIFAR: test accuracy against nonzero FC weights, one point per run",
                data=data_label(view), seeds=view.seeds_of(ours))
