"""Paper 003 (Sharma, Jayadeva et al., "Smaller Models, Better Generalization"): the run grids.

Methods (``METHODS``, the paper's names): multiclass hinge loss alone (``H``); with an L2 or
L1 weight term (``H+W2``, ``H+W1``); with the data-dependent VC-bound term on every layer's
pre-activations (``H+LCA``); and both (``H+W2+LCA``, ``H+W1+LCA``): the penalty ``vc_bound``
of :mod:`regprune.losses`. Every run ends with the paper's post-training analysis (hook
``threshold_sweep``): the 50-step threshold pruning sweep, the pruned network picked on
validation within 1 point, and the fixed-point quantization sweep of the trained and the pruned
network.

What the paper gives (Sec. 5.1): C in [1e-4, 1e-1] and D in [1e-8, 1e-4] in powers of 10,
learning rate in {1e-2, 1e-1}, all tuned (on what, it does not say); lr decayed as 1/epoch
(``schedule="inverse"``: lr / (epoch + 1)); 500 epochs; FNNs of 1-3 hidden layers of 50 ReLU
units; Table 9's split sizes. What it leaves out and we chose (each a setting here): plain SGD
with no momentum, batch 128 (16 on w8a, see ``W8A_TRAIN``); the search is staged on one seed and one depth per data set
(``SEARCH_MODEL``, the middle one): the learning rate on ``H``, then C on ``H+W2`` and ``H+W1``
and D on ``H+LCA`` at that rate; the combined methods take the C and D their parts chose, and
every depth and seed runs at the chosen values. Everything is chosen on validation accuracy.
Our C is a per-batch coefficient, i.e. the paper's C divided by the number of training samples
if the paper's eq. (18) was summed over the data set (see :class:`regprune.losses.VCBound`).

Grids: ``vc_bound`` (FNNs on dna, a9a, w8a and MNIST; smoke on synthetic data, cpu on the real
files) and ``vc_bound_cifar`` (Tables 3-5: the Caffe quick net and DenseNet-40 on CIFAR-10; smoke
on synthetic CIFAR-shaped data, paper on a GPU). Both store under ``results/vc_bound/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..profiles import pick
from ..results import run_key
from .base import CHAPTERS, CIFAR10_JPEG, paper_cifar10

CHAPTER = "vc_bound"
# method -> settings of the vc_bound penalty (None: the hinge loss alone); "C" / "D" mark what is searched
METHODS: dict[str, dict[str, Any] | None] = {
    "H": None,
    "H+W2": {"weight_term": "l2", "C": "searched"},
    "H+W1": {"weight_term": "l1", "C": "searched"},
    "H+LCA": {"layers": "all", "D": "searched"},
    "H+W2+LCA": {"layers": "all", "weight_term": "l2", "C": "H+W2", "D": "H+LCA"},
    "H+W1+LCA": {"layers": "all", "weight_term": "l1", "C": "H+W1", "D": "H+LCA"},
}
DEPTHS = ("fnn1", "fnn2", "fnn3")
SEARCH_MODEL = "fnn2"
LRS = [1e-2, 1e-1]  # Sec. 5.1
CS = [1e-4, 1e-3, 1e-2, 1e-1]
# The paper's D range is 1e-8..1e-4. There, on dna, the data term moved nothing we could measure
# (validation accuracy equal to 4 digits, validation loss within 3e-4 of H's): with pre-activations
# of order 1 and ~100 units it is below 1e-2 of the hinge loss. We extend the search to 1e-1 so the
# term can act; which D was chosen is in every table.
DS_PAPER = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4]
DS = DS_PAPER + [1e-3, 1e-2, 1e-1]
TRAIN = {"optimizer": "sgd", "momentum": 0.0, "batch_size": 128, "schedule": "inverse"}
POST = {"name": "threshold_sweep", "steps": 50, "tolerance_pp": 1.0}  # Sec. 5.2: 50 steps for FNNs
# The main runs' analysis lets fraction bits reach or pass the total, as the paper's fixed-point tool
# does (issue 29: with them kept below, 4 total bits left a single choice, 3 fraction bits). The search
# runs keep ``POST``: they choose lr, C and D on validation accuracy, which quantization never enters, and
# so keep their stored keys. The hook's own default stays False: a stored config that does not name the
# setting was analysed without it, and its key must keep meaning that.
MAIN_POST = {**POST, "allow_frac_ge_total": True}
TSNE = {"name": "tsne_embedding", "per_class": 50}  # our MNIST stand-in for Fig. 2

# Table 9's sizes (train / validation / test). w8a: the shared copy has no w8a.t, so its test
# set is carved from the training file (stratified, 30%), which leaves 24,850 for training
# against the paper's 39,800. MNIST from our raw files scaled to [0, 1] (784 features; the
# paper's LIBSVM copy has 780).
DATA = {
    "dna": {"name": "dna", "val_split": 600, "split_seed": 0},
    "a9a": {"name": "a9a", "val_split": 6512, "split_seed": 0},
    "w8a": {"name": "w8a", "test_from_train": 0.3005, "val_split": 9949, "split_seed": 0},
    "mnist": {"name": "mnist", "normalize": "unit", "val_split": 12001, "split_seed": 0},
}
# The share of the largest class in each of our test splits (%): a network that predicts one class
# scores this. Counted from the data files with these splits; tests/test_vc_bound_chapter.py checks it.
MAJORITY_TEST = {"dna": 50.84, "a9a": 76.38, "w8a": 97.03, "mnist": 11.35}


def at_majority(test_acc_pct, dataset):
    """True where a test accuracy (%) is at or below its data set's ``MAJORITY_TEST`` share + 0.1 pp:
    a network that predicts one class, i.e. learned nothing (False for a data set not listed).
    Both arguments are pandas Series of the same index."""
    return test_acc_pct <= dataset.map(MAJORITY_TEST).fillna(float("-inf")) + 0.1


PAPER_DATASET = {"mnist": "libsvm-mnist"}  # our data set -> its name in paper_numbers.csv (the paper's LIBSVM copy)
# w8a departs in batch size: at 128 (with lr 0.01 or 0.1, and 0.5 or 1.0 in a probe) every network
# stayed at the majority class (97.0%) under the 1/epoch decay; at 16 it learns within 2-4 epochs.
# 20 epochs at batch 16 are as many updates as 160 at 128. The batch-128 search runs stay in the
# grid (role "ablation") as the evidence.
W8A_TRAIN = {"batch_size": 16}
FNN = {
    "smoke": {
        "data": {"synthetic": {"name": "synthetic-mnist", "n_train": 512, "n_test": 200, "val_split": 128,
                               "normalize": "unit"}},
        "depths": ("fnn1", "fnn2"),
        "epochs": {"synthetic": 2},
        "search": {"lr": [0.1], "C": [1e-4], "D": [1e-6]},
        "tsne": ("synthetic",),
        "main_post": MAIN_POST,
        "seeds": [0],
    },
    "cpu": {
        "data": DATA,
        "depths": DEPTHS,
        # dna at the paper's 500 epochs; a9a and MNIST at 100, w8a at 20 of batch 16 (what one session
        # on 2 cores holds; with lr / epoch, epochs 100-500 move the weights by ln 5 = 1.6 initial-lr
        # epochs, 24% of the paper's total). One run on a9a and one on MNIST at 500 epochs measure the cut.
        "epochs": {"dna": 500, "a9a": 100, "w8a": 20, "mnist": 100},
        "train": {"w8a": W8A_TRAIN},
        "full_epochs": {"a9a": 500, "mnist": 500},
        "ablation": {"w8a": {"batch_size": 128, "epochs": 100}},
        "search": {"lr": LRS, "C": CS, "D": DS},
        "tsne": ("mnist",),
        "main_post": MAIN_POST,
        "seeds": [0, 1, 2, 3, 4],  # runs of ~1 min: five seeds (book/judging.md)
    },
    "paper": {
        "data": DATA,
        "depths": DEPTHS,
        "epochs": {name: 500 for name in DATA},
        "train": {"w8a": W8A_TRAIN},
        "search": {"lr": LRS, "C": CS, "D": DS},
        "tsne": ("mnist",),
        "main_post": MAIN_POST,
        "seeds": [0, 1, 2],
    },
}


def penalty(method: str, C: float | None = None, D: float | None = None) -> list[dict[str, Any]]:
    """The ``penalties`` list of a run config for ``method`` at the given C and D."""
    spec = METHODS[method]
    if spec is None:
        return []
    out: dict[str, Any] = {"name": "vc_bound", **{k: v for k, v in spec.items() if k not in ("C", "D")}}
    if "C" in spec:
        out["C"] = C
    if "D" in spec:
        out["D"] = D
    return [out]


def method_of(config: dict[str, Any]) -> str:
    """The paper's name of a run config's method (inverse of ``METHODS``)."""
    loss = config.get("loss", "cross_entropy")
    name = "S" if (loss if isinstance(loss, str) else loss["name"]) == "cross_entropy" else "H"
    p = (config.get("penalties") or [{}])[0]
    name += {"l2": "+W2", "l1": "+W1"}.get(p.get("weight_term", "none"), "")
    name += {"all": "+LCA", "last": "+LCL"}[p.get("layers", "last")] if p.get("D", 0) > 0 else ""
    model = config["model"]
    return name + ("+D" if isinstance(model, dict) and model.get("drop_rate", 0) > 0 else "")


def _best(configs: list[dict[str, Any]], results_dir: str | Path | None) -> dict[str, Any] | None:
    """The stored config with the best validation accuracy (first on a tie); None until all are stored."""
    from ..results import stored

    found, missing = stored(configs, results_dir)
    done = [r for r in found if r["status"] == "completed"]
    if missing or not done:
        return None
    return max(done, key=lambda r: r["metrics"]["val_acc"])["config"]


def fnn_cell(profile: str, dataset: str, s: dict[str, Any], seeds: Sequence[int],
             results_dir: str | Path | None) -> dict[str, Any]:
    """One data set: the staged search on (``SEARCH_MODEL``, first seed), then every depth x method
    x seed at the chosen values, as far as the stored results allow. Returns the runs by role
    (``search``, ``main``, ``epochs``: the full-budget run, ``ablation``: a departure's evidence)
    and the ``chosen`` values so far."""
    tsne = [TSNE] if dataset in s["tsne"] else []

    def config(method: str, model: str, seed: int, lr: float, C: float | None = None, D: float | None = None,
               post: dict[str, Any] = POST, **train: Any) -> dict[str, Any]:
        return {"chapter": CHAPTER, "profile": profile, "seed": int(seed), "data": s["data"][dataset],
                "model": {"name": model}, "loss": {"name": "multiclass_hinge"}, "penalties": penalty(method, C, D),
                "hooks": [post, *tsne], "train": {**TRAIN, "epochs": s["epochs"][dataset], **s.get("train", {}).get(dataset, {}),
                                          "lr": lr, **train}}

    search = s["search"]
    out: dict[str, Any] = {"search": [config("H", SEARCH_MODEL, seeds[0], lr) for lr in search["lr"]],
                           "main": [], "epochs": [], "chosen": {},
                           "ablation": [config("H", SEARCH_MODEL, seeds[0], lr, **s["ablation"][dataset])
                                        for lr in search["lr"] if dataset in s.get("ablation", {})]}
    best = _best(out["search"], results_dir)
    if best is None:
        return out
    lr = out["chosen"]["lr"] = best["train"]["lr"]
    stage2 = {m: [config(m, SEARCH_MODEL, seeds[0], lr, C=c) for c in search["C"]] for m in ("H+W2", "H+W1")}
    stage2["H+LCA"] = [config("H+LCA", SEARCH_MODEL, seeds[0], lr, D=d) for d in search["D"]]
    out["search"] += [c for runs in stage2.values() for c in runs]
    picked = {m: _best(runs, results_dir) for m, runs in stage2.items()}
    if any(c is None for c in picked.values()):
        return out
    C = {m: picked[m]["penalties"][0]["C"] for m in ("H+W2", "H+W1")}
    D = picked["H+LCA"]["penalties"][0]["D"]
    out["chosen"].update({"C (W2)": C["H+W2"], "C (W1)": C["H+W1"], "D": D})
    for method, spec in METHODS.items():
        spec = spec or {}
        c = C[method] if spec.get("C") == "searched" else C.get(spec.get("C"))
        d = D if "D" in spec else None
        out["main"] += [config(method, model, seed, lr, C=c, D=d, post=s["main_post"])
                        for model in s["depths"] for seed in seeds]
    if dataset in s.get("full_epochs", {}):  # what the shortened budget costs: one run
        out["epochs"].append(config("H", SEARCH_MODEL, seeds[0], lr, epochs=s["full_epochs"][dataset]))
    return out


def cells(profile: str, seeds: Sequence[int] | None = None, results_dir: str | Path | None = None
          ) -> dict[str, dict[str, Any]]:
    """:func:`fnn_cell` of every data set of ``profile``: the notebook's view of roles and choices."""
    s = pick(FNN, profile)
    seeds = list(seeds if seeds is not None else s["seeds"])
    return {dataset: fnn_cell(profile, dataset, s, seeds, results_dir) for dataset in s["data"]}


def _unique(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    return [c for c in configs if not (run_key(c) in seen or seen.add(run_key(c)))]


@CHAPTERS.register("vc_bound", notebook="vc_bound")
def vc_bound(profile: str, seeds: Sequence[int] | None, results_dir: str | Path | None = None
             ) -> list[dict[str, Any]]:
    """Tables 6-8 and 10-12: FNNs with 1-3 hidden layers x the six methods x data sets x seeds."""
    return _unique([c for cell in cells(profile, seeds, results_dir).values()
                    for role in ("search", "main", "epochs", "ablation") for c in cell[role]])


def dataset_of(config: dict[str, Any]) -> str:
    """The chapter's name of a run's data set (the keys of the FNN grids' ``data``; else its name)."""
    named = [(k, v) for s in FNN.values() for k, v in s["data"].items()]
    return next((k for k, v in named if v == config["data"]), config["data"]["name"])


def describe(config: dict[str, Any]) -> dict[str, Any]:
    """The columns the notebook groups by: data set, model, method, lr, C, D."""
    p = (config.get("penalties") or [{}])[0]
    return {"dataset": dataset_of(config), "model": config["model"]["name"], "method": method_of(config),
            "lr": config["train"]["lr"], "C": p.get("C"), "D": p.get("D")}


# --------------------------------------------------------------------------- CIFAR-10 (Tables 3-5, Figs. 1-2)

# Sec. 5.1: Caffe, lr x0.1 every 100,000 iterations, 230,000 iterations. Caffe's cifar10_quick trains
# at batch 100 (450 iterations per epoch on our 45,000 training images: 511 epochs, steps at 222 and
# 444); its DenseNet at batch 64 (703 per epoch: 327 epochs, steps at 142 and 284). The paper tunes
# C, D and lr; no augmentation is named (its accuracies, 73-80% and 86-92%, are those of training
# without it, and DenseNet's dropout is its no-augmentation setting). We fix (our choice, settings here): lr 0.01 with momentum 0.9 for the quick net
# (Caffe's solver uses 0.001), 0.1 for DenseNet-40, C = 1e-4, D = 1e-6, dropout 0.2 for "+D".
CIFAR_METHODS: dict[str, dict[str, Any]] = {
    # Tables 3-4, the rows our quick net can run (it has no dropout or batch norm layers, as in Caffe)
    "S": {"loss": "cross_entropy"},
    "S+W2": {"loss": "cross_entropy", "penalty": {"weight_term": "l2"}},
    "S+LCA": {"loss": "cross_entropy", "penalty": {"layers": "all"}},
    "S+W2+LCA": {"loss": "cross_entropy", "penalty": {"layers": "all", "weight_term": "l2"}},
    "S+W2+LCL": {"loss": "cross_entropy", "penalty": {"layers": "last", "weight_term": "l2"}},
    # Table 5 (DenseNet-40, hinge loss)
    "H+D": {"loss": "multiclass_hinge", "dropout": True},
    "H+W2": {"loss": "multiclass_hinge", "penalty": {"weight_term": "l2"}},
    "H+W2+D": {"loss": "multiclass_hinge", "penalty": {"weight_term": "l2"}, "dropout": True},
    "H+W2+LCL": {"loss": "multiclass_hinge", "penalty": {"layers": "last", "weight_term": "l2"}},
    "H+W2+LCL+D": {"loss": "multiclass_hinge", "penalty": {"layers": "last", "weight_term": "l2"}, "dropout": True},
    "H+W1": {"loss": "multiclass_hinge", "penalty": {"weight_term": "l1"}},
    "H+W1+LCL": {"loss": "multiclass_hinge", "penalty": {"layers": "last", "weight_term": "l1"}},
}
CIFAR_CELLS = {"quicknet": ("S", "S+W2", "S+LCA", "S+W2+LCA", "S+W2+LCL"),
               "densenet40": ("H+D", "H+W2", "H+W2+D", "H+W2+LCL", "H+W2+LCL+D", "H+W1", "H+W1+LCL")}
CIFAR_TRAIN = {
    "quicknet": {"optimizer": "sgd", "momentum": 0.9, "lr": 0.01, "batch_size": 100, "epochs": 511,
                 "schedule": "multistep", "milestones": [222, 444], "gamma": 0.1},
    "densenet40": {"optimizer": "sgd", "momentum": 0.9, "lr": 0.1, "batch_size": 64, "epochs": 327,
                   "schedule": "multistep", "milestones": [142, 284], "gamma": 0.1},
}
CIFAR_C, CIFAR_D, DROPOUT = 1e-4, 1e-6, 0.2
CIFAR = {
    "smoke": {
        "data": {"name": "synthetic-cifar10", "n_train": 48, "n_test": 40, "val_split": 16},
        "train": {"epochs": 1, "batch_size": 16, "milestones": [1]},
        "cells": {"quicknet": ("S", "S+W2+LCL"), "densenet40": ("H+W2+LCL+D",)},
        "post": {**POST, "steps": 5, "totals": [8, 4], "fracs": [3, 6]},
        "seeds": [0],
    },
    # CIFAR-10 (JPEG q75 copy), the quick net only, on a 30-epoch schedule with the paper's shape:
    # lr x0.1 at 100k and 200k of 230k iterations -> epochs 13 and 26 of 30. bf16 autocast: on this
    # book's AVX-512-BF16 CPU the quick net trains at 4,670 samples/s against 3,280 in fp32 (measured).
    "cpu": {
        "data": dict(CIFAR10_JPEG),
        "train": {"precision": "bf16", "epochs": 30, "milestones": [13, 26]},
        "cells": {"quicknet": CIFAR_CELLS["quicknet"]},
        "post": {**POST, "steps": 100, "allow_frac_ge_total": True, "keep_grid": True},
        "seeds": [0, 1, 2],
    },
    "paper": {
        "data": paper_cifar10(),
        "train": {"precision": "auto"},
        "cells": CIFAR_CELLS,
        "post": {**POST, "steps": 100, "allow_frac_ge_total": True, "keep_grid": True},  # Sec. 5.2: 100 steps for CNNs
        "seeds": [0, 1, 2],
    },
}


def cifar_config(profile: str, model: str, method: str, seed: int, s: dict[str, Any]) -> dict[str, Any]:
    spec = CIFAR_METHODS[method]
    pen = spec.get("penalty")
    penalties = []
    if pen is not None:
        penalties = [{"name": "vc_bound", **pen, **({"C": CIFAR_C} if "weight_term" in pen else {}),
                      **({"D": CIFAR_D} if "layers" in pen else {})}]
    return {"chapter": CHAPTER, "profile": profile, "seed": int(seed), "data": s["data"],
            "model": {"name": model, **({"drop_rate": DROPOUT} if spec.get("dropout") else {})},
            "loss": {"name": spec["loss"]}, "penalties": penalties,
            "hooks": [s["post"], TSNE], "train": {**CIFAR_TRAIN[model], **s["train"]}}


@CHAPTERS.register("vc_bound_cifar", notebook="vc_bound", stored_only=True)
def vc_bound_cifar(profile: str, seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """Tables 3-5, Figs. 1-2: the Caffe quick net and DenseNet-40 on CIFAR-10. The cpu profile runs the
    quick net on the JPEG copy of CIFAR-10 at a shortened schedule; DenseNet-40 needs a GPU.
    Seed by seed, so a grid cut short still pairs every method on the seeds it reached."""
    s = pick(CIFAR, profile)
    seeds = list(seeds if seeds is not None else s["seeds"])
    return [cifar_config(profile, model, method, seed, s)
            for seed in seeds for model, methods in s["cells"].items() for method in methods]
