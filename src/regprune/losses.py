"""Loss objects the training engine takes: ``loss(outputs, targets) -> scalar`` plus ``predict``.

Targets are class indices (N,) or soft targets (N, K) such as mixup produces, so every loss
here accepts both. Chapters register further losses (LLR, multiclass hinge) and penalties (regularizers) by name.

A penalty is ``p(model) -> scalar``. One that must see the activations of the current training
forward (``vc_bound``) also has ``attach(model)``, which :func:`regprune.train.fit` calls once
before training so the penalty can put forward hooks on the model.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .layers import weight_layers
from .registry import ConfigError, Registry, check_choice

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


def _nonnegative(param: str, value: Any) -> float:
    """``value`` as a float, or a ConfigError naming ``param`` if it is not a finite number >= 0."""
    v = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    if not (math.isfinite(v) and v >= 0):
        raise ConfigError(f"{param}={value!r} is not allowed; it must be a finite number >= 0")
    return v


@LOSSES.register("multiclass_hinge")
class MulticlassHinge(Loss):
    """Multiclass hinge loss, the data term of paper 003 (Sharma et al.), eq. (16) and (18).

    Per example: ``sum_{j != y} max(0, margin - out_y + out_j)`` (the sum over wrong classes of
    Weston & Watkins; Crammer & Singer take the max instead), averaged over the batch.
    The paper uses it following Tang (2013), who reports hinge beating softmax. Sign: we take
    eq. (18)'s ``max(0, 1 - net_y + net_j)``; eq. (16) prints ``1 - net_j + net_y``, which would
    penalize a *correct* margin and is a typo. Scale: the paper sums over the M training
    examples; we average over the batch, as the other losses here do (see ``vc_bound`` for what
    that means for its C and D). ``margin`` is the paper's 1. Soft (N, K) targets are reduced to their argmax label (a hinge has no soft form).
    """

    def __init__(self, margin: float = 1.0):
        self.margin = _nonnegative("loss.margin", margin)

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        out = outputs.float()
        y = hard_labels(targets).long().unsqueeze(1)
        per_class = (self.margin - out.gather(1, y) + out).clamp_min(0)
        return per_class.scatter(1, y, 0.0).sum(1).mean()


VC_LAYERS = ("last", "all")
VC_WEIGHT_TERMS = ("none", "l2", "l1")
VC_REDUCTIONS = ("mean", "sum")


@PENALTIES.register("vc_bound")
class VCBound:
    """The data-dependent VC-bound regularizer of paper 003 (Sharma et al.), eqs. (15)-(18).

    Minimizing an upper bound on the VC dimension of a (fat-margin) classifier gives, per layer,
    ``(D/2) sum_i sum_j a_ij^2``: the squared pre-activations ``a = w^T z + b`` pushed towards 0
    ("a least-squares problem with all targets 0", Section 3.2), which makes ReLU units inactive
    and so sparsifies the net. ``layers="last"``: only the output scores ``net_j`` (eq. 16, the
    paper's LCL); ``layers="all"``: the outputs of every Linear/Conv layer (eq. 18, LCA). A conv
    layer's pre-activations are all its output entries (channels x positions).

    Pre-activations of the current training forward are caught by forward hooks that
    :meth:`attach` puts on those layers (the training engine calls it before training). They
    are stored only while ``module.training and torch.is_grad_enabled()``, so evaluation keeps
    nothing; each call of the penalty consumes what was stored, and the start of every training
    forward of the whole model drops anything left over, so at most one forward is held.

    ``weight_term`` adds the weight part of the bound over *every* Linear/Conv weight, whatever
    ``layers`` is (eq. 18 puts ``C/2 ||w||^2`` on all layers; the experiments write W2/W1 as a
    term of its own): ``"l2"`` -> ``(C/2) sum ||w||_2^2`` (W2), ``"l1"`` -> ``C sum ||w||_1``
    (W1; the paper names W1 but gives no formula, so no 1/2), ``"none"`` -> nothing. Biases are
    not included: the bound (15) is on ``w`` of the hyperplane ``w^T x + b``, with ``b`` apart.

    ``reduction`` of the data term over the batch: eq. (18) sums hinge and data term over all
    M training examples but has the weight term once. Dividing it by M gives the batch-mean
    ``multiclass_hinge`` + ``(D/2) mean_i sum_j a_ij^2`` (``reduction="mean"``, default) + the
    weight term with ``C/M``: so with "mean", D is the paper's D and C is the paper's C / M.
    ``"sum"`` sums the data term over the batch instead. The paper does not say how its
    TensorFlow/Caffe code scaled the terms per batch; it tunes C in [1e-4, 1e-1] and D in
    [1e-8, 1e-4] in factors of 10 (Section 5.1).
    """

    def __init__(self, D: float = 0.0, C: float = 0.0, layers: str = "last", weight_term: str = "none",
                 reduction: str = "mean"):
        self.D = _nonnegative("vc_bound.D", D)
        self.C = _nonnegative("vc_bound.C", C)
        self.layers = check_choice("vc_bound.layers", layers, VC_LAYERS)
        self.weight_term = check_choice("vc_bound.weight_term", weight_term, VC_WEIGHT_TERMS)
        self.reduction = check_choice("vc_bound.reduction", reduction, VC_REDUCTIONS)
        if self.weight_term == "none" and self.C > 0:
            raise ConfigError(f"vc_bound.C={C!r} has no effect with weight_term='none'; "
                              "set weight_term to 'l2' or 'l1', or C to 0")
        self._model: nn.Module | None = None
        self._handles: list[Any] = []
        self._stored: list[torch.Tensor] = []

    def attach(self, model: nn.Module) -> None:
        """Hook the layers whose pre-activations enter the bound (replacing any earlier hooks)."""
        self.detach()
        layers = list(weight_layers(model).values())
        if not layers:
            raise ConfigError("vc_bound needs a model with Linear or Conv layers; this one has none")
        watched = layers[-1:] if self.layers == "last" else layers  # "last": the last registered layer
        self._model = model
        self._handles = [m.register_forward_hook(self._store) for m in watched]
        self._handles.append(model.register_forward_pre_hook(self._new_forward))

    def detach(self) -> None:
        """Remove the hooks and drop whatever was stored."""
        for h in self._handles:
            h.remove()
        self._handles, self._stored, self._model = [], [], None

    @staticmethod
    def _recording(module: nn.Module) -> bool:
        return module.training and torch.is_grad_enabled()

    def _new_forward(self, module: nn.Module, args: Any) -> None:
        if self._recording(module):
            self._stored = []

    def _store(self, module: nn.Module, args: Any, output: torch.Tensor) -> None:
        if self.D > 0 and self._recording(module):
            self._stored.append(output)

    def data_term(self) -> torch.Tensor:
        """``(D/2) * sum of squared stored pre-activations`` (batch mean or sum); consumes them."""
        stored, self._stored = self._stored, []
        terms = [a.float().pow(2).sum() / (max(a.shape[0], 1) if self.reduction == "mean" else 1) for a in stored]
        return 0.5 * self.D * torch.stack(terms).sum() if terms else torch.zeros(())

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles (e.g. of a model that carries these hooks) leave stored tensors behind."""
        return {**self.__dict__, "_stored": []}

    def weight_penalty(self, model: nn.Module) -> torch.Tensor:
        """``(C/2) sum ||w||^2`` or ``C sum |w|`` over the Linear/Conv weights (no biases)."""
        weights = [m.weight for m in weight_layers(model).values()]
        if self.weight_term == "none" or self.C == 0 or not weights:
            return torch.zeros((), device=weights[0].device if weights else None)
        if self.weight_term == "l2":
            return 0.5 * self.C * sum(w.float().pow(2).sum() for w in weights)
        return self.C * sum(w.float().abs().sum() for w in weights)

    def __call__(self, model: nn.Module) -> torch.Tensor:
        if self.D > 0 and self._model is None:
            raise RuntimeError("vc_bound: call attach(model) before training (regprune.train.fit does)")
        if self._model is not None and model is not self._model:
            raise RuntimeError("vc_bound: called with another model than the one it is attached to")
        weight = self.weight_penalty(model)
        return self.data_term().to(weight.device) + weight
