"""CIFAR-10/100 from the python pickle batches (torchvision's layout), md5-checked before unpickling."""

from __future__ import annotations

import pickle

import numpy as np
import torch

from ..paths import data_root
from ..registry import check_choice
from .arrays import ArrayDataset, DataError
from .files import FileSpec, locate, try_torchvision
from .normalize import NORMALIZE, to_float

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
        note = try_torchvision(c["tv"], root)
        missing = [s for s in specs if s.find(root) is None]
        if missing:
            raise missing[0].missing(root, note)
    xs, ys, recs = [], [], []
    for spec in specs:
        recs.append(locate(spec, root, verify))  # md5 first: pickles are only opened once trusted
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
    x, norm = to_float(torch.from_numpy(np.concatenate(xs)), normalize, name)
    return ArrayDataset(x, y, c["classes"], name), recs, norm

