"""Paper 003's FNN claims (Sections 5.2.4 and 5.3, Tables 6-8 and 10-12, Figs. 2-3), judged on the
stored runs of the ``vc_bound`` grid: FNNs with 1-3 hidden layers on dna, a9a, w8a and MNIST, six
methods, the cpu profile's seeds, each at the values its staged search chose (the CIFAR quick-net claims are in
:mod:`.cifar`).

Tolerances, written on 2026-12-03 when the runs were already stored and the chapter's old
verdicts shown (so not fixed blind; none was moved to reach a verdict):

* Method comparisons (compression, accuracy, clusters) are judged by **direction only**, the
  book-wide default: the paper's numbers come from its own splits, epochs and tuning, so their
  sizes are not ours to match. Compression ratios are compared on their log.
* "Quantizing to about 4 bits does not significantly decrease accuracy" uses the paper's own
  "1% error tolerance" (Sec. 5.3): a **bound**, test accuracy at 4 total bits at most 1 point below
  full precision.

Sec. 5.3's robustness claims (tolerances written on 2026-12-03 at 09:40 UTC, before any number of
ours for them was computed): a run's **robustness** is its trained network's test accuracy at each
stored total bit width minus full precision, mean over the widths (pp; higher = more robust).
"Least" and "most robust" are judged by direction only (the paper gives no number) against the
least or most robust of the other five methods, per seed; "comparable" uses the paper's own 1%
error tolerance: 0 ± 1 pp. All on dna, the one data set Fig. 3 shows.

Seeds are the unit. Where the paper's claim covers many data sets, each of ours is a named part;
within a data set a seed's number is its mean over the three depths (and over the methods the
claim names), so every comparison is paired within a seed. A run that learned nothing (test
accuracy at or below the test split's majority share + 0.1 pp: it predicts one class) is left out
of every comparison and counted in the reason: its compression and accuracy say nothing about a
regularizer. Where a claim says "best", the best method (or bit width) is picked on validation
accuracy and its test number judged, so the test number is never the maximum of noisy test numbers;
"best compression" compares the largest of three ratios with the largest of three.

Quantization: the main runs' sweep lets fraction bits reach or pass the total bits, as the paper's
fixed-point tool does (``chapters.vc_bound.MAIN_POST``). Runs analysed the older way, with fraction
bits kept below the total (at 4 total bits only 3 fraction bits tried), still carry that caveat:
a shortfall there reads *not resolved*, never *not reproduced* (:class:`QuantizationPart`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import sweeps
from ..chapters.vc_bound import DEPTHS, FNN, SEARCH_MODEL, at_majority, describe
from . import rule
from .base import Claim, Interval, Part, PartWithLeftOut, data_unavailable

GRID = "vc_bound"
DATASETS = ("dna", "a9a", "w8a", "mnist")
DATA_TERM = ("H+LCA", "H+W2+LCA", "H+W1+LCA")
WITHOUT = {"H+LCA": "H", "H+W2+LCA": "H+W2", "H+W1+LCA": "H+W1"}  # each data-term method and its part without it
L1 = ("H+W1", "H+W1+LCA")
SEEDS = len(FNN["cpu"]["seeds"])  # the profile's seed count, stated in the claims' text
QUANT_BITS = 4
QUANT_DROP_PP = -1.0  # the paper's "1% error tolerance"
FRACTION_CEILING = ("these FNN runs kept fraction bits below total bits (at 4 bits only 3 fraction bits were tried), "
                    "which the paper's fixed-point tool does not require: a shortfall here cannot be told from that "
                    "restriction")


def _coords(config: dict[str, Any]) -> dict[str, Any]:
    post = next((h for h in config.get("hooks", []) if h["name"] == "threshold_sweep"), {})
    return {**describe(config), "epochs": config["train"]["epochs"], "batch_size": config["train"]["batch_size"],
            "frac_ge_total": bool(post.get("allow_frac_ge_total", False))}


SETTING = ["lr", "C", "D", "epochs", "batch_size", "frac_ge_total"]
Statistic = Callable[[pd.DataFrame], float | None]  # one seed's rows of one depth -> a number


def main_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the tables: each (data set, method) at the setting its other depths and seeds ran
    with. Search runs (only ``SEARCH_MODEL``, first seed), the epoch-budget check and the ablations
    have settings no other depth or seed shares, so they drop out."""
    if frame.empty:
        return frame
    key = pd.Series([repr(tuple(row)) for row in frame[SETTING].itertuples(index=False)], index=frame.index)
    first = frame.groupby("dataset")["seed"].transform("min")
    spread = (frame["model"] != SEARCH_MODEL) | (frame["seed"] != first)
    chosen = set(zip(frame.loc[spread, "dataset"], frame.loc[spread, "method"], key[spread]))
    return frame[[c in chosen for c in zip(frame["dataset"], frame["method"], key)]]


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per main run: accuracies (%), log compression, 4-bit and validation-picked quantized
    test accuracy change (pp), silhouette of the stored t-SNE map, and whether the run is trivial."""
    runs = sweeps.threshold_frame(records, _coords)
    if runs.empty:
        return runs
    runs = main_runs(runs).copy()
    runs["trivial"] = at_majority(runs["test_acc_%"], runs["dataset"])
    runs["log_r"] = np.log(runs["compression"])
    quant = sweeps.quantization_frame([r for r in records if r["key"] in set(runs["key"])], _coords)
    if not quant.empty:
        quant = quant[quant["network"] == "trained"]
        full = runs.set_index("key")["test_acc_%"]
        at_bits = quant[quant["total_bits"] == QUANT_BITS].set_index("key")["test_acc_%"]
        runs[f"q{QUANT_BITS}_change_pp"] = runs["key"].map(at_bits) - runs["test_acc_%"]
        # robustness to quantization (Sec. 5.3): the test accuracy change, mean over every stored width
        runs["q_mean_change_pp"] = runs["key"].map(quant.groupby("key")["test_acc_%"].mean()) - runs["test_acc_%"]
        # the bit width with the best validation accuracy (first in the sweep's order on a tie), its test accuracy
        best = quant.loc[quant.groupby("key", sort=False)["val_acc_%"].idxmax()].set_index("key")["test_acc_%"]
        runs["q_peak_change_pp"] = runs["key"].map(best) - runs["key"].map(full)
    silhouette = {r["key"]: _silhouette(r["extras"]["tsne"]) for r in records if "tsne" in r.get("extras", {})}
    runs["silhouette"] = runs["key"].map(silhouette)
    return runs.reset_index(drop=True)


def _silhouette(tsne: dict[str, Any]) -> float:
    from ..hooks import tsne_silhouette  # lazy: scikit-learn only where a t-SNE map is stored

    return tsne_silhouette(tsne)


def per_seed(dataset: str, statistic: Statistic) -> Callable[[pd.DataFrame], Interval | None]:
    """A measure: the t interval over seeds of ``statistic`` (one number per seed and depth, from
    that seed's non-trivial runs of that depth), averaged over depths. Trivial runs are counted
    apart by :func:`part`."""
    def measure(f: pd.DataFrame) -> Interval | None:
        f = f[(f["dataset"] == dataset) & ~f["trivial"]] if "dataset" in f else f.iloc[0:0]
        values = []
        for _, seed_rows in f.groupby("seed"):
            depth_values = [statistic(rows) for _, rows in seed_rows.groupby("model")]
            depth_values = [v for v in depth_values if v is not None and np.isfinite(v)]
            if depth_values:
                values.append(float(np.mean(depth_values)))
        return rule.t_interval(values) if values else None
    return measure


def _best_minus_best(metric: str, claimed: tuple[str, ...], pick: str | None = None
                     ) -> Statistic:
    """Within one seed and depth: ``metric`` of the best of the ``claimed`` methods minus that of the
    best of the others. ``pick``: the column that says which is best (validation accuracy, so the
    test number judged is not the maximum of noisy test numbers); default ``metric`` itself."""
    pick = pick or metric

    def statistic(rows: pd.DataFrame) -> float | None:
        inside, outside = rows[rows["method"].isin(claimed)], rows[~rows["method"].isin(claimed)]
        if inside.empty or outside.empty:
            return None
        return float(inside.loc[inside[pick].idxmax(), metric] - outside.loc[outside[pick].idxmax(), metric])
    return statistic


def _with_minus_without(rows: pd.DataFrame) -> float | None:
    """Within one seed and depth: log r with the data term minus without it, mean over the three pairs."""
    by = rows.set_index("method")["log_r"]
    diffs = [by[m] - by[WITHOUT[m]] for m in DATA_TERM if m in by and WITHOUT[m] in by]
    return float(np.mean(diffs)) if diffs else None


def _mean_of(metric: str) -> Statistic:
    def statistic(rows: pd.DataFrame) -> float | None:
        values = rows[metric].dropna() if metric in rows else []
        return float(np.mean(values)) if len(values) else None
    return statistic


def _paired(metric: str, baseline: str, method: str, model: str) -> Statistic:
    """Within one seed: ``metric`` of ``method`` minus ``baseline`` on ``model`` (None on other depths)."""
    def statistic(rows: pd.DataFrame) -> float | None:
        rows = rows[rows["model"] == model]
        by = rows.set_index("method")[metric] if metric in rows else pd.Series(dtype=float)
        return float(by[method] - by[baseline]) if method in by and baseline in by else None
    return statistic


def _robustness_gap(method: str, model: str, side: str) -> Statistic:
    """Within one seed, on ``model`` only: ``method``'s robustness (``q_mean_change_pp``) minus the
    least (``side="lower"``) or the most (``"higher"``) robust of the other methods: below 0 when it
    is the least robust, above 0 when it is the most robust."""
    def statistic(rows: pd.DataFrame) -> float | None:
        if "q_mean_change_pp" not in rows:
            return None
        rows = rows[rows["model"] == model].dropna(subset=["q_mean_change_pp"])
        mine, others = rows[rows["method"] == method], rows[rows["method"] != method]
        if mine.empty or others.empty:
            return None
        extreme = others["q_mean_change_pp"].min() if side == "lower" else others["q_mean_change_pp"].max()
        return float(mine["q_mean_change_pp"].iloc[0] - extreme)
    return statistic


def _data_term_robustness(model: str) -> Statistic:
    """Within one seed, on ``model`` only: mean robustness of the three data-term methods minus the mean
    of the three without (each only where stored)."""
    def statistic(rows: pd.DataFrame) -> float | None:
        if "q_mean_change_pp" not in rows:
            return None
        by = rows[rows["model"] == model].set_index("method")["q_mean_change_pp"].dropna()
        with_term, without = by[by.index.isin(DATA_TERM)], by[by.index.isin(list(WITHOUT.values()))]
        return float(with_term.mean() - without.mean()) if len(with_term) and len(without) else None
    return statistic


def part(dataset: str, what: str, statistic, shape: str = "direction", side: str = "higher", caveat: str | None = None,
         **judged: Any) -> Part:
    """A part on one data set; its reason counts the runs left out there as trivial (majority class)."""
    return PartWithLeftOut(f"{dataset}: {what}", per_seed(dataset, statistic), shape, side=side, caveat=caveat,
                           scope="dataset", value=dataset, flag="trivial", why="at the majority class", **judged)


@dataclasses.dataclass(frozen=True)
class QuantizationPart(PartWithLeftOut):
    """A part on quantization sweeps: its caveat (``FRACTION_CEILING``) holds only where a run of its
    data set was analysed with fraction bits kept below the total."""

    def judge(self, frame: pd.DataFrame) -> rule.Evidence | None:
        if "frac_ge_total" in frame and frame.loc[frame["dataset"] == self.value, "frac_ge_total"].all():
            return PartWithLeftOut.judge(dataclasses.replace(self, caveat=None), frame)
        return super().judge(frame)


def quantization_part(dataset: str, what: str, statistic: Statistic, **judged: Any) -> Part:
    """:func:`part` on quantization sweeps (:class:`QuantizationPart`)."""
    p = part(dataset, what, statistic, caveat=FRACTION_CEILING, **judged)
    return QuantizationPart(**{f.name: getattr(p, f.name) for f in dataclasses.fields(p)})


def robustness_part(dataset: str, what: str, statistic: Statistic, **judged: Any) -> Part:
    """A part on the quantization robustness of one data set (:func:`part`), with one difference: where
    its quantization sweeps are stored but every seed's comparison lost a run to the majority class,
    it has no interval (n = 0: not resolved, the reason counts what was left out), not *not yet
    measured*."""
    p = quantization_part(dataset, what, statistic, **judged)
    measure = p.measure

    def measure_or_no_interval(f: pd.DataFrame) -> Interval | None:
        interval = measure(f)
        if interval is None and {"dataset", "q_mean_change_pp"} <= set(f.columns) and \
                f.loc[f["dataset"] == dataset, "q_mean_change_pp"].notna().any():
            return 0, np.nan, -np.inf, np.inf
        return interval
    return dataclasses.replace(p, measure=measure_or_no_interval)


LEAST_ROBUST, MOST_ROBUST = "H+W1+LCA", "H+W2+LCA"
COMPARABLE_PP = 1.0  # the paper's "1% error tolerance" (Fig. 3): "comparable" robustness
ROBUSTNESS = ("robustness = the trained network's test accuracy at each stored total bit width (16 to 4; fraction "
              "bits picked on validation) minus full precision, mean over the widths (pp); dna only, as Fig. 3")
OTHER_LIBSVM = ("acoustic", "connect-4", "ijcnn", "protein", "seismic", "webspam uni")
NOT_OBTAINED = ("not in shared/data: searched for, and no usable copy could be had (shared/data/SOURCES.md, 'Not "
                "obtained'), so no run of ours holds it")
NOT_SEARCHED = "not in shared/data (nor among the files its SOURCES.md searched for), so no run of ours holds it"

SCOPE = ("LIBSVM dna, a9a, w8a and MNIST (the paper: 10 data sets), FNNs with 1-3 hidden layers of 50 units, "
         f"{SEEDS} seeds; "
         "dna 500 epochs, a9a and MNIST 100, w8a 20 at batch 16; one named part per data set, each seed's number "
         "its mean over the depths")
CLAIMS: tuple[Claim, ...] = (
    Claim("data_term_best_compression", "003", "Sec. 5.2.4, Tables 10-12", "Regularizers with the data-dependent "
          "term give the highest compression on most data sets.", GRID,
          f"{SCOPE}; log r of the best method with the data term minus the best without it (the paper: 9, 7 and 8 of "
          "10 data sets at 1, 2, 3 hidden layers)",
          tuple(part(d, "log r, best with the data term - best without", _best_minus_best("log_r", DATA_TERM))
                for d in DATASETS), frame),
    Claim("data_term_raises_compression", "003", "Tables 10-12", "Adding the data-dependent term to a regularizer "
          "raises the compression ratio.", GRID,
          f"{SCOPE}; log r with minus without the data term, mean over H+LCA - H, H+W2+LCA - H+W2, H+W1+LCA - H+W1",
          tuple(part(d, "log r, with - without the data term", _with_minus_without) for d in DATASETS), frame),
    Claim("quantize_4_bits", "003", "Sec. 5.3, Fig. 3", "Quantizing down to about 4 total bits does not "
          "significantly decrease accuracy.", GRID,
          f"{SCOPE}; the trained network's test accuracy at {QUANT_BITS} total bits (fraction bits picked on "
          "validation) minus full precision, mean over the six methods; at least -1 pp (the paper's '1% error "
          "tolerance', shown on dna)",
          tuple(quantization_part(d, f"test accuracy at {QUANT_BITS} bits - full precision (pp)",
                                  _mean_of(f"q{QUANT_BITS}_change_pp"), shape="bound", paper=QUANT_DROP_PP,
                                  unit="pp") for d in DATASETS),
          frame),
    Claim("quantize_peak", "003", "Sec. 5.3, Fig. 3", "At some bit width the quantized network is more accurate than "
          "the full-precision one.", GRID,
          f"{SCOPE}; the bit width (16 to 4) with the best validation accuracy is picked per run, and its test "
          "accuracy minus full precision is judged, mean over the six methods (the paper picks on the test set)",
          tuple(quantization_part(d, "test accuracy at the validation-picked width - full precision (pp)",
                                  _mean_of("q_peak_change_pp"), unit="pp") for d in DATASETS), frame),
    Claim("l1_best_accuracy", "003", "Sec. 5.2.4, Tables 6-8", "L1 weight regularization gives the best accuracies, "
          "before and after pruning.", GRID,
          f"{SCOPE}; test accuracy of the better L1 method (H+W1, H+W1+LCA) minus that of the best of the other "
          "four, 'better' and 'best' picked on validation accuracy, before pruning and at the pruning step picked on "
          "validation (the paper: 7 of 10 data sets, 1 hidden layer)",
          tuple(part(d, f"{what} test accuracy, best L1 method - best other (pp)", _best_minus_best(metric, L1, pick),
                     unit="pp")
                for d in DATASETS for what, metric, pick in (("unpruned", "test_acc_%", "val_acc_%"),
                                                             ("pruned", "pruned_test_acc_%", "pruned_val_acc_%"))),
          frame),
    Claim("data_term_tighter_clusters", "003", "Fig. 2", "The data-dependent regularizer forms more compact, better "
          "separated clusters in the last layer.", GRID,
          "our stand-in for Fig. 2 (DenseNet-40 on CIFAR-10, by eye): silhouette score of the t-SNE map of what the "
          f"last layer reads, 50 MNIST test images per class, H+LCA minus H, one named part per depth, {SEEDS} seeds",
          tuple(part("mnist", f"{m}, silhouette, H+LCA - H", _paired("silhouette", "H", "H+LCA", m)) for m in DEPTHS),
          frame),
    Claim("quantize_l1_data_term_least_robust", "003", "Sec. 5.3, Fig. 3", "With one hidden layer, the L1 regularizer "
          "with the data-dependent term is the least robust to quantization: its accuracy tapers off quickly as the "
          "total number of bits decreases.", GRID,
          f"{SCOPE}; {ROBUSTNESS}; H+W1+LCA's robustness minus that of the least robust of the other five, fnn1",
          (robustness_part("dna", f"fnn1, robustness, {LEAST_ROBUST} - least robust other (pp)",
                           _robustness_gap(LEAST_ROBUST, "fnn1", "lower"), side="lower", unit="pp"),),
          frame,
          disagrees="Sec. 5.3 says the L1 regularizer with the data term (H + W1 + LCA, 1 hidden layer) has 'the "
                    "highest accuracy to start with'; on dna, "
                    "the data set of Fig. 3, its own Table 6 gives H + W1 0.954 above H + W1 + LCA 0.953"),
    Claim("quantize_vc_l2_most_robust", "003", "Sec. 5.3, Fig. 3", "With one hidden layer, the L2 regularizer based on "
          "minimizing the VC bound is the most robust to quantization.", GRID,
          f"{SCOPE}; {ROBUSTNESS}; read as H+W2+LCA (eq. 18: both terms of the bound, C and D); its robustness minus "
          "that of the most robust of the other five, fnn1",
          (robustness_part("dna", f"fnn1, robustness, {MOST_ROBUST} - most robust other (pp)",
                           _robustness_gap(MOST_ROBUST, "fnn1", "higher"), unit="pp"),),
          frame),
    Claim("quantize_data_term_comparable", "003", "Sec. 5.3, Fig. 3", "With two and three hidden layers, the "
          "data-dependent regularizer is about as robust to quantization as the other regularizers.", GRID,
          f"{SCOPE}; {ROBUSTNESS}; mean robustness of H+LCA, H+W2+LCA, H+W1+LCA minus that of H, H+W2, H+W1, "
          f"judged against 0 ± {COMPARABLE_PP:g} pp (the paper's '1% error tolerance'), one named part per depth",
          tuple(robustness_part("dna", f"{m}, robustness, with - without the data term (pp)", _data_term_robustness(m),
                                shape="value", paper=0.0, tolerance=COMPARABLE_PP, unit="pp")
                for m in ("fnn2", "fnn3")),
          frame),
    Claim("libsvm_other_datasets", "003", "Sec. 5.2.4, Tables 6-12", "The accuracy and compression findings hold on "
          "the paper's six other LIBSVM data sets.", GRID,
          "acoustic, connect-4, ijcnn, protein, seismic and webspam uni (Table 9): none of their files could be had "
          "here; one named part per data set, data unavailable",
          tuple(data_unavailable(f"{d}: Tables 6-8 accuracies and 10-12 compression ratios",
                                 NOT_SEARCHED if d == "webspam uni" else NOT_OBTAINED)
                for d in OTHER_LIBSVM),
          frame),
)
