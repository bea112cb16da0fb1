"""The ``ray`` sweep backend: one Ray task per run, each asking Ray's scheduler for its resources.

``address``: ``None`` lets Ray choose (``$RAY_ADDRESS``, else a cluster started with ``ray start``
on this machine, else a new local instance); ``"local"`` always starts a new local instance;
``"HOST:6379"`` joins that cluster. Tasks import regprune on the node that runs them, so every
node needs the same regprune installed, and every node must reach the results store (a shared
folder or a URL) and the data (``--data-root`` or ``$REGPRUNE_DATA`` on that node).
Ray is imported here only: nothing else needs it.
"""

from __future__ import annotations

from typing import Any, Iterator

import ray

from .backends import Outcome, execute


def _run(config: dict[str, Any], run_kwargs: dict[str, Any]) -> Outcome:
    return execute(config, **run_kwargs)


class RayBackend:
    def __init__(self, address: str | None = None, gpus_per_run: float | None = None, cpus_per_run: float = 1):
        self.address, self.gpus_per_run, self.cpus_per_run = address, gpus_per_run, cpus_per_run
        self.running = 0
        self._started_ray = False

    def __enter__(self) -> "RayBackend":
        if not ray.is_initialized():  # a notebook or a test may have connected already
            ray.init(address=self.address)
            self._started_ray = True
        if self.gpus_per_run is None:  # one GPU per run where the cluster has GPUs
            self.gpus_per_run = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._started_ray:
            ray.shutdown()

    def slots(self) -> int:
        """How many runs the cluster can hold at once: the bound on ``running``."""
        have = ray.cluster_resources()
        fits = [have.get("CPU", 0) / self.cpus_per_run]
        if self.gpus_per_run:
            fits.append(have.get("GPU", 0) / self.gpus_per_run)
        return max(1, int(min(fits)))

    def __call__(self, configs: list[dict[str, Any]], run_kwargs: dict[str, Any]) -> Iterator[Outcome]:
        task = ray.remote(_run).options(num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run,
                                        name="regprune-run")
        pending = {task.remote(c, run_kwargs): c for c in configs}
        slots = self.slots()
        while pending:
            self.running = min(len(pending), slots)  # the rest wait in Ray's queue
            (ready,), _ = ray.wait(list(pending), num_returns=1)
            config = pending.pop(ready)
            try:
                outcome = ray.get(ready)
            except Exception as err:  # the task itself died (worker killed, out of memory, node lost)
                outcome = Outcome(config, error=f"{type(err).__name__}: {err}")
            self.running = min(len(pending), slots)
            yield outcome
