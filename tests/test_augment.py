"""Batch transforms: shapes, seeded determinism, and that crops/flips are what they claim."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from regprune import augment as A
from regprune.registry import ConfigError


def _batch(n: int = 16, c: int = 3, h: int = 32, w: int = 32):
    g = torch.Generator().manual_seed(123)
    return torch.randn(n, c, h, w, generator=g), torch.arange(n)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_shape_and_labels_pass_through():
    x, y = _batch()
    out, y2 = A.RandomCropFlip()(x, y, _gen(0))
    assert out.shape == x.shape and out.dtype == x.dtype and y2 is y
    soft = torch.softmax(torch.randn(16, 10), 1)  # later transforms may hand on soft targets
    assert A.RandomCropFlip()(x, soft, _gen(0))[1] is soft


def test_seeded_determinism_and_resume():
    x, y = _batch()
    t = A.RandomCropFlip()
    a, _ = t(x, y, _gen(0))
    assert torch.equal(a, t(x, y, _gen(0))[0])
    assert not torch.equal(a, t(x, y, _gen(1))[0])
    g = _gen(5)
    t(x, y, g)
    state = g.get_state()
    second, _ = t(x, y, g)
    g.set_state(state)  # a resumed run replays the same augmentation
    assert torch.equal(second, t(x, y, g)[0])


def test_no_padding_no_flip_is_identity():
    x, y = _batch()
    assert torch.equal(A.RandomCropFlip(padding=0, flip=False)(x, y, _gen(0))[0], x)


def test_flip_only_flips_whole_images():
    x, y = _batch(64)
    out, _ = A.RandomCropFlip(padding=0, flip=True)(x, y, _gen(0))
    same = (out == x).flatten(1).all(1)
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    assert bool((same ^ flipped).all())  # each image is exactly one of the two
    assert 16 < int(flipped.sum()) < 48  # p = 0.5 per image


@pytest.mark.parametrize("pad_mode", ["zeros", "reflect"])
@pytest.mark.parametrize("flip", [False, True])
def test_crops_are_windows_of_the_padded_image(pad_mode, flip):
    x, y = _batch(12, 3, 10, 12)
    p = 3
    out, _ = A.RandomCropFlip(padding=p, flip=flip, pad_mode=pad_mode)(x, y, _gen(2))
    padded = F.pad(x, (p, p, p, p), mode="constant" if pad_mode == "zeros" else "reflect")
    offsets = set()
    for i in range(len(x)):
        hits = [(dy, dx) for dy in range(2 * p + 1) for dx in range(2 * p + 1)
                if any(torch.equal(out[i], win) for win in
                       ([padded[i, :, dy:dy + 10, dx:dx + 12]] +
                        ([padded[i, :, dy:dy + 10, dx:dx + 12].flip(-1)] if flip else [])))]
        assert hits, f"image {i} is not a (flipped) window of its padded version"
        offsets.add(hits[0])
    assert len(offsets) > 3 and any(dy != dx for dy, dx in offsets)  # drawn per image and per axis


def test_build_and_compose():
    x, y = _batch(4)
    assert torch.equal(A.build(None)(x, y, _gen(0))[0], x)
    assert torch.equal(A.build([])(x, y, _gen(0))[0], x)
    t = A.build({"name": "random_crop_flip", "padding": 2})
    assert isinstance(t, A.RandomCropFlip) and t.padding == 2
    two = A.build(["random_crop_flip", {"name": "random_crop_flip", "padding": 0, "flip": False}])
    assert isinstance(two, A.Compose)
    assert torch.equal(two(x, y, _gen(7))[0], A.RandomCropFlip()(x, y, _gen(7))[0])
    assert {"identity", "random_crop_flip", "compose"} <= set(A.TRANSFORMS.names())


def test_bad_arguments():
    with pytest.raises(ConfigError, match="pad_mode"):
        A.RandomCropFlip(pad_mode="edge")
    with pytest.raises(ConfigError, match="padding"):
        A.RandomCropFlip(padding=-1)
    with pytest.raises(ConfigError, match="transform"):
        A.build("mixup_typo")
    with pytest.raises(ConfigError, match="N, C, H, W"):
        A.RandomCropFlip()(torch.zeros(4, 10), torch.zeros(4), _gen(0))
