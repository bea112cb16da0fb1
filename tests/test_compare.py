"""The comparison chapter's own hypotheses go through the book's one rule (claims.base.compare):
paired by seed, t interval with n - 1 degrees of freedom, noise never a contradiction."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from regprune.claims.base import compare

T2 = 4.302652729911275  # Student-t, 2 degrees of freedom, two-sided 95% (tables)


def frame(groups: dict[str, tuple[list[float], list[float]]]) -> pd.DataFrame:
    rows = []
    for g, (a, b) in groups.items():
        rows += [{"model": g, "method": "a", "seed": s, "err": v} for s, v in enumerate(a)]
        rows += [{"model": g, "method": "b", "seed": s, "err": v} for s, v in enumerate(b)]
    return pd.DataFrame(rows)


def test_each_outcome_by_hand():
    f = frame({"better": ([1.0, 2.0, 3.0], [0.0, 1.1, 1.9]),   # b - a = -1.0, -0.9, -1.1
               "noise": ([1.0, 1.0, 1.0], [0.0, 2.0, 1.5]),    # -1, +1, +0.5: contains 0
               "worse": ([1.0, 1.0, 1.0], [2.0, 1.9, 2.1])})   # +1.0, +0.9, +1.1
    out = compare(f, by="method", a="a", b="b", metric="err", side="lower", within=["model"]).set_index("model")
    assert out["verdict"].to_dict() == {"better": "holds", "noise": "not resolved", "worse": "does not hold"}
    half = T2 * 0.1 / math.sqrt(3)  # sd of (-1.0, -0.9, -1.1) is 0.1
    assert out.loc["better", "difference"] == pytest.approx(-1.0)
    assert (out.loc["better", "low"], out.loc["better", "high"]) == pytest.approx((-1.0 - half, -1.0 + half))
    assert (out["n"] == 3).all()


def test_pairs_by_seed_and_keeps_a_missing_side_as_a_row():
    f = frame({"m": ([5.0, 6.0, 7.0], [4.0, 5.0])})  # b has seeds 0, 1 only: n = 2, diffs -1, -1
    f = pd.concat([f, pd.DataFrame([{"model": "only_a", "method": "a", "seed": 0, "err": 1.0}])])
    out = compare(f, by="method", a="a", b="b", metric="err", side="lower", within=["model"]).set_index("model")
    assert out.loc["m", "n"] == 2 and out.loc["m", "verdict"] == "holds"  # sd 0: the interval is the point
    assert out.loc["only_a", "n"] == 0 and out.loc["only_a", "verdict"] == "not resolved"
    assert "no run of b" in out.loc["only_a", "reason"]


def test_one_seed_resolves_nothing():
    out = compare(frame({"m": ([1.0], [0.0])}), by="method", a="a", b="b", metric="err", side="lower")
    assert out["verdict"].tolist() == ["not resolved"] and out["n"].tolist() == [1]


def test_every_row_in_full_in_the_groups_order_a_missing_side_in_the_middle():
    """Rows written out by hand, in the order the groups first appear (not sorted): a group with
    no run of b, one with no run of a, one where a and b share no seed, and a group after them
    (a missing side must not end the loop)."""
    rows = [{"model": "z", "method": "a", "seed": 0, "err": 1.0}, {"model": "z", "method": "b", "seed": 0, "err": 3.0},
            {"model": "z", "method": "a", "seed": 1, "err": 2.0}, {"model": "z", "method": "b", "seed": 1, "err": 4.0},
            {"model": "no_b", "method": "a", "seed": 0, "err": 1.0},
            {"model": "no_a", "method": "b", "seed": 0, "err": 1.0},
            {"model": "apart", "method": "a", "seed": 0, "err": 1.0}, {"model": "apart", "method": "b", "seed": 1, "err": 1.0},
            {"model": "last", "method": "a", "seed": 0, "err": 0.0}, {"model": "last", "method": "b", "seed": 0, "err": 5.0}]
    out = compare(pd.DataFrame(rows), by="method", a="a", b="b", metric="err", side="higher", within=["model"])
    nan = float("nan")
    expected = pd.DataFrame([
        {"model": "z", "metric": "err", "a": "a", "b": "b", "verdict": "holds", "n": 2, "difference": 2.0,
         "low": 2.0, "high": 2.0, "reason": "95% interval [2, 2] over 2 seeds: higher than the baseline"},
        *({"model": m, "metric": "err", "a": "a", "b": "b", "verdict": "not resolved", "n": 0, "difference": nan,
           "low": nan, "high": nan, "reason": f"nothing to pair: no run of {why}"}
          for m, why in (("no_b", "b"), ("no_a", "a"), ("apart", "a shared seed"))),
        {"model": "last", "metric": "err", "a": "a", "b": "b", "verdict": "not resolved", "n": 1, "difference": 5.0,
         "low": -math.inf, "high": math.inf, "reason": "one seed: no interval (5)"},
    ])
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
