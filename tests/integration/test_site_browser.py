"""The browser check itself: on a small hand-made site it finds every defect it looks for.

The published site is checked with the same function in ``test_publication_default.py`` (on
the whole pipeline's output); this module shows that the check can fail.
"""

from __future__ import annotations

from pathlib import Path

from site_browser import ARTEFACTS, check_site, problems

HEAD = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title>'
    "</head><body><main><h1>{t}</h1>{body}</main></body></html>"
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8"
    "ffff3f0005fe02fea7d6a4a50000000049454e44ae426082"
)


def _site(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "dot.png").write_bytes(PNG)
    (root / "data.csv").write_text("a\n1\n")
    (root / "index.html").write_text(
        HEAD.format(
            t="Index",
            body='<p><a href="good.html">good</a> <a href="bad.html">bad</a> '
            '<a href="data.csv">data</a></p>',
        )
    )
    (root / "good.html").write_text(
        HEAD.format(
            t="Good",
            body='<img src="dot.png" alt="A dot"><div tabindex="0" role="region" aria-label="t" '
            'style="overflow-x:auto"><table><tr><th>x</th></tr><tr><td style="min-width:2000px">'
            "wide, scrolls inside its box</td></tr></table></div>",
        )
    )
    (root / "bad.html").write_text(
        HEAD.format(
            t="Bad",
            body='<img src="dot.png"><img src="missing.png" alt="gone">'
            '<a href="nowhere.pdf">broken</a>'
            '<table><tr><td style="min-width:2000px">wide, overflows the page</td></tr></table>'
            '<p style="color:#eee;background:#fff">low contrast text</p>',
        )
    )
    return root


def test_browser_check_finds_broken_links_missing_alt_overflow_and_contrast(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path / "site")
    reports = check_site(site, "index.html", shots=ARTEFACTS / "browser-selftest")
    by_page = {Path(r.url).name: r for r in reports}
    assert set(by_page) == {"index.html", "good.html", "bad.html"}
    assert not problems([by_page["index.html"], by_page["good.html"]])
    bad = by_page["bad.html"]
    assert [Path(u).name for u in bad.broken_links] == ["nowhere.pdf"]
    assert [Path(u).name for u in bad.broken_images] == ["missing.png"]
    assert [Path(u).name for u in bad.missing_alt] == ["dot.png"]
    assert set(bad.overflow) == {1280, 390} and min(bad.overflow.values()) > 2000
    assert any(v.startswith("color-contrast") for v in bad.serious)
    assert all(shot.stat().st_size > 0 for r in reports for shot in r.screenshots)
