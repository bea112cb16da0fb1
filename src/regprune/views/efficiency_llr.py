"""Paper 000 on MNIST: LLR outputs, weight decay and snapshot pruning of the LeNets
(notebooks/efficiency_llr.ipynb).

The frames behind the tables are plain functions of the stored records; each section function
shows one part of the chapter through the view. Every table title names the grid's seeds, also
where a table summarizes over them (and so has no seed column).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import figures, report, results, sweeps
from .. import claims as claims_module
from ..chapters.efficiency_llr import LABELS, describe
from . import ChapterView

GRID = ["model", "output", "regularizer"]
# Han et al. (2015) prune with retraining down to these sizes; the snapshot sweep is set beside them there.
HAN_SIZES = (("lenet300", 22000), ("lenet5", 36000))
TABLE2_METRICS = ["test_error_%", "pruned_test_error_%", "params", "pruned_params", "compression"]
BAND = "line: mean over seeds, band: min to max"


def _show(view: ChapterView, frame: pd.DataFrame, name: str, title: str, precision: int = 2) -> pd.DataFrame:
    return view.table(frame, name, title, precision=precision, seeds=view.seeds_of())


def _figure(view: ChapterView, fig, name: str, title: str) -> None:
    view.figure(fig, name, title, data=view.data_label(sizes=False))


def _lenet(records: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    return [r for r in records if r["config"]["model"]["name"] == model]


# --- frames -------------------------------------------------------------------------------

def run_lines(records: list[dict[str, Any]], profile: str, data_label: str) -> list[str]:
    """What the runs are: how many, on which data, which did not complete, and their training time."""
    not_completed = [(describe(r["config"]), r["status"]) for r in records if r["status"] != "completed"]
    return [f"{len(records)} runs of profile {profile!r} on {data_label}; not completed: {not_completed or 'none'}",
            f"training wall time, all runs: {sum(r['wall_time_s'] for r in records) / 60:.1f} min"]


def dense_summary(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Errors (%) and overfitting gap (points) of the trained networks, mean and std over seeds."""
    dense = sweeps.dense_frame(records, describe)
    return report.seed_summary(dense, GRID, ["test_error_%", "train_error_%", "final_test_error_%", "gap_pp",
                                             "val_error_%"])


def weight_std(records: list[dict[str, Any]]) -> pd.DataFrame:
    """LeNet-300-100: the standard deviation of each layer's trained weights, mean and std over seeds."""
    spread = pd.DataFrame([{**describe(r["config"]),
                            **{f"std {layer}": h["std"] for layer, h in r["extras"]["weight_histogram"]["layers"].items()}}
                           for r in _lenet(records, "lenet300") if r["status"] == "completed"])
    return report.seed_summary(spread, ["output", "regularizer"], [c for c in spread if c.startswith("std ")])


def at_largest(sweep: pd.DataFrame, model: str) -> pd.DataFrame:
    """Each run of ``model`` at its largest pruning setting, in Table 2's columns: dense test error and
    parameters (``test_error_%``, ``params``) beside the pruned ones."""
    rows = sweeps.at_setting(sweep[sweep["model"] == model], "largest")
    return rows.rename(columns={"test_error_%": "pruned_test_error_%", "nonzero_params": "pruned_params"}).rename(
        columns={"dense_test_error_%": "test_error_%", "dense_params": "params"})


def largest_beside_paper(records: list[dict[str, Any]], model: str, profile: str) -> pd.DataFrame:
    """Paper 000's rows for ``model`` (its Table 2 and Han et al.'s reference) above ours at the largest setting."""
    sweep = sweeps.sweep_frame(records, describe)
    return report.side_by_side(report.paper_numbers(paper="000", model=model), at_largest(sweep, model),
                               by=["output", "regularizer"], metrics=TABLE2_METRICS, profile=profile, labels=LABELS)


def at_han_size(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Each run's pruned network nearest Han et al.'s pruned size, mean and std over seeds."""
    sweep = sweeps.sweep_frame(records, describe)
    near = pd.concat([sweeps.nearest_size(sweep[sweep["model"] == m], size).assign(han_params=size)
                      for m, size in HAN_SIZES])
    return report.seed_summary(near, ["model", "output", "regularizer", "han_params"], ["nonzero_params", "test_error_%"])


def operating_points(records: list[dict[str, Any]], tolerance_pp: float) -> pd.DataFrame:
    """Each run's smallest network within ``tolerance_pp`` points of its dense validation error
    (:func:`regprune.sweeps.operating_point`), mean and std over seeds."""
    op = sweeps.operating_point(sweeps.sweep_frame(records, describe), tolerance_pp)
    return report.seed_summary(op, GRID, ["nonzero_params", "compression", "test_error_%", "dense_test_error_%"])


def fc1_kept(records: list[dict[str, Any]]) -> pd.DataFrame:
    """LeNet-5: what the largest setting (FC 1.25) leaves of the first fully connected layer, per run."""
    return pd.DataFrame([{**describe(r["config"]), **r["extras"]["pruning"]["sweep"][-1]["layers"]["classifier.fc1"]}
                         for r in _lenet(records, "lenet5") if r["status"] == "completed"])


def fc1_sentence(fc1: pd.DataFrame, profile: str, seeds: str) -> str:
    """The reading of :func:`fc1_kept`: can the FC rule leave room for the paper's 31K parameters?"""
    kept = fc1["kept"] / fc1["size"]
    return (f"At the FC setting 1.25, LeNet-5's first fully connected layer keeps {100 * kept.mean():.1f}% "
            f"(from {100 * kept.min():.1f}% to {100 * kept.max():.1f}% over {len(fc1)} runs) of its 400,000 weights, "
            f"{fc1['kept'].mean() / 1000:.0f}K weights on its own (profile: {profile}, {seeds}). "
            + ("So the paper's 31K parameters in total cannot come from this rule on our trained weights: it would need "
               "the FC layers pruned far harder than 1.25 standard deviations." if fc1["kept"].min() > 31000 else
               "That leaves room for the paper's 31K parameters in total."))


# --- sections -----------------------------------------------------------------------------

def runs(view: ChapterView) -> None:
    """Print what the runs are (how many, which did not complete, training time)."""
    print("\n".join(run_lines(view.records, view.profile, view.data_label())))


def trained_networks(view: ChapterView) -> None:
    _show(view, dense_summary(view.records).replace(LABELS), "dense_summary",
          "Dense networks: errors (%) and overfitting gap (points)")


def fig1_weights(view: ChapterView) -> None:
    """Fig. 1: softmax vs LLR without decay (left), without vs with decay (right); the same runs keep
    the same colour in both panels."""
    hist = sweeps.histogram_frame(_lenet(view.records, "lenet300"), describe)
    hist = hist.assign(line=hist["output"].map(LABELS) + ", " + hist["regularizer"].map(LABELS))
    left = hist[hist["regularizer"] == "none"].assign(panel="softmax vs LLR, no decay")
    right = hist[hist["regularizer"].isin(["none", "wd"])].assign(panel="without vs with decay")
    fig = figures.distributions(pd.concat([left, right]), panel="panel", hue="line", labels=LABELS)
    _figure(view, fig, "fig1_weights", f"Fig. 1: LeNet-300-100, density of the trained weights (log scale); {BAND}")


def weight_spread(view: ChapterView) -> None:
    _show(view, weight_std(view.records).replace(LABELS), "lenet300_weight_std",
          "LeNet-300-100: standard deviation of each layer's trained weights", precision=4)


def fig2_softmax_llr(view: ChapterView) -> None:
    sweep = sweeps.sweep_frame(view.records, describe)
    fig = figures.tradeoff(sweep[sweep["regularizer"].isin(["none", "wd"])], panel="model", hue="output",
                           style="regularizer", labels={**LABELS, "none": "no decay", "wd": "SGD + decay"})
    _figure(view, fig, "fig2_softmax_llr",
            f"Fig. 2: softmax vs LLR, test error against nonzero parameters along the pruning sweep; {BAND}")


def fig3_adamw_sgd(view: ChapterView) -> None:
    sweep = sweeps.sweep_frame(view.records, describe)
    fig = figures.tradeoff(sweep[sweep["regularizer"].isin(["wd", "adamw"])], panel="model", hue="output",
                           style="regularizer", labels={**LABELS, "wd": "SGD + decay", "adamw": "AdamW"})
    _figure(view, fig, "fig3_adamw_sgd", "Fig. 3: AdamW vs SGD with weight decay, test error against nonzero "
                                         f"parameters along the pruning sweep; {BAND}")


def fig6_error_curves(view: ChapterView) -> None:
    dense = sweeps.dense_frame(view.records, describe)
    history = results.history_frame(view.records).merge(dense[["key", *GRID]], on="key")
    fig = figures.error_curves(history[history["regularizer"] == "wd"], panel="model", hue="output", labels=LABELS)
    _figure(view, fig, "fig6_error_curves",
            f"Fig. 6: training (solid) and test (dashed) error per epoch, SGD + decay; {BAND}")


def table2(view: ChapterView) -> None:
    _show(view, largest_beside_paper(view.records, "lenet5", view.profile), "table2_lenet5",
          "Table 2: LeNet-5, largest pruning setting, paper vs ours")


def lenet300_largest(view: ChapterView) -> None:
    _show(view, largest_beside_paper(view.records, "lenet300", view.profile), "lenet300_largest",
          "LeNet-300-100, largest pruning setting (FC theta = 1.9), beside Han et al.'s reference")


def han_sizes(view: ChapterView) -> None:
    _show(view, at_han_size(view.records).replace(LABELS), "at_han_size", "Snapshot pruning at Han et al.'s pruned sizes")


def chosen_on_validation(view: ChapterView, tolerance_pp: float) -> None:
    _show(view, operating_points(view.records, tolerance_pp).replace(LABELS), "operating_points",
          f"Smallest network within {tolerance_pp} points of dense validation error")


def claims(view: ChapterView) -> None:
    """The coded claims (one row per named part), then one verdict per claim."""
    table = claims_module.table(view.grid, view.profile, view.results_dir)
    _show(view, table.replace(LABELS), "claims", "Paper claims judged by the book's rule", precision=3)
    view.verdicts(table)


def fc1_note(view: ChapterView) -> None:
    fc1 = fc1_kept(view.records)
    if not fc1.empty:
        view.note(fc1_sentence(fc1, view.profile, figures.seeds_text(view.seeds_of())), "fc1_kept")
