"""Shared fixtures. Tests read real data from $REGPRUNE_DATA, else ../shared/data when it exists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

if "REGPRUNE_DATA" not in os.environ and (REPO.parent / "shared" / "data").is_dir():
    os.environ["REGPRUNE_DATA"] = str(REPO.parent / "shared" / "data")
os.environ.setdefault("REGPRUNE_PROGRESS", "none")
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)  # one process per core
    os.environ["OMP_NUM_THREADS"] = "1"  # and one thread in the notebook kernels it starts


@pytest.fixture
def mnist_root() -> Path:
    root = Path(os.environ.get("REGPRUNE_DATA", REPO / "data"))
    if not (root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found under {root}/MNIST/raw (set REGPRUNE_DATA)")
    return root


@pytest.fixture
def one_thread():
    """Train on one thread, as Ray tasks and subprocess workers do, so results compare bit for bit."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def smoke_config(**train) -> dict:
    """A small run config on synthetic MNIST-shaped data."""
    return {
        "chapter": "tests",
        "profile": "smoke",
        "seed": 0,
        "data": {"name": "synthetic-mnist", "val_split": 128, "n_train": 512, "n_test": 128},
        "model": {"name": "lenet300"},
        "loss": {"name": "cross_entropy"},
        "train": {"epochs": 3, "batch_size": 64, "lr": 0.05, "schedule": "cosine", "weight_decay": 1e-4, **train},
    }


def fake_store(results_dir, configs, val_acc) -> None:
    """Store completed records with the validation accuracy ``val_acc(config)`` (no training):
    enough for a staged grid to take its next step."""
    from regprune import results

    store = results.ResultStore(results_dir)
    for c in configs:
        store.save({"config": c, "key": results.run_key(c), "status": "completed",
                    "metrics": {"val_acc": val_acc(c), "test_acc": 0.5}})


def skip_under_mutmut() -> None:
    """A warning's stacklevel cannot be checked under mutmut: it calls every function through a
    trampoline frame. Such a test runs in ``make test`` only."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        pytest.skip("under mutmut every call passes through a trampoline frame, so no stacklevel is right")


@pytest.fixture
def utc_plus_0530(monkeypatch):
    """The process in a UTC+05:30 zone for the test, so a time stamped in local time is off by hours."""
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()

