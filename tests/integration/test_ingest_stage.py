"""The ingest stage end to end on a hand-made Kobo-like source: outputs, contract, privacy."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ctip_research.config import Params
from ctip_research.config.ingest import IngestParams
from ctip_research.config.paths import PathsParams
from ctip_research.config.privacy import PrivacyParams
from ctip_research.errors import PrivacyError, RawFileChangedError
from ctip_research.ingest.apply import INTERIM_META_COLUMNS, SPECIAL_CODES_COLUMNS
from ctip_research.ingest.manifest import MANIFEST_NAME
from ctip_research.io import file_sha256, write_json
from ctip_research.schemas import CANONICAL_TABLES
from ctip_research.stages.ingest import run_ingest
from ingest_fixtures import PLANTED_IDENTIFIERS, RAW_HH_IDS, kobo_codebook, write_kobo_source

REPO = Path(__file__).resolve().parents[2]


TEST_KEY = "ingest-stage-test-key-5d8e2a71c4b9f036"  # public: made-up test data only


def make_params(tmp_path: Path, sources: list[Path], *, key: bool = True) -> Params:
    """Params with the repository's privacy and ingest sections, sources and paths redirected,
    and (``key``) a key file: the fixture says ``synthetic: true`` but ctip synth did not write
    it, so the public demo key is refused.

    Only the sections the ingest stage reads are built (``model_construct`` skips the others).
    """
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    ingest = {**data["ingest"], "sources": [str(s) for s in sources]}
    key_file = tmp_path / "hmac.key"
    if key:
        key_file.write_text(TEST_KEY, encoding="utf-8")
    return Params.model_construct(
        paths=PathsParams(
            raw=tmp_path / "raw", interim=tmp_path / "interim", processed=tmp_path / "processed"
        ),
        privacy=PrivacyParams.model_validate(
            {
                **data["privacy"],
                "hmac_key_env": "CTIP_TEST_NO_KEY",
                "hmac_key_file": str(key_file) if key else None,
            }
        ),
        ingest=IngestParams.model_validate(ingest),
    )


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = write_kobo_source(tmp_path / "raw")
    xlsx = tmp_path / "raw" / "kobo.xlsx"
    write_json(
        tmp_path / "raw" / MANIFEST_NAME,
        {"files": {"kobo.xlsx": {"sha256": file_sha256(xlsx), "bytes": xlsx.stat().st_size}}},
    )
    return path


def test_ingest_writes_the_interim_contract(tmp_path: Path, source: Path) -> None:
    run_ingest(make_params(tmp_path, [source]))
    out = tmp_path / "interim" / "ingested"
    for name, table in CANONICAL_TABLES.items():
        df = pd.read_parquet(out / f"{name}.parquet")
        assert list(df.columns) == table.columns + list(INTERIM_META_COLUMNS)
    fx = pd.read_parquet(out / "value_fixes.parquet")
    assert fx["to_value"].tolist() == ["Battambang"]
    sc = pd.read_parquet(out / "special_codes.parquet")
    assert list(sc.columns) == list(SPECIAL_CODES_COLUMNS)
    ledger = json.loads((out / "ingest_ledger.json").read_text(encoding="utf-8"))
    assert ledger["tables"]["households"]["rows"] == 4
    assert ledger["sources"][0]["source"] == "fixture_kobo"
    assert ledger["special_codes"]["by_reason"] == {"dont_know": 1, "refused": 1}


def test_no_planted_identifier_reaches_any_interim_byte(tmp_path: Path, source: Path) -> None:
    run_ingest(make_params(tmp_path, [source]))
    blobs = [p.read_bytes() for p in (tmp_path / "interim").rglob("*") if p.is_file()]
    assert blobs
    for value in (*PLANTED_IDENTIFIERS, *RAW_HH_IDS, "uuid-1", "dev-a1"):
        assert not any(value.encode("utf-8") in b for b in blobs), value


def test_same_inputs_give_identical_bytes(tmp_path: Path, source: Path) -> None:
    params = make_params(tmp_path, [source])
    out = tmp_path / "interim" / "ingested"
    run_ingest(params)
    first = {p.name: file_sha256(p) for p in out.iterdir()}
    run_ingest(params)
    assert {p.name: file_sha256(p) for p in out.iterdir()} == first


def test_changed_raw_file_stops_before_parsing_and_keeps_outputs(
    tmp_path: Path, source: Path
) -> None:
    params = make_params(tmp_path, [source])
    run_ingest(params)
    out = tmp_path / "interim" / "ingested"
    before = {p.name: file_sha256(p) for p in out.iterdir()}
    with open(tmp_path / "raw" / "kobo.xlsx", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(RawFileChangedError, match="kobo.xlsx"):
        run_ingest(params)
    after = {p.name: file_sha256(p) for p in out.iterdir()}
    assert after.pop("run.json") != before.pop("run.json")
    assert after == before  # the outputs as they were; the run record now says failed
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record == {"stage": "ingest", "status": "failed", "error": "RawFileChangedError"}


def test_demo_key_refused_for_source_not_marked_synthetic(tmp_path: Path) -> None:
    book = kobo_codebook()
    book["synthetic"] = False
    path = write_kobo_source(tmp_path / "raw", book)
    with pytest.raises(PrivacyError, match="no HMAC key"):
        run_ingest(make_params(tmp_path, [path], key=False))


def test_demo_key_refused_when_only_the_codebook_says_synthetic(tmp_path: Path) -> None:
    # the fixture's codebook says `synthetic: true`; its manifest was not written by ctip synth
    path = write_kobo_source(tmp_path / "raw")
    with pytest.raises(PrivacyError, match="no HMAC key"):
        run_ingest(make_params(tmp_path, [path], key=False))
    # nor is a manifest that claims the generator but lists other bytes
    write_json(
        tmp_path / "raw" / MANIFEST_NAME,
        {"generator": "ctip synth", "files": {"kobo.xlsx": {"sha256": "0" * 64}}},
    )
    with pytest.raises(PrivacyError, match="no HMAC key"):
        run_ingest(make_params(tmp_path, [path], key=False))


def test_pii_scan_stops_an_identifier_mapped_by_mistake(tmp_path: Path) -> None:
    book = kobo_codebook()
    book["files"][0]["columns"]["hh/phone"] = {"action": "map", "canonical": "enumerator_id"}
    path = write_kobo_source(tmp_path / "raw", book)
    with pytest.raises(PrivacyError, match="'hh/phone': .* look like a phone number"):
        run_ingest(make_params(tmp_path, [path]))
    assert not (tmp_path / "interim").exists()


def test_cli_ingest_reports_corrupt_export_without_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ctip_research.cli import app

    path = write_kobo_source(tmp_path / "raw")
    xlsx = tmp_path / "raw" / "kobo.xlsx"
    xlsx.write_bytes(xlsx.read_bytes()[:2000])  # truncated in transfer
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    data["ingest"]["sources"] = [str(path)]
    data["paths"]["interim"] = str(tmp_path / "interim")
    data["paths"]["processed"] = str(tmp_path / "processed")
    (tmp_path / "hmac.key").write_text(TEST_KEY, encoding="utf-8")
    data["privacy"] = {**data["privacy"], "hmac_key_file": str(tmp_path / "hmac.key")}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", "--params", str(params)])
    assert result.exit_code == 3, result.output
    assert "kobo.xlsx" in result.output and "Traceback" not in result.output
    assert not any(v in result.output for v in PLANTED_IDENTIFIERS)
    assert not (tmp_path / "interim" / "ingested").exists()  # only the lock file's directory
