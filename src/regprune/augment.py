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
