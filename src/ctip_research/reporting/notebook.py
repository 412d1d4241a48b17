"""Report notebooks: display helpers behind the gate, execution and rendering.

Inside a report notebook every table goes through :func:`show_table`, which asks the disclosure
authority (:func:`ctip_research.disclosure.disclose`) *before* displaying the table and attaches
the check record to the output (output metadata ``ctip_disclosure``). A failing check
raises in the cell, so the notebook (and the ``report`` stage) fails. After execution,
:func:`collect_disclosure` reads every output of the executed notebook: an HTML table without a
check record (a frame displayed around the gate) or an error output fails the stage too.

:func:`execute_notebook` runs a notebook with papermill (parameters injected, a fixed
``SOURCE_DATE_EPOCH`` in the kernel's environment) and :func:`render_html` converts it with
nbconvert for reviewers (code folded under "Show code", a table of contents, tables that scroll
inside their box, each table's check record folded under a one-line summary), volatile metadata
removed so that the same inputs give the same HTML.
"""

from __future__ import annotations

import base64
import copy
import html as _html
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ctip_research.disclosure import (
    Aggregates,
    Artefact,
    Cells,
    DisclosurePolicy,
    Regressions,
    disclose,
)
from ctip_research.errors import DisclosureError, RenderError

__all__ = [
    "METADATA_KEY",
    "DisclosureRecord",
    "disclosure_summary",
    "label_table",
    "show_figure",
    "show_image",
    "collect_disclosure",
    "execute_notebook",
    "format_cells",
    "render_html",
    "show_markdown",
    "show_regression_table",
    "show_table",
    "table_of_contents",
]

#: Output-metadata key holding the disclosure check record of a displayed table.
METADATA_KEY = "ctip_disclosure"
#: How a displayed table is checked.
TableKind = Literal["cells", "regressions", "aggregates"]
_TABLE = re.compile(r"<table\b", re.IGNORECASE)


#: Columns whose values are variable names (shown as their labels).
_NAME_COLUMNS = ("indicator", "term", "outcome", "exposure", "variable")


class DisclosureRecord(dict[str, Any]):
    """A check record returned by the display helpers: a plain dict that shows nothing when it
    is the last value of a cell (the table's output already carries the collapsed record).
    """

    def _ipython_display_(self) -> None:
        return None


def disclosure_summary(record: Mapping[str, Any]) -> str:
    """One collapsed HTML block: "Passed disclosure control (rules ...)" and the record inside.

    Examples
    --------
    >>> rec = {"passed": True, "checks": [{"check": "min_cell", "passed": True}],
    ...        "policy": {"thresholds": {"min_cell_count": 10}}, "n_suppressed": 2}
    >>> "Passed disclosure control" in disclosure_summary(rec)
    True
    """
    checks = [str(c.get("check")) for c in record.get("checks", [])]
    thresholds = record.get("policy", {}).get("thresholds", {})
    minimum = thresholds.get("min_cell_count")
    status = "Passed" if record.get("passed") else "FAILED"
    parts = [f"rules: {', '.join(checks)}"] if checks else []
    if minimum is not None:
        parts.append(f"minimum {minimum} households per cell")
    n_sup = int(record.get("n_suppressed", 0) or 0)
    if n_sup:
        parts.append(f"{n_sup} suppressed")
    body = json.dumps(record, indent=1, sort_keys=True, default=str)
    return (
        '<details class="ctip-disclosure"><summary>'
        f"{status} disclosure control ({_html.escape('; '.join(parts))})</summary>"
        f"<pre>{_html.escape(body)}</pre></details>"
    )


def label_table(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """``table`` with declared column names and variable-name values replaced by their labels.

    Returns the relabelled table and ``label -> variable name`` of every replacement (for the
    hover titles and the note under the table).

    Examples
    --------
    >>> t, names = label_table(pd.DataFrame({"indicator": ["has_mfi_loan"], "estimate": [0.3]}))
    >>> t["indicator"].tolist(), names["Has an outstanding MFI loan"]
    (['Has an outstanding MFI loan'], 'has_mfi_loan')
    """
    from ctip_research.labels import label_map

    names: dict[str, str] = {}
    out = table.copy()
    for col in _NAME_COLUMNS:
        if col in out.columns and not pd.api.types.is_numeric_dtype(out[col]):
            values = [str(v) for v in out[col].dropna().unique()]
            mapping = label_map(values)
            if mapping:
                out[col] = out[col].map(lambda v, m=mapping: m.get(str(v), v) if pd.notna(v) else v)
                names.update({lab: var for var, lab in mapping.items()})
    columns = label_map([str(c) for c in out.columns if c not in _NAME_COLUMNS])
    names.update({lab: var for var, lab in columns.items()})
    return out.rename(columns=columns), names


#: great-tables' own scrolling box (focusable so a keyboard can scroll it, once the page wraps
#: it in :func:`_scroll_box`, its own overflow is dropped).
_GT_BOX = re.compile(r'<div( id="[^"]*" style="[^"]*?)overflow-x:auto;overflow-y:auto;')


def _scroll_box(html: str, label: str) -> str:
    """A table in a box that scrolls sideways inside the page (focusable, labelled region)."""
    return (
        f'<div class="ctip-table-wrap" tabindex="0" role="region" '
        f'aria-label="{_html.escape(label, quote=True)}">{html}</div>'
    )


def _with_names(html: str, names: Mapping[str, str]) -> str:
    """Hover titles on relabelled headers and a note naming the variables."""
    for label, var in names.items():
        html = html.replace(
            f"<th>{_html.escape(label)}</th>",
            f'<th title="{_html.escape(var)}">{_html.escape(label)}</th>',
        )
    if names:
        note = "; ".join(
            f"{_html.escape(lab)} = <code>{_html.escape(var)}</code>"
            for lab, var in sorted(names.items(), key=lambda kv: kv[1])
        )
        html += f'<p class="ctip-note">Variables: {note}.</p>'
    return html


def show_image(path: Path | str, *, alt: str, caption: str = "", width: int = 640) -> None:
    """Display a PNG as a figure with its alt text (and caption), embedded in the page."""
    from IPython.display import HTML, display

    if not alt.strip():
        raise ValueError(f"{Path(path).name}: a figure needs an alt text")
    png = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    cap = f"<figcaption><em>{_html.escape(caption)}</em></figcaption>" if caption else ""
    display(
        HTML(
            f'<figure class="ctip-figure"><img src="data:image/png;base64,{png}" '
            f'alt="{_html.escape(alt, quote=True)}" style="max-width:100%;width:{width}px">'
            f"{cap}</figure>"
        )
    )


def show_figure(figures_dir: Path | str, name: str, *, width: int = 640) -> None:
    """Display a published figure with its alt text and caption (``<name>.png``,
    ``<name>.alt.txt``, ``<name>.caption.md`` written by the figures stage).
    """
    folder = Path(figures_dir)
    show_image(
        folder / f"{name}.png",
        alt=(folder / f"{name}.alt.txt").read_text(encoding="utf-8").strip(),
        caption=(folder / f"{name}.caption.md").read_text(encoding="utf-8").strip(),
        width=width,
    )


def format_cells(table: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """A gated cell table for display: suppressed values read 'suppressed', flagged get '†'.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [0.25, float("nan")], "status": ["flagged", "suppressed"]})
    >>> format_cells(t)["estimate"].tolist()
    ['0.25 †', 'suppressed']

    Counts (``kind == "count"`` in every row) read as whole numbers with thousands separators.
    """
    out = table.copy()
    status = out["status"].astype(str) if "status" in out.columns else None
    for col in out.columns:
        if col in ("status", "suppression_reason", "is_flagged", "kind"):
            continue
        is_count = (
            col == "estimate"
            and "kind" in out.columns
            and bool((out["kind"].astype(str) == "count").all())
        )
        if (str(col).startswith("n_") or is_count) and pd.api.types.is_numeric_dtype(out[col]):
            vals = out[col].map(lambda v: "" if pd.isna(v) else f"{round(v):,}")
        elif pd.api.types.is_float_dtype(out[col]):
            vals = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
        else:
            continue
        if status is not None:
            vals = vals.where(status != "suppressed", "suppressed")
            if col == "estimate":
                vals = vals.where(status != "flagged", vals + " †")
        out[col] = vals
    if "suppression_reason" in out.columns:
        out["suppression_reason"] = out["suppression_reason"].astype("string").fillna("")
    return out


def show_table(
    table: pd.DataFrame,
    *,
    name: str,
    artefact_type: TableKind | None = None,
    policy: DisclosurePolicy | None = None,
    dims: Sequence[str] = (),
    total_label: str = "Total",
    caption: str | None = None,
    rename: Mapping[str, str] | None = None,
    hide: Sequence[str] = ("kind", "is_flagged"),
    digits: int = 3,
    upstream: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Check ``table`` with the disclosure authority, then display it with its check record.

    A gated cell table (with ``status`` and ``n_denominator``) is checked as ``cells``, anything
    else as ``aggregates`` (rows with unweighted counts, or rows gated upstream when ``upstream``
    records are given), unless ``artefact_type`` says otherwise. ``rename`` and ``hide`` change
    only what is displayed, after the check. Raises :class:`~ctip_research.errors.
    DisclosureError` (so the cell fails) when a check fails; nothing is displayed then. Returns
    the record.
    """
    from IPython.display import HTML, display

    kind: TableKind = artefact_type or (
        "cells" if {"status", "n_denominator"} <= set(table.columns) else "aggregates"
    )
    art: Artefact
    if kind == "cells":
        # shown as it is: a table that was not gated is checked as all-published (it fails
        # rather than being suppressed behind the reader's back)
        checked = table if "status" in table.columns else table.assign(status="published")
        art = Cells(checked, name, dims=dims, total_label=total_label)
    elif kind == "regressions":
        art = Regressions(table, name, upstream=upstream)
    else:
        art = Aggregates(table, name, upstream=upstream)
    record = disclose(art, policy).record
    if "status" in table.columns:
        labels = list(dims) or [
            c
            for c in table.columns
            if c not in ("status", "suppression_reason", "kind")
            and not pd.api.types.is_numeric_dtype(table[c])
            and not pd.api.types.is_bool_dtype(table[c])
        ]
        sup = table[table["status"].astype(str) == "suppressed"]
        record["suppressed"] = [
            {"cell": {c: str(r[c]) for c in labels}, "reason": str(r.get("suppression_reason"))}
            for r in sup.to_dict("records")
        ]
    shown = format_cells(table, digits=digits) if "status" in table.columns else table
    shown = shown.drop(columns=[c for c in hide if c in shown.columns]).rename(
        columns=dict(rename or {})
    )
    shown, names = label_table(shown)
    html = shown.to_html(
        index=False,
        na_rep="",
        float_format=lambda v: f"{v:.{digits}g}",
        border=0,
        classes="ctip-table",
    )
    html = _scroll_box(_with_names(html, names), caption or name)
    if caption:
        html = f"<p class='ctip-caption'><em>{caption}</em></p>" + html
    display(HTML(html + disclosure_summary(record)), metadata={METADATA_KEY: record})
    return DisclosureRecord(record)


def show_regression_table(
    table_html: str,
    estimates: pd.DataFrame,
    *,
    name: str,
    policy: DisclosurePolicy | None = None,
    upstream: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Display a regression table (HTML from the fit stage) after checking its estimates.

    ``estimates`` are the ``estimates.csv`` rows of the models in the table; the residual-df,
    cluster and record-level checks run on them (and ``upstream``, the fit stage's record, must
    have passed) before anything is displayed.
    """
    from IPython.display import HTML, display

    record = disclose(Regressions(estimates, name, upstream=upstream), policy).record
    display(
        HTML(_scroll_box(_GT_BOX.sub(r"<div\1", table_html), name) + disclosure_summary(record)),
        metadata={METADATA_KEY: record},
    )
    return DisclosureRecord(record)


def show_markdown(text: str) -> None:
    """Display Markdown (narrative generated from numbers; no table)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def collect_disclosure(nb: Any, *, name: str) -> list[dict[str, Any]]:
    """The check records of an executed notebook; fail on ungated tables and errors.

    Raises
    ------
    DisclosureError
        An output shows an HTML table without a check record, or a record did not pass.
    RenderError
        A cell raised an error.
    """
    records: list[dict[str, Any]] = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise RenderError(
                    f"notebook {name!r}, cell {i + 1}: {out.get('ename')}: {out.get('evalue')}"
                )
            data = out.get("data", {})
            record = out.get("metadata", {}).get(METADATA_KEY)
            html = str(data.get("text/html", ""))
            if _TABLE.search(html) and record is None:
                raise DisclosureError(
                    f"notebook {name!r}, cell {i + 1}: a table is displayed without passing the "
                    "disclosure gate (use ctip_research.reporting.notebook.show_table)"
                )
            if record is not None:
                if not record.get("passed"):
                    raise DisclosureError(f"notebook {name!r}, cell {i + 1}: a check failed")
                records.append(record)
    return records


def execute_notebook(
    path: Path,
    *,
    parameters: Mapping[str, Any],
    kernel_name: str,
    timeout_s: int,
    source_date_epoch: int,
    cwd: Path,
) -> Any:
    """Execute ``path`` with papermill; return the executed notebook (nbformat node).

    A cell error becomes a :class:`~ctip_research.errors.RenderError` naming the notebook.
    """
    import nbformat
    import papermill as pm

    env_before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(source_date_epoch)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / path.name
            try:
                pm.execute_notebook(
                    str(path),
                    str(out),
                    parameters=dict(parameters),
                    kernel_name=kernel_name,
                    execution_timeout=timeout_s,
                    cwd=str(cwd),
                    progress_bar=False,
                    log_output=False,
                    report_mode=False,
                )
            except pm.PapermillExecutionError as exc:
                raise RenderError(
                    f"notebook {path.name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}"
                ) from None
            return nbformat.read(str(out), as_version=4)
    finally:
        if env_before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = env_before


def _strip_volatile(nb: Any) -> Any:
    nb = copy.deepcopy(nb)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i + 1}"  # papermill gives the injected cell a random id
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.get("cell_type") == "code":
            cell["execution_count"] = None
            for out in cell.get("outputs", []):
                if "execution_count" in out:
                    out["execution_count"] = None
    return nb


#: Layout of the report pages: the brief's typography, tables that wrap or scroll inside their
#: box, the folded code and disclosure records.
REPORT_CSS = """
body{font-family:"DejaVu Sans",Verdana,sans-serif;color:#111;line-height:1.5}
main,.jp-Notebook{max-width:64rem;margin:0 auto;padding:1rem;box-sizing:border-box}
h1,h2,h3{color:#004488} .jp-Notebook h1{font-size:1.8rem}
.ctip-table-wrap,.jp-OutputArea-output{max-width:100%;overflow-x:auto}
.jp-RenderedHTMLCommon table,.ctip-table-wrap table{max-width:none;font-size:.8rem}
.jp-RenderedHTMLCommon td,.jp-RenderedHTMLCommon th{white-space:normal}
.ctip-table-wrap .gt_stub{min-width:11rem}
.jp-RenderedHTMLCommon pre,pre{white-space:pre-wrap;word-break:break-word;max-width:100%}
img{max-width:100%;height:auto}
details.ctip-code>summary,details.ctip-disclosure>summary{cursor:pointer;color:#225577;
font-size:.85rem}
details.ctip-disclosure{margin:.3rem 0 1rem}
details.ctip-disclosure>summary{color:#1b5e20}
.ctip-note{font-size:.8rem;color:#333}
nav.ctip-toc{background:#eef3f8;padding:.5rem 1rem;margin:1rem 0}
nav.ctip-toc h2{font-size:1rem;margin:.2rem 0}
"""
_HEADING = re.compile(
    r'<h([23]) id="([^"]+)"[^>]*>(.*?)(?:<a class="anchor-link"[^>]*>.*?</a>)?</h\1>', re.S
)
_TAGS = re.compile(r"<[^>]+>")


def table_of_contents(body: str) -> str:
    """A ``<nav>`` listing the level-2 and level-3 headings of a rendered page (linked)."""
    items = []
    for level, anchor, text in _HEADING.findall(body):
        label = _TAGS.sub("", text).strip()
        if label:
            cls = ' class="sub"' if level == "3" else ""
            items.append(f'<li{cls}><a href="#{anchor}">{label}</a></li>')
    if not items:
        return ""
    return (
        '<nav class="ctip-toc" aria-label="Contents"><h2>Contents</h2><ol>'
        + "".join(items)
        + "</ol></nav>"
    )


def render_html(nb: Any, *, title: str, hide_code: bool) -> str:
    """Render an executed notebook to HTML, deterministically.

    With ``hide_code`` every code cell is folded under "Show code" (one click away) and the
    parameters cells are left out; the page gets a table of contents after its title and the
    report stylesheet (:data:`REPORT_CSS`).
    """
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    nb = _strip_volatile(nb)
    nb.metadata["title"] = title
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = (
        {"parameters", "injected-parameters"} if hide_code else set()
    )
    exporter = HTMLExporter(
        config=config,
        extra_template_paths=[str(Path(__file__).with_name("templates") / "nbconvert")],
        template_name="lab",
        template_file="ctip_report.html.j2" if hide_code else "index.html.j2",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    body = str(body).replace("</head>", f"<style>{REPORT_CSS}</style>\n</head>", 1)
    toc = table_of_contents(body)
    if toc:
        body = re.sub(r"(</h1>)", lambda m: m.group(1) + toc, body, count=1)
    return body
