"""DenseNet-BC for CIFAR: exact sizes, layer counts, MACs, names, init, options."""

import pytest
import torch
from torch import nn

from regprune import models
from regprune.counting import count_macs
from regprune.models.densenet import DenseNetBC
from regprune.registry import ConfigError

# Exact parameter counts (k=12, compression 0.5).  densenet100 / 10 classes is the well-known
# DenseNet-BC-100 (k=12) count, 0.8M in Huang et al. 2017, Table 2; the others were computed by
# building the models and agree with `densenet_params_formula` below, which follows the spec
# (stem 3->2k, n=(depth-4)//6 bottlenecks per block, floor-compressing transitions, final BN).
EXACT = {
    (40, 10): 176_122, (40, 100): 188_092,
    (60, 10): 314_470, (60, 100): 332_110,
    (100, 10): 769_162, (100, 100): 800_032,
}
# Conv MACs on one 3x32x32 input (He et al. 2018 convention, as `count_macs` counts them).
CONV_MACS = {40: 72_364_032, 60: 124_356_096, 100: 287_926_272}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def densenet_params_formula(depth: int, num_classes: int = 10, k: int = 12, compression: float = 0.5) -> int:
    """Convs without bias, BN weight+bias, final linear C->classes with bias."""
    n = (depth - 4) // 6
    c = 2 * k
    total = 3 * c * 9  # stem conv
    for block in range(3):
        for _ in range(n):
            total += 2 * c + c * 4 * k + 2 * 4 * k + 4 * k * k * 9  # BN, conv1x1, BN, conv3x3
            c += k
        if block < 2:
            out = int(c * compression)
            total += 2 * c + c * out  # BN, conv1x1
            c = out
    return total + 2 * c + c * num_classes + num_classes  # final BN, linear


def test_registered():
    assert {"densenet40", "densenet60", "densenet100"} <= set(models.names())
    for d in (40, 60, 100):
        assert models.input_shape(f"densenet{d}") == (3, 32, 32)
        assert models.default_num_classes(f"densenet{d}") == 10
        assert "Huang et al. 2017" in models.MODELS.meta(f"densenet{d}")["paper"]


@pytest.mark.parametrize("depth,num_classes", sorted(EXACT))
def test_parameter_counts(depth, num_classes):
    got = n_params(models.build(f"densenet{depth}", num_classes=num_classes))
    assert got == EXACT[depth, num_classes] == densenet_params_formula(depth, num_classes)


def test_densenet100_matches_published_size():
    assert round(n_params(models.build("densenet100")) / 1e6, 1) == 0.8  # Huang et al. 2017, Table 2


@pytest.mark.parametrize("depth,layers", [(40, 40), (60, 58), (100, 100)])
def test_weighted_layer_counts(depth, layers):
    # 1 stem conv + 3 blocks * n bottlenecks * 2 convs + 2 transition convs + 1 linear = 6n+4;
    # depth 60 gives n=(60-4)//6=9, hence 58.
    m = models.build(f"densenet{depth}")
    assert sum(isinstance(x, (nn.Conv2d, nn.Linear)) for x in m.modules()) == layers
    assert len(m.block1) == len(m.block2) == len(m.block3) == (depth - 4) // 6


@pytest.mark.parametrize("num_classes", [10, 100])
def test_forward_shape(num_classes):
    m = models.build("densenet40", num_classes=num_classes)
    assert m(torch.randn(2, 3, 32, 32)).shape == (2, num_classes)


@pytest.mark.parametrize("depth", sorted(CONV_MACS))
def test_count_macs(depth):
    for num_classes in (10, 100):
        m = models.build(f"densenet{depth}", num_classes=num_classes)
        macs = count_macs(m, (3, 32, 32))
        assert macs["conv"] == CONV_MACS[depth]
        assert macs["linear"] == m.linear.in_features * num_classes
        assert macs["total"] == macs["conv"] + macs["linear"]


def test_module_names_and_widths():
    m = models.build("densenet100")
    names = dict(m.named_modules())
    for key in ("conv1", "block1", "block1.0.conv1", "block1.15.conv2", "trans1.conv", "block2", "trans2",
                "block3", "bn", "linear"):
        assert key in names
    assert [k for k, _ in m.named_children()] == ["conv1", "block1", "trans1", "block2", "trans2", "block3",
                                                   "bn", "linear"]
    # 24 + 16*12 = 216 -> 108; 108 + 192 = 300 -> 150; 150 + 192 = 342
    assert m.conv1.out_channels == 24
    assert (m.trans1.conv.in_channels, m.trans1.conv.out_channels) == (216, 108)
    assert (m.trans2.conv.in_channels, m.trans2.conv.out_channels) == (300, 150)
    assert m.linear.in_features == 342
    assert all(c.bias is None for c in m.modules() if isinstance(c, nn.Conv2d))
    assert (m.block1[0].conv1.out_channels, m.block1[0].conv2.out_channels) == (48, 12)


def test_compression_floors():
    # densenet60: 24 + 9*12 = 132 -> 66; 66 + 108 = 174 -> 87; 87 + 108 = 195
    m = models.build("densenet60")
    assert m.trans2.conv.out_channels == 87 and m.linear.in_features == 195
    m = DenseNetBC(40, growth_rate=12, compression=0.3)
    assert m.trans1.conv.out_channels == int(96 * 0.3)


def test_init():
    torch.manual_seed(0)
    m = models.build("densenet100")
    w = m.block3[15].conv2.weight  # 3x3, 48 -> 12: fan-out 12*9
    assert abs(w.std().item() - (2 / (12 * 9)) ** 0.5) < 0.01
    for x in m.modules():
        if isinstance(x, nn.BatchNorm2d):
            assert torch.all(x.weight == 1) and torch.all(x.bias == 0)
    assert torch.all(m.linear.bias == 0)


def test_growth_rate_and_drop_rate_options():
    m = models.build("densenet40", growth_rate=24)
    assert m.conv1.out_channels == 48 and m.block1[0].conv2.out_channels == 24
    torch.manual_seed(0)
    plain = models.build("densenet40")
    drop = models.build("densenet40", drop_rate=0.2)
    assert n_params(drop) == n_params(plain)
    drop.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32)
    plain.eval(), drop.eval()
    assert torch.allclose(plain(x), drop(x))
    plain.train(), drop.train()
    assert not torch.allclose(plain(x), drop(x))


def test_bad_depth():
    with pytest.raises(ConfigError, match="6n\\+4"):
        DenseNetBC(9)
