"""Weight Compander, the paper's CIFAR experiments (notebooks/weight_compander_cifar.ipynb).

The view (``needs_gpu=True``) holds the runs of the paper's grid (in a cpu build: the stored
``paper`` runs, nothing trained); the paper's tables beside ours and Figs. 3 and 4 on ResNet34 name
that grid's profile. The ResNet-20 stand-in of the ``cpu`` grid is shown from its stored runs.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import chapters, figures, hooks, profiles, report, sweeps
from .. import claims as claims_module
from .. import data as datasets
from ..chapters.weight_compander import LABELS, PAPER_METHODS, describe, split_search
from ..claims import AWAITS_GPU
from . import ChapterView
from .weight_compander import first_layer, percentiles_of

NOTEBOOK = "weight_compander_cifar"
FIG3_MODEL = "resnet34"
ACCURACY_TABLES = ["Table II", "Table III", "Table VI", "Table VII"]
STANDIN_DATA = "cifar10-jpeg"


def ours(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(main, search, chosen) of :func:`split_search`, with test accuracy in %; empty without runs."""
    frame = sweeps.dense_frame(records, describe) if records else pd.DataFrame()
    if frame.empty:
        return frame, frame, {}
    frame["test_acc_%"] = 100 - frame["test_error_%"]
    return split_search(frame)


def data_label(records: list[dict[str, Any]]) -> str:
    """The data the tables come from: the first run's data set and split sizes ("and others": the
    grid spans CIFAR-10 and CIFAR-100)."""
    if not records:
        return "CIFAR-10/100 (not yet run)"
    data = records[0]["data"]
    return (f"{data['dataset']} and others, {data['sizes']['train']:,} train / {data['sizes']['val']:,} validation / "
            f"{data['sizes']['test']:,} test")


# --- frames behind the tables -------------------------------------------------------


def grid_frame(configs: list[dict[str, Any]]) -> pd.DataFrame:
    """The grid's methods per data set and model, in grid order."""
    grid = pd.DataFrame([describe(c) for c in configs])
    cells = grid.groupby(["dataset", "model"], sort=False)["method"].agg(lambda m: ", ".join(dict.fromkeys(m)))
    return cells.reset_index().replace(LABELS).rename(columns={"method": "methods"})


def table1_frame(chosen: dict[tuple[str, str, str], tuple[float, float]]) -> pd.DataFrame:
    """Table I: the paper's a, b of the compander per model and data set beside ours (the search's
    choice; :data:`AWAITS_GPU` before any search is stored)."""
    paper = report.paper_numbers(paper="001", table="Table I")
    table = paper.pivot_table(index=["model", "dataset"], columns="metric", values="value", sort=False).reset_index()
    table = table.rename(columns={"a": "paper_a", "b": "paper_b"})
    ab = [chosen.get((m, d, "wc"), (None, None)) for m, d in zip(table["model"], table["dataset"])]
    table["our_a"], table["our_b"] = [a for a, _ in ab], [b for _, b in ab]
    if not chosen:
        table["our_a"] = table["our_b"] = AWAITS_GPU
    return table.replace(LABELS)


def accuracy_frames(main: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Tables II, III, VI and VII: the paper's test accuracy (mean, std) beside ours (mean, std,
    seeds, and the difference of the means), one frame per table, keyed by the table's name."""
    paper = report.paper_numbers(paper="001")
    paper = paper[paper["table"].isin(ACCURACY_TABLES)]
    paper = paper.pivot_table(index=["table", "model", "dataset", "method"], columns="metric", values="value",
                              sort=False).reset_index()
    paper["method"] = paper["method"].map(PAPER_METHODS)
    if main.empty:
        table = paper.assign(ours_mean=AWAITS_GPU)
    else:
        stats = main.groupby(["model", "dataset", "method"]).agg(
            ours_mean=("test_acc_%", "mean"), ours_std=("test_acc_%", "std"), seeds=("seed", "size")).reset_index()
        table = paper.merge(stats, on=["model", "dataset", "method"], how="left")
        table["difference"] = table["ours_mean"] - table["test_acc_%"]
    table = table.rename(columns={"test_acc_%": "paper_mean", "test_acc_std_%": "paper_std"})
    return {t: part.drop(columns="table").replace(LABELS) for t, part in table.groupby("table", sort=False)}


def fig3_runs(main: pd.DataFrame) -> pd.DataFrame:
    """The main runs behind Figs. 3 and 4: ResNet34 on CIFAR-10, plain and with the compander."""
    if main.empty:
        return main
    return main[(main["model"] == FIG3_MODEL) & (main["dataset"] == "cifar10") & main["method"].isin(["none", "wc"])]


def fig3_frame(records: list[dict[str, Any]], runs: pd.DataFrame) -> pd.DataFrame:
    """The first conv layer's weight percentiles per method (of ``runs``) and epoch (0 = its
    initialization), first seed."""
    by_key = {r["key"]: r for r in records}
    rows = []
    for method in ("none", "wc"):
        part = runs[runs["method"] == method]
        if part.empty:
            continue
        record = by_key[part.sort_values("seed")["key"].iloc[0]]
        rows += percentiles_of(record["config"], record["history"], first_layer(FIG3_MODEL), method)
    return pd.DataFrame(rows)


def standin_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The ResNet-20 stand-in's test accuracy per method (seeds, mean, std) beside the paper's
    ResNet18 on CIFAR-10 (Table II); empty without runs."""
    frame = sweeps.dense_frame(records, describe) if records else pd.DataFrame()
    if frame.empty:
        return frame
    frame["test_acc_%"] = 100 - frame["test_error_%"]
    table = frame.groupby("method", sort=False).agg(
        seeds=("seed", "size"), ours_mean=("test_acc_%", "mean"), ours_std=("test_acc_%", "std")).reset_index()
    paper = report.paper_numbers(paper="001", table="Table II")
    paper = paper[(paper["model"] == "resnet18") & (paper["dataset"] == "cifar10")]
    paper = paper.pivot_table(index="method", columns="metric", values="value").reset_index()
    paper["method"] = paper["method"].map(PAPER_METHODS)
    paper = paper.rename(columns={"test_acc_%": "paper_resnet18_mean", "test_acc_std_%": "paper_resnet18_std"})
    return table.merge(paper, on="method", how="left").replace(LABELS)


# --- sections ------------------------------------------------------------------------


def grid(view: ChapterView) -> None:
    view.table(grid_frame(view.configs), "grid", "The CIFAR grid: models and methods per data set",
               data=data_label(view.records), profile=view.grid_profile)


def table1(view: ChapterView) -> None:
    _, _, chosen = ours(view.records)
    view.table(table1_frame(chosen), "table1", "Table I: a, b of the weight compander", data=data_label(view.records),
               profile=view.grid_profile)


def accuracy(view: ChapterView) -> None:
    """Tables II, III, VI and VII, one table each."""
    main, _, _ = ours(view.records)
    for name, table in accuracy_frames(main).items():
        view.table(table, name.lower().replace(" ", "_"), f"{name}: test accuracy (%), paper beside ours",
                   data=data_label(view.records), profile=view.grid_profile)


def weights_during_training(view: ChapterView) -> None:
    """Figs. 3 and 4 on ResNet34 / CIFAR-10, or a note that they await the GPU run."""
    main, _, _ = ours(view.records)
    runs = fig3_runs(main)
    if len(runs) == 0:
        view.note("**Awaits the GPU run** of ResNet34 on CIFAR-10 (plain and WC).", "fig3")
        return
    frame = fig3_frame(view.records, runs)
    seed = [runs["seed"].min()]
    cifar10 = figures.dataset_label(next(r for r in view.records if r["key"] == runs["key"].iloc[0])["data"]["dataset"])
    fig = figures.percentile_bands(frame, panel="method", percentiles=hooks.PERCENTILES, labels=LABELS)
    view.figure(fig, "fig3_percentiles", f"Fig. 3: ResNet34, weights of {first_layer(FIG3_MODEL)} per epoch (epoch 0: "
                "initialization): median and bands between percentiles", data=cifar10, seeds=seed,
                profile=view.grid_profile)
    fig = figures.percentile_bands(frame, panel="method", percentiles=hooks.PERCENTILES[1:-1], labels=LABELS,
                                   zoom=1.3 * frame[["p93", "p7"]].abs().max().max())
    view.figure(fig, "fig4_percentiles_zoomed", "Fig. 4: the same without max and min, zoomed", data=cifar10,
                seeds=seed, profile=view.grid_profile)


def standin(view: ChapterView) -> None:
    """The ResNet-20 stand-in of the ``cpu`` grid (a cpu build shows its stored runs; other builds
    show none) and its claim, judged in the build's profile."""
    records = (chapters.records(NOTEBOOK, view.profile, view.seeds, train=False, results_dir=view.results_dir)
               if profiles.loads_stored(view.profile) else [])
    table = standin_frame(records)
    if table.empty:
        view.note("**Not yet measured**: no run of the ResNet-20 stand-in is stored yet.", "standin")
    else:
        view.table(table, "standin", "ResNet-20 stand-in: test accuracy (%), ours beside the paper's ResNet18",
                   data=f"{datasets.label(STANDIN_DATA)}, 45,000 train / 5,000 validation / 10,000 test")
    view.table(claims_module.table(NOTEBOOK, view.profile, view.results_dir), "claims_standin",
               "The claim on the stand-in, judged by the book's rule", data=datasets.label(STANDIN_DATA))
