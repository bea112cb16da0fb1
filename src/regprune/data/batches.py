"""Batches drawn by index from an in-memory data set, on the data's own device."""

from __future__ import annotations

from typing import Iterator

import torch

from ..registry import ConfigError
from .arrays import ArrayDataset

class BatchLoader:
    """Batches of an in-memory ArrayDataset, drawn by index on the data's device (GPU included).

    With ``shuffle`` each epoch uses ``torch.randperm`` from ``generator``, so the order is
    reproducible from the generator state.
    """

    def __init__(self, ds: ArrayDataset, batch_size: int, *, shuffle: bool = False, drop_last: bool = False,
                 generator: torch.Generator | None = None):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigError(f"batch_size={batch_size!r} must be an int >= 1")
        self.ds, self.batch_size, self.shuffle, self.drop_last, self.generator = (
            ds, batch_size, shuffle, drop_last, generator)

    def __len__(self) -> int:
        n, b = len(self.ds), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        x, y, b = self.ds.x, self.ds.y, self.batch_size
        order = None
        if self.shuffle:
            dev = self.generator.device if self.generator is not None else x.device
            order = torch.randperm(len(y), generator=self.generator, device=dev).to(x.device)
        for i in range(len(self)):
            if order is None:
                yield x[i * b : (i + 1) * b], y[i * b : (i + 1) * b]
            else:
                idx = order[i * b : (i + 1) * b]
                yield x.index_select(0, idx), y.index_select(0, idx)
