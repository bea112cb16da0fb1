"""Paper 004 (Vu, Wen, Nehoran, "How Not to Give a FLOP: Combining Regularization and Pruning
for Efficient Inference"): the run grid of Table 1 and its FLOP figures.

Methods (``METHODS``): the plain network (``control``), mixup, cutout, soft filter pruning
(``pruning``, :mod:`regprune.filter_pruning`, keep rate 0.9 in every conv) and pruning combined
with mixup or cutout, on CIFAR-10 ResNet-20/32/44/56/110.

What the paper gives (Sec. 5.3): CIFAR-10, 200 epochs, lr 0.1, pruning rate 0.9 for every layer,
"all other parameters fixed".  What it leaves out, taken from its authors' code where it is
public and otherwise the usual CIFAR recipe (every one is a setting here): SGD with momentum 0.9,
batch 128, weight decay 1e-4, lr x0.1 at epochs 100 and 150 for *every* method (the authors'
code gives cutout runs another schedule, x0.2 at 60/120/160; the paper says the other settings
were fixed, so we keep one schedule: ``CUTOUT_SCHEDULE`` switches to theirs), random crop (pad 4)
and flip for all methods, mixup alpha 1 with one lambda per batch, one 16 x 16 cutout hole,
5,000 training images held out for validation (the authors' code validates on the test set),
bf16 on a GPU.  SFP prunes at initialization and after every epoch (as He et al. do).

FLOPs need no training: :func:`regprune.filter_pruning.sfp_paper_macs` reproduces Table 1's
MegaFLOPs exactly and :func:`regprune.filter_pruning.sfp_macs` sets them beside the MACs of the
compact network that :func:`regprune.filter_pruning.compact_resnet` extracts.  Latency comes
from ``bench/latency.py`` (``bench/results/latency.json``).
"""

from __future__ import annotations

from typing import Any, Sequence

from ..profiles import pick
from .base import CHAPTERS, CIFAR10_JPEG, paper_cifar10

CHAPTER = "flops_pruning"
DEPTHS = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110")
KEEP_RATE = 0.9  # the paper's "pruning rate 0.9": SFP keeps 90% of each conv's filters
MIXUP = {"name": "mixup", "alpha": 1.0}
CUTOUT = {"name": "cutout", "size": 16}
SFP = {"name": "soft_filter_pruning", "keep_rate": KEEP_RATE}
METHODS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "control": {"transforms": [], "hooks": []},
    "mixup": {"transforms": [MIXUP], "hooks": []},
    "cutout": {"transforms": [CUTOUT], "hooks": []},
    "pruning": {"transforms": [], "hooks": [SFP]},
    "mixup_pruning": {"transforms": [MIXUP], "hooks": [SFP]},
    "cutout_pruning": {"transforms": [CUTOUT], "hooks": [SFP]},
}
CROP_FLIP = {"name": "random_crop_flip", "padding": 4}
TRAIN = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "batch_size": 128,
         "schedule": "multistep", "milestones": [100, 150], "gamma": 0.1}
# the authors' code trains cutout runs with another schedule; None keeps TRAIN's for every method
CUTOUT_SCHEDULE: dict[str, Any] | None = None  # e.g. {"milestones": [60, 120, 160], "gamma": 0.2}

PROFILES = {
    "smoke": {
        "data": {"name": "synthetic-cifar10", "n_train": 48, "n_test": 16, "val_split": 16},
        "models": ("resnet20",),
        "train": {"epochs": 2, "batch_size": 16, "milestones": [1]},
        "seeds": [0],
    },
    # CIFAR-10 (JPEG q75 copy), ResNet-20 only, 30 epochs with the paper's shape (lr x0.1 at 100 and
    # 150 of 200 -> 15 and 23 of 30), SFP's pruning every epoch as in the paper; bf16 on a CPU with it.
    # Short schedules favour the control over mixup (mixup regularizes, and pays off late).
    "cpu": {
        "data": dict(CIFAR10_JPEG),
        "models": ("resnet20",),
        "train": {"epochs": 30, "milestones": [15, 23], "precision": "bf16"},
        "seeds": [0, 1, 2],
    },
    "paper": {
        "data": paper_cifar10(),
        "models": DEPTHS,
        "train": {"epochs": 200, "precision": "auto"},
        "seeds": [0, 1, 2],
    },
}


@CHAPTERS.register("flops_pruning", notebook="flops_pruning", stored_only=True)
def flops_pruning(profile: str, seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """Table 1: ResNet-20/32/44/56/110 x {control, mixup, cutout, pruning, mixup & pruning,
    cutout & pruning} x seeds on CIFAR-10 (cpu: ResNet-20 on the JPEG copy, a shortened schedule).
    Seed by seed, so a grid cut short still pairs every method on the seeds it reached."""
    s = pick(PROFILES, profile)
    seeds = list(seeds if seeds is not None else s["seeds"])
    out = []
    for seed in seeds:
        for model in s["models"]:
            for method, parts in METHODS.items():
                train = {**TRAIN, **s["train"]}
                if CUTOUT_SCHEDULE and CUTOUT in parts["transforms"]:
                    train.update(CUTOUT_SCHEDULE)
                out.append({
                    "chapter": CHAPTER, "profile": profile, "seed": int(seed), "data": s["data"],
                    "model": {"name": model},
                    "transforms": [CROP_FLIP, *parts["transforms"]],
                    "hooks": list(parts["hooks"]),
                    "train": train,
                })
    return out


def method_of(config: dict[str, Any]) -> str:
    names = {t["name"] for t in config["transforms"]} | {h["name"] for h in config["hooks"]}
    parts = [n for n in ("mixup", "cutout") if n in names] + (["pruning"] if "soft_filter_pruning" in names else [])
    return "_".join(parts) or "control"


def describe(config: dict[str, Any]) -> dict[str, Any]:
    """The grid coordinates of a run config: model, method, keep rate, seed."""
    sfp = [h for h in config["hooks"] if h["name"] == "soft_filter_pruning"]
    return {"model": config["model"]["name"], "method": method_of(config),
            "keep_rate": sfp[0].get("keep_rate", KEEP_RATE) if sfp else 1.0, "seed": config["seed"]}


LABELS = {
    "resnet20": "ResNet-20", "resnet32": "ResNet-32", "resnet44": "ResNet-44", "resnet56": "ResNet-56",
    "resnet110": "ResNet-110", "control": "control", "mixup": "mixup", "cutout": "cutout", "pruning": "pruning",
    "mixup_pruning": "mixup & pruning", "cutout_pruning": "cutout & pruning",
}
