"""Stored runs with a pruning sweep -> tidy frames a chapter tabulates, plots and compares.

``coords`` is a chapter's function from a run config to its grid coordinates (model,
output, regularizer, ...), so frames carry readable columns instead of config hashes.
Errors are in percent. Operating points are chosen on the validation split, never the test set.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

Coords = Callable[[dict[str, Any]], dict[str, Any]]


def _completed(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("status") == "completed"]


def dense_frame(records: Iterable[dict[str, Any]], coords: Coords) -> pd.DataFrame:
    """One row per finished run: the trained (unpruned) network and its overfitting gap.

    ``train_error_%`` is the last epoch's running training error, ``final_test_error_%`` the
    test error after the last epoch (logged with ``monitor_test``) and ``gap_pp`` their
    difference; ``test_error_%`` is the test error of the weights selected on validation.
    """
    rows = []
    for r in _completed(records):
        last = r["history"][-1]
        counts = r["counts"]
        row = {**coords(r["config"]), "key": r["key"], "params": counts["params"],
               "nonzero_params": counts.get("nonzero_params", counts["params"])}
        if "fc_params" in counts:  # runs stored before FC counts were recorded lack them
            row["fc_params"], row["fc_nonzero"] = counts["fc_params"], counts["fc_nonzero"]
        row["val_error_%"] = 100 * (1 - r["metrics"]["val_acc"])
        row["test_error_%"] = 100 * (1 - r["metrics"]["test_acc"])
        row["train_error_%"] = 100 * (1 - last["train_acc"])
        if "test_acc" in last:
            row["final_test_error_%"] = 100 * (1 - last["test_acc"])
            row["gap_pp"] = row["final_test_error_%"] - row["train_error_%"]
        row["wall_time_s"] = r.get("wall_time_s")  # of the last process only, if the run was resumed
        row["train_time_s"] = r["metrics"].get("train_time_s")  # every epoch once, across resumptions
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_frame(records: Iterable[dict[str, Any]], coords: Coords) -> pd.DataFrame:
    """One row per run and pruning setting k, plus the run's dense snapshot as ``k = -1``."""
    rows = []
    for r in _completed(records):
        pruning = r.get("extras", {}).get("pruning")
        if not pruning:
            continue
        ident = {**coords(r["config"]), "key": r["key"]}
        dense = pruning["dense"]
        dense_row = {"k": -1, "theta_conv": 0.0, "theta_fc": 0.0, "nonzero_params": dense["nonzero_params"],
                     "compression": dense["params"] / max(dense["nonzero_params"], 1),
                     "val_acc": dense["val_acc"], "test_acc": dense["test_acc"]}
        for s in [dense_row, *pruning["sweep"]]:
            rows.append({
                **ident,
                "k": s["k"],
                "theta_conv": s["theta_conv"],
                "theta_fc": s["theta_fc"],
                "nonzero_params": s["nonzero_params"],
                "compression": s["compression"],
                "val_error_%": 100 * (1 - s["val_acc"]),
                "test_error_%": 100 * (1 - s["test_acc"]),
                "dense_params": dense["params"],
                "dense_val_error_%": 100 * (1 - dense["val_acc"]),
                "dense_test_error_%": 100 * (1 - dense["test_acc"]),
            })
    return pd.DataFrame(rows)


def at_setting(sweep: pd.DataFrame, k: int | str) -> pd.DataFrame:
    """Each run's row at setting ``k``: an index, ``"largest"`` or ``"median"`` (lower median) of its sweep."""
    pruned = sweep[sweep["k"] >= 0]
    if k in ("largest", "median"):
        last = pruned.groupby("key")["k"].transform("max")
        target = last if k == "largest" else last // 2
        return pruned[pruned["k"] == target].reset_index(drop=True)
    return pruned[pruned["k"] == int(k)].reset_index(drop=True)


def nearest_size(sweep: pd.DataFrame, params: int) -> pd.DataFrame:
    """Each run's pruned network whose nonzero parameter count is closest to ``params``
    (to set a one-shot sweep beside a reference method at the reference's size)."""
    pruned = sweep[sweep["k"] >= 0]
    distance = (pruned["nonzero_params"] - params).abs()
    return pruned.loc[distance.groupby(pruned["key"]).idxmin()].sort_index().reset_index(drop=True)


def operating_point(sweep: pd.DataFrame, tolerance_pp: float) -> pd.DataFrame:
    """Each run's smallest pruned network whose *validation* error is within ``tolerance_pp``
    percentage points of its dense snapshot's (the dense snapshot itself if none is)."""
    ok = sweep[sweep["val_error_%"] <= sweep["dense_val_error_%"] + tolerance_pp]
    picked = ok.loc[ok.groupby("key")["nonzero_params"].idxmin()].sort_index()  # in the sweep's run order
    return picked.reset_index(drop=True)


def histogram_frame(records: Iterable[dict[str, Any]], coords: Coords,
                    layers: Iterable[str] | None = None) -> pd.DataFrame:
    """Weight histograms (``weight_histogram`` hook) summed over ``layers`` (default all), as
    densities: one row per run and bin, with the bin centre ``w`` and ``density``."""
    rows = []
    for r in _completed(records):
        hist = r.get("extras", {}).get("weight_histogram")
        if not hist:
            continue
        edges = np.asarray(hist["edges"])
        names = list(layers) if layers is not None else list(hist["layers"])
        counts = sum(np.asarray(hist["layers"][n]["counts"], dtype=float) for n in names)
        total = sum(sum(hist["layers"][n]["counts"]) + hist["layers"][n]["below"] + hist["layers"][n]["above"]
                    for n in names)
        density = counts / (total * np.diff(edges))
        ident = {**coords(r["config"]), "key": r["key"]}
        rows.extend({**ident, "w": c, "density": d} for c, d in zip((edges[:-1] + edges[1:]) / 2, density))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- paper 003's threshold sweep

def threshold_frame(records: Iterable[dict[str, Any]], coords: Coords) -> pd.DataFrame:
    """One row per run with a ``threshold_sweep`` (hook of that name): accuracies in percent of
    the trained network and of the pruned one picked on validation, and its compression ratio
    (1 where no step kept validation accuracy within the tolerance)."""
    rows = []
    for r in _completed(records):
        sweep = r.get("extras", {}).get("threshold_sweep")
        if not sweep:
            continue
        dense, picked = sweep["dense"], sweep["picked"] or {**sweep["dense"], "step": None, "compression": 1.0,
                                                            "nonzero_after": sweep["dense"]["nonzero"]}
        rows.append({**coords(r["config"]), "seed": r["config"]["seed"], "key": r["key"],
                     "val_acc_%": 100 * dense["val_acc"], "test_acc_%": 100 * dense["test_acc"],
                     "pruned_val_acc_%": 100 * picked["val_acc"], "pruned_test_acc_%": 100 * picked["test_acc"],
                     "compression": picked["compression"], "step": picked["step"],
                     "nonzero_before": dense["nonzero"], "nonzero_after": picked["nonzero_after"],
                     "best_epoch": r["metrics"].get("best_epoch"), "wall_time_s": r.get("wall_time_s")})
    return pd.DataFrame(rows)


def threshold_steps_frame(records: Iterable[dict[str, Any]], coords: Coords) -> pd.DataFrame:
    """One row per run and step of its ``threshold_sweep``: accuracies in percent and compression."""
    rows = []
    for r in _completed(records):
        sweep = r.get("extras", {}).get("threshold_sweep")
        ident = {**coords(r["config"]), "seed": r["config"]["seed"], "key": r["key"]} if sweep else {}
        rows.extend({**ident, "step": s["step"], "val_acc_%": 100 * s["val_acc"], "test_acc_%": 100 * s["test_acc"],
                     "compression": s["compression"], "nonzero_after": s["nonzero_after"]}
                    for s in (sweep or {}).get("steps", []))
    return pd.DataFrame(rows)


def quantization_frame(records: Iterable[dict[str, Any]], coords: Coords) -> pd.DataFrame:
    """One row per run, network (``trained`` or ``pruned``) and total bit width of its stored
    quantization sweep: the fraction bits chosen on validation, accuracies in percent, margin, loss."""
    rows = []
    for r in _completed(records):
        quant = r.get("extras", {}).get("quantization") or {}
        ident = {**coords(r["config"]), "seed": r["config"]["seed"], "key": r["key"]}
        for network, sweep in quant.items():
            rows.extend({**ident, "network": network, "total_bits": q["total_bits"], "frac_bits": q["frac_bits"],
                         "val_acc_%": 100 * q["val_acc"], "test_acc_%": 100 * q["test_acc"],
                         "margin": q["margin"], "loss": q["loss"]} for q in sweep)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- one bench: every operating point

POINT_COLUMNS = ["source", "setting", "val_error_%", "test_error_%", "nonzero_weights", "macs", "bits"]


def operating_points(records: Iterable[dict[str, Any]], coords: Coords, float_bits: int = 32) -> pd.DataFrame:
    """Every network a run yields, one row each, on common axes: the trained network (``dense``),
    each snapshot-pruning setting (``snapshot``, hook ``snapshot_pruning``), each threshold-sweep
    step (``threshold``) and each fixed-point width of the trained and of the pruned network
    (``quantized``, ``quantized_pruned``), from hook ``threshold_sweep``.

    Size is counted three ways: ``nonzero_weights`` (conv and linear weights), ``macs`` (per
    example, over nonzero weights) and ``bits`` = nonzero weights x bits per weight
    (``float_bits`` unquantized). Errors in percent; validation beside test, so that a choice can
    be made on validation.
    """
    rows = []
    for r in _completed(records):
        ident = {**coords(r["config"]), "seed": r["config"]["seed"], "key": r["key"]}
        extras = r.get("extras", {})
        sweep = extras.get("threshold_sweep")
        dense_nonzero = sweep["dense"]["nonzero"] if sweep else None

        def point(source, setting, val_acc, test_acc, nonzero, macs, bits_per_weight=float_bits):
            rows.append({**ident, "source": source, "setting": setting, "val_error_%": 100 * (1 - val_acc),
                         "test_error_%": 100 * (1 - test_acc), "nonzero_weights": nonzero, "macs": macs,
                         "bits": None if nonzero is None else nonzero * bits_per_weight})

        point("dense", "", r["metrics"]["val_acc"], r["metrics"]["test_acc"], dense_nonzero, r["counts"]["macs"]["nonzero"])
        for s in (extras.get("pruning") or {}).get("sweep", []):
            point("snapshot", f"k={s['k']}", s["val_acc"], s["test_acc"], s["nonzero_weights"], s.get("macs_nonzero"))
        if not sweep:
            continue
        for s in sweep["steps"]:
            point("threshold", f"step={s['step']}", s["val_acc"], s["test_acc"], s["nonzero_after"], s.get("macs_nonzero"))
        picked = sweep["picked"] or {**sweep["dense"], "nonzero_after": dense_nonzero}
        nets = {"trained": (dense_nonzero, sweep["dense"].get("macs_nonzero")),
                "pruned": (picked["nonzero_after"], picked.get("macs_nonzero"))}
        for network, quant in (extras.get("quantization") or {}).items():
            nonzero, macs = nets[network]
            for q in quant:
                point("quantized" if network == "trained" else "quantized_pruned", f"{q['total_bits']} bits",
                      q["val_acc"], q["test_acc"], nonzero, macs, q["total_bits"])
    return pd.DataFrame(rows)


def pareto_front(frame: pd.DataFrame, x: str, y: str) -> pd.Series:
    """True for the rows no other row beats on both ``x`` and ``y`` (both lower-is-better, one
    strictly): the Pareto front of size against error."""
    order = frame.sort_values([x, y]).index
    best, front = float("inf"), pd.Series(False, index=frame.index)
    for i in order:
        if frame.at[i, y] < best:
            front[i], best = True, frame.at[i, y]
    return front


def mean_points(points: pd.DataFrame, by: Iterable[str] = ("model", "method", "source", "setting")) -> pd.DataFrame:
    """:func:`operating_points` averaged over seeds: one row per ``by``, with the seed spread of
    the test error (``test_error_%_std``), the number of seeds, and validation error beside it."""
    by = list(by)
    numeric = ["val_error_%", "test_error_%", "nonzero_weights", "macs", "bits"]
    grouped = points.groupby(by, sort=False)
    out = grouped[numeric].mean()
    out["test_error_%_std"] = grouped["test_error_%"].std()
    out["seeds"] = grouped["seed"].nunique()
    return out.reset_index()
