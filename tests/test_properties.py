"""Property tests (Hypothesis) where a second, brute-force implementation is cheap to write:
parameter and MAC counts of random small nets under random masks, counted by loops over every
weight and output position; fixed-point quantization against an enumeration of its grid; masks
applied and baked out. Few examples each, so `make test` stays fast; a failure prints the
smallest net or tensor that shows it."""

from __future__ import annotations

import copy
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import parametrize

from regprune import counting, quantize
from regprune.pruning import masks as M

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)  # nothing written


# ------------------------------------------------------------------------------ random small nets

@st.composite
def small_nets(draw):
    """(net, input_shape, layer specs): convs (any kernel, stride, padding, dilation, groups) then linears."""
    torch.manual_seed(draw(st.integers(0, 2**16)))
    channels, size = draw(st.integers(1, 3)), draw(st.integers(5, 9))
    shape = (channels, size, size)
    layers, specs = [], []
    h = size
    for _ in range(draw(st.integers(0, 2))):
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        out = groups * draw(st.integers(1, 3))
        k, s, p, d = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1)), draw(st.integers(1, 2))
        h_out = (h + 2 * p - d * (k - 1) - 1) // s + 1  # the textbook formula, not torch's output
        if h_out < 1:
            break
        bias = draw(st.booleans())
        layers.append(nn.Conv2d(channels, out, k, stride=s, padding=p, dilation=d, groups=groups, bias=bias))
        specs.append(("conv", channels, out, k, groups, h_out, bias))
        layers.append(nn.ReLU())
        channels, h = out, h_out
    layers.append(nn.Flatten())
    features = channels * h * h
    for _ in range(draw(st.integers(1, 2))):
        out, bias = draw(st.integers(1, 5)), draw(st.booleans())
        layers.append(nn.Linear(features, out, bias=bias))
        specs.append(("linear", features, out, 1, 1, 1, bias))
        features = out
    return nn.Sequential(*layers), shape, specs


def random_masks(net, data):
    """A keep-mask for a random subset of the weight layers, each with a random density."""
    out = {}
    for name, layer in M.weight_layers(net).items():
        if data.draw(st.booleans(), label=f"mask {name}"):
            density = data.draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]), label=f"density {name}")
            g = torch.Generator().manual_seed(data.draw(st.integers(0, 999), label=f"seed {name}"))
            out[name] = torch.rand(layer.weight.shape, generator=g) < density
    return out


def brute_force_macs(specs, weights):
    """Loop over every output position and every weight: one MAC per (weight, position), a nonzero
    MAC when the weight is nonzero. He et al.'s convention: positions include the padded border."""
    dense = nonzero = 0
    for (kind, c_in, c_out, k, groups, positions_side, _), w in zip(specs, weights):
        positions = positions_side * positions_side
        per_out = (c_in // groups) * k * k if kind == "conv" else c_in
        for o in range(c_out):
            for _pos in range(positions):
                for j in range(per_out):
                    dense += 1
                    idx = (o, j) if kind == "linear" else (o, *divmod_kernel(j, k))
                    nonzero += int(w[idx] != 0)
    return dense, nonzero


def divmod_kernel(j, k):
    c, r = divmod(j, k * k)
    return c, r // k, r % k


@FAST
@given(net_and_shape=small_nets(), data=st.data())
def test_counts_equal_brute_force_under_random_masks(net_and_shape, data):
    net, shape, specs = net_and_shape
    masks = random_masks(net, data)
    M.apply_masks(net, masks)
    effective = [layer.weight.detach() for layer in M.weight_layers(net).values()]
    dense, nonzero = brute_force_macs(specs, effective)
    macs = counting.count_macs(net, shape)
    assert (macs["total"], macs["nonzero"]) == (dense, nonzero)
    assert macs["conv"] + macs["linear"] == macs["total"]
    # parameters: weights out*in/groups*k*k (+ out biases), by the formula; nonzero = kept weights
    total = sum(c_out * (c_in // g) * k * k + (c_out if bias else 0) for _, c_in, c_out, k, g, _, bias in specs)
    kept = sum(int(masks[n].sum()) if n in masks else layer.weight.numel() for n, layer in M.weight_layers(net).items())
    biases = sum(c_out for _, _, c_out, _, _, _, bias in specs if bias)
    params = counting.count_parameters(net)
    assert params["total"] == total
    assert params["nonzero"] == kept + biases  # random normal weights and biases are never exactly 0
    assert M.prunable_count(net) == (total - biases, kept)


@FAST
@given(net_and_shape=small_nets(), data=st.data())
def test_masks_bake_out_to_plain_weights_that_compute_the_same(net_and_shape, data):
    net, shape, _ = net_and_shape
    plain = copy.deepcopy(net)
    masks = random_masks(net, data)
    M.apply_masks(net, masks)
    with torch.no_grad():  # the oracle: multiply the plain copy's weights by hand
        for name, layer in M.weight_layers(plain).items():
            if name in masks:
                layer.weight.mul_(masks[name].float())
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(0))
    expected = plain(x)
    assert torch.equal(net(x), expected)
    counts = counting.count_parameters(net), counting.count_macs(net, shape)
    baked = M.bake(copy.deepcopy(net))
    assert not any(parametrize.is_parametrized(m) for m in baked.modules())
    assert any(parametrize.is_parametrized(m) for m in net.modules()) == bool(masks)  # the original keeps its masks
    assert torch.equal(baked(x), expected) and torch.equal(net(x), expected)
    assert (counting.count_parameters(baked), counting.count_macs(baked, shape)) == counts
    for name, layer in M.weight_layers(baked).items():
        assert isinstance(layer.weight, nn.Parameter)
        if name in masks:
            assert torch.equal(layer.weight != 0, masks[name] & (M.weight_layers(plain)[name].weight != 0))


@FAST
@given(net_and_shape=small_nets(), threshold=st.floats(0.0, 0.6))
def test_magnitude_masks_keep_exactly_the_weights_at_or_above_the_threshold(net_and_shape, threshold):
    net, _, _ = net_and_shape
    layers = M.weight_layers(net)
    masks = M.magnitude_masks(net, {name: threshold for name in layers})
    for name, layer in layers.items():
        w = layer.weight.detach().flatten().tolist()
        assert masks[name].flatten().tolist() == [abs(v) >= threshold for v in w]


# ------------------------------------------------------------------------------ fixed point

def grid(total_bits, frac_bits):
    """Every value of the signed fixed-point format, by enumeration."""
    return [k / 2**frac_bits for k in range(-(2 ** (total_bits - 1)), 2 ** (total_bits - 1))]


formats = st.tuples(st.integers(2, 6), st.integers(0, 7))
# plain floats, and multiples of 2**-8: every tie (half a step) of every format drawn here
values = st.lists(st.one_of(st.floats(-20, 20, allow_nan=False, width=32), st.integers(-5120, 5120).map(lambda k: k / 256)),
                  min_size=1, max_size=20)


@FAST
@given(fmt=formats, xs=values)
def test_nearest_rounding_is_the_nearest_grid_value_ties_up(fmt, xs):
    total, frac = fmt
    points = grid(total, frac)
    q = quantize.quantize_tensor(torch.tensor(xs, dtype=torch.float64), total, frac).tolist()
    for x, got in zip(xs, q):
        best = min(points, key=lambda p: (abs(p - x), -p))  # nearest; a tie goes to the larger
        assert got == best, (x, got, best)


@FAST
@given(fmt=formats, xs=values)
def test_zero_rounding_never_grows_a_value(fmt, xs):
    total, frac = fmt
    points = grid(total, frac)
    q = quantize.quantize_tensor(torch.tensor(xs, dtype=torch.float64), total, frac, rounding="zero").tolist()
    for x, got in zip(xs, q):
        toward_zero = [p for p in points if abs(p) <= abs(x) and p * x >= 0]
        expected = max(toward_zero, key=abs) if min(points) <= x <= max(points) else (min(points) if x < 0 else max(points))
        assert got == expected, (x, got, expected)
        if min(points) <= x <= max(points):
            assert abs(got) <= abs(x)


@FAST
@given(fmt=formats, xs=values, rounding=st.sampled_from(quantize.ROUNDING))
def test_quantizing_twice_changes_nothing_and_grid_values_survive(fmt, xs, rounding):
    total, frac = fmt
    once = quantize.quantize_tensor(torch.tensor(xs), total, frac, rounding)
    assert torch.equal(quantize.quantize_tensor(once, total, frac, rounding), once)
    on_grid = torch.tensor(grid(total, frac))
    assert torch.equal(quantize.quantize_tensor(on_grid, total, frac, rounding), on_grid)
    assert once.dtype == torch.float32


@FAST
@given(net_and_shape=small_nets(), data=st.data(), fmt=formats)
def test_quantized_model_holds_grid_weights_and_leaves_the_original(net_and_shape, data, fmt):
    net, _, _ = net_and_shape
    M.apply_masks(net, random_masks(net, data))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    q = quantize.quantize_model(net, *fmt)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())
    points = set(grid(*fmt))
    for (name, layer), original in zip(M.weight_layers(q).items(), M.weight_layers(net).values()):
        assert not parametrize.is_parametrized(layer)
        for p, ref in ((layer.weight, original.weight), (layer.bias, original.bias)):
            if p is not None:
                assert set(p.detach().double().flatten().tolist()) <= points
                assert torch.equal(p, quantize.quantize_tensor(ref.detach(), *fmt))  # masked entries stay 0


@pytest.mark.parametrize("x, total, frac, expected", [
    (0.3, 4, 2, 0.25),    # grid 0.25: 0.3 -> 1 step
    (0.375, 4, 2, 0.5),   # a tie (1.5 steps) goes up
    (-0.375, 4, 2, -0.25),  # ties toward +inf, also below 0
    (5.0, 4, 2, 1.75),    # saturates at (2**3 - 1) / 4
    (-5.0, 4, 2, -2.0),   # and at -2**3 / 4
    (0.9, 2, 3, 0.125),   # fraction bits >= total bits: values strictly inside (-1, 1)
])
def test_fixed_point_by_hand(x, total, frac, expected):
    assert quantize.quantize_tensor(torch.tensor([x], dtype=torch.float64), total, frac).item() == expected


def test_all_formats_of_a_small_width_enumerate_the_grid():
    """Every 3-bit value with 1 fraction bit maps to itself."""
    points = torch.tensor(grid(3, 1))
    assert points.tolist() == [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]
    assert torch.equal(quantize.quantize_tensor(points, 3, 1), points)
