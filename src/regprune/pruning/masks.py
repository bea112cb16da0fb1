"""Magnitude pruning with masks: a :class:`WeightMask` parametrization per layer, so a pruned layer
computes with ``original * mask`` while ``original`` stays a parameter that other
parametrizations compose with; :func:`bake` writes the masked weights back as plain
parameters for inference."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..layers import weight_layers
from ..parametrized import bake  # noqa: F401  (masks bake out like any parametrization)


class WeightMask(nn.Module):
    """Parametrization ``w -> w * mask``: pruned entries stay exactly zero whatever trains."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w * self.mask


@torch.no_grad()
def magnitude_masks(model: nn.Module, thresholds: dict[str, float]) -> dict[str, torch.Tensor]:
    """Keep-masks: True where ``|w| >= threshold`` of the weight's layer."""
    layers = weight_layers(model)
    return {name: layers[name].weight.detach().abs() >= t for name, t in thresholds.items()}


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Register a :class:`WeightMask` on the ``weight`` of each named layer (in place)."""
    layers = weight_layers(model)
    for name, mask in masks.items():
        w = layers[name].weight
        parametrize.register_parametrization(layers[name], "weight", WeightMask(mask.to(w.device, w.dtype)))
    return model


def weight_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The weight tensors of conv and linear layers (their ``original`` when parametrized)."""
    out = []
    for module in weight_layers(model).values():
        if parametrize.is_parametrized(module, "weight"):
            out.append(module.parametrizations.weight.original)
        else:
            out.append(module.weight)
    return out


def non_weight_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """Every parameter that is not a conv/linear weight: biases, batch-norm affine, ..."""
    weights = {id(p) for p in weight_parameters(model)}
    return [(n, p) for n, p in model.named_parameters() if id(p) not in weights]


def prunable_count(model: nn.Module) -> tuple[int, int]:
    """(weights, nonzero weights) of the conv and linear layers, masks applied."""
    total = nonzero = 0
    for module in weight_layers(model).values():
        w = module.weight.detach()
        total += w.numel()
        nonzero += int(torch.count_nonzero(w))
    return total, nonzero
