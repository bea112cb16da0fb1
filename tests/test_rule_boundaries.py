"""The decision rule at and just around every boundary of every shape, both sides, one seed, and
its argument checks. Oracles are worked out by hand from the rule's table (rule.py's docstring),
never from the code: an interval ``[low, high]`` is given directly, so each case reads as a line
of that table. Found necessary by mutation testing (`make mutate`): each case here kills a
mutant (a flipped comparison, a dropped branch) that tests/test_rule.py let live."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats  # noqa: F401  (rule imports it lazily; loaded here once for `make mutate`'s forked workers)

from regprune.claims import rule as R

EPS = 1e-9


def iv(low, high, n=3):
    return (n, (low + high) / 2, low, high)


# ---------------------------------------------------------------- value: paper 10 ± 1, band [9, 11]

@pytest.mark.parametrize("low, high, expected", [
    (9.0, 11.0, R.REPRODUCED),                 # both edges exactly: inside
    (9.0 - EPS, 11.0, R.NOT_RESOLVED),         # a hair over the lower edge
    (9.0, 11.0 + EPS, R.NOT_RESOLVED),         # a hair over the upper edge
    (7.0, 9.0, R.NOT_RESOLVED),                # touches the band from below: not wholly outside
    (7.0, 9.0 - EPS, R.NOT_REPRODUCED),
    (11.0, 12.0, R.NOT_RESOLVED),              # touches the band from above
    (11.0 + EPS, 12.0, R.NOT_REPRODUCED),
])
def test_value_at_its_edges(low, high, expected):
    e = R.judge(iv(low, high), shape="value", paper=10.0, tolerance=1.0)
    assert e.verdict == expected
    assert (e.n, e.low, e.high, e.paper, e.tolerance) == (3, low, high, 10.0, 1.0)


def test_value_with_zero_tolerance_needs_a_point_interval():
    assert R.judge(iv(5.0, 5.0), shape="value", paper=5.0, tolerance=0.0).verdict == R.REPRODUCED
    assert R.judge(iv(5.0, 5.1), shape="value", paper=5.0, tolerance=0.0).verdict == R.NOT_RESOLVED


# ---------------------------------------------------------------- direction without the paper's size

@pytest.mark.parametrize("low, high, side, expected", [
    (EPS, 1.0, "higher", R.REPRODUCED),
    (0.0, 1.0, "higher", R.NOT_RESOLVED),      # 0 is in the interval
    (-1.0, 0.0, "higher", R.NOT_REPRODUCED),   # at most 0: cannot be higher
    (-1.0, EPS, "higher", R.NOT_RESOLVED),
    (-1.0, -EPS, "lower", R.REPRODUCED),
    (-1.0, 0.0, "lower", R.NOT_RESOLVED),
    (0.0, 1.0, "lower", R.NOT_REPRODUCED),     # at least 0: cannot be lower
    (-EPS, 1.0, "lower", R.NOT_RESOLVED),
])
def test_direction_at_zero(low, high, side, expected):
    e = R.judge(iv(low, high), shape="direction", side=side)
    assert e.verdict == expected and e.paper is None and e.tolerance is None


# ---------------------------------------------------------------- direction with the paper's size

@pytest.mark.parametrize("low, high, side, expected", [
    # paper +1 ± 0.5 (band [0.5, 1.5]), claimed higher
    (0.5, 1.5, "higher", R.REPRODUCED),         # exactly the band, above 0
    (0.5 - EPS, 1.5, "higher", R.NOT_RESOLVED),
    (0.5, 1.5 + EPS, "higher", R.NOT_RESOLVED),
    (1.5 + EPS, 2.0, "higher", R.NOT_REPRODUCED),  # right sign, wholly too large
    (-1.0, 0.0, "higher", R.NOT_REPRODUCED),    # not higher
    (-1.0, 0.2, "higher", R.NOT_REPRODUCED),    # wholly below the band
    (0.0, 0.6, "higher", R.NOT_RESOLVED),
])
def test_direction_with_the_papers_size_higher(low, high, side, expected):
    assert R.judge(iv(low, high), shape="direction", side=side, paper=1.0, tolerance=0.5).verdict == expected


@pytest.mark.parametrize("low, high, expected", [
    # paper -1 ± 0.5 (band [-1.5, -0.5]), claimed lower
    (-1.5, -0.5, R.REPRODUCED),
    (-1.5, -0.5 + EPS, R.NOT_RESOLVED),
    (-2.0, -1.5 - EPS, R.NOT_REPRODUCED),
    (0.0, 1.0, R.NOT_REPRODUCED),
    (-0.4, 0.1, R.NOT_REPRODUCED),             # wholly outside the band (above -0.5)
    (-0.6, 0.1, R.NOT_RESOLVED),
])
def test_direction_with_the_papers_size_lower(low, high, expected):
    e = R.judge(iv(low, high), shape="direction", side="lower", paper=-1.0, tolerance=0.5)
    assert e.verdict == expected and (e.paper, e.tolerance) == (-1.0, 0.5)


def test_direction_inside_the_band_but_touching_zero_is_not_resolved():
    """Band [-0.5, 1.5] contains 0: the interval sits in it but is not above 0."""
    assert R.judge(iv(0.0, 1.0), shape="direction", side="higher", paper=0.5, tolerance=1.0).verdict == R.NOT_RESOLVED
    assert R.judge(iv(-0.5, 0.0), shape="direction", side="higher", paper=0.5,
                   tolerance=1.0).verdict == R.NOT_REPRODUCED


# ---------------------------------------------------------------- bound: 5

@pytest.mark.parametrize("low, high, side, expected", [
    (5.0, 6.0, "higher", R.REPRODUCED),         # at least 5: the bound itself counts
    (5.0 - EPS, 6.0, "higher", R.NOT_RESOLVED),
    (4.0, 5.0, "higher", R.NOT_RESOLVED),       # touches the bound from below
    (4.0, 5.0 - EPS, "higher", R.NOT_REPRODUCED),
    (4.0, 5.0, "lower", R.REPRODUCED),          # at most 5
    (4.0, 5.0 + EPS, "lower", R.NOT_RESOLVED),
    (5.0, 6.0, "lower", R.NOT_RESOLVED),
    (5.0 + EPS, 6.0, "lower", R.NOT_REPRODUCED),
])
def test_bound_at_its_edge(low, high, side, expected):
    e = R.judge(iv(low, high), shape="bound", side=side, paper=5.0)
    assert e.verdict == expected and e.paper == 5.0


# ---------------------------------------------------------------- one seed, never a verdict

@pytest.mark.parametrize("kwargs", [
    dict(shape="value", paper=1.0, tolerance=10.0),
    dict(shape="direction", side="higher"),
    dict(shape="direction", side="lower", paper=-1.0, tolerance=5.0),
    dict(shape="bound", side="higher", paper=-100.0),
])
def test_one_seed_resolves_nothing_in_any_shape(kwargs):
    e = R.judge(R.t_interval([1.5]), **kwargs)
    assert e.verdict == R.NOT_RESOLVED and (e.n, e.mean, e.low, e.high) == (1, 1.5, -math.inf, math.inf)
    assert e.reason == "one seed: no interval (1.5)"
    assert R.judge(R.t_interval([1.5]), unit="pp", **kwargs).reason == "one seed: no interval (1.5 pp)"


def test_two_seeds_already_resolve():
    e = R.judge(R.t_interval([1.0, 1.0]), shape="bound", side="higher", paper=0.0)
    assert e.verdict == R.REPRODUCED and e.n == 2 and (e.low, e.high) == (1.0, 1.0)


# ---------------------------------------------------------------- reasons say what the verdict rests on

def test_reason_names_interval_seeds_and_paper():
    e = R.judge((4, 2.0, 1.5, 2.5), shape="value", paper=2.0, tolerance=1.0, unit="pp")
    assert e.reason == "95% interval [1.5, 2.5] pp over 4 seeds inside 2 ± 1"
    assert e.as_row() == {"verdict": R.REPRODUCED, "n": 4, "ours": 2.0, "low": 1.5, "high": 2.5, "paper": 2.0,
                          "tolerance": 1.0, "reason": e.reason}
    assert e.confidence == R.CONFIDENCE == 0.95
    assert "outside 2 ± 1" in R.judge((2, 9.0, 8.0, 10.0), shape="value", paper=2.0, tolerance=1.0).reason
    assert R.judge((2, 0.5, 0.1, 0.9), shape="direction", side="higher").reason.endswith(": higher than the baseline")
    assert R.judge((2, -0.5, -0.9, -0.1), shape="direction", side="higher").reason.endswith(
        ": not higher than the baseline")
    assert R.judge((2, 1.0, 0.5, 1.5), shape="bound", side="lower", paper=2.0).reason == (
        "95% interval [0.5, 1.5] over 2 seeds: at most 2")
    assert R.judge((3, 1.0, 0.5, 1.5), shape="bound", side="higher", paper=2.0).reason == (
        "95% interval [0.5, 1.5] over 3 seeds: not at least 2")
    assert R.judge((2, 2.0, 1.5, 2.5), shape="bound", side="higher", paper=2.0).reason == (
        "95% interval [1.5, 2.5] over 2 seeds contains the bound 2")
    assert R.judge((2, 0.0, -1.0, 1.0), shape="direction", side="lower").reason == (
        "95% interval [-1, 1] over 2 seeds contains 0: a difference at noise level")
    assert R.judge((2, 0.0, -1.0, 1.0), shape="value", paper=0.0, tolerance=0.5).reason == (
        "95% interval [-1, 1] over 2 seeds overlaps the edge of 0 ± 0.5")
    assert R.judge((2, 1.0, 0.6, 1.4), shape="direction", side="higher", paper=1.0, tolerance=0.5).reason == (
        "95% interval [0.6, 1.4] over 2 seeds: higher than the baseline, inside the paper's +1 ± 0.5")
    assert R.judge((2, 3.0, 2.0, 4.0), shape="direction", side="higher", paper=1.0, tolerance=0.5).reason == (
        "95% interval [2, 4] over 2 seeds: outside the paper's +1 ± 0.5")
    assert R.judge((2, -3.0, -4.0, -2.0), shape="direction", side="higher", paper=1.0, tolerance=0.5).reason == (
        "95% interval [-4, -2] over 2 seeds: not higher than the baseline")
    assert R.judge((2, 0.5, 0.0, 1.0), shape="direction", side="higher", paper=1.0, tolerance=0.5).reason == (
        "95% interval [0, 1] over 2 seeds: the sign or size is within noise")


# ---------------------------------------------------------------- argument checks

@pytest.mark.parametrize("kwargs, match", [
    (dict(shape="bound", side="higher"), "needs the paper's value"),
    (dict(shape="value", tolerance=1.0), "needs the paper's value"),
    (dict(shape="value", paper=1.0, tolerance=-0.1), "tolerance >= 0"),
    (dict(shape="direction", side="higher", paper=1.0), "tolerance >= 0"),
    (dict(shape="bound", side="up", paper=1.0), "side='up'"),
])
def test_rule_arguments_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        R.judge(iv(0.0, 1.0), **kwargs)


def test_value_needs_no_side_and_bound_needs_no_tolerance():
    assert R.judge(iv(0.0, 1.0), shape="value", paper=0.5, tolerance=0.5).verdict == R.REPRODUCED
    assert R.judge(iv(0.0, 1.0), shape="bound", side="higher", paper=0.0).verdict == R.REPRODUCED


# ---------------------------------------------------------------- intervals

def test_t_interval_two_values_by_hand():
    """[0, 2]: mean 1, sd sqrt(2), se 1, t(1) = 12.706 (table)."""
    n, mean, low, high = R.t_interval([0.0, 2.0])
    assert (n, mean) == (2, 1.0)
    assert (low, high) == pytest.approx((1 - 12.706, 1 + 12.706), abs=1e-3)


def test_t_interval_at_another_confidence():
    """90% two-sided, 2 degrees of freedom: t = 2.920 (table)."""
    _, _, low, high = R.t_interval([1.0, 2.0, 3.0], confidence=0.90)
    assert (low, high) == pytest.approx((2 - 2.920 / math.sqrt(3), 2 + 2.920 / math.sqrt(3)), abs=1e-3)
    assert R.t_quantile(2, 0.90) == pytest.approx(2.920, abs=1e-3)


def test_paired_interval_is_the_t_interval_of_the_differences():
    """Differences 1, 2, 3: mean 2, interval 2 ± 4.303/sqrt(3) (by hand)."""
    n, mean, low, high = R.paired_interval({0: 10.0, 1: 20.0, 2: 30.0}, {0: 11.0, 1: 22.0, 2: 33.0})
    assert (n, mean) == (3, 2.0)
    assert (low, high) == pytest.approx((2 - 4.303 / math.sqrt(3), 2 + 4.303 / math.sqrt(3)), abs=1e-3)
    # b - a, not a - b
    assert R.paired_interval({0: 1.0, 1: 1.0}, {0: 0.0, 1: 0.0})[1] == -1.0


NON_FINITE = r": non-finite values \[inf\] \(a collapsed run is counted apart, not averaged in\)$"


@pytest.mark.parametrize("values, match", [([], ": no values"), ([[1.0, 2.0]], ": expected one number per seed"),
                                           ([1.0, math.inf], NON_FINITE)])
def test_intervals_reject_bad_input_naming_the_function(values, match):
    with pytest.raises(ValueError, match="^t_interval" + match):
        R.t_interval(values)
    with pytest.raises(ValueError, match="^bootstrap_interval" + match):
        R.bootstrap_interval(values)


def test_bootstrap_interval_by_construction():
    """Equal values: every resample has the same median, so the interval is a point. One value: unbounded."""
    assert R.bootstrap_interval([3.0, 3.0, 3.0], resamples=50) == (3, 3.0, 3.0, 3.0)
    assert R.bootstrap_interval([7.0]) == (1, 7.0, -math.inf, math.inf)
    n, mean, low, high = R.bootstrap_interval([0.0, 10.0], statistic=np.mean, resamples=2000, seed=3)
    # resamples of two values have mean 0, 5 or 10 with probability 1/4, 1/2, 1/4: the 2.5% and 97.5% points
    assert (n, mean, low, high) == (2, 5.0, 0.0, 10.0)
    _, _, low50, high50 = R.bootstrap_interval([0.0, 10.0], statistic=np.mean, confidence=0.4, resamples=2000)
    assert (low50, high50) == (5.0, 5.0)  # the 30% and 70% points: the middle value


def test_bootstrap_default_statistic_is_the_median_and_seed_matters():
    x = [1.0, 2.0, 3.0, 50.0, 60.0, 70.0, 80.0]
    assert R.bootstrap_interval(x, resamples=100)[1] == 50.0
    assert R.bootstrap_interval(x, resamples=100, seed=1) == R.bootstrap_interval(x, resamples=100, seed=1)


# ---------------------------------------------------------------- combining sub-claims

@pytest.mark.parametrize("subs, expected", [
    ({"a": R.NOT_REPRODUCED, "b": R.NOT_REPRODUCED}, R.NOT_REPRODUCED),
    ({"a": R.NOT_RESOLVED, "b": R.AWAITS_GPU}, R.NOT_RESOLVED),
    ({"a": R.NOT_REPRODUCED, "b": R.DATA_UNAVAILABLE}, R.NOT_REPRODUCED),
    ({"a": R.AWAITS_GPU, "b": R.DATA_UNAVAILABLE}, R.AWAITS_GPU),
    ({"a": R.DATA_UNAVAILABLE, "b": R.DATA_UNAVAILABLE}, R.DATA_UNAVAILABLE),
    ({"a": R.REPRODUCED}, R.REPRODUCED),
    ({"a": R.REPRODUCED, "b": R.REPRODUCED, "c": R.NOT_RESOLVED}, R.PARTLY),
])
def test_combine_more_cases(subs, expected):
    assert R.combine(subs) == expected


def test_combine_rejects_nothing_and_unknown_verdicts():
    with pytest.raises(ValueError, match="^combine: no sub-claims$"):
        R.combine({})
    allowed = "['reproduced', 'not reproduced', 'not resolved', 'awaits GPU run', 'data unavailable']"
    with pytest.raises(ValueError) as err:
        R.combine({"a": R.REPRODUCED, "b": "maybe"})
    assert str(err.value) == f"sub-claim 'b': verdict 'maybe' is not allowed; choose one of: {allowed}"


def test_bad_shape_and_side_list_the_allowed_values():
    with pytest.raises(ValueError, match="^shape='mean' is not allowed; choose one of: value, direction, bound$"):
        R.judge(iv(0.0, 1.0), shape="mean")
    with pytest.raises(ValueError, match="^side='up' is not allowed for shape 'bound'; choose one of: higher, lower$"):
        R.judge(iv(0.0, 1.0), shape="bound", side="up", paper=1.0)
    with pytest.raises(ValueError, match="^shape 'bound' needs the paper's value$"):
        R.judge(iv(0.0, 1.0), shape="bound", side="lower")


def test_bootstrap_defaults_are_ten_thousand_resamples_from_seed_zero():
    x = [1.0, 2.5, 4.25, 8.0, 16.5, 3.1]  # the mean of a resample: fine-grained quantiles, sensitive to both
    same = R.bootstrap_interval(x, np.mean)
    assert same == R.bootstrap_interval(x, np.mean, confidence=0.95, resamples=10_000, seed=0)
    assert same != R.bootstrap_interval(x, np.mean, resamples=100)
    assert same != R.bootstrap_interval(x, np.mean, seed=1)


# ---------------------------------------------------------------- every branch keeps the numbers it rests on

BRANCHES = [  # (interval, settings): one case per return statement of judge
    ((1, 5.0, -math.inf, math.inf), dict(shape="value", paper=5.0, tolerance=1.0)),
    ((3, 5.0, 4.5, 5.5), dict(shape="value", paper=5.0, tolerance=1.0)),
    ((3, 9.0, 8.5, 9.5), dict(shape="value", paper=5.0, tolerance=1.0)),
    ((3, 5.5, 4.5, 6.5), dict(shape="value", paper=5.0, tolerance=1.0)),
    ((3, 6.0, 5.5, 6.5), dict(shape="bound", side="higher", paper=5.0, tolerance=0.25)),
    ((3, 4.0, 3.5, 4.5), dict(shape="bound", side="higher", paper=5.0, tolerance=0.25)),
    ((3, 5.0, 4.5, 5.5), dict(shape="bound", side="lower", paper=5.0, tolerance=0.25)),
    ((3, 4.0, 3.5, 4.5), dict(shape="bound", side="lower", paper=5.0, tolerance=0.25)),
    ((3, 6.0, 5.5, 6.5), dict(shape="bound", side="lower", paper=5.0, tolerance=0.25)),
    ((3, 1.0, 0.75, 1.25), dict(shape="direction", side="higher", paper=1.0, tolerance=0.5)),
    ((3, -1.0, -1.5, -0.5), dict(shape="direction", side="higher", paper=1.0, tolerance=0.5)),
    ((3, 0.5, 0.25, 1.75), dict(shape="direction", side="higher", paper=1.0, tolerance=0.5)),
    ((3, 1.0, 0.5, 1.5), dict(shape="direction", side="lower")),
    ((3, -1.0, -1.5, -0.5), dict(shape="direction", side="lower")),
    ((3, 0.0, -0.5, 0.5), dict(shape="direction", side="lower")),
]


@pytest.mark.parametrize("interval, settings", BRANCHES)
def test_every_verdict_carries_n_mean_interval_paper_and_tolerance(interval, settings):
    e = R.judge(interval, **settings)
    assert (e.n, e.mean, e.low, e.high) == interval
    assert (e.paper, e.tolerance) == (settings.get("paper"), settings.get("tolerance"))
    assert e.reason and e.verdict in R.VERDICTS


def test_branches_cover_every_verdict_of_every_shape():
    seen = {(s["shape"], R.judge(i, **s).verdict) for i, s in BRANCHES}
    assert seen == {(shape, v) for shape in R.SHAPES for v in (R.REPRODUCED, R.NOT_REPRODUCED, R.NOT_RESOLVED)}


def test_paired_interval_at_another_confidence():
    """Differences 1, 2, 3 at 90%: 2 ± 2.920 / sqrt(3)."""
    _, _, low, high = R.paired_interval({0: 0.0, 1: 0.0, 2: 0.0}, {0: 1.0, 1: 2.0, 2: 3.0}, confidence=0.90)
    assert (low, high) == pytest.approx((2 - 2.920 / math.sqrt(3), 2 + 2.920 / math.sqrt(3)), abs=1e-3)
