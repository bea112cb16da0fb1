"""Paper 002 (Han, Liu, Hai, Li: the switcher network, SNN) on MNIST, Table 1: its claims as code.

Judged on the ``switcher_network`` grid's main runs (LeNet-300-100 and LeNet-5-Caffe x {dense,
SNN neuron, SNN connection}, seeds 0-2 in the cpu profile; the two ablation runs are left out).
Each claim is an SNN variant against our dense baseline trained under the same recipe, one named
part per model, paired over seeds, **direction only** (the book's default for a comparison of
methods: the paper's own dense baseline is quoted, not trained beside its SNN, so its differences
are not ones we could hold ours to). FC sparsity is judged on log nonzero FC parameters (a ratio).

**Collapses are counted apart, not averaged in.** A run *collapses* when its validation accuracy
falls below 50% after any epoch past the first (the chapter's definition, as in its collapse
table): its network is then at or near chance, or was selected before the fall. Such runs are left
out of both sides' seeds and each part says how many of its runs collapsed; a part whose runs all
collapsed has no interval and is not resolved.

Written on 2026-12-03; these runs were stored (and shown by the chapter) before. No tolerance is
used: every part is a direction. Not measured here: the comparison at equal learning-rate tuning
(the dense LeNet-300-100 trains at 0.1, its SNN at 0.01) and at equal parameter updates (the
alternation gives the task network half of them) need runs this grid does not hold.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd

from .. import sweeps
from ..chapters import switcher_network
from . import rule
from .base import Claim, Part, paired

GRID = "switcher_network"
COLLAPSE_BELOW = 0.5  # validation accuracy after any epoch past the first
MODELS = ("lenet300", "lenet5")
LABELS = switcher_network.LABELS
SCOPE = ("MNIST (55,000 train / 5,000 validation / 10,000 test), 10 epochs (5 SNN + 5 task-network phases), "
         "3 seeds, our dense baseline under the same recipe; paired over seeds, collapsed runs left out")


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per main run: model, method, seed, test accuracy (%), nonzero FC parameters, and
    whether it collapsed."""
    out = sweeps.dense_frame(records, switcher_network.describe)
    if out.empty:
        return out
    collapsed = {r["key"]: any(h["val_acc"] < COLLAPSE_BELOW for h in r["history"][1:])
                 for r in records if r.get("status") == "completed"}
    out["collapsed"] = out["key"].map(collapsed).astype(bool)
    out["test_acc_%"] = 100 - out["test_error_%"]
    return out[out["variant"] == "main"].reset_index(drop=True)


@dataclasses.dataclass(frozen=True)
class AgainstDense(Part):
    """A part "SNN ``method`` against dense on ``model``": judged on the runs that did not collapse;
    the reason says how many did."""

    model: str = ""
    method: str = ""

    def judge(self, frame: pd.DataFrame) -> rule.Evidence | None:
        if frame.empty:
            return None
        runs = frame[(frame["model"] == self.model) & frame["method"].isin(["dense", self.method])]
        if not (runs["method"] == self.method).any():
            return None  # no SNN run stored yet
        kept = runs[~runs["collapsed"]]
        gone = {m: int(runs.loc[runs["collapsed"] & (runs["method"] == m), "seed"].nunique())
                for m in ("dense", self.method)}
        total = {m: int((runs["method"] == m).sum()) for m in ("dense", self.method)}
        interval = self.measure(kept) if not kept.empty else None
        if interval is None:  # every pair lost a side to a collapse: no seed left to compare
            interval = (0, math.nan, -math.inf, math.inf)
        e = rule.judge(interval, shape=self.shape, side=self.side, paper=self.paper, tolerance=self.tolerance,
                       unit=self.unit)
        note = "; ".join(f"{gone[m]} of {total[m]} {LABELS[m]} runs collapsed to chance, left out"
                         for m in ("dense", self.method) if gone[m])
        return dataclasses.replace(e, reason=f"{e.reason}; {note}") if note else e


def against_dense(method: str, metric: str, side: str, what: str, log: bool = False) -> tuple[Part, ...]:
    return tuple(AgainstDense(f"{LABELS[model]}: {LABELS[method]} - dense ({what})",
                              paired("method", "dense", method, metric, log=log), "direction", side=side,
                              unit="log" if log else "pp", model=model, method=method)
                 for model in MODELS)


def _claim(cid: str, where: str, text: str, scope: str, parts: tuple[Part, ...]) -> Claim:
    return Claim(cid, "002", where, text, GRID, f"{SCOPE}; {scope}", parts, frame)


SPARSER = "log nonzero FC parameters after the gates are baked in"
ACCURACY = "test accuracy of the weights chosen on validation, pp"
CLAIMS: tuple[Claim, ...] = (
    _claim("snn_neuron_sparser", "Table 1", "SNN neuron switching makes the fully connected layers sparse.",
           "the paper: LeNet-300-100 266K -> 47.7K parameters, LeNet-5-Caffe FC 61.7K (its dense FC part: 405.5K)",
           against_dense("snn_neuron", "fc_nonzero", "lower", SPARSER, log=True)),
    _claim("snn_neuron_accuracy", "Table 1, Sec. 4.1", "SNN neuron switching does not cost accuracy but improves it.",
           "the paper: LeNet-300-100 98.42% against a quoted dense 98.36%; LeNet-5-Caffe 99.27%",
           against_dense("snn_neuron", "test_acc_%", "higher", ACCURACY)),
    _claim("snn_connection_sparser", "Table 1", "SNN connection switching makes the fully connected layers sparse.",
           "the paper: LeNet-300-100 266K -> 42.5K parameters, LeNet-5-Caffe FC 57.1K (its dense FC part: 405.5K)",
           against_dense("snn_connection", "fc_nonzero", "lower", SPARSER, log=True)),
    _claim("snn_connection_accuracy", "Table 1, Sec. 4.1",
           "SNN connection switching does not cost accuracy but improves it.",
           "the paper: LeNet-300-100 98.43% against a quoted dense 98.36%; LeNet-5-Caffe 99.31%",
           against_dense("snn_connection", "test_acc_%", "higher", ACCURACY)),
)
