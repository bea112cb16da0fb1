"""Flatten and global average pooling whose gradients keep the input's memory format.

A conv net trained channels_last (the engine's default for conv nets) gets, from autograd's own
backward of ``flatten`` and of ``adaptive_avg_pool2d(x, 1)`` (a mean), a *contiguous* gradient,
which the next backward kernel (a pool's or a ReLU's, or the sum with a residual branch's
channels_last gradient) then reads across two layouts, several times slower than across one.
Measured on a 2-core CPU, 2026-12-05, bare: LeNet-5's second max-pool backward 0.35 ms against
0.11 ms, the Caffe quick net's last average-pool backward 1.05 ms against 0.19 ms (inside a
training step they took 1.4-1.9 ms and 2.5 ms); a ResNet-20 residual sum 2.6 ms against 0.21 ms
(bf16, 128x16x32x32). These functions compute the same values as the plain ones and hand the
gradient back in the input's layout; training results are bit-identical (``tests/test_models.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def layout(x: Tensor) -> torch.memory_format:
    """channels_last where ``x`` is stored so and not also contiguous (a 1x1 map is both)."""
    channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    return torch.channels_last if channels_last else torch.contiguous_format


def _plain_backward_suffices(x: Tensor) -> bool:
    """No gradient to hand back, or one that autograd already returns in ``x``'s (contiguous) layout."""
    return not torch.is_grad_enabled() or not x.requires_grad or layout(x) == torch.contiguous_format


class _Flatten(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, start_dim: int, end_dim: int) -> Tensor:
        ctx.shape, ctx.layout = x.shape, layout(x)
        return x.flatten(start_dim, end_dim)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad.reshape(ctx.shape).contiguous(memory_format=ctx.layout), None, None


class Flatten(nn.Flatten):
    """``nn.Flatten`` whose gradient comes back in the input's layout (see the module's docstring)."""

    def forward(self, x: Tensor) -> Tensor:
        if _plain_backward_suffices(x) or self.start_dim != 1 or self.end_dim not in (-1, 3):  # else maybe a view
            return super().forward(x)
        return _Flatten.apply(x, self.start_dim, self.end_dim)


class _GlobalAvgPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        ctx.shape, ctx.layout = x.shape, layout(x)
        return F.adaptive_avg_pool2d(x, 1)

    @staticmethod
    def backward(ctx, grad: Tensor):
        n, c, h, w = ctx.shape  # autograd's mean backward, grad.expand(...) / (h * w), divided before it
        return (grad / (h * w)).expand(n, c, h, w).contiguous(memory_format=ctx.layout)  # is expanded


def global_avg_pool(x: Tensor) -> Tensor:
    """``adaptive_avg_pool2d(x, 1)``, its gradient in ``x``'s layout."""
    if _plain_backward_suffices(x):
        return F.adaptive_avg_pool2d(x, 1)
    return _GlobalAvgPool.apply(x)
