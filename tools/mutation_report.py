"""`make mutate`'s report: the mutation score of each module and every mutant that lived, by file:line.

Reads what mutmut 3 left under ``mutants/`` (run from the repository root, after ``mutmut run``)
and writes ``_build/mutation/report.md`` (scores, then each survivor's file:line and its one-line
change) and ``_build/mutation/survivors.txt`` (one ``file:line mutant-name`` a line). The summary
kept in git, with the reason each remaining survivor is kept, is ``tests/MUTATION.md``.

Score = killed / (killed + survived + no tests + suspicious); timeouts count as killed (the
mutant made the tests hang, which they noticed); mutants not yet checked are left out and counted.
"""

from __future__ import annotations

import ast
import datetime
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.configuration import config
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

OUT = Path("_build/mutation")
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
LIVED = {"survived", "no tests", "suspicious"}


def function_starts(path: Path) -> dict[tuple[str | None, str], int]:
    """(class or None, function) -> first line (decorators included) in the original source."""
    starts = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    starts[(node.name, item.name)] = min([item.lineno, *(d.lineno for d in item.decorator_list)])
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            starts[(None, node.name)] = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return starts


def where(name: str, path: Path, lines: list[str], starts: dict) -> tuple[int, str, str]:
    """(line in the original file, the original line, the mutated line) of one mutant."""
    diff = get_diff_for_mutant(name, path=path).splitlines()
    removed = next((d[1:] for d in diff if d.startswith("-") and not d.startswith("---")), "")
    added = next((d[1:] for d in diff if d.startswith("+") and not d.startswith("+++")), "")
    function, cls = orig_function_and_class_names_from_key(name)
    start = starts.get((cls, function.rpartition(".")[-1]), 1)
    for i in range(start - 1, len(lines)):
        if removed and lines[i].strip() == removed.strip():
            return i + 1, removed.strip(), added.strip()
    return start, removed.strip(), added.strip()


def main() -> int:
    if not Path("mutants").is_dir():
        print("no mutants/ here: run `make mutate` (or `mutmut run`) first", file=sys.stderr)
        return 2
    config()
    counts: dict[str, Counter] = {}
    survivors: dict[str, list[tuple[int, str, str, str, str]]] = defaultdict(list)
    for path in sorted(walk_mutatable_files()):
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key:
            continue
        module = str(path)
        counts[module] = Counter(status_by_exit_code[c] for c in data.exit_code_by_key.values())
        lines, starts = path.read_text().splitlines(), function_starts(path)
        for name, code in sorted(data.exit_code_by_key.items()):
            status = status_by_exit_code[code]
            if status in LIVED:
                line, old, new = where(name, path, lines, starts)
                survivors[module].append((line, name, status, old, new))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    head = [f"# Mutation testing: {datetime.date.today().isoformat()}, commit {commit}", "",
            "| module | mutants | checked | killed | survived | no tests | not checked | score |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    body = []
    for module, c in counts.items():
        killed = sum(c[s] for s in KILLED)
        lived = sum(c[s] for s in LIVED)
        checked = killed + lived
        score = f"{100 * killed / checked:.1f}%" if checked else "-"
        head.append(f"| `{module}` | {sum(c.values())} | {checked} | {killed} | {c['survived'] + c['suspicious']} | "
                    f"{c['no tests']} | {c['not checked']} | {score} |")
        if survivors[module]:
            body += ["", f"## {module}", ""]
            body += [f"- `{module}:{line}` {status} `{name.rpartition('.')[-1]}`: `{old}` -> `{new}`"
                     for line, name, status, old, new in sorted(survivors[module])]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.md").write_text("\n".join(head + body) + "\n")
    (OUT / "survivors.txt").write_text("".join(f"{m}:{line} {name} {status}\n" for m, rows in survivors.items()
                                               for line, name, status, _, _ in sorted(rows)))
    print("\n".join(head))
    print(f"\nsurvivors by file:line in {OUT / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
