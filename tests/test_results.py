import json
import os

import pytest

from regprune import book, results, runner
from regprune.registry import ConfigError

from conftest import REPO, smoke_config


def test_key_is_stable_and_order_independent():
    a = smoke_config()
    b = dict(reversed(list(a.items())))
    assert results.run_key(a) == results.run_key(b)
    assert len(results.run_key(a)) == 16
    assert results.run_key(a) != results.run_key({**a, "seed": 1})


def test_run_or_load_stores_then_skips(tmp_path, monkeypatch):
    cfg = smoke_config(epochs=2)
    first = results.run_or_load(cfg, results_dir=tmp_path, device="cpu")
    path = tmp_path / "tests" / "smoke" / f"{results.run_key(cfg)}.json"
    assert path.exists()
    stored = json.loads(path.read_text())
    for field in ("config", "seed", "profile", "env", "history", "metrics", "counts", "wall_time_s", "data"):
        assert field in stored
    assert stored["env"]["torch"] and stored["counts"]["params"] == 266_610
    assert (stored["key"], stored["chapter"], stored["schema"]) == (results.run_key(cfg), "tests", results.SCHEMA)

    def boom(*a, **k):
        raise AssertionError("a stored run was recomputed")

    monkeypatch.setattr(results.experiment, "execute", boom)
    again = results.run_or_load(cfg, results_dir=tmp_path, device="cpu")
    assert again == first == stored
    with pytest.raises(AssertionError, match="recomputed"):
        results.run_or_load(cfg, results_dir=tmp_path, device="cpu", recompute=True)


def test_crash_mid_write_leaves_no_partial_file(tmp_path, monkeypatch):
    cfg = smoke_config(epochs=1)
    store = results.ResultStore(tmp_path)
    record = {"config": cfg, "metrics": {"test_acc": 0.5}}
    store.save(record)
    real_replace = os.replace

    def crash(src, dst):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        store.save({"config": cfg, "metrics": {"test_acc": 0.9}})
    monkeypatch.setattr(os, "replace", real_replace)
    assert store.load(cfg)["metrics"]["test_acc"] == 0.5  # the old file, whole
    assert [r["metrics"]["test_acc"] for r in store.records()] == [0.5]


def test_bad_config_fails_before_any_run(tmp_path, monkeypatch):
    good, bad = smoke_config(), {**smoke_config(), "model": {"name": "nope"}}
    monkeypatch.setattr(results.experiment, "execute", lambda *a, **k: pytest.fail("trained before checking"))
    with pytest.raises(ConfigError, match="model.name"):
        runner.sweep(lambda: [good, bad], label="t", results_dir=tmp_path, report=lambda line: None)


def test_frames(tmp_path):
    grid = [smoke_config(epochs=2), {**smoke_config(epochs=2), "seed": 1}]
    recs = runner.sweep(lambda: grid, label="t", results_dir=tmp_path, device="cpu", report=lambda line: None).records
    runs = results.to_frame(recs)
    assert list(runs["seed"]) == [0, 1] and "test_acc" in runs and "config.train.lr" in runs
    hist = results.history_frame(recs)
    assert len(hist) == 4 and set(hist["epoch"]) == {1, 2}


# A run killed mid-training and resumed: tests/test_faults.py kills the training process at exact
# steps (through a hook, never by racing a timer) and compares the resumed record with an
# uninterrupted one.


def test_book_renders_from_committed_cpu_results():
    """Every cpu-profile run a chapter asks for is stored, so `make book` needs no data and trains nothing.
    A run may have diverged only where the chapter keeps it as an ablation or a tried setting (the
    comparison's failed settings; 002's dense baseline at the other trial rate, LeNet-5-Caffe at 0.1).
    A stored-only grid (CIFAR, filled run by run) may be partly stored: its notebook shows what is there."""
    from regprune import chapters
    from regprune.chapters import comparison, switcher_network

    store = results.ResultStore(REPO / "results")
    in_book = book.notebooks(REPO)
    for chapter in chapters.CHAPTERS.names():
        meta = chapters.CHAPTERS.meta(chapter)
        if meta.get("draft"):  # not rendered until its runs are stored
            assert meta["notebook"] not in in_book, f"{chapter} is a draft but {meta['notebook']} is in _toc.yml"
            continue
        for config in chapters.configs(chapter, "cpu"):
            record = store.load(config)
            if record is None and chapters.stored_only(chapter):
                continue
            assert record is not None, f"{chapter}: no stored cpu result for seed {config['seed']}"
            ablation = ((chapter == "comparison" and comparison.method_of(config) in comparison.ABLATIONS)
                        or (chapter == "switcher_network" and switcher_network.describe(config)["variant"] == "lr=0.1"))
            assert record["status"] in (("completed", "diverged") if ablation else ("completed",)), \
                f"{chapter}: run {results.run_key(config)} {record['status']}"
            assert record["config"] == config
            assert record["env"]["torch"] and "git_commit" in record["env"]


@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_store_at_a_url_goes_through_fsspec(scheme, tmp_path, monkeypatch):
    """A store given as a URL (object storage for users; memory:// and file:// here) stores, loads
    and lists like a folder; checkpoints stay on the local disk."""
    monkeypatch.setenv("REGPRUNE_CHECKPOINTS", str(tmp_path / "checkpoints"))
    root = f"memory://regprune-{tmp_path.name}" if scheme == "memory" else (tmp_path / "store").as_uri()
    cfg = smoke_config(epochs=1)
    store = results.ResultStore(root)
    assert store.path(cfg) == f"{root}/tests/smoke/{results.run_key(cfg)}.json"
    assert store.checkpoint_path(cfg).is_relative_to(tmp_path / "checkpoints")
    record = results.run_or_load(cfg, results_dir=root, device="cpu", progress="none")
    assert record["status"] == "completed" and store.load(cfg) == record and store.records() == [record]
    other = {**cfg, "seed": 1}
    assert results.stored([cfg, other], root) == ([record], [other])
    assert not store.checkpoint_path(cfg).exists()
    monkeypatch.setattr(results.experiment, "execute", lambda *a, **k: pytest.fail("a stored run was recomputed"))
    assert results.run_or_load(cfg, results_dir=root, device="cpu") == record
    if scheme == "file":
        assert [p.name for p in (tmp_path / "store" / "tests" / "smoke").iterdir()] == [f"{results.run_key(cfg)}.json"]


def test_recompute_starts_from_scratch_not_from_a_stale_checkpoint(tmp_path):
    """A checkpoint at epoch 2 is left by an interrupted run; recompute must not resume from it:
    stopped after one epoch, the recomputed run has exactly one epoch of history."""
    cfg = smoke_config(epochs=3)
    part = results.run_or_load(cfg, results_dir=tmp_path, device="cpu", progress="none", stop_after_epoch=2)
    assert part["status"] == "interrupted" and results.ResultStore(tmp_path).checkpoint_path(cfg).exists()
    assert (part["key"], part["config"]) == (results.run_key(cfg), cfg)  # an interrupted run still says which
    again = results.run_or_load(cfg, results_dir=tmp_path, device="cpu", progress="none", recompute=True,
                                stop_after_epoch=1)
    assert again["status"] == "interrupted" and len(again["history"]) == 1


def test_post_training_analysis_skips_a_diverged_run(tmp_path):
    """Pruning and quantizing a network whose weights went to inf or nan would tabulate garbage."""
    cfg = {**smoke_config(epochs=2, lr=1e12), "hooks": [
        {"name": "snapshot_pruning", "theta_conv": 0.0, "theta_fc": [0.5], "adjust_samples": 64},
        {"name": "threshold_sweep", "steps": 3, "totals": [8], "fracs": [4]}]}
    record = results.run_or_load(cfg, results_dir=tmp_path, device="cpu", progress="none")
    assert record["status"] == "diverged"
    assert not {"pruning", "threshold_sweep", "quantization"} & set(record.get("extras", {}))


def test_run_or_load_repairs_a_bad_record_only_when_asked(tmp_path):
    cfg = smoke_config(epochs=1)
    path = tmp_path / "tests" / "smoke" / f"{results.run_key(cfg)}.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(Exception, match=str(path.name)):
        results.run_or_load(cfg, results_dir=tmp_path, device="cpu", progress="none")
    assert path.read_text() == "{not json"  # nothing stored is replaced unless asked
    with pytest.warns(UserWarning, match="moved aside"):
        rec = results.run_or_load(cfg, results_dir=tmp_path, device="cpu", progress="none", repair=True)
    assert rec["status"] == "completed" and json.loads(path.read_text())["key"] == results.run_key(cfg)
