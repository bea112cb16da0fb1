"""claims.base on hand-made frames: how a part measures (per seed, paired, on logs), when a claim
is not yet measured, how parts combine, and the rows a chapter's claim table shows. Every expected
number is worked out by hand in the comment beside it (found wanting by `make mutate`)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from regprune.claims import rule
from regprune.claims.base import (UNMEASURED, Claim, OutOfReach, Part, PartWithLeftOut, data_unavailable, paired,
                                  per_seed, single)

FRAME = pd.DataFrame({
    "seed": [0, 1, 2, 0, 1, 2, 5],
    "m": ["a", "a", "a", "b", "b", "b", "b"],
    "x": [2.0, 4.0, 8.0, 12.0, 15.0, 20.0, 99.0],  # b - a = 10, 11, 12 on the shared seeds
})


def claim(*parts, frame=FRAME):
    return Claim("c", "000", "Table 1", "text", "grid", "scope", tuple(parts), frame=lambda records: frame)


def never(frame):
    raise AssertionError("measured an empty frame")


def never_measured(frame):
    return None


def test_per_seed_picks_the_rows_of_one_value():
    assert per_seed(FRAME, "m", "b", "x") == {0: 12.0, 1: 15.0, 2: 20.0, 5: 99.0}
    assert per_seed(FRAME, "m", "c", "x") == {}
    assert all(type(s) is int and type(v) is float for s, v in per_seed(FRAME, "m", "a", "x").items())


def test_paired_differences_over_shared_seeds():
    """b - a on seeds 0-2 (seed 5 has no partner): 10, 11, 12 -> mean 11, sd 1, half 4.303 / sqrt(3)."""
    n, mean, low, high = paired("m", "a", "b", "x")(FRAME)
    half = 4.303 / math.sqrt(3)
    assert (n, mean) == (3, pytest.approx(11.0))
    assert (low, high) == pytest.approx((11 - half, 11 + half), abs=1e-3)


def test_paired_on_logs_judges_a_ratio():
    """b / a = 2 on every seed: log 2 with no spread, so the interval is the point log 2."""
    doubled = pd.DataFrame({"seed": [0, 1, 2, 0, 1, 2], "m": ["a"] * 3 + ["b"] * 3, "x": [2.0, 4.0, 8.0, 4.0, 8.0, 16.0]})
    n, mean, low, high = paired("m", "a", "b", "x", log=True)(doubled)
    assert (n, mean, low, high) == (3, pytest.approx(math.log(2)), pytest.approx(math.log(2)), pytest.approx(math.log(2)))


def test_measures_of_nothing_are_none():
    assert paired("m", "a", "zzz", "x")(FRAME) is None
    assert paired("m", "zzz", "b", "x", log=True)(FRAME) is None
    assert single("m", "zzz", "x")(FRAME) is None
    assert Part("p", never, "direction", side="higher").judge(FRAME.iloc[:0]) is None


def test_single_is_the_t_interval_of_one_method():
    """a: 2, 4, 8 -> mean 14/3."""
    n, mean, low, high = single("m", "a", "x")(FRAME)
    assert (n, mean) == (3, pytest.approx(14 / 3)) and low < mean < high


def test_part_passes_its_settings_to_the_rule():
    """b: 12, 15, 20, 99 -> mean 36.5, sd 41.8, half 3.182 * 41.8 / 2 = 66.5: [-30, 103], so
    'at most 100' is unresolved but 'at least -200' holds."""
    at_most = Part("p", single("m", "b", "x"), "bound", side="lower", paper=100.0, unit="pp").judge(FRAME)
    assert at_most.verdict == rule.NOT_RESOLVED and at_most.paper == 100.0 and " pp over 4 seeds" in at_most.reason
    at_least = Part("p", single("m", "b", "x"), "bound", side="higher", paper=-200.0).judge(FRAME)
    assert at_least.verdict == rule.REPRODUCED
    value = Part("p", single("m", "a", "x"), "value", paper=14 / 3, tolerance=100.0).judge(FRAME)
    assert value.verdict == rule.REPRODUCED and value.tolerance == 100.0


def test_a_caveat_reads_only_a_contradiction_as_unresolved_and_says_why():
    """b - a = 10, 11, 12 is above 0: 'lower' contradicts it; the caveat turns that into not resolved."""
    plain = Part("p", paired("m", "a", "b", "x"), "direction", side="lower").judge(FRAME)
    caveated = Part("p", paired("m", "a", "b", "x"), "direction", side="lower", caveat="short schedule").judge(FRAME)
    assert plain.verdict == rule.NOT_REPRODUCED and caveated.verdict == rule.NOT_RESOLVED
    assert caveated.reason == f"{plain.reason}; short schedule"
    assert (caveated.n, caveated.mean, caveated.low, caveated.high, caveated.paper, caveated.tolerance) == \
           (plain.n, plain.mean, plain.low, plain.high, plain.paper, plain.tolerance)
    held = Part("p", paired("m", "a", "b", "x"), "direction", side="higher", caveat="short schedule").judge(FRAME)
    assert held.verdict == rule.REPRODUCED and held.reason.endswith("higher than the baseline")


def test_a_claim_with_nothing_measured_is_not_yet_measured():
    c = claim(Part("p", single("m", "zzz", "x"), "direction", side="higher"),
              Part("q", paired("m", "zzz", "b", "x"), "direction", side="higher"))
    verdict, evidence = c.evaluate([])
    assert verdict == UNMEASURED and evidence == [("p", None), ("q", None)]
    assert claim(Part("p", never, "direction", side="higher"), frame=FRAME.iloc[:0]).evaluate([])[0] == UNMEASURED


def test_a_claims_parts_combine_over_the_measured_ones():
    up = Part("up", paired("m", "a", "b", "x"), "direction", side="higher")      # reproduced
    down = Part("down", paired("m", "a", "b", "x"), "direction", side="lower")  # not reproduced
    missing = Part("missing", single("m", "zzz", "x"), "direction", side="higher")
    assert claim(up, missing).evaluate([])[0] == rule.REPRODUCED  # the unmeasured part is left out
    assert claim(up, down).evaluate([])[0] == rule.PARTLY
    assert claim(down, missing).evaluate([])[0] == rule.NOT_REPRODUCED
    assert claim(down).evaluate([])[0] == rule.NOT_REPRODUCED


def test_claim_rows_one_per_part_measured_or_not():
    up = Part("up", paired("m", "a", "b", "x"), "direction", side="higher")
    missing = Part("missing", single("m", "zzz", "x"), "value", paper=91.6, tolerance=0.5)
    rows = claim(up, missing).rows([])
    assert list(rows["claim"]) == ["c", "c"] and list(rows["part"]) == ["up", "missing"]
    assert list(rows["claim verdict"]) == [rule.REPRODUCED, rule.REPRODUCED]
    measured, unmeasured = rows.iloc[0], rows.iloc[1]
    assert measured["verdict"] == rule.REPRODUCED and measured["n"] == 3
    assert measured["ours"] == pytest.approx(11.0) and measured["low"] == pytest.approx(11 - 4.303 / math.sqrt(3), abs=1e-3)
    assert unmeasured["verdict"] == UNMEASURED and unmeasured["n"] == 0
    assert (unmeasured["paper"], unmeasured["tolerance"]) == (91.6, 0.5)
    assert unmeasured["reason"] == "no stored run yet"


def test_rows_and_caveats_read_the_records_and_keep_the_papers_numbers():
    """The frame is built from the records given (one dict per seed and method here)."""
    records = FRAME.to_dict("records")
    part = Part("p", paired("m", "a", "b", "x"), "direction", side="higher", paper=-11.0, tolerance=1.0,
                caveat="stated first")  # +11 is above 0, but far outside -11 ± 1: not reproduced, then caveated
    c = Claim("c", "000", "Table 1", "text", "grid", "scope", (part,), frame=pd.DataFrame)
    row = c.rows(records).iloc[0]
    assert row["verdict"] == rule.NOT_RESOLVED and row["n"] == 3
    assert (row["paper"], row["tolerance"]) == (-11.0, 1.0)
    assert row["reason"].endswith("outside the paper's -11 ± 1; stated first")
    assert c.rows([]).iloc[0]["verdict"] == UNMEASURED


def test_a_part_on_fewer_seeds_than_the_grid_fixes_is_interim_until_the_grid_is_complete():
    """FRAME pairs 3 seeds (b - a = 10, 11, 12). With 5 seeds fixed and runs missing, the part is
    *not yet measured*, its numbers kept and the reason saying why; at 3 fixed seeds (or with the
    grid complete, seeds None) it is judged as usual. A part counted exactly (n = 0) or per
    benchmark round is not per seed and is never interim."""
    up = Part("up", paired("m", "a", "b", "x"), "direction", side="higher")
    verdict, [(_, e)] = claim(up).evaluate([], seeds=5)
    assert verdict == UNMEASURED and e.verdict == UNMEASURED and e.n == 3 and e.mean == pytest.approx(11.0)
    assert e.reason.startswith("interim, 3 of 5 seeds stored (judged when all are): ")
    assert claim(up).evaluate([], seeds=3)[0] == rule.REPRODUCED
    assert claim(up).evaluate([], seeds=None)[0] == rule.REPRODUCED
    rounds = Part("rounds", paired("m", "a", "b", "x"), "direction", side="higher", per="round")
    assert claim(rounds).evaluate([], seeds=5)[0] == rule.REPRODUCED
    exact = Part("exact", lambda frame: rule.counted(40.55), "value", paper=40.55, tolerance=0.005)
    assert claim(exact).evaluate([], seeds=5)[0] == rule.REPRODUCED
    # a claim keeps its complete parts' verdict; the interim part's row says it is not yet measured
    rows = claim(exact, up).rows([], seeds=5)
    assert list(rows["verdict"]) == [rule.REPRODUCED, UNMEASURED] and set(rows["claim verdict"]) == {rule.REPRODUCED}


def test_interim_keeps_every_number_of_the_part():
    up = Part("up", paired("m", "a", "b", "x"), "value", paper=10.0, tolerance=0.5)
    final = up.judge(FRAME)
    _, [(_, e)] = claim(up).evaluate([], seeds=4)
    assert (e.n, e.mean, e.low, e.high, e.paper, e.tolerance) == (
        final.n, final.mean, final.low, final.high, 10.0, 0.5)
    assert e.reason == f"interim, 3 of 4 seeds stored (judged when all are): {final.reason}"


def test_a_part_over_benchmark_rounds_says_rounds():
    e = Part("r", paired("m", "a", "b", "x"), "direction", side="higher", per="round").judge(FRAME)
    # 10, 11, 12: mean 11, sd 1, 11 -+ 4.302653 / sqrt(3) = [8.51586, 13.48414]
    assert e.reason == "95% interval [8.516, 13.48] over 3 rounds: higher than the baseline"


LEFT_OUT = pd.DataFrame({
    "seed": [0, 1, 2, 0, 1, 2, 0, 1],
    "method": ["a", "a", "a", "b", "b", "b", "c", "c"],
    "data": ["mnist"] * 8,
    "x": [2.0, 4.0, 8.0, 12.0, 15.0, 20.0, 1.0, 1.0],
    "trivial": [False, False, False, False, False, True, True, True],
})


def test_runs_left_out_are_counted_in_the_reason_and_nothing_else_changes():
    """Three runs are flagged (b's seed 2, both of c): the reason names them per method, by label;
    every number of the evidence is the plain part's."""
    kw = dict(shape="value", paper=10.0, tolerance=3.0)
    plain = Part("p", paired("method", "a", "b", "x"), **kw).judge(LEFT_OUT)
    part = PartWithLeftOut("p", paired("method", "a", "b", "x"), **kw, scope="data", value="mnist", flag="trivial",
                           why="at the majority class", labels=(("b", "B-net"),))
    e = part.judge(LEFT_OUT)
    assert (e.verdict, e.n, e.mean, e.low, e.high, e.paper, e.tolerance) == (
        plain.verdict, plain.n, plain.mean, plain.low, plain.high, 10.0, 3.0)
    assert e.reason == f"{plain.reason}; left out, 3 of 8 runs at the majority class (B-net 1, c 2)"
    # without the flag column (the scope column present) there is nothing to count
    assert part.judge(LEFT_OUT.drop(columns="trivial")) == plain


def test_an_out_of_reach_part_keeps_the_papers_number_and_tolerance():
    awaits = OutOfReach("g", never_measured, "value", paper=91.6, tolerance=0.5, why="needs ResNet-110")
    e = awaits.judge(FRAME)
    assert (e.verdict, e.n, e.paper, e.tolerance, e.reason) == (rule.AWAITS_GPU, 0, 91.6, 0.5, "needs ResNet-110")
    gone = data_unavailable("cifar100", "CIFAR-100 cannot be had", paper=70.2).judge(FRAME)
    assert (gone.verdict, gone.paper, gone.reason) == (rule.DATA_UNAVAILABLE, 70.2, "CIFAR-100 cannot be had")


def test_a_claim_whose_measured_parts_are_all_out_of_reach_waits_for_the_rest():
    """Both kinds out of reach, and a part this machine can measure but has no run for yet: not yet
    measured, not 'awaits GPU' (the measurable part is still to come)."""
    awaits = OutOfReach("g", never_measured, "direction", side="higher", why="GPU")
    gone = data_unavailable("d", "no data")
    later = Part("later", single("m", "zzz", "x"), "direction", side="higher")
    assert claim(awaits, gone, later).evaluate([])[0] == UNMEASURED
    assert claim(awaits, gone).evaluate([])[0] == rule.AWAITS_GPU
