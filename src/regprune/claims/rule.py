"""The book's one decision rule: how our seeds' numbers become a verdict on a paper's claim.

* The unit of evidence is the seed. Two methods that share seeds are compared **paired**: the
  per-seed differences, not the difference of two means.
* The interval is Student-t with n - 1 degrees of freedom for n seeds (:func:`t_interval`), at the
  one confidence level of the book, :data:`CONFIDENCE`; a median or a ratio uses a seeded
  percentile bootstrap (:func:`bootstrap_interval`); a compression ratio is judged on its log.
* A claim states, **before** our numbers are looked at, what the paper says (a value, a direction,
  or a bound) and a tolerance. Then, with ``[low, high]`` our interval:

  ==================  =========================================  ==========================================
  shape               reproduced                                 not reproduced
  ==================  =========================================  ==========================================
  ``value``           ``[low, high]`` inside paper ± tolerance   ``[low, high]`` outside paper ± tolerance
  ``direction``       on the claimed side of 0 (and inside the   on the other side of 0, or wholly outside
                      paper's difference ± tolerance, if given)  the paper's difference ± tolerance
  ``bound``           on the claimed side of the bound           on the other side of the bound
  ==================  =========================================  ==========================================

  Anything else is **not resolved**: a difference at noise level is never a contradiction. One
  seed gives no interval, so it resolves nothing. A number *counted* exactly on a network (its
  FLOPs; :func:`counted`) has no sampling noise: its interval is the point itself.
* A claim (or sub-claim) this machine cannot measure *awaits a GPU run* or its *data* is
  *unavailable* here (:func:`out_of_reach`), always with the reason; it is never guessed.
* A claim split into named sub-claims is **partly** reproduced when some of them are and some are
  not; each sub-claim keeps its own verdict (:func:`combine`). Nothing else is ever "partly".

Every :class:`Evidence` carries n, our mean and interval, the paper's value, the tolerance and a
one-line reason, so a reader sees why a verdict is what it is. This module is the only place
that writes a verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

CONFIDENCE = 0.95  # the book's one confidence level

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_RESOLVED = "not resolved"
PARTLY = "partly"
AWAITS_GPU = "awaits GPU run"
DATA_UNAVAILABLE = "data unavailable"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_RESOLVED, AWAITS_GPU, DATA_UNAVAILABLE)
# a comparison the papers never made (the comparison chapter's own hypotheses) is judged by the same
# rule; its outcome is worded as a hypothesis, not as a reproduction
HYPOTHESIS = {REPRODUCED: "holds", NOT_REPRODUCED: "does not hold", NOT_RESOLVED: NOT_RESOLVED}
SHAPES = ("value", "direction", "bound")
SIDES = ("higher", "lower")


@dataclass(frozen=True)
class Evidence:
    """What one verdict rests on: our n seeds' mean and interval beside what the paper says."""

    verdict: str
    n: int
    mean: float
    low: float
    high: float
    paper: float | None
    tolerance: float | None
    reason: str
    confidence: float = CONFIDENCE

    def as_row(self) -> dict:
        return {"verdict": self.verdict, "n": self.n, "ours": self.mean, "low": self.low, "high": self.high,
                "paper": self.paper, "tolerance": self.tolerance, "reason": self.reason}


def _finite(values: Iterable[float], what: str) -> np.ndarray:
    x = np.asarray(list(values), dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{what}: expected one number per seed, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{what}: non-finite values {x[~np.isfinite(x)].tolist()} (a collapsed run is counted "
                         "apart, not averaged in)")
    return x


def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided Student-t critical value with ``df`` degrees of freedom."""
    from scipy.stats import t  # lazy: scipy comes with scikit-learn

    return float(t.ppf(0.5 + confidence / 2, df))


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[int, float, float, float]:
    """(n, mean, low, high): the Student-t interval of the mean of ``values`` (one per seed), n - 1
    degrees of freedom; with one value the interval is unbounded (it resolves nothing)."""
    x = _finite(values, "t_interval")
    n = len(x)
    if n == 0:
        raise ValueError("t_interval: no values")
    mean = float(x.mean())
    if n == 1:
        return 1, mean, -math.inf, math.inf
    half = t_quantile(n - 1, confidence) * float(x.std(ddof=1)) / math.sqrt(n)
    return n, mean, mean - half, mean + half


def paired_interval(a: dict[int, float], b: dict[int, float], confidence: float = CONFIDENCE
                    ) -> tuple[int, float, float, float]:
    """The t interval of ``b - a`` over the seeds both have (``{seed: value}``): a paired comparison.
    Seeds only one side has are left out; no shared seed is an error."""
    shared = sorted(set(a) & set(b))
    if not shared:
        raise ValueError(f"paired_interval: no seed in common (a has {sorted(a)}, b has {sorted(b)})")
    return t_interval([b[s] - a[s] for s in shared], confidence)


def counted(value: float) -> tuple[int, float, float, float]:
    """The interval of a number counted exactly, not sampled (the FLOPs of a given network): the
    point itself. ``n = 0`` marks it: no seed was drawn, and none is needed."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"counted: value={value!r} is not finite")
    return 0, v, v, v


def bootstrap_interval(values: Sequence[float], statistic: Callable[[np.ndarray], float] = np.median,
                       confidence: float = CONFIDENCE, resamples: int = 10_000, seed: int = 0
                       ) -> tuple[int, float, float, float]:
    """(n, statistic, low, high): a seeded percentile bootstrap, for medians and ratios."""
    x = _finite(values, "bootstrap_interval")
    n = len(x)
    if n == 0:
        raise ValueError("bootstrap_interval: no values")
    value = float(statistic(x))
    if n == 1:
        return 1, value, -math.inf, math.inf
    rng = np.random.default_rng(seed)
    stats = np.array([statistic(x[rng.integers(0, n, n)]) for _ in range(resamples)], dtype=float)
    tail = (1 - confidence) / 2
    return n, value, float(np.quantile(stats, tail)), float(np.quantile(stats, 1 - tail))


def judge(interval: tuple[int, float, float, float], *, shape: str, paper: float | None = None,
          tolerance: float | None = None, side: str | None = None, unit: str = "", per: str = "seed") -> Evidence:
    """The verdict on one interval (``t_interval``, ``paired_interval`` or ``bootstrap_interval``).

    ``value``: the paper's ``paper`` within ``tolerance``. ``direction``: the difference lies on
    ``side`` ("higher": above 0) and, when ``paper`` is given, within ``tolerance`` of it.
    ``bound``: our number lies on ``side`` of ``paper`` ("higher": at least the bound).
    ``per``: what one value of the interval is (a seed; a timed round for a benchmark).
    """
    if shape not in SHAPES:
        raise ValueError(f"shape={shape!r} is not allowed; choose one of: {', '.join(SHAPES)}")
    if shape != "value" and side not in SIDES:
        raise ValueError(f"side={side!r} is not allowed for shape {shape!r}; choose one of: {', '.join(SIDES)}")
    if shape in ("value", "bound") and paper is None:
        raise ValueError(f"shape {shape!r} needs the paper's value")
    if (shape == "value" or (shape == "direction" and paper is not None)) and (tolerance is None or tolerance < 0):
        raise ValueError(f"shape {shape!r} with a paper value needs a tolerance >= 0, fixed before looking")
    n, mean, low, high = interval
    sign = 1 if side != "lower" else -1
    u = f" {unit}" if unit else ""
    exact = n == 0 and low == mean == high  # :func:`counted`
    ci = (f"counted exactly: {mean:.4g}{u}" if exact else
          f"{CONFIDENCE:.0%} interval [{low:.4g}, {high:.4g}]{u} over {n} {per}{'s' if n != 1 else ''}")
    if n < 2 and not exact:
        why = f"one {per}: no interval ({mean:.4g}{u})" if n == 1 else f"no {per} to compare: no interval"
        return Evidence(NOT_RESOLVED, n, mean, low, high, paper, tolerance, why)

    def inside(lo: float, hi: float) -> bool:
        return lo <= low and high <= hi

    def outside(lo: float, hi: float) -> bool:
        return high < lo or low > hi

    if shape == "value":
        lo, hi = paper - tolerance, paper + tolerance
        if inside(lo, hi):
            return Evidence(REPRODUCED, n, mean, low, high, paper, tolerance, f"{ci} inside {paper:g} ± {tolerance:g}")
        if outside(lo, hi):
            return Evidence(NOT_REPRODUCED, n, mean, low, high, paper, tolerance,
                            f"{ci} outside {paper:g} ± {tolerance:g}")
        return Evidence(NOT_RESOLVED, n, mean, low, high, paper, tolerance,
                        f"{ci} overlaps the edge of {paper:g} ± {tolerance:g}")
    if shape == "bound":
        claimed = "at least" if sign > 0 else "at most"
        if (low >= paper) if sign > 0 else (high <= paper):
            return Evidence(REPRODUCED, n, mean, low, high, paper, tolerance, f"{ci}: {claimed} {paper:g}")
        if (high < paper) if sign > 0 else (low > paper):
            return Evidence(NOT_REPRODUCED, n, mean, low, high, paper, tolerance, f"{ci}: not {claimed} {paper:g}")
        return Evidence(NOT_RESOLVED, n, mean, low, high, paper, tolerance, f"{ci} contains the bound {paper:g}")
    # direction: the difference (claimed method minus baseline) on the claimed side of 0
    on_side = low > 0 if sign > 0 else high < 0
    against = high <= 0 if sign > 0 else low >= 0
    if paper is not None:
        lo, hi = paper - tolerance, paper + tolerance
        if on_side and inside(lo, hi):
            return Evidence(REPRODUCED, n, mean, low, high, paper, tolerance,
                            f"{ci}: {side} than the baseline, inside the paper's {paper:+g} ± {tolerance:g}")
        if against or outside(lo, hi):
            why = "not " + side + " than the baseline" if against else f"outside the paper's {paper:+g} ± {tolerance:g}"
            return Evidence(NOT_REPRODUCED, n, mean, low, high, paper, tolerance, f"{ci}: {why}")
        return Evidence(NOT_RESOLVED, n, mean, low, high, paper, tolerance, f"{ci}: the sign or size is within noise")
    if on_side:
        return Evidence(REPRODUCED, n, mean, low, high, None, None, f"{ci}: {side} than the baseline")
    if against:
        return Evidence(NOT_REPRODUCED, n, mean, low, high, None, None, f"{ci}: not {side} than the baseline")
    return Evidence(NOT_RESOLVED, n, mean, low, high, None, None, f"{ci} contains 0: a difference at noise level")


OUT_OF_REACH = (AWAITS_GPU, DATA_UNAVAILABLE)


def out_of_reach(verdict: str, reason: str, paper: float | None = None, tolerance: float | None = None) -> Evidence:
    """The verdict on a (sub-)claim this machine cannot measure: its runs await a GPU, or its data
    cannot be had here. No interval (n = 0); ``reason`` says which runs or data, and why."""
    if verdict not in OUT_OF_REACH:
        raise ValueError(f"verdict={verdict!r} is not allowed; choose one of: {list(OUT_OF_REACH)}")
    if not reason:
        raise ValueError("out_of_reach: a reason is required (which runs or data, and why they cannot be had here)")
    return Evidence(verdict, 0, math.nan, math.nan, math.nan, paper, tolerance, reason)


def combine(sub_verdicts: dict[str, str]) -> str:
    """A claim split into named sub-claims: all reproduced -> reproduced; some reproduced -> partly;
    none reproduced but some not -> not reproduced; else not resolved. Sub-claims that await a GPU
    or data are left out while any other was measured."""
    for name, v in sub_verdicts.items():
        if v not in VERDICTS or v == PARTLY:
            raise ValueError(f"sub-claim {name!r}: verdict {v!r} is not allowed; choose one of: "
                             f"{[x for x in VERDICTS if x != PARTLY]}")
    if not sub_verdicts:
        raise ValueError("combine: no sub-claims")
    measured = [v for v in sub_verdicts.values() if v not in (AWAITS_GPU, DATA_UNAVAILABLE)]
    if not measured:
        return AWAITS_GPU if AWAITS_GPU in sub_verdicts.values() else DATA_UNAVAILABLE
    if all(v == REPRODUCED for v in measured):
        return REPRODUCED
    if REPRODUCED in measured:
        return PARTLY
    return NOT_REPRODUCED if NOT_REPRODUCED in measured else NOT_RESOLVED
