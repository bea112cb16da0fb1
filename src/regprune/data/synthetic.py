"""Learnable synthetic stand-ins with MNIST and CIFAR shapes: the data of the smoke profile and the tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import ConfigError, check_choice
from .arrays import ArrayDataset
from .normalize import NORMALIZE, SHAPES, to_float

# Clutter strength per shape: nearest-class-mean test accuracy ~0.75 (mnist), ~0.95 (cifar). From scratch,
# LeNet-5 reaches ~0.75 on synthetic-mnist in 4 epochs, ResNet-20 ~0.6-0.75 on synthetic-cifar10 in 6-8.
_SYN_NOISE = {"mnist": 1.2, "cifar10": 1.5, "cifar100": 1.5}


def synthetic(shape_of: str = "mnist", n_train: int = 1024, n_test: int = 256, seed: int = 0, *,
              normalize: str = "standardize", noise: float | None = None, max_shift: int = 2):
    """A learnable stand-in with MNIST/CIFAR shapes, quantized to uint8 like real images.

    Each class has one smooth random prototype; a sample is its prototype shifted by up to
    ``max_shift`` pixels, plus smooth random clutter of strength ``noise`` (default per shape,
    set so small CNNs learn it in a few epochs without it being trivial) and mild pixel noise.
    Classes are balanced. The same ``seed`` gives the same prototypes and samples; train and
    test use separate streams, so ``n_train`` does not change the test set.
    Returns (train, test).
    """
    check_choice("shape_of", shape_of, SHAPES)
    check_choice("normalize", normalize, NORMALIZE)
    for p, v, lo in (("n_train", n_train, 1), ("n_test", n_test, 1), ("max_shift", max_shift, 0)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise ConfigError(f"{p}={v!r} must be an int >= {lo}")
    noise = _SYN_NOISE[shape_of] if noise is None else float(noise)
    (c, h, w), k = SHAPES[shape_of]
    s = max_shift

    def smooth(n: int, g: torch.Generator, size: tuple[int, int]) -> torch.Tensor:
        """Random fields with structure ~5 pixels wide, unit variance per image."""
        z = F.interpolate(torch.randn(n, c, 6, 6, generator=g), size=size, mode="bicubic", align_corners=False)
        return (z - z.mean((1, 2, 3), keepdim=True)) / z.std((1, 2, 3), keepdim=True)

    protos = smooth(k, torch.Generator().manual_seed(seed), (h + 2 * s, w + 2 * s))

    def draw(n: int, stream: int) -> ArrayDataset:
        gs = torch.Generator().manual_seed(seed * 1_000_003 + stream)
        y = (torch.arange(n) % k)[torch.randperm(n, generator=gs)]
        oy, ox = torch.randint(0, 2 * s + 1, (2, n, 1), generator=gs)
        rows, cols = oy + torch.arange(h), ox + torch.arange(w)
        z = protos[y[:, None, None, None], torch.arange(c)[None, :, None, None], rows[:, None, :, None],
                   cols[:, None, None, :]]
        z = z + noise * smooth(n, gs, (h, w)) + 0.5 * torch.randn(n, c, h, w, generator=gs)
        # MNIST-like: dark background with bright strokes; CIFAR-like: mid-grey colour fields.
        u = (0.45 * (z - 0.9)).clamp(0, 1) if shape_of == "mnist" else torch.sigmoid(0.9 * z)
        x, _ = to_float((u * 255).round().to(torch.uint8), normalize, shape_of)
        return ArrayDataset(x, y, k, f"synthetic-{shape_of}")

    return draw(n_train, 1), draw(n_test, 2)

