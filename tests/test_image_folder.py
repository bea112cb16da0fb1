"""The image_folder data set on tiny fake folders (class-per-subfolder and TinyImageNet layouts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from regprune import data as D
from regprune.data.normalize import to_float
from regprune.registry import ConfigError

CLASSES = ["zebra", "apple", "mango"]  # sorted: apple=0, mango=1, zebra=2 (not creation order)
RANK = {c: i for i, c in enumerate(sorted(CLASSES))}
PER_CLASS, PER_CLASS_VAL = 4, 2


def _color(rank: int, j: int, rng: np.random.Generator) -> tuple[int, int, int]:
    """Solid colour encoding the class rank in red and the file's sorted position in green."""
    return 20 + 60 * rank, 30 + 50 * j, int(rng.integers(0, 256))


def _decode(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(class rank, position in class) from 0..255 images made by _color (JPEG may shift colours a bit)."""
    r, g = x[:, 0].mean((1, 2)), x[:, 1].mean((1, 2))
    return ((r - 20) / 60).round().long(), ((g - 30) / 50).round().long()


def _save(path: Path, rgb: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (12, 10), rgb).save(path)  # 12 wide, 10 high: resizing is needed and not square


def make_class_folders(root: Path, seed: int = 0) -> Path:
    """root/train/<class>/*.png (4 per class) and root/val/<class>/*.png (2 per class)."""
    rng = np.random.default_rng(seed)
    for part, n in (("train", PER_CLASS), ("val", PER_CLASS_VAL)):
        for c in CLASSES:
            for j in reversed(range(n)):  # written in reverse name order
                _save(root / part / c / f"{c}_{j}.png", _color(RANK[c], j, rng))
    return root


def make_tinyimagenet(root: Path, seed: int = 0) -> tuple[Path, dict[str, str]]:
    """TinyImageNet layout; returns the folder and the val file -> wnid mapping written."""
    rng = np.random.default_rng(seed)
    for c in CLASSES:
        for j in range(PER_CLASS):
            _save(root / "train" / c / "images" / f"{c}_{j}.JPEG", _color(RANK[c], j, rng))
        (root / "train" / c / f"{c}_boxes.txt").write_text("")  # as in the real set: not an image
    val_class = [CLASSES[i % 3] for i in (0, 1, 1, 2, 0, 2)]  # val_0 .. val_5, classes interleaved
    seen: dict[str, int] = {}
    mapping = {}
    for n, c in enumerate(val_class):
        j = seen[c] = seen.get(c, -1) + 1
        mapping[f"val_{n}.JPEG"] = c
        _save(root / "val" / "images" / f"val_{n}.JPEG", _color(RANK[c], j, rng))
    (root / "val" / "val_annotations.txt").write_text(
        "".join(f"{f}\t{c}\t0\t0\t11\t9\n" for f, c in mapping.items()))
    return root, mapping


@pytest.fixture
def folders(tmp_path):
    return make_class_folders(tmp_path / "generic")


@pytest.fixture
def tiny(tmp_path):
    return make_tinyimagenet(tmp_path / "tiny")


# --------------------------------------------------------------------------- layouts and labels


def test_class_folders_shapes_and_sorted_labels(folders):
    s = D.load("image_folder", path=str(folders), size=8, val_split=2, normalize="none")
    assert (len(s.train), len(s.val), len(s.test)) == (3 * PER_CLASS - 2, 2, 3 * PER_CLASS_VAL)
    for part in (s.train, s.val, s.test):
        assert part.input_shape == (3, 8, 8) and part.num_classes == 3 and part.x.dtype == torch.float32
        rank, _ = _decode(part.x)
        assert torch.equal(part.y, rank)  # label = position of the class name in sorted order
    assert s.test.y.bincount().tolist() == [PER_CLASS_VAL] * 3
    assert s.train.x.min() >= 0 and s.train.x.max() > 1 and torch.equal(s.train.x, s.train.x.round())
    info = json.loads(json.dumps(s.info))
    assert info["folder"]["classes"] == ["apple", "mango", "zebra"] and info["folder"]["layout"] == "class-folders"
    assert info["input_shape"] == [3, 8, 8] and info["num_classes"] == 3 and info["files"] == []


def test_tinyimagenet_layout_reads_val_annotations(tiny):
    folder, mapping = tiny
    s = D.load("image_folder", path=str(folder), size=8, val_split=2, normalize="none")
    assert s.info["folder"]["layout"] == "tinyimagenet"
    assert (len(s.train) + len(s.val), len(s.test)) == (3 * PER_CLASS, len(mapping))
    assert s.train.input_shape == (3, 8, 8) and s.test.input_shape == (3, 8, 8)
    for part in (s.train, s.val, s.test):
        assert torch.equal(part.y, _decode(part.x)[0])  # each image's colour encodes its true class
    want = sorted(RANK[c] for c in mapping.values())
    assert sorted(s.test.y.tolist()) == want and s.test.y.bincount().tolist() == [2, 2, 2]


def test_tinyimagenet_test_labels_follow_annotations_not_colours(tiny):
    folder, mapping = tiny
    ann = folder / "val" / "val_annotations.txt"  # relabel val_0 (a zebra image) as apple
    ann.write_text(ann.read_text().replace("val_0.JPEG\tzebra", "val_0.JPEG\tapple"))
    test = D.read_image_folder(folder, size=4, normalize="none")[1]
    rank = _decode(test.x)[0]
    assert (test.y != rank).sum() == 1 and test.y[rank == RANK["zebra"]].tolist().count(RANK["apple"]) == 1


@pytest.mark.parametrize("layout", ["class-folders", "tinyimagenet"])
def test_limit_per_class_keeps_first_files_by_name(tmp_path, layout):
    folder = make_class_folders(tmp_path) if layout == "class-folders" else make_tinyimagenet(tmp_path)[0]
    for limit in (1, 2):
        s = D.load("image_folder", path=str(folder), size=4, val_split=1, limit_per_class=limit, normalize="none")
        full_x = torch.cat([s.train.x, s.val.x])
        full_y = torch.cat([s.train.y, s.val.y])
        assert full_y.bincount().tolist() == [limit] * 3 and s.test.y.bincount().tolist() == [limit] * 3
        first = sorted(list(range(limit)) * 3)  # the first `limit` names of each class
        assert sorted(_decode(full_x)[1].tolist()) == first and sorted(_decode(s.test.x)[1].tolist()) == first
        assert s.info["folder"]["n_train_files"] == 3 * limit and s.info["folder"]["limit_per_class"] == limit
    assert len(D.load("image_folder", path=str(folder), size=4, val_split=1).test) == 6  # no limit: all


def test_relative_path_is_under_data_root(tmp_path, folders):
    s = D.load("image_folder", tmp_path, path="generic", size=4, val_split=1)
    assert s.info["folder"]["path"] == str(folders) and len(s.test) == 3 * PER_CLASS_VAL


def test_custom_train_and_test_dirs(folders):
    (folders / "train").rename(folders / "learn")
    (folders / "val").rename(folders / "holdout")
    s = D.load("image_folder", path=str(folders), size=4, val_split=1, train_dir="learn", test_dir="holdout")
    assert len(s.train) + len(s.val) == 3 * PER_CLASS and len(s.test) == 3 * PER_CLASS_VAL


# --------------------------------------------------------------------------- pixels and normalization


def test_resize_is_pil_bilinear_and_modes_become_rgb(tmp_path):
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    gray = rng.integers(0, 256, (10, 12), dtype=np.uint8)
    rgba = rng.integers(0, 256, (10, 12, 4), dtype=np.uint8)
    for part in ("train", "val"):
        (tmp_path / part / "a").mkdir(parents=True)
        Image.fromarray(noise).save(tmp_path / part / "a" / "0.png")
        Image.fromarray(gray, mode="L").save(tmp_path / part / "a" / "1.png")
        Image.fromarray(rgba, mode="RGBA").save(tmp_path / part / "a" / "2.png")
    train, test, info = D.read_image_folder(tmp_path, size=5, normalize="none")
    assert train.x.shape == (3, 3, 5, 5) and test.x.shape == (3, 3, 5, 5)
    want = np.asarray(Image.fromarray(noise).resize((5, 5), Image.Resampling.BILINEAR)).transpose(2, 0, 1)
    assert torch.equal(train.x[0], torch.tensor(want, dtype=torch.float32))
    nearest = np.asarray(Image.fromarray(noise).resize((5, 5), Image.Resampling.NEAREST)).transpose(2, 0, 1)
    assert not np.array_equal(want, nearest)  # so the check above does tell the filters apart
    assert torch.equal(train.x[1, 0], train.x[1, 1]) and torch.equal(train.x[1, 0], train.x[1, 2])  # L -> RGB
    assert train.x.shape[1] == 3 and train.num_classes == 1


def test_standardize_uses_training_set_statistics(folders):
    raw = D.load("image_folder", path=str(folders), size=8, val_split=2, normalize="none")
    std = D.load("image_folder", path=str(folders), size=8, val_split=2)  # standardize is the default
    full = torch.cat([std.train.x, std.val.x])
    assert full.mean((0, 2, 3)).abs().max() < 1e-5  # ~zero mean per channel over the training images
    assert (full.std((0, 2, 3), unbiased=False) - 1).abs().max() < 1e-4
    raw_full = torch.cat([raw.train.x, raw.val.x]).double() / 255
    norm = std.info["normalization"]
    assert norm["mode"] == "standardize" and "computed" in norm["stats_of"]
    assert np.allclose(norm["mean"], raw_full.mean((0, 2, 3)).tolist(), atol=1e-9)
    assert np.allclose(norm["std"], raw_full.std((0, 2, 3), unbiased=False).tolist(), atol=1e-9)
    mean, sd = torch.tensor(norm["mean"]).view(1, 3, 1, 1), torch.tensor(norm["std"]).view(1, 3, 1, 1)
    assert torch.allclose(std.test.x, (raw.test.x / 255 - mean) / sd, atol=1e-5)  # test uses train stats
    assert std.test.x.mean((0, 2, 3)).abs().max() > 1e-3  # ... not its own
    unit = D.load("image_folder", path=str(folders), size=8, val_split=2, normalize="unit")
    assert torch.allclose(unit.test.x, raw.test.x / 255) and unit.info["normalization"]["scale"] == "0..1"


def test_existing_datasets_keep_fixed_stats():
    rec = D.norm_record("standardize", "cifar10")
    assert rec["mean"] == list(D.STATS["cifar10"][0]) and rec["stats_of"] == "cifar10"
    u8 = torch.full((2, 3, 2, 2), 255, dtype=torch.uint8)
    x, _ = to_float(u8, "standardize", "cifar10")
    assert torch.allclose(x[0, :, 0, 0], (1 - torch.tensor(D.STATS["cifar10"][0])) / torch.tensor(D.STATS["cifar10"][1]))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kw, param", [
    ({}, "path"),
    ({"path": ""}, "path"),
    ({"path": 3}, "path"),
    ({"path": "x", "size": 0}, "size"),
    ({"path": "x", "size": 8.0}, "size"),
    ({"path": "x", "limit_per_class": 0}, "limit_per_class"),
    ({"path": "x", "limit_per_class": True}, "limit_per_class"),
    ({"path": "x", "train_dir": ""}, "train_dir"),
    ({"path": "x", "test_dir": None}, "test_dir"),
    ({"path": "x", "download": True}, "download"),
])
def test_bad_settings_are_config_errors_before_reading(tmp_path, kw, param):
    with pytest.raises(ConfigError, match=param):
        D.check_load_args("image_folder", **kw)  # what run configs are checked with
    with pytest.raises(ConfigError, match=param):
        D.load("image_folder", tmp_path / "absent", **kw)


def test_download_message_says_to_supply_the_folder(folders):
    with pytest.raises(ConfigError) as err:
        D.load("image_folder", path=str(folders), download=True)  # even where the folder exists
    assert "path=" in str(err.value) and "yourself" in str(err.value)


def test_unknown_setting_is_rejected(folders):
    with pytest.raises(ConfigError, match="unknown argument"):
        D.load("image_folder", path=str(folders), resize=8)


def test_missing_folders_name_the_path_and_parameter(tmp_path, folders):
    with pytest.raises(D.DataError) as err:
        D.load("image_folder", path=str(tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in str(err.value) and "path" in str(err.value)
    with pytest.raises(D.DataError) as err:
        D.load("image_folder", path=str(folders), train_dir="training")
    assert str(folders / "training") in str(err.value) and "train_dir" in str(err.value)
    with pytest.raises(D.DataError) as err:
        D.load("image_folder", path=str(folders), test_dir="test")
    assert str(folders / "test") in str(err.value) and "test_dir" in str(err.value)


def test_empty_class_folder_is_an_error(folders):
    (folders / "train" / "kiwi").mkdir()
    (folders / "train" / "kiwi" / "notes.txt").write_text("no images here")
    with pytest.raises(D.DataError) as err:
        D.load("image_folder", path=str(folders))
    assert str(folders / "train" / "kiwi") in str(err.value) and "no images" in str(err.value)


def test_train_folder_without_classes_is_an_error(tmp_path):
    (tmp_path / "train").mkdir()
    _save(tmp_path / "train" / "loose.png", (1, 2, 3))
    with pytest.raises(D.DataError, match="class subfolders"):
        D.load("image_folder", path=str(tmp_path))


def test_test_class_not_in_train_is_an_error(tmp_path, folders, tiny):
    _save(folders / "val" / "kiwi" / "kiwi_0.png", (1, 2, 3))
    with pytest.raises(D.DataError, match="kiwi"):
        D.load("image_folder", path=str(folders))
    folder, _ = tiny
    ann = folder / "val" / "val_annotations.txt"
    ann.write_text(ann.read_text() + "val_0.JPEG\tn01443537\t0\t0\t1\t1\n")
    with pytest.raises(D.DataError) as err:
        D.load("image_folder", path=str(folder))
    assert "n01443537" in str(err.value) and "val_annotations.txt" in str(err.value)


def test_annotated_file_missing_is_an_error(tiny):
    folder, _ = tiny
    (folder / "val" / "images" / "val_3.JPEG").unlink()
    with pytest.raises(D.DataError, match="val_3.JPEG"):
        D.load("image_folder", path=str(folder))


def test_unreadable_image_names_the_file(folders):
    bad = folders / "train" / "apple" / "apple_9.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(D.DataError) as err:
        D.load("image_folder", path=str(folders))
    assert str(bad) in str(err.value)


def test_registration_keeps_check_working(tmp_path):
    assert "image_folder" in D.DATASETS.names() and D.DATASETS.meta("image_folder")["kind"] == "folder"
    rows = D.check(tmp_path)
    assert rows and not any(r["dataset"] == "image_folder" for r in rows)
    assert "memory" in D.read_image_folder.__doc__ and "streaming" in D.read_image_folder.__doc__
