"""Shards for parallel workers and records brought home from a lent machine's store."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import smoke_config
from regprune import chapters, results, transfer
from regprune.registry import ConfigError


def test_shards_cover_a_grid_once():
    grid = chapters.configs("flops_pruning", "cpu")
    for n in (1, 2, 3, 5):
        owners = [[i for i in range(n) if transfer.in_shard(c, (i, n))] for c in grid]
        assert all(len(o) == 1 for o in owners)
    assert {len([c for c in grid if transfer.in_shard(c, (i, 2))]) for i in (0, 1)} != {0}


@pytest.mark.parametrize("text", ["2/2", "-1/3", "a/b", "1", "0/0", "1/2/3"])
def test_bad_shards_are_named(text):
    from regprune import inputs

    with pytest.raises(ConfigError, match="--shard=.*I/N"):
        inputs.fields()["shard"].check("--shard", text, text=True)
    assert inputs.fields()["shard"].check("--shard", " 1 / 3", text=True) == (1, 3)


def _record(config, **extra):
    return {"config": config, "key": results.run_key(config), "status": "completed",
            "metrics": {"test_acc": 0.5}, **extra}


def test_import_keeps_what_is_home_and_rejects_forged_records(tmp_path):
    src, home = tmp_path / "device", tmp_path / "home"
    a, b, c = (smoke_config(lr=lr) for lr in (0.01, 0.02, 0.03))
    device = results.ResultStore(src)
    for cfg in (a, b, c):
        device.save(_record(cfg))
    results.ResultStore(home).save(_record(b))  # identical at home
    results.ResultStore(home).save(_record(c, metrics={"test_acc": 0.9}))  # differs at home: a conflict
    forged = device.path(a).with_name("0123456789abcdef.json")  # a's record under another run's key
    forged.write_text(device.path(a).read_text())
    (device.path(a).parent / "ffffffffffffffff.json").write_text("{truncated")
    before = {p: p.read_bytes() for p in home.rglob("*.json")}
    out = transfer.import_records(src, home)
    assert [len(out[k]) for k in ("imported", "identical", "conflict", "invalid")] == [1, 1, 1, 2]
    assert results.ResultStore(home).load(a)["key"] == results.run_key(a)
    assert all(p.read_bytes() == data for p, data in before.items())  # nothing at home replaced
    cli = subprocess.run([sys.executable, "-m", "regprune", "import-results", str(src), "--results-dir", str(home)],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1 and "conflict:" in cli.stderr and "0 imported, 2 identical" in cli.stdout
