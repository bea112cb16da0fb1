"""The papers' claims and the one rule that judges them (:mod:`.rule`)."""

from .rule import (AWAITS_GPU, CONFIDENCE, DATA_UNAVAILABLE, NOT_REPRODUCED, NOT_RESOLVED, PARTLY, REPRODUCED,
                   VERDICTS, Evidence, bootstrap_interval, combine, judge, paired_interval, t_interval)

__all__ = ["AWAITS_GPU", "CONFIDENCE", "DATA_UNAVAILABLE", "NOT_REPRODUCED", "NOT_RESOLVED", "PARTLY", "REPRODUCED",
           "VERDICTS", "Evidence", "bootstrap_interval", "combine", "judge", "paired_interval", "t_interval"]
