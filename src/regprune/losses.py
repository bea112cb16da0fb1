"""Loss objects the training engine takes: ``loss(outputs, targets) -> scalar`` plus ``predict``.

Targets are class indices (N,) or soft targets (N, K) such as mixup produces, so every loss
here accepts both. Chapters register further losses (LLR, multiclass hinge) and penalties (regularizers) by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .registry import Registry

LOSSES = Registry("loss")
PENALTIES = Registry("penalty")  # terms ``p(model) -> scalar`` added to the loss (regularizers)


def hard_labels(targets: torch.Tensor) -> torch.Tensor:
    """Class indices from index or soft (N, K) targets."""
    return targets.argmax(dim=1) if targets.dim() == 2 else targets


class Loss:
    """Base: subclasses define ``__call__``; prediction is argmax of the outputs by default."""

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs.argmax(dim=1)


@LOSSES.register("cross_entropy")
class CrossEntropy(Loss):
    """Softmax normalization with cross-entropy: the baseline output representation."""

    def __init__(self, label_smoothing: float = 0.0):
        self.label_smoothing = float(label_smoothing)

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs.float(), targets, label_smoothing=self.label_smoothing)
