"""Run a grid of run configs on a backend (``local`` or ``ray``) into one results store.

A sweep resumes because the store does: a stored run is loaded, never trained again, so a
sweep killed halfway and started again trains only the runs that are missing. A run that
raises is reported with its error and the sweep goes on; the caller decides what a failure
means (``regprune sweep`` exits 1). A staged grid (later runs depend on stored search results)
is listed again after each round until it stops growing. This is the one grid walker: a notebook gets its
runs through :func:`regprune.chapters.records`, which calls it.
"""

from __future__ import annotations

import math
import os
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from . import experiment, results
from .backends import BACKENDS, Backend, LocalBackend, Outcome
from .registry import ConfigError, check_choice

def check_backend(backend: str, gpus_per_run: float | None = None, address: str | None = None) -> None:
    """Bad backend settings fail here, before any run is listed or trained."""
    check_choice("backend", backend, BACKENDS)
    if gpus_per_run is not None:
        if backend != "ray":
            raise ConfigError(f"gpus_per_run is a request to Ray's scheduler; it needs backend='ray', not {backend!r}")
        if not math.isfinite(gpus_per_run) or gpus_per_run < 0 or (gpus_per_run > 1 and gpus_per_run != int(gpus_per_run)):
            raise ConfigError(f"gpus_per_run must be 0, a fraction in (0, 1] or a whole number; got {gpus_per_run!r}")
    if backend == "ray":
        try:
            import ray  # noqa: F401
        except ImportError as err:
            raise ConfigError(f"backend='ray' needs Ray, which is not installed: pip install regprune[ray] ({err})") from err
        check_address(address)


def check_address(address: str | None, timeout_s: float = 3.0) -> None:
    """A Ray cluster address (else ``$RAY_ADDRESS``) that answers within seconds, so a wrong one
    fails now instead of hanging for minutes. ``None``, 'local' and 'auto' leave it to Ray."""
    name = "address"
    if address is None:
        name, address = "RAY_ADDRESS", os.environ.get("RAY_ADDRESS")
    if address in (None, "local", "auto"):
        return
    m = re.fullmatch(r"(?:ray://)?\[?([^\]\s]+?)\]?:(\d{1,5})", address)
    allowed = "HOST:PORT or ray://HOST:PORT of a running cluster, 'local' or 'auto'"
    if not m or not 0 < int(m[2]) < 65536:
        raise ConfigError(f"{name}={address!r} is not allowed; allowed: {allowed}")
    try:
        socket.create_connection((m[1], int(m[2])), timeout=timeout_s).close()
    except OSError as err:
        raise ConfigError(f"{name}={address!r}: nothing answers there within {timeout_s:g}s ({err}); "
                          f"allowed: {allowed}") from None


def make_backend(backend: str, address: str | None = None, gpus_per_run: float | None = None) -> Backend:
    check_backend(backend, gpus_per_run, address)
    if backend == "local":
        if address is not None:
            raise ConfigError("address names a Ray cluster; it needs backend='ray'")
        return LocalBackend()
    from .ray_backend import RayBackend

    return RayBackend(address=address, gpus_per_run=gpus_per_run)


@dataclass
class Tally:
    """Progress of a sweep: done, running, failed, and the time left at the rate runs finish."""

    total: int = 0
    loaded: int = 0
    trained: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.loaded + self.trained

    def eta(self) -> str:
        executed = self.trained + self.failed
        left = self.total - self.done - self.failed
        if not left:
            return "0s"
        if not executed:
            return "?"
        return _duration((time.monotonic() - self.started) / executed * left)

    def line(self, running: int) -> str:
        return f"{self.done}/{self.total} done, {running} running, {self.failed} failed, ~{self.eta()} left"


def _stored(store: results.ResultStore, config: dict[str, Any]) -> dict[str, Any] | None:
    """The record of a config, or None: a bad record goes to the run, which reports (or repairs) it."""
    try:
        return store.load(config)
    except results.BadRecord:
        return None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@dataclass
class SweepResult:
    records: list[dict[str, Any]]  # of the final grid, in grid order; failed runs have none
    failures: list[Outcome]
    tally: Tally


def sweep(grid: Callable[[], list[dict[str, Any]]], *, label: str, backend: str = "local", address: str | None = None,
          gpus_per_run: float | None = None, results_dir: Any = None, recompute: bool = False, repair: bool = False,
          report: Callable[[str], None] = print, **run_kwargs: Any) -> SweepResult:
    """Run every config ``grid()`` lists (listing again until no new ones) on ``backend``.

    ``run_kwargs`` go to :func:`regprune.results.run_or_load` (device, data_root, progress).
    Every config of a round is validated before the first of them runs. A bad stored record
    fails its run (the others go on), or with ``repair`` is moved aside and the run trained again."""
    if gpus_per_run is None and run_kwargs.get("device") == "cpu":
        gpus_per_run = 0 if backend == "ray" else None  # cpu runs must not hold the cluster's GPUs
    runner = make_backend(backend, address, gpus_per_run)
    store = results.ResultStore(results_dir, repair=repair)
    run_kwargs = {**run_kwargs, "results_dir": results_dir, "recompute": recompute, "repair": repair}
    outcomes: dict[str, Outcome] = {}
    tally = Tally()
    rounds = 0
    configs = grid()  # a bad chapter, profile or config fails here, before a backend starts
    for c in configs:
        experiment.validate(c)
    for orphan in store.clean_orphans():
        report(f"removed {orphan}, a temp file a killed writer left")
    t0 = time.monotonic()
    with runner:
        tally.started = time.monotonic()  # the rate of runs, not of the backend's start-up
        while True:
            new = list({results.run_key(c): c for c in configs if results.run_key(c) not in outcomes}.values())
            if not new:
                break
            for c in new:  # every config of a round, before the first of them runs
                experiment.validate(c)
            stored = [] if recompute else [(c, r) for c in new if (r := _stored(store, c)) is not None]
            outcomes.update((results.run_key(c), Outcome(c, record=r)) for c, r in stored)
            todo = [c for c in new if results.run_key(c) not in outcomes]
            tally.total += len(new)
            tally.loaded += len(stored)
            what = f"{len(new)} runs" if not rounds else f"the grid grew by {len(new)} runs as its search results arrived"
            report(f"{label}: {what}, {len(stored)} stored, {len(todo)} to train")
            rounds += 1
            for i, outcome in enumerate(runner(todo, run_kwargs), 1):
                outcomes[outcome.key] = outcome
                if outcome.error is None and not outcome.trained:
                    tally.loaded += 1
                    what = "loaded: another sweep trained it"
                elif outcome.error is None:
                    tally.trained += 1
                    r = outcome.record
                    what = f"{r['status']} test_acc={r['metrics'].get('test_acc')} wall={r['wall_time_s']:.1f}s"
                else:
                    tally.failed += 1
                    what = f"FAILED {outcome.error}"
                report(f"[{i}/{len(todo)}] {outcome.key} seed={outcome.config.get('seed', 0)} {what} | "
                       f"{tally.line(runner.running)}")
            configs = grid()
    final = [outcomes[results.run_key(c)] for c in configs]
    failures = [o for o in outcomes.values() if o.error is not None]
    summary = (f"{label}: {tally.total} runs: {tally.loaded} loaded, {tally.trained} trained, {tally.failed} failed "
               f"in {_duration(time.monotonic() - t0)}")
    report(summary)
    for o in failures:
        report(f"failed: {o.key} seed={o.config.get('seed', 0)}: {o.error}\n{o.details}".rstrip())
    return SweepResult([o.record for o in final if o.record is not None], failures, tally)
