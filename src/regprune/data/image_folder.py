"""User-supplied image folders (TinyImageNet and ImageNet-style class folders), held in memory."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..paths import data_root
from ..registry import ConfigError, check_choice
from .arrays import ArrayDataset, DataError
from .normalize import NORMALIZE, channel_stats, to_float

_IMAGE_EXTS = (".jpg", ".jpeg", ".png")  # compared lower-cased, so .JPEG (TinyImageNet) counts
_TINY_ANNOTATIONS = "val_annotations.txt"
_TINY_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_image_folder_args(download: bool = False, path: Any = None, size: Any = 64, train_dir: Any = "train",
                             test_dir: Any = "val", limit_per_class: Any = None) -> None:
    """The ``image_folder`` settings, checked without touching the disk."""
    if download:
        raise ConfigError(
            "download=True is not possible for image_folder: it reads a folder you supply. Get and unpack the "
            f"data set yourself (TinyImageNet: {_TINY_URL}) and pass path=<that folder>")
    if path is None or path == "":
        raise ConfigError("image_folder needs path=<data set folder> holding <train_dir>/<class>/*.jpg|png and "
                          "<test_dir>/ (a relative path is taken under the data root)")
    if not isinstance(path, (str, Path)):
        raise ConfigError(f"path={path!r} must be a str: the data set folder")
    if not _is_int(size) or size < 1:
        raise ConfigError(f"size={size!r} must be an int >= 1 (images are resized to size x size; TinyImageNet: 64)")
    for param, v in (("train_dir", train_dir), ("test_dir", test_dir)):
        if not isinstance(v, str) or not v:
            raise ConfigError(f"{param}={v!r} must be a non-empty folder name under path")
    if limit_per_class is not None and (not _is_int(limit_per_class) or limit_per_class < 1):
        raise ConfigError(f"limit_per_class={limit_per_class!r} must be None or an int >= 1")


def _image_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder`` (hidden ones skipped), sorted by name."""
    with os.scandir(folder) as it:
        names = [e.name for e in it if e.is_file() and not e.name.startswith(".")
                 and os.path.splitext(e.name)[1].lower() in _IMAGE_EXTS]
    return [folder / n for n in sorted(names)]


def _class_images(folder: Path) -> list[Path]:
    """A class folder's images: those directly in it, else those in its images/ (TinyImageNet train)."""
    files = _image_files(folder)
    if not files and (folder / "images").is_dir():
        files = _image_files(folder / "images")
    if not files:
        raise DataError(f"image_folder: class folder {folder} holds no images (*.jpg, *.jpeg, *.png, directly "
                        "or in an images/ subfolder); remove the folder or put its images there")
    return files


def _subfolders(folder: Path) -> list[str]:
    with os.scandir(folder) as it:
        return sorted(e.name for e in it if e.is_dir() and not e.name.startswith("."))


def _scan_image_folder(base: Path, train_dir: str, test_dir: str, limit: int | None):
    """(classes, train items, test items, layout); an item is (file, class index)."""
    if not base.is_dir():
        raise DataError(f"image_folder: path {base} is not a folder (path=...; a relative path is taken under the "
                        f"data root). Unpack the data set there (TinyImageNet: {_TINY_URL}) or pass its folder.")
    tr, te = base / train_dir, base / test_dir
    if not tr.is_dir():
        raise DataError(f"image_folder: training folder {tr} not found (train_dir={train_dir!r}); expected "
                        f"{tr}/<class>/<images> (or <class>/images/<images> as in TinyImageNet)")
    classes = _subfolders(tr)
    if not classes:
        raise DataError(f"image_folder: training folder {tr} (train_dir={train_dir!r}) has no class subfolders; "
                        f"expected {tr}/<class>/<images>")
    index = {c: i for i, c in enumerate(classes)}
    train = [(f, index[c]) for c in classes for f in _class_images(tr / c)[:limit]]
    if not te.is_dir():
        raise DataError(f"image_folder: test folder {te} not found (test_dir={test_dir!r}); expected "
                        f"{te}/<class>/<images>, or {te}/images/ with {te}/{_TINY_ANNOTATIONS} (TinyImageNet; "
                        "its test/ part has no labels, so use val/)")
    ann = te / _TINY_ANNOTATIONS
    if ann.is_file() and (te / "images").is_dir():
        layout = "tinyimagenet"
        by_class: dict[int, list[str]] = {}
        for i, line in enumerate(ann.read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                raise DataError(f"image_folder: {ann} line {i}: expected 'filename<TAB>class<TAB>...', got {line!r}")
            name, cls = parts[0].strip(), parts[1].strip()
            if cls not in index:
                raise DataError(f"image_folder: {ann} line {i}: class {cls!r} of {name} is not among the "
                                f"{len(classes)} training classes (the subfolders of {tr})")
            by_class.setdefault(index[cls], []).append(name)
        test = [(te / "images" / n, c) for c in sorted(by_class) for n in sorted(by_class[c])[:limit]]
        for f, _ in test:
            if not f.is_file():
                raise DataError(f"image_folder: {ann} lists {f.name} but {f} does not exist")
    else:
        layout = "class-folders"
        test_classes = _subfolders(te)
        if not test_classes:
            raise DataError(f"image_folder: test folder {te} (test_dir={test_dir!r}) has no class subfolders and "
                            f"no {_TINY_ANNOTATIONS} with an images/ folder")
        unknown = [c for c in test_classes if c not in index]
        if unknown:
            raise DataError(f"image_folder: test classes {unknown[:5]} (subfolders of {te}) are not among the "
                            f"{len(classes)} training classes (the subfolders of {tr})")
        test = [(f, index[c]) for c in test_classes for f in _class_images(te / c)[:limit]]
    return classes, train, test, layout


def _read_images(items: list[tuple[Path, int]], size: int) -> torch.Tensor:
    """uint8 (N,3,size,size): each file read with PIL, converted to RGB, resized bilinearly."""
    from PIL import Image  # lazy: only image folders need PIL (installed with matplotlib)

    bilinear = getattr(Image, "Resampling", Image).BILINEAR
    out = np.empty((len(items), 3, size, size), dtype=np.uint8)
    for i, (f, _) in enumerate(items):
        try:
            with Image.open(f) as im:
                rgb = im.convert("RGB")
                if rgb.size != (size, size):
                    rgb = rgb.resize((size, size), bilinear)
                out[i] = np.asarray(rgb).transpose(2, 0, 1)
        except (OSError, ValueError) as e:  # PIL's UnidentifiedImageError is an OSError
            raise DataError(f"image_folder: cannot read image {f}: {type(e).__name__}: {e}") from e
    return torch.from_numpy(out)


def read_image_folder(path: str | Path, root=None, *, size: int = 64, train_dir: str = "train",
                      test_dir: str = "val", limit_per_class: int | None = None,
                      normalize: str = "standardize") -> tuple[ArrayDataset, ArrayDataset, dict[str, Any]]:
    """A user-supplied image data set (TinyImageNet, small ImageNet-style folders) as (N,3,size,size).

    Layouts under ``path`` (a relative path is taken under the data root ``root``):

    * class folders: ``<train_dir>/<class>/*.{jpg,jpeg,png}`` and ``<test_dir>/<class>/*``
      (a class folder's images may also sit in its ``images/`` subfolder);
    * TinyImageNet: ``train/<wnid>/images/*.JPEG``, ``val/images/*.JPEG`` and
      ``val/val_annotations.txt`` (tab-separated filename, wnid, box); used when the test folder
      holds that file and an ``images/`` folder.

    Class index = position of the class folder name among the sorted training class folders; a
    test image of any other class is an error. ``limit_per_class`` keeps the first N files per
    class (sorted by name), in train and test, for quick runs. Images are converted to RGB and
    resized to ``size`` x ``size`` (bilinear, aspect ratio not kept). ``normalize="standardize"``
    uses the per-channel mean/std of the training images read (before any validation split),
    recorded in the returned info; "unit" scales to [0,1]; "none" keeps 0..255.

    Everything is held in memory: TinyImageNet (100k training images) at 64x64 is about 1.2 GB
    as uint8 and 4.9 GB as the float32 tensors returned. Full ImageNet does not fit this
    in-memory loader; it needs a streaming loader, which regprune does not provide.
    Returns (train, test, info).
    """
    check_choice("normalize", normalize, NORMALIZE)
    _check_image_folder_args(False, path, size, train_dir, test_dir, limit_per_class)
    base = data_root(root) / Path(path).expanduser()  # an absolute path stays as it is
    classes, train_items, test_items, layout = _scan_image_folder(base, train_dir, test_dir, limit_per_class)
    fp = hashlib.md5()
    for f, c in train_items + test_items:
        fp.update(f"{f.relative_to(base)}\t{f.stat().st_size}\t{c}\n".encode())
    u8_train = _read_images(train_items, size)
    u8_test = _read_images(test_items, size)
    stats = channel_stats(u8_train) if normalize == "standardize" else None
    stats_of = f"image_folder training images ({len(train_items)}, computed)"
    x_train, norm = to_float(u8_train, normalize, stats_of, stats)
    del u8_train
    x_test, _ = to_float(u8_test, normalize, stats_of, stats)
    k = len(classes)
    y_train = torch.tensor([c for _, c in train_items], dtype=torch.long)
    y_test = torch.tensor([c for _, c in test_items], dtype=torch.long)
    info = {
        "path": str(base), "layout": layout, "size": size, "train_dir": train_dir, "test_dir": test_dir,
        "limit_per_class": limit_per_class, "n_train_files": len(train_items), "n_test_files": len(test_items),
        "classes": classes, "fingerprint": fp.hexdigest(),  # md5 of (relative path, byte size, label) lines
    }
    return (ArrayDataset(x_train, y_train, k, "image_folder"), ArrayDataset(x_test, y_test, k, "image_folder"),
            {"normalization": norm, "folder": info})

