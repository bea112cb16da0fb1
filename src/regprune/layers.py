"""Which layers methods act on: one definition, so pruning, reparameterizations, quantization,
counting, hooks and penalties all mean the same layers."""

from __future__ import annotations

from torch import nn

LAYER_TYPES = (nn.Conv1d, nn.Conv2d, nn.Linear)


def weight_layers(model: nn.Module, kinds: type | tuple[type, ...] = LAYER_TYPES) -> dict[str, nn.Module]:
    """Layers of ``kinds`` (default: conv and linear) by qualified name, in module order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, kinds)}
