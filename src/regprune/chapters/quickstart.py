"""Quickstart: LeNet-300-100 on MNIST through the engine, the book's first chapter."""

from __future__ import annotations

from typing import Any, Sequence

from ..profiles import pick
from .base import CHAPTERS

TRAIN = {
    "optimizer": "sgd",
    "momentum": 0.9,
    "nesterov": True,
    "lr": 0.05,
    "schedule": "cosine",
    "weight_decay": 1e-4,
    "batch_size": 128,
}

SETTINGS = {
    "smoke": {
        "data": {"name": "synthetic-mnist", "val_split": 256, "split_seed": 0},
        "train": {**TRAIN, "epochs": 3, "batch_size": 64},
        "seeds": [0],
    },
    "cpu": {
        "data": {"name": "mnist", "val_split": 5000, "split_seed": 0},
        "train": {**TRAIN, "epochs": 20},
        "seeds": [0, 1, 2],
    },
}
SETTINGS["paper"] = SETTINGS["cpu"]  # MNIST-scale: the CPU settings are already full scale


@CHAPTERS.register("quickstart", notebook="quickstart")
def quickstart(profile: str, seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    s = pick(SETTINGS, profile)
    return [
        {
            "chapter": "quickstart",
            "profile": profile,
            "seed": seed,
            "data": s["data"],
            "model": {"name": "lenet300"},
            "loss": {"name": "cross_entropy"},
            "train": s["train"],
        }
        for seed in (seeds if seeds is not None else s["seeds"])
    ]
