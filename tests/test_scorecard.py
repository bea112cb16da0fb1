"""The scorecard: verdict mapping on small fake chapter tables, and the transcribed claims
checked against the notebooks that are said to test them."""

from __future__ import annotations

import ast
import json
import re

import pandas as pd
import pytest

from regprune import book, paths, scorecard
from regprune.chapters import drafts
from regprune.registry import ConfigError


def compare_rows(claim: str, verdicts: list[str], metric: str = "test_error_%") -> list[dict]:
    """Rows shaped like report.compare output with a claim column (one per model)."""
    return [{"claim": claim, "model": f"m{i}", "metric": metric, "a_mean": 1.0, "b_mean": 1.0 - d,
             "difference": -d, "std_error": 0.1, "seeds": "3/3", "verdict": v}
            for i, (v, d) in enumerate(zip(verdicts, (0.5, 0.3, 0.1, 0.2)))]


@pytest.fixture
def tables(tmp_path):
    """Fake claims tables: a compare-style chapter, a vc-style chapter and a flops-style one."""
    def save(notebook, rows):
        (tmp_path / notebook).mkdir()
        pd.DataFrame(rows).to_csv(tmp_path / notebook / "claims.csv", index=False)

    save("compare_nb", compare_rows("1. all good", ["supported", "supported"])
         + compare_rows("2. mixed", ["supported", "not resolved"])
         + compare_rows("3. wrong", ["contradicted", "not resolved"])
         + compare_rows("4. unclear", ["not resolved", "not resolved"]))
    save("vc_nb", [{"claim": "peaks above full precision", "ours": "3 of 4 above", "paper": "Fig. 3",
                    "verdict": "supported"},
                   {"claim": "noise gains", "ours": "median gain +0.01 pp", "paper": "Fig. 3",
                    "verdict": "not supported: gains at the noise level"},
                   {"claim": "pairs", "ours": "5 not resolved of 6", "paper": "Tables",
                    "verdict": "mostly not resolved"}])
    save("flops_nb", [{"claim": "mixup helps (Table 2)", "evidence": "awaits GPU run", "verdict": "not yet measured"},
                      {"claim": "faster", "evidence": "-5 to 20%", "verdict": "depends on the setting"}])
    return tmp_path


def claim_row(claim_id, chapter="", match="", needs_gpu="false"):
    return {"paper": "000", "claim_id": claim_id, "claim": f"claim {claim_id}", "paper_value": "1%",
            "source": "Table 1", "chapter": chapter, "match": match, "scope": "MNIST", "needs_gpu": needs_gpu}


FAKE_CLAIMS = pd.DataFrame([
    claim_row("all", "compare_nb", "1. all"),
    claim_row("mixed", "compare_nb", "2. mixed"),
    claim_row("wrong", "compare_nb", "3. wrong"),
    claim_row("unclear", "compare_nb", "4. unclear"),
    claim_row("vc_yes", "vc_nb", "peaks above"),
    claim_row("vc_noise", "vc_nb", "noise gains"),
    claim_row("vc_pairs", "vc_nb", "pairs"),
    claim_row("gpu_pending", "flops_nb", "mixup helps", needs_gpu="true"),
    claim_row("depends", "flops_nb", "faster"),
    claim_row("gpu_only", "cifar_nb", "", needs_gpu="TRUE"),
    claim_row("not_built", "missing_nb", "anything"),
    claim_row("untested", "compare_nb", ""),
])


@pytest.fixture
def card(tables):
    return scorecard.gather(tables, profile="cpu", claims=FAKE_CLAIMS).set_index(FAKE_CLAIMS["claim_id"])


@pytest.mark.parametrize("claim_id, expected", [
    ("all", "reproduced"), ("mixed", "partly"), ("wrong", "not reproduced"), ("unclear", "not resolved"),
    ("vc_yes", "reproduced"), ("vc_noise", "not reproduced"), ("vc_pairs", "not resolved"),
    ("gpu_pending", "awaits GPU run"), ("depends", "partly"), ("gpu_only", "awaits GPU run"),
    ("not_built", "not run in this build"), ("untested", "not tested"),
])
def test_verdicts_from_fake_tables(card, claim_id, expected):
    assert card.loc[claim_id, "verdict"] == expected


def test_ours_summarises_comparisons_and_passes_text_through(card):
    assert list(card.columns) == scorecard.COLUMNS
    assert card.loc["mixed", "ours"] == ("1 of 2 comparisons supported, 0 contradicted; "
                                         "mean difference -0.4 (test_error_%)")
    assert card.loc["wrong", "ours"].startswith("0 of 2 comparisons supported, 1 contradicted")
    assert card.loc["vc_noise", "ours"] == "median gain +0.01 pp"
    assert card.loc["depends", "ours"] == "-5 to 20%"
    assert card.loc["gpu_pending", "ours"] == "" and card.loc["not_built", "ours"] == ""


def test_profile_and_data_columns(card):
    assert card.loc["all", "profile"] == "cpu"
    assert card.loc["gpu_only", "profile"] == ""  # nothing measured, no profile behind it
    assert (card["data"] == "MNIST").all()
    assert scorecard.measured_profile("cpu", needs_gpu=True) == "paper"
    assert scorecard.measured_profile("smoke", needs_gpu=True) == "smoke"


def test_compare_rows_with_two_metrics_are_summarised_per_metric(tmp_path):
    (tmp_path / "nb").mkdir()
    rows = compare_rows("c", ["supported"], "gap_pp") + compare_rows("c", ["contradicted"], "nonzero_params")
    pd.DataFrame(rows).to_csv(tmp_path / "nb" / "claims.csv", index=False)
    card = scorecard.gather(tmp_path, claims=pd.DataFrame([claim_row("x", "nb", "c")]))
    assert card["verdict"].item() == "partly"
    assert "(gap_pp)" in card["ours"].item() and "(nonzero_params)" in card["ours"].item()


@pytest.mark.parametrize("verdicts, expected", [
    (["supported"], "reproduced"), (["supported", "contradicted"], "partly"),
    (["contradicted", "contradicted"], "not reproduced"), (["not resolved"], "not resolved"),
    (["not resolved", "contradicted"], "not reproduced"), (["not yet measured"], None), ([], None),
    (["depends on the setting"], "partly"), (["Supported "], "reproduced"),
])
def test_verdict_mapping(verdicts, expected):
    assert scorecard.verdict(verdicts) == expected


def test_counts_in_fixed_order(card):
    tally = scorecard.counts(card.reset_index(drop=True))
    assert list(tally.index) == ["reproduced", "partly", "not reproduced", "not resolved", "awaits GPU run",
                                 "not tested", "not run in this build"]
    assert tally.to_dict() == {"reproduced": 2, "partly": 2, "not reproduced": 2, "not resolved": 2,
                               "awaits GPU run": 2, "not tested": 1, "not run in this build": 1}


def test_bad_input_is_named(tables):
    with pytest.raises(ConfigError, match="profile='gpu'"):
        scorecard.gather(tables, profile="gpu", claims=FAKE_CLAIMS)
    with pytest.raises(ValueError, match="missing columns \\['match'\\]"):
        scorecard.gather(tables, claims=FAKE_CLAIMS.drop(columns="match"))
    with pytest.raises(ValueError, match="needs_gpu='yes'"):
        scorecard.gather(tables, claims=FAKE_CLAIMS.assign(needs_gpu="yes"))
    with pytest.raises(ValueError, match="names no chapter"):
        scorecard.gather(tables, claims=pd.DataFrame([claim_row("x", "", "1. all")]))
    with pytest.raises(ConfigError, match="claims=list"):
        scorecard.gather(tables, claims=[])
    with pytest.raises(ValueError, match="chapter verdict 'maybe'"):
        scorecard.verdict(["maybe"])
    with pytest.raises(ValueError, match="'verdict' column"):
        scorecard.counts(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="verdict='great'"):
        scorecard.counts(pd.DataFrame({"verdict": ["great"]}))


def test_unknown_table_shape_is_named(tmp_path):
    (tmp_path / "nb").mkdir()
    odd = pd.DataFrame([{"claim": "c", "note": "?", "verdict": "supported"}])
    odd.to_csv(tmp_path / "nb" / "claims.csv", index=False)
    with pytest.raises(ValueError, match="'ours' or 'evidence'"):
        scorecard.gather(tmp_path, claims=pd.DataFrame([claim_row("x", "nb", "c")]))


# --- the transcribed claims against the notebooks --------------------------------------------


def claim_templates(notebook: str) -> list[tuple[str, str]]:
    """The claim texts a notebook's code writes (``claim=...`` keywords, ``{"claim": ...}`` dicts and
    the last string of tuples in a list named ``*claims``) as (literal head, regular expression):
    the head is the text before an f-string's first ``{...}``, which the expression matches as any text."""
    source = json.loads((paths.repo_root() / "notebooks" / f"{notebook}.ipynb").read_text())
    nodes = []
    for cell in source["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.keyword) and node.arg == "claim":
                nodes.append(node.value)
            elif isinstance(node, ast.Dict):
                nodes += [v for k, v in zip(node.keys, node.values)
                          if isinstance(k, ast.Constant) and k.value == "claim"]
            elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.List)
                  and any(isinstance(t, ast.Name) and t.id.endswith("claims") for t in node.targets)):
                nodes += [e.elts[-1] for e in node.value.elts if isinstance(e, ast.Tuple)]
    return [template for template in map(as_template, nodes) if template]


def as_template(node: ast.AST) -> tuple[str, str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        literal = [isinstance(p, ast.Constant) for p in node.values]
        n_head = literal.index(False) if False in literal else len(literal)
        head = "".join(p.value for p in node.values[:n_head])
        return head, "".join(re.escape(p.value) if isinstance(p, ast.Constant) else ".+?" for p in node.values)
    return None  # a variable: its text is one of the literals found elsewhere


def prefix_of(match: str, template: tuple[str, str]) -> bool:
    """Does ``match`` select this claim text: a prefix of its literal head, or all of it
    (any text standing for the ``{...}`` parts)?"""
    head, pattern = template
    return bool(match) and (head.startswith(match) or re.fullmatch(pattern, match, re.S) is not None)


CLAIMS = scorecard.load_claims()


def test_claims_file_is_complete_and_tidy():
    assert list(CLAIMS.columns) == scorecard.CLAIM_COLUMNS
    assert set(CLAIMS["paper"]) == {"000", "001", "002", "003", "004"}
    assert CLAIMS["claim_id"].is_unique
    assert (CLAIMS[["claim", "paper_value", "source", "scope"]] != "").all().all()
    assert CLAIMS["match"].ne("").sum() >= 20


def test_every_chapter_is_a_notebook():
    known = set(book.notebooks()) | set(drafts())
    assert set(CLAIMS["chapter"]) - {""} <= known, set(CLAIMS["chapter"]) - {""} - known


def _coded() -> set[str]:
    from regprune import claims

    return set(claims.by_id())


# a claim written as code (regprune.claims) is judged there; its match is no longer read
MATCHED = CLAIMS[(CLAIMS["match"] != "") & ~CLAIMS["claim_id"].isin(_coded())]


@pytest.mark.parametrize("chapter", sorted(set(MATCHED["chapter"])))
def test_every_match_names_exactly_one_claim_the_notebook_writes(chapter):
    templates = claim_templates(chapter)
    assert templates, f"{chapter} writes no claims table"
    for match in MATCHED.loc[MATCHED["chapter"] == chapter, "match"]:
        hits = {t for t in templates if prefix_of(match, t)}
        assert len(hits) == 1, f"{chapter}: match {match!r} selects {len(hits)} claims"


def test_the_match_check_rejects_what_no_notebook_writes():
    def templates(code: str) -> list[tuple[str, str]]:
        return [t for node in ast.walk(ast.parse(code)) if isinstance(node, ast.keyword) and node.arg == "claim"
                for t in [as_template(node.value)] if t]

    written = templates('for m in ms:\n    f(claim=f"{m}: sparser FC layers than dense")\n'
                        'f(claim="2. LLR needs fewer parameters")\nf(claim="2b. LLR networks lose less accuracy")')
    assert sum(prefix_of("SNN neuron: sparser FC layers than dense", t) for t in written) == 1
    assert not any(prefix_of("SNN conn", t) for t in written)  # the text before {...} is empty
    assert not any(prefix_of("SNN neuron: beats everything", t) for t in written)
    assert sum(prefix_of("2", t) for t in written) == 2  # "2. ..." and "2b. ...": not unique
    assert not any(prefix_of("WC bounds", t) for t in written)


def test_real_claims_before_any_build(tmp_path):
    from regprune import claims
    from regprune.claims import flops_pruning as flop_claims

    card = scorecard.gather(tmp_path / "empty", claims=None, results_dir=tmp_path / "no-results")
    coded = CLAIMS["claim_id"].isin(list(claims.by_id())).to_numpy()
    runless = CLAIMS["claim_id"].isin([c.id for c in flop_claims.CLAIMS]).to_numpy()  # counted and timed, no run
    assert (card.loc[coded & ~runless, "verdict"] == "not yet measured").all()  # judged on stored runs: none here
    assert (card.loc[runless, "verdict"] != "not yet measured").all()
    has_match = (CLAIMS["match"] != "").to_numpy() & ~coded
    assert (card.loc[has_match, "verdict"] == "not run in this build").all()
    rest = ~has_match & ~coded
    expected = CLAIMS.loc[rest, "needs_gpu"].map({True: "awaits GPU run", False: "not tested"})
    assert card.loc[rest, "verdict"].tolist() == expected.tolist()
