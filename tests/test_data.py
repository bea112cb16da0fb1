"""Data loading: real files at $REGPRUNE_DATA (skipped when absent), fakes in tmp_path otherwise."""

from __future__ import annotations

import gzip
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from regprune import paths

from regprune import data as D
from regprune.registry import ConfigError

ROOT = os.environ.get("REGPRUNE_DATA")


def _present(*rel: str) -> bool:
    return bool(ROOT) and all((Path(ROOT) / r).is_file() for r in rel)


MNIST_GZ = [f"MNIST/raw/{stem}.gz" for stem in D.MNIST_FILES]
needs_mnist = pytest.mark.skipif(
    not _present(*MNIST_GZ), reason="real MNIST not found: set REGPRUNE_DATA to a root holding MNIST/raw/*.gz")


def needs_libsvm(*files: str):
    return pytest.mark.skipif(not _present(*files), reason=f"LIBSVM files {files} not found under REGPRUNE_DATA")


@pytest.fixture(scope="module")
def mnist_train():
    return D.read_mnist(ROOT, train=True)  # how fast it loads is bench/'s business, not a test's


def _ncm_accuracy(train: D.ArrayDataset, test: D.ArrayDataset) -> float:
    """Nearest-class-mean accuracy: a learnable set gives far above chance even for this."""
    xs = train.x.flatten(1)
    means = torch.stack([xs[train.y == c].mean(0) for c in range(train.num_classes)])
    pred = torch.cdist(test.x.flatten(1), means).argmin(1)
    return (pred == test.y).float().mean().item()


# --------------------------------------------------------------------------- real MNIST


@needs_mnist
def test_mnist_train_contents_and_standardization(mnist_train):
    ds = mnist_train
    assert ds.x.shape == (60000, 1, 28, 28) and ds.x.dtype == torch.float32 and ds.y.dtype == torch.int64
    assert ds.y.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(ds.x.mean().item()) < 1e-3 and abs(ds.x.std().item() - 1) < 1e-3  # the fixed stats fit


@needs_mnist
def test_mnist_test_part_raw_pixels():
    ds = D.read_mnist(ROOT, train=False, normalize="none")
    assert ds.x.shape == (10000, 1, 28, 28)
    assert ds.y.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert ds.x.min() == 0 and ds.x.max() == 255 and torch.equal(ds.x, ds.x.round())
    unit = D.read_mnist(ROOT, train=False, normalize="unit")
    assert torch.allclose(unit.x, ds.x / 255)


@needs_mnist
def test_load_mnist_splits_and_info():
    s = D.load("mnist", ROOT)
    assert (len(s.train), len(s.val), len(s.test)) == (54000, 6000, 10000)
    assert s.train.input_shape == (1, 28, 28) and s.train.num_classes == 10
    full = s.train.y.bincount() + s.val.y.bincount()
    assert (s.val.y.bincount() - full * 0.1).abs().max() <= 1  # stratified
    info = json.loads(json.dumps(s.info))
    assert info["sizes"] == {"train": 54000, "val": 6000, "test": 10000}
    assert info["normalization"]["mean"] == [0.1307] and all(f["verified"] for f in info["files"])


@needs_mnist
def test_corrupt_copy_is_caught(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").symlink_to(Path(ROOT, "MNIST/raw/t10k-images-idx3-ubyte.gz"))
    data = bytearray(Path(ROOT, "MNIST/raw/t10k-labels-idx1-ubyte.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(D.DataError) as err:
        D.read_mnist(tmp_path, train=False)
    msg = str(err.value)
    assert "t10k-labels-idx1-ubyte.gz" in msg and "ec29112dd5afa0611ce80d1b7f02629c" in msg
    rows = {r["file"]: r for r in D.check(tmp_path) if r["dataset"] == "mnist"}
    assert rows["t10k-labels-idx1-ubyte.gz"]["checksum_ok"] is False
    assert rows["t10k-images-idx3-ubyte.gz"]["checksum_ok"] is True
    assert rows["train-images-idx3-ubyte.gz"]["present"] is False


@needs_mnist
def test_uncompressed_idx_files_are_accepted(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / stem).write_bytes(gzip.decompress(Path(ROOT, f"MNIST/raw/{stem}.gz").read_bytes()))
    plain = D.read_mnist(tmp_path, train=False)
    ref = D.read_mnist(ROOT, train=False)
    assert torch.equal(plain.x, ref.x) and torch.equal(plain.y, ref.y)


@needs_mnist
def test_check_reports_mnist_ok_and_cifar_absent():
    rows = D.check(ROOT)
    assert {"dataset", "file", "path", "present", "checksum_ok", "expected_md5"} <= set(rows[0])
    mnist = [r for r in rows if r["dataset"] == "mnist"]
    assert len(mnist) == 4 and all(r["present"] and r["checksum_ok"] is True for r in mnist)
    cifar = [r for r in rows if r["dataset"] in ("cifar10", "cifar100")]
    assert len(cifar) == 8 and not any(r["present"] for r in cifar)
    assert all(r["checksum_ok"] is None for r in cifar)


# --------------------------------------------------------------------------- MNIST without real data


def _write_idx(path: Path, arr: np.ndarray, magic: int | None = None) -> None:
    head = (magic or 0x800 + arr.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(head + arr.astype(np.uint8).tobytes())


def test_missing_mnist_names_path_md5_and_source(tmp_path):
    with pytest.raises(D.DataError) as err:
        D.load("mnist", tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz") in msg
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg and "https://" in msg and "download=True" in msg


def test_idx_reader_on_tiny_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    imgs = np.random.default_rng(0).integers(0, 256, (5, 28, 28))
    _write_idx(raw / "t10k-images-idx3-ubyte", imgs)
    _write_idx(raw / "t10k-labels-idx1-ubyte", np.array([3, 1, 4, 1, 5]))
    ds = D.read_mnist(tmp_path, train=False, normalize="none", verify=False)
    assert torch.equal(ds.x[:, 0], torch.tensor(imgs, dtype=torch.float32))
    assert ds.y.tolist() == [3, 1, 4, 1, 5]
    with pytest.raises(D.DataError, match="md5"):  # the tiny files are not the published ones
        D.read_mnist(tmp_path, train=False)
    _write_idx(raw / "t10k-labels-idx1-ubyte", np.array([3, 1, 4, 1, 5]), magic=2051)
    with pytest.raises(D.DataError, match="IDX"):
        D.read_mnist(tmp_path, train=False, verify=False)


# --------------------------------------------------------------------------- CIFAR (fake batches)


def _fake_cifar(root: Path, name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Write tiny pickles in the published format; return all training data and labels in order."""
    folder, files, key, k = {
        "cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], b"labels", 10),
        "cifar100": ("cifar-100-python", ["train"], b"fine_labels", 100),
    }[name]
    (root / folder).mkdir(parents=True)
    xs, ys = [], []
    for f in files + (["test_batch"] if name == "cifar10" else ["test"]):
        x = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        y = rng.integers(0, k, 4).tolist()
        with open(root / folder / f, "wb") as fh:
            pickle.dump({b"data": x, key: y, b"filenames": [b"x.png"] * 4}, fh)
        if f in files:
            xs.append(x), ys.append(y)
    return np.concatenate(xs).reshape(-1, 3, 32, 32), np.concatenate(ys)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_fake_cifar_batches_read_correctly(tmp_path, name):
    x, y = _fake_cifar(tmp_path, name, np.random.default_rng(1))
    ds = D.read_cifar(name, tmp_path, train=True, normalize="none", verify=False)
    assert ds.x.shape == x.shape and ds.num_classes == (10 if name == "cifar10" else 100)
    assert torch.equal(ds.x, torch.tensor(x, dtype=torch.float32)) and ds.y.tolist() == y.tolist()
    s = D.load(name, tmp_path, val_split=2, verify=False)
    assert (len(s.train), len(s.val), len(s.test)) == (len(y) - 2, 2, 4)
    mean = torch.tensor(D.STATS[name][0]).view(1, 3, 1, 1)
    std = torch.tensor(D.STATS[name][1]).view(1, 3, 1, 1)
    assert torch.allclose(D.read_cifar(name, tmp_path, verify=False).x, (ds.x / 255 - mean) / std, atol=1e-5)
    with pytest.raises(D.DataError, match="expected md5"):
        D.read_cifar(name, tmp_path)


def test_missing_cifar_says_how_to_get_it(tmp_path):
    with pytest.raises(D.DataError) as err:
        D.load("cifar10", tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "cifar-10-batches-py" / "data_batch_1") in msg and "c99cafc152244af753f735de768cd75f" in msg
    assert "download=True" in msg and "cifar-10-python.tar.gz" in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in msg


# --------------------------------------------------------------------------- LIBSVM


@needs_libsvm("libsvm/a9a/a9a", "libsvm/a9a/a9a.t")
def test_a9a():
    train, test, recs = D.read_libsvm("a9a", ROOT)
    assert train.x.shape == (32561, 123) and test.x.shape == (16281, 123) and train.x.dtype == torch.float32
    assert set(train.y.unique().tolist()) == {0, 1} and set(test.y.unique().tolist()) == {0, 1}
    assert train.y.sum().item() == 7841  # the +1 class
    assert all(r["verified"] for r in recs)


@needs_libsvm("libsvm/dna/dna.scale", "libsvm/dna/dna.scale.t")
def test_dna():
    s = D.load("dna", ROOT, val_split=200)
    assert (len(s.train), len(s.val), len(s.test)) == (1800, 200, 1186)
    assert s.train.input_shape == (180,) and s.train.num_classes == 3
    assert (s.train.y.bincount() + s.val.y.bincount()).tolist() == [464, 485, 1051]
    assert s.test.y.bincount().tolist() == [303, 280, 603]
    assert s.info["normalization"] == {"mode": "as-file"}


@needs_libsvm("libsvm/w8a/w8a")
def test_w8a_without_test_file():
    if _present("libsvm/w8a/w8a.t"):
        pytest.skip("w8a.t is present here")
    with pytest.raises(D.DataError) as err:
        D.load("w8a", ROOT)
    assert "w8a.t" in str(err.value) and "libsvmtools/datasets/binary/w8a.t" in str(err.value)
    assert "test_from_train" in str(err.value)
    s = D.load("w8a", ROOT, test_from_train=0.2, val_split=0.1)
    assert len(s.test) == round(0.2 * 49749) and len(s.train) + len(s.val) + len(s.test) == 49749
    assert s.train.input_shape == (300,) and s.info["test_from_train"]["fraction"] == 0.2
    again = D.load("w8a", ROOT, test_from_train=0.2, val_split=0.1)
    assert torch.equal(s.test.x, again.test.x)


def test_libsvm_without_any_test_file_needs_test_from_train(tmp_path):
    with pytest.raises(ConfigError, match="test_from_train"):
        D.load("connect-4", tmp_path)
    with pytest.raises(ConfigError, match="test_from_train"):
        D.load("a9a", tmp_path, test_from_train=1.5)


# --------------------------------------------------------------------------- splits and arguments


def _toy(n: int = 100, k: int = 4) -> D.ArrayDataset:
    return D.ArrayDataset(torch.arange(n, dtype=torch.float32)[:, None], torch.arange(n) % k, k, "toy")


@pytest.mark.parametrize("val_split, n_val", [(0.1, 10), (0.25, 25), (7, 7), (1, 1)])
def test_train_val_split_sizes_disjoint_deterministic(val_split, n_val):
    ds = _toy()
    tr, va = D.train_val_split(ds, val_split, seed=3)
    assert (len(tr), len(va)) == (100 - n_val, n_val)
    ids = torch.cat([tr.x[:, 0], va.x[:, 0]]).long()
    assert sorted(ids.tolist()) == list(range(100))  # disjoint and complete
    tr2, va2 = D.train_val_split(ds, val_split, seed=3)
    assert torch.equal(va.x, va2.x)
    if n_val > 4:
        _, va3 = D.train_val_split(ds, val_split, seed=4)
        assert not torch.equal(va.x, va3.x)


def test_split_is_stratified():
    _, va = D.train_val_split(_toy(100, 4), 0.2, seed=0)
    assert va.y.bincount().tolist() == [5, 5, 5, 5]


@pytest.mark.parametrize("bad", [0, 0.0, -1, -0.1, 1.0, 1.5, True, "0.1", None])
def test_val_split_must_be_positive(bad):
    with pytest.raises(ConfigError, match="val_split"):
        D.train_val_split(_toy(), bad)
    with pytest.raises(ConfigError, match="val_split"):
        D.load("mnist", "/nonexistent", val_split=bad)  # rejected before any file is looked at


def test_val_split_count_too_large():
    with pytest.raises(ConfigError, match="val_split"):
        D.train_val_split(_toy(10), 10)


def test_load_argument_checks():
    with pytest.raises(ConfigError, match="mnist") as err:
        D.load("imagenet")
    assert "synthetic-cifar10" in str(err.value) and "a9a" in str(err.value)
    with pytest.raises(ConfigError, match="normalize"):
        D.load("mnist", "/nonexistent", normalize="zscore")
    with pytest.raises(ConfigError, match="train_limit"):
        D.load("mnist", "/nonexistent", train_limit=0)
    with pytest.raises(ConfigError, match="test_from_train"):
        D.load("mnist", "/nonexistent", test_from_train=0.2)


def test_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("REGPRUNE_DATA", str(tmp_path))
    assert D.data_root() == tmp_path and D.data_root("elsewhere") == Path("elsewhere")
    monkeypatch.delenv("REGPRUNE_DATA")
    assert D.data_root() == paths.repo_root() / "data"


# --------------------------------------------------------------------------- synthetic


@pytest.mark.parametrize("shape_of, shape, k", [("mnist", (1, 28, 28), 10), ("cifar10", (3, 32, 32), 10),
                                                ("cifar100", (3, 32, 32), 100)])
def test_synthetic_deterministic_and_learnable(shape_of, shape, k):
    train, test = D.synthetic(shape_of, 1024, 256, seed=0)
    assert train.input_shape == shape and train.num_classes == k and len(test) == 256
    assert train.y.bincount(minlength=k).min() >= 1024 // k  # balanced
    again, _ = D.synthetic(shape_of, 1024, 256, seed=0)
    other, _ = D.synthetic(shape_of, 1024, 256, seed=1)
    assert torch.equal(train.x, again.x) and torch.equal(train.y, again.y)
    assert not torch.equal(train.x, other.x)
    assert torch.equal(test.x, D.synthetic(shape_of, 10, 256, seed=0)[1].x)  # test set independent of n_train
    acc = _ncm_accuracy(train, test)
    assert acc > 0.5, f"synthetic-{shape_of} nearest-class-mean accuracy {acc:.2f} (chance {1 / k:.2f})"


def test_synthetic_through_load():
    s = D.load("synthetic-mnist", val_split=0.25, train_limit=100, n_train=400, n_test=50, seed=2)
    assert (len(s.train), len(s.val), len(s.test)) == (100, 100, 50)
    assert s.train.y.bincount().tolist() == [10] * 10  # train_limit is stratified too
    assert json.loads(json.dumps(s.info))["generator"]["seed"] == 2
    with pytest.raises(ConfigError, match="n_train"):
        D.load("synthetic-mnist", n_train=0)
    with pytest.raises(ConfigError, match="unknown argument"):
        D.load("synthetic-mnist", epochs=3)


# --------------------------------------------------------------------------- containers and batching


def test_array_dataset_subset_and_to():
    ds = _toy(10)
    sub = ds.subset([2, 5])
    assert sub.x[:, 0].tolist() == [2.0, 5.0] and sub.y.tolist() == [2, 1] and sub.num_classes == 4
    moved = ds.to("cpu")
    assert moved is not ds and torch.equal(moved.x, ds.x) and ds.input_shape == (1,)


def test_batch_loader_epochs():
    ds = _toy(103)
    loader = D.BatchLoader(ds, 10, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert len(loader) == 11
    epochs = []
    for _ in range(2):
        ids = torch.cat([x[:, 0] for x, _ in loader]).long()
        assert sorted(ids.tolist()) == list(range(103))  # every index exactly once
        epochs.append(ids)
    assert not torch.equal(epochs[0], epochs[1])  # a new order each epoch
    replay = D.BatchLoader(ds, 10, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.cat([x[:, 0] for x, _ in replay]).long(), epochs[0])
    for x, y in loader:
        assert torch.equal(y, x[:, 0].long() % 4)  # pairs stay aligned
    plain = D.BatchLoader(ds, 10, drop_last=True)
    assert len(plain) == 10 and torch.cat([x[:, 0] for x, _ in plain]).tolist() == list(range(100))
    with pytest.raises(ConfigError, match="batch_size"):
        D.BatchLoader(ds, 0)
