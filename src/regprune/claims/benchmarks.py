"""Paper 001's cost claim (Sec. III-A4: the weight compander costs "about 7%-14% runtime overhead
depending on the size of the DNN", during training only) against ``bench/results/reparam_overhead.json``.

This claim is judged on a benchmark, not on a chapter's runs: ``bench/reparam_overhead.py`` times
one training step of the plain network and of the compander (arctan, a = 1, b = 0.6) on LeNet-300-100,
LeNet-5 and ResNet-20, in rounds that time every variant once (interleaved), and stores each
round's step time. **The unit is the round**, paired: per round, compander time over plain time;
the interval is a seeded percentile bootstrap of the median ratio (a ratio: the book's rule), shown
as an overhead in percent. One named part per model.

Tolerance, written on 2026-12-03 after the benchmark was stored and shown (so not blind; said
here): the band is **the paper's own range, 7-14 %** (10.5 ± 3.5), not widened for "about": the
paper already gives a range over network sizes. The paper timed CIFAR ResNets on a GPU; these are
the book's 2-core CPU and small networks, which the scope says. The ResNet-20 rows of the file
first stored were swamped by a concurrent training job (a "not reproduced" there read "not resolved");
the file was measured again on 2026-12-03 with the training paused, and that caveat is gone.

Which file judges it, fixed on 2026-12-04 before any GPU figure existed: a GPU run of the same
benchmark (``bench/reparam_overhead.py --device cuda``, stored as ``reparam_overhead_cuda.json``),
the paper's own setting, where one is stored; the CPU file otherwise.

The inference half ("nothing at inference") is not judged with an interval: the bench stores one
median per baked network, no rounds, so each such part has n = 1 and resolves nothing (its band,
0 ± 5 %, is the old page's timing noise of these medians; it never decides).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import paths
from .base import Claim, Interval, Part
from .rule import bootstrap_interval

BENCH_FILE = "reparam_overhead.json"  # the CPU run
GPU_BENCH_FILE = "reparam_overhead_cuda.json"  # the paper's setting: judged on it where stored
MODELS = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5", "resnet20": "ResNet-20"}
VARIANT = "compander"  # the fixed compander; compander_fine learns a, b (Sec. III-A3), a different cost
PAPER_LOW, PAPER_HIGH = 7.0, 14.0


class BenchClaim(Claim):
    """A claim judged on a stored benchmark file rather than a grid's runs."""

    def load(self, folder: str | Path | None = None) -> list[dict[str, Any]]:
        """The stored benchmark, from ``folder`` when it holds the file (a bench results folder), else
        from ``bench/results`` beside it (``folder`` is then a runs folder, as the scorecard passes:
        the repository's ``results/`` sits beside ``bench/``); none found: no records."""
        if folder is None:
            candidates = [paths.repo_root() / "bench" / "results"]
        else:
            candidates = [Path(folder), Path(folder).parent / "bench" / "results"]
        for candidate in candidates:
            for name in (GPU_BENCH_FILE, BENCH_FILE):
                if (candidate / name).is_file():
                    return [json.loads((candidate / name).read_text())]
        return []


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per model, variant and timed round: the step time (s), and the baked network's
    eval-time ratio to plain (one median per network)."""
    rows = []
    for bench in records:
        for r in bench["rows"]:
            for i, t in enumerate(r["step_times_s"]):
                rows.append({"model": r["model"], "variant": r["variant"], "round": i, "step_time_s": t,
                             "baked_inference_ratio": r["baked_inference_ratio"]})
    return pd.DataFrame(rows)


def training_overhead(model: str):
    """The measure: bootstrap interval of the median per-round ratio compander / plain, as overhead %."""
    def measure(frame: pd.DataFrame) -> Interval | None:
        rows = frame[frame["model"] == model]
        plain = rows[rows["variant"] == "plain"].set_index("round")["step_time_s"]
        method = rows[rows["variant"] == VARIANT].set_index("round")["step_time_s"]
        shared = plain.index.intersection(method.index)
        if shared.empty:
            return None
        n, mid, low, high = bootstrap_interval((method[shared] / plain[shared]).to_numpy())
        return n, 100 * (mid - 1), 100 * (low - 1), 100 * (high - 1)
    return measure


def inference_overhead(model: str):
    """The measure: the baked compander's eval-time overhead (%), one median: n = 1."""
    def measure(frame: pd.DataFrame) -> Interval | None:
        rows = frame[(frame["model"] == model) & (frame["variant"] == VARIANT)]
        if rows.empty:
            return None
        return 1, 100 * (float(rows["baked_inference_ratio"].iloc[0]) - 1), -np.inf, np.inf
    return measure


CLAIMS: tuple[Claim, ...] = (
    BenchClaim(
        "wc_training_overhead", "001", "Sec. III-A4",
        "The reparameterization costs about 7-14% training time and nothing at inference.", "benchmarks",
        "reparameterization overhead benchmark (bench/reparam_overhead.py): fixed arctan compander against the "
        "plain network, batch 128 of random inputs, SGD step, on a GPU where a GPU run is stored, else on the "
        "book's 2-core CPU (the paper: CIFAR ResNets on a GPU); rounds paired, bootstrap of the median ratio; "
        "training judged against the paper's 7-14 %",
        (*(Part(f"{label}: training-step overhead (%)", training_overhead(model), "value",
                paper=(PAPER_LOW + PAPER_HIGH) / 2, tolerance=(PAPER_HIGH - PAPER_LOW) / 2, unit="%",
                per="round")
           for model, label in MODELS.items()),
         *(Part(f"{label}: inference overhead after baking (%; one stored median, no rounds: no interval)",
                inference_overhead(model), "value", paper=0.0, tolerance=5.0, unit="%", per="stored median")
           for model, label in MODELS.items())),
        frame),
)
