"""The report stage end to end (one notebook) after the figures and brief stages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from reporting_factory import REPO_PARAMS, REPO_ROOT, make_params, write_descriptive, write_inputs

from ctip_research.stages.brief import run_brief
from ctip_research.stages.figures import run_figures
from ctip_research.stages.report import run_report


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("report")
    write_inputs(root)
    write_descriptive(root)
    d = REPO_PARAMS()
    d["report"]["notebooks"] = ["descriptive"]
    params = make_params(d, root)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO_ROOT)  # the stage finds notebooks/ in the working directory, as `ctip` does
        run_figures(params)
        run_brief(params)
        run_report(params)
        yield root


@pytest.mark.slow
def test_report_stage_gates_the_notebook_and_suppresses_small_trafficking_cells(
    built: Path,
) -> None:
    out = built / "processed" / "reports"
    record = json.loads((out / "descriptive.disclosure.json").read_text())
    tables = {t["artefact"]: t for t in record["tables"]}
    traf = tables["descriptive: has_forced_labour_case by province"]
    hh = pd.read_parquet(built / "processed" / "analysis" / "household_wave.parquet")
    cases = hh.groupby("province_code")["has_forced_labour_case"].sum()
    expected_small = {str(code) for code, n in cases.items() if n < 11}
    primary = {s["cell"]["province"] for s in traf["suppressed"] if s["reason"] == "min_cell_count"}
    assert primary == expected_small and expected_small  # the factory makes some provinces small
    assert all(t["passed"] for t in record["tables"])
    page = (out / "descriptive.html").read_text()
    assert "suppressed" in page and "household_id" not in page


@pytest.mark.slow
def test_index_links_reports_figures_and_brief_with_hashes(built: Path) -> None:
    page = (built / "processed" / "reports" / "index.html").read_text()
    for href in (
        "descriptive.html",
        "../brief/brief.pdf",
        "../figures/effect_estimates.svg",
        "../figures/targeting_curve.disclosure.json",
    ):
        assert f'href="{href}"' in page
    prov = json.loads((built / "processed" / "reports" / "provenance.json").read_text())
    assert prov["run_date"] == "2026-01-01T00:00:00Z"
    assert prov["params_hash"] in page
