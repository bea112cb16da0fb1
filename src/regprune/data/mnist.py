"""MNIST from its four IDX files (.gz or unpacked), md5-checked."""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np
import torch

from ..paths import data_root
from ..registry import check_choice
from .arrays import ArrayDataset, DataError
from .files import FileSpec, locate
from .normalize import NORMALIZE, to_float

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
    rec = locate(spec, root, verify, raw)  # hashes the bytes we already hold
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
    xf, norm = to_float(x.unsqueeze(1), normalize, "mnist")
    return ArrayDataset(xf, y.long(), 10, "mnist"), [rx, ry], norm


