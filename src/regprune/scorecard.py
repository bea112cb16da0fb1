"""The reproduction scorecard: every quantitative claim of the five papers beside our verdict.

The claims and the papers' numbers are transcribed once, in ``paper_data/claims.csv``. Our side
is read from the claims tables the chapters save when they run (``<tables>/<notebook>/claims.csv``),
so the scorecard never retypes a number of ours and follows the chapters whenever they change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from . import paths
from .profiles import check_profile, measured_profile
from .registry import ConfigError
from .report import signed

CLAIMS = Path(__file__).with_name("paper_data") / "claims.csv"
CLAIM_COLUMNS = ["paper", "claim_id", "claim", "paper_value", "source", "chapter", "match", "scope", "needs_gpu"]
COLUMNS = ["paper", "claim", "paper_value", "source", "ours", "profile", "data", "verdict", "chapter"]
VERDICTS = ("reproduced", "partly", "not reproduced", "not resolved", "awaits GPU run", "not yet measured",
            "not tested", "not run in this build")
UNMEASURED = "not yet measured"  # what a chapter writes for a claim whose runs do not exist yet


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
    orphan = frame[(frame["match"] != "") & (frame["chapter"] == "")]
    if not orphan.empty:
        raise ValueError(f"claims: match={orphan['match'].iloc[0]!r} names no chapter; a match needs a chapter")
    return frame


def row_outcome(chapter_verdict: str) -> str:
    """One chapter row's verdict as *supported*, *contradicted*, *not resolved*, *mixed* or
    *unmeasured*. Chapters word their verdicts freely ("not supported: gains at the noise level",
    "mostly not resolved", "depends on the setting"); this is the one place that reads them."""
    v = str(chapter_verdict).strip().lower()
    if v == "supported":
        return "supported"
    if v == "contradicted" or v.startswith("not supported"):
        return "contradicted"
    if v.endswith("not resolved"):
        return "not resolved"
    if v.startswith("depends on"):
        return "mixed"
    if v == UNMEASURED:
        return "unmeasured"
    raise ValueError(f"chapter verdict {chapter_verdict!r} is not known; known: 'supported', 'contradicted', "
                     f"'not supported...', '...not resolved', 'depends on...', {UNMEASURED!r}")


def verdict(chapter_verdicts: Iterable[str]) -> str | None:
    """Our verdict on a paper's claim from the verdicts of the chapter rows that test it.

    All rows supported: *reproduced*; none supported (nor mixed) but some contradicted: *not
    reproduced*; some supported or mixed: *partly*; all not resolved: *not resolved*. None when
    no row holds a measurement yet.
    """
    outcomes = [o for o in map(row_outcome, chapter_verdicts) if o != "unmeasured"]
    if not outcomes:
        return None
    supported, contradicted = outcomes.count("supported"), outcomes.count("contradicted")
    if supported == len(outcomes):
        return "reproduced"
    if supported or "mixed" in outcomes:
        return "partly"
    return "not reproduced" if contradicted else "not resolved"


def summary(rows: pd.DataFrame) -> str:
    """What our measurement says, in words: comparison counts and the mean difference per metric
    (claimed method minus baseline, as the chapters' tables give it) for :func:`regprune.report.compare`
    rows, else the chapter's own text (``ours`` or ``evidence``)."""
    rows = rows[rows["verdict"].map(row_outcome) != "unmeasured"]
    if rows.empty:
        return ""
    if {"metric", "difference"} <= set(rows.columns):
        parts = []
        for metric, part in rows.groupby("metric", sort=False):
            outcomes = part["verdict"].map(row_outcome)
            parts.append(f"{int((outcomes == 'supported').sum())} of {len(part)} comparisons supported, "
                         f"{int((outcomes == 'contradicted').sum())} contradicted; mean difference "
                         f"{signed(part['difference'].mean())} ({metric})")
        return "; ".join(parts)
    text = next((c for c in ("ours", "evidence") if c in rows.columns), None)
    if text is None:
        raise ValueError(f"a claims table needs 'metric' and 'difference' columns, or 'ours' or 'evidence'; "
                         f"got {list(rows.columns)}")
    return "; ".join(rows[text].astype(str))


def _chapter_table(root: Path, chapter: str, cache: dict[str, pd.DataFrame | None]) -> pd.DataFrame | None:
    if chapter not in cache:
        path = root / chapter / "claims.csv"
        table = pd.read_csv(path) if path.is_file() else None
        if table is not None and not {"claim", "verdict"} <= set(table.columns):
            raise ValueError(f"{path}: a claims table needs 'claim' and 'verdict' columns; got {list(table.columns)}")
        cache[chapter] = table
    return cache[chapter]


def _from_code(claim, profile: str, results_dir: str | Path | None) -> tuple[str, str]:
    """(ours, verdict) of a claim written as code (:mod:`regprune.claims`), judged by the one rule
    on the stored runs of its grid."""
    from .claims import evaluate

    verdict, evidence = evaluate(claim, profile, results_dir)
    ours = "; ".join(f"{name}: {e.verdict}, {e.reason}" for name, e in evidence if e is not None)
    return ours, verdict


def gather(tables_dir: str | Path | None = None, profile: str = "cpu",
           claims: pd.DataFrame | str | Path | None = None, results_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per transcribed claim with our measurement and verdict. A claim written as code
    (:func:`regprune.claims.by_id`) is judged by the one rule on the stored runs of its grid in
    ``results_dir``; the others are read from the chapters' saved claims tables under ``tables_dir``
    (default: the build's tables). ``profile`` is the profile the chapters were built with."""
    check_profile(profile)
    if claims is None or isinstance(claims, (str, Path)):
        claims = load_claims(claims)
    elif isinstance(claims, pd.DataFrame):
        claims = check_claims(claims)
    else:
        raise ConfigError(f"claims={type(claims).__name__} is not allowed; choose one of: None, a path, a DataFrame")
    from .claims import by_id

    coded = by_id()
    root = paths.tables_root(tables_dir)
    cache: dict[str, pd.DataFrame | None] = {}
    rows = []
    for c in claims.itertuples(index=False):
        ours, outcome = "", None
        table = _chapter_table(root, c.chapter, cache) if c.match else None
        if c.claim_id in coded and profile != "paper":
            ours, outcome = _from_code(coded[c.claim_id], profile, results_dir)
            rows.append({"paper": c.paper, "claim": c.claim, "paper_value": c.paper_value, "source": c.source,
                         "ours": ours, "profile": profile if ours else "", "data": coded[c.claim_id].scope,
                         "verdict": outcome, "chapter": c.chapter})
            continue
        if c.match and table is None:
            outcome = "not run in this build"
        elif c.match:
            hits = table[table["claim"].astype(str).str.startswith(c.match)]
            ours, outcome = summary(hits), verdict(hits["verdict"])
        outcome = outcome or ("awaits GPU run" if c.needs_gpu else "not tested")
        rows.append({"paper": c.paper, "claim": c.claim, "paper_value": c.paper_value, "source": c.source,
                     "ours": ours, "profile": measured_profile(profile, c.needs_gpu) if ours else "",
                     "data": c.scope, "verdict": outcome, "chapter": c.chapter})
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
