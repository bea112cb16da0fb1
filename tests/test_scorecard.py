"""The scorecard: every transcribed claim beside the verdict its code gives (judged by the one rule
on stored runs), or *awaits GPU run*; fake claims and fake claim code, verdicts worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from regprune import book, scorecard
from regprune.chapters import drafts
from regprune.claims import base, rule
from regprune.claims.base import OutOfReach
from regprune.registry import ConfigError


def claim_row(claim_id, chapter="nb", needs_gpu="false"):
    return {"paper": "000", "claim_id": claim_id, "claim": f"claim {claim_id}", "paper_value": "1%",
            "source": "Table 1", "chapter": chapter, "scope": "MNIST", "needs_gpu": needs_gpu}


def fake_claim(claim_id: str, diffs: list[float] | None) -> base.Claim:
    """A coded claim "b is higher than a" whose frame holds the paired differences ``diffs`` (None: no run)."""
    def frame(records):
        if diffs is None:
            return pd.DataFrame()
        rows = [{"seed": s, "m": "a", "v": 0.0} for s in range(len(diffs))]
        return pd.DataFrame(rows + [{"seed": s, "m": "b", "v": d} for s, d in enumerate(diffs)])
    part = base.Part("b - a", base.paired("m", "a", "b", "v"), "direction", side="higher")
    return base.Claim(claim_id, "000", "Table 1", "b beats a", "quickstart", "fake scope", (part,), frame)


@pytest.fixture
def card(monkeypatch, tmp_path):
    coded = {"up": fake_claim("up", [1.0, 1.1, 0.9]), "down": fake_claim("down", [-1.0, -1.1, -0.9]),
             "noise": fake_claim("noise", [1.0, -1.0, 0.5]), "norun": fake_claim("norun", None)}
    monkeypatch.setattr("regprune.claims.by_id", lambda: coded)
    monkeypatch.setattr("regprune.claims.records", lambda claim, profile, results_dir=None: [])
    rows = [claim_row(i) for i in coded] + [claim_row("gpu", needs_gpu="TRUE")]
    return scorecard.gather("cpu", claims=pd.DataFrame(rows), results_dir=tmp_path).set_index(
        pd.Index([*coded, "gpu"]))


def test_verdicts_come_from_the_claims_code(card):
    assert card["verdict"].to_dict() == {"up": "reproduced", "down": "not reproduced", "noise": "not resolved",
                                         "norun": "not yet measured", "gpu": "awaits GPU run"}
    assert list(card.columns) == scorecard.COLUMNS


def test_ours_names_each_part_with_its_reason_and_the_profile(card):
    assert card.loc["up", "ours"].startswith("b - a: reproduced, 95% interval [")
    assert card.loc["noise", "ours"].endswith("contains 0: a difference at noise level")
    assert card.loc["up", "profile"] == "cpu" and card.loc["gpu", "profile"] == "" == card.loc["norun", "ours"]
    assert card.loc["up", "data"] == "fake scope" and card.loc["gpu", "data"] == "MNIST"


def test_counts_in_fixed_order(card):
    tally = scorecard.counts(card.reset_index(drop=True))
    assert list(tally.index) == ["reproduced", "not reproduced", "not resolved", "awaits GPU run", "not yet measured"]
    assert tally.to_dict() == {"reproduced": 1, "not reproduced": 1, "not resolved": 1, "awaits GPU run": 1,
                               "not yet measured": 1}
    assert scorecard.VERDICTS[:4] == (rule.REPRODUCED, rule.PARTLY, rule.NOT_REPRODUCED, rule.NOT_RESOLVED)


def test_bad_input_is_named(tmp_path):
    claims = pd.DataFrame([claim_row("gpu", needs_gpu="true")])
    with pytest.raises(ConfigError, match="profile='gpu'"):
        scorecard.gather("gpu", claims=claims)
    with pytest.raises(ValueError, match="missing columns \\['scope'\\]"):
        scorecard.gather(claims=claims.drop(columns="scope"))
    with pytest.raises(ValueError, match="needs_gpu='yes'"):
        scorecard.gather(claims=claims.assign(needs_gpu="yes"))
    with pytest.raises(ConfigError, match="claims=list"):
        scorecard.gather(claims=[])
    with pytest.raises(ValueError, match="claim_id='nocode' needs no GPU but is not written as code"):
        scorecard.gather(claims=pd.DataFrame([claim_row("nocode")]), results_dir=tmp_path)
    with pytest.raises(ValueError, match="'verdict' column"):
        scorecard.counts(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="verdict='great'"):
        scorecard.counts(pd.DataFrame({"verdict": ["great"]}))


CLAIMS = scorecard.load_claims()


def test_claims_file_is_complete_and_tidy():
    assert list(CLAIMS.columns) == scorecard.CLAIM_COLUMNS
    assert set(CLAIMS["paper"]) == {"000", "001", "002", "003", "004"}
    assert CLAIMS["claim_id"].is_unique
    assert (CLAIMS[["claim", "paper_value", "source", "scope"]] != "").all().all()


def test_every_chapter_is_a_notebook():
    known = set(book.notebooks()) | set(drafts())
    assert set(CLAIMS["chapter"]) - {""} <= known, set(CLAIMS["chapter"]) - {""} - known


def test_real_claims_before_any_run(tmp_path):
    from regprune import claims
    from regprune.claims import flops_pruning as flop_claims

    card = scorecard.gather(claims=None, results_dir=tmp_path / "no-results")
    coded = CLAIMS["claim_id"].isin(list(claims.by_id())).to_numpy()
    runless = CLAIMS["claim_id"].isin([c.id for c in flop_claims.CLAIMS]).to_numpy()  # counted and timed, no run
    # claims no run here can measure (other depths, data that cannot be had) say so, stored runs or not
    unreachable = CLAIMS["claim_id"].isin([i for i, c in claims.by_id().items()
                                           if all(isinstance(p, OutOfReach) for p in c.parts)]).to_numpy()
    assert unreachable.any() and card.loc[unreachable, "verdict"].isin(["awaits GPU run", "data unavailable"]).all()
    assert card.loc[unreachable, "profile"].eq("").all()
    assert (card.loc[coded & ~runless & ~unreachable, "verdict"] == "not yet measured").all()  # no stored runs here
    assert (card.loc[runless, "verdict"] != "not yet measured").all()
    assert (card.loc[~coded, "verdict"] == "awaits GPU run").all() and CLAIMS.loc[~coded, "needs_gpu"].all()


def test_a_paper_that_disagrees_with_itself_is_shown_beside_the_verdict(monkeypatch, tmp_path):
    import dataclasses

    claim = dataclasses.replace(fake_claim("up", [1.0, 1.1, 0.9]), disagrees="its text says X, its Table 2 says Y")
    unmeasured = dataclasses.replace(fake_claim("norun", None), disagrees="prose 3, table 4")
    monkeypatch.setattr("regprune.claims.by_id", lambda: {"up": claim, "norun": unmeasured})
    monkeypatch.setattr("regprune.claims.records", lambda claim, profile, results_dir=None: [])
    card = scorecard.gather("cpu", claims=pd.DataFrame([claim_row("up"), claim_row("norun")]), results_dir=tmp_path)
    assert card["verdict"].tolist() == ["reproduced", "not yet measured"]  # the finding decides nothing
    assert card.loc[0, "ours"].endswith(". The paper disagrees with itself: its text says X, its Table 2 says Y")
    assert card.loc[1, "ours"] == "The paper disagrees with itself: prose 3, table 4" and card.loc[1, "profile"] == ""
    rows = claim.rows([])
    assert (rows["the paper disagrees with itself"] == "its text says X, its Table 2 says Y").all()
    assert "the paper disagrees with itself" not in fake_claim("up", [1.0]).rows([])
