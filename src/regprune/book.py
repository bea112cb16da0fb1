"""Executing the notebooks with papermill and building the Jupyter Book from them.

Notebooks are committed without outputs. ``run`` executes one into a staging copy of the
book (``<build>/book-src``); ``build`` stages the chapter pages and the configuration
beside them and calls ``jupyter-book build -W`` on it, so the site is rendered from
executed notebooks and any notebook error or Sphinx warning fails the build.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import yaml

from . import inputs, paths
from .registry import ConfigError, check_choice

STAGE = "book-src"
INSTALL_TAG = "colab-install"
# Notebooks that read the tables other notebooks save (the comparison chapter's scorecard gathers
# every chapter's claims table): executed after all the others, wherever they stand in the book.
EXECUTE_LAST = ("comparison",)


def toc_files(root: Path | None = None) -> list[str]:
    """Every file of ``_toc.yml`` in reading order (paths without suffix)."""
    root = root or paths.repo_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            files.extend(node[key] for key in ("root", "file") if key in node)
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []):
                    walk(child)

    walk(toc)
    return files


def notebooks(root: Path | None = None) -> list[str]:
    """Names of the book's notebooks (``notebooks/<name>.ipynb``) in reading order."""
    root = root or paths.repo_root()
    return [Path(f).name for f in toc_files(root) if (root / f"{f}.ipynb").is_file()]


def execution_order(names: list[str]) -> list[str]:
    """``names`` with those of :data:`EXECUTE_LAST` moved to the end, the rest in their order."""
    return sorted(names, key=lambda name: name in EXECUTE_LAST)


def notebook_path(name: str, root: Path | None = None) -> Path:
    """A book notebook, or a draft chapter's (runnable, not yet in the book)."""
    from .chapters import drafts

    root = root or paths.repo_root()
    check_choice("notebook", name, notebooks(root) + drafts())
    return root / "notebooks" / f"{name}.ipynb"


def notebook_parameters(name: str, root: Path | None = None) -> dict[str, Any]:
    """The names and defaults of a notebook's ``parameters`` cell."""
    import papermill as pm

    return pm.inspect_notebook(str(notebook_path(name, root)))


def check_parameters(name: str, params: dict[str, Any], root: Path | None = None,
                     profile: str | None = None) -> dict[str, Any]:
    """The typed, checked parameters of a notebook (with ``profile``, which ``-p profile`` must not contradict)."""
    if profile is not None:
        if params.get("profile", profile) != profile:
            raise ConfigError(f"profile is given twice: --profile {profile!r} and -p profile {params['profile']!r}; "
                              "give it once, with --profile")
        params = {**params, "profile": profile}
    return inputs.notebook(notebook_parameters(name, root), params, f"notebook {name!r}")


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set for the block (the kernel papermill starts inherits it), then as before."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(
    name: str,
    *,
    profile: str,
    params: dict[str, Any] | None = None,
    build_dir: str | Path | None = None,
    root: Path | None = None,
) -> Path:
    """Execute one notebook with papermill into the staging folder; return the output path."""
    import papermill as pm

    root = root or paths.repo_root()
    build = paths.build_root(build_dir).resolve()
    params = check_parameters(name, params or {}, root, profile=profile)
    out = build / STAGE / "notebooks" / f"{name}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    # The kernel inherits the environment: the build folder (for tables) without a local path in
    # the rendered parameters cell, and plain progress lines instead of bars.
    env = {"REGPRUNE_BUILD": str(build), "REGPRUNE_PROGRESS": os.environ.get("REGPRUNE_PROGRESS", "log")}
    with _environ(env):
        pm.execute_notebook(
            str(notebook_path(name, root)),
            str(out),
            parameters=params,
            cwd=str(root / "notebooks"),
            progress_bar=False,
            kernel_name="python3",
        )
    hide_parameters(out)
    return out


# Jupyter Book 1.x tags: the defaults cell is left out of the page, the values this build ran
# with (papermill's injected cell) are one click away, folded.
PARAMETER_CELL_TAGS = {"parameters": "remove-cell", "injected-parameters": "hide-input"}


def hide_parameters(path: Path) -> None:
    """Tag an executed notebook's parameter cells so the book does not show their code."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        for tag, hide in PARAMETER_CELL_TAGS.items():
            if tag in tags and hide not in tags:
                tags.append(hide)
    nbformat.write(nb, path)


def stage(build_dir: str | Path | None = None, root: Path | None = None, *, profile: str = "cpu",
          results_dir: str | Path | None = None, landing: bool = True) -> Path:
    """Copy the book's configuration (:func:`site_config`) and pages (not the notebooks) into the
    staging folder, the pages' ``{{ name }}`` fields filled in (:func:`page_fields`; with ``landing``,
    also the intro's paper figures and profile costs from the stored runs, :func:`landing_fields`)."""
    root = root or paths.repo_root()
    build = paths.build_root(build_dir).resolve()
    dest = build / STAGE
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "_config.yml").write_text(yaml.safe_dump(site_config(root), sort_keys=False))
    shutil.copy2(root / "_toc.yml", dest / "_toc.yml")
    shutil.copytree(root / "book", dest / "book", dirs_exist_ok=True)
    fields = page_fields(build, root)
    fields.update(landing_fields(dest / "book", profile, results_dir, root) if landing else
                  {name: "" for name in LANDING_FIELDS})
    for page in (dest / "book").rglob("*.md"):
        text = page.read_text()
        for name, value in fields.items():
            text = text.replace("{{ " + name + " }}", value)
        page.write_text(text)
    return dest


LANDING_FIELDS = ("paper_figures", "profile_costs")


def landing_fields(pages: Path, profile: str, results_dir: str | Path | None = None,
                   root: Path | None = None) -> dict[str, str]:
    """``{{ paper_figures }}`` and ``{{ profile_costs }}`` (:mod:`regprune.landing`), from the runs
    stored in ``results_dir`` (default: ``$REGPRUNE_RESULTS``, else ``<root>/results``, the store
    the notebooks read); the figures are saved beside the pages."""
    from . import landing

    root = root or paths.repo_root()
    results_dir = paths.results_root(results_dir or os.environ.get("REGPRUNE_RESULTS") or root / "results")
    return {"paper_figures": landing.paper_figures(pages, profile, results_dir),
            "profile_costs": landing.costs_table(landing.profile_costs(results_dir))}


def build(
    *,
    profile: str = "cpu",
    params: dict[str, Any] | None = None,
    build_dir: str | Path | None = None,
    root: Path | None = None,
    execute: bool = True,
) -> Path:
    """Run every notebook, then build the site with ``-W``; return the folder of index.html.

    ``execute=False`` builds from notebooks :func:`run` already executed into ``build_dir``
    (the tests execute each notebook once, in parallel, then build from them)."""
    root = root or paths.repo_root()
    build = paths.build_root(build_dir).resolve()
    names = notebooks(root)
    for name in names:  # check everything before executing anything
        check_parameters(name, params or {}, root, profile=profile)
        staged = build / STAGE / "notebooks" / f"{name}.ipynb"
        if not execute and not staged.exists():
            raise FileNotFoundError(f"execute=False, but notebook {name!r} was not executed into {staged}")
    results_dir = (params or {}).get("results_dir")
    src = stage(build, root, landing=False)
    for name in execution_order(names) if execute else []:
        print(f"executing notebooks/{name}.ipynb (profile {profile})", flush=True)
        run(name, profile=profile, params=params, build_dir=build, root=root)
    # again: the landing page's headline reads the scorecard the notebooks saved, its figures the runs they stored
    stage(build, root, profile=profile, results_dir=results_dir)
    # jupyter-book writes <path-output>/_build/html; aim it so that lands on <build>/html.
    out = build.parent if build.name == "_build" else build / ".jupyter-book"
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(src), "--path-output", str(out), "-W", "--keep-going"], check=True)
    index = build / "html"
    if out != build.parent:
        shutil.rmtree(index, ignore_errors=True)
        shutil.copytree(out / "_build" / "html", index)
    return index


# --- the repository URL, set once in _config.yml: launch buttons, pages, the Colab install cell ----


def repository_url(root: Path | None = None) -> str:
    """``repository.url`` of ``_config.yml``; "" while it is unset (the book is not published)."""
    root = root or paths.repo_root()
    config = yaml.safe_load((root / "_config.yml").read_text())
    return str((config.get("repository") or {}).get("url") or "").strip()


def site_config(root: Path | None = None) -> dict[str, Any]:
    """``_config.yml`` as the build reads it: with ``repository.url`` unset, no launch or repository
    buttons (they would point nowhere), rather than broken ones."""
    root = root or paths.repo_root()
    config = yaml.safe_load((root / "_config.yml").read_text())
    if not repository_url(root):
        config.pop("repository", None)
        config.pop("launch_buttons", None)
        html = config.setdefault("html", {})
        for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
            html[button] = False
    return config


def page_fields(build: Path, root: Path | None = None) -> dict[str, str]:
    """What the book's pages show that is computed, never typed: ``{{ clone }}`` (how to get the
    code), ``{{ colab }}`` (how to open a chapter on Colab) and ``{{ scorecard_headline }}`` (the
    scorecard's verdict counts, from the table the comparison chapter saved in this build)."""
    url = repository_url(root)
    clone = f"git clone {url} regprune && cd regprune" if url else "cd regprune  # your copy of the repository"
    colab = ("open a chapter with the rocket button at the top of its page and choose Colab. "
             if url else "upload a chapter's notebook (the launch buttons appear once the book is published with "
             "its repository's URL, `repository.url` in `_config.yml`). ")
    return {"clone": clone, "colab": colab, "scorecard_headline": scorecard_headline(build)}


def scorecard_headline(build: Path) -> str:
    """One sentence of verdict counts from ``<build>/tables/comparison/scorecard.csv``, with a link to
    the scorecard; a placeholder sentence before the comparison chapter has run."""
    import pandas as pd

    from . import scorecard

    path = build / "tables" / "comparison" / "scorecard.csv"
    if not path.is_file():
        return "The scorecard of every claim is computed when the book is built (`make book`)."
    tally = scorecard.counts(pd.read_csv(path, keep_default_na=False))
    parts = ", ".join(f"**{n}** {verdict}" for verdict, n in tally.items())
    return (f"Of the {int(tally.sum())} claims of the five papers, {parts} "
            "(the {doc}`scorecard <../notebooks/comparison>`, computed in this build).")


def install_cell_source(root: Path | None = None) -> str:
    url = repository_url(root)
    if not url:
        return (
            "# On Colab, regprune must be installed from a copy of its repository (pip install -e <copy>).\n"
            "# Generated from _config.yml by `regprune sync-notebooks`; set repository.url there.\n"
            "import importlib.util, sys\n"
            "if importlib.util.find_spec('regprune') is None and 'google.colab' in sys.modules:\n"
            "    raise SystemExit('regprune is not installed: pip install -e <a copy of its repository>')"
        )
    return (
        "# On Colab, install regprune (and fetch its stored results) when it is not importable.\n"
        "# Generated from _config.yml by `regprune sync-notebooks`; edit it there.\n"
        "import importlib.util, os, subprocess, sys\n"
        "if importlib.util.find_spec('regprune') is None and 'google.colab' in sys.modules:\n"
        f"    subprocess.run(['git', 'clone', '--depth', '1', '{url}', '/content/regprune'], check=True)\n"
        "    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '-e', '/content/regprune'], check=True)\n"
        "    sys.path.insert(0, '/content/regprune/src')\n"
        "    os.chdir('/content/regprune/notebooks')"
    )


def sync_install_cells(root: Path | None = None, check: bool = False) -> list[str]:
    """Make every notebook's first cell the install cell; return names that were (or would be) changed.
    Every notebook in ``notebooks/``: drafts (out of ``_toc.yml``) run on Colab too."""
    import nbformat

    root = root or paths.repo_root()
    source = install_cell_source(root)
    changed = []
    for name in sorted(p.stem for p in (root / "notebooks").glob("*.ipynb")):
        path = root / "notebooks" / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0] if nb.cells else None
        if first is not None and INSTALL_TAG in first.metadata.get("tags", []):
            if first.source == source:
                continue
            first.source = source
        else:
            cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INSTALL_TAG, "remove-cell"]})
            nb.cells.insert(0, cell)
        changed.append(name)
        if not check:
            nbformat.write(nb, path)
    return changed


def strip_outputs(path: Path) -> bool:
    """Remove outputs and execution counts from a notebook; True if it had any."""
    nb = json.loads(path.read_text())
    dirty = False
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            cell["outputs"], cell["execution_count"], dirty = [], None, True
    if dirty:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return dirty


def parse_value(text: str, name: str = "value") -> Any:
    """A ``-p NAME VALUE`` value, read as YAML: ``3`` -> int, ``[0, 1]`` -> list, ``null`` -> None,
    ``'"12"'`` -> the string "12" (which the notebook's schema then refuses where it wants seeds)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        problem = " ".join(str(err).split())
        raise ConfigError(f"{name}={text!r} is not allowed: not readable as YAML ({problem})") from None
