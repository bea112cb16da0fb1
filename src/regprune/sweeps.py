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
        row["wall_time_s"] = r.get("wall_time_s")
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
