"""The clean stage on hand-made interim files: outputs, determinism, atomic failure."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from clean_fixtures import make_interim

from ctip_research.config import Params
from ctip_research.errors import CorrectionError, InputFileError, PrivacyError
from ctip_research.stages.clean import run_clean

TABLES = ("households", "members", "loans", "migration_episodes")


def _setup(tmp_path: Path, params: Params, *, corrections: str | None = None) -> Params:
    interim = tmp_path / "interim" / "ingested"
    interim.mkdir(parents=True)
    t = make_interim()
    t["households"].loc[1, "enumerator_id"] = "TEST"
    t["loans"].loc[3, "principal_usd"] = 5e7
    for name, df in t.items():
        df.to_parquet(interim / f"{name}.parquet", index=False)
    pd.DataFrame(
        {
            "source": ["wave1_kobo"],
            "table": ["households"],
            "_row": [5],
            "column": ["head_age"],
            "code": [-99],
            "reason": ["refused"],
        }
    ).to_parquet(interim / "special_codes.parquet", index=False)
    corr = tmp_path / "corrections.csv"
    corr.write_text(
        corrections
        or (
            "source,table,row,household_id,variable,old_value,new_value,reason\n"
            "wave1_kobo,members,3,,age,38,39,checked with the household\n"
        ),
        encoding="utf-8",
    )
    return params.model_copy(
        update={
            "paths": params.paths.model_copy(
                update={"interim": tmp_path / "interim", "processed": tmp_path / "processed"}
            ),
            "clean": params.clean.model_copy(update={"corrections_file": corr}),
        }
    )


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_clean_stage_writes_every_output_deterministically(tmp_path, params):
    p = _setup(tmp_path, params)
    run_clean(p)
    out = tmp_path / "processed"
    for name in TABLES:
        assert (out / "tables" / f"{name}.parquet").is_file()
        _, meta = pyreadstat.read_dta(str(out / "tables" / f"{name}.dta"), metadataonly=True)
        assert meta.column_names_to_labels["household_id"] == "Pseudonymous household id"
    for f in ("data_dictionary.md", "data_dictionary.html"):
        assert (out / "tables" / f).is_file()
    rep = json.loads((out / "quality" / "quality_report.json").read_text())
    assert rep["summary"]["by_check"] == {"currency": 1, "special_code": 1, "test_submission": 1}
    assert rep["corrections"][0]["status"] == "applied"
    ledger = json.loads((out / "quality" / "ledger.json").read_text())
    assert ledger["households"]["rows_out"] == 39 and ledger["households"]["balanced"]
    metrics = json.loads((out / "quality" / "metrics.json").read_text())
    assert metrics["ledger_balanced"] is True
    hh = pd.read_parquet(out / "tables" / "households.parquet")
    assert not any(c.startswith("_") for c in hh.columns)
    first = _digests(out)
    run_clean(p)
    assert _digests(out) == first


def test_clean_stage_failure_leaves_previous_outputs(tmp_path, params):
    p = _setup(tmp_path, params)
    run_clean(p)
    before = _digests(tmp_path / "processed")
    Path(p.clean.corrections_file).write_text(
        "source,table,row,household_id,variable,old_value,new_value,reason\n"
        "wave1_kobo,members,3,,age,70,39,wrong old value\n",
        encoding="utf-8",
    )
    with pytest.raises(CorrectionError, match="line 2"):
        run_clean(p)
    after = _digests(tmp_path / "processed")
    assert after.pop("tables/run.json") != before.pop("tables/run.json")
    assert after == before  # the outputs as they were; the run record now says failed


def test_clean_stage_pii_scan_stops_identifying_column(tmp_path, params, monkeypatch):
    p = _setup(tmp_path, params)
    import ctip_research.stages.clean as stage

    monkeypatch.setattr(stage, "PII_WAIVERS", {})
    with pytest.raises(PrivacyError, match="household_id"):
        run_clean(p)
    assert not (tmp_path / "processed").exists()


def test_clean_stage_without_interim_tables_names_the_missing_file(tmp_path, params):
    # the processed layer in tmp_path too: the failed run's record must not land in the repository
    paths = {"interim": tmp_path / "nothing", "processed": tmp_path / "processed"}
    p = params.model_copy(update={"paths": params.paths.model_copy(update=paths)})
    with pytest.raises(InputFileError, match="households.parquet.*run `ctip ingest` first"):
        run_clean(p)
