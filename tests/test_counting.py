"""Parameter and MAC counting: paper values, masks via parametrize/prune/zeroing, hygiene."""

import json

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize, prune

from regprune import counting, models

# He et al. 2018 (Soft Filter Pruning), conv-only MACs at 3x32x32, in millions.
SFP_CONV_MACS = {20: 40.55, 32: 68.86, 44: 97.17, 56: 125.49, 110: 252.89}


class Mask(nn.Module):
    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, w):
        return w * self.mask


class Scale(nn.Module):
    """A reparameterization with its own learnable scalar, which is not a network parameter."""

    def __init__(self):
        super().__init__()
        self.s = nn.Parameter(torch.ones(()))

    def forward(self, w):
        return w * self.s


def half_filter_mask(conv: nn.Conv2d) -> torch.Tensor:
    mask = torch.ones_like(conv.weight)
    mask[: conv.out_channels // 2] = 0
    return mask


@pytest.mark.parametrize("depth", sorted(SFP_CONV_MACS))
def test_resnet_conv_macs_match_sfp(depth):
    macs = counting.count_macs(models.build(f"resnet{depth}"), (3, 32, 32))
    assert round(macs["conv"] / 1e6, 2) == SFP_CONV_MACS[depth]
    assert macs["linear"] == 64 * 10 and macs["total"] == macs["conv"] + macs["linear"]
    if depth in (20, 110):
        assert macs["conv"] == {20: 40_550_400, 110: 252_887_040}[depth]


def test_lenet_macs():
    torch.manual_seed(0)  # an unseeded init can draw an exact 0.0 weight (seen once in CI), lowering "nonzero"
    m300 = counting.count_macs(models.build("lenet300"), (1, 28, 28))
    assert m300 == dict(total=266_200, conv=0, linear=266_200, nonzero=266_200)
    rows = counting.layer_table(models.build("lenet5"), (1, 28, 28))
    assert [r["macs"] for r in rows] == [20 * 25 * 24 * 24, 50 * 20 * 25 * 8 * 8, 800 * 500, 500 * 10]
    m5 = counting.count_macs(models.build("lenet5"), (1, 28, 28))
    assert (m5["conv"], m5["linear"]) == (288_000 + 1_600_000, 405_000)


def test_layer_table_fields():
    rows = counting.layer_table(models.build("lenet5"), (1, 28, 28))
    conv2 = rows[1]
    assert conv2["layer"] == "features.conv2" and conv2["type"] == "Conv2d"
    assert conv2["in_shape"] == (1, 20, 12, 12) and conv2["out_shape"] == (1, 50, 8, 8)
    assert conv2["params"] == conv2["nonzero"] == 50 * 20 * 25 + 50


def test_linear_extra_leading_dims_and_conv1d():
    model = nn.Sequential(nn.Conv1d(4, 8, 3, groups=2), nn.Linear(6, 5))
    conv, lin = counting.layer_table(model, (4, 8))
    assert conv["macs"] == 8 * 2 * 3 * 6
    assert lin["macs"] == 6 * 5 * 8 and lin["out_shape"] == (1, 8, 5)


def _check_half_filters_removed(model, plain_params, plain_macs, conv_name="layer2.0.conv1"):
    """Half of the 32 filters of layer2.0.conv1 (32x16x3x3, 16x16 output) are zero."""
    weights = 16 * 16 * 9
    params = counting.count_parameters(model)
    macs = counting.count_macs(model, (3, 32, 32))
    assert params["total"] == plain_params["total"]
    assert params["nonzero"] == plain_params["nonzero"] - weights
    assert macs["total"] == plain_macs["total"] and macs["conv"] == plain_macs["conv"]
    assert macs["nonzero"] == plain_macs["nonzero"] - weights * 16 * 16
    row = next(r for r in counting.layer_table(model, (3, 32, 32)) if r["layer"] == conv_name)
    assert row["type"] == "Conv2d" and row["nonzero"] == weights and row["macs_nonzero"] == row["macs"] // 2


@pytest.fixture
def resnet():
    torch.manual_seed(0)
    model = models.build("resnet20")
    return model, counting.count_parameters(model), counting.count_macs(model, (3, 32, 32))


def test_mask_parametrization_removes_filters(resnet):
    model, params, macs = resnet
    conv = model.layer2[0].conv1
    parametrize.register_parametrization(conv, "weight", Mask(half_filter_mask(conv)))
    _check_half_filters_removed(model, params, macs)


def test_plain_zeroing_removes_filters(resnet):
    model, params, macs = resnet
    with torch.no_grad():
        model.layer2[0].conv1.weight[:16] = 0
    _check_half_filters_removed(model, params, macs)


def test_torch_prune_mask_removes_filters(resnet):
    model, params, macs = resnet
    conv = model.layer2[0].conv1
    prune.custom_from_mask(conv, "weight", half_filter_mask(conv))
    _check_half_filters_removed(model, params, macs)


def test_effective_parameters_of_parametrized_model_equal_plain():
    torch.manual_seed(0)
    model = models.build("lenet5")
    plain = dict(counting.effective_parameters(model))
    assert list(plain) == [n for n, _ in model.named_parameters()]
    parametrize.register_parametrization(model.features.conv1, "weight", Scale())
    parametrize.register_parametrization(model.classifier.fc1, "weight", Mask(torch.ones(500, 800)))
    parametrize.register_parametrization(model.classifier.fc1, "bias", Scale())
    got = dict(counting.effective_parameters(model))
    assert sorted(got) == sorted(plain)
    assert all(torch.equal(got[k], plain[k]) for k in plain)
    assert counting.count_parameters(model) == dict(total=431_080, nonzero=431_080)
    assert sum(p.numel() for p in model.parameters()) == 431_080 + 2  # the two Scale scalars


def test_layer_table_restores_modes_and_hooks():
    model = models.build("resnet20").train()
    model.layer1.eval()
    counting.layer_table(model, (3, 32, 32))
    assert model.training and not model.layer1.training and model.layer2.training
    assert all(not m._forward_hooks for m in model.modules())


def test_summary_is_plain_json():
    s = counting.summary(models.build("lenet300"), (1, 28, 28))
    assert json.loads(json.dumps(s)) == s
    assert s["params"] == s["nonzero_params"] == 266_610 and s["macs"]["total"] == 266_200


def test_summary_counts_the_fully_connected_layers_on_their_own():
    model = models.build("lenet5")  # by hand: fc1 800*500 + 500, fc2 500*10 + 10
    s = counting.summary(model, (1, 28, 28))
    assert s["params"] == 431_080 and s["fc_params"] == s["fc_nonzero"] == 405_510
    with torch.no_grad():
        model.classifier.fc2.weight[0].zero_()  # one output unit: 500 weights; conv weights zeroed must not count
        model.features.conv1.weight.zero_()
    s = counting.summary(model, (1, 28, 28))
    assert (s["fc_params"], s["fc_nonzero"]) == (405_510, 405_010)


def test_counting_runs_on_the_device_it_is_given_not_the_default_one():
    model = models.build("lenet300")
    with torch.device("meta"):  # a default device the model is not on: using it would fail
        assert counting.count_macs(model, (1, 28, 28), "cpu")["total"] == 266_200
        assert counting.summary(model, (1, 28, 28), "cpu")["fc_params"] == 266_610


def test_tied_weights_count_once_and_names_are_the_layers():
    first, second = nn.Linear(4, 3), nn.Linear(4, 3)
    second.weight = first.weight  # tied: 12 weights, two biases of 3
    tied = nn.Sequential(first, second)
    assert counting.count_parameters(tied) == {"total": 12 + 3 + 3, "nonzero": 18}
    assert [n for n, _ in counting.effective_parameters(tied, prefix="net")] == ["net.0.weight", "net.0.bias", "net.1.bias"]
    pruned = nn.Linear(4, 3)
    prune.l1_unstructured(pruned, "weight", amount=0.5)  # torch's own pruning: weight_orig and weight_mask
    assert [n for n, _ in counting.effective_parameters(pruned)] == ["bias", "weight"]
    assert counting.count_parameters(pruned) == {"total": 15, "nonzero": 6 + 3}


def test_a_parameter_named_orig_without_pruning_is_itself():
    m = nn.Module()
    m.scale_orig = nn.Parameter(torch.ones(2))
    assert [(n, t.numel()) for n, t in counting.effective_parameters(m)] == [("scale_orig", 2)]


def test_layer_rows_are_plain_ints():
    model = nn.Sequential(nn.Conv2d(2, 4, 3, groups=2), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    for row in counting.layer_table(model, (2, 8, 8)):
        assert all(type(row[k]) is int for k in ("params", "nonzero", "macs", "macs_nonzero")), row
