"""A paper's claim as code: what the paper says, what we measure, and the tolerance fixed first.

A :class:`Claim` has one or more named :class:`Part` s. Each part measures one interval from the
stored records of one grid (``measure(frame) -> interval | None``, with the frame one row per
completed run and seed) and is judged by :func:`regprune.claims.rule.judge`; a claim of several
parts is combined by :func:`regprune.claims.rule.combine`. A part that no stored run measures
yet is *not yet measured*: a grid still being filled, not a verdict; a part that no run on this
machine can measure (:class:`OutOfReach`) says why: it awaits a GPU run, or its data is unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from . import rule

UNMEASURED = "not yet measured"
Interval = tuple[int, float, float, float]


@dataclass(frozen=True)
class Part:
    """One judged statement: a shape, the paper's number (if any), a tolerance, and how we measure it."""

    name: str
    measure: Callable[[pd.DataFrame], Interval | None]
    shape: str
    side: str | None = None
    paper: float | None = None
    tolerance: float | None = None
    unit: str = ""
    # a cause stated before looking (e.g. a shortened schedule) under which "not reproduced" is read as
    # "not resolved": the measurement cannot tell the paper's effect from our setting's
    caveat: str | None = None
    per: str = "seed"  # what one value is: a seed, or a timed round of a benchmark

    def judge(self, frame: pd.DataFrame) -> rule.Evidence | None:
        interval = self.measure(frame) if not frame.empty else None
        if interval is None:
            return None
        e = rule.judge(interval, shape=self.shape, side=self.side, paper=self.paper, tolerance=self.tolerance,
                       unit=self.unit, per=self.per)
        if self.caveat and e.verdict == rule.NOT_REPRODUCED:
            return rule.Evidence(rule.NOT_RESOLVED, e.n, e.mean, e.low, e.high, e.paper, e.tolerance,
                                 f"{e.reason}; {self.caveat}")
        return e


@dataclass(frozen=True)
class PartWithLeftOut(Part):
    """A part on the runs where ``scope == value`` (a data set, a network) whose reason also counts the
    runs of that scope the frame flags in column ``flag`` (trivial, collapsed): runs left out of the
    measure are shown apart, never averaged in and never silently dropped."""

    scope: str = ""
    value: str = ""
    flag: str = ""
    why: str = ""  # what the flagged runs are, for the reason ("at the majority class")
    labels: tuple[tuple[str, str], ...] = ()  # method name -> its label in the reason

    def judge(self, frame: pd.DataFrame) -> rule.Evidence | None:
        e = super().judge(frame)
        if e is None or self.flag not in frame or self.scope not in frame:
            return e
        mine = frame[frame[self.scope] == self.value]
        left_out = mine[mine[self.flag].astype(bool)]
        if left_out.empty:
            return e
        labels = dict(self.labels)
        apart = ", ".join(f"{labels.get(m, m)} {n}" for m, n in left_out.groupby("method").size().items())
        return rule.Evidence(e.verdict, e.n, e.mean, e.low, e.high, e.paper, e.tolerance,
                             f"{e.reason}; left out, {len(left_out)} of {len(mine)} runs {self.why} ({apart})")


@dataclass(frozen=True)
class OutOfReach(Part):
    """A part this machine cannot measure: ``blocked`` is :data:`rule.AWAITS_GPU` (its runs are in a
    profile that needs a GPU; its ``measure`` judges them by the rule once they are stored) or
    :data:`rule.DATA_UNAVAILABLE` (its data cannot be had here; see :func:`data_unavailable`).
    ``why`` is the reason shown in place of an interval while nothing is measured."""

    blocked: str = rule.AWAITS_GPU
    why: str = ""

    def judge(self, frame: pd.DataFrame) -> rule.Evidence | None:
        e = super().judge(frame)
        return e if e is not None else rule.out_of_reach(self.blocked, self.why, self.paper, self.tolerance)


def interim(part: Part, e: rule.Evidence | None, seeds: int | None) -> rule.Evidence | None:
    """The seed count is fixed before the runs: while a grid is being filled, a part measured over
    fewer seeds than the grid fixes is *not yet measured*, its interim numbers shown with the reason,
    so that no verdict is read off a grid stopped early. Parts counted exactly (n = 0) and parts per
    benchmark round are not per seed and pass unchanged, as does everything once the grid is complete
    (``seeds`` None)."""
    if seeds is None or e is None or part.per != "seed" or not 0 < e.n < seeds or e.verdict in rule.OUT_OF_REACH:
        return e
    return rule.Evidence(UNMEASURED, e.n, e.mean, e.low, e.high, e.paper, e.tolerance,
                         f"interim, {e.n} of {seeds} seeds stored (judged when all are): {e.reason}")


def _no_runs(frame: pd.DataFrame) -> Interval | None:
    """The measure of a part whose data cannot be had: no run of ours can hold it."""
    return None


def data_unavailable(name: str, why: str, paper: float | None = None) -> OutOfReach:
    """A part on data this machine cannot have (CIFAR-100, TinyImageNet, ImageNet, the LIBSVM files
    not in ``shared/data``): judged *data unavailable*, with ``why``."""
    return OutOfReach(name, _no_runs, "direction", side="higher", paper=paper, blocked=rule.DATA_UNAVAILABLE, why=why)


@dataclass(frozen=True)
class Claim:
    """A claim of a paper (``id`` as in ``paper_data/claims.csv``) judged on the runs of ``grid``."""

    id: str
    paper: str
    where: str
    text: str
    grid: str
    scope: str
    parts: tuple[Part, ...]
    frame: Callable[[list[dict[str, Any]]], pd.DataFrame] = field(repr=False, default=None)
    # where the paper disagrees with itself about this claim (its prose against its own table): a
    # finding shown beside the verdict, never used to decide it
    disagrees: str | None = None

    def evaluate(self, records: list[dict[str, Any]], seeds: int | None = None
                 ) -> tuple[str, list[tuple[str, rule.Evidence | None]]]:
        """(verdict, [(part name, evidence or None)]) from the grid's stored records. ``seeds``: the
        seed count the grid fixes, given while some of its runs are still missing; a part judged on
        fewer seeds is then *interim* (:func:`interim`) and no verdict rests on it."""
        frame = self.frame(records)
        evidence = [(p.name, interim(p, p.judge(frame), seeds)) for p in self.parts]
        measured = {name: e.verdict for name, e in evidence if e is not None and e.verdict != UNMEASURED}
        if not measured:
            return UNMEASURED, evidence
        if len(measured) < len(evidence) and set(measured.values()) <= set(rule.OUT_OF_REACH):
            return UNMEASURED, evidence  # parts this machine can measure wait for their runs
        if len(self.parts) == 1:
            return next(iter(measured.values())), evidence
        return rule.combine(measured), evidence

    def rows(self, records: list[dict[str, Any]], seeds: int | None = None) -> pd.DataFrame:
        """One row per part (the claim's verdict on each), for a chapter's claim table."""
        verdict, evidence = self.evaluate(records, seeds)
        out = []
        for part, (name, e) in zip(self.parts, evidence):
            base = {"claim": self.id, "part": name, "claim verdict": verdict,
                    **({"the paper disagrees with itself": self.disagrees} if self.disagrees else {})}
            out.append({**base, **(e.as_row() if e else {"verdict": UNMEASURED, "n": 0, "paper": part.paper,
                                                          "tolerance": part.tolerance, "reason": "no stored run yet"})})
        return pd.DataFrame(out)


def per_seed(frame: pd.DataFrame, column: str, value: Any, metric: str) -> dict[int, float]:
    """``{seed: metric}`` of the rows where ``column == value`` (one row per seed)."""
    part = frame[frame[column] == value]
    return {int(s): float(v) for s, v in zip(part["seed"], part[metric])}


def paired(column: str, baseline: Any, method: Any, metric: str, log: bool = False
           ) -> Callable[[pd.DataFrame], Interval | None]:
    """A measure: the paired interval of ``method - baseline`` (of log ``metric`` for ratios)."""
    def measure(frame: pd.DataFrame) -> Interval | None:
        a, b = per_seed(frame, column, baseline, metric), per_seed(frame, column, method, metric)
        if not set(a) & set(b):
            return None
        if log:
            a, b = {s: float(np.log(v)) for s, v in a.items()}, {s: float(np.log(v)) for s, v in b.items()}
        return rule.paired_interval(a, b)
    return measure


def single(column: str, value: Any, metric: str) -> Callable[[pd.DataFrame], Interval | None]:
    """A measure: the t interval of ``metric`` over the seeds of one method."""
    def measure(frame: pd.DataFrame) -> Interval | None:
        values = per_seed(frame, column, value, metric)
        return rule.t_interval(list(values.values())) if values else None
    return measure


def compare(frame: pd.DataFrame, *, by: str, a: Any, b: Any, metric: str, side: str,
            within: Sequence[str] = ()) -> pd.DataFrame:
    """A hypothesis no paper states ("``b`` has a ``side`` ``metric`` than ``a``"), judged by the
    book's rule per group of ``within``: the paired t interval of ``b - a`` over the seeds both have,
    direction only, worded by :data:`rule.HYPOTHESIS`. A group missing either side is a row too
    (n = 0, not resolved), never dropped. ``frame``: one row per run with ``seed``, ``by`` and ``metric``."""
    groups = frame.groupby(list(within), sort=False) if within else [((), frame)]
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        base = {**dict(zip(within, key)), "metric": metric, "a": a, "b": b}
        sa, sb = per_seed(part, by, a, metric), per_seed(part, by, b, metric)
        if not set(sa) & set(sb):
            missing = a if not sa else b if not sb else "a shared seed"
            rows.append({**base, "verdict": rule.NOT_RESOLVED, "n": 0, "difference": np.nan, "low": np.nan,
                         "high": np.nan, "reason": f"nothing to pair: no run of {missing}"})
            continue
        e = rule.judge(rule.paired_interval(sa, sb), shape="direction", side=side)
        rows.append({**base, "verdict": rule.HYPOTHESIS[e.verdict], "n": e.n, "difference": e.mean, "low": e.low,
                     "high": e.high, "reason": e.reason})
    return pd.DataFrame(rows)
