"""CIFAR ResNets of He et al. 2016 (Sec. 4.2) with option-A (parameter-free) shortcuts.

Stem 3x3 conv 3->16 + BN + ReLU, three stages of n=(depth-2)/6 basic blocks at 16/32/64
channels (stride 2 entering stages 2 and 3), global average pool, linear 64->classes.
Convs and linears use Kaiming-normal init as the common reference implementations do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from regprune.models.base import register
from regprune.models.layout import global_avg_pool, layout
from regprune.registry import ConfigError


class _SubsamplePad(torch.autograd.Function):
    """``pad(x[:, :, ::s, ::s])`` over the channels, with a backward that keeps ``x``'s layout.

    Autograd's own backward (two ``slice_backward`` into fresh contiguous zeros) hands a
    channels_last network a contiguous gradient, which then meets the residual branch's
    channels_last one: the sum and the ReLU's backward over two layouts ran ~10x slower than over
    one (see :mod:`regprune.models.layout`; with it, ResNet-20's bf16 step at batch 128 on a 2-core
    CPU is about 8% shorter). The same values, moved the same way: results are bit-identical."""

    @staticmethod
    def forward(ctx, x: Tensor, stride: int, low: int, high: int) -> Tensor:
        ctx.stride, ctx.low, ctx.channels, ctx.shape, ctx.layout = stride, low, x.shape[1], x.shape, layout(x)
        return F.pad(x[:, :, ::stride, ::stride], (0, 0, 0, 0, low, high))

    @staticmethod
    def backward(ctx, grad: Tensor):
        s = ctx.stride
        gx = torch.empty(ctx.shape, dtype=grad.dtype, device=grad.device, memory_format=ctx.layout).zero_()
        gx[:, :, ::s, ::s] = grad[:, ctx.low:ctx.low + ctx.channels]
        return gx, None, None, None


class PadShortcut(nn.Module):
    """Option A: subsample by ``stride`` and zero-pad channels; a module (not a lambda) so the
    model pickles, deep-copies and compiles."""

    def __init__(self, in_planes: int, planes: int, stride: int):
        super().__init__()
        self.stride, self.pad = stride, planes - in_planes

    def forward(self, x: Tensor) -> Tensor:
        return _SubsamplePad.apply(x, self.stride, self.pad // 2, self.pad - self.pad // 2)


class BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        changed = stride != 1 or in_planes != planes
        self.shortcut = PadShortcut(in_planes, planes, stride) if changed else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, depth: int, num_classes: int = 10):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ConfigError(f"depth={depth!r} is not allowed; CIFAR ResNet depth must be 6n+2 (20, 32, ...)")
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._stage(16, 16, n, 1)
        self.layer2 = self._stage(16, 32, n, 2)
        self.layer3 = self._stage(32, 64, n, 2)
        self.linear = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    @staticmethod
    def _stage(in_planes: int, planes: int, n: int, stride: int) -> nn.Sequential:
        return nn.Sequential(BasicBlock(in_planes, planes, stride), *(BasicBlock(planes, planes) for _ in range(n - 1)))

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(global_avg_pool(out).flatten(1))


_CIFAR = dict(input_shape=(3, 32, 32), num_classes=10)


@register("resnet20", **_CIFAR, paper="ResNet-20 (He et al. 2016, CIFAR, option A): 0.27M params, 40.55M conv MACs")
def resnet20(num_classes: int = 10) -> CifarResNet:
    return CifarResNet(20, num_classes)


@register("resnet32", **_CIFAR, paper="ResNet-32 (He et al. 2016, CIFAR, option A): 0.46M params, 68.86M conv MACs")
def resnet32(num_classes: int = 10) -> CifarResNet:
    return CifarResNet(32, num_classes)


@register("resnet44", **_CIFAR, paper="ResNet-44 (He et al. 2016, CIFAR, option A): 0.66M params, 97.17M conv MACs")
def resnet44(num_classes: int = 10) -> CifarResNet:
    return CifarResNet(44, num_classes)


@register("resnet56", **_CIFAR, paper="ResNet-56 (He et al. 2016, CIFAR, option A): 0.85M params, 125.49M conv MACs")
def resnet56(num_classes: int = 10) -> CifarResNet:
    return CifarResNet(56, num_classes)


@register("resnet110", **_CIFAR, paper="ResNet-110 (He et al. 2016, CIFAR, option A): 1.7M params, 252.89M conv MACs")
def resnet110(num_classes: int = 10) -> CifarResNet:
    return CifarResNet(110, num_classes)
