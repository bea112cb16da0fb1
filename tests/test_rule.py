"""The one decision rule, on synthetic evidence. Oracles are independent of the code: Student-t
critical values from a printed table, intervals worked out by hand, and one case per outcome of
every rule shape, at and around its boundaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from regprune.claims import rule as R

# two-sided 95% Student-t critical values (any statistics table)
T_TABLE = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 9: 2.262, 29: 2.045}


@pytest.mark.parametrize("df, t", sorted(T_TABLE.items()))
def test_t_quantiles_match_the_table(df, t):
    assert R.t_quantile(df) == pytest.approx(t, abs=1e-3)


def test_t_interval_by_hand():
    n, mean, low, high = R.t_interval([1.0, 2.0, 3.0])  # sd 1, se 1/sqrt(3), t(2) = 4.303
    assert (n, mean) == (3, 2.0)
    assert low == pytest.approx(2 - 4.303 / math.sqrt(3), abs=1e-3)
    assert high == pytest.approx(2 + 4.303 / math.sqrt(3), abs=1e-3)
    assert R.t_interval([5.0])[2:] == (-math.inf, math.inf)  # one seed: no interval


def test_paired_beats_unpaired_when_seeds_share_noise():
    """Seed effects cancel in a paired comparison: b is a + 0.5 on every seed, with large seed spread."""
    a = {0: 90.0, 1: 94.0, 2: 86.0, 3: 92.0}
    b = {s: v + 0.5 + 0.01 * s for s, v in a.items()}
    n, mean, low, high = R.paired_interval(a, b)
    assert n == 4 and mean == pytest.approx(0.515) and low > 0.49 and high < 0.54
    unpaired = R.t_interval(list(b.values()))[2] - R.t_interval(list(a.values()))[3]
    assert unpaired < 0  # the two means' intervals overlap widely
    assert R.judge((n, mean, low, high), shape="direction", side="higher").verdict == R.REPRODUCED


def test_paired_uses_only_shared_seeds_and_needs_one():
    n, mean, _, _ = R.paired_interval({0: 1.0, 1: 2.0, 2: 3.0}, {1: 3.0, 2: 4.0, 7: 100.0})
    assert (n, mean) == (2, 1.0)
    with pytest.raises(ValueError, match="no seed in common"):
        R.paired_interval({0: 1.0}, {1: 1.0})


def test_collapsed_runs_are_not_averaged_in():
    with pytest.raises(ValueError, match="non-finite"):
        R.t_interval([0.9, float("nan"), 0.91])


# ---------------------------------------------------------------- value shape: paper 91.6 ± 0.5


def iv(low, high, n=3):
    return (n, (low + high) / 2, low, high)


@pytest.mark.parametrize("interval, expected", [
    (iv(91.2, 91.9), R.REPRODUCED),
    (iv(91.1, 92.1), R.REPRODUCED),            # exactly at both edges: inside
    (iv(90.0, 91.0), R.NOT_REPRODUCED),        # wholly below 91.1
    (iv(92.2, 93.0), R.NOT_REPRODUCED),        # wholly above 92.1
    (iv(90.9, 91.5), R.NOT_RESOLVED),          # straddles the lower edge
    (iv(91.0, 92.5), R.NOT_RESOLVED),          # wider than the tolerance band
    (iv(91.5, 91.7, n=1), R.NOT_RESOLVED),     # one seed
])
def test_value_shape(interval, expected):
    e = R.judge(interval, shape="value", paper=91.6, tolerance=0.5)
    assert e.verdict == expected and e.paper == 91.6 and e.tolerance == 0.5 and e.n == interval[0] and e.reason


# ---------------------------------------------------------------- direction shape


@pytest.mark.parametrize("interval, side, expected", [
    (iv(0.1, 0.9), "higher", R.REPRODUCED),
    (iv(-0.9, -0.1), "higher", R.NOT_REPRODUCED),
    (iv(-0.2, 0.5), "higher", R.NOT_RESOLVED),    # noise level: never a contradiction
    (iv(-0.5, 0.0), "higher", R.NOT_REPRODUCED),  # cannot be above 0
    (iv(0.0, 0.5), "higher", R.NOT_RESOLVED),     # touches 0: not shown to be above it
    (iv(-0.9, -0.1), "lower", R.REPRODUCED),
    (iv(0.1, 0.9), "lower", R.NOT_REPRODUCED),
    (iv(-0.3, 0.3), "lower", R.NOT_RESOLVED),
])
def test_direction_shape(interval, side, expected):
    assert R.judge(interval, shape="direction", side=side).verdict == expected


@pytest.mark.parametrize("interval, expected", [
    (iv(0.6, 1.4), R.REPRODUCED),      # paper +1.0 ± 0.5, above 0
    (iv(1.6, 2.5), R.NOT_REPRODUCED),  # the right sign, far larger than the paper says
    (iv(-0.4, -0.1), R.NOT_REPRODUCED),
    (iv(0.2, 1.2), R.NOT_RESOLVED),    # above 0, but straddles 0.5
])
def test_direction_with_the_papers_difference(interval, expected):
    assert R.judge(interval, shape="direction", side="higher", paper=1.0, tolerance=0.5).verdict == expected


# ---------------------------------------------------------------- bound shape: drop of at most 1 point


@pytest.mark.parametrize("interval, side, expected", [
    (iv(-0.8, 0.2), "higher", R.REPRODUCED),      # change at least -1 pp
    (iv(-3.0, -1.2), "higher", R.NOT_REPRODUCED),
    (iv(-1.5, -0.5), "higher", R.NOT_RESOLVED),
    (iv(20e3, 30e3), "lower", R.REPRODUCED),      # at most 31K parameters
    (iv(32e3, 35e3), "lower", R.NOT_REPRODUCED),
    (iv(29e3, 33e3), "lower", R.NOT_RESOLVED),
])
def test_bound_shape(interval, side, expected):
    bound = -1.0 if side == "higher" else 31e3
    assert R.judge(interval, shape="bound", side=side, paper=bound).verdict == expected


def test_bad_rule_arguments_are_named():
    with pytest.raises(ValueError, match="shape='mean'"):
        R.judge(iv(0, 1), shape="mean")
    with pytest.raises(ValueError, match="side=None"):
        R.judge(iv(0, 1), shape="direction")
    with pytest.raises(ValueError, match="tolerance"):
        R.judge(iv(0, 1), shape="value", paper=1.0)


def test_bootstrap_median_interval():
    n, med, low, high = R.bootstrap_interval([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (n, med) == (5, 3.0) and low >= 1.0 and high <= 100.0 and low <= 3.0 <= high
    assert R.bootstrap_interval([1.0, 2.0, 3.0, 4.0, 100.0]) == (n, med, low, high)  # seeded


@pytest.mark.parametrize("subs, expected", [
    ({"a": R.REPRODUCED, "b": R.REPRODUCED}, R.REPRODUCED),
    ({"a": R.REPRODUCED, "b": R.NOT_REPRODUCED}, R.PARTLY),
    ({"a": R.REPRODUCED, "b": R.NOT_RESOLVED}, R.PARTLY),
    ({"a": R.NOT_REPRODUCED, "b": R.NOT_RESOLVED}, R.NOT_REPRODUCED),
    ({"a": R.NOT_RESOLVED, "b": R.NOT_RESOLVED}, R.NOT_RESOLVED),
    ({"a": R.REPRODUCED, "b": R.AWAITS_GPU}, R.REPRODUCED),
    ({"a": R.AWAITS_GPU, "b": R.AWAITS_GPU}, R.AWAITS_GPU),
    ({"a": R.DATA_UNAVAILABLE}, R.DATA_UNAVAILABLE),
])
def test_combine_named_sub_claims(subs, expected):
    assert R.combine(subs) == expected


def test_partly_is_never_a_sub_verdict():
    with pytest.raises(ValueError, match="'partly' is not allowed"):
        R.combine({"a": R.PARTLY})


def test_a_seed_level_simulation_is_calibrated():
    """With no true difference, 'reproduced' for a one-sided direction claim comes out about 2.5% of the time."""
    rng = np.random.default_rng(1)
    hits = sum(R.judge(R.t_interval(rng.normal(0, 1, 5)), shape="direction", side="higher").verdict == R.REPRODUCED
               for _ in range(4000))
    assert 0.015 < hits / 4000 < 0.035


def test_no_seed_left_resolves_nothing_and_says_so():
    """Every pair lost a side (e.g. to a collapse): no interval, not resolved, whatever the shape."""
    for shape, kw in (("direction", {"side": "higher"}), ("value", {"paper": 1.0, "tolerance": 0.1}),
                      ("bound", {"side": "lower", "paper": 1.0})):
        e = R.judge((0, math.nan, -math.inf, math.inf), shape=shape, **kw)
        assert e.verdict == R.NOT_RESOLVED and e.n == 0 and "no seed" in e.reason


def test_the_unit_of_evidence_is_named_in_the_reason():
    """A benchmark's unit is a timed round, not a seed: the reason says which."""
    e = R.judge(iv(8.0, 12.0, n=7), shape="value", paper=10.5, tolerance=3.5, per="round")
    assert e.verdict == R.REPRODUCED and "over 7 rounds" in e.reason and "seed" not in e.reason
    assert "one round" in R.judge(iv(8.0, 8.0, n=1), shape="value", paper=10.5, tolerance=3.5, per="round").reason


# ---------------------------------------------------------------- a number counted exactly (no seeds)


def test_a_counted_number_is_its_own_interval():
    assert R.counted(40.5504) == (0, 40.5504, 40.5504, 40.5504)
    with pytest.raises(ValueError, match="not finite"):
        R.counted(float("nan"))


@pytest.mark.parametrize("count, verdict", [
    (40.5504, R.REPRODUCED),  # inside 40.55 ± 0.005
    (40.555, R.REPRODUCED),  # on the edge: inside
    (40.56, R.NOT_REPRODUCED),  # 0.01 off a count has no noise to hide in
    (40.4, R.NOT_REPRODUCED),
])
def test_counted_value_shape(count, verdict):
    e = R.judge(R.counted(count), shape="value", paper=40.55, tolerance=0.005)
    assert e.verdict == verdict and e.n == 0 and "counted exactly" in e.reason


def test_counted_direction_and_bound():
    assert R.judge(R.counted(-0.2), shape="direction", side="lower").verdict == R.REPRODUCED
    assert R.judge(R.counted(0.0), shape="direction", side="lower").verdict == R.NOT_REPRODUCED
    assert R.judge(R.counted(5.0), shape="bound", side="higher", paper=5.0).verdict == R.REPRODUCED
    assert R.judge(R.counted(4.9), shape="bound", side="higher", paper=5.0).verdict == R.NOT_REPRODUCED


def test_no_seed_and_a_spread_is_not_a_count():
    """n = 0 marks a count only when the interval is the point: anything else resolves nothing."""
    assert R.judge((0, 40.55, 40.5, 40.6), shape="value", paper=40.55, tolerance=0.5).verdict == R.NOT_RESOLVED


def test_out_of_reach_has_no_interval_and_needs_a_reason():
    e = R.out_of_reach(R.AWAITS_GPU, "needs ResNet-110", paper=92.6, tolerance=0.5)
    assert (e.verdict, e.n, e.paper, e.tolerance, e.reason) == (R.AWAITS_GPU, 0, 92.6, 0.5, "needs ResNet-110")
    assert all(math.isnan(v) for v in (e.mean, e.low, e.high))
    with pytest.raises(ValueError) as err:
        R.out_of_reach(R.DATA_UNAVAILABLE, "")
    assert str(err.value) == ("out_of_reach: a reason is required (which runs or data, and why they cannot be had "
                              "here)")
