"""Issue 31's figures in one table: each benchmark's latest stored result against its target.

Reads `bench/results/*.json` (written by the benchmark scripts) and prints, per item, what was
measured, the target, whether it is met, and when and on which commit it was measured. The rows
and their judgement are :mod:`regprune.speed_targets`, which the book's appendix shows too.
`make bench` ends with it; `make bench-summary` prints it alone. Measures nothing itself.
"""

from __future__ import annotations

from pathlib import Path

from regprune import speed_targets

RESULTS = Path(__file__).resolve().parent / "results"

if __name__ == "__main__":
    print(speed_targets.table(speed_targets.rows(RESULTS)))
