"""The built book as a reader sees it: every page opened in headless Chromium at desktop and phone width.

``make check-site`` (``python -m regprune.site_check``) builds nothing: it reads ``_build/html``
and the executed notebooks beside it, and fails on what a reader would trip over: a table or
figure wider than the text column, a console error, a broken internal link or image, a visible
traceback or ``nan``, and the stray outputs :mod:`regprune.stray_outputs` finds. A full-page
screenshot of each page at each width goes to ``_build/screens/`` for review.

The browser is Debian's ``chromium`` (``apt-get install chromium``), driven by playwright-python;
no browser is downloaded. Requests leaving the site (CDNs) are blocked, so the check runs offline
and judges the book's own files only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import stray_outputs

WIDTHS = {"desktop": 1280, "phone": 390}
CHROMIUM = "/usr/bin/chromium"
SKIP_PAGES = ("genindex.html", "search.html")
SLACK_PX = 1  # sub-pixel rounding
# A figure shown at less than this share of its layout width has text under ~8 px (its labels are
# ~16 px at layout size): counted (``small_figures``), not failed, since a reader can zoom.
MIN_FIGURE_SCALE = 0.5
# Python's nan in prose or outputs (a "NaN" in a sentence is a word; in a table cell it is counted apart)
VISIBLE_NAN = re.compile(r"(?<![\w.])nan(?![\w(])")

# Runs in the page: measures against the article (the text column) and reads what a reader reads.
MEASURE = r"""
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const column = article.getBoundingClientRect();
  const right = column.left + article.clientWidth;
  // what a reader sees of an element: the nearest box (itself or above, inside the column) that
  // scrolls or clips sideways; a table in a scroll box that fits the column does not overflow
  const clip = (el) => {
    for (let e = el; e && e !== article; e = e.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)) return e;
    }
    return el;
  };
  const beyond = (r) => r.width > 0 && r.right > right + 1;
  // a table overflows when its own box is wider than the column (the theme's output box, which
  // holds captions and other outputs too, then scrolls sideways as a whole); a table that is its
  // own scroll box, or sits alone in one (the theme's Markdown table wrapper), only scrolls inside
  const ownBox = (el) => {
    for (let e = el; e && e !== article; e = e.parentElement) {
      if (e !== el && e.children.length > 1) return el;
      if (['auto', 'scroll'].includes(getComputedStyle(e).overflowX)) return e;
    }
    return el;
  };
  const wide = (el) => beyond(ownBox(el).getBoundingClientRect());
  const scrolls = (el) => { const box = ownBox(el); return box.scrollWidth > box.clientWidth + 1 && !beyond(box.getBoundingClientRect()); };
  const clipped = (el) => beyond(clip(el).getBoundingClientRect());
  const name = (el) => {
    const cap = el.querySelector && el.querySelector('caption');
    const head = el.querySelector && el.querySelector('th');
    return (cap ? cap.innerText : head ? 'table headed ' + head.innerText
            : (el.getAttribute('alt') || el.getAttribute('src') || el.tagName)).slice(0, 90);
  };
  const tables = [...article.querySelectorAll('table')];
  const images = [...article.querySelectorAll('img')];
  const shown = (el) => !el.closest('.cell_input, .highlight, pre, code, details:not([open])');
  const texts = [...article.querySelectorAll('.cell_output, p, li, td, th, caption, h1, h2, h3, h4')]
      .filter(el => shown(el) && (el.matches('.cell_output') || !(el.parentElement && el.parentElement.closest('.cell_output, li, td, th'))))
      .map(el => el.innerText);
  // a table cell reading nan/NaN is a missing value shown raw; in prose only Python's lowercase nan is
  const cells = [...article.querySelectorAll('td')].filter(shown).map(el => el.innerText.trim());
  const verdicts = tables.filter(t => [...t.querySelectorAll('th')].some(th => th.innerText.trim() === 'verdict'));
  const verdictHidden = verdicts.filter(t => {
    const th = [...t.querySelectorAll('th')].find(h => h.innerText.trim() === 'verdict');
    const r = th.getBoundingClientRect(), box = clip(t).getBoundingClientRect();
    return r.right > Math.min(box.right, right) + 1;
  }).map(name);
  return {
    column_px: article.clientWidth,
    page_overflow_px: Math.max(0, document.documentElement.scrollWidth - window.innerWidth),
    tables: tables.length,
    wide_tables: tables.filter(wide).map(name),
    scrolling_tables: tables.filter(scrolls).length,
    wide_figures: images.filter(clipped).map(name),
    broken_images: images.filter(i => i.complete && i.naturalWidth === 0).map(name),
    // a figure's text is drawn at about 16 px at its layout width (the width its page gives it: a
    // 2x PNG's style or attribute, else the image's natural CSS width); shrunk to fit a narrow
    // column, its text shrinks with it
    figure_scales: images.map(i => {
      const layout = (i.style.width.endsWith('px') && parseFloat(i.style.width))
                     || parseFloat(i.getAttribute('width')) || i.naturalWidth;
      const shown = i.getBoundingClientRect().width;
      return layout > 0 && shown > 0 ? [name(i), shown / layout] : null;
    }).filter(Boolean),
    verdict_tables: verdicts.length,
    verdict_hidden: verdictHidden,
    text: texts.join('\n'),
    nan_cells: cells.filter(t => /^(nan|NaN|<NA>|None)$/.test(t)).length,
    nan_cells_lower: cells.filter(t => t === 'nan').length,  // also in text: counted once
  };
}
"""


class _Links(HTMLParser):
    """The href and src of a page's links and images."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if value and (tag, key) in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")):
                self.targets.append(value)


def pages(html: Path) -> list[Path]:
    """Every page of the book (not the index redirect, search or the generated index)."""
    out = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0].startswith("_") or rel.name in SKIP_PAGES or rel == Path("index.html"):
            continue
        out.append(path)
    return out


def broken_links(page: Path, html: Path) -> list[str]:
    """Internal links and images of ``page`` whose file is not in the build."""
    parser = _Links()
    parser.feed(page.read_text(errors="replace"))
    broken = []
    for target in parser.targets:
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not parts.path:
            continue  # external, mailto:, or an anchor on this page
        resolved = (page.parent / unquote(parts.path)).resolve()
        if not resolved.exists():
            broken.append(target)
    return broken


@dataclass
class PageReport:
    page: str
    width: str
    problems: list[str] = field(default_factory=list)
    tables: int = 0
    wide_tables: int = 0
    scrolling_tables: int = 0
    nan_cells: int = 0
    figures: int = 0
    small_figures: list[str] = field(default_factory=list)  # "name (shown at 45%)"
    screenshot: str = ""


def check_page(browser, page_path: Path, html: Path, width: str, screens: Path) -> PageReport:
    rel = page_path.relative_to(html).as_posix()
    report = PageReport(rel, width)
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900}, device_scale_factor=1)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text[:160]}") if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(f"script error: {str(exc)[:160]}"))
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith("file:"):
            return r.continue_()
        blocked.append(r.request.url)
        return r.abort()

    tab.route("**/*", route)
    tab.goto(page_path.resolve().as_uri(), wait_until="load")
    tab.wait_for_timeout(300)
    seen = tab.evaluate(MEASURE)
    shot = screens / f"{rel.replace('/', '__').removesuffix('.html')}-{width}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(shot), full_page=True)
    context.close()
    report.screenshot = str(shot)
    # a blocked CDN request fails by design; a console error about it is not the book's
    errors = [e for e in errors if not (e.startswith("console") and "net::ERR_FAILED" in e and blocked)]
    report.problems += errors
    report.tables, report.wide_tables = seen["tables"], len(seen["wide_tables"])
    report.scrolling_tables = seen["scrolling_tables"]
    report.figures = len(seen["figure_scales"])
    report.small_figures = [f"{n} (shown at {scale:.0%})" for n, scale in seen["figure_scales"] if scale < MIN_FIGURE_SCALE]
    report.problems += [f"table wider than the column ({seen['column_px']} px): {t!r}" for t in seen["wide_tables"]]
    report.problems += [f"figure wider than the column: {t!r}" for t in seen["wide_figures"]]
    report.problems += [f"broken image: {t!r}" for t in seen["broken_images"]]
    report.problems += [f"verdict column off-screen: {t!r}" for t in seen["verdict_hidden"]] if width == "desktop" else []
    if seen["page_overflow_px"] > SLACK_PX:
        report.problems.append(f"page scrolls sideways by {seen['page_overflow_px']} px")
    nans = seen["nan_cells"] + len(VISIBLE_NAN.findall(seen["text"])) - seen["nan_cells_lower"]
    report.nan_cells = nans
    if nans:
        report.problems.append(f"{nans} visible 'nan'")
    if "Traceback (most recent call last)" in seen["text"]:
        report.problems.append("visible traceback")
    return report


def check(build: Path, widths=tuple(WIDTHS), screens: Path | None = None, executable: str = CHROMIUM) -> dict:
    """Check every page of ``build/html`` at each width; return the findings (``ok`` False on any problem)."""
    from playwright.sync_api import sync_playwright

    html = build / "html"
    if not (html / "index.html").exists():
        raise FileNotFoundError(f"no built book at {html}: run `make book` first")
    screens = screens or build / "screens"
    reports: list[PageReport] = []
    links = {p.relative_to(html).as_posix(): broken_links(p, html) for p in pages(html)}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        for page_path in pages(html):
            for width in widths:
                reports.append(check_page(browser, page_path, html, width, screens))
        browser.close()
    for r in reports:
        if r.width == widths[0]:
            r.problems += [f"broken internal link: {t}" for t in links[r.page]]
    notebooks = build / "book-src" / "notebooks"
    stray = stray_outputs.check(notebooks) if notebooks.is_dir() else []
    counts = {
        "pages": len(links),
        "tables": sum(r.tables for r in reports if r.width == "desktop"),
        "wide_tables": {w: sum(r.wide_tables for r in reports if r.width == w) for w in widths},
        "tables_scrolling_in_their_box": {w: sum(r.scrolling_tables for r in reports if r.width == w) for w in widths},
        "nan_cells": sum(r.nan_cells for r in reports if r.width == widths[0]),
        "figures": sum(r.figures for r in reports if r.width == widths[0]),
        f"figures_below_{MIN_FIGURE_SCALE:.0%}_of_their_size": {w: sum(len(r.small_figures) for r in reports if r.width == w)
                                                                for w in widths},
        "stray_outputs": len(stray),
        "problems": sum(len(r.problems) for r in reports) + len(stray),
    }
    return {"ok": counts["problems"] == 0, "counts": counts, "stray_outputs": stray,
            "pages": [r.__dict__ for r in reports]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m regprune.site_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="_build", help="the build folder holding html/ (default: _build)")
    parser.add_argument("--screens", default=None, help="where screenshots go (default: <build>/screens)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default: {CHROMIUM})")
    parser.add_argument("--json", default=None, help="also write the findings to this JSON file")
    args = parser.parse_args(argv)
    build = Path(args.build)
    if not Path(args.chromium).exists():
        print(f"--chromium {args.chromium!r} does not exist; install Debian's: apt-get install -y chromium",
              file=sys.stderr)
        return 2
    try:
        found = check(build, screens=Path(args.screens) if args.screens else None, executable=args.chromium)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps(found, indent=1))
    for r in found["pages"]:
        for problem in r["problems"]:
            print(f"{r['page']} [{r['width']}]: {problem}")
    for problem in found["stray_outputs"]:
        print(f"stray output: {problem}")
    print("check-site:", json.dumps(found["counts"]), "OK" if found["ok"] else "FAILED")
    return 0 if found["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
