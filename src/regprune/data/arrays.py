"""The in-memory containers every data set is returned as, and the error a bad data file raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch


class DataError(RuntimeError):
    """A data file is missing or corrupt; the message says where we looked and how to get it."""




@dataclass
class ArrayDataset:
    """A whole data set as two tensors, so batching is indexing (no per-sample Python work)."""

    x: torch.Tensor  # float32, (N, C, H, W) for images or (N, D) for vectors
    y: torch.Tensor  # int64 class indices, (N,)
    num_classes: int
    name: str = ""

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"{self.name}: x has {len(self.x)} rows but y has {len(self.y)}")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def to(self, device: torch.device | str) -> "ArrayDataset":
        return ArrayDataset(self.x.to(device), self.y.to(device), self.num_classes, self.name)

    def subset(self, indices: Sequence[int] | torch.Tensor) -> "ArrayDataset":
        idx = torch.as_tensor(indices, dtype=torch.long, device=self.x.device)
        return ArrayDataset(self.x[idx], self.y[idx], self.num_classes, self.name)


@dataclass
class Splits:
    """Train / validation / test parts plus a JSON-serializable record of how they were made."""

    train: ArrayDataset
    val: ArrayDataset
    test: ArrayDataset
    info: dict[str, Any] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> "Splits":
        return Splits(self.train.to(device), self.val.to(device), self.test.to(device), self.info)

