"""The papers' claims as code and the one rule that judges them.

:mod:`.rule` is the decision rule; :mod:`.base` defines a claim and its named parts; the claims
themselves live in modules by subject (:mod:`.cifar`: the CIFAR claims our `cpu` profile
measures). :func:`by_id` finds a claim by its ``paper_data/claims.csv`` id; :func:`evaluate`
judges it on the stored runs of its grid, training nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import compare
from .rule import (AWAITS_GPU, CONFIDENCE, DATA_UNAVAILABLE, NOT_REPRODUCED, NOT_RESOLVED, PARTLY, REPRODUCED,
                   VERDICTS, Evidence, bootstrap_interval, combine, judge, paired_interval, t_interval)

__all__ = ["AWAITS_GPU", "CONFIDENCE", "DATA_UNAVAILABLE", "NOT_REPRODUCED", "NOT_RESOLVED", "PARTLY", "REPRODUCED",
           "VERDICTS", "Evidence", "bootstrap_interval", "by_id", "combine", "compare", "evaluate", "judge", "paired_interval",
           "records", "t_interval", "table"]


def by_id() -> dict[str, Any]:
    """Every claim written as code, by id: the ``CLAIMS`` of each module of this package but
    :mod:`.base` and :mod:`.rule` (imported on first use: claims read the chapters' grids)."""
    import importlib
    import pkgutil

    found: dict[str, Any] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in ("base", "rule"):
            continue
        for claim in importlib.import_module(f"{__name__}.{info.name}").CLAIMS:
            if claim.id in found:
                raise ValueError(f"claim id {claim.id!r} is written twice (in {info.name})")
            found[claim.id] = claim
    return found


def records(claim: Any, profile: str, results_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """The stored runs of the claim's grid in ``profile`` (loads only, never trains); a claim judged
    on a stored benchmark (one with a ``load``) reads it from ``results_dir`` instead."""
    return _stored(claim, profile, results_dir)[0]


def _stored(claim: Any, profile: str, results_dir: str | Path | None) -> tuple[list[dict[str, Any]], int | None]:
    """(the stored runs, the seed count the grid fixes if some of its runs are still missing, else None)."""
    from .. import chapters, results

    if hasattr(claim, "load"):
        return claim.load(results_dir), None
    configs = chapters.configs(claim.grid, profile, results_dir=results_dir)
    found, missing = results.stored(configs, results_dir)
    return found, (len({int(c.get("seed", 0)) for c in configs}) if missing else None)


def table(grid: str, profile: str, results_dir: str | Path | None = None):
    """Every coded claim judged on ``grid``'s stored runs: one row per named part, with the claim's
    verdict, n, our mean and interval, the paper's value, the tolerance and the reason."""
    import pandas as pd

    mine = [c for c in by_id().values() if c.grid == grid]
    if not mine:
        return pd.DataFrame()
    found, seeds = _stored(mine[0], profile, results_dir)
    return pd.concat([c.rows(found, seeds) for c in mine], ignore_index=True)


def evaluate(claim: Any, profile: str, results_dir: str | Path | None = None):
    """(verdict, [(part, evidence)]) of ``claim`` on the stored runs of its grid in ``profile``
    (interim while the grid misses runs: :func:`regprune.claims.base.interim`)."""
    return claim.evaluate(*_stored(claim, profile, results_dir))
