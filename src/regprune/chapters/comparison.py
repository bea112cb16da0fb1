"""All methods on one bench: every chapter's method on LeNet-300-100 and LeNet-5, one budget.

Each paper compares its method against baselines of its own choice, on its own budget. Here
every method of the book trains with the same recipe (``TRAIN``: the efficiency chapter's
"SGD, momentum 0.9, lr 0.01, cosine, batch 128", 30 epochs for LeNet-300-100 and 12 for LeNet-5,
5,000 training images held out for validation) and then goes through the same post-training
analyses, both run as epoch-end hooks on the final network:

* the efficiency chapter's snapshot pruning (``snapshot_pruning``: magnitude thresholds
  theta x std per layer, one adjustment pass of biases) and
* the VC chapter's per-layer threshold sweep (``threshold_sweep``: 50 steps, the largest step
  within 1 point of validation accuracy) with the fixed-point quantization of the trained
  and of the pruned network (fraction bits chosen on validation).

Methods (``METHODS``) reuse the chapters' settings and add only configuration. Where a chapter
selected a hyperparameter on validation on MNIST, this grid takes its choice (stated beside
each entry); where a setting is new here, it says so. Combinations the papers suggest but
never ran are in ``COMBINATIONS``.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..profiles import pick
from .base import CHAPTERS
from .efficiency_llr import PRUNE_LENET5, PRUNE_LENET300
from .switcher_network import ALTERNATION, SNN_LR

CHAPTER = "comparison"
MODELS = ("lenet300", "lenet5")

# The shared budget: the efficiency chapter's LeNet recipe (Caffe's LeNet solver rate, cosine decay).
TRAIN = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.01, "schedule": "cosine", "batch_size": 128,
         "weight_decay": 0.0, "monitor_test": True}
# The switcher chapter trains without momentum (SNN at SNN_LR = 0.01, the task network at 0.1). Under
# this budget's momentum 0.9 a step is 1 / (1 - 0.9) = 10x the rate, so the SNN takes lr_scale 0.1:
# lr 0.001, the same effective step 0.01 (and the task network's 0.01 is its chapter's 0.1). At
# lr_scale 1 (effective 0.1, the paper's SNN rate) LeNet-300-100's neuron switcher shut off every
# input of one layer in its first SNN epoch for seeds 1 and 2 (chance accuracy from then on; a ReLU
# gate at 0 gets no gradient back): those runs stay as the ablation "snn_neuron_lr1". At lr_scale 0.1
# seed 2 still shut fc2 off, in its second SNN epoch (best validation epoch 2: 65.5% test): a finding, kept.
SNN_EFFECTIVE_STEP = 1.0 / (1.0 - TRAIN["momentum"])
SNN = {"name": "switcher", "channels": 4, "depth": 2, "lr_scale": round(SNN_LR / (TRAIN["lr"] * SNN_EFFECTIVE_STEP), 12)}
# The VC chapter's choice on MNIST (validation, FNN with 2 hidden layers): D = 1e-2. With all layers
# (LCA) the data term sums the squares of every pre-activation: 410 per image on LeNet-300-100, 15,230
# on LeNet-5 (its conv layers' 11,520 + 3,200 output entries). At 1e-2 LeNet-5 diverged (NaN) in the
# first epoch for all three seeds (kept as "hinge_lca_d1e-2"); it takes 1e-4, the top of the paper's
# own range (Sec. 5.1: 1e-8..1e-4). LCL (the 10 outputs) keeps 1e-2 on both models.
VC_D = 1e-2
VC_D_LENET5_LCA = 1e-4


def _vc(layers: str, D: float) -> dict[str, Any]:
    return {"name": "vc_bound", "layers": layers, "D": D}


# The weight compander chapter's search on MNIST chose a = 1.0, b = 0.5 for both LeNets.
WC_AB = {"a": 1.0, "b": 0.5}
MIXUP = {"name": "mixup", "alpha": 1.0}  # paper 004's alpha
CUTOUT = {"name": "cutout", "size": 8}  # new here: 16 of 32 px on CIFAR is half the side; 8 of 28 a bit under a third
SFP = {"name": "soft_filter_pruning", "keep_rate": 0.9}  # paper 004's rate, conv layers only (LeNet-5)
HINGE = {"name": "multiclass_hinge"}

# method -> the parts of a run config it sets (merged over the plain run); "models": where it applies;
# "by_model": parts that differ on one model (merged over the method's own)
METHODS: dict[str, dict[str, Any]] = {
    "ce": {},
    "llr": {"loss": {"name": "llr"}},
    "wd": {"train": {"weight_decay": 5e-4}},
    "adamw": {"train": {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.01}},
    "wc": {"reparam": {"name": "compander", "fn": "arctan", **WC_AB}},
    "wc_fine": {"reparam": {"name": "compander", "fn": "arctan", "a": 0.5, "b": 1.0, "learnable": "fine"}},
    "pp": {"reparam": {"name": "powerprop", "alpha": 2.0}},
    "snn_neuron": {"reparam": {**SNN, "mode": "neuron"}, "hooks": [ALTERNATION]},
    "snn_connection": {"reparam": {**SNN, "mode": "connection"}, "hooks": [ALTERNATION]},
    "hinge_lcl": {"loss": HINGE, "penalties": [_vc("last", VC_D)]},
    "hinge_lca": {"loss": HINGE, "penalties": [_vc("all", VC_D)],
                  "by_model": {"lenet5": {"penalties": [_vc("all", VC_D_LENET5_LCA)]}}},
    "mixup": {"transforms": [MIXUP]},
    "cutout": {"transforms": [CUTOUT]},
    "sfp": {"hooks": [SFP], "models": ("lenet5",)},
}
COMBINATIONS: dict[str, dict[str, Any]] = {
    "wc+sfp": {"reparam": METHODS["wc"]["reparam"], "hooks": [SFP], "models": ("lenet5",)},
    "llr+snn_connection": {"loss": {"name": "llr"}, **{k: METHODS["snn_connection"][k] for k in ("reparam", "hooks")}},
    "cutout+sfp": {"transforms": [CUTOUT], "hooks": [SFP], "models": ("lenet5",)},
}
# Runs that document a setting that failed, not a method of the bench: no Pareto point (they diverged or
# collapsed to chance); the notebook lists them apart.
ABLATIONS: dict[str, dict[str, Any]] = {
    "hinge_lca_d1e-2": {"loss": HINGE, "penalties": [_vc("all", VC_D)], "models": ("lenet5",)},
    "snn_neuron_lr1": {"reparam": {**SNN, "mode": "neuron", "lr_scale": SNN_LR / TRAIN["lr"]}, "hooks": [ALTERNATION],
                       "models": ("lenet300",)},
}
ALL_METHODS = {**METHODS, **COMBINATIONS, **ABLATIONS}
# The VC chapter's post-training analysis; fewer total widths than its Fig. 3 (16..2), the same range.
THRESHOLD_SWEEP = {"name": "threshold_sweep", "steps": 50, "tolerance_pp": 1.0,
                   "totals": [16, 8, 6, 5, 4, 3, 2], "fracs": list(range(1, 16))}

PROFILES = {
    "smoke": {
        "data": {"name": "synthetic-mnist", "n_train": 384, "n_test": 128, "val_split": 128, "split_seed": 0},
        "epochs": {"lenet300": 2, "lenet5": 1},
        "batch_size": 64,
        "adjust_samples": 64,
        "sweep": {"steps": 4, "totals": [8, 4], "fracs": [2, 6]},
        "snapshot_settings": 3,
        "methods": ("ce", "wc", "hinge_lca", "sfp", "cutout+sfp"),  # the other methods have their chapters' smoke tests
        "seeds": [0],
    },
    "cpu": {
        "data": {"name": "mnist", "val_split": 5000, "split_seed": 0},
        "epochs": {"lenet300": 30, "lenet5": 12},  # the efficiency and compander chapters' budgets
        "batch_size": 128,
        "adjust_samples": 5000,
        "sweep": {},
        "snapshot_settings": None,
        "methods": tuple(ALL_METHODS),
        "seeds": [0, 1, 2],
    },
}
PROFILES["paper"] = PROFILES["cpu"]  # MNIST-scale: the cpu profile is the full bench


def _snapshot(model: str, adjust_samples: int, settings: int | None) -> dict[str, Any]:
    hook = {**(PRUNE_LENET300 if model == "lenet300" else PRUNE_LENET5), "adjust_samples": adjust_samples}
    if settings is not None:  # smoke: the first few thresholds
        hook = {k: (v[:settings] if isinstance(v, list) else v) for k, v in hook.items()}
    return hook


def run_config(profile: str, model: str, method: str, seed: int) -> dict[str, Any]:
    """The run config of ``method`` on ``model`` in ``profile``."""
    s = pick(PROFILES, profile)
    parts = {**ALL_METHODS[method], **ALL_METHODS[method].get("by_model", {}).get(model, {})}
    return {
        "chapter": CHAPTER, "profile": profile, "seed": int(seed), "data": s["data"],
        "model": {"name": model},
        **({"reparam": parts["reparam"]} if "reparam" in parts else {}),
        "loss": parts.get("loss", {"name": "cross_entropy"}),
        "transforms": list(parts.get("transforms", [])),
        "penalties": list(parts.get("penalties", [])),
        "hooks": [*parts.get("hooks", []), _snapshot(model, s["adjust_samples"], s["snapshot_settings"]),
                  {**THRESHOLD_SWEEP, **s["sweep"]}],
        "train": {**TRAIN, **parts.get("train", {}), "batch_size": s["batch_size"], "epochs": s["epochs"][model]},
    }


@CHAPTERS.register("comparison", notebook="comparison")
def comparison(profile: str, seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """Every method (and combination) on LeNet-300-100 and LeNet-5 x seeds, one budget."""
    s = pick(PROFILES, profile)
    seeds = list(seeds if seeds is not None else s["seeds"])
    return [run_config(profile, model, method, seed) for model in MODELS for method in s["methods"]
            if model in ALL_METHODS[method].get("models", MODELS) for seed in seeds]


def method_of(config: dict[str, Any]) -> str:
    """The method name of a run config of this chapter (inverse of :func:`config`)."""
    for name in ALL_METHODS:
        probe = run_config(config["profile"], config["model"]["name"], name, config["seed"])
        if all(probe.get(k) == config.get(k) for k in ("reparam", "loss", "transforms", "penalties", "hooks", "train")):
            return name
    raise KeyError(f"run config matches no method of {CHAPTER}: {config}")


LABELS = {
    "lenet300": "LeNet-300-100", "lenet5": "LeNet-5",
    "ce": "cross-entropy", "llr": "LLR outputs", "wd": "L2 weight decay", "adamw": "AdamW",
    "wc": "compander (fixed a, b)", "wc_fine": "compander (learnable, per layer)", "pp": "Powerpropagation",
    "snn_neuron": "switcher (neuron)", "snn_connection": "switcher (connection)",
    "hinge_lcl": "hinge + VC bound (last layer)", "hinge_lca": "hinge + VC bound (all layers)",
    "mixup": "mixup", "cutout": "cutout", "sfp": "soft filter pruning",
    "wc+sfp": "compander + SFP", "llr+snn_connection": "LLR + switcher (connection)", "cutout+sfp": "cutout + SFP",
    "hinge_lca_d1e-2": "hinge + VC bound (all layers), D = 1e-2",
    "snn_neuron_lr1": "switcher (neuron), SNN step 10x",
}


def describe(config: dict[str, Any]) -> dict[str, Any]:
    """The grid coordinates of a run config: model, method, seed."""
    return {"model": config["model"]["name"], "method": method_of(config), "seed": config["seed"]}
