"""Datasets as in-memory tensors: MNIST, CIFAR-10/100, LIBSVM, user-supplied image folders
(TinyImageNet) and learnable synthetic sets.

Everything is read straight from the published files (no torchvision at import time), checked
against known md5 sums (image folders, which the user supplies, have none: their info records a
fingerprint of file names and sizes instead), and returned as a :class:`Splits` with a validation
part held out of the training set, so no experiment ever selects on the test set.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import inspect
import lzma
import math
import os
import pickle
import zlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .paths import data_root
from .registry import ConfigError, Registry, check_choice

NORMALIZE = ("standardize", "unit", "none")

# Fixed per-channel statistics of the real training sets (used for "standardize").
STATS = {
    "mnist": ((0.1307,), (0.3081,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
SHAPES = {"mnist": ((1, 28, 28), 10), "cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100)}


class DataError(RuntimeError):
    """A data file is missing or corrupt; the message says where we looked and how to get it."""


# --------------------------------------------------------------------------- containers


@dataclass
class ArrayDataset:
    """A whole data set as two tensors, so batching is indexing (no per-sample Python work)."""

    x: torch.Tensor  # float32, (N, C, H, W) for images or (N, D) for vectors
    y: torch.Tensor  # int64 class indices, (N,)
    num_classes: int
    name: str = ""

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"{self.name}: x has {len(self.x)} rows but y has {len(self.y)}")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def to(self, device: torch.device | str) -> "ArrayDataset":
        return ArrayDataset(self.x.to(device), self.y.to(device), self.num_classes, self.name)

    def subset(self, indices: Sequence[int] | torch.Tensor) -> "ArrayDataset":
        idx = torch.as_tensor(indices, dtype=torch.long, device=self.x.device)
        return ArrayDataset(self.x[idx], self.y[idx], self.num_classes, self.name)


@dataclass
class Splits:
    """Train / validation / test parts plus a JSON-serializable record of how they were made."""

    train: ArrayDataset
    val: ArrayDataset
    test: ArrayDataset
    info: dict[str, Any] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> "Splits":
        return Splits(self.train.to(device), self.val.to(device), self.test.to(device), self.info)


# --------------------------------------------------------------------------- files and checksums


@dataclass(frozen=True)
class FileSpec:
    """One data file: where it goes under the root (first candidate = canonical), its md5 and source."""

    dataset: str
    candidates: tuple[tuple[str, str | None], ...]  # (path relative to root, md5 or None)
    url: str
    how: str = ""  # extra instructions; "{root}" is filled in

    @property
    def name(self) -> str:
        return Path(self.candidates[0][0]).name

    @property
    def md5(self) -> str | None:
        return self.candidates[0][1]

    def find(self, root: Path) -> tuple[Path, str | None] | None:
        """The first candidate that exists, with its md5; None if none does."""
        for rel, md5 in self.candidates:
            if (root / rel).is_file():
                return root / rel, md5
        return None

    def missing(self, root: Path, note: str = "") -> DataError:
        alts = "".join(f" (or {root / rel})" for rel, _ in self.candidates[1:])
        how = f"; or {self.how.format(root=root)}" if self.how else ""
        return DataError(
            f"{self.dataset}: file {self.name} not found: looked at {root / self.candidates[0][0]}{alts}. "
            f"Expected md5 {self.md5 or 'unknown (none published)'}. Get it from {self.url} "
            f"and put it at that path{how}.{note}"
        )


_MD5_MEMO: dict[tuple[str, int, int], str] = {}


def file_md5(path: Path, data: bytes | None = None) -> str:
    """md5 of a file, memoized per (path, mtime, size) so repeated loads in a process are cheap."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _MD5_MEMO:
        if data is None:
            h = hashlib.md5()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 22), b""):
                    h.update(block)
            _MD5_MEMO[key] = h.hexdigest()
        else:
            _MD5_MEMO[key] = hashlib.md5(data).hexdigest()
    return _MD5_MEMO[key]


def _locate(spec: FileSpec, root: Path, verify: bool, data: bytes | None = None) -> dict[str, Any]:
    """Find a file and check its md5; returns a JSON-able record or raises DataError."""
    found = spec.find(root)
    if found is None:
        raise spec.missing(root)
    path, expected = found
    got = file_md5(path, data) if verify else None
    if verify and expected and got != expected:
        raise DataError(
            f"{spec.dataset}: file {path.name} at {path} is corrupt or a different version: md5 {got}, "
            f"expected md5 {expected}. Re-download it from {spec.url}."
        )
    return {"path": str(path), "md5": got, "verified": bool(verify and expected)}


# --------------------------------------------------------------------------- images


Stats = tuple[Sequence[float], Sequence[float]]


def _norm_record(normalize: str, stats_of: str, stats: Stats | None = None) -> dict[str, Any]:
    """How images were scaled; ``stats`` (mean, std) overrides ``STATS[stats_of]`` (stats from the data)."""
    if normalize == "standardize":
        mean, std = STATS[stats_of] if stats is None else stats
        return {"mode": normalize, "mean": list(mean), "std": list(std), "stats_of": stats_of}
    return {"mode": normalize, "scale": "0..1" if normalize == "unit" else "0..255"}


def _to_float(u8: torch.Tensor, normalize: str, stats_of: str,
              stats: Stats | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
    """uint8 (N,C,H,W) -> float32 with the chosen normalization; returns the record of it too."""
    x = u8.to(torch.float32)
    if normalize != "none":
        x.div_(255.0)
    if normalize == "standardize":
        mean, std = STATS[stats_of] if stats is None else stats
        c = len(mean)
        x.sub_(torch.tensor(mean).view(1, c, 1, 1)).div_(torch.tensor(std).view(1, c, 1, 1))
    return x, _norm_record(normalize, stats_of, stats)


def _channel_stats(u8: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and (population) std of uint8 (N,C,H,W) images scaled to [0,1], in chunks."""
    c = u8.shape[1]
    total, squares = torch.zeros(c, dtype=torch.float64), torch.zeros(c, dtype=torch.float64)
    rows = max(1, (1 << 22) // max(1, u8[0].numel())) if len(u8) else 1  # ~32 MB of float64 at a time
    for i in range(0, len(u8), rows):
        x = u8[i : i + rows].to(torch.float64).div_(255.0)
        total += x.sum((0, 2, 3))
        squares += x.square().sum((0, 2, 3))
    n = max(1, u8.numel() // c)
    mean = total / n
    std = (squares / n - mean.square()).clamp_min(0).sqrt()
    std[std < 1e-8] = 1.0  # a constant channel: leave its (zero) deviations unscaled rather than divide by 0
    return mean.tolist(), std.tolist()


def _try_torchvision(cls_name: str, root: Path) -> str:
    """Let torchvision fetch a data set; returns '' on success or why it failed (never raises)."""
    try:
        import torchvision.datasets as tvd  # lazy: torchvision is optional and may be broken

        for train in (True, False):
            getattr(tvd, cls_name)(str(root), train=train, download=True)
        return ""
    except Exception as e:  # noqa: BLE001 - any failure falls back to the manual instructions
        return f" (download=True failed: {type(e).__name__}: {e})"


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # torchvision's mirror of yann.lecun.com
_MNIST = {  # stem: (md5 of .gz, md5 of the uncompressed file)
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
}
MNIST_FILES = {
    stem: FileSpec(
        "mnist",
        ((f"MNIST/raw/{stem}.gz", gz), (f"MNIST/raw/{stem}", raw)),
        _MNIST_URL + stem + ".gz",
        "pass download=True where torchvision imports",
    )
    for stem, (gz, raw) in _MNIST.items()
}


def _read_idx(spec: FileSpec, root: Path, ndim: int, verify: bool) -> tuple[torch.Tensor, dict]:
    """Read one IDX file (.gz or plain), checking md5, magic number and size."""
    found = spec.find(root)
    if found is None:
        raise spec.missing(root)
    path = found[0]
    raw = path.read_bytes()
    rec = _locate(spec, root, verify, raw)  # hashes the bytes we already hold
    try:
        buf = gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"mnist: {path} is not a readable gzip file ({e}); expected md5 {found[1]}") from e
    magic = int.from_bytes(buf[:4], "big")
    head = 4 + 4 * ndim
    dims = tuple(int.from_bytes(buf[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if magic != 0x800 + ndim or len(buf) != head + math.prod(dims):
        raise DataError(f"mnist: {path} is not a uint8 IDX file with {ndim} dims (magic {magic}, dims {dims})")
    arr = np.frombuffer(buf, np.uint8, offset=head).reshape(dims)
    return torch.from_numpy(arr.copy()), rec


def read_mnist(root=None, *, train: bool = True, normalize: str = "standardize",
               verify: bool = True) -> ArrayDataset:
    """MNIST train (60k) or test (10k) part as (N,1,28,28) images."""
    return _read_mnist(root, train, normalize, verify)[0]


def _read_mnist(root, train, normalize, verify):
    check_choice("normalize", normalize, NORMALIZE)
    root = data_root(root)
    part = "train" if train else "t10k"
    x, rx = _read_idx(MNIST_FILES[f"{part}-images-idx3-ubyte"], root, 3, verify)
    y, ry = _read_idx(MNIST_FILES[f"{part}-labels-idx1-ubyte"], root, 1, verify)
    if x.shape[1:] != (28, 28) or len(x) != len(y) or int(y.max()) > 9:
        raise DataError(f"mnist: unexpected contents in {rx['path']} / {ry['path']}: {tuple(x.shape)}, {len(y)} labels")
    xf, norm = _to_float(x.unsqueeze(1), normalize, "mnist")
    return ArrayDataset(xf, y.long(), 10, "mnist"), [rx, ry], norm


_CIFAR = {
    "cifar10": dict(
        dir="cifar-10-batches-py",
        train=[
            ("data_batch_1", "c99cafc152244af753f735de768cd75f"),
            ("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
            ("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
            ("data_batch_4", "634d18415352ddfa80567beed471001a"),
            ("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
        ],
        test=[("test_batch", "40351d587109b95175f43aff81a1287e")],
        key=b"labels", classes=10, tv="CIFAR10",
        tar=("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a",
             "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
    ),
    "cifar100": dict(
        dir="cifar-100-python",
        train=[("train", "16019d7e3df5f24257cddd939b257f8d")],
        test=[("test", "f0ef6b0ae62326f3e7ffdfab6717acfc")],
        key=b"fine_labels", classes=100, tv="CIFAR100",
        tar=("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85",
             "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),
    ),
}


def _cifar_specs(name: str, part: str) -> list[FileSpec]:
    c = _CIFAR[name]
    tar, tar_md5, url = c["tar"]
    how = (f"pass download=True where torchvision imports, or download and unpack {tar} "
           f"(md5 {tar_md5}) from {url} into {{root}} (it creates {{root}}/{c['dir']}/)")
    return [FileSpec(name, ((f"{c['dir']}/{f}", md5),), url, how) for f, md5 in c[part]]


def read_cifar(name: str = "cifar10", root=None, *, train: bool = True, normalize: str = "standardize",
               verify: bool = True, download: bool = False) -> ArrayDataset:
    """CIFAR-10/100 from the python pickle batches (torchvision layout) as (N,3,32,32) images.

    ``verify=False`` skips the md5 check; the batches are pickles, so only do that for files you trust.
    """
    return _read_cifar(name, root, train, normalize, verify, download)[0]


def _read_cifar(name, root, train, normalize, verify, download):
    check_choice("name", name, _CIFAR)
    check_choice("normalize", normalize, NORMALIZE)
    root, c = data_root(root), _CIFAR[name]
    specs = _cifar_specs(name, "train" if train else "test")
    if download and any(s.find(root) is None for s in specs):
        note = _try_torchvision(c["tv"], root)
        missing = [s for s in specs if s.find(root) is None]
        if missing:
            raise missing[0].missing(root, note)
    xs, ys, recs = [], [], []
    for spec in specs:
        recs.append(_locate(spec, root, verify))  # md5 first: pickles are only opened once trusted
        with open(recs[-1]["path"], "rb") as f:
            d = pickle.load(f, encoding="bytes")
        data, labels = np.asarray(d[b"data"], dtype=np.uint8), np.asarray(d[c["key"]], dtype=np.int64)
        if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
            raise DataError(f"{name}: {recs[-1]['path']} has data {data.shape} and {len(labels)} labels")
        xs.append(data.reshape(-1, 3, 32, 32))
        ys.append(labels)
    y = torch.from_numpy(np.concatenate(ys))
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= c["classes"]):
        raise DataError(f"{name}: labels outside 0..{c['classes'] - 1} in {[r['path'] for r in recs]}")
    x, norm = _to_float(torch.from_numpy(np.concatenate(xs)), normalize, name)
    return ArrayDataset(x, y, c["classes"], name), recs, norm


# --------------------------------------------------------------------------- image folders (TinyImageNet)

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
    stats = _channel_stats(u8_train) if normalize == "standardize" else None
    stats_of = f"image_folder training images ({len(train_items)}, computed)"
    x_train, norm = _to_float(u8_train, normalize, stats_of, stats)
    del u8_train
    x_test, _ = _to_float(u8_test, normalize, stats_of, stats)
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


# --------------------------------------------------------------------------- synthetic


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
        x, _ = _to_float((u * 255).round().to(torch.uint8), normalize, shape_of)
        return ArrayDataset(x, y, k, f"synthetic-{shape_of}")

    return draw(n_train, 1), draw(n_test, 2)


# --------------------------------------------------------------------------- LIBSVM

_BIN = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/"
_MC = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"

# name: base URL, train file, test file (None: none published), n_features, raw labels, md5s, local dir.
LIBSVM = {
    "a9a": dict(url=_BIN, train="a9a", test="a9a.t", n_features=123, labels=(-1, 1),
                md5={"a9a": "fb3596510d780aaf76a06dc721d49662", "a9a.t": "f0bb16cf1ee3e80ff560e9d132ee647e"}),
    "w8a": dict(url=_BIN, train="w8a", test="w8a.t", n_features=300, labels=(-1, 1),
                md5={"w8a": "05cdbfad8de0af3887c0e6f42fddc32b", "w8a.t": "938543adbdc198246247d5d2015f01e8"}),
    # dna: no published md5; these are of two independent public copies that agree byte for byte.
    "dna": dict(url=_MC, train="dna.scale", test="dna.scale.t", n_features=180, labels=(1, 2, 3),
                md5={"dna.scale": "de1230bdca6770f1dc1c90a93260b3a5",
                     "dna.scale.t": "a9e51f9e953cb00867f977ef97eb8f7d"}),
    "ijcnn1": dict(url=_BIN, train="ijcnn1.bz2", test="ijcnn1.t.bz2", n_features=22, labels=(-1, 1),
                   md5={"ijcnn1.bz2": "c3e9162f8e38e0b6c0e02d313a59de2b",
                        "ijcnn1.t.bz2": "66433ab8089acee9e56dc61ac89a2fe2"}),
    "protein": dict(url=_MC, train="protein.bz2", test="protein.t.bz2", n_features=357, labels=(0, 1, 2),
                    md5={"protein.bz2": "13c4c05fe7bde951c6b3badbf549f0bf",
                         "protein.t.bz2": "bf94d04967234fc1f8ebf534e7678bb6"}),
    "connect-4": dict(url=_MC, train="connect-4", test=None, n_features=126, labels=(-1, 0, 1), md5={}),
    "acoustic": dict(url=_MC + "vehicle/", train="acoustic.bz2", test="acoustic.t.bz2", n_features=50,
                     labels=(1, 2, 3), md5={}),
    "seismic": dict(url=_MC + "vehicle/", train="seismic.bz2", test="seismic.t.bz2", n_features=50,
                    labels=(1, 2, 3), md5={}),
    "webspam": dict(url=_BIN, train="webspam_wc_normalized_unigram.svm.xz", test=None, n_features=254,
                    labels=(-1, 1), md5={}),
    "libsvm-mnist": dict(url=_MC, train="mnist.bz2", test="mnist.t.bz2", n_features=780,
                         labels=tuple(range(10)), dir="mnist",
                         md5={"mnist.bz2": "1eca9ecabee216ae06b3e2f811f4cfd7",
                              "mnist.t.bz2": "a4aafe182113f147e3068d37760ece9d"}),
}
_PACKED = (".bz2", ".xz", ".gz")


def _libsvm_spec(name: str, fname: str) -> FileSpec:
    """Canonical file first; also accept it decompressed (or .bz2-compressed), md5 then unknown."""
    t = LIBSVM[name]
    d = f"libsvm/{t.get('dir', name)}/"
    alt = fname.rsplit(".", 1)[0] if fname.endswith(_PACKED) else fname + ".bz2"
    return FileSpec(name, ((d + fname, t["md5"].get(fname)), (d + alt, None)), t["url"] + fname)


def _read_svmlight(name: str, spec: FileSpec, root: Path, verify: bool):
    from sklearn.datasets import load_svmlight_file  # lazy: only LIBSVM sets need scikit-learn

    rec = _locate(spec, root, verify)
    path, t = Path(rec["path"]), LIBSVM[name]
    opener = {".bz2": bz2.open, ".xz": lzma.open, ".gz": gzip.open}.get(path.suffix, open)
    with opener(path, "rb") as f:
        x, y = load_svmlight_file(f, n_features=t["n_features"], dtype=np.float32)
    labels = np.asarray(t["labels"], dtype=np.float64)
    idx = np.searchsorted(labels, y).clip(0, len(labels) - 1)
    if not np.array_equal(labels[idx], y):
        raise DataError(f"{name}: {path} has labels {np.unique(y)[:10]}, expected {list(t['labels'])}")
    xt = torch.from_numpy(np.asarray(x.todense(), dtype=np.float32))
    return ArrayDataset(xt, torch.from_numpy(idx.astype(np.int64)), len(labels), name), rec


def read_libsvm(name: str, root=None, *, test_from_train: float | None = None, test_seed: int = 0,
                verify: bool = True) -> tuple[ArrayDataset, ArrayDataset, list[dict]]:
    """A LIBSVM set as dense float32 features (as in the file, unscaled) and labels 0..K-1.

    ``test_from_train=f`` carves a stratified, ``test_seed``-seeded fraction ``f`` of the training
    file as the test set and ignores any test file (always, so results do not depend on which files
    happen to be present); needed for sets with no test file (connect-4, webspam, w8a when w8a.t
    is absent).
    """
    check_choice("name", name, LIBSVM)
    t = LIBSVM[name]
    if test_from_train is not None and not (isinstance(test_from_train, float) and 0 < test_from_train < 1):
        raise ConfigError(f"test_from_train={test_from_train!r} must be a float in (0, 1) or None")
    if t["test"] is None and test_from_train is None:
        raise ConfigError(f"{name} has no published test file; pass test_from_train=<fraction>, e.g. 0.2")
    root = data_root(root)
    train_spec = _libsvm_spec(name, t["train"])
    if test_from_train is None:
        test_spec = _libsvm_spec(name, t["test"])
        if test_spec.find(root) is None:  # fail before the (slow) parse of the training file
            raise test_spec.missing(root, " Or pass test_from_train=<fraction> to carve a test set from train.")
    train, rec = _read_svmlight(name, train_spec, root, verify)
    if test_from_train is not None:
        train, test = train_val_split(train, test_from_train, test_seed, param="test_from_train")
        return train, test, [rec]
    test, rec_t = _read_svmlight(name, test_spec, root, verify)
    return train, test, [rec, rec_t]


# --------------------------------------------------------------------------- splitting


def _check_split(param: str, v: Any) -> None:
    ok = (isinstance(v, float) and 0 < v < 1) or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
    if not ok:
        raise ConfigError(f"{param}={v!r} must be a fraction in (0, 1) or a count >= 1 "
                          "(a validation set is required: nothing may select on the test set)")


def _stratified_pick(y: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """Indices of ``k`` samples, spread over classes in proportion (largest remainder), seeded."""
    g = torch.Generator().manual_seed(seed)
    yc = y.cpu()
    perm = torch.randperm(len(yc), generator=g)
    order = perm[torch.sort(yc[perm], stable=True).indices]  # grouped by class, random within
    classes, counts = torch.unique(yc, return_counts=True)
    share = counts.double() * k / len(yc)
    quota = share.floor().long()
    extra = k - int(quota.sum())
    if extra:
        quota[torch.argsort(share - quota, descending=True, stable=True)[:extra]] += 1
    starts = torch.cumsum(counts, 0) - counts
    picked = [order[s : s + q] for s, q in zip(starts.tolist(), quota.tolist())]
    return torch.sort(torch.cat(picked)).values


def train_val_split(ds: ArrayDataset, val_split: float | int, seed: int = 0, *,
                    param: str = "val_split") -> tuple[ArrayDataset, ArrayDataset]:
    """Hold out a stratified, seeded part of ``ds``: a fraction (float in (0,1)) or a count (int >= 1).

    Class proportions are kept (largest-remainder rounding); both parts keep the original order.
    """
    _check_split(param, val_split)
    n = len(ds)
    k = max(1, round(val_split * n)) if isinstance(val_split, float) else val_split
    if k >= n:
        raise ConfigError(f"{param}={val_split!r} leaves no training samples out of {n}")
    held = _stratified_pick(ds.y, k, seed)
    keep = torch.ones(n, dtype=torch.bool)
    keep[held] = False
    return ds.subset(keep.nonzero().squeeze(1)), ds.subset(held)


# --------------------------------------------------------------------------- registry and load

DATASETS = Registry("dataset")


def _mnist(root, normalize, download, verify: bool = True):
    if download and any(s.find(root) is None for s in MNIST_FILES.values()):
        note = _try_torchvision("MNIST", root)
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


def _synthetic(shape_of, root, normalize, download, n_train: int = 1024, n_test: int = 256, seed: int = 0):
    train, test = synthetic(shape_of, n_train, n_test, seed, normalize=normalize)
    return train, test, {"files": [], "normalization": _norm_record(normalize, shape_of),
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


DATASETS.register("mnist", kind="image", files=list(MNIST_FILES.values()))(_mnist)
for _n in _CIFAR:
    DATASETS.register(_n, kind="image", files=_cifar_specs(_n, "train") + _cifar_specs(_n, "test"))(
        partial(_cifar, _n))
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
    _check_split("val_split", val_split)
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
        train = train.subset(_stratified_pick(train.y, train_limit, split_seed + 1))
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


def check(root=None) -> list[dict[str, Any]]:
    """One row per known data file: where it was looked for, whether present, whether its md5 matches."""
    root = data_root(root)
    rows = []
    for name in DATASETS.names():
        for spec in DATASETS.meta(name)["files"]:
            found = spec.find(root)
            path, md5 = found if found else (root / spec.candidates[0][0], spec.md5)
            ok = (file_md5(path) == md5) if found and md5 else None
            rows.append({"dataset": name, "file": path.name, "path": str(path), "present": found is not None,
                         "checksum_ok": ok, "expected_md5": md5, "url": spec.url})
    return rows


# --------------------------------------------------------------------------- batching


class BatchLoader:
    """Batches of an in-memory ArrayDataset, drawn by index on the data's device (GPU included).

    With ``shuffle`` each epoch uses ``torch.randperm`` from ``generator``, so the order is
    reproducible from the generator state.
    """

    def __init__(self, ds: ArrayDataset, batch_size: int, *, shuffle: bool = False, drop_last: bool = False,
                 generator: torch.Generator | None = None):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigError(f"batch_size={batch_size!r} must be an int >= 1")
        self.ds, self.batch_size, self.shuffle, self.drop_last, self.generator = (
            ds, batch_size, shuffle, drop_last, generator)

    def __len__(self) -> int:
        n, b = len(self.ds), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        x, y, b = self.ds.x, self.ds.y, self.batch_size
        order = None
        if self.shuffle:
            dev = self.generator.device if self.generator is not None else x.device
            order = torch.randperm(len(y), generator=self.generator, device=dev).to(x.device)
        for i in range(len(self)):
            if order is None:
                yield x[i * b : (i + 1) * b], y[i * b : (i + 1) * b]
            else:
                idx = order[i * b : (i + 1) * b]
                yield x.index_select(0, idx), y.index_select(0, idx)
