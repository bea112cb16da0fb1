"""Paper 000 on CIFAR-10 and CIFAR-100: ResNets and DenseNets, softmax against LLR outputs, snapshot
pruning (notebooks/efficiency_llr_cifar.ipynb).

A stored-only grid: a cpu build shows what is stored and the grid it still awaits. Every section
skips when nothing is stored; the claims table shows in any case (its claims then "not yet measured").
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import figures, report, sweeps
from ..chapters.efficiency_llr import LABELS, describe
from . import ChapterView

# (figure or table number, dataset): the paper's numbering
FIGURES = (("4", "cifar10"), ("5", "cifar100"))
TABLES = (("7", "cifar10"), ("8", "cifar100"))
MEDIAN_METRICS = ["test_error_%", "pruned_test_error_%", "params", "pruned_params", "compression"]
BAND = "line: mean over seeds, band: min to max"


# --- frames -------------------------------------------------------------------------------

def data_labels(configs: list[dict[str, Any]]) -> dict[str, str]:
    """Each dataset of the grid as its captions name it: the data, the epochs and the precision."""
    return {describe(c)["dataset"]: f"{figures.dataset_label(c['data']['name'])}, {c['train']['epochs']} epochs, "
                                    f"{c['train'].get('precision', 'fp32')}" for c in configs}


def grid_table(configs: list[dict[str, Any]]) -> pd.DataFrame:
    """The grid's runs, one row per architecture and output (seeds in one column), with their
    training settings: what a build shows before anything is stored."""
    grid = pd.DataFrame([{**describe(c), "epochs": c["train"]["epochs"], "batch": c["train"]["batch_size"],
                          "lr": c["train"]["lr"], "weight decay": c["train"]["weight_decay"]} for c in configs])
    return (grid.drop(columns=["seed", "regularizer"]).drop_duplicates()
            .assign(seeds=", ".join(str(s) for s in sorted(set(grid["seed"])))))


def dense_and_median(sweep: pd.DataFrame) -> pd.DataFrame:
    """Each run's dense snapshot and its network at the median setting, ``point`` naming which,
    ``k`` the architecture's rank by size within its dataset (one curve per output and point)."""
    points = pd.concat([sweep[sweep["k"] == -1], sweeps.at_setting(sweep, "median")])
    points = points.assign(point=points["k"].map(lambda k: "dense" if k < 0 else "median"))
    rank = {d: {m: i for i, m in enumerate(dict.fromkeys(part["model"]))} for d, part in points.groupby("dataset")}
    return points.assign(k=[rank[d][m] for d, m in zip(points["dataset"], points["model"])])


def median_table(sweep: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Tables 7 and 8: dense and median-pruned test error, parameters and compression per
    architecture and output, mean and std over seeds."""
    part = sweeps.at_setting(sweep, "median")
    part = part[part["dataset"] == dataset]
    part = part.rename(columns={"test_error_%": "pruned_test_error_%", "nonzero_params": "pruned_params"}).rename(
        columns={"dense_test_error_%": "test_error_%", "dense_params": "params"})
    return report.seed_summary(part, ["model", "output"], MEDIAN_METRICS)


def sizes_label(records: list[dict[str, Any]], dataset: str) -> str:
    """``"45,000 train / 5,000 val / 10,000 test"`` of the first run on ``dataset``."""
    s = next(r["data"]["sizes"] for r in records if describe(r["config"])["dataset"] == dataset)
    return f"{s['train']:,} train / {s['val']:,} val / {s['test']:,} test"


# --- sections -----------------------------------------------------------------------------

def grid(view: ChapterView) -> None:
    """Nothing stored yet: say so, and show the grid that awaits its runs."""
    if view.awaiting():
        view.table(grid_table(view.configs).replace(LABELS), "grid", "The CIFAR grid of this profile, not yet run",
                   data="; ".join(data_labels(view.configs).values()))


def figs_4_5(view: ChapterView) -> None:
    """Figs. 4 (CIFAR-10) and 5 (CIFAR-100): dense and median-pruned networks of every architecture."""
    if not view.records:
        return
    points, labels = dense_and_median(sweeps.sweep_frame(view.records, describe)), data_labels(view.configs)
    for number, dataset in FIGURES:
        part = points[points["dataset"] == dataset]
        if not part.empty:
            fig = figures.tradeoff(part, panel="family", hue="output", style="point", labels=LABELS)
            view.figure(fig, f"fig{number}_{dataset}", f"Fig. {number}: dense and median-pruned networks, test error "
                                                       f"against nonzero parameters; {BAND}", data=labels[dataset])


def fig7(view: ChapterView) -> None:
    """Fig. 7: the whole snapshot-pruning sweep on CIFAR-10, one curve per architecture and output."""
    if not view.records:
        return
    sweep = sweeps.sweep_frame(view.records, describe)
    c10 = sweep[sweep["dataset"] == "cifar10"]
    if not c10.empty:
        fig = figures.tradeoff(c10.assign(line=c10["model"].map(LABELS)), panel="family", hue="line", style="output",
                               labels=LABELS)
        view.figure(fig, "fig7_sweeps", f"Fig. 7: snapshot-pruning sweeps, test error against nonzero parameters; {BAND}",
                    data=data_labels(view.configs)["cifar10"])


def tables_7_8(view: ChapterView) -> None:
    if not view.records:
        return
    sweep, labels = sweeps.sweep_frame(view.records, describe), data_labels(view.configs)
    for number, dataset in TABLES:
        if (sweep["dataset"] == dataset).any():
            view.table(median_table(sweep, dataset).replace(LABELS), f"table{number}_{dataset}",
                       f"Table {number}: median setting", seeds=view.seeds_of(),
                       data=f"{labels[dataset]}; {sizes_label(view.records, dataset)}")


def claims(view: ChapterView) -> None:
    view.claims("LLR against softmax on CIFAR-10, judged by the one rule",
                data="; ".join(data_labels(view.configs).values()))
