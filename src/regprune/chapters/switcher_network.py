"""Paper 002 (Han, Liu, Hai, Li, "Explore the Knowledge contained in Network Weights to Obtain
Sparse Neural Networks"): the run grids.

Methods (``METHODS``): the dense task network trained alone (``dense``, our baseline with the
same number of epochs), and the switcher network (:mod:`regprune.switcher`) over every fully
connected layer, switching input neurons (``snn_neuron``) or connections (``snn_connection``),
learned alternately with the task network (hook ``switcher_alternation``).

What the paper gives (Sec. 4): SGD, batch 64, lr 0.1 "with automatic adjusting", Kaiming-normal
initialization of both networks, cross-entropy only, no retraining.  What it leaves out and we
chose (the chapter says so; every one is a setting here): plain SGD, no momentum (the paper
names none; in a setup run, seed 0, our dense LeNet-300-100 reached 97.5% with momentum 0.9 and
98.1% without it); the "automatic adjusting" as PyTorch's ReduceLROnPlateau on validation loss
(x0.1); no weight decay on MNIST, 5e-4 on CIFAR (the usual CIFAR recipe); the epoch budget; the
SNN's size (4 channels, depth 2).  Both networks start Kaiming-normal, N(0, 2/fan_in) with zero
biases, as the paper says (``model.init``; the SNN's convolutions do, except its output layer,
which starts at zero weights and bias 1 so that every gate starts at 1, see
:mod:`regprune.switcher`).  The SNN learns at ``SNN_LR`` = 0.01 (``lr_scale`` times the task
network's rate).  In setup probes with a Kaiming-normal SNN head and momentum 0.9, the paper's
rate switched every gate off; under the final settings one stored run (``variant`` "snn_lr=0.1")
shows what it does, and another (``variant`` "tnn_first", LeNet-5) starts the alternation with
the task network instead of the SNN.  LeNet-5-Caffe departs from the paper's rate (``MODEL_TRAIN``): at 0.1 it
diverged in setup runs, so it trains at 0.01, Caffe's own LeNet rate.

Grids: ``switcher_network`` (MNIST, LeNet-300-100 and LeNet-5-Caffe, Table 1; smoke and cpu,
the cpu profile on the real MNIST) and ``switcher_network_cifar`` (Tables 2 and 3: CIFAR-10/100
with ResNet-18/34, VGG16 with three FC layers, MobileNet-V1; smoke on synthetic CIFAR-shaped
data, paper on a GPU).  Both store under ``results/switcher_network/``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..profiles import loads_stored, pick
from .base import CHAPTERS, CIFAR100, paper_cifar10

CHAPTER = "switcher_network"
SNN_LR = 0.01  # the SNN's own learning rate (lr x lr_scale); one stored run uses the paper's 0.1
SNN_LR_SCALE = 0.1  # SNN_LR / the task network's lr of 0.1
SNN = {"channels": 4, "depth": 2, "lr_scale": SNN_LR_SCALE}
METHODS: dict[str, dict[str, Any] | None] = {
    "dense": None,
    "snn_neuron": {"name": "switcher", "mode": "neuron", **SNN},
    "snn_connection": {"name": "switcher", "mode": "connection", **SNN},
}
ALTERNATION = {"name": "switcher_alternation"}
TRAIN = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.0, "batch_size": 64, "schedule": "plateau", "gamma": 0.1}
# Per-model departures. LeNet-5-Caffe at lr 0.1 (plain SGD, Kaiming normal) gave NaN in the first
# epoch for seeds 0 and 1, with inputs standardized or scaled to [0, 1]; with a ReLU after each conv
# seed 1 stayed at chance. It trains at Caffe's own LeNet rate, 0.01, and its SNN at lr_scale 1,
# so the SNN's rate is SNN_LR on both networks.
MODEL_TRAIN: dict[str, dict[str, Any]] = {"lenet5": {"lr": 0.01}}
MODEL_SNN: dict[str, dict[str, Any]] = {"lenet5": {"lr_scale": 1.0}}

MNIST = {
    "smoke": {
        "data": {"name": "synthetic-mnist", "val_split": 256, "split_seed": 0},
        "train": {"epochs": 2, "patience": 1, "monitor_test": True},
        "seeds": [0],
    },
    "cpu": {
        "data": {"name": "mnist", "val_split": 5000, "split_seed": 0},
        # 10 epochs: 5 SNN phases and 5 TNN phases. On 2 CPU cores the SNN over LeNet-5's 800 x 500
        # weight image costs more than the task network itself, so this is the budget a session holds.
        "train": {"epochs": 10, "patience": 2, "monitor_test": True},
        "seeds": [0, 1, 2, 3, 4],  # five: the seed rule (book/judging.md)
    },
}
MNIST["paper"] = MNIST["cpu"]  # MNIST-scale: the cpu profile is already the run we report


def _configs(profile: str, data: dict[str, Any], model: str, methods: Sequence[str], seeds: Sequence[int],
             train: dict[str, Any], transforms: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    out = []
    for method in methods:
        for seed in seeds:
            config = {
                "chapter": CHAPTER,
                "profile": profile,
                "seed": int(seed),
                "data": data,
                "model": {"name": model, "init": "kaiming_normal"},
                "transforms": list(transforms),
                "hooks": [ALTERNATION] if METHODS[method] else [],
                "train": {**train, **MODEL_TRAIN.get(model, {})},
            }
            if METHODS[method]:
                config["reparam"] = {**METHODS[method], **MODEL_SNN.get(model, {})}
            out.append(config)
    return out


@CHAPTERS.register("switcher_network", notebook="switcher_network")
def switcher_network(profile: str, seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """MNIST, Table 1: LeNet-300-100 and LeNet-5-Caffe x {dense, SNN neuron, SNN connection} x seeds."""
    s = pick(MNIST, profile)
    seeds = list(seeds if seeds is not None else s["seeds"])
    train = {**TRAIN, **s["train"]}
    out = [c for model in ("lenet300", "lenet5") for c in _configs(profile, s["data"], model, METHODS, seeds, train)]
    # the paper's learning rate for the SNN too (0.1, lr_scale 1 on LeNet-300-100): one run shows what it does
    paper_lr = _configs(profile, s["data"], "lenet300", ["snn_connection"], seeds[:1], train)[0]
    paper_lr["reparam"] = {**paper_lr["reparam"], "lr_scale": 1.0}
    # the task network's phase first (the paper starts with the SNN on the untrained network):
    # one LeNet-5 run, SNN connection, the second seed of the grid
    tnn_first = _configs(profile, s["data"], "lenet5", ["snn_connection"], seeds[1:2] or seeds[:1], train)[0]
    tnn_first["hooks"] = [{**ALTERNATION, "first": "tnn"}]
    return out + [paper_lr, tnn_first] + fair_baselines(profile, s["data"], seeds, train)


# The rates the SNN's rate was chosen from in setup probes: the dense baseline gets the same two trials.
LR_TRIALS = (0.1, 0.01)


def fair_baselines(profile: str, data: dict[str, Any], seeds: Sequence[int], train: dict[str, Any]
                   ) -> list[dict[str, Any]]:
    """The dense baseline under the two fairness rules of the book (``variant`` in :func:`describe`):

    * ``equal_updates``: half the epochs. The alternation trains the task network in every other
      epoch, so a switcher run of E epochs gives it the updates of E/2 dense epochs.
    * ``lr=<rate>``: the other rate of ``LR_TRIALS``. The SNN's rate was picked from these two in
      setup runs; with this run the baseline's rate can be picked the same way, on validation."""
    out = []
    for model in ("lenet300", "lenet5"):
        half = _configs(profile, data, model, ["dense"], seeds, {**train, "epochs": max(1, train["epochs"] // 2)})
        other = _configs(profile, data, model, ["dense"], seeds, train)
        for c in other:
            c["train"]["lr"] = next(lr for lr in LR_TRIALS if not math.isclose(lr, c["train"]["lr"]))
        out += half + other
    return out


# Tables 2 and 3: which models each table runs (VGG16 has no SNN-connection row in the paper; we
# run it anyway, it costs little beside the conv layers).
CIFAR_MODELS = {"cifar10": ("resnet18", "resnet34", "vgg16", "mobilenet_v1"),
                "cifar100": ("resnet18", "resnet34", "vgg16")}
_SMOKE_DATA = {"n_train": 48, "n_test": 16, "val_split": 16}
CIFAR = {
    "smoke": {
        "datasets": {"cifar10": {"name": "synthetic-cifar10", **_SMOKE_DATA},
                     "cifar100": {"name": "synthetic-cifar100", **_SMOKE_DATA}},
        "models": {"cifar10": CIFAR_MODELS["cifar10"], "cifar100": ("vgg16",)},
        "train": {"epochs": 2, "batch_size": 16, "patience": 1},
        "seeds": [0],
    },
    "paper": {
        "datasets": {"cifar10": paper_cifar10(),
                     "cifar100": dict(CIFAR100)},
        "models": CIFAR_MODELS,
        # the paper gives no epoch count: 200 epochs with the plateau rule (patience 10)
        "train": {"epochs": 200, "patience": 10, "weight_decay": 5e-4, "precision": "auto"},
        "seeds": [0, 1, 2],
    },
}


@CHAPTERS.register("switcher_network_cifar", notebook="switcher_network_cifar")
def switcher_network_cifar(profile: str, seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """CIFAR-10/100, Tables 2 and 3: ResNet-18/34, VGG16, MobileNet-V1 x {dense, SNN neuron, SNN connection}."""
    if loads_stored(profile):
        return []  # CIFAR at these settings needs a GPU; the notebook shows the paper's tables instead
    s = pick(CIFAR, profile)
    seeds = list(seeds if seeds is not None else s["seeds"])
    train = {**TRAIN, **s["train"]}
    crop_flip = [{"name": "random_crop_flip", "padding": 4}]
    return [c for dataset, models in s["models"].items() for model in models
            for c in _configs(profile, s["datasets"][dataset], model, METHODS, seeds, train, crop_flip)]


def method_of(config: dict[str, Any]) -> str:
    spec = config.get("reparam")
    return "dense" if not spec else f"snn_{spec['mode']}"


def snn_lr(config: dict[str, Any]) -> float | None:
    """The SNN's learning rate in a run config (None for a dense run)."""
    spec = config.get("reparam")
    return None if not spec else config["train"]["lr"] * spec.get("lr_scale", 1.0)


def describe(config: dict[str, Any]) -> dict[str, Any]:
    """The grid coordinates of a run config: model, method, dataset, seed, and ``variant``
    ("main"; "snn_lr=..." for a run whose SNN learns at another rate than SNN_LR, "tnn_first" for
    one whose alternation starts with the task network; "equal_updates" and "lr=..." for the dense
    baselines of :func:`fair_baselines`)."""
    lr = snn_lr(config)
    first = next((h.get("first", "snn") for h in config["hooks"] if h["name"] == ALTERNATION["name"]), "snn")
    variants = ([] if lr is None or math.isclose(lr, SNN_LR) else [f"snn_lr={lr:g}"]) + \
        ([] if first == "snn" else [f"{first}_first"])
    if lr is None and config["data"]["name"].removeprefix("synthetic-") == "mnist":
        recipe = {**TRAIN, **pick(MNIST, config["profile"])["train"], **MODEL_TRAIN.get(config["model"]["name"], {})}
        variants += [] if config["train"]["epochs"] >= recipe["epochs"] else ["equal_updates"]
        variants += [] if math.isclose(config["train"]["lr"], recipe["lr"]) else [f"lr={config['train']['lr']:g}"]
    return {"model": config["model"]["name"], "method": method_of(config),
            "dataset": config["data"]["name"].removeprefix("synthetic-"), "seed": config["seed"],
            "variant": ", ".join(variants) or "main"}


LABELS = {
    "lenet300": "LeNet-300-100", "lenet5": "LeNet-5-Caffe", "resnet18": "ResNet18", "resnet34": "ResNet34",
    "vgg16": "VGG16 (3 FC)", "mobilenet_v1": "MobileNet-V1",
    "dense": "dense (ours)", "snn_neuron": "SNN neuron", "snn_connection": "SNN connection",
    "cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "mnist": "MNIST",
}
# the paper's row names (paper_numbers.csv) -> ours; the other rows are baselines it quotes
PAPER_METHODS = {"SNN neuron": "snn_neuron", "SNN connection": "snn_connection"}
