"""A small Sphinx extension for the book's pages (``sphinx.extra_extensions`` in ``_config.yml``).

It fixes what the browser check (:mod:`regprune.site_check`) found in the stock theme stack and
adds the book's CSS: scripts that sphinx-thebe and sphinx-togglebutton add twice are kept once
(the second ``const THEBE_JS_URL`` is a script error on every page), the theme gets a colour
mode (an empty one is a console error on a first visit), ``regprune.css`` keeps tables and
figures inside the text column, and ``regprune.js`` keeps a figure at a readable size on a phone
(at 75% of its drawn width at least, scrolling sideways inside its output box).
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).with_name("site_static")


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))  # None and "" alike


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of scripts that are identical but for their priority."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def default_mode(app, config) -> None:
    config.html_context = {"default_mode": "light", **(config.html_context or {})}


def add_static(app) -> None:
    app.config.html_static_path.append(str(STATIC))


def setup(app):
    app.connect("config-inited", default_mode)
    app.connect("builder-inited", add_static)
    app.add_css_file("regprune.css")
    app.add_js_file("regprune.js")
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
