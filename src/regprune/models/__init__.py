"""Model registry: run configs name a model; its default input shape and class count travel with it.

A family module registers each builder with a one-liner (``register`` of :mod:`regprune.models.base`)::

    @register("lenet300", input_shape=(1, 28, 28), num_classes=10, paper="...")
    def lenet300(num_classes=10): ...

Builders take ``num_classes`` plus their own keyword arguments.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from regprune.layers import LAYER_TYPES
from regprune.models import densenet, fnn, lenet, mobilenet, quicknet, resnet, resnet_cifar, vgg, wrn  # noqa: F401  (they register)
from regprune.models.base import MODELS, init_reference, register  # noqa: F401  (the public names)
from regprune.registry import check_choice

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
