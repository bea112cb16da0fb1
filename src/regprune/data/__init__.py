"""Datasets as in-memory tensors: MNIST, CIFAR-10/100, the CIFAR-10 JPEG copy, LIBSVM, user-supplied
image folders (TinyImageNet) and learnable synthetic sets.

Everything is read straight from the published files (no torchvision at import time), checked
against known checksums (image folders, which the user supplies, have none: their info records a
fingerprint of file names and sizes instead), and returned as a :class:`Splits` with a validation
part held out of the training set, so no experiment ever selects on the test set.

One module per source (:mod:`.mnist`, :mod:`.cifar`, :mod:`.cifar10_jpeg`, :mod:`.libsvm`,
:mod:`.image_folder`, :mod:`.synthetic`), one for files and checksums (:mod:`.files`), one for
pixel scaling (:mod:`.normalize`), one for splits (:mod:`.splits`) and one for batches
(:mod:`.batches`). This module registers the sources and offers :func:`load` and :func:`check`.
"""

from __future__ import annotations

import inspect
from functools import partial
from pathlib import Path
from typing import Any

from ..paths import data_root
from ..registry import ConfigError, Registry, check_choice
from .arrays import ArrayDataset, DataError, Splits
from .batches import BatchLoader
from .cifar import _CIFAR, _cifar_specs, _read_cifar, read_cifar
from .cifar10_jpeg import read_cifar10_jpeg
from . import cifar10_jpeg
from .files import FileSpec, file_digest, file_md5, locate
from .image_folder import _check_image_folder_args, read_image_folder
from .libsvm import LIBSVM, _libsvm_spec, read_libsvm
from .mnist import MNIST_FILES, _read_mnist, read_mnist
from .normalize import NORMALIZE, SHAPES, STATS, norm_record
from .splits import check_split, stratified_pick, train_val_split
from .synthetic import synthetic

__all__ = [
    "ArrayDataset", "BatchLoader", "DATASETS", "DataError", "FileSpec", "LIBSVM", "NORMALIZE", "SHAPES", "STATS",
    "Splits", "check", "check_load_args", "label", "load", "read_cifar", "read_cifar10_jpeg", "read_image_folder",
    "read_libsvm", "read_mnist", "synthetic", "train_val_split",
]

DATASETS = Registry("dataset")


def _mnist(root, normalize, download, verify: bool = True):
    if download and any(s.find(root) is None for s in MNIST_FILES.values()):
        note = try_torchvision("MNIST", root)
        missing = [s for s in MNIST_FILES.values() if s.find(root) is None]
        if missing:
            raise missing[0].missing(root, note)
    train, r1, norm = _read_mnist(root, True, normalize, verify)
    test, r2, _ = _read_mnist(root, False, normalize, verify)
    return train, test, {"files": r1 + r2, "normalization": norm}


def _cifar(name, root, normalize, download, verify: bool = True):
    train, r1, norm = _read_cifar(name, root, True, normalize, verify, download)
    test, r2, _ = _read_cifar(name, root, False, normalize, verify, False)
    return train, test, {"files": r1 + r2, "normalization": norm}


def _cifar10_jpeg(root, normalize, download, verify: bool = True, cache: bool = True):
    if download:
        raise ConfigError(f"download=True is not possible for {cifar10_jpeg.NAME}: it is a copy made for this book; "
                          f"get it from {cifar10_jpeg.ZIP.url}")
    return read_cifar10_jpeg(root, normalize=normalize, verify=verify, cache=cache)


def _synthetic(shape_of, root, normalize, download, n_train: int = 1024, n_test: int = 256, seed: int = 0):
    train, test = synthetic(shape_of, n_train, n_test, seed, normalize=normalize)
    return train, test, {"files": [], "normalization": norm_record(normalize, shape_of),
                         "generator": {"shape_of": shape_of, "n_train": n_train, "n_test": n_test, "seed": seed}}


def _libsvm(name, root, normalize, download, test_from_train: float | None = None, test_seed: int = 0,
            verify: bool = True):
    train, test, recs = read_libsvm(name, root, test_from_train=test_from_train, test_seed=test_seed, verify=verify)
    info = {"files": recs, "normalization": {"mode": "as-file"}}
    if test_from_train is not None:
        info["test_from_train"] = {"fraction": test_from_train, "seed": test_seed, "method": "stratified"}
    return train, test, info


def _image_folder(root, normalize, download, path: str | None = None, size: int = 64, train_dir: str = "train",
                  test_dir: str = "val", limit_per_class: int | None = None):
    _check_image_folder_args(download, path, size, train_dir, test_dir, limit_per_class)
    train, test, info = read_image_folder(path, root, size=size, train_dir=train_dir, test_dir=test_dir,
                                          limit_per_class=limit_per_class, normalize=normalize)
    return train, test, {"files": [], **info}


DATASETS.register("mnist", kind="image", label="MNIST", files=list(MNIST_FILES.values()))(_mnist)
for _n in _CIFAR:
    DATASETS.register(_n, kind="image", label={"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}[_n],
                      files=_cifar_specs(_n, "train") + _cifar_specs(_n, "test"))(
        partial(_cifar, _n))
DATASETS.register(cifar10_jpeg.NAME, kind="image", files=[cifar10_jpeg.ZIP], label=cifar10_jpeg.LABEL)(
    _cifar10_jpeg)
for _n in SHAPES:
    DATASETS.register(f"synthetic-{_n}", kind="synthetic", files=[])(partial(_synthetic, _n))
for _n, _t in LIBSVM.items():
    DATASETS.register(_n, kind="libsvm", files=[_libsvm_spec(_n, f) for f in (_t["train"], _t["test"]) if f])(
        partial(_libsvm, _n))
# No fixed files to check (the user supplies the folder); ``check`` validates its settings up front.
DATASETS.register("image_folder", kind="folder", files=[], check=_check_image_folder_args)(_image_folder)

_COMMON = ("root", "normalize", "download")


def check_load_args(name: str, *, val_split: float | int = 0.1, split_seed: int = 0,
                    train_limit: int | None = None, normalize: str = "standardize", download: bool = False,
                    **kw: Any) -> None:
    """Check the arguments of :func:`load` without reading anything (run configs are checked whole first)."""
    builder = DATASETS.get(name)
    allowed = [p for p in inspect.signature(builder).parameters if p not in _COMMON]
    for k in kw:
        if k not in allowed:
            raise ConfigError(f"dataset {name!r} got unknown argument {k!r}; it accepts: {allowed}")
    check_choice("normalize", normalize, NORMALIZE)
    check_split("val_split", val_split)
    if not isinstance(split_seed, int) or isinstance(split_seed, bool):
        raise ConfigError(f"split_seed={split_seed!r} must be an int")
    if train_limit is not None and (not isinstance(train_limit, int) or isinstance(train_limit, bool)
                                    or train_limit < 1):
        raise ConfigError(f"train_limit={train_limit!r} must be None or an int >= 1")
    if not isinstance(download, bool):
        raise ConfigError(f"download={download!r} must be True or False")
    own_check = DATASETS.meta(name).get("check")
    if own_check is not None:
        own_check(download=download, **kw)


def load(name: str, root=None, *, val_split: float | int = 0.1, split_seed: int = 0,
         train_limit: int | None = None, normalize: str = "standardize", download: bool = False,
         **kw: Any) -> Splits:
    """Load a data set by name as train/val/test. All arguments are checked before any file is read.

    ``val_split`` is held out of the training file (stratified, ``split_seed``); ``train_limit``
    then keeps a stratified seeded subset of the remaining training part for quick runs. LIBSVM
    sets ignore ``normalize`` (features stay as in the file). Extra ``kw`` go to the data set
    (``verify``; LIBSVM: ``test_from_train``, ``test_seed``; synthetic: ``n_train``, ``n_test``, ``seed``;
    ``image_folder``: ``path``, ``size``, ``train_dir``, ``test_dir``, ``limit_per_class``, see
    :func:`read_image_folder`; it cannot download and holds everything in memory, so it suits
    TinyImageNet but not full ImageNet).
    """
    check_load_args(name, val_split=val_split, split_seed=split_seed, train_limit=train_limit,
                    normalize=normalize, download=download, **kw)
    builder = DATASETS.get(name)

    root_p = data_root(root)
    full, test, extra = builder(root_p, normalize, download, **kw)
    train, val = train_val_split(full, val_split, split_seed)
    if train_limit is not None and train_limit < len(train):
        train = train.subset(stratified_pick(train.y, train_limit, split_seed + 1))
    info = {
        "dataset": name,
        "root": str(root_p),
        "sizes": {"train": len(train), "val": len(val), "test": len(test)},
        "num_classes": full.num_classes,
        "input_shape": list(full.input_shape),
        "val_split": val_split,
        "split_seed": split_seed,
        "split_method": "stratified seeded permutation",
        "train_limit": train_limit,
        **extra,
    }
    for d in (train, val, test):
        d.name = name
    return Splits(train, val, test, info)


def label(name: str) -> str:
    """How tables and captions name a data set: ``"CIFAR-10 (JPEG q75 copy)"`` for the JPEG copy,
    never plain "CIFAR-10"; a data set registered without a label is shown by its name."""
    return DATASETS.meta(name).get("label", name)


def _check_file(spec: FileSpec, root: Path) -> dict[str, Any]:
    found = spec.find(root)
    path, md5 = found if found else (root / spec.candidates[0][0], spec.md5)
    row = {"file": path.name, "path": str(path), "present": found is not None, "checksum_ok": None,
           "expected_size": spec.size, "expected_md5": md5, "expected_sha256": spec.sha256, "url": spec.url,
           "problem": "" if found else "missing"}
    if found is None:
        return row
    try:
        got_md5 = file_md5(path) if md5 else None
        got_sha = file_digest(path, "sha256") if spec.sha256 and path == root / spec.candidates[0][0] else None
        size = path.stat().st_size
    except OSError as e:
        return {**row, "checksum_ok": False, "problem": f"unreadable: {type(e).__name__}: {e}"}
    bad = [what for what, got, want in (("md5", got_md5, md5), ("sha256", got_sha, row["expected_sha256"]),
                                          ("size", size if got_sha else None, spec.size))
           if got is not None and want is not None and got != want]
    if md5 or got_sha:
        row["checksum_ok"] = not bad
    if bad:
        row["problem"] = "wrong " + ", ".join(bad) + f" (size {size:,} bytes)"
    return row


def check(root=None, names: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per known data file (of ``names``, else of every data set): where it was looked for,
    whether present, whether its checksums match, what was expected and where it comes from."""
    root = data_root(root)
    for n in names or []:
        DATASETS.check(n, "dataset")
    rows = []
    for name in names or DATASETS.names():
        for spec in DATASETS.meta(name)["files"]:
            rows.append({"dataset": name, **_check_file(spec, root)})
    return rows
