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
