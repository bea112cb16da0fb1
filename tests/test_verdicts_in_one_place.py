"""A verdict is written in exactly one place, claims.rule: no other module and no notebook holds a
verdict's text as a string of its own (they use the rule's names), so no cell or helper can decide
one with a rule of its own."""

from __future__ import annotations

import ast
import json

import pytest

from regprune import paths
from regprune.claims import rule

WORDS = {*rule.VERDICTS, *rule.HYPOTHESIS.values(), "supported", "contradicted", "not supported"}
SRC = paths.repo_root() / "src" / "regprune"
NOTEBOOKS = sorted((paths.repo_root() / "notebooks").glob("*.ipynb"))


def verdict_strings(code: str) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(code))
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in WORDS]


def test_the_oracle_finds_what_it_looks_for():
    assert verdict_strings('v = "supported" if d > 0 else "not resolved"') == ["supported", "not resolved"]
    assert verdict_strings('v = rule.NOT_RESOLVED  # "not resolved" in a comment is prose') == []


@pytest.mark.parametrize("module", sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")))
def test_no_module_but_the_rule_writes_a_verdict(module):
    if module == "claims/rule.py":
        return
    assert verdict_strings((SRC / module).read_text()) == []


@pytest.mark.parametrize("notebook", [p.name for p in NOTEBOOKS])
def test_no_notebook_writes_a_verdict(notebook):
    cells = json.loads((paths.repo_root() / "notebooks" / notebook).read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert verdict_strings(code) == []
