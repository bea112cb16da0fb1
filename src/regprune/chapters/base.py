"""The registry every chapter module registers its grid in: below the package, so a chapter module
and the package that lists the chapters do not import each other."""

from __future__ import annotations

import os
from typing import Any

from ..registry import ConfigError, Registry

CHAPTERS = Registry("chapter")

# CIFAR-10 as every chapter trains on it: 5,000 of the 50,000 training images held out for validation
CIFAR10 = {"name": "cifar10", "val_split": 5000, "split_seed": 0, "download": True}  # torchvision's files
CIFAR10_JPEG = {"name": "cifar10-jpeg", "val_split": 5000, "split_seed": 0}  # the JPEG q75 copy: the cpu profiles
CIFAR100 = {"name": "cifar100", "val_split": 5000, "split_seed": 0, "download": True}  # paper profiles only
PAPER_CIFAR10 = "REGPRUNE_PAPER_CIFAR10"


def paper_cifar10() -> dict[str, Any]:
    """The CIFAR-10 of the `paper` profiles: torchvision's files, or, with ``REGPRUNE_PAPER_CIFAR10=cifar10-jpeg``
    in the environment of the process (and of the notebooks that render it), the JPEG q75 copy, for a
    machine that has only the copy, such as a lent GPU. Those are other runs, under other keys, and
    every table names their data as the copy."""
    choice = os.environ.get(PAPER_CIFAR10, "cifar10")
    sources = {"cifar10": CIFAR10, "cifar10-jpeg": CIFAR10_JPEG}
    if choice not in sources:
        raise ConfigError(f"{PAPER_CIFAR10}={choice!r} is not allowed; choose one of: 'cifar10', 'cifar10-jpeg'")
    return dict(sources[choice])
