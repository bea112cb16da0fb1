"""Paper 001 (Cakaj, Mehnert, Yang, "Weight Compander"): the run grids.

Methods (``METHODS``): the plain network; the weight compander ``w = a*arctan(v/b)`` with
fixed ``a, b`` chosen by a grid search on validation (``wc``); learnable ``a, b`` per layer
(``wc_fine``) and per network (``wc_coarse``), initialized ``a = 0.5, b = 1.0`` (the paper's
best initialization); the arsinh and erf variants (CIFAR only, their own searches);
Powerpropagation with ``alpha = 2`` and weight normalization as baselines.

The search follows Sec. IV-A1: one seed (the first) over the ``a, b`` grid, pick the best
validation accuracy, then run the other seeds with it. The first seed's run of the chosen
``a, b`` is the search run itself, so the grid is staged: the ``wc`` runs of later seeds appear
once the search is stored (:func:`regprune.chapters.records` trains until the grid stops growing).

Equal tuning budget (issue 29): the compander's ``a, b`` search rescales its effective learning rate
(``Psi'(0)^2 = (a/b)^2``, from 1/4 to 4 on the cpu grid), so the other methods (``LR_TUNED``) get the
same number of trials over the same width, as learning rates: their first seed at every rate of
``lr_trials``, the best validation accuracy chosen, the other seeds at that rate. Their runs at the
recipe rate stay the main runs; the trials and the runs at the chosen rate are told apart by ``lr``
(:func:`describe`).

Grids: ``weight_compander`` (MNIST, LeNet-300-100 and LeNet-5: an extension the paper did not
run; smoke and cpu) and ``weight_compander_cifar`` (Tables I-III, VI, VII: CIFAR-10/100 with
ResNet-18/34/50, VGG16/19-BN, WRN-28-10; smoke on synthetic CIFAR-shaped data, paper on a GPU).
Both store under ``results/weight_compander/``.
"""

from __future__ import annotations

import math
from itertools import product
from pathlib import Path
from typing import Any, Sequence

from ..profiles import loads_stored, pick
from .base import CHAPTERS, CIFAR10_JPEG, CIFAR100, paper_cifar10

CHAPTER = "weight_compander"
LEARNABLE_INIT = {"a": 0.5, "b": 1.0}
METHODS: dict[str, dict[str, Any] | None] = {
    "none": None,
    "wc": {"name": "compander", "fn": "arctan"},  # a, b from the search
    "wc_fine": {"name": "compander", "fn": "arctan", **LEARNABLE_INIT, "learnable": "fine"},
    "wc_coarse": {"name": "compander", "fn": "arctan", **LEARNABLE_INIT, "learnable": "coarse"},
    "arsinh": {"name": "compander", "fn": "arsinh"},  # a, b from its own search
    "erf": {"name": "compander", "fn": "erf"},  # a, b from its own search
    "pp": {"name": "powerprop", "alpha": 2.0},
    "wn": {"name": "weight_norm"},
}
SEARCHED = ("wc", "arsinh", "erf")
LR_TUNED = ("none", "pp", "wn")  # methods whose learning rate gets the compander's tuning budget
PAPER_GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]  # Sec. IV-A1: a, b in {0.5, ..., 1.0}

STATS = {"name": "weight_stats", "near_zero": [1e-3, 1e-2]}  # percentiles of every layer, every epoch
HISTOGRAM = {"name": "weight_histogram", "limit": 0.5, "bins": 200}
SCALES = {"name": "compander_scales"}

# The efficiency chapter's "SGD + L2 decay" setting, so both chapters' plain LeNets agree.
MNIST_TRAIN = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.01, "schedule": "cosine", "batch_size": 128,
               "weight_decay": 5e-4, "monitor_test": True}
MNIST = {
    "smoke": {
        "data": {"name": "synthetic-mnist", "val_split": 256, "split_seed": 0},
        "epochs": {"lenet300": 2, "lenet5": 2},
        "batch_size": 64,
        "grid": {"lenet300": {"a": [0.5, 1.0], "b": [1.0]}, "lenet5": {"a": [0.5, 1.0], "b": [1.0]}},
        "lr_trials": {"lenet300": [0.01, 0.02]},
        "methods": {"lenet300": ("none", "wc", "wc_fine", "wc_coarse", "pp", "wn"),
                    "lenet5": ("none", "wc", "wc_fine", "wc_coarse", "pp", "wn")},
        "seeds": [0, 1],
    },
    "cpu": {
        "data": {"name": "mnist", "val_split": 5000, "split_seed": 0},
        "epochs": {"lenet300": 30, "lenet5": 12},
        "batch_size": 128,
        # LeNet-5 trains 4x slower per run than LeNet-300-100 here: its search keeps b = 0.5, the best
        # b at every a on LeNet-300-100, and it leaves out the coarse learnable compander.
        "grid": {"lenet300": {"a": [0.5, 0.75, 1.0], "b": [0.5, 0.75, 1.0]},
                 "lenet5": {"a": [0.5, 1.0], "b": [0.5]}},
        # the same budget as each network's a, b search: as many trials, over the same width of
        # effective rate ((a/b)^2 from 1/4 to 4 on LeNet-300-100; 1 and 4 on LeNet-5), in half-octaves
        "lr_trials": {"lenet300": [0.0025, 0.00354, 0.005, 0.00707, 0.01, 0.01414, 0.02, 0.02828, 0.04],
                      "lenet5": [0.01, 0.04]},
        "methods": {"lenet300": ("none", "wc", "wc_fine", "wc_coarse", "pp", "wn"),
                    "lenet5": ("none", "wc", "wc_fine", "pp", "wn")},
        # the book's seed rule: runs under about 3 minutes here (LeNet-300-100 30-80 s, LeNet-5 2.5-4.5
        # min, median 1.3) get 5 seeds; seeds 3 and 4 added on 2026-12-03 with the equal-budget trials
        "seeds": [0, 1, 2, 3, 4],
    },
}
MNIST["paper"] = MNIST["cpu"]  # MNIST-scale: the cpu profile is already full scale


def method_of(config: dict[str, Any]) -> str:
    """The method name of a run config (inverse of the grid's ``METHODS`` lookup)."""
    spec = config.get("reparam")
    if spec is None:
        return "none"
    if spec["name"] == "compander":
        if spec.get("learnable"):
            return f"wc_{spec['learnable']}"
        return {"arctan": "wc"}.get(spec.get("fn", "arctan"), spec.get("fn"))
    return {"powerprop": "pp", "weight_norm": "wn"}[spec["name"]]


def _with_reparam(base: dict[str, Any], method: str, **ab: float) -> dict[str, Any]:
    spec = METHODS[method]
    config = dict(base)
    if spec is not None:
        config["reparam"] = {**spec, **ab}
    hooks = list(config.get("hooks", []))
    if method in ("wc_fine", "wc_coarse"):
        hooks.append(SCALES)
    config["hooks"] = hooks
    return config


def best_run(search: list[dict[str, Any]], results_dir: str | Path | None) -> dict[str, Any] | None:
    """The stored record of ``search`` with the best validation accuracy (first in grid order on a
    tie); None until every search run is stored and one completed."""
    from ..results import stored

    found, missing = stored(search, results_dir)
    if missing or not found:
        return None
    done = [r for r in found if r["status"] == "completed"]
    if not done:
        return None
    return max(done, key=lambda r: r["metrics"]["val_acc"])  # max keeps the first of equals


def best_ab(search: list[dict[str, Any]], results_dir: str | Path | None) -> dict[str, float] | None:
    """The a, b of the search run with the best validation accuracy (first in grid order on a tie);
    None until every search run is stored and completed."""
    best = best_run(search, results_dir)
    return None if best is None else {k: best["config"]["reparam"][k] for k in ("a", "b")}


def _at_lr(config: dict[str, Any], lr: float) -> dict[str, Any]:
    return {**config, "train": {**config["train"], "lr": lr}}


def staged_grid(base: dict[str, Any], methods: Sequence[str], seeds: Sequence[int], grid: dict[str, list[float]],
                results_dir: str | Path | None, lr_trials: Sequence[float] = ()) -> list[dict[str, Any]]:
    """One cell (model, data, schedule): every method x seed, searched methods staged.

    A searched method lists its search (first seed, every a, b) and, once that is stored, the
    other seeds at the chosen a, b. With ``lr_trials``, each method of ``LR_TUNED`` also lists its
    first seed at every other rate of ``lr_trials`` and, once those are stored, its other seeds at
    the rate chosen on validation (none when the recipe's rate wins: its runs are already listed).
    """
    out = []
    recipe_lr = base["train"]["lr"]
    for method in methods:
        if method not in SEARCHED:
            runs = [_with_reparam({**base, "seed": s}, method) for s in seeds]
            out += runs
            if method in LR_TUNED and lr_trials:
                trials = [_at_lr(runs[0], lr) for lr in lr_trials if not math.isclose(lr, recipe_lr)]
                out += trials
                best = best_run([runs[0], *trials], results_dir)
                if best is not None and not math.isclose(best["config"]["train"]["lr"], recipe_lr):
                    out += [_at_lr(r, best["config"]["train"]["lr"]) for r in runs[1:]]
            continue
        search = [_with_reparam({**base, "seed": seeds[0]}, method, a=a, b=b) for a, b in product(grid["a"], grid["b"])]
        out += search
        chosen = best_ab(search, results_dir)
        if chosen is not None:
            out += [_with_reparam({**base, "seed": s}, method, **chosen) for s in seeds[1:]]
    return out


@CHAPTERS.register("weight_compander", notebook="weight_compander")
def weight_compander(profile: str, seeds: Sequence[int] | None, results_dir: str | Path | None = None
                     ) -> list[dict[str, Any]]:
    """MNIST: LeNet-300-100 and LeNet-5 x {none, wc, wc_fine, wc_coarse (LeNet-300-100), pp, wn} x seeds."""
    s = pick(MNIST, profile)
    seeds = list(seeds if seeds is not None else s["seeds"])
    out = []
    for model in ("lenet300", "lenet5"):
        base = {
            "chapter": CHAPTER,
            "profile": profile,
            "data": s["data"],
            "model": {"name": model},
            "hooks": [STATS, HISTOGRAM],
            "train": {**MNIST_TRAIN, "batch_size": s["batch_size"], "epochs": s["epochs"][model]},
        }
        out += staged_grid(base, s["methods"][model], seeds, s["grid"][model], results_dir,
                           s.get("lr_trials", {}).get(model, ()))
    return out


# Sec. IV-A: batch 128, SGD momentum 0.9, lr 0.1, 200 epochs; CIFAR-10 ResNets lr x0.1 at 90 and 136
# with decay 1e-4 (He et al.); CIFAR-100 and the VGGs lr x0.2 at 60, 120, 160 with decay 5e-4 (Zagoruyko).
SCHEDULE_RESNET_C10 = {"schedule": "multistep", "milestones": [90, 136], "gamma": 0.1, "weight_decay": 1e-4}
SCHEDULE_WRN = {"schedule": "multistep", "milestones": [60, 120, 160], "gamma": 0.2, "weight_decay": 5e-4}
CIFAR_TRAIN = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.1, "batch_size": 128, "epochs": 200}
# Which methods each table runs on which models (Tables II, III, VI, VII).
CIFAR_CELLS = {
    "cifar10": {"resnet18": ("none", "pp", "wn", "wc", "wc_fine", "arsinh", "erf"),
                "resnet34": ("none", "pp", "wn", "wc", "wc_fine", "arsinh", "erf"),
                "resnet50": ("none", "pp", "wn", "wc", "wc_fine", "arsinh", "erf"),
                "vgg16_bn": ("none", "wc"), "vgg19_bn": ("none", "wc")},
    "cifar100": {"resnet18": ("none", "pp", "wn", "wc", "arsinh", "erf"),
                 "resnet34": ("none", "pp", "wn", "wc", "arsinh", "erf"),
                 "resnet50": ("none", "pp", "wn", "wc", "arsinh", "erf"),
                 "wrn28_10": ("none", "wc"), "vgg16_bn": ("none", "wc"), "vgg19_bn": ("none", "wc")},
}
_SMOKE_DATA = {"n_train": 48, "n_test": 16, "val_split": 16}
CIFAR = {
    "smoke": {
        "datasets": {"cifar10": {"name": "synthetic-cifar10", **_SMOKE_DATA},
                     "cifar100": {"name": "synthetic-cifar100", **_SMOKE_DATA}},
        # every method on ResNet-18; ResNet-34 (Fig. 3's model) and one VGG per data set with the
        # compander (search + one more seed); ResNet-50 and WRN-28-10 are left to their own tests
        # (tests/test_models*.py): one step of WRN-28-10 costs more than the rest of this grid
        "cells": {"cifar10": {"resnet18": CIFAR_CELLS["cifar10"]["resnet18"], "resnet34": ("wc",), "vgg16_bn": ("wc",)},
                  "cifar100": {"vgg19_bn": ("wc",)}},
        "train": {"epochs": 1, "batch_size": 16, "milestones": [1]},
        "grid": {"a": [1.0], "b": [0.6]},
        "seeds": [0, 1],
    },
    # Table I's direction on CIFAR-10 (JPEG q75 copy) with ResNet-20 as a stand-in for ResNet18 (which
    # does not fit here): plain vs the compander, 30 epochs with He et al.'s shape (lr x0.1 at 50% and
    # 75%), bf16. Both at published settings, the same tuning budget (none searched here): the plain
    # net at He et al.'s, the compander at Table I's ResNet18 / CIFAR-10 choice a = 1.0, b = 0.6.
    "cpu": {
        "datasets": {"cifar10": dict(CIFAR10_JPEG)},
        "cells": {"cifar10": {"resnet20": ("none", "wc")}},
        "train": {"precision": "bf16", "epochs": 30, "milestones": [15, 23]},
        "grid": {"a": [1.0], "b": [0.6]},
        "seeds": [0, 1, 2],
    },
    "paper": {
        "datasets": {"cifar10": paper_cifar10(),
                     "cifar100": dict(CIFAR100)},
        "cells": CIFAR_CELLS,
        "train": {"precision": "auto"},
        "grid": {"a": PAPER_GRID, "b": PAPER_GRID},
        "seeds": [0, 1, 2, 3, 4],
    },
}


def cifar_schedule(dataset: str, model: str) -> dict[str, Any]:
    return SCHEDULE_RESNET_C10 if dataset == "cifar10" and model.startswith("resnet") else SCHEDULE_WRN


@CHAPTERS.register("weight_compander_cifar", notebook="weight_compander_cifar", stored_only=True)
def weight_compander_cifar(profile: str, seeds: Sequence[int] | None, results_dir: str | Path | None = None
                           ) -> list[dict[str, Any]]:
    """CIFAR-10/100: Tables I-III, VI, VII (the paper's models, methods and schedules); cpu: Table I's
    direction with a ResNet-20 stand-in on the JPEG copy of CIFAR-10, seed by seed (a grid cut short
    still pairs both methods on the seeds it reached)."""
    s = pick(CIFAR, profile)
    seeds = list(seeds if seeds is not None else s["seeds"])
    out = []
    for dataset, cells in s["cells"].items():
        for model, methods in cells.items():
            base = {
                "chapter": CHAPTER,
                "profile": profile,
                "data": s["datasets"][dataset],
                "model": {"name": model},
                "transforms": [{"name": "random_crop_flip", "padding": 4}],
                "hooks": [{**STATS, "first_only": True}],
                "train": {**CIFAR_TRAIN, **cifar_schedule(dataset, model), **s["train"]},
            }
            out += staged_grid(base, methods, seeds, s["grid"], results_dir)
    return sorted(out, key=lambda c: c["seed"]) if loads_stored(profile) else out


def recipe_lr(config: dict[str, Any]) -> float:
    """The learning rate of the grid's recipe for this config's data (MNIST or CIFAR)."""
    return (MNIST_TRAIN if "mnist" in config["data"]["name"] else CIFAR_TRAIN)["lr"]


def describe(config: dict[str, Any]) -> dict[str, Any]:
    """The grid coordinates of a run config: model, method, a, b, dataset, seed, the learning rate
    ``lr``, and ``lr_trial``: True for a run at another rate than the recipe's (an equal-budget
    trial or a later seed at the rate it chose)."""
    spec = config.get("reparam") or {}
    lr = float(config["train"].get("lr", recipe_lr(config)))
    return {"model": config["model"]["name"], "method": method_of(config),
            "a": spec.get("a"), "b": spec.get("b"),
            "dataset": config["data"]["name"].removeprefix("synthetic-"), "seed": config["seed"],
            "lr": lr, "lr_trial": not math.isclose(lr, recipe_lr(config))}


LABELS = {
    "lenet300": "LeNet-300-100", "lenet5": "LeNet-5", "resnet20": "ResNet-20 (stand-in for ResNet18)",
    "resnet18": "ResNet18", "resnet34": "ResNet34", "resnet50": "ResNet50",
    "vgg16_bn": "VGG16-BN", "vgg19_bn": "VGG19-BN", "wrn28_10": "WRN-28-10",
    "none": "plain", "wc": "WC (arctan, a, b searched)", "wc_fine": "WC learnable, fine",
    "wc_coarse": "WC learnable, coarse", "arsinh": "arsinh compander", "erf": "erf compander",
    "pp": "Powerprop (alpha 2)", "wn": "weight norm",
    "cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "mnist": "MNIST",
}
# the paper's method names (paper_numbers.csv) -> ours
PAPER_METHODS = {"baseline": "none", "PP": "pp", "WN": "wn", "WC": "wc", "WC learnable fine": "wc_fine",
                 "WC arsinh": "arsinh", "WC erf": "erf"}


def split_search(frame):
    """Split a frame of runs (one row per run, with ``describe`` columns and ``val_error_%``) into
    the main runs (every method at its chosen a, b, and at the recipe's learning rate) and the
    search runs; also return the chosen ``{(model, dataset, method): (a, b)}``: the first seed's
    best validation accuracy, first in grid order on a tie, as :func:`best_ab` chose when the grid
    was made. Learning-rate trials (:func:`lr_tuned`) are in neither."""
    import pandas as pd

    if "lr_trial" in frame:
        frame = frame[~frame["lr_trial"].astype(bool)]
    chosen, keep = {}, []
    for (model, dataset, method), part in frame.groupby(["model", "dataset", "method"], sort=False):
        if method not in SEARCHED:
            keep.append(part)
            continue
        first = part[part["seed"] == part["seed"].min()]
        best = first.loc[first["val_error_%"].idxmin()]
        chosen[(model, dataset, method)] = (best["a"], best["b"])
        keep.append(part[(part["a"] == best["a"]) & (part["b"] == best["b"])])
    main = pd.concat(keep) if keep else frame.iloc[0:0]
    search = frame[frame["method"].isin(SEARCHED)]
    return main, search, chosen


def trial_counts(profile: str) -> dict[str, int]:
    """Per model of the MNIST grid in ``profile``: how many learning rates its first seed tries (the
    recipe's and the trials), so a cell is judged only once every trial is stored."""
    s = pick(MNIST, profile)
    recipe = MNIST_TRAIN["lr"]
    return {model: len(trials) + (not any(math.isclose(lr, recipe) for lr in trials))
            for model, trials in s.get("lr_trials", {}).items()}


def lr_tuned(frame, expected: dict[str, int] | None = None):
    """The equal-budget runs of ``LR_TUNED`` methods: ``(runs, chosen)`` with ``runs`` one row per run
    at each (model, dataset, method)'s chosen rate, every seed, and ``chosen`` ``{(model, dataset,
    method): (rate, trials)}``; the rate is the first seed's best validation accuracy over the recipe
    rate and its trials (first in rate order on a tie, as :func:`best_run` chose in grid order: the
    recipe run comes first there). A cell is left out until it has a trial at another rate, and, with
    ``expected`` (:func:`trial_counts`), until its first seed has all of them."""
    import pandas as pd

    if "lr_trial" not in frame or frame.empty:
        return frame.iloc[0:0], {}
    keep, chosen = [], {}
    for (model, dataset, method), part in frame[frame["method"].isin(LR_TUNED)].groupby(
            ["model", "dataset", "method"], sort=False):
        first = part[part["seed"] == part["seed"].min()]
        if not first["lr_trial"].astype(bool).any():
            continue
        if expected is not None and len(first) < expected.get(model, 0):
            continue  # a choice among some trials only could change when the rest are stored
        order = pd.concat([first[~first["lr_trial"].astype(bool)], first[first["lr_trial"].astype(bool)]])
        best = order.loc[order["val_error_%"].idxmin()]  # idxmin keeps the first of equals
        chosen[(model, dataset, method)] = (float(best["lr"]), len(first))
        keep.append(part[part["lr"].map(lambda lr: math.isclose(lr, best["lr"]))])
    return (pd.concat(keep) if keep else frame.iloc[0:0]), chosen
