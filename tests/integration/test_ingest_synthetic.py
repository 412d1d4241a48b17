"""Ingest on a small draw of the synthetic default survey: privacy, contract, planted defects."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml

from ctip_research.config import parse_params
from ctip_research.config.synth import SynthParams
from ctip_research.ingest.readers import read_xlsx_sheets
from ctip_research.schemas import CANONICAL_TABLES
from ctip_research.stages.ingest import run_ingest
from ctip_research.stages.synth import write_raw_files
from ctip_research.synth import generate_survey

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Synthetic raw layer (40 households per province) and `ctip ingest` run on it."""
    root = tmp_path_factory.mktemp("synthetic_ingest")
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    data["synth"]["design"]["households_per_province"] = 40
    data["synth"]["defects"].update(special_code=0.05, misspelt_province=0.05)
    raw = root / "raw" / "synthetic"
    record = write_raw_files(generate_survey(SynthParams.model_validate(data["synth"])), raw)
    data["paths"] = {
        "raw": str(root / "raw"),
        "interim": str(root / "interim"),
        "processed": str(root / "processed"),
    }
    data["ingest"]["sources"] = [
        str(raw / "wave1_kobo.codebook.yaml"),
        str(raw / "wave2_firm.codebook.yaml"),
    ]
    data["privacy"]["hmac_key_env"] = "CTIP_TEST_UNSET_KEY_VARIABLE"
    run_ingest(parse_params(data))
    return root, record


def _raw_identifiers(raw: Path) -> set[str]:
    """Names, phone numbers, raw household ids and submission uuids as written by synth."""
    kobo = read_xlsx_sheets(
        raw / "wave1_kobo.xlsx", ["ctip_baseline", "hh_roster", "migration_repeat"]
    )
    values: list[object] = []
    for sheet, cols in (
        ("ctip_baseline", ["hh/respondent_name", "hh/respondent_phone", "hh/hhid", "_uuid"]),
        ("hh_roster", ["hh_roster/member_name"]),
        ("migration_repeat", ["mig/migrant_phone"]),
    ):
        for c in cols:
            values += kobo[sheet].data[c].dropna().tolist()
    for name, cols in (
        ("hh", ["resp_name", "resp_tel", "hhid"]),
        ("members", ["name"]),
        ("migration", ["mig_tel"]),
    ):
        df, _ = pyreadstat.read_dta(raw / "wave2_firm" / f"{name}.dta", usecols=cols)
        for c in cols:
            values += df[c].dropna().tolist()
    return {str(v) for v in values if len(str(v)) >= 6}


def test_no_planted_name_or_phone_in_any_interim_byte(layer: tuple[Path, dict]) -> None:
    root, _ = layer
    identifiers = _raw_identifiers(root / "raw" / "synthetic")
    assert len(identifiers) > 500  # the raw files do carry them
    files = [p for p in (root / "interim").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"households.parquet", "ingest_ledger.json"}
    needles = [v.encode("utf-8") for v in identifiers]
    for path in files:
        blob = path.read_bytes()
        assert not any(n in blob for n in needles), path.name
        if path.suffix == ".parquet":  # compressed pages: check the decoded cells too
            df = pd.read_parquet(path)
            text = "\n".join(df[c].astype(str).str.cat(sep="\n") for c in df.columns)
            assert not any(v in text for v in identifiers), path.name


def test_interim_tables_follow_the_contract(layer: tuple[Path, dict]) -> None:
    root, _ = layer
    out = root / "interim" / "ingested"
    ledger = json.loads((out / "ingest_ledger.json").read_text(encoding="utf-8"))
    for name, table in CANONICAL_TABLES.items():
        df = pd.read_parquet(out / f"{name}.parquet")
        assert list(df.columns)[: len(table.columns)] == table.columns
        assert df["household_id"].notna().all()
        assert set(df["_source"]) == {"wave1_kobo", "wave2_firm"}
        assert ledger["tables"][name]["rows"] == len(df)
    for source in ledger["sources"]:
        for f in source["files"]:
            assert f["rows_in"] == f["rows_out"] + sum(f["rows_excluded"].values())


def test_every_raw_column_is_accounted_for(layer: tuple[Path, dict]) -> None:
    root, _ = layer
    raw = root / "raw" / "synthetic"
    ledger = json.loads((root / "interim/ingested/ingest_ledger.json").read_text("utf-8"))
    files = {(f["path"], f["sheet"]): f for s in ledger["sources"] for f in s["files"]}
    sheets = read_xlsx_sheets(
        raw / "wave1_kobo.xlsx", ["ctip_baseline", "hh_roster", "loan_repeat", "migration_repeat"]
    )
    for sheet, table in sheets.items():
        assert set(files[("wave1_kobo.xlsx", sheet)]["columns"]) == set(table.data.columns)
    for name in ("hh", "members", "loans", "migration"):
        _, meta = pyreadstat.read_dta(raw / "wave2_firm" / f"{name}.dta", metadataonly=True)
        assert set(files[(f"wave2_firm/{name}.dta", None)]["columns"]) == set(meta.column_names)


def test_planted_special_codes_and_misspellings_are_all_recorded(
    layer: tuple[Path, dict],
) -> None:
    root, record = layer
    out = root / "interim" / "ingested"
    sc = pd.read_parquet(out / "special_codes.parquet")
    fx = pd.read_parquet(out / "value_fixes.parquet")
    found_sc = set(zip(sc["source"], sc["table"], sc["_row"], sc["raw_column"], strict=True))
    found_fx = set(zip(fx["source"], fx["table"], fx["_row"], strict=True))
    planted_sc = {
        (d["source"], d["table"], d["row"], d["column"])
        for d in record["defects"]
        if d["defect"].startswith("special_code")
    }
    planted_fx = {
        (d["source"], d["table"], d["row"])
        for d in record["defects"]
        if d["defect"] == "misspelt_province"
    }
    assert planted_sc and planted_fx
    assert planted_sc <= found_sc
    assert planted_fx <= found_fx
    hh = pd.read_parquet(out / "households.parquet")
    money = [c for c in hh.columns if c.endswith("_usd")]
    assert not hh[money].isin([-99, -98]).any().any()  # never numbers


def test_parquet_modules_ingest_like_the_exports(tmp_path: Path) -> None:
    """`synth.output_format: parquet` (the benchmark layout) goes through the same codebooks."""
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    data["synth"]["design"]["households_per_province"] = 20
    data["synth"]["output_format"] = "parquet"
    raw = tmp_path / "synthetic"
    write_raw_files(generate_survey(SynthParams.model_validate(data["synth"])), raw)
    data["ingest"]["sources"] = [
        str(raw / "wave1_kobo.codebook.yaml"),
        str(raw / "wave2_firm.codebook.yaml"),
    ]
    data["paths"]["interim"] = str(tmp_path / "interim")
    data["privacy"]["hmac_key_env"] = "CTIP_TEST_UNSET_KEY_VARIABLE"
    run_ingest(parse_params(data))
    hh = pd.read_parquet(tmp_path / "interim" / "ingested" / "households.parquet")
    loans = pd.read_parquet(tmp_path / "interim" / "ingested" / "loans.parquet")
    assert set(hh["wave"]) == {1, 2}
    assert set(loans["household_id"]) <= set(hh["household_id"])
    assert loans["principal_usd"].notna().mean() > 0.95
