"""Paper 000 (Liang, Yi, Liu, "On the Efficiency of Deep Neural Networks"): the run grids.

Only an appendix fragment of the paper survives, so every detail below that the fragment
does not give is our reading, stated in the chapter and changeable here:

* output representation: ``softmax`` (cross-entropy) or ``llr`` (K one-vs-rest binary
  likelihoods, :class:`regprune.losses.LogLikelihoodRatio`);
* weight regularization: ``none`` (SGD), ``wd`` (SGD with L2 weight decay 5e-4, the Caffe
  LeNet solver's value) and ``adamw`` (AdamW, lr 1e-3, decoupled decay 0.01: PyTorch's
  defaults);
* snapshot pruning after training: LeNet-5 conv theta_k = 0.5 + 0.1k (k = 0..9), FC 1.25 (the
  fragment's setting); LeNet-300-100 has no conv layer, so its FC layers take theta_k = 0.5 +
  0.1k with k = 0..14, reaching the 12x compression Han et al. report; CIFAR nets conv
  theta_k = 0.5 + 0.05k, FC 0.75. The adjustment pass: one pass over 5,000 training
  examples (10,000 for CIFAR), SGD momentum 0.9, lr 0.01, only biases and batch-norm parameters move.

Two grids: ``efficiency_llr`` (MNIST, LeNets; smoke and cpu; the cpu profile is full scale)
and ``efficiency_llr_cifar`` (CIFAR-10/100, ResNet-20/32/56 and DenseNet-BC-40/60/100; smoke
on synthetic CIFAR-shaped data, paper on a GPU). Both store under ``results/efficiency_llr/``.
"""

from __future__ import annotations

from itertools import product
from typing import Any, Sequence

from ..profiles import pick
from .base import CHAPTERS, CIFAR10_JPEG, CIFAR100, paper_cifar10

CHAPTER = "efficiency_llr"
OUTPUTS = {"softmax": {"name": "cross_entropy"}, "llr": {"name": "llr"}}

# The Caffe LeNet solver's lr 0.01 and momentum 0.9 (lr 0.05 diverged with LLR on LeNet-5), cosine decay.
SGD = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.01, "schedule": "cosine", "batch_size": 128}
REGULARIZERS = {
    "none": {**SGD, "weight_decay": 0.0},
    "wd": {**SGD, "weight_decay": 5e-4},
    "adamw": {"optimizer": "adamw", "lr": 1e-3, "schedule": "cosine", "batch_size": 128, "weight_decay": 0.01},
}


def thetas(start: float, step: float, count: int) -> list[float]:
    """The fragment's pruning schedule theta_k = start + step * k, k = 0..count-1."""
    return [round(start + step * k, 10) for k in range(count)]


PRUNE_LENET300 = {"name": "snapshot_pruning", "theta_conv": 0.0, "theta_fc": thetas(0.5, 0.1, 15)}
PRUNE_LENET5 = {"name": "snapshot_pruning", "theta_conv": thetas(0.5, 0.1, 10), "theta_fc": 1.25}
PRUNE_CIFAR = {"name": "snapshot_pruning", "theta_conv": thetas(0.5, 0.05, 10), "theta_fc": 0.75}
HISTOGRAM = {"name": "weight_histogram", "limit": 0.5, "bins": 200}

MNIST = {
    "smoke": {
        "data": {"name": "synthetic-mnist", "val_split": 256, "split_seed": 0},
        "epochs": {"lenet300": 2, "lenet5": 2},
        "batch_size": 64,
        "adjust_samples": 256,
        "sweep": 3,
        "seeds": [0],
    },
    "cpu": {
        "data": {"name": "mnist", "val_split": 5000, "split_seed": 0},
        "epochs": {"lenet300": 30, "lenet5": 12},  # LeNet-5: about Caffe's 10k iterations of 64
        "batch_size": 128,
        "adjust_samples": 5000,
        "sweep": None,
        # the book's seed rule: runs under about 3 minutes here (LeNet-300-100 ~25 s, LeNet-5 ~70 s)
        # get 5 seeds; seeds 3 and 4 added on 2026-12-03
        "seeds": [0, 1, 2, 3, 4],
    },
}
MNIST["paper"] = MNIST["cpu"]  # MNIST-scale: the cpu profile is already full scale


def _short(hook: dict[str, Any], n: int | None) -> dict[str, Any]:
    """The first ``n`` settings of a sweep (smoke profile)."""
    if n is None:
        return hook
    return {k: (v[:n] if isinstance(v, list) else v) for k, v in hook.items()}


@CHAPTERS.register("efficiency_llr", notebook="efficiency_llr")
def efficiency_llr(profile: str, seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """MNIST: LeNet-300-100 and LeNet-5 x {softmax, llr} x {none, wd, adamw} x seeds."""
    s = pick(MNIST, profile)
    out = []
    for model, output, reg, seed in product(
        ("lenet300", "lenet5"), OUTPUTS, REGULARIZERS, seeds if seeds is not None else s["seeds"]
    ):
        prune = {**(PRUNE_LENET300 if model == "lenet300" else PRUNE_LENET5), "adjust_samples": s["adjust_samples"]}
        out.append({
            "chapter": CHAPTER,
            "profile": profile,
            "seed": seed,
            "data": s["data"],
            "model": {"name": model},
            "loss": OUTPUTS[output],
            "hooks": [HISTOGRAM, _short(prune, s["sweep"])],
            "train": {
                **REGULARIZERS[reg],
                "batch_size": s["batch_size"],
                "epochs": s["epochs"][model],
                "monitor_test": True,
            },
        })
    return out


CIFAR_TRAIN = {
    # He et al. 2016, Sec. 4.2: lr 0.1 / 10 at 32k and 48k iterations (epochs 82, 123 of 164)
    "resnet": {"optimizer": "sgd", "momentum": 0.9, "lr": 0.1, "weight_decay": 1e-4, "batch_size": 128,
               "epochs": 164, "schedule": "multistep", "milestones": [82, 123]},
    # Huang et al. 2017, Sec. 4.2: 300 epochs, batch 64, lr / 10 at 50% and 75%, Nesterov
    "densenet": {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.1, "weight_decay": 1e-4,
                 "batch_size": 64, "epochs": 300, "schedule": "multistep", "milestones": [150, 225]},
}
CIFAR = {
    "smoke": {
        "datasets": {"cifar10": {"name": "synthetic-cifar10", "n_train": 96, "n_test": 64, "val_split": 32},
                     "cifar100": {"name": "synthetic-cifar100", "n_train": 96, "n_test": 64, "val_split": 32}},
        "models": {"cifar10": ["resnet20", "densenet40"], "cifar100": ["resnet20"]},
        "train": {"epochs": 1, "batch_size": 32, "milestones": [1]},
        "adjust_samples": 32,
        "sweep": 2,
        "seeds": [0],
    },
    # CIFAR-10 (JPEG q75 copy), ResNet-20 only, 30 epochs with He et al.'s shape (lr / 10 at 50% and
    # 75%: epochs 15 and 23), bf16 on a CPU with it. CIFAR-100 cannot be had here.
    "cpu": {
        "datasets": {"cifar10": dict(CIFAR10_JPEG)},
        "models": {"cifar10": ["resnet20"]},
        "train": {"precision": "bf16", "epochs": 30, "milestones": [15, 23]},
        "adjust_samples": 10000,
        "sweep": None,
        "seeds": [0, 1, 2],
    },
    "paper": {
        "datasets": {"cifar10": paper_cifar10(),
                     "cifar100": dict(CIFAR100)},
        "models": {d: ["resnet20", "resnet32", "resnet56", "densenet40", "densenet60", "densenet100"]
                   for d in ("cifar10", "cifar100")},
        "train": {"precision": "auto"},
        "adjust_samples": 10000,
        "sweep": None,
        "seeds": [0, 1, 2],
    },
}


@CHAPTERS.register("efficiency_llr_cifar", notebook="efficiency_llr_cifar", stored_only=True)
def efficiency_llr_cifar(profile: str, seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """CIFAR-10/100: ResNet-20/32/56 and DenseNet-BC-40/60/100 x {softmax, llr} x seeds (SGD + wd);
    cpu: ResNet-20 on the JPEG copy of CIFAR-10, a shortened schedule, seed by seed."""
    s = pick(CIFAR, profile)
    out = []
    for dataset, data in s["datasets"].items():
        for seed, model, output in product(seeds if seeds is not None else s["seeds"], s["models"][dataset], OUTPUTS):
            family = "densenet" if model.startswith("densenet") else "resnet"
            out.append({
                "chapter": CHAPTER,
                "profile": profile,
                "seed": seed,
                "data": data,
                "model": {"name": model},
                "loss": OUTPUTS[output],
                "transforms": [{"name": "random_crop_flip", "padding": 4}],
                "hooks": [_short({**PRUNE_CIFAR, "adjust_samples": s["adjust_samples"]}, s["sweep"])],
                "train": {**CIFAR_TRAIN[family], **s["train"]},
            })
    return out


def describe(config: dict[str, Any]) -> dict[str, Any]:
    """The grid coordinates of a run config: model, family, output, regularizer, dataset, seed."""
    train = config["train"]
    if train.get("optimizer") == "adamw":
        reg = "adamw"
    else:
        reg = "wd" if train.get("weight_decay", 0) > 0 else "none"
    output = next(k for k, v in OUTPUTS.items() if v["name"] == config["loss"]["name"])
    model = config["model"]["name"]
    return {"model": model, "family": "densenet" if model.startswith("densenet") else model.rstrip("0123456789"),
            "output": output, "regularizer": reg, "dataset": {"cifar10-jpeg": "cifar10"}.get(name := config["data"]["name"].removeprefix("synthetic-"), name),
            "seed": config["seed"]}


LABELS = {
    "lenet300": "LeNet-300-100", "lenet5": "LeNet-5", "resnet": "ResNet", "densenet": "DenseNet-BC",
    "resnet20": "ResNet-20", "resnet32": "ResNet-32", "resnet56": "ResNet-56",
    "densenet40": "DenseNet-BC-40", "densenet60": "DenseNet-BC-60 (58 layers)", "densenet100": "DenseNet-BC-100",
    "softmax": "softmax", "llr": "LLR",
    "none": "SGD, no decay", "wd": "SGD + L2 decay 5e-4", "adamw": "AdamW, decay 0.01",
    "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
}
