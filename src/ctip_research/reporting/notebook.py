"""Report notebooks: display helpers behind the gate, execution and rendering.

Inside a report notebook every table goes through :func:`show_table`, which asks the disclosure
authority (:func:`ctip_research.disclosure.disclose`) *before* displaying the table and attaches
the check record to the output (output metadata ``ctip_disclosure``). A failing check
raises in the cell, so the notebook (and the ``report`` stage) fails. After execution,
:func:`collect_disclosure` reads every output of the executed notebook: an HTML table without a
check record (a frame displayed around the gate) or an error output fails the stage too.

:func:`execute_notebook` runs a notebook with papermill (parameters injected, a fixed
``SOURCE_DATE_EPOCH`` in the kernel's environment) and :func:`render_html` converts it with
nbconvert, code cells hidden for the reviewer version, volatile metadata removed so that the same
inputs give the same HTML.
"""

from __future__ import annotations

import copy
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
    "collect_disclosure",
    "execute_notebook",
    "format_cells",
    "render_html",
    "show_markdown",
    "show_regression_table",
    "show_table",
]

#: Output-metadata key holding the disclosure check record of a displayed table.
METADATA_KEY = "ctip_disclosure"
#: How a displayed table is checked.
TableKind = Literal["cells", "regressions", "aggregates"]
_TABLE = re.compile(r"<table\b", re.IGNORECASE)


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
    html = shown.to_html(
        index=False,
        na_rep="",
        float_format=lambda v: f"{v:.{digits}g}",
        border=0,
        classes="ctip-table",
    )
    if caption:
        html = f"<p class='ctip-caption'><em>{caption}</em></p>" + html
    display(HTML(html), metadata={METADATA_KEY: record})
    return record


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
    display(HTML(table_html), metadata={METADATA_KEY: record})
    return record


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


def render_html(nb: Any, *, title: str, hide_code: bool) -> str:
    """Render an executed notebook to HTML (code hidden when ``hide_code``), deterministically."""
    from nbconvert import HTMLExporter

    nb = _strip_volatile(nb)
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        exclude_input=hide_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    return str(body)
