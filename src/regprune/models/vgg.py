"""CIFAR VGG-11/13/16/19 (Simonyan & Zisserman 2015) as in chengyangfu/pytorch-vgg-cifar10.

Configs 'A', 'B', 'D', 'E' of 3x3 convs (padding 1, with bias) -> [BN] -> ReLU and 2x2 max-pools
at 'M', leaving 512x1x1 on a 32x32 input; then ``classifier`` = Dropout(p), Linear(512,512), ReLU,
Dropout(p), Linear(512,512), ReLU, Linear(512,classes).

Init follows that reference code: conv weights normal(0, sqrt(2/n)) with n = kh*kw*C_out, conv
bias 0 (paper 001 says "standard deviation 2/n"; the reference code it trained with uses
sqrt(2/n), i.e. variance 2/n).  Linear layers keep PyTorch's default (Kaiming-uniform) init;
BN layers keep weight 1 bias 0.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from regprune.models.base import register
from regprune.registry import ConfigError

CFGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg: list[int | str], batch_norm: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        layers.append(nn.Conv2d(c_in, v, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        c_in = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features: nn.Sequential, num_classes: int = 10, dropout: float = 0.5):
        super().__init__()
        if not (isinstance(dropout, (int, float)) and 0 <= dropout < 1):
            raise ConfigError(f"dropout={dropout!r} is not allowed; it must be in [0, 1)")
        self.features = features
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(512, 512), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(512, 512), nn.ReLU(inplace=True),
            nn.Linear(512, num_classes),
        )
        for m in self.features.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x).flatten(1))


def _vgg(cfg: str, batch_norm: bool, num_classes: int, dropout: float) -> VGG:
    return VGG(make_layers(CFGS[cfg], batch_norm), num_classes, dropout)


_CIFAR = dict(input_shape=(3, 32, 32), num_classes=10)
_REF = "Simonyan & Zisserman 2015; CIFAR variant of chengyangfu/pytorch-vgg-cifar10"


@register("vgg11", **_CIFAR, paper=f"VGG-11 (config A; {_REF}): 9,750,922 params")
def vgg11(num_classes: int = 10, dropout: float = 0.5) -> VGG:
    return _vgg("A", False, num_classes, dropout)


@register("vgg13", **_CIFAR, paper=f"VGG-13 (config B; {_REF}): 9,935,434 params")
def vgg13(num_classes: int = 10, dropout: float = 0.5) -> VGG:
    return _vgg("B", False, num_classes, dropout)


@register("vgg16", **_CIFAR, paper=f"VGG-16 (config D; {_REF}): 15,245,130 params")
def vgg16(num_classes: int = 10, dropout: float = 0.5) -> VGG:
    return _vgg("D", False, num_classes, dropout)


@register("vgg19", **_CIFAR, paper=f"VGG-19 (config E; {_REF}): 20,554,826 params")
def vgg19(num_classes: int = 10, dropout: float = 0.5) -> VGG:
    return _vgg("E", False, num_classes, dropout)


@register("vgg11_bn", **_CIFAR, paper=f"VGG-11 with batch norm (config A; {_REF}): 9,756,426 params")
def vgg11_bn(num_classes: int = 10, dropout: float = 0.5) -> VGG:
    return _vgg("A", True, num_classes, dropout)


@register("vgg13_bn", **_CIFAR, paper=f"VGG-13 with batch norm (config B; {_REF}): 9,941,322 params")
def vgg13_bn(num_classes: int = 10, dropout: float = 0.5) -> VGG:
    return _vgg("B", True, num_classes, dropout)


@register("vgg16_bn", **_CIFAR, paper=f"VGG-16 with batch norm (config D; {_REF}): 15,253,578 params")
def vgg16_bn(num_classes: int = 10, dropout: float = 0.5) -> VGG:
    return _vgg("D", True, num_classes, dropout)


@register("vgg19_bn", **_CIFAR, paper=f"VGG-19 with batch norm (config E; {_REF}): 20,565,834 params")
def vgg19_bn(num_classes: int = 10, dropout: float = 0.5) -> VGG:
    return _vgg("E", True, num_classes, dropout)
