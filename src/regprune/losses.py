"""Loss objects the training engine takes: ``loss(outputs, targets) -> scalar`` plus ``predict``.

Targets are class indices (N,) or soft targets (N, K) such as mixup produces, so every loss
here accepts both. Chapters register further losses (LLR, multiclass hinge) and penalties (regularizers) by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .registry import Registry, check_choice

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


@LOSSES.register("llr")
class LogLikelihoodRatio(Loss):
    """The LLR output representation (paper 000): K independent outputs, one per class.

    Output ``L_k`` is read as the log likelihood ratio ``log P(y=k|x) / P(y!=k|x)``, so
    ``P(y=k|x) = sigmoid(L_k)`` with no normalization across classes. Training maximizes
    the K one-vs-rest binary likelihoods on one-hot targets (our reading of the paper's
    "BSP loss"): the per-example loss is ``sum_k BCE(sigmoid(L_k), t_k)``, averaged over the
    batch. ``class_reduction="mean"`` divides it by K instead (a smaller effective lr).
    Prediction is ``argmax_k L_k``. Soft (N, K) targets are used as the binary targets.
    """

    def __init__(self, class_reduction: str = "sum"):
        self.class_reduction = check_choice("loss.class_reduction", class_reduction, ("sum", "mean"))

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if targets.dim() == 1:
            targets = F.one_hot(targets, outputs.shape[1])
        per_class = F.binary_cross_entropy_with_logits(outputs.float(), targets.float(), reduction="none")
        per_example = per_class.sum(1) if self.class_reduction == "sum" else per_class.mean(1)
        return per_example.mean()
