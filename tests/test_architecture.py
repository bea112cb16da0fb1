"""Imports in ``src/regprune`` run one way: no module imports, directly or through others, a
module that imports it back, counting imports inside functions too (a lazy import hides a circle
from Python, not from a reader). Imports under ``if TYPE_CHECKING:`` never run and are skipped."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "regprune"


def _modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        for child in node.orelse if isinstance(node, ast.If) and _type_checking(node) else [node]:
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            else:
                yield from _import_nodes(child)


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports (``from pkg import sub`` names ``pkg.sub``)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
            continue
        base = package[: len(package) - node.level + 1] if node.level else []
        target = ".".join(base + ([node.module] if node.module else []))
        for alias in node.names:
            full = f"{target}.{alias.name}"
            out.add(full if full in modules else target)
    return (out & set(modules)) - {name}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = _modules(root)
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports as ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def package_graph(graph: dict[str, set[str]], root: str = "regprune") -> dict[str, set[str]]:
    """The graph with each subpackage of ``root`` as one node (``regprune.claims.rule`` counts as
    ``regprune.claims``): importing any module of a package runs its ``__init__``, which imports
    the rest, so a circle between packages is a circle at import time too."""
    def node(name: str) -> str:
        return ".".join(name.split(".")[:2])

    out: dict[str, set[str]] = {}
    for name, deps in graph.items():
        if name != root:
            out.setdefault(node(name), set()).update(node(d) for d in deps if d != root and node(d) != node(name))
    return out


def test_no_import_circle_between_packages():
    cycle = find_cycle(package_graph(import_graph()))
    assert cycle is None, "import circle between packages: " + " -> ".join(cycle)


def test_graph_sees_lazy_relative_and_package_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import a\n")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    lazy = "def f():\n    import pkg\n"
    (pkg / "sub" / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import X\n" + lazy)
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg"}
    assert find_cycle(graph) == ["pkg", "pkg.a", "pkg.sub.b", "pkg"]
    (pkg / "sub" / "b.py").write_text((pkg / "sub" / "b.py").read_text().replace(lazy, ""))
    assert find_cycle(import_graph(pkg)) is None


@pytest.mark.parametrize("module", ["train", "callbacks", "counting", "layers", "parametrized", "reparam"])
def test_engine_and_generic_modules_know_no_method(module):
    """Methods plug in: the engine and what it stands on import no particular method, even indirectly."""
    methods = {"regprune.filter_pruning", "regprune.switcher", "regprune.pruning", "regprune.hooks", "regprune.quantize"}
    if module != "reparam":
        methods.add("regprune.reparam")
    graph, seen, todo = import_graph(), set(), [f"regprune.{module}"]
    while todo:
        for dep in graph[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    assert not seen & methods


def test_no_test_doubles_in_the_package():
    """``unittest.mock`` belongs to tests: production code says what it does instead of patching."""
    users = [path.name for path in _modules().values()
             if any(isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                 (getattr(node, "module", None) or alias.name).startswith("unittest") for alias in node.names)
                    for node in _import_nodes(ast.parse(path.read_text())))]
    assert not users, f"unittest imported by {users}"
