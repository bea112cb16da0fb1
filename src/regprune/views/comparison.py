"""All methods on one bench: every method of the book on the LeNets, one budget, the same pruning
and quantization after training (notebooks/comparison.ipynb); the scorecard of all five papers.

The frames are plain functions of the stored records. :func:`bench` builds the ones every section
reads once per view (the operating points of about a hundred runs) and keeps them with the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import pandas as pd

from .. import claims as claims_module
from .. import figures, report, scorecard, sweeps
from ..chapters.comparison import ABLATIONS, LABELS, describe
from . import ChapterView

# The plain network (cross-entropy) is the yardstick: networks more than this many points worse are no
# one's deployment, and would open every Pareto front (a 3-weight network at chance error).
LIMIT_PP = 2.0
# The operating point chosen on validation: the smallest network within this many points of the trained one.
TOLERANCE_PP = 1.0
AXES = ("nonzero_weights", "macs", "bits")
# combination -> the methods it combines
PARTS = {"wc+sfp": ("wc", "sfp"), "llr+snn_connection": ("llr", "snn_connection"), "cutout+sfp": ("cutout", "sfp")}
COMBINATION_COLUMNS = ["combination", "part", "model", "metric", "verdict", "n", "difference", "low", "high", "reason"]


@dataclass
class Bench:
    """The frames of the bench: ``apart`` the runs kept out of it (ablations, runs that did not
    complete); ``dense`` the trained networks; ``points`` every network each run yields
    (:func:`regprune.sweeps.operating_points`) and ``means`` those averaged over seeds."""

    apart: pd.DataFrame
    dense: pd.DataFrame
    points: pd.DataFrame
    means: pd.DataFrame


def split(records: list[dict[str, Any]]) -> Bench:
    """The bench's frames from the chapter's records: ablations document settings that failed,
    so they are listed apart and are no point of the bench."""
    described = [(r, describe(r["config"])) for r in records]
    bench_runs = [r for r, d in described if d["method"] not in ABLATIONS]
    apart = pd.DataFrame([{**d, "status": r["status"], "epochs run": r["metrics"].get("epochs_run"),
                           "test error (%)": 100 * (1 - r["metrics"].get("test_acc", float("nan")))}
                          for r, d in described if r["status"] != "completed" or d["method"] in ABLATIONS],
                         columns=["model", "method", "seed", "status", "epochs run", "test error (%)"])
    points = sweeps.operating_points(bench_runs, describe)
    return Bench(apart, sweeps.dense_frame(bench_runs, describe), points, sweeps.mean_points(points))


_BENCHES: WeakKeyDictionary = WeakKeyDictionary()


def bench(view: ChapterView) -> Bench:
    """:func:`split` of the view's records, computed once per view."""
    if view not in _BENCHES:
        _BENCHES[view] = split(view.records)
    return _BENCHES[view]


def error_limit(dense: pd.DataFrame) -> pd.Series:
    """Per model: the plain network's mean test error plus :data:`LIMIT_PP` (a model without a plain
    run takes its worst trained network's error)."""
    models = list(dict.fromkeys(dense["model"]))
    plain = dense[dense["method"] == "ce"].groupby("model")["test_error_%"].mean()
    return plain.reindex(models).fillna(dense.groupby("model")["test_error_%"].max()) + LIMIT_PP


def far_from_plain(dense: pd.DataFrame) -> pd.DataFrame:
    """The trained networks beyond :func:`error_limit`: a method that fails on some seeds shows here."""
    far = dense[dense["test_error_%"] > dense["model"].map(error_limit(dense))]
    return far[["model", "method", "seed", "val_error_%", "test_error_%"]]


def useful(b: Bench) -> pd.DataFrame:
    """The seed-averaged networks within :func:`error_limit`: the points of the Pareto figures."""
    return b.means[b.means["test_error_%"] <= b.means["model"].map(error_limit(b.dense))]


def pareto_fronts(points: pd.DataFrame) -> pd.DataFrame:
    """The points of each model's Pareto front of test error against each size axis, smallest first."""
    fronts = []
    for x in AXES:
        for _, part in points.dropna(subset=[x]).groupby("model", sort=False):
            front = part[sweeps.pareto_front(part, x, "test_error_%")].sort_values(x)
            fronts.append(front.assign(axis=x)[["axis", "model", "method", "source", "setting", x, "test_error_%",
                                                 "test_error_%_std", "seeds"]].rename(columns={x: "size"}))
    return pd.concat(fronts, ignore_index=True)


def front_lines(fronts: pd.DataFrame) -> list[str]:
    """One Markdown line per axis and model: the methods on its front, in front order."""
    on_front = fronts.groupby(["axis", "model"], sort=False)["method"].agg(
        lambda m: ", ".join(dict.fromkeys(LABELS.get(v, v) for v in m)))
    return [f"- **{LABELS.get(model, model)}, {figures.AXES[axis]}**: {names}" for (axis, model), names in on_front.items()]


def picked_on_validation(points: pd.DataFrame, tolerance_pp: float = TOLERANCE_PP) -> pd.DataFrame:
    """Each run's smallest network in bits whose validation error is within ``tolerance_pp`` points of
    its trained network's (the trained one itself counts)."""
    base = points[points["source"] == "dense"].set_index("key")["val_error_%"]
    ok = points[points["val_error_%"] <= points["key"].map(base) + tolerance_pp].dropna(subset=["bits"])
    return ok.loc[ok.groupby("key")["bits"].idxmin()]


def combinations(dense: pd.DataFrame, picked: pd.DataFrame) -> pd.DataFrame:
    """Each combination against each of its parts, judged by the one rule (paired over seeds), on the
    trained network's test error and on the bits of the network chosen on validation."""
    rows = [claims_module.compare(frame, by="method", a=part, b=combo, metric=metric, side="lower", within=["model"])
            .assign(combination=combo, part=part)
            for combo, parts in PARTS.items() for part in parts
            for frame, metric in ((dense, "test_error_%"), (picked, "bits"))]
    return pd.concat(rows, ignore_index=True)[COMBINATION_COLUMNS]


def vc_bound_quantized(points: pd.DataFrame) -> pd.DataFrame:
    """Hinge + VC bound (all layers) against cross-entropy, test error of the quantized pruned network
    per model and total bit width, judged by the one rule."""
    quant = points[points["source"] == "quantized_pruned"]
    quant = quant.assign(total_bits=quant["setting"].str.split().str[0].astype(int))
    return claims_module.compare(quant, by="method", a="ce", b="hinge_lca", metric="test_error_%", side="lower",
                                 within=["model", "total_bits"])


def tally_line(card: pd.DataFrame) -> str:
    """The scorecard's claims counted by verdict, as one Markdown line."""
    tally = scorecard.counts(card)
    return "**Claims by verdict**: " + ", ".join(f"{v} {n}" for v, n in tally.items()) + f" (of {len(card)})"


# --- sections -----------------------------------------------------------------------------

def _show(view: ChapterView, frame: pd.DataFrame, name: str, title: str, precision: int = 2) -> pd.DataFrame:
    """A table whose title names the bench's seeds, as every table of this chapter does."""
    return view.table(frame, name, title, precision=precision, seeds=view.seeds_of(bench(view).dense))


def kept_apart(view: ChapterView) -> None:
    """How many runs the bench has, and the runs kept apart from it."""
    b = bench(view)
    print(f"{len(view.records)} runs of profile {view.profile!r}: {len(b.dense)} completed runs of the bench, "
          f"{len(b.apart)} kept apart")
    if len(b.apart):
        _show(view, b.apart.replace(LABELS), "kept_apart",
              "Runs kept apart: failed settings and runs that did not complete")


def trained(view: ChapterView) -> None:
    """The trained networks, then those far worse than the plain one."""
    dense = bench(view).dense
    summary = report.seed_summary(dense, ["model", "method"], ["val_error_%", "test_error_%", "nonzero_params",
                                                               "train_time_s"])
    _show(view, summary.replace(LABELS), "trained",
          "Trained networks: error (%), nonzero parameters, training time (s, epochs only)")
    far = far_from_plain(dense)
    if len(far):
        _show(view, far.replace(LABELS), "far_from_plain",
              f"Trained networks more than {LIMIT_PP:g} points worse than cross-entropy")


def pareto_figures(view: ChapterView) -> None:
    """Test error against each size axis: the methods on each model's Pareto front in colour."""
    points, seeds = useful(bench(view)), view.seeds_of(bench(view).dense)
    for x in AXES:
        view.figure(figures.pareto(points, x=x, panel="model", hue="method", labels=LABELS), f"pareto_{x}",
                    f"Test error against {figures.AXES[x]}: the methods on each model's Pareto front in colour "
                    "(bars: standard deviation over seeds), every other method grey", seeds=seeds, vector=False)


def fronts(view: ChapterView) -> None:
    """The points of each front, then which methods are on it."""
    table = pareto_fronts(useful(bench(view)))
    _show(view, table.replace(LABELS), "pareto_fronts", "Pareto fronts: test error (%) against size", precision=3)
    view.note("\n".join(front_lines(table)), "on_front")


def chosen_on_validation(view: ChapterView) -> None:
    picked = picked_on_validation(bench(view).points)
    chosen = report.seed_summary(picked, ["model", "method"], ["test_error_%", "nonzero_weights", "bits"])
    _show(view, chosen.replace(LABELS), "chosen_on_validation",
          f"Smallest network (bits) within {TOLERANCE_PP:g} pp of its trained validation error")


def combinations_against_parts(view: ChapterView) -> None:
    b = bench(view)
    _show(view, combinations(b.dense, picked_on_validation(b.points)).replace(LABELS), "combinations",
          "Combinations against their parts", precision=3)


def vc_bound_then_quantized(view: ChapterView) -> None:
    _show(view, vc_bound_quantized(bench(view).points).replace(LABELS), "vc_bound_quantized",
          "Hinge + VC bound (all layers) against cross-entropy, quantized pruned networks", precision=3)


def scorecard_of_all_papers(view: ChapterView) -> None:
    """Every transcribed claim of the five papers beside our verdict, then the count per verdict."""
    card = scorecard.gather(view.profile, results_dir=view.results_dir)
    _show(view, card, "scorecard", "Reproduction scorecard: the papers' claims and our verdicts")
    view.note(tally_line(card), "tally")
