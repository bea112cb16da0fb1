"""Model zoo: exact sizes, shapes, registry errors, head replacement, copying."""

import copy
import pickle

import pytest
import torch
from torch import nn

from regprune import models
from regprune.models.lenet import LeNet
from regprune.models.resnet_cifar import CifarResNet
from regprune.registry import ConfigError

RESNETS = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7}  # millions; He et al. 2016, Table 6


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def resnet_params_formula(depth: int, num_classes: int = 10) -> int:
    """Option-A CIFAR ResNet: 3x3 convs without bias, BN weight+bias, linear 64->classes."""
    n = (depth - 2) // 6
    total = 3 * 16 * 9 + 2 * 16  # stem conv + BN
    c_in = 16
    for c in (16, 32, 64):
        for _ in range(n):
            total += c_in * c * 9 + c * c * 9 + 4 * c
            c_in = c
    return total + 64 * num_classes + num_classes


def test_registry_lists_all_models():
    assert {"lenet300", "lenet5", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110"} <= set(models.names())


def test_lenet_parameter_counts():
    assert n_params(models.build("lenet300")) == 266_610
    assert n_params(models.build("lenet5")) == 431_080


def test_lenet_structure_features_classifier():
    for name in ("lenet300", "lenet5"):
        m = models.build(name)
        assert isinstance(m, LeNet) and isinstance(m.classifier, nn.Sequential)
        assert m.features(torch.zeros(2, 1, 28, 28)).shape == (2, m.classifier[0].in_features)
    lenet5 = models.build("lenet5")
    # Caffe's LeNet-5 has no ReLU after the convolutions.
    assert not any(isinstance(x, nn.ReLU) for x in lenet5.features)
    assert [k for k, _ in lenet5.named_children()] == ["features", "classifier"]
    assert lenet5.classifier.fc1.in_features == 800


@pytest.mark.parametrize("depth", sorted(RESNETS))
def test_resnet_parameter_counts(depth):
    got = n_params(models.build(f"resnet{depth}"))
    assert got == resnet_params_formula(depth)
    assert round(got / 1e6, 2 if depth < 110 else 1) == RESNETS[depth]


def test_resnet_exact_parameter_counts():
    # Option-A shortcuts are parameter-free; 272,474 would be ResNet-20 with 1x1-conv+BN (option B) shortcuts.
    exact = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962}
    assert {d: n_params(models.build(f"resnet{d}")) for d in exact} == exact


def test_resnet_module_names():
    names = dict(models.build("resnet20").named_modules())
    for key in ("conv1", "bn1", "layer1", "layer3.2.conv2", "layer2.0.bn2", "layer2.0.shortcut", "linear"):
        assert key in names
    assert len([m for m in names.values() if isinstance(m, nn.Conv2d)]) == 19


@pytest.mark.parametrize("name", models.names())
def test_forward_shape_and_defaults(name):
    m = models.build(name)
    x = torch.randn(2, *models.input_shape(name))
    assert m(x).shape == (2, models.default_num_classes(name))


def test_input_shapes():
    assert models.input_shape("lenet5") == (1, 28, 28)
    assert models.input_shape("resnet56") == (3, 32, 32)
    assert models.default_num_classes("resnet20") == 10
    assert "He et al." in models.MODELS.meta("resnet20")["paper"]


def test_unknown_name_lists_allowed():
    with pytest.raises(ConfigError) as err:
        models.build("resnet19")
    for name in models.names():
        assert repr(name) in str(err.value)
    with pytest.raises(ConfigError):
        models.input_shape("nope")


def test_bad_resnet_depth():
    with pytest.raises(ConfigError, match="6n\\+2"):
        CifarResNet(21)


@pytest.mark.parametrize("name", models.names())
def test_num_classes_changes_only_last_layer(name):
    a = models.build(name).state_dict()
    b = models.build(name, num_classes=100).state_dict()
    assert list(a) == list(b)
    changed = [k for k in a if a[k].shape != b[k].shape]
    last = [k for k in a if a[k].dim() > 0][-2:]  # the final layer's weight and bias
    assert changed == last
    assert b[last[0]].shape[0] == 100 and b[last[1]].shape == (100,)


def test_resnet_kaiming_init():
    torch.manual_seed(0)
    w = models.build("resnet110").layer3[5].conv1.weight
    fan_in = 64 * 9
    assert abs(w.std().item() - (2 / fan_in) ** 0.5) < 0.005


@pytest.mark.parametrize("name", ["resnet20", "densenet40"])
def test_deepcopy_and_pickle(name):
    m = models.build(name).eval()
    x = torch.randn(2, 3, 32, 32)
    ref = m(x)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert torch.equal(clone(x), ref)


def test_lenet5_conv_relu_option():
    import torch

    plain, relu = models.build("lenet5"), models.build("lenet5", conv_relu=True)
    assert sum(p.numel() for p in relu.parameters()) == 431_080
    relu.load_state_dict(plain.state_dict())
    x = torch.randn(4, 1, 28, 28)
    assert not torch.allclose(plain(x), relu(x))
    assert isinstance(relu.features.act1, torch.nn.ReLU) and isinstance(plain.features.act1, torch.nn.Identity)


# --- gradients in the input's layout (regprune.models.layout): same numbers, the gradient stays channels_last

def _train_steps(name: str, kwargs: dict, precision: str, steps: int = 3, device: str = "cpu") -> list[torch.Tensor]:
    """Parameters, the input's gradient and the loss after ``steps`` SGD steps from seed 0, trained
    channels_last as the engine trains conv nets (bf16: under autocast). ``tests/test_cuda.py``
    runs it on a GPU."""
    torch.manual_seed(0)
    model = models.build(name, **kwargs).to(device, memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, foreach=True)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, *models.input_shape(name), generator=g).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (8,), generator=g).to(device)
    x = x.to(device).requires_grad_(True)
    for _ in range(steps):
        with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = nn.functional.cross_entropy(model(x).float(), y)
        opt.zero_grad()
        x.grad = None
        loss.backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()] + [x.grad.clone(), loss.detach()]


def _plain_layout_functions(monkeypatch):
    """The models as they were written before regprune.models.layout: torch's own flatten, global
    average pool and option-A shortcut, with autograd's own backward (the oracle)."""
    from regprune import filter_pruning
    from regprune.models import densenet, layout, mobilenet, resnet, resnet_cifar, wrn

    def plain_pool(x):
        return nn.functional.adaptive_avg_pool2d(x, 1)

    for module in (resnet_cifar, wrn, densenet, mobilenet, resnet, filter_pruning):
        monkeypatch.setattr(module, "global_avg_pool", plain_pool)
    monkeypatch.setattr(layout.Flatten, "forward", nn.Flatten.forward)
    monkeypatch.setattr(resnet_cifar.PadShortcut, "forward", lambda self, x: nn.functional.pad(
        x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2)))


@pytest.mark.parametrize("name,kwargs", [("resnet20", {}), ("lenet5", {}), ("quicknet", {}), ("lenet300", {}),
                                         ("wrn", {"depth": 10, "widen_factor": 1, "dropout": 0.0}),
                                         ("densenet40", {}), ("mobilenet_v1", {}), ("resnet18", {})])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_layout_keeping_backwards_train_bit_identical_numbers(name, kwargs, precision, monkeypatch):
    ours = _train_steps(name, kwargs, precision)
    with monkeypatch.context() as m:
        _plain_layout_functions(m)
        plain = _train_steps(name, kwargs, precision)
    assert all(torch.equal(a, b) for a, b in zip(ours, plain))


def test_the_gradients_come_back_in_the_inputs_layout():
    """What the functions are for: autograd's own backward of these three returns a contiguous
    gradient to a channels_last tensor inside the graph; theirs returns the same values
    channels_last."""
    from regprune.models.layout import Flatten, global_avg_pool
    from regprune.models.resnet_cifar import PadShortcut

    for fn, plain in ((global_avg_pool, lambda x: nn.functional.adaptive_avg_pool2d(x, 1)),
                      (Flatten(), nn.Flatten()),
                      (PadShortcut(4, 8, 2), lambda x: nn.functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 2, 2)))):
        grads = []
        for f in (fn, plain):  # x inside a graph, as in a network: a leaf's .grad is copied into its layout
            leaf = torch.randn(2, 4, 6, 6).contiguous(memory_format=torch.channels_last).requires_grad_(True)
            x = leaf * 1.0
            x.register_hook(grads.append)
            out = f(x)
            out.backward(torch.arange(out.numel(), dtype=out.dtype).reshape(out.shape))
        ours, theirs = grads
        assert torch.equal(ours, theirs)
        assert ours.is_contiguous(memory_format=torch.channels_last) and not ours.is_contiguous()
        assert theirs.is_contiguous()  # autograd's: the other layout


@pytest.mark.parametrize("name", ["resnet20", "quicknet"])
def test_the_layout_keeping_functions_compile_without_graph_breaks(name):
    """`train.compile` (and CUDA graphs on a GPU) wants one graph: a backward that writes into an
    `out=` tensor of another layout broke it (torch 2.13)."""
    model = models.build(name).to(memory_format=torch.channels_last)
    x = torch.randn(4, *models.input_shape(name)).contiguous(memory_format=torch.channels_last)
    assert torch._dynamo.explain(model)(x).graph_break_count == 0
