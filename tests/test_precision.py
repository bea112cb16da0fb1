"""Mixed precision: ``auto`` picks what the device computes natively, fp16 trains with a loss scaler
(Colab's T4 has no bf16) and resumes with it, and every record says what precision ran."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from regprune import data, environment, train
from regprune.train import TrainConfig, fit, resolve_precision


def test_auto_resolves_by_device(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(environment, "cpu_model", lambda: {"cpu_model": "x", "cpu_bf16": True})
    assert resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(environment, "cpu_model", lambda: {"cpu_model": "x", "cpu_bf16": False})
    assert resolve_precision("auto", cpu) == "fp32"
    monkeypatch.setattr(environment, "cpu_model", lambda: {"cpu_model": "x"})  # flags unreadable
    assert resolve_precision("auto", cpu) == "fp32"
    # torch's own check says yes on a T4 too (bf16 emulated there, by default): it must not decide
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    monkeypatch.setattr(torch.version, "hip", None)
    capability = {}
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: SimpleNamespace(**capability))
    capability.update(major=7, minor=5)  # Colab's T4: no bf16 in hardware
    assert resolve_precision("auto", cuda) == "fp16"
    capability.update(major=8, minor=0)  # an A100 or later
    assert resolve_precision("auto", cuda) == "bf16"
    capability.update(major=9, minor=0)  # an H100/H200
    assert resolve_precision("auto", torch.device("cuda", 0)) == "bf16"
    for explicit in ("fp32", "bf16", "fp16"):
        assert resolve_precision(explicit, cuda) == explicit == resolve_precision(explicit, cpu)


def _run(precision, tmp_path, **kw):
    splits = data.load("synthetic-mnist", val_split=64, n_train=256, n_test=64)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    cfg = TrainConfig(epochs=3, batch_size=64, lr=0.05, precision=precision)
    return fit(model, splits, cfg, seed=0, progress="none", **kw)


def test_fp16_trains_with_a_loss_scaler_and_records_its_precision(tmp_path, monkeypatch):
    scaled = []
    real = torch.amp.GradScaler.scale
    monkeypatch.setattr(torch.amp.GradScaler, "scale", lambda self, t: scaled.append(1) or real(self, t))
    result = _run("fp16", tmp_path)
    assert result.status == "completed" and result.metrics["precision"] == "fp16"
    assert len(scaled) == 3 * 3  # every step (3 epochs x 192 / 64 batches) went through the scaler
    assert _run("fp32", tmp_path).metrics["precision"] == "fp32" and len(scaled) == 9  # fp32: no scaler


def test_auto_records_what_it_resolved_to(tmp_path, monkeypatch):
    monkeypatch.setattr(environment, "cpu_model", lambda: {"cpu_model": "x", "cpu_bf16": False})
    assert _run("auto", tmp_path).metrics["precision"] == "fp32"


def test_fp16_resumes_with_the_scaler_state(tmp_path):
    whole = _run("fp16", tmp_path)
    ckpt = tmp_path / "run.pt"
    first = _run("fp16", tmp_path, checkpoint=ckpt, fingerprint="k", stop_after_epoch=1)
    assert first.status == "interrupted"
    saved = train.load_checkpoint(ckpt, "k", torch.device("cpu"))
    assert saved["scaler"]["scale"] > 0  # the scaler's state travels in the checkpoint's JSON part
    resumed = _run("fp16", tmp_path, checkpoint=ckpt, fingerprint="k")
    assert [h["val_loss"] for h in resumed.history] == [h["val_loss"] for h in whole.history]
    assert all(torch.equal(a, b) for a, b in zip(resumed.model.state_dict().values(), whole.model.state_dict().values()))
