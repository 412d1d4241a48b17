"""The index page (``reports/index.html``): every report, figure and the brief, with the stage,
parameters hash and data hashes behind each exhibit.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_index"]

_CSS = """
body{font-family:"DejaVu Sans",Verdana,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;
color:#111;line-height:1.45} h1{color:#004488} h2{color:#004488;margin-top:2rem}
.wrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.85rem} th,td{border-bottom:1px solid #ddd;
padding:.35rem .5rem;text-align:left;vertical-align:top} th{background:#eef3f8}
code{font-size:.8rem;overflow-wrap:anywhere} img.thumb{width:220px;max-width:100%;border:1px solid #ccc}
.note{background:#fff4d6;border-left:4px solid #DDAA33;padding:.5rem .8rem}
ol.start li{margin:.4rem 0} .figs{display:flex;flex-wrap:wrap;gap:1rem}
.figs figure{flex:1 1 18rem;margin:0;border:1px solid #ddd;padding:.5rem}
.figs figcaption{font-size:.8rem} details>summary{cursor:pointer;color:#225577}
"""


def _hashes(inputs: Mapping[str, str]) -> str:
    return "<br>".join(
        f"<code>{html.escape(path)}</code> <code>{sha[:12]}</code>" for path, sha in inputs.items()
    )


def _data_paragraph(identity: Mapping[str, Any]) -> str:
    e = html.escape
    waves = ", ".join(
        f"wave {w['wave']} ({', '.join(str(y) for y in w.get('interview_years', [])) or 'year n/a'}"
        f"; {int(w.get('households', 0)):,} households)"
        for w in identity.get("waves", [])
    )
    provinces = ", ".join(str(p.get("name")) for p in identity.get("provinces", []))
    sources = "".join(
        f"<li><code>{e(str(s.get('source')))}</code> (wave {e(str(s.get('wave')))}): "
        f"{e(str(s.get('description') or ''))}</li>"
        for s in identity.get("sources", [])
    )
    return (
        f"<h2>Data</h2><p><strong>{e(str(identity.get('survey')))}</strong>"
        + (f"; {e(waves)}" if waves else "")
        + (f"; provinces: {e(provinces)}" if provinces else "")
        + f".</p><ul>{sources}</ul>"
    )


def _reach_section(reach: Mapping[str, Any]) -> list[str]:
    e = html.escape
    name = e(reach["figure"])
    return [
        "<h2>Programme reach</h2><table><tr><th>figure</th><th>caption</th><th>files</th>"
        "<th>stage</th><th>data (sha256)</th></tr>",
        f'<tr><td><img class="thumb" src="../reach/{name}.png" alt="{e(reach["alt_text"])}">'
        f"<br>{e(reach['title'])}</td><td>{e(reach['caption'])}</td>"
        '<td>table: <a href="../reach/reach.csv">CSV</a> · <a href="../reach/reach.md">Markdown</a>'
        ' · <a href="../reach/reach.docx">Word</a> · '
        '<a href="../reach/reach.disclosure.json">disclosure record</a><br>figure: '
        f'<a href="../reach/{name}.png">PNG</a> · <a href="../reach/{name}.svg">SVG</a> · '
        f'<a href="../reach/{name}.data.csv">data</a> · '
        f'<a href="../reach/{name}.disclosure.json">disclosure record</a></td>'
        f"<td><code>ctip reach</code></td><td>{_hashes(reach['inputs'])}</td></tr></table>",
    ]


def render_index(
    *,
    reports: Sequence[Mapping[str, Any]],
    figures: Sequence[Mapping[str, Any]],
    brief: Mapping[str, Any] | None,
    provenance: Mapping[str, Any],
    title: str = "ctip_research: reports, figures and policy brief",
    notice: str | None = None,
    identity: Mapping[str, Any] | None = None,
    reach: Mapping[str, Any] | None = None,
) -> str:
    """The index page as HTML (links are relative to ``reports/``).

    Parameters
    ----------
    reports
        One entry per rendered notebook: ``name``, ``title``, ``href``, ``params_hash``,
        ``inputs`` (path -> sha256), ``n_tables``, ``n_suppressed``.
    figures
        The figures stage's manifest entries.
    brief
        ``pdf``, ``html`` (hrefs), ``pages``, ``params_hash``, ``inputs``, ``translations``
        (``lang``, ``name`` in that language, ``pdf``, ``html``); or None.
    provenance
        The run's provenance (see :mod:`ctip_research.reporting.provenance`).
    notice
        A notice shown above everything (the demonstration notice on the synthetic survey).
    identity
        The data identity (:mod:`ctip_research.identity`): the survey, its waves, provinces and
        sources are named at the top.
    reach
        The programme-reach exhibit (``title``, ``caption``, ``alt_text``, ``figure``,
        ``inputs``: path -> sha256), or None.

    Examples
    --------
    >>> page = render_index(reports=[], figures=[], brief=None, provenance={
    ...     "package_version": "0.1.0", "code_sha256": "c" * 64, "params_hash": "p",
    ...     "run_date": "2026-01-01T00:00:00Z"})
    >>> "<h1>" in page
    True
    """
    out = _page_head(title, notice)
    out.append(_start_section(reports, brief))
    if identity is not None:
        out.append(_data_paragraph(identity))
    out += _figures_section(figures)
    out += _provenance_section(provenance)
    if brief is not None:
        out.append(_brief_table(brief))
    if reach is not None:
        out += _reach_section(reach)
    out += _reports_table(reports)
    out += _figures_table(figures)
    out.append("</table></div></details></main></body></html>")
    return "\n".join(out) + "\n"


def _page_head(title: str, notice: str | None) -> list[str]:
    """The document head, the title and the notice."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{e(title)}</h1>",
    ]
    if notice:
        out.append(f'<p class="note">{e(notice)}</p>')
    return out


def _start_section(reports: Sequence[Mapping[str, Any]], brief: Mapping[str, Any] | None) -> str:
    """'Start here': the brief (and its translations), then the reports in order."""
    e = html.escape
    start = []
    if brief is not None:
        start.append(
            f"<li><strong>The policy brief</strong> ({int(brief['pages'])} pages): the findings "
            f'and recommendations in plain words. <a href="{e(brief["pdf"])}">PDF</a> · '
            f'<a href="{e(brief["html"])}">HTML</a>'
            + "".join(
                f' · <span lang="{e(str(t["lang"]))}">{e(str(t["name"]))}</span>: '
                f'<a href="{e(str(t["pdf"]))}">PDF</a> · <a href="{e(str(t["html"]))}">HTML</a>'
                for t in brief.get("translations", [])
            )
            + "</li>"
        )
    for r in reports:
        start.append(
            f'<li><a href="{e(r["href"])}"><strong>{e(r["title"])}</strong></a>'
            + (f": {e(str(r['description']))}" if r.get("description") else "")
            + "</li>"
        )
    return (
        "<h2>Start here</h2><p>Read the policy brief first; the reports, in this order, show "
        "the tables and figures behind it (code is folded under each exhibit, one click "
        "away). Every exhibit passed the disclosure control.</p>"
        f'<ol class="start">{"".join(start)}</ol>'
    )


def _figures_section(figures: Sequence[Mapping[str, Any]]) -> list[str]:
    """The figure thumbnails with their captions and file links."""
    e = html.escape
    out = ['<h2>Figures</h2><div class="figs">']
    for f in figures:
        name = e(f["name"])
        out.append(
            f'<figure><img class="thumb" src="../figures/{name}.png" alt="{e(f["alt_text"])}">'
            f"<figcaption><strong>{e(f['title'])}</strong>. {e(f['caption'])}<br>"
            f'<a href="../figures/{name}.png">PNG</a> · <a href="../figures/{name}.svg">SVG</a>'
            f' · <a href="../figures/{name}.data.csv">data</a> · '
            f'<a href="../figures/{name}.disclosure.json">disclosure record</a>'
            "</figcaption></figure>"
        )
    out.append("</div>")
    return out


def _provenance_section(provenance: Mapping[str, Any]) -> list[str]:
    """The run's provenance line and the opening of the per-exhibit details."""
    e = html.escape
    return [
        "<h2>Provenance</h2>",
        f"<p>Package <code>ctip_research {e(str(provenance['package_version']))}</code>, code "
        f"<code>{e(str(provenance['code_sha256'])[:12])}</code>, parameters hash "
        f"<code>{e(str(provenance['params_hash']))}</code>, run date "
        f"{e(str(provenance['run_date']))}.</p>",
        "<details><summary>Stage, parameters hash and data hashes behind every exhibit, with "
        "its disclosure record</summary>",
    ]


def _brief_table(brief: Mapping[str, Any]) -> str:
    """The brief's stage, parameters hash and data hashes."""
    e = html.escape
    return (
        '<div class="wrap"><table><tr><th>brief</th><th>stage</th><th>params hash</th>'
        "<th>data (sha256)</th></tr>"
        f'<tr><td><a href="{e(brief["pdf"])}">PDF</a> · '
        f'<a href="{e(brief["disclosure"])}">disclosure record</a></td>'
        f"<td><code>ctip brief</code></td><td><code>{e(str(brief['params_hash']))}</code></td>"
        f"<td>{_hashes(brief['inputs'])}</td></tr></table></div>"
    )


def _reports_table(reports: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each report's tables, stage, parameters hash and data hashes."""
    e = html.escape
    out = [
        '<div class="wrap"><table><tr><th>report</th><th>tables (suppressed cells)</th>'
        "<th>stage</th><th>params hash</th><th>data (sha256)</th></tr>"
    ]
    for r in reports:
        out.append(
            f'<tr><td><a href="{e(r["href"])}">{e(r["title"])}</a> · '
            f'<a href="{e(r["disclosure"])}">disclosure record</a></td>'
            f"<td>{int(r['n_tables'])} ({int(r['n_suppressed'])})</td>"
            f"<td><code>ctip report</code></td><td><code>{e(str(r['params_hash']))}</code></td>"
            f"<td>{_hashes(r['inputs'])}</td></tr>"
        )
    out.append("</table></div>")
    return out


def _figures_table(figures: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each figure's stage, parameters hash and data hashes (the table closed by the caller)."""
    e = html.escape
    out = [
        '<div class="wrap"><table><tr><th>figure</th><th>stage</th><th>params hash</th>'
        "<th>data (sha256)</th></tr>"
    ]
    for f in figures:
        out.append(
            f"<tr><td>{e(f['title'])}</td><td><code>ctip {e(f.get('stage', 'figures'))}</code></td>"
            f"<td><code>{e(str(f['params_hash']))}</code></td><td>{_hashes(f['inputs'])}</td></tr>"
        )
    return out
