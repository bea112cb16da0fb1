"""The CIFAR-10 JPEG copy's loader, on a small zip built here (no test reads the 64 MB file)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from regprune import data as D
from regprune.data import cifar10_jpeg as CJ
from regprune.registry import ConfigError


def _jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=75)
    return buf.getvalue()


def make_zip(root, per_class=(3, 1), size=32, extra: dict | None = None):
    """A zip in the copy's layout: ``per_class`` training and test images of each class; the
    image of class c, part p, index i is a flat colour that encodes (c, i) in its red channel."""
    path = root / "cifar10-jpeg" / "cifar10_jpeg.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    truth = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for part, n in zip(("train", "test"), per_class):
            for c, cls in enumerate(CJ.CLASSES):
                for i in range(n):
                    rgb = np.zeros((size, size, 3), np.uint8)
                    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 20 * c + 5 * i, 128, 200 if part == "test" else 60
                    name = f"cifar10-jpeg/{part}/{cls}/{i:04d}.jpg"
                    zf.writestr(name, _jpeg(rgb))
                    truth[name] = (c, rgb)
        for name, payload in (extra or {}).items():
            zf.writestr(name, payload)
    return path, truth


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REGPRUNE_CACHE", str(tmp_path / "cache"))


def test_decodes_labels_and_pixels_in_member_order(tmp_path):
    path, truth = make_zip(tmp_path / "data")
    train, test, info = CJ.read_cifar10_jpeg(tmp_path / "data", normalize="none", verify=False)
    assert (len(train), len(test)) == (30, 10) and train.x.shape[1:] == (3, 32, 32)
    names = sorted(n for n in truth if "/train/" in n)
    expected_y = [truth[n][0] for n in names]  # sorted member names: class folders in CIFAR-10's order
    assert train.y.tolist() == expected_y == sorted(expected_y)
    for k, n in enumerate(names):  # flat colours survive JPEG within a few levels
        assert np.abs(train.x[k].permute(1, 2, 0).numpy() - truth[n][1].astype(np.float32)).max() <= 3
    assert info["label"] == "CIFAR-10 (JPEG q75 copy)" and info["files"][0]["cache"] == "miss"


def test_standardizes_with_its_own_training_statistics(tmp_path):
    make_zip(tmp_path / "data")
    raw, _, _ = CJ.read_cifar10_jpeg(tmp_path / "data", normalize="none", verify=False)
    std, test, info = CJ.read_cifar10_jpeg(tmp_path / "data", verify=False)
    u = raw.x / 255
    mean, sd = u.mean((0, 2, 3)), u.std((0, 2, 3), unbiased=False)
    assert np.allclose(info["normalization"]["mean"], mean.numpy(), atol=1e-5)
    assert np.allclose(info["normalization"]["std"], sd.numpy(), atol=1e-5)
    assert abs(float(std.x.mean())) < 1e-4 and "cifar10-jpeg training images" in info["normalization"]["stats_of"]
    assert info["normalization"]["mean"] != list(D.STATS["cifar10"][0])  # not CIFAR-10's published ones


def test_cache_is_keyed_by_checksum_and_never_stale(tmp_path):
    path, _ = make_zip(tmp_path / "data")
    a, _, i1 = CJ.read_cifar10_jpeg(tmp_path / "data", normalize="none", verify=False)
    b, _, i2 = CJ.read_cifar10_jpeg(tmp_path / "data", normalize="none", verify=False)
    assert (i1["files"][0]["cache"], i2["files"][0]["cache"]) == ("miss", "hit")
    assert np.array_equal(a.x.numpy(), b.x.numpy()) and np.array_equal(a.y.numpy(), b.y.numpy())
    cached = list((tmp_path / "cache" / "cifar10-jpeg").iterdir())
    assert [p.name for p in cached] == [i1["files"][0]["sha256"][:16]]
    make_zip(tmp_path / "data", per_class=(2, 1))  # a different zip: a new key, decoded afresh
    c, _, i3 = CJ.read_cifar10_jpeg(tmp_path / "data", normalize="none", verify=False)
    assert i3["files"][0]["cache"] == "miss" and len(c) == 20


def test_a_damaged_cache_is_decoded_again(tmp_path):
    make_zip(tmp_path / "data")
    _, _, info = CJ.read_cifar10_jpeg(tmp_path / "data", normalize="none", verify=False)
    folder = tmp_path / "cache" / "cifar10-jpeg" / info["files"][0]["sha256"][:16]
    (folder / "train_x.npy").write_bytes(b"not an array")
    (folder / "test_y.npy").write_bytes(b"\x93NUMPY junk")
    x, _, again = CJ.read_cifar10_jpeg(tmp_path / "data", normalize="none", verify=False)
    assert again["files"][0]["cache"] == "miss" and len(x) == 30


def test_verify_rejects_a_copy_that_is_not_the_known_one(tmp_path):
    make_zip(tmp_path / "data")
    with pytest.raises(D.DataError, match=r"corrupt or a different version: md5 .*expected md5 c78e910b"):
        CJ.read_cifar10_jpeg(tmp_path / "data")


@pytest.mark.parametrize("extra, message", [
    ({"cifar10-jpeg/train/unicorn/0000.jpg": b"x"}, "unicorn"),
    ({"cifar10-jpeg/train/cat/9999.jpg": b"not a jpeg"}, "cannot decode"),
    ({"cifar10-jpeg/README.txt": b"hello"}, "README"),
])
def test_bad_members_are_named(tmp_path, extra, message):
    make_zip(tmp_path / "data", extra=extra)
    with pytest.raises(D.DataError, match=message):
        CJ.read_cifar10_jpeg(tmp_path / "data", verify=False, cache=False)


def test_wrong_image_size_and_broken_zip(tmp_path):
    make_zip(tmp_path / "a", size=16)
    with pytest.raises(D.DataError, match="16x16, expected 32x32"):
        CJ.read_cifar10_jpeg(tmp_path / "a", verify=False)
    bad = tmp_path / "b" / "cifar10-jpeg" / "cifar10_jpeg.zip"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(D.DataError, match="not a readable zip"):
        CJ.read_cifar10_jpeg(tmp_path / "b", verify=False)


def test_load_holds_out_validation_from_the_training_images(tmp_path):
    make_zip(tmp_path / "data", per_class=(4, 1))
    s = D.load("cifar10-jpeg", root=tmp_path / "data", val_split=10, verify=False)
    assert s.info["sizes"] == {"train": 30, "val": 10, "test": 10}
    assert sorted(s.val.y.tolist()) == list(range(10))  # stratified: one of each class
    assert s.info["label"] == D.label("cifar10-jpeg") == "CIFAR-10 (JPEG q75 copy)"
    with pytest.raises(ConfigError, match="download=True is not possible for cifar10-jpeg"):
        D.load("cifar10-jpeg", root=tmp_path / "data", download=True, verify=False)


def _cli(*args, env_root):
    import os
    env = {**os.environ, "REGPRUNE_DATA": str(env_root)}
    return subprocess.run([sys.executable, "-m", "regprune", "data", "check", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_data_check_exit_codes(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _cli(env_root=empty).returncode == 0  # nothing asked for: missing files are reported, not failed
    missing = _cli("cifar10-jpeg", env_root=empty)
    assert missing.returncode == 1 and "cifar10_jpeg.zip: missing" in missing.stderr
    assert "35eb4b0d6bcc5e59" in missing.stderr  # says what was expected
    make_zip(tmp_path / "bad")  # present but not the known copy
    wrong = _cli("--format", "json", env_root=tmp_path / "bad")
    assert wrong.returncode == 1
    row = next(r for r in json.loads(wrong.stdout)["files"] if r["dataset"] == "cifar10-jpeg")
    assert row["checksum_ok"] is False and row["expected_size"] == 63_750_935 and "wrong md5" in row["problem"]
    unknown = _cli("imagenet", env_root=empty)
    assert unknown.returncode == 2 and "dataset='imagenet'" in unknown.stderr


def test_data_check_passes_on_the_shared_copy():
    import os
    from pathlib import Path
    root = Path(os.environ.get("REGPRUNE_DATA", ""))
    if not (root / "cifar10-jpeg" / "cifar10_jpeg.zip").is_file():
        pytest.skip("the shared CIFAR-10 JPEG copy is not under $REGPRUNE_DATA")
    ok = _cli("mnist", "cifar10-jpeg", env_root=root)
    assert ok.returncode == 0, ok.stderr
