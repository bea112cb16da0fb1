"""The hook protocol, the registry run configs name hooks in, and what a hook sees of a run:
below the engine, so a method that plugs in as a hook needs no import of the engine itself."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
from torch import nn

from .data import Splits
from .losses import CrossEntropy, Loss
from .registry import Registry

HOOKS = Registry("hook")


class Hook:
    """Base class of epoch hooks; override what you need. ``state`` is the :class:`FitState`."""

    def on_fit_start(self, state: "FitState") -> None: ...

    def on_epoch_start(self, state: "FitState") -> None: ...

    def after_step(self, state: "FitState") -> None: ...

    def on_epoch_end(self, state: "FitState") -> dict[str, Any] | None: ...

    def on_fit_end(self, state: "FitState") -> dict[str, Any] | None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass
class FitState:
    """What hooks see: the live model and optimizer, and the run's progress so far."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    cfg: Any  # the run's regprune.train.TrainConfig (not imported: the engine sits above this module)
    splits: Splits
    device: torch.device
    loss: Loss = field(default_factory=CrossEntropy)
    transforms: Sequence[Callable] = ()
    seed: int = 0
    epoch: int = 0  # the epoch running now, or just finished in on_epoch_end
    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_score: float = -math.inf
    best_epoch: int = -1
    best_state: dict[str, torch.Tensor] | None = None
    elapsed: float = 0.0
    status: str = "running"  # set to the run's outcome before on_fit_end
    metrics: dict[str, Any] = field(default_factory=dict)  # the run's metrics, set before on_fit_end
