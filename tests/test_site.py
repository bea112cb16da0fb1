"""The book as readers and Colab receive it: the repository URL as one setting, buttons hidden
while it is unset, the intro's computed fields, the install cell, and the stray-output check."""

import base64
import io
import shutil
import sys
import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from regprune import book, stray_outputs  # noqa: E402

from conftest import REPO  # noqa: E402


def _root_with_url(tmp_path, url):
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["repository"]["url"] = url
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    shutil.copy2(REPO / "_toc.yml", tmp_path / "_toc.yml")
    shutil.copytree(REPO / "book", tmp_path / "book")
    return tmp_path


def test_without_a_repository_url_the_buttons_are_left_out(tmp_path):
    config = book.site_config(_root_with_url(tmp_path, ""))
    assert "launch_buttons" not in config and "repository" not in config
    assert config["html"]["use_repository_button"] is False


def test_with_a_repository_url_the_buttons_point_at_it(tmp_path):
    config = book.site_config(_root_with_url(tmp_path, "https://example.org/r.git"))
    assert config["repository"]["url"] == "https://example.org/r.git"
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["html"]["use_repository_button"] is True


def test_staged_intro_uses_the_url_and_leaves_no_field_unfilled(tmp_path):
    root = _root_with_url(tmp_path / "repo", "https://example.org/r.git")
    dest = book.stage(tmp_path / "_build", root)
    intro = (dest / "book" / "intro.md").read_text()
    assert "git clone https://example.org/r.git regprune && cd regprune" in intro
    assert "rocket button" in intro and "computed when the book is built" in intro
    for page in (dest / "book").rglob("*.md"):
        assert "{{ " not in page.read_text(), page.name


def test_intro_without_url_points_nowhere(tmp_path):
    dest = book.stage(tmp_path / "_build", _root_with_url(tmp_path / "repo", ""))
    intro = (dest / "book" / "intro.md").read_text()
    assert "git clone" not in intro and "rocket button" not in intro


def test_scorecard_headline_counts_the_build_s_verdicts(tmp_path):
    card = pd.DataFrame({"verdict": ["reproduced", "reproduced", "not reproduced", "awaits GPU run"]})
    (tmp_path / "tables" / "comparison").mkdir(parents=True)
    card.to_csv(tmp_path / "tables" / "comparison" / "scorecard.csv", index=False)
    assert book.scorecard_headline(tmp_path) == (
        "Of the 4 claims of the five papers, **2** reproduced, **1** not reproduced, **1** awaits GPU run "
        "(the {doc}`scorecard <../notebooks/comparison>`, computed in this build).")


def test_no_page_or_readme_carries_a_placeholder_url():
    for path in [REPO / "README.md", *(REPO / "book").glob("*.md")]:
        text = path.read_text()
        assert "<this repository>" not in text and "github.com/regprune/regprune" not in text, path.name


def _run_install_cell(source, monkeypatch):
    """Execute an install cell as a Colab kernel would meet it: google.colab loaded, regprune absent."""
    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    monkeypatch.setattr("subprocess.run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr("os.chdir", lambda path: calls.append(["chdir", path]))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(source, "install-cell", "exec"), {})
    return calls


def test_install_cell_clones_the_configured_repository(tmp_path, monkeypatch):
    source = book.install_cell_source(_root_with_url(tmp_path, "https://example.org/r.git"))
    calls = _run_install_cell(source, monkeypatch)
    assert calls[0] == ["git", "clone", "--depth", "1", "https://example.org/r.git", "/content/regprune"]
    assert calls[1][-2:] == ["-e", "/content/regprune"] and calls[2] == ["chdir", "/content/regprune/notebooks"]


def test_install_cell_without_url_stops_with_what_to_do(tmp_path, monkeypatch):
    source = book.install_cell_source(_root_with_url(tmp_path, ""))
    with pytest.raises(SystemExit, match="pip install -e"):
        _run_install_cell(source, monkeypatch)


@pytest.mark.slow
def test_quickstart_runs_as_colab_receives_it(tmp_path, monkeypatch):
    """The committed notebook, unedited and without papermill's parameters, on a machine without
    data: its install cell is a no-op (regprune importable, as after the clone), the chapter
    renders from the stored runs that come with the repository."""
    import nbclient

    monkeypatch.setenv("REGPRUNE_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("REGPRUNE_BUILD", str(tmp_path / "_build"))
    monkeypatch.setenv("REGPRUNE_PROGRESS", "log")
    nb = nbformat.read(REPO / "notebooks" / "quickstart.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any({"image/png", "image/svg+xml"} & set(o.get("data", {})) for o in outputs)  # a figure
    assert (tmp_path / "_build" / "tables" / "quickstart" / "accuracy_per_seed.csv").exists()


# --- the stray-output check, on notebooks made here (the expected findings written out) ----


def _png(draw: bool) -> str:
    fig, ax = plt.subplots(figsize=(2, 2))
    if draw:
        ax.plot([0, 1], [0, 1], color="C0", lw=4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _notebook(tmp_path, cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    return path


def _code(outputs=(), tags=()):
    return nbformat.v4.new_code_cell("x", outputs=list(outputs), metadata={"tags": list(tags)})


def test_a_clean_page_has_no_stray_output(tmp_path):
    figure = nbformat.v4.new_output("display_data", data={"image/png": _png(True), "text/plain": "<Figure>"})
    path = _notebook(tmp_path, [_code(tags=["parameters", "remove-cell"]), _code(tags=["injected-parameters", "hide-input"]),
                                _code([nbformat.v4.new_output("stream", name="stdout", text="36 runs, 36 stored\n")]),
                                _code([figure])])
    assert stray_outputs.problems(path) == []


def test_stray_outputs_are_named(tmp_path):
    drawn = _png(True)
    figure = lambda png: nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})  # noqa: E731
    path = _notebook(tmp_path, [
        _code(tags=["injected-parameters"]),
        _code([nbformat.v4.new_output("stream", name="stdout", text="end to end: {'chapter': 'quickstart'}\n")]),
        _code([nbformat.v4.new_output("execute_result", data={"text/plain": "<regprune.x.Y object at 0x7f00>"})]),
        _code([figure(drawn), figure(drawn)]),
        _code([figure(_png(False))]),
    ])
    assert stray_outputs.problems(path) == [
        "page cell 0: parameters cell shown (tag it one of remove-cell, remove-input, hide-input, hide-cell)",
        "page cell 1: a printed dict: \"end to end: {'chapter': 'quickstart'}\"",
        "page cell 2: an object repr: '<regprune.x.Y object at 0x7f00>'",
        "page cell 3: the figure of cell 3 shown again",
        "page cell 4: an empty figure (no coloured mark: axes and text only)",
    ]


def test_executed_notebooks_get_their_parameter_cells_hidden(tmp_path):
    path = _notebook(tmp_path, [_code(tags=["parameters"]), _code(tags=["injected-parameters"]), _code()])
    book.hide_parameters(path)
    tags = [c.metadata.get("tags", []) for c in nbformat.read(path, as_version=4).cells]
    assert tags == [["parameters", "remove-cell"], ["injected-parameters", "hide-input"], []]


# --- the browser check, on a two-page site made here (skipped where Debian's chromium is missing) ----

PAGE = """<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width"></head><body>
<article class="bd-article" style="width: 600px">{body}</article></body></html>"""


def browser_site(tmp_path, first_page: str):
    """An empty built site under ``tmp_path`` whose index links to ``book/<first_page>``; skips the
    test where the browser check cannot run."""
    from pathlib import Path

    from regprune import site_check

    if not Path(site_check.CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    pytest.importorskip("playwright")
    html = tmp_path / "_build" / "html"
    (html / "book").mkdir(parents=True)
    (html / "index.html").write_text(PAGE.format(body=f'<a href="book/{first_page}">in</a>'))
    return html


def test_site_check_finds_what_a_reader_would_trip_over(tmp_path):
    from regprune import site_check

    html = browser_site(tmp_path, "good.html")
    (html / "book" / "fig.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1500" height="300"/>')
    (html / "book" / "good.html").write_text(PAGE.format(
        body='<p>fine</p><table class="regprune-table" style="display:block;overflow:auto;max-width:100%">'
             f'<tr><th>verdict</th>{"<th>wide column</th>" * 40}</tr></table>'
             '<img src="fig.svg" alt="a wide figure" style="max-width:100%;height:auto">'))
    (html / "book" / "bad.html").write_text(PAGE.format(
        body='<p>accuracy nan</p><a href="missing.html">gone</a><script>undefined_function()</script>'
             f'<table><tr>{"<th>wide column</th>" * 40}<th>verdict</th></tr></table>'))
    found = site_check.check(tmp_path / "_build", widths=("desktop",))
    problems = {r["page"]: r["problems"] for r in found["pages"]}
    assert problems["book/good.html"] == []
    good = next(r for r in found["pages"] if r["page"] == "book/good.html")
    assert good["small_figures"] == ["a wide figure (shown at 40%)"]  # 600 px of 1500: counted, not failed
    assert found["counts"]["figures_below_50%_of_their_size"] == {"desktop": 1}
    bad = " | ".join(problems["book/bad.html"])
    for expected in ("script error", "table wider than the column", "verdict column off-screen",
                     "1 visible 'nan'", "broken internal link: missing.html"):
        assert expected in bad
    assert not found["ok"] and (tmp_path / "_build" / "screens" / "book__bad-desktop.png").exists()


def test_scripts_added_twice_are_kept_once():
    from sphinx.builders.html._assets import _JavaScript

    from regprune import sphinx_site

    thebe = "const THEBE_JS_URL = 'x'"
    scripts = [_JavaScript(None, body=thebe), _JavaScript("a.js"), _JavaScript("", priority=800, body=thebe),
               _JavaScript("a.js", priority=900), _JavaScript("b.js", **{"async": "async"})]
    sphinx_site.dedupe_scripts(None, "page", "page.html", {"script_files": scripts}, None)
    assert [(s.filename, s.attributes) for s in scripts] == [(None, {"body": thebe}), ("a.js", {}),
                                                             ("b.js", {"async": "async"})]


def test_a_wide_figure_keeps_a_readable_size_and_scrolls_in_its_box(tmp_path):
    """regprune.js, in the browser: a 1500 px figure in a 600 px column is shown at 75% (1125 px),
    scrolling inside its output box (not a problem, not a small figure); a 700 px one, which fits at
    600 / 700 = 86%, is left to shrink; without the script the first one shows at 40%."""
    from regprune import site_check, sphinx_site

    html = browser_site(tmp_path, "figs.html")
    for width in (1500, 700):
        (html / "book" / f"fig{width}.svg").write_text(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="300"/>')
    script = (sphinx_site.STATIC / "regprune.js").read_text()
    body = "".join(f'<div class="cell_output"><img src="fig{w}.svg" alt="figure {w}" style="max-width:100%;height:auto">'
                   f'<p>caption</p></div>' for w in (1500, 700))
    (html / "book" / "figs.html").write_text(PAGE.format(body=body + f"<script>{script}</script>"))
    found = site_check.check(tmp_path / "_build", widths=("desktop",))
    page = next(r for r in found["pages"] if r["page"] == "book/figs.html")
    assert page["problems"] == [] and page["small_figures"] == []
    (html / "book" / "figs.html").write_text(PAGE.format(body=body))
    found = site_check.check(tmp_path / "_build", widths=("desktop",))
    page = next(r for r in found["pages"] if r["page"] == "book/figs.html")
    assert page["small_figures"] == ["figure 1500 (shown at 40%)"]
