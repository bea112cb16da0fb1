"""Quickstart: LeNet-300-100 on MNIST, the engine end to end (notebooks/quickstart.ipynb)."""

from __future__ import annotations

import pandas as pd

from .. import counting, figures, models, report, results
from . import ChapterView


def per_seed(records: list[dict]) -> pd.DataFrame:
    """One row per seed: status, selected epoch, validation and test accuracy, test error in %."""
    runs = results.to_frame(records)
    out = runs[["seed", "status", "best_epoch", "val_acc", "test_acc", "train_time_s"]].copy()
    out["test_error_%"] = 100 * (1 - out["test_acc"])
    return out


def accuracy(view: ChapterView) -> None:
    """Accuracy per seed, and its mean and std over seeds."""
    seeds = per_seed(view.records)
    view.table(seeds, "accuracy_per_seed", "LeNet-300-100 on MNIST, per seed")
    summary = report.seed_summary(seeds.assign(model="lenet300"), ["model"], ["val_acc", "test_acc", "test_error_%"])
    view.table(summary, "accuracy_summary", "LeNet-300-100 on MNIST, mean and std over seeds")


def beside_paper(view: ChapterView) -> None:
    """The dense baseline beside the number paper 002 quotes."""
    seeds = per_seed(view.records)
    reference = report.paper_numbers(model="lenet300", dataset="mnist", method="dense baseline", metric="test_acc_%")
    view.table(report.beside_paper(reference, 100 * seeds["test_acc"], profile=view.profile), "baseline_vs_paper",
               "Dense LeNet-300-100 test accuracy (%), paper vs ours")


def learning_curves(view: ChapterView) -> None:
    view.figure(figures.learning_curves(results.history_frame(view.records)), "learning_curves",
                "LeNet-300-100: loss and error per epoch, training (solid) and validation (dashed); "
                "line: mean over seeds, band: min to max", data=view.data_label(sizes=False))


def layers(view: ChapterView) -> None:
    """The network's layers with their parameters and MACs, and what the first run stored."""
    rows = counting.layer_table(models.build("lenet300"), models.input_shape("lenet300"))
    frame = pd.DataFrame(rows)[["layer", "type", "in_shape", "out_shape", "params", "macs"]]
    view.table(frame, "lenet300_layers", "LeNet-300-100 layers", data="input 1x28x28 (no training)")
    stored = view.records[0]["counts"]
    view.note(f"Parameters: {stored['params']:,} (nonzero after training: {stored['nonzero_params']:,}); "
              f"MACs per image: {stored['macs']['total']:,}.", "counts")
