"""LIBSVM data sets (svmlight text files, optionally compressed) as dense float32 features."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import numpy as np
import torch

from ..paths import data_root
from ..registry import ConfigError, check_choice
from .arrays import ArrayDataset, DataError
from .files import FileSpec, locate
from .splits import train_val_split

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

    rec = locate(spec, root, verify)
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

