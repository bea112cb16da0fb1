"""Each chapter's experiment grid: ``(profile, seeds) -> list of run configs``.

The notebooks, the CLI and any sweep backend get a chapter's runs from here, so the
grid a chapter shows and the grid a cluster runs are the same list.

A grid may depend on stored results: a chapter that selects a hyperparameter on validation
(paper 001's a, b search) lists the search runs first and the runs that use the selected value
once the search is stored. Such a chapter function takes ``results_dir``; :func:`records` is the
one way to a grid's runs: it loads them, or trains what is missing until the grid no longer grows.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import experiment
from ..profiles import check_profile, loads_stored
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
        made = fn(profile, seeds, results_dir=results_dir)
    else:
        made = fn(profile, seeds)
    made = copy.deepcopy(made)  # a caller may change a config in place: never a grid's shared settings
    for config in made:  # checked once, here where it is made (a bad grid fails before anything runs)
        experiment.validate(config)
    return made


def records(chapter: str, profile: str, seeds: Sequence[int] | None = None, *,
            results_dir: str | Path | None = None, train: bool | None = None, recompute: bool = False,
            report: Callable[[str], None] = print, **run_kwargs: Any) -> list[dict[str, Any]]:
    """The one way to a chapter's runs: the records of its grid, in grid order.

    ``train=None`` follows the profile's rule: a stored-only grid (CIFAR) in a profile that loads
    stored runs (:func:`regprune.profiles.loads_stored`: cpu) only loads what is stored, and a
    missing run is left out; every other grid trains what is missing. ``train=False`` only loads;
    ``train=True`` trains what is missing (:func:`regprune.runner.sweep`, the one grid walker:
    a staged grid is listed again until it stops growing). ``run_kwargs`` (device, data_root,
    progress) go to the runs; a run that fails raises, naming it, after the others have run."""
    from .. import results, runner

    if train is None:
        train = not (stored_only(chapter) and loads_stored(profile))
    if not train:
        if recompute:
            report(f"{chapter} ({profile}): recompute does not apply: this grid's runs are only loaded here; "
                   "train them again with `regprune train --recompute`")
        return results.stored(configs(chapter, profile, seeds, results_dir), results_dir)[0]
    outcome = runner.sweep(lambda: configs(chapter, profile, seeds, results_dir), label=f"{chapter} ({profile})",
                           results_dir=results_dir, recompute=recompute, report=report, **run_kwargs)
    if outcome.failures:
        first = outcome.failures[0]
        raise RuntimeError(f"{chapter} ({profile}): {len(outcome.failures)} run(s) failed; first: {first.key} "
                           f"seed={first.config.get('seed', 0)}: {first.error}")
    return outcome.records
