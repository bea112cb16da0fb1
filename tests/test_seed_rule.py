"""The book's seed rule (book/judging.md): a grid whose claims are judged fixes its seeds up front,
at least 5 where a run takes under about 3 minutes on the book's CPU, at least 3 otherwise.

The run time is the median wall time of the grid's stored cpu runs (what they took here). Grids
that broke the rule when it was written are listed with what brings them to five; the test fails
on any other breach, and on a listed grid once it complies (so the list only shrinks)."""

import statistics

import pytest

from regprune import chapters, claims, results

FAST_MINUTES, FAST_SEEDS, SLOW_SEEDS = 3.0, 5, 3
BEING_RAISED = {  # grid -> what brings it to five seeds (seeds 3 and 4 trained, then the profile's list)
}


def judged_grids() -> list[str]:
    return sorted({c.grid for c in claims.by_id().values()} & set(chapters.CHAPTERS.names()))


@pytest.mark.parametrize("grid", judged_grids())
def test_every_judged_grid_has_the_seeds_the_rule_asks_for(grid):
    configs = chapters.configs(grid, "cpu")
    found, _ = results.stored(configs)
    walls = [r["wall_time_s"] for r in found if r.get("wall_time_s")]
    if not configs or not walls:
        pytest.skip(f"{grid}: no stored cpu run to time")
    minutes = statistics.median(walls) / 60
    seeds = len({c["seed"] for c in configs})
    needed = FAST_SEEDS if minutes < FAST_MINUTES else SLOW_SEEDS
    if grid in BEING_RAISED:
        assert seeds < needed, f"{grid} now has {seeds} seeds: take it off BEING_RAISED"
    else:
        assert seeds >= needed, f"{grid}: {seeds} seeds, runs of {minutes:.1f} min need {needed}"
