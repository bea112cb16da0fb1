"""Every transcribed claim that our CPU can measure is written as code, in the module named after
its chapter (claims.csv rows with needs_gpu=false)."""

from __future__ import annotations

import importlib

import pytest

from regprune import claims, scorecard

CHAPTERS = ("vc_bound", "weight_compander", "flops_pruning")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_cpu_claim_of_the_chapter_is_coded(chapter):
    rows = scorecard.load_claims()
    wanted = set(rows.loc[(rows["chapter"] == chapter) & ~rows["needs_gpu"], "claim_id"])
    module = importlib.import_module(f"regprune.claims.{chapter}")
    mine = {c.id for c in module.CLAIMS}
    assert wanted and mine == wanted
    coded = claims.by_id()
    assert all(coded[i].grid == chapter for i in mine)
    assert all(coded[i].paper == rows.set_index("claim_id").loc[i, "paper"] for i in mine)
