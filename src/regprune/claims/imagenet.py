"""Paper 001's TinyImageNet and ImageNet claims (Tables IV and V): the data cannot be had here.

Neither data set is in ``shared/data`` (its ``SOURCES.md`` lists what could be had) and neither can
be had on this machine, so no run of ours can hold them, on a CPU or on a GPU: each claim is *data
unavailable*, with that reason. They sit with the chapter's CIFAR grid, whose notebook shows the
paper's own experiments.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .base import Claim, data_unavailable

GRID = "weight_compander_cifar"
WHY = ("{data} is not in shared/data and cannot be had on this machine, so no run of ours holds it (the paper: "
       "ResNet50, 300 epochs, 3 seeds)")


def _no_runs(records: list[dict[str, Any]]) -> pd.DataFrame:
    """No run of the grid measures these data sets: the records are not read."""
    return pd.DataFrame()


CLAIMS: tuple[Claim, ...] = (
    Claim("wc_tinyimagenet", "001", "Table IV", "WC raises ResNet50's TinyImageNet top-1 accuracy by 0.86 points.",
          GRID, "TinyImageNet ResNet50 (not in any grid this machine can run)",
          (data_unavailable("ResNet50: WC - plain (top-1 accuracy, pp)", WHY.format(data="TinyImageNet"), paper=0.86),),
          _no_runs),
    Claim("wc_imagenet", "001", "Table V", "WC raises ResNet50's ImageNet top-1 accuracy by 0.22 points.",
          GRID, "ImageNet ResNet50 (not in any grid this machine can run)",
          (data_unavailable("ResNet50: WC - plain (top-1 accuracy, pp)", WHY.format(data="ImageNet"), paper=0.22),),
          _no_runs),
)
