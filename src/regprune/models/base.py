"""What every model family module builds on: the registry it registers in, and the init of
the authors' code that several families share. Below the package, so a family module and the
package that lists the families do not import each other."""

from __future__ import annotations

from typing import Callable

from torch import nn

from regprune.registry import Registry

MODELS = Registry("model")


def register(name: str, *, input_shape: tuple[int, ...], num_classes: int, paper: str) -> Callable:
    """Decorator: add a builder with the metadata that `build`, `input_shape` and reports use."""
    return MODELS.register(name, input_shape=tuple(input_shape), num_classes=num_classes, paper=paper)


def init_reference(model: nn.Module) -> None:
    """The init of the DenseNet and WRN authors' code: Kaiming-normal (fan-out) convs, batch norm
    at weight 1 and bias 0, linear biases 0 (linear weights keep PyTorch's default)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
