"""Every notebook executes with papermill in the smoke profile, and the whole book builds with -W."""

import json

import nbformat
import pytest

from regprune import book, chapters

from conftest import REPO

NOTEBOOKS = book.notebooks(REPO) + chapters.drafts()  # drafts are out of the book, not out of the tests


def test_there_are_notebooks_and_they_are_committed_clean():
    assert "quickstart" in NOTEBOOKS
    for name in NOTEBOOKS:
        nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert not any(c.get("outputs") for c in code), f"{name} is committed with outputs"
        assert any("parameters" in c["metadata"].get("tags", []) for c in code), f"{name} has no parameters cell"
        params = book.notebook_parameters(name, REPO)
        for required in ("profile", "device", "data_root", "results_dir", "seeds", "recompute"):
            assert required in params, f"{name} lacks parameter {required}"


def test_install_cells_match_config():
    assert book.sync_install_cells(REPO, check=True) == []
    url = book.repository_url(REPO)
    for name in NOTEBOOKS:
        nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
        assert url in nb.cells[0].source and "google.colab" in nb.cells[0].source


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_in_smoke_profile(name, tmp_path):
    out = book.run(name, profile="smoke", params={"results_dir": str(tmp_path / "results")}, build_dir=tmp_path, root=REPO)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "display_data" and "image/png" in o.data for o in outputs), "no figure"
    assert list((tmp_path / "tables" / name).glob("*.csv")), "no table saved as CSV"
    assert list((tmp_path / "results").rglob("*.json")), "no run stored"


@pytest.mark.slow
def test_book_builds_with_warnings_as_errors(tmp_path):
    build = tmp_path / "_build"
    index = book.build(profile="smoke", params={"results_dir": str(tmp_path / "results")}, build_dir=build, root=REPO)
    assert "book/intro.html" in (index / "index.html").read_text()  # the root page redirects to the intro
    assert "Regularization, pruning and sparsity" in (index / "book" / "intro.html").read_text()
    page = (index / "notebooks" / "quickstart.html").read_text()
    assert "LeNet-300-100" in page and "<img" in page
    assert "colab.research.google.com" in page  # the launch button
    assert (build / "tables" / "quickstart" / "accuracy_per_seed.csv").exists()
