"""The data-quality report on a small survey: small counts are suppressed, never published, and
the stage does not fail (it failed on small draws before the ledger went through the gate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reporting_factory import REPO_PARAMS, REPO_ROOT, make_params

from ctip_research.stages.report import run_report


def _quality_report() -> dict:
    ledger = {
        "households": {"rows_in": 412, "rows_out": 409, "rows_excluded": 3, "balanced": True},
        "members": {"rows_in": 1800, "rows_out": 1788, "rows_excluded": 12, "balanced": True},
    }
    summary = {
        "by_check_and_table": {"duplicate": {"households": 3}, "range": {"members": 40}},
        "n_issues": 43,
        "n_corrections": 2,
        "n_duplicate_groups": 3,
    }
    return {"ledger": ledger, "summary": summary}


@pytest.mark.slow
def test_small_ledger_counts_are_suppressed_not_fatal(tmp_path: Path) -> None:
    quality = tmp_path / "processed" / "quality"
    quality.mkdir(parents=True)
    (quality / "quality_report.json").write_text(json.dumps(_quality_report()), encoding="utf-8")
    d = REPO_PARAMS()
    d["report"]["notebooks"] = ["data_quality"]
    params = make_params(d, tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO_ROOT)
        run_report(params)
    out = tmp_path / "processed" / "reports"
    record = json.loads((out / "data_quality.disclosure.json").read_text())
    tables = {t["artefact"]: t for t in record["tables"]}
    assert all(t["passed"] for t in record["tables"])
    ledger = tables["data_quality: ledger"]
    suppressed = {(s["cell"]["table"], s["cell"]["rows"]) for s in ledger["suppressed"]}
    # 3 excluded households is under 10: suppressed, and 'kept' with it, since in = kept + excluded
    assert {("households", "excluded"), ("households", "kept")} <= suppressed
    assert not any(t == "members" for t, _ in suppressed)
    page = (out / "data_quality.html").read_text(encoding="utf-8")
    assert "fewer than 10" in page  # 2 corrections and 3 duplicate groups are not published
    assert "<strong>2</strong>" not in page and "<strong>3</strong>" not in page
