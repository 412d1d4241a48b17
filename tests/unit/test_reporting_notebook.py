"""Report notebooks: every table passes the gate; index and provenance (no kernel needed)."""

from __future__ import annotations

import nbformat as nbf
import pandas as pd
import pytest

from ctip_research.errors import DisclosureError, RenderError
from ctip_research.reporting.index import render_index
from ctip_research.reporting.notebook import METADATA_KEY, collect_disclosure, render_html
from ctip_research.reporting.provenance import gather_provenance, provenance_markdown

TABLE_HTML = "<table class='dataframe'><tr><td>1</td></tr></table>"


def _nb(outputs: list[dict]) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    cell = nbf.v4.new_code_cell("show_table(...)")
    cell.outputs = [nbf.from_dict(o) for o in outputs]
    nb.cells = [nbf.v4.new_markdown_cell("# Title"), cell]
    return nb


def _display(html: str, record: dict | None) -> dict:
    out = {"output_type": "display_data", "data": {"text/html": html}, "metadata": {}}
    if record is not None:
        out["metadata"] = {METADATA_KEY: record}
    return out


def test_collect_disclosure_fails_for_a_table_shown_around_the_gate() -> None:
    nb = _nb([_display(TABLE_HTML, None)])
    with pytest.raises(DisclosureError, match="without passing the disclosure gate"):
        collect_disclosure(nb, name="demo")


def test_collect_disclosure_fails_for_a_failed_record() -> None:
    nb = _nb([_display(TABLE_HTML, {"passed": False, "checks": []})])
    with pytest.raises(DisclosureError, match="check failed"):
        collect_disclosure(nb, name="demo")


def test_collect_disclosure_fails_for_an_error_output() -> None:
    err = {"output_type": "error", "ename": "DisclosureError", "evalue": "x", "traceback": []}
    with pytest.raises(RenderError, match="DisclosureError"):
        collect_disclosure(_nb([err]), name="demo")


def test_collect_disclosure_returns_the_records_of_gated_tables() -> None:
    rec = {"artefact": "t", "passed": True, "checks": []}
    nb = _nb([_display(TABLE_HTML, rec), _display("<p>text</p>", None)])
    assert collect_disclosure(nb, name="demo") == [rec]


def test_render_html_hides_code_and_is_deterministic() -> None:
    nb = _nb([_display("<p>result</p>", None)])
    nb.metadata["papermill"] = {"start_time": "2026-11-29T00:00:00"}
    a = render_html(nb, title="Demo", hide_code=True)
    nb.metadata["papermill"] = {"start_time": "2027-01-01T00:00:00"}
    b = render_html(nb, title="Demo", hide_code=True)
    assert a == b
    assert "show_table(...)" not in a and "result" in a
    assert "show_table" in render_html(nb, title="Demo", hide_code=False)


def test_provenance_lists_the_files_ingested_and_fixes_the_date() -> None:
    identity = {
        "survey": "Delta panel",
        "sources": [
            {
                "source": "w1",
                "wave": 1,
                "description": "Baseline, CSV",
                "codebook": "data/raw/delta/w1.codebook.yaml",
                "codebook_sha256": "cd" * 32,
                "raw_files": [{"path": "data/raw/delta/w1/hh.csv", "sha256": "ab" * 32}],
            }
        ],
    }
    prov = gather_provenance(params_hash="p1", identity=identity, source_date_epoch=1767225600)
    assert prov["raw_files"] == {
        "data/raw/delta/w1/hh.csv": "ab" * 32,
        "data/raw/delta/w1.codebook.yaml": "cd" * 32,
    }
    assert prov["run_date"] == "2026-01-01T00:00:00Z"
    md = provenance_markdown(prov)
    assert "| data/raw/delta/w1/hh.csv | `abababababab` |" in md
    assert "- Data: Delta panel" in md and "`w1` (wave 1): Baseline, CSV" in md


def test_index_links_every_report_figure_and_the_brief() -> None:
    prov = {
        "package_version": "0.1.0",
        "code_sha256": "c0ffee" * 10,
        "params_hash": "p",
        "run_date": "2026-01-01T00:00:00Z",
    }
    figures = [
        {
            "name": "fig_a",
            "title": "A",
            "caption": "cap",
            "alt_text": "alt",
            "params_hash": "ph",
            "inputs": {"analysis/x.parquet": "f" * 64},
        }
    ]
    reports = [
        {
            "name": "r1",
            "title": "R1",
            "href": "r1.html",
            "disclosure": "r1.disclosure.json",
            "params_hash": "ph",
            "inputs": {"models/estimates.csv": "e" * 64},
            "n_tables": 3,
            "n_suppressed": 1,
        }
    ]
    brief = {
        "pdf": "../brief/brief.pdf",
        "html": "../brief/brief.html",
        "disclosure": "../brief/brief.disclosure.json",
        "pages": 3,
        "params_hash": "pb",
        "inputs": {"models/estimates.csv": "e" * 64},
    }
    page = render_index(reports=reports, figures=figures, brief=brief, provenance=prov)
    for href in (
        "r1.html",
        "../figures/fig_a.png",
        "../figures/fig_a.svg",
        "../figures/fig_a.disclosure.json",
        "../brief/brief.pdf",
        "../brief/brief.html",
    ):
        assert f'href="{href}"' in page
    assert "ffffffffffff" in page and "c0ffee" in page
    # a reader meets what to open first; the hashes wait, folded, under Provenance
    start = page.index("<h2>Start here</h2>")
    assert start < page.index('href="../brief/brief.pdf"') < page.index('href="r1.html"')
    folded = page.index("<details>", page.index("<h2>Provenance</h2>"))
    assert start < folded < page.index("ffffffffffff")
    translated = render_index(
        reports=reports,
        figures=figures,
        brief={
            **brief,
            "translations": [
                {"lang": "km", "name": "ខ្មែរ", "pdf": "../brief/brief.km.pdf", "html": "k.html"}
            ],
        },
        provenance=prov,
    )
    assert '<span lang="km">ខ្មែរ</span>: <a href="../brief/brief.km.pdf">PDF</a>' in translated


def test_validation_notebook_only_when_validate_compared_with_a_truth(tmp_path) -> None:
    from ctip_research.models.validation import VALIDATION_COLUMNS
    from ctip_research.stages.report import notebooks_to_render

    names, synthetic_only = ["descriptive", "validation"], ["validation"]
    assert notebooks_to_render(names, synthetic_only, tmp_path) == ["descriptive"]
    (tmp_path / "validation").mkdir()
    csv = tmp_path / "validation" / "validation.csv"
    pd.DataFrame(columns=list(VALIDATION_COLUMNS)).to_csv(csv, index=False)  # real data
    assert notebooks_to_render(names, synthetic_only, tmp_path) == ["descriptive"]
    pd.DataFrame({"model": ["panel_fe"], "truth": [0.07]}).to_csv(csv, index=False)
    assert notebooks_to_render(names, synthetic_only, tmp_path) == names


def _executed_like() -> nbf.NotebookNode:
    """A notebook as papermill leaves it: parameters cells, headings, a gated table output."""
    nb = nbf.v4.new_notebook()
    params = nbf.v4.new_code_cell("processed_dir = '../data'")
    params.metadata["tags"] = ["parameters"]
    injected = nbf.v4.new_code_cell("processed_dir = '/secret/path'")
    injected.metadata["tags"] = ["injected-parameters"]
    table = nbf.v4.new_code_cell("show_table(est, name='demo')")
    table.outputs = [nbf.from_dict(_display(TABLE_HTML, {"passed": True, "checks": []}))]
    nb.cells = [
        nbf.v4.new_markdown_cell("# The report"),
        params,
        injected,
        nbf.v4.new_markdown_cell("## First section"),
        table,
        nbf.v4.new_markdown_cell("### A detail"),
    ]
    return nb


def test_render_html_folds_code_adds_contents_and_drops_parameters() -> None:
    page = render_html(_executed_like(), title="Demo", hide_code=True)
    assert page.count('<details class="ctip-code">') == 1  # the table's cell only
    folded = page[page.index('<details class="ctip-code">') :]
    assert "show_table" in folded[: folded.index("</details>")]  # one click away, not removed
    assert "/secret/path" not in page
    nav = page[page.index('<nav class="ctip-toc"') : page.index("</nav>")]
    assert 'href="#First-section"' in nav and 'href="#A-detail"' in nav
    assert page.index("</h1>") < page.index('<nav class="ctip-toc"')
    assert "overflow-x:auto" in page  # tables scroll inside their box


def test_show_table_collapses_the_record_and_labels_columns_with_the_name_on_hover() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from ctip_research.reporting.notebook import DisclosureRecord, show_table

    InteractiveShell.instance()
    t = pd.DataFrame(
        {"province_code": ["1", "2"], "has_mfi_loan": [0.31, 0.42], "n_obs": [120, 130]}
    )
    with capture_output() as cap:
        record = show_table(t, name="demo", artefact_type="aggregates")
    html = cap.outputs[0].data["text/html"]
    assert '<th title="has_mfi_loan">Has an outstanding MFI loan</th>' in html
    assert "Has an outstanding MFI loan = <code>has_mfi_loan</code>" in html
    summary = html[html.index("<details") :]
    assert summary.startswith('<details class="ctip-disclosure"><summary>Passed disclosure control')
    assert isinstance(record, DisclosureRecord) and record["passed"]
    assert record._ipython_display_() is None  # the last value of a cell shows nothing more
