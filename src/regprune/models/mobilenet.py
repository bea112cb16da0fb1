"""CIFAR MobileNet-V1 (Howard et al. 2017) in the layout of kuangliu/pytorch-cifar.

Stem 3x3 conv 3->32 stride 1 (no bias) + BN + ReLU, then 13 depthwise-separable blocks, each a
depthwise 3x3 conv (groups = input channels, padding 1, no bias) + BN + ReLU followed by a
pointwise 1x1 conv (no bias) + BN + ReLU, with (out channels, stride) = 64,1; 128,2; 128,1;
256,2; 256,1; 512,2; 512,1 x5; 1024,2; 1024,1 (the stride sits on the depthwise conv), leaving
1024x2x2 on a 32x32 input; then global average pool and ``classifier`` = Linear(1024, classes).
Unlike the ImageNet network the stem has stride 1, so the four stride-2 blocks alone take
32x32 to 2x2.

``width_mult`` is the paper's width multiplier alpha: every channel count c (stem included)
becomes max(8, int(c * width_mult)).  Init as ``init_reference``: convs Kaiming-normal (fan_out,
relu), BN weight 1 bias 0, linear bias 0.

Paper 002 (Switcher NN) reports results on a MobileNet-V1 but gives no details of it; this
standard CIFAR layout is our reading.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from regprune.models.base import init_reference, register
from regprune.models.layout import global_avg_pool
from regprune.registry import ConfigError

# (out channels, stride) of the 13 depthwise-separable blocks.
CFG: list[tuple[int, int]] = [
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
]
STEM = 32


def _width(c: int, width_mult: float) -> int:
    return max(8, int(c * width_mult))


class DepthwiseSeparable(nn.Module):
    """Depthwise 3x3 conv + BN + ReLU, then pointwise 1x1 conv + BN + ReLU."""

    def __init__(self, in_planes: int, out_planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, in_planes, 3, stride, 1, groups=in_planes, bias=False)
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv2 = nn.Conv2d(in_planes, out_planes, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)))


class MobileNetV1(nn.Module):
    def __init__(self, num_classes: int = 10, width_mult: float = 1.0):
        super().__init__()
        if (isinstance(width_mult, bool) or not isinstance(width_mult, (int, float))
                or not math.isfinite(width_mult) or width_mult <= 0):
            raise ConfigError(f"width_mult={width_mult!r} is not allowed; "
                              "it must be a finite number > 0 (e.g. 0.25, 0.5, 1.0)")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ConfigError(f"num_classes={num_classes!r} is not allowed; it must be a positive integer")
        self.width_mult = width_mult
        c_in = _width(STEM, width_mult)
        self.conv1 = nn.Conv2d(3, c_in, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        blocks = []
        for c, s in CFG:
            c_out = _width(c, width_mult)
            blocks.append(DepthwiseSeparable(c_in, c_out, s))
            c_in = c_out
        self.layers = nn.Sequential(*blocks)
        self.classifier = nn.Linear(c_in, num_classes)
        init_reference(self)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        return self.classifier(global_avg_pool(out).flatten(1))


_CIFAR = dict(input_shape=(3, 32, 32), num_classes=10)


@register("mobilenet_v1", **_CIFAR,
          paper="MobileNet-V1 (Howard et al. 2017; CIFAR variant of kuangliu/pytorch-cifar, "
                "width 1.0): 3,217,226 params")
def mobilenet_v1(num_classes: int = 10, width_mult: float = 1.0) -> MobileNetV1:
    return MobileNetV1(num_classes, width_mult)
