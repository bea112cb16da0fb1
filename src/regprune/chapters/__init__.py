"""Each chapter's experiment grid: ``(profile, seeds) -> list of run configs``.

The notebooks, the CLI and any sweep backend get a chapter's runs from here, so the
grid a chapter shows and the grid a cluster runs are the same list.

A grid may depend on stored results: a chapter that selects a hyperparameter on validation
(paper 001's a, b search) lists the search runs first and the runs that use the selected value
once the search is stored. Such a chapter function takes ``results_dir``; :func:`run` trains
(or loads) a grid until it no longer grows.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable, Sequence

from ..profiles import check_profile
from . import comparison, efficiency_llr, flops_pruning, quickstart, switcher_network, vc_bound, weight_compander  # noqa: F401  (they register)
from .base import CHAPTERS


def stored_only(chapter: str) -> bool:
    """A grid registered with ``stored_only=True`` (the CIFAR grids of the cpu profile) is trained run by
    run with ``regprune train``, each run stored and committed as it ends; its notebook shows the
    runs that are stored and never trains one, so a book build stays minutes long at any stage."""
    return bool(CHAPTERS.meta(chapter).get("stored_only"))


def drafts() -> list[str]:
    """Notebooks of chapters registered with ``draft=True``: their cpu runs are not all stored
    yet, so they stay out of ``_toc.yml`` and the built book; the tests still run them in smoke."""
    return list(dict.fromkeys(CHAPTERS.meta(n)["notebook"] for n in CHAPTERS.names() if CHAPTERS.meta(n).get("draft")))


def configs(chapter: str, profile: str, seeds: Sequence[int] | None = None,
            results_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """The run configs of ``chapter`` in ``profile``; ``seeds=None`` takes the profile's default.
    ``results_dir``: where a staged grid looks for the results its later runs depend on."""
    CHAPTERS.check(chapter, "chapter")
    check_profile(profile)
    if seeds is not None:
        seeds = [int(s) for s in seeds]
    fn = CHAPTERS.get(chapter)
    if "results_dir" in inspect.signature(fn).parameters:
        return fn(profile, seeds, results_dir=results_dir)
    return fn(profile, seeds)


def run(chapter: str, profile: str, seeds: Sequence[int] | None = None, *, results_dir: str | Path | None = None,
        recompute: bool = False, on_record: Callable[[int, int, dict], None] | None = None,
        **run_kwargs: Any) -> list[dict[str, Any]]:
    """Train (or load) every run of a chapter, re-deriving a staged grid until it stops growing;
    return the records of the final grid. ``on_record(i, n, record)`` reports each trained run."""
    from .. import results

    done: dict[str, dict[str, Any]] = {}  # run key -> record, so no record is read twice
    while True:
        grid = configs(chapter, profile, seeds, results_dir)
        todo = [c for c in grid if results.run_key(c) not in done]
        if not todo:
            return [done[results.run_key(c)] for c in grid]
        for c in todo:  # all checked before the first trains
            results.experiment.validate(c)
        for i, c in enumerate(todo, 1):
            record = results.run_or_load(c, results_dir=results_dir, recompute=recompute, **run_kwargs)
            done[results.run_key(c)] = record
            if on_record is not None:
                on_record(i, len(todo), record)
