"""Wide ResNets of Zagoruyko & Komodakis 2016 for CIFAR (WRN-depth-k).

Depth 6n+4: stem 3x3 conv 3->16, three stages of n pre-activation basic blocks at 16k/32k/64k
channels (stride 2 entering stages 2 and 3), final BN-ReLU, global average pool, linear.  A block
is BN-ReLU-conv3x3-BN-ReLU-[dropout]-conv3x3; where the shape changes the shortcut is a 1x1 conv
applied to the block's pre-activated input, as in the authors' code.  Convs have no bias.
Init as the authors' reference: convs Kaiming-normal (fan_out, relu), BN weight 1 bias 0,
linear bias 0 (its weight keeps the framework default).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from regprune.models.base import init_reference, register
from regprune.models.layout import global_avg_pool
from regprune.registry import ConfigError


class WideBasic(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int = 1, dropout: float = 0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.dropout = dropout
        changed = stride != 1 or in_planes != planes
        self.shortcut = nn.Conv2d(in_planes, planes, 1, stride, bias=False) if changed else None

    def forward(self, x: Tensor) -> Tensor:
        o1 = F.relu(self.bn1(x))
        out = F.relu(self.bn2(self.conv1(o1)))
        out = self.conv2(F.dropout(out, self.dropout, self.training))
        return out + (x if self.shortcut is None else self.shortcut(o1))


class WideResNet(nn.Module):
    def __init__(self, depth: int = 28, widen_factor: int = 10, dropout: float = 0.3, num_classes: int = 10):
        super().__init__()
        if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
            raise ConfigError(f"depth={depth!r} is not allowed; WRN depth must be 6n+4 with n >= 1 (10, 16, 22, 28, ...)")
        if not isinstance(widen_factor, int) or widen_factor < 1:
            raise ConfigError(f"widen_factor={widen_factor!r} is not allowed; it must be a positive integer")
        if not (isinstance(dropout, (int, float)) and 0 <= dropout < 1):
            raise ConfigError(f"dropout={dropout!r} is not allowed; it must be in [0, 1)")
        n, k = (depth - 4) // 6, widen_factor
        widths = (16 * k, 32 * k, 64 * k)
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.layer1 = self._stage(16, widths[0], n, 1, dropout)
        self.layer2 = self._stage(widths[0], widths[1], n, 2, dropout)
        self.layer3 = self._stage(widths[1], widths[2], n, 2, dropout)
        self.bn = nn.BatchNorm2d(widths[2])
        self.linear = nn.Linear(widths[2], num_classes)
        init_reference(self)

    @staticmethod
    def _stage(in_planes: int, planes: int, n: int, stride: int, dropout: float) -> nn.Sequential:
        return nn.Sequential(WideBasic(in_planes, planes, stride, dropout),
                             *(WideBasic(planes, planes, 1, dropout) for _ in range(n - 1)))

    def forward(self, x: Tensor) -> Tensor:
        out = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        out = F.relu(self.bn(out))
        return self.linear(global_avg_pool(out).flatten(1))


_CIFAR = dict(input_shape=(3, 32, 32), num_classes=10)


@register("wrn28_10", **_CIFAR, paper="WRN-28-10 (Zagoruyko & Komodakis 2016, CIFAR): 36,479,194 params")
def wrn28_10(num_classes: int = 10, dropout: float = 0.3) -> WideResNet:
    return WideResNet(28, 10, dropout, num_classes)


@register("wrn", **_CIFAR, paper="WRN-depth-k (Zagoruyko & Komodakis 2016, CIFAR); default WRN-28-10: 36,479,194 params")
def wrn(depth: int = 28, widen_factor: int = 10, dropout: float = 0.3, num_classes: int = 10) -> WideResNet:
    return WideResNet(depth, widen_factor, dropout, num_classes)
