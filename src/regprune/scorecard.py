"""The reproduction scorecard: every quantitative claim of the five papers beside our verdict.

The claims and the papers' numbers are transcribed once, in ``paper_data/claims.csv``. Our side
comes from the claims written as code (:mod:`regprune.claims`), judged by the book's one rule on
the stored runs, so the scorecard never retypes a number of ours and follows the runs. A claim
that needs a GPU and is not coded *awaits GPU run*; every other claim is coded (a test says so). A
coded claim no run here can measure says why: it awaits a GPU run, or its data is unavailable.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .claims.base import UNMEASURED
from .claims.rule import AWAITS_GPU, DATA_UNAVAILABLE, OUT_OF_REACH, VERDICTS as RULE_VERDICTS
from .profiles import check_profile
from .registry import ConfigError

CLAIMS = Path(__file__).with_name("paper_data") / "claims.csv"
CLAIM_COLUMNS = ["paper", "claim_id", "claim", "paper_value", "source", "chapter", "scope", "needs_gpu"]
COLUMNS = ["paper", "claim", "paper_value", "source", "ours", "profile", "data", "verdict", "chapter"]
VERDICTS = (*RULE_VERDICTS[:4], AWAITS_GPU, UNMEASURED, DATA_UNAVAILABLE)  # the order the page counts them in


def load_claims(path: str | Path | None = None) -> pd.DataFrame:
    """The transcribed claims (``paper_data/claims.csv`` unless ``path``), every cell a string
    except ``needs_gpu`` (bool)."""
    frame = pd.read_csv(path or CLAIMS, dtype=str, keep_default_na=False)
    return check_claims(frame)


def check_claims(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``needs_gpu`` as bool, or a ValueError naming what is missing or wrong."""
    missing = [c for c in CLAIM_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"claims: missing columns {missing}; required: {CLAIM_COLUMNS}")
    frame = frame.fillna("").copy()
    flags = frame["needs_gpu"].map(lambda v: str(v).strip().lower())
    bad = sorted(set(flags) - {"true", "false"})
    if bad:
        raise ValueError(f"claims: needs_gpu={bad[0]!r} is not allowed; choose one of: 'true', 'false'")
    frame["needs_gpu"] = flags == "true"
    return frame


def _from_code(claim, profile: str, results_dir: str | Path | None) -> tuple[str, str]:
    """(ours, verdict) of a claim written as code (:mod:`regprune.claims`), judged by the one rule
    on the stored runs of its grid."""
    from .claims import evaluate

    verdict, evidence = evaluate(claim, profile, results_dir)
    ours = "; ".join(f"{name}: {e.verdict}, {e.reason}" for name, e in evidence if e is not None)
    if claim.disagrees:  # a finding about the paper, shown whether or not our runs exist yet
        finding = f"The paper disagrees with itself: {claim.disagrees}"
        ours = f"{ours}. {finding}" if ours else finding
    return ours, verdict


def gather(profile: str = "cpu", claims: pd.DataFrame | str | Path | None = None,
           results_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per transcribed claim with our measurement and verdict: a claim written as code
    (:func:`regprune.claims.by_id`) is judged by the one rule on the stored runs of its grid in
    ``results_dir`` and ``profile``; a claim that is not coded needs a GPU and awaits its run."""
    check_profile(profile)
    if claims is None or isinstance(claims, (str, Path)):
        claims = load_claims(claims)
    elif isinstance(claims, pd.DataFrame):
        claims = check_claims(claims)
    else:
        raise ConfigError(f"claims={type(claims).__name__} is not allowed; choose one of: None, a path, a DataFrame")
    from .claims import by_id

    coded = by_id()
    rows = []
    for c in claims.itertuples(index=False):
        if c.claim_id in coded:
            ours, outcome = _from_code(coded[c.claim_id], profile, results_dir)
            rows.append({"paper": c.paper, "claim": c.claim, "paper_value": c.paper_value, "source": c.source,
                         "ours": ours, "profile": profile if outcome not in (UNMEASURED, *OUT_OF_REACH) else "",
                         "data": coded[c.claim_id].scope,
                         "verdict": outcome, "chapter": c.chapter})
            continue
        if not c.needs_gpu:
            raise ValueError(f"claims: claim_id={c.claim_id!r} needs no GPU but is not written as code "
                             "(regprune.claims); code it or mark it needs_gpu")
        rows.append({"paper": c.paper, "claim": c.claim, "paper_value": c.paper_value, "source": c.source,
                     "ours": "", "profile": "", "data": c.scope, "verdict": AWAITS_GPU, "chapter": c.chapter})
    return pd.DataFrame(rows, columns=COLUMNS)


def counts(scorecard: pd.DataFrame) -> pd.Series:
    """How many claims got each verdict, in the order of :data:`VERDICTS` (verdicts with none left out)."""
    if "verdict" not in getattr(scorecard, "columns", ()):
        raise ValueError("scorecard: needs a 'verdict' column (the output of gather())")
    unknown = sorted(set(scorecard["verdict"]) - set(VERDICTS))
    if unknown:
        raise ValueError(f"scorecard: verdict={unknown[0]!r} is not allowed; choose one of: {list(VERDICTS)}")
    tally = scorecard["verdict"].value_counts()
    return tally.reindex([v for v in VERDICTS if v in tally.index]).rename("claims")
