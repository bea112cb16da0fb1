"""CIFAR DenseNet-BC of Huang et al. 2017 (bottleneck layers + compression).

Stem 3x3 conv 3->2k, three dense blocks of n bottleneck layers (BN-ReLU-conv1x1 to 4k,
BN-ReLU-conv3x3 to k, output concatenated to the input), a transition between blocks
(BN-ReLU-conv1x1 to floor(compression*C), 2x2 average pool), then BN-ReLU, global average
pool and linear C->classes.  Convs have no bias.  Init follows the authors' Lua code:
conv weights Kaiming normal with fan-out (std sqrt(2 / (kh*kw*C_out))), BN weight 1 bias 0,
linear bias 0 (its weight keeps the framework default).

n = (depth - 4) // 6 as in the authors' code and the common PyTorch port ((depth-4)/3 dense
layers per block, halved for bottleneck nets), so a net has 6n+4 weighted layers.  Depth 60 is
not of that form: ``densenet60`` gets n=9 and has 58 weighted layers; the paper under
reproduction calls it DenseNet-60 and we follow the common floor convention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from regprune.models.base import init_reference, register
from regprune.models.layout import global_avg_pool
from regprune.registry import ConfigError


class Bottleneck(nn.Module):
    """BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3(k); returns ``cat([x, out])``.  ``drop_rate``
    applies dropout after each conv, as the paper does when training without augmentation."""

    def __init__(self, in_planes: int, growth_rate: int, drop_rate: float = 0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, 4 * growth_rate, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth_rate)
        self.conv2 = nn.Conv2d(4 * growth_rate, growth_rate, 3, 1, 1, bias=False)
        self.drop_rate = drop_rate

    def forward(self, x: Tensor) -> Tensor:
        out = F.dropout(self.conv1(F.relu(self.bn1(x))), self.drop_rate, self.training)
        out = F.dropout(self.conv2(F.relu(self.bn2(out))), self.drop_rate, self.training)
        return torch.cat([x, out], 1)


class Transition(nn.Module):
    """BN-ReLU-conv1x1-avgpool2x2 between dense blocks."""

    def __init__(self, in_planes: int, out_planes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_planes)
        self.conv = nn.Conv2d(in_planes, out_planes, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNetBC(nn.Module):
    def __init__(self, depth: int, growth_rate: int = 12, compression: float = 0.5, num_classes: int = 10,
                 drop_rate: float = 0.0):
        super().__init__()
        n = (depth - 4) // 6
        if n < 1:
            raise ConfigError(f"depth={depth!r} is not allowed; DenseNet-BC depth must be at least 10 (6n+4)")
        if not 0 < compression <= 1:
            raise ConfigError(f"compression={compression!r} is not allowed; it must be in (0, 1]")
        k = growth_rate
        c = 2 * k
        self.conv1 = nn.Conv2d(3, c, 3, 1, 1, bias=False)
        self.block1, c = self._block(c, k, n, drop_rate)
        self.trans1 = Transition(c, int(c * compression))
        c = int(c * compression)
        self.block2, c = self._block(c, k, n, drop_rate)
        self.trans2 = Transition(c, int(c * compression))
        c = int(c * compression)
        self.block3, c = self._block(c, k, n, drop_rate)
        self.bn = nn.BatchNorm2d(c)
        self.linear = nn.Linear(c, num_classes)
        init_reference(self)

    @staticmethod
    def _block(in_planes: int, k: int, n: int, drop_rate: float) -> tuple[nn.Sequential, int]:
        layers = nn.Sequential(*(Bottleneck(in_planes + i * k, k, drop_rate) for i in range(n)))
        return layers, in_planes + n * k

    def forward(self, x: Tensor) -> Tensor:
        out = self.trans1(self.block1(self.conv1(x)))
        out = self.block3(self.trans2(self.block2(out)))
        out = F.relu(self.bn(out))
        return self.linear(global_avg_pool(out).flatten(1))


_CIFAR = dict(input_shape=(3, 32, 32), num_classes=10)


@register("densenet40", **_CIFAR, paper="DenseNet-BC-40 (Huang et al. 2017, CIFAR, k=12, n=6): 0.18M params")
def densenet40(num_classes: int = 10, growth_rate: int = 12, compression: float = 0.5,
               drop_rate: float = 0.0) -> DenseNetBC:
    return DenseNetBC(40, growth_rate, compression, num_classes, drop_rate)


@register("densenet60", **_CIFAR,
          paper="DenseNet-BC-60 (Huang et al. 2017, CIFAR, k=12, n=(60-4)//6=9, 58 weighted layers): 0.31M params")
def densenet60(num_classes: int = 10, growth_rate: int = 12, compression: float = 0.5,
               drop_rate: float = 0.0) -> DenseNetBC:
    return DenseNetBC(60, growth_rate, compression, num_classes, drop_rate)


@register("densenet100", **_CIFAR, paper="DenseNet-BC-100 (Huang et al. 2017, CIFAR, k=12, n=16): 0.8M params")
def densenet100(num_classes: int = 10, growth_rate: int = 12, compression: float = 0.5,
                drop_rate: float = 0.0) -> DenseNetBC:
    return DenseNetBC(100, growth_rate, compression, num_classes, drop_rate)
