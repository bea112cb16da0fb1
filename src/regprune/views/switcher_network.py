"""The switcher network on MNIST (paper 002, Table 1; notebooks/switcher_network.ipynb): our runs
beside the paper's, the claims, how sparsity and accuracy evolve over the alternation, the runs
that collapse, the learned gates, and two ablations.

Every table names the seeds of the main runs (the chapter's grid: LeNet-300-100 and LeNet-5-Caffe
x {dense, SNN neuron, SNN connection} x seeds); the two ablation runs are shown apart.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import pandas as pd

from .. import claims as claims_module
from .. import figures, report, results, sweeps
from ..chapters.switcher_network import LABELS, PAPER_METHODS, describe
from ..claims.switcher_network import COLLAPSE_BELOW, has_collapsed
from . import ChapterView

GATE_SHARES = ["zero_%", "below1_%", "above1_%", "mean_gate", "weights_left_%"]


def runs(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per finished run (:func:`regprune.sweeps.dense_frame`) with ``test_acc_%`` and
    ``compression`` (dense parameters over nonzero ones)."""
    frame = sweeps.dense_frame(records, describe)
    frame["test_acc_%"] = 100 - frame["test_error_%"]
    frame["compression"] = frame["params"] / frame["nonzero_params"]
    return frame


def main_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The grid's main runs (no ablation)."""
    return frame[frame["variant"] == "main"]


def main_seeds(view: ChapterView) -> list[int]:
    """The seeds of the main runs: every table of the chapter names them."""
    return view.seeds_of(main_runs(runs(view.records)))


def run_summary(view: ChapterView) -> None:
    """Which runs did not complete, and the training wall time of all of them."""
    view.note(f"{len(view.records)} runs on {view.data_label()}; not completed: {unfinished_text(view.records)}; "
              f"training wall time, all runs: {sum(r['wall_time_s'] for r in view.records):,.0f} s", "runs")


def unfinished_text(records: Iterable[dict[str, Any]]) -> str:
    """The runs that did not complete, grouped: "3 (LeNet-5-Caffe, dense (ours), lr=0.1, seeds 0, 1, 2: diverged)"."""
    groups: dict[tuple, list[int]] = {}
    for r in records:
        if r["status"] != "completed":
            d = describe(r["config"])
            groups.setdefault((d["model"], d["method"], d["variant"], r["status"]), []).append(d["seed"])
    if not groups:
        return "none"
    parts = [f"{LABELS.get(m, m)}, {LABELS.get(k, k)}, {v}, seed{'s' if len(s) > 1 else ''} "
             f"{', '.join(map(str, sorted(s)))}: {status}" for (m, k, v, status), s in groups.items()]
    return f"{sum(map(len, groups.values()))} ({'; '.join(parts)})"


def _table(view: ChapterView, df: pd.DataFrame, name: str, title: str, precision: int = 2) -> None:
    view.table(df, name, title, precision=precision, seeds=main_seeds(view))


# --- Table 1 and the gap to the paper ------------------------------------------------------


def table1_frame(paper_numbers: pd.DataFrame, main: pd.DataFrame, model: str, profile: str) -> pd.DataFrame:
    """Table 1 for ``model``: the paper's rows (its SNN runs and the baselines it quotes) above ours
    (mean and std over seeds) in the metrics we share: test accuracy, nonzero parameters, FC
    nonzero parameters (the paper's ``*`` counts) and compression."""
    ref = paper_numbers[paper_numbers["model"] == model]
    ref = ref.assign(metric=ref["metric"].replace({"fc_params": "fc_nonzero", "params": "nonzero_params"}))
    ours = main[main["model"] == model].assign(method=lambda d: d["method"].map(LABELS))
    return report.side_by_side(ref, ours, by=["method"], profile=profile,
                               metrics=["test_acc_%", "nonzero_params", "fc_nonzero", "compression"])


def table1(view: ChapterView) -> None:
    main = main_runs(runs(view.records))
    numbers = report.paper_numbers(paper="002", dataset="mnist")
    for model in dict.fromkeys(main["model"]):
        _table(view, table1_frame(numbers, main, model, view.profile), f"table1_{model}",
               f"Table 1, {LABELS[model]}: test accuracy (%), nonzero parameters, compression")


def gap_frame(paper_numbers: pd.DataFrame, main: pd.DataFrame) -> pd.DataFrame:
    """The paper's SNN test accuracies beside our mean over seeds, and the difference in points."""
    theirs = paper_numbers[(paper_numbers["metric"] == "test_acc_%") & paper_numbers["method"].isin(PAPER_METHODS)]
    theirs = theirs.assign(method=theirs["method"].map(PAPER_METHODS))[["model", "method", "value"]]
    ours = main.groupby(["model", "method"], as_index=False)["test_acc_%"].mean()
    gap = theirs.rename(columns={"value": "paper_%"}).merge(ours, on=["model", "method"])
    gap = gap.rename(columns={"test_acc_%": "ours_%"})
    return gap.assign(**{"ours - paper (pp)": gap["ours_%"] - gap["paper_%"]})


def gap_to_paper(view: ChapterView) -> None:
    gap = gap_frame(report.paper_numbers(paper="002", dataset="mnist"), main_runs(runs(view.records)))
    _table(view, gap.replace(LABELS), "gap_to_paper", "Test accuracy: ours (mean over seeds) against the paper's")


# --- The claims ----------------------------------------------------------------------------


def claims(view: ChapterView) -> None:
    """Every claim part judged by the book's rule, then one verdict per claim."""
    judged = claims_module.table(view.grid, view.profile, view.results_dir)
    _table(view, judged, "claims", "SNN against the dense baseline, judged by the book's rule", precision=3)
    view.verdicts(judged)
    view.table(cost_frame(view.records), "time_and_accuracy",
               "Equal wall-clock, the second view: training time and test accuracy per method and baseline "
               "(means over the runs that completed without collapse; the others counted apart)")


def _fair(frame: pd.DataFrame) -> pd.DataFrame:
    """The main runs and the fair baselines (equal updates, the other trial rate); not the ablations."""
    return frame[frame["variant"].isin(["main", "equal_updates"]) | frame["variant"].str.startswith("lr=")]


def cost_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Per model, method and variant (the fair baselines included, the two ablations left out): runs
    stored, runs that diverged or collapsed (counted apart, not averaged in), and over the rest the
    mean training time (s, every epoch once) and mean test accuracy (%)."""
    records = list(records)
    frame = runs(records)
    frame["collapsed"] = frame["key"].map({r["key"]: has_collapsed(r) for r in records}).astype(bool)
    every = pd.DataFrame([describe(r["config"]) for r in records])
    by = ["model", "method", "variant"]
    stored = _fair(every).groupby(by, sort=False).size().rename("runs")
    ok = _fair(frame)[lambda f: ~f["collapsed"]]
    means = ok.groupby(by, sort=False).agg(train_time_s=("train_time_s", "mean"), test_acc_pct=("test_acc_%", "mean"))
    out = pd.concat([stored, ok.groupby(by, sort=False).size().rename("kept"), means], axis=1).reset_index()
    out["kept"] = out["kept"].fillna(0).astype(int)
    out.insert(4, "diverged or collapsed", out["runs"] - out["kept"])
    return out.drop(columns="kept").replace(LABELS)


# --- Over the alternation: density, error, collapses ---------------------------------------


def history(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per finished main run and epoch, with the run's model and method, the test error and
    the FC density in %."""
    records = list(records)
    frame = main_runs(runs(records))[["key", "model", "method"]]  # not the ablations or fair baselines
    out = results.history_frame(records).merge(frame, on="key")
    out["test_error"] = 100 * (1 - out["test_acc"])
    return out.assign(fc_density_pct=100 * out["fc_density"]) if "fc_density" in out else out


def alternating(view: ChapterView) -> None:
    """Per model: FC density and test error per epoch of the SNN runs, the dense runs beside them."""
    steps = history(view.records)
    snn = steps[steps["method"].str.startswith("snn_")]
    for model in dict.fromkeys(main_runs(runs(view.records))["model"]):
        part = snn[snn["model"] == model]
        if part.empty:
            continue
        dense = steps[(steps["model"] == model) & (steps["method"] == "dense")]
        view.figure(figures.alternating(part, dense=dense, labels=LABELS), f"alternating_{model}",
                    f"{LABELS[model]}: alternating learning, FC density and test error per epoch (shaded: epochs "
                    "that train the switcher); line: mean over seeds, band: min to max",
                    data=view.data_label(sizes=False), seeds=main_seeds(view))


def collapse_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Per SNN run: the first epoch's training loss beside ln 10 (the loss of a uniform output), the
    worst validation accuracy, its epoch and phase, the final one, and whether the run collapsed
    (validation accuracy below :data:`COLLAPSE_BELOW` after any epoch past the first)."""
    rows = []
    frame = runs(records).set_index("key")
    for r in records:
        if r["key"] not in frame.index or not frame.loc[r["key"], "method"].startswith("snn_"):
            continue
        d, h = frame.loc[r["key"]], pd.DataFrame(r["history"]).sort_values("epoch")
        worst = h.loc[h["val_acc"].idxmin()]
        rows.append({"model": d["model"], "method": d["method"], "variant": d["variant"], "seed": d["seed"],
                     "first-epoch train loss": h["train_loss"].iloc[0], "ln 10": math.log(10),
                     "worst val acc %": 100 * worst["val_acc"], "at epoch": int(worst["epoch"]),
                     "phase then": worst.get("phase", ""), "final val acc %": 100 * h["val_acc"].iloc[-1],
                     "collapsed": has_collapsed(r)})
    return pd.DataFrame(rows)


def collapses(view: ChapterView) -> None:
    frame = collapse_frame(view.records)
    if not frame.empty:
        _table(view, frame.replace(LABELS), "collapses", "SNN runs: worst validation accuracy over the alternation")


# --- The learned gates and the ablations ---------------------------------------------------


def gate_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per main SNN run and FC layer: the shares (%) of its gates at 0, between 0 and 1 and
    above 1, the mean gate, and the share of the layer's weights left nonzero."""
    rows = []
    for r in records:
        d = describe(r["config"])
        if d["variant"] != "main":
            continue
        for layer, g in r.get("extras", {}).get("switcher_gates", {}).items():
            rows.append({**d, "layer": layer, "gates": g["gates"], "zero_%": 100 * g["zero"] / g["gates"],
                         "below1_%": 100 * g["below1"] / g["gates"], "above1_%": 100 * g["above1"] / g["gates"],
                         "mean_gate": g["mean"], "weights_left_%": 100 * g["nonzero"] / g["weights"]})
    return pd.DataFrame(rows)


def gates(view: ChapterView) -> None:
    frame = gate_frame(view.records)
    if frame.empty:
        view.note("No switcher runs stored.", "gates")
        return
    summary = report.seed_summary(frame, ["model", "method", "layer"], GATE_SHARES)
    _table(view, summary.replace(LABELS), "gates", "Learned gates per layer (% of the layer's gates)")
    view.figure(figures.gate_bars(frame, labels=LABELS), "gates", "Learned gates per layer: pruned (0), weakened "
                "(between 0 and 1), strengthened (above 1), mean over seeds", data=view.data_label(sizes=False),
                seeds=main_seeds(view))


def zero_gates(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Per SNN run (key): the share (%) of all its FC gates at exactly 0 in the selected network."""
    out = {}
    for r in records:
        layers = r.get("extras", {}).get("switcher_gates")
        if layers:
            out[r["key"]] = 100 * sum(g["zero"] for g in layers.values()) / sum(g["gates"] for g in layers.values())
    return out


def ablation_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Each ablation run below the main runs with the same model, method and seed: test accuracy,
    nonzero parameters (all and FC) and the share of gates at 0. Empty without ablation runs."""
    records = list(records)
    frame = runs(records)
    frame["gates_zero_%"] = frame["key"].map(zero_gates(records))
    main, ablation = frame[frame["variant"] == "main"], frame[frame["variant"] != "main"]
    keep = ["model", "method", "variant", "seed", "test_acc_%", "nonzero_params", "fc_nonzero", "gates_zero_%"]
    if ablation.empty:
        return pd.DataFrame(columns=keep)
    base = main.merge(ablation[["model", "method", "seed"]].drop_duplicates(), on=["model", "method", "seed"])
    return pd.concat([base[keep], ablation[keep]]).sort_values(["model", "method", "seed"])


def ablations(view: ChapterView) -> None:
    frame = ablation_frame(view.records)
    if frame.empty:
        view.note("No ablation runs in this profile.", "ablations")
        return
    _table(view, frame.replace(LABELS), "ablations",
           "Ablations beside the main runs with the same model, method and seed")
