"""Batch transforms for in-memory training: ``t(x, y, generator) -> (x, y)`` on whole batches.

They run on the batch's device with no per-sample Python loop, and draw all randomness from the
``torch.Generator`` they are given, so a run replays exactly from its seed (and resumes from a
saved generator state). ``y`` is passed through so later transforms (mixup, cutmix) can turn it
into soft targets of shape (N, K); register them in ``TRANSFORMS``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from .registry import ConfigError, Registry, check_choice

Transform = Callable[[torch.Tensor, torch.Tensor, "torch.Generator | None"], "tuple[torch.Tensor, torch.Tensor]"]
TRANSFORMS = Registry("transform")


def _draw(fn: Callable, *args: Any, generator: torch.Generator | None, like: torch.Tensor, **kw: Any) -> torch.Tensor:
    """Draw on the generator's device (a generator only serves its own device), then move to the data."""
    dev = generator.device if generator is not None else like.device
    return fn(*args, generator=generator, device=dev, **kw).to(like.device)


@TRANSFORMS.register("identity")
class Identity:
    """No augmentation (the explicit form of an empty transform list)."""

    def __call__(self, x, y, generator=None):
        return x, y

    def __repr__(self) -> str:
        return "Identity()"


@TRANSFORMS.register("random_crop_flip")
class RandomCropFlip:
    """The standard CIFAR augmentation: pad by ``padding``, take a random HxW crop per image
    (offsets drawn per image) and flip horizontally with p=0.5 per image.

    Data are already normalized when this runs, so ``pad_mode="zeros"`` pads with the dataset
    mean colour (zero after standardization), not black; ``"reflect"`` mirrors the border.
    Crop and flip are one advanced-indexing gather.
    """

    def __init__(self, padding: int = 4, flip: bool = True, pad_mode: str = "zeros"):
        if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
            raise ConfigError(f"padding={padding!r} must be an int >= 0")
        check_choice("pad_mode", pad_mode, ("zeros", "reflect"))
        self.padding, self.flip, self.pad_mode = padding, bool(flip), pad_mode

    def __call__(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None):
        if x.dim() != 4:
            raise ConfigError(f"random_crop_flip needs image batches (N, C, H, W); got shape {tuple(x.shape)}")
        n, c, h, w = x.shape
        p = self.padding
        if p:
            x = F.pad(x, (p, p, p, p), mode="constant" if self.pad_mode == "zeros" else "reflect")
        oy, ox = _draw(torch.randint, 0, 2 * p + 1, (2, n, 1), generator=generator, like=x)
        rows = oy + torch.arange(h, device=x.device)  # (N, H)
        cols = ox + torch.arange(w, device=x.device)  # (N, W)
        if self.flip:
            flipped = _draw(torch.rand, n, 1, generator=generator, like=x) < 0.5
            cols = torch.where(flipped, cols.flip(1), cols)
        ni = torch.arange(n, device=x.device)[:, None, None, None]
        ci = torch.arange(c, device=x.device)[None, :, None, None]
        return x[ni, ci, rows[:, None, :, None], cols[:, None, None, :]], y

    def __repr__(self) -> str:
        return f"RandomCropFlip(padding={self.padding}, flip={self.flip}, pad_mode={self.pad_mode!r})"


def _positive_int(param: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{param}={value!r} is not allowed; it must be an int >= 1")
    return value


@TRANSFORMS.register("mixup")
class Mixup:
    """mixup (Zhang et al. 2018): train on ``lam * x_i + (1 - lam) * x_j`` with the same mix
    of the one-hot labels, ``lam ~ Beta(alpha, alpha)``; paper 004 uses alpha = 1 (uniform).

    One ``lam`` per batch, and a random permutation of the batch picks each example's
    partner, as in Zhang et al.'s reference code (``mixup-cifar10``) and in paper 004's own
    code; per-sample ``lam`` is a variant neither of them uses. Draws, in this order, from the
    run's generator: two Gamma(alpha) variates ``g`` (float64; ``lam = g0 / (g0 + g1)`` is
    Beta(alpha, alpha) distributed) and ``torch.randperm(N)``, both on the generator's device,
    so a run replays from its seed without a host sync.

    Targets become soft (N, K) float targets, which the engine's losses accept
    (``CrossEntropy`` of the mixed one-hot equals ``lam * CE(y_i) + (1 - lam) * CE(y_j)``,
    the loss of the reference code) and whose argmax the engine reads as training accuracy.
    Hard labels need ``num_classes``: :func:`bind_num_classes` sets it from the data set
    when a run config leaves it out; soft targets (N, K) are mixed as they are.
    """

    def __init__(self, alpha: float = 1.0, num_classes: int | None = None):
        try:
            a = float(alpha)
        except (TypeError, ValueError):
            a = float("nan")
        if isinstance(alpha, bool) or not (a > 0 and a < float("inf")):
            raise ConfigError(f"mixup.alpha={alpha!r} is not allowed; it must be a finite number > 0")
        self.alpha = a
        self.num_classes = None if num_classes is None else _positive_int("mixup.num_classes", num_classes)

    def draw(self, n: int, generator: torch.Generator | None, like: torch.Tensor):
        """``(lam, perm)``: lam a 0-dim float64 tensor on ``like``'s device, perm a LongTensor (n,)."""
        dev = generator.device if generator is not None else like.device
        g = torch._standard_gamma(torch.full((2,), self.alpha, dtype=torch.float64, device=dev), generator=generator)
        s = g.sum()
        lam = torch.where(s > 0, g[0] / s, torch.full_like(s, 0.5))  # both underflow only for alpha << 0.01
        perm = torch.randperm(n, generator=generator, device=dev)
        return lam.to(like.device), perm.to(like.device)

    def soft_targets(self, y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        if y.dim() == 2:
            if self.num_classes is not None and y.shape[1] != self.num_classes:
                raise ConfigError(f"mixup.num_classes={self.num_classes} but the targets have {y.shape[1]} columns")
            return y.to(dtype)
        if y.dim() != 1:
            raise ConfigError(f"mixup needs targets (N,) or (N, K); got shape {tuple(y.shape)}")
        if self.num_classes is None:
            raise ConfigError("mixup.num_classes is not set: give it in the transform spec "
                              "(a run config gets it from the data set)")
        return F.one_hot(y.long(), self.num_classes).to(dtype)

    def __call__(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None):
        if len(x) != len(y):
            raise ConfigError(f"mixup: {len(x)} inputs but {len(y)} targets")
        t = self.soft_targets(y, x.dtype if x.is_floating_point() else torch.float32)
        lam, perm = self.draw(len(x), generator, x)
        lx, lt = lam.to(x.dtype), lam.to(t.dtype)
        return lx * x + (1 - lx) * x[perm], lt * t + (1 - lt) * t[perm]

    def __repr__(self) -> str:
        return f"Mixup(alpha={self.alpha}, num_classes={self.num_classes})"


@TRANSFORMS.register("cutout")
class Cutout:
    """Cutout (DeVries & Taylor 2017): zero one ``size`` x ``size`` square per image, all
    channels, centre drawn uniformly over the image (one row and one column per image), so
    squares near a border are clipped and zero fewer pixels, as in the authors' code.

    Rows ``cy - size // 2`` to ``cy - size // 2 + size - 1`` (likewise columns): for even
    sizes (paper 004 and DeVries & Taylor use 16 on CIFAR-10) these are exactly the authors'
    ``[cy - size/2, cy + size/2)``; for odd sizes their code zeroes ``size - 1`` rows, this
    one ``size``. Data here are already standardized, so zero is the dataset mean colour, as
    in their code, which applies cutout after ``Normalize``. Draws from the run's generator
    ``torch.randint(0, H, (N, 1))`` (centre rows), then ``torch.randint(0, W, (N, 1))``
    (centre columns). Labels pass through.
    """

    def __init__(self, size: int = 16):
        self.size = _positive_int("cutout.size", size)

    def __call__(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None):
        if x.dim() != 4:
            raise ConfigError(f"cutout needs image batches (N, C, H, W); got shape {tuple(x.shape)}")
        n, _, h, w = x.shape
        cy = _draw(torch.randint, 0, h, (n, 1), generator=generator, like=x)
        cx = _draw(torch.randint, 0, w, (n, 1), generator=generator, like=x)
        r0, c0 = cy - self.size // 2, cx - self.size // 2
        rows = torch.arange(h, device=x.device)
        cols = torch.arange(w, device=x.device)
        in_rows = (rows >= r0) & (rows < r0 + self.size)  # (N, H)
        in_cols = (cols >= c0) & (cols < c0 + self.size)  # (N, W)
        hole = in_rows[:, None, :, None] & in_cols[:, None, None, :]
        return x.masked_fill(hole, 0), y

    def __repr__(self) -> str:
        return f"Cutout(size={self.size})"


@TRANSFORMS.register("compose")
class Compose:
    """Apply transforms in order, all drawing from the same generator."""

    def __init__(self, transforms: Sequence[Transform | str | dict] = ()):
        self.transforms = [t if callable(t) else TRANSFORMS.build_spec(t) for t in transforms]

    def __call__(self, x, y, generator=None):
        for t in self.transforms:
            x, y = t(x, y, generator)
        return x, y

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


def build(spec: str | dict | Sequence | None) -> Transform:
    """A transform from a config value: None or [] (none), "name", {"name": ..., **kw}, or a list of those."""
    if spec is None:
        return Identity()
    if isinstance(spec, (list, tuple)):
        return Compose(spec)
    return TRANSFORMS.build_spec(spec)


def bind_num_classes(transforms: Any, num_classes: int) -> None:
    """Give the data set's class count to every transform (also inside ``compose``) that
    needs one and was built without it (mixup turns hard labels into (N, K) targets)."""
    items = transforms if isinstance(transforms, (list, tuple)) else [transforms]
    for t in items:
        if isinstance(t, Compose):
            bind_num_classes(t.transforms, num_classes)
        elif getattr(t, "num_classes", 0) is None:
            t.num_classes = int(num_classes)
