"""The GPU path where a GPU is present; every test here is skipped without one.

What a CPU cannot show: ``precision: "auto"`` on a real device, the fp16 path with its loss scaler
on the device it is for, and CUDA graphs (``train.compile: "reduce-overhead"``) training a
parametrized network as eager mode does. On a lent GPU, ``tools/device_bench.sh`` runs this file
(step ``cuda_tests``) before its benchmarks.
"""

from __future__ import annotations

import shutil

import pytest
import torch
from torch import nn

from regprune import reparam
from regprune.data import ArrayDataset, Splits
from regprune.train import TrainConfig, fit, resolve_precision

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
DEVICE = "cuda"  # a dry run of the test code itself on a CPU sets "cpu" (no CUDA graphs there)

# GPUs by name, and whether they compute bf16 in hardware (NVIDIA's data sheets): an oracle apart
# from the compute capability that the code reads
BF16_BY_NAME = {"T4": False, "V100": False, "P100": False, "K80": False, "P4": False,
                "A100": True, "A10": True, "A40": True, "L4": True, "L40": True, "H100": True, "H200": True,
                "RTX 30": True, "RTX 40": True}


def test_auto_precision_is_bf16_where_the_gpu_has_it_and_fp16_elsewhere():
    name = torch.cuda.get_device_name(0)
    known = [bf16 for model, bf16 in BF16_BY_NAME.items() if model in name]
    if not known:
        pytest.skip(f"{name}: not in this test's list of GPUs")
    assert resolve_precision("auto", torch.device("cuda")) == ("bf16" if known[0] else "fp16")


def splits(shape: tuple[int, ...], n: int = 96) -> Splits:
    g = torch.Generator().manual_seed(0)
    ds = ArrayDataset(torch.randn(n, *shape, generator=g), torch.randint(0, 3, (n,), generator=g), 3)
    return Splits(ds, ds, ds, {})


def mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3))


def convnet() -> nn.Module:  # channels_last on the GPU, as the engine's "auto" trains conv nets
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 3))


def train(build, spec, *, compile_=False, precision="fp32", masked=False):
    from regprune.pruning import apply_masks, magnitude_masks, std_thresholds

    torch._dynamo.reset()
    torch.manual_seed(0)
    net = reparam.apply(build(), spec)
    if masked:
        apply_masks(net, magnitude_masks(net, std_thresholds(net, 0.5, 0.5)))
    cfg = TrainConfig(epochs=3, batch_size=16, lr=0.1, momentum=0.9, weight_decay=0.05, select="last",
                      compile=compile_, precision=precision)
    result = fit(net, splits((1, 8, 8)), cfg, device=DEVICE, progress="none")
    return result, {k: p.detach().cpu() for k, p in net.named_parameters()}


@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                    reason="torch.compile needs a C++ compiler for its host code")
@pytest.mark.parametrize("build, spec, masked", [
    (mlp, {"name": "compander", "a": 0.8, "b": 0.5}, False),  # the decay folded into the backward
    (convnet, {"name": "compander", "a": 0.8, "b": 0.5}, False),  # channels_last
    (mlp, {"name": "compander", "a": 0.8, "b": 0.5}, True),  # behind a mask: the decay a penalty on cached weights
    (mlp, {"name": "compander", "a": 0.5, "b": 1.0, "learnable": "fine"}, False),  # a, b learned
], ids=["compander", "compander-conv", "compander-masked", "compander-fine"])
def test_cuda_graphs_train_a_parametrized_network_as_eager_mode_does(build, spec, masked):
    """The same tolerance as the CPU test of compiled reparameterizations (test_reparam)."""
    eager_result, eager = train(build, spec, masked=masked)
    graphs_result, graphs = train(build, spec, compile_="reduce-overhead", masked=masked)
    assert graphs_result.status == eager_result.status == "completed"
    for k in eager:
        assert torch.allclose(eager[k], graphs[k], rtol=1e-4, atol=1e-6), k


def test_fp16_with_its_loss_scaler_trains_the_compander_as_fp32_does():
    """Colab's T4 path, on whatever GPU is here: the effective decay becomes a penalty under the
    scaler, every loss stays finite, and the losses stay within 2% of fp32's."""
    spec = {"name": "compander", "a": 0.8, "b": 0.5}
    fp32, _ = train(mlp, spec)
    fp16, _ = train(mlp, spec, precision="fp16")
    assert fp16.status == "completed" and fp16.metrics["precision"] == "fp16"
    for a, b in zip(fp32.history, fp16.history):
        for key in ("train_loss", "val_loss"):
            assert b[key] == pytest.approx(a[key], rel=0.02), (a["epoch"], key)


@pytest.mark.parametrize("name", ["resnet20", "lenet5", "quicknet"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_layout_keeping_backwards_train_bit_identical_numbers_on_the_gpu(name, precision, monkeypatch):
    """``regprune.models.layout`` and the option-A shortcut's backward on a GPU, as
    ``tests/test_models.py`` checks them on the CPU: three SGD steps, the same numbers as torch's
    own functions. cuDNN is made deterministic so that both sides can be compared bit for bit."""
    from test_models import _plain_layout_functions, _train_steps

    if precision == "bf16" and not torch.cuda.is_bf16_supported(including_emulation=False):
        pytest.skip("no bf16 on this GPU")
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    ours = _train_steps(name, {}, precision, device=DEVICE)
    with monkeypatch.context() as m:
        _plain_layout_functions(m)
        plain = _train_steps(name, {}, precision, device=DEVICE)
    assert all(torch.equal(a, b) for a, b in zip(ours, plain))
