"""The published site in a real headless browser (Chromium driven by Playwright); not a test module.

:func:`check_site` serves a directory over HTTP, opens the start page and every page it links
(within the site), and reports per page: links and images that do not resolve, images without
alt text, horizontal overflow of the page at each viewport width, and the serious or critical
violations of an axe-core accessibility scan. Screenshots of every page at every width are saved.

The browser is Debian's ``chromium`` package (``/usr/bin/chromium``, installed by ``.ci/run``);
Playwright's own browser download is never used (no internet on the test machines). A missing
browser fails the test with a message saying how to install it: the check is never skipped.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Where screenshots go (a CI artefact directory; git-ignored).
ARTEFACTS = Path(os.environ.get("CTIP_TEST_ARTEFACTS", REPO_ROOT / "test-artefacts"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDTHS = (1280, 390)


def chromium_path() -> str:
    """The system Chromium; fails (never skips) with the install command when it is missing."""
    path = os.environ.get("CTIP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise AssertionError(
            "the browser test needs Chromium: install it with `apt-get install -y chromium` "
            "(.ci/run does) or point CTIP_CHROMIUM at a Chromium binary"
        )
    return path


@dataclass
class PageReport:
    """What the browser found on one page."""

    url: str
    broken_links: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    missing_alt: list[str] = field(default_factory=list)
    overflow: dict[int, int] = field(default_factory=dict)  # width -> scrollWidth
    serious: list[str] = field(default_factory=list)  # axe ids (impact serious/critical)
    outside: list[str] = field(default_factory=list)  # watched elements whose box leaves the page
    screenshots: list[Path] = field(default_factory=list)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free local port; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


_LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"""
_IMAGES_JS = """() => Array.from(document.images).map(i => ({src: i.currentSrc || i.src,
  ok: i.complete && i.naturalWidth > 0, alt: i.getAttribute('alt')}))"""
_OVERFLOW_JS = """() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"""


def _resolves(request: Any, url: str) -> bool:
    response = request.get(url, fail_on_status_code=False)
    return bool(response.ok)


_BOX_JS = """(sel) => { const el = document.querySelector(sel); if (!el) return null;
  const box = (el.closest('.ctip-table-wrap') || el).getBoundingClientRect();
  return {left: box.left, right: box.right}; }"""


def check_site(
    root: Path,
    start: str,
    *,
    shots: Path,
    widths: tuple[int, ...] = WIDTHS,
    watch: dict[str, str] | None = None,
) -> list[PageReport]:
    """Open ``start`` (relative to ``root``) and every same-site HTML page it links.

    Links to other files of the site (PDF, JSON, CSV, SVG) are requested and must answer 200;
    external links are not followed (the site has none; one would be reported as broken).
    ``watch`` maps a page's file name to a CSS selector: that element (or the scrolling box
    around it) must lie inside the page at every width, and it gets its own screenshot.
    """
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    reports: list[PageReport] = []
    axe = Axe()
    with serve(root) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": widths[0], "height": 900})
            page = context.new_page()
            queue = [urllib.parse.urljoin(base, start)]
            seen: set[str] = set()
            while queue:
                url = queue.pop(0)
                if url in seen:
                    continue
                seen.add(url)
                report = PageReport(url)
                reports.append(report)
                response = page.goto(url, wait_until="load")
                if response is None or not response.ok:
                    report.broken_links.append(url)
                    continue
                for href in page.evaluate(_LINKS_JS):
                    target = urllib.parse.urldefrag(href).url
                    if not target.startswith(base):
                        report.broken_links.append(f"{href} (outside the site)")
                    elif target.endswith(".html"):
                        if target not in seen and target not in queue:
                            queue.append(target)
                    elif not _resolves(context.request, target):
                        report.broken_links.append(href)
                for img in page.evaluate(_IMAGES_JS):
                    if not img["ok"]:
                        report.broken_images.append(str(img["src"])[:120])
                    if not (img["alt"] or "").strip():
                        report.missing_alt.append(str(img["src"])[:120])
                results = axe.run(page)
                for violation in results.response.get("violations", []):
                    if violation.get("impact") in ("serious", "critical"):
                        nodes = violation.get("nodes", [])
                        target = nodes[0].get("target") if nodes else ""
                        report.serious.append(f"{violation['id']} at {target}")
                stem = urllib.parse.urlparse(url).path.strip("/").replace("/", "__") or "index"
                for width in widths:
                    page.set_viewport_size({"width": width, "height": 900})
                    scroll = int(page.evaluate(_OVERFLOW_JS))
                    if scroll > width:
                        report.overflow[width] = scroll
                    shot = shots / f"{stem}@{width}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    report.screenshots.append(shot)
                    selector = (watch or {}).get(Path(urllib.parse.urlparse(url).path).name)
                    if selector:
                        box = page.evaluate(_BOX_JS, selector)
                        if box is None or box["left"] < 0 or box["right"] > width:
                            report.outside.append(f"{selector} at {width}px: {box}")
                        else:
                            el_shot = shots / f"{stem}@{width}-{selector.strip('#.')}.png"
                            page.locator(selector).scroll_into_view_if_needed()
                            page.screenshot(path=str(el_shot), full_page=False)
                            report.screenshots.append(el_shot)
                page.set_viewport_size({"width": widths[0], "height": 900})
        finally:
            browser.close()
    return reports


def problems(reports: list[PageReport]) -> list[str]:
    """Every finding of :func:`check_site`, one line each (empty when the site is clean)."""
    out: list[str] = []
    for r in reports:
        name = urllib.parse.urlparse(r.url).path
        out += [f"{name}: broken link {x}" for x in r.broken_links]
        out += [f"{name}: broken image {x}" for x in r.broken_images]
        out += [f"{name}: image without alt text {x}" for x in r.missing_alt]
        out += [f"{name}: {s}px wide at a {w}px viewport" for w, s in r.overflow.items()]
        out += [f"{name}: accessibility (serious/critical) {x}" for x in r.serious]
        out += [f"{name}: outside the page: {x}" for x in r.outside]
    return out
