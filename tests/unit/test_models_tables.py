"""Regression tables: etable layout and deterministic Markdown/HTML/LaTeX/Word output."""

from __future__ import annotations

import io
import zipfile

import pytest

from ctip_research.models.econometric import fit_fixed_effects, fit_panel
from ctip_research.models.tables import regression_table, render_table
from models_factory import households, spec


@pytest.fixture(scope="module")
def fitted():
    df = households(n_villages=40, hh=10, seed=8)
    results = [
        fit_fixed_effects(df, spec(name="ols", label="OLS", wave=1)),
        fit_fixed_effects(df, spec(name="fe", label="FE", wave=1, fixed_effects=["psu_id"])),
        fit_panel(df, spec(name="panel", kind="panel", label="Panel", controls=[])),
    ]
    return regression_table(results, caption="Main results", label="tab_main"), results


def test_markdown_has_stars_errors_fe_rows_and_design_rows(fitted) -> None:
    table, results = fitted
    md = render_table(table, "md").decode()
    t = results[0].term()
    stars = sum(t["p_value"] < cut for cut in (0.01, 0.05, 0.10))
    cell = f"{t['estimate']:.3f}" + "\\*" * stars + f" ({t['std_error']:.3f})"
    # rows carry the declared labels; the note under the table names each variable
    row = next(
        line for line in md.splitlines() if line.startswith("| Has an outstanding MFI loan |")
    )
    assert row.split(" | ")[1] == cell
    assert "Has an outstanding MFI loan = has_mfi_loan" in md.splitlines()[-1]
    assert "FE: Primary sampling unit (village)" in md and "FE: Pseudonymous household id" in md
    for row in (
        "Observations",
        "Clusters (PSUs)",
        "Errors clustered by",
        "Weights",
        "Within R²",
        "Estimator",
    ):
        assert row in md
    assert md.startswith("**Main results**")


@pytest.fixture(scope="module")
def table(fitted):
    return fitted[0]


@pytest.mark.parametrize("fmt", ["md", "html", "tex", "docx"])
def test_rendering_is_byte_identical_across_calls(table, fmt: str) -> None:
    assert render_table(table, fmt) == render_table(table, fmt)


def test_docx_is_a_valid_word_file(table) -> None:
    data = render_table(table, "docx")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "word/document.xml" in z.namelist()
        assert b"Observations" in z.read("word/document.xml")


def test_latex_has_tabular_and_caption(table) -> None:
    tex = render_table(table, "tex").decode()
    assert "tabular" in tex and "Main results" in tex
