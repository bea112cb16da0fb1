"""The claims that rest on CIFAR-100 alone (papers 000, 001 and 002): the data cannot be had here.

CIFAR-100 is not in ``shared/data`` (its ``SOURCES.md``: no whole copy could be found, and at about
161 MB it would not fit the size budget beside CIFAR-10), and neither this machine nor the GPU
machine it is sometimes lent can download it, so no run of ours can hold it: each claim is *data
unavailable*, with that reason, rather than *awaits GPU run* (a GPU would not help). The grids'
``paper`` profiles still list these rows: on a machine with internet the ``cifar100`` loader
downloads the data, and a reader can run them there.

A claim that also holds on CIFAR-10 in the paper (000's "linear accuracy needs exponential
capacity", stated for CIFAR-100 "as before", and 001's arsinh and erf companders) stays
*awaits GPU run*: its CIFAR-10 half is measurable on a GPU.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .base import Claim, data_unavailable

WHY = ("CIFAR-100 is not in shared/data (SOURCES.md: no whole copy could be had) and cannot be downloaded on this "
       "machine or on the GPU machine it is lent, so no run of ours holds it; the grid's paper profile downloads "
       "it on a machine with internet")


def _no_runs(records: list[dict[str, Any]]) -> pd.DataFrame:
    """No run of ours is on CIFAR-100: the records are not read."""
    return pd.DataFrame()


CLAIMS: tuple[Claim, ...] = (
    Claim("cifar100_densenet_gap", "000", "Sec. 3.4, Fig. 5", "On CIFAR-100 the difference between softmax and "
          "LLR is less prominent for DenseNets than for ResNets.", "efficiency_llr_cifar",
          "CIFAR-100 ResNets and DenseNets (not in any grid this machine can run)",
          (data_unavailable("(LLR - softmax gap, ResNets) - (the same gap, DenseNets), test error pp", WHY),),
          _no_runs),
    Claim("wc_resnet50_cifar100", "001", "Table III", "WC raises ResNet50's CIFAR-100 test accuracy by 1.56 points.",
          "weight_compander_cifar", "CIFAR-100 ResNet50 (not in any grid this machine can run)",
          (data_unavailable("ResNet50: WC - plain (test accuracy, pp)", WHY, paper=1.56),),
          _no_runs),
    Claim("snn_cifar100", "002", "Table 3, Sec. 4.3", "On CIFAR-100, SNN-trained ResNets beat N2N by about 3 "
          "points; VGG16 keeps 28.7M parameters.", "switcher_network_cifar",
          "CIFAR-100 ResNet18/34 and VGG16 (not in any grid this machine can run)",
          (data_unavailable("ResNet18: SNN - N2N (test accuracy, pp; the lower of the paper's two SNN modes)", WHY,
                            paper=2.73),
           data_unavailable("ResNet34: SNN - N2N (test accuracy, pp; the lower of the paper's two SNN modes)", WHY,
                            paper=2.87),
           data_unavailable("VGG16: parameters kept (millions)", WHY, paper=28.7)),
          _no_runs),
)
