"""Model registry: run configs name a model; its default input shape and class count travel with it.

A family module registers each builder with a one-liner::

    @register("lenet300", input_shape=(1, 28, 28), num_classes=10, paper="...")
    def lenet300(num_classes=10): ...

Builders take ``num_classes`` plus their own keyword arguments.
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from regprune.layers import LAYER_TYPES
from regprune.registry import Registry, check_choice

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


INITS = ("default", "kaiming_normal")


def reinit(model: nn.Module, init: str = "default") -> nn.Module:
    """Re-initialize every conv and linear layer: ``kaiming_normal`` draws weights from
    N(0, 2/fan_in) (He et al. 2015) with zero biases, as papers that say "Kaiming normal" mean;
    ``default`` keeps the family's own init."""
    check_choice("model.init", init, INITS)
    if init == "kaiming_normal":
        for m in model.modules():
            if isinstance(m, LAYER_TYPES):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
    return model


def build(name: str, num_classes: int | None = None, init: str = "default", **kwargs: Any) -> nn.Module:
    """Build a model by name; ``num_classes=None`` means the dataset default it was registered with;
    ``init``: one of :data:`INITS` (see :func:`reinit`)."""
    check_choice("model.init", init, INITS)
    if num_classes is None:
        num_classes = default_num_classes(name)
    return reinit(MODELS.build(name, num_classes=num_classes, **kwargs), init)


def names() -> list[str]:
    return MODELS.names()


def input_shape(name: str) -> tuple[int, ...]:
    """Default (C, H, W) input of one example, e.g. for MAC counting."""
    return MODELS.meta(name)["input_shape"]


def default_num_classes(name: str) -> int:
    return MODELS.meta(name)["num_classes"]


# Family modules register on import; they need `register` above, hence the late import.
from regprune.models import densenet, fnn, lenet, mobilenet, quicknet, resnet, resnet_cifar, vgg, wrn  # noqa: E402,F401
