"""The raw layer written by ``ctip synth``: determinism, manifest, defects, identifiers, ingest."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from ctip_research.config import parse_params
from ctip_research.config.synth import SynthParams
from ctip_research.io import file_sha256, read_json
from ctip_research.stages.synth import write_raw_files
from ctip_research.synth import generate_survey

REPO = Path(__file__).resolve().parents[2]
PHONE = re.compile(r"^(\+?855\s?|0)\d{2}\s?\d{6,7}$")


def synth_data(n: int = 60, **defects: float) -> dict:
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))["synth"]
    data["design"]["households_per_province"] = n
    data["defects"].update(defects)
    return data


@pytest.fixture(scope="module")
def small_survey():
    return generate_survey(SynthParams.model_validate(synth_data()))


@pytest.fixture(scope="module")
def raw_dir(small_survey, tmp_path_factory):
    out = tmp_path_factory.mktemp("raw") / "synthetic"
    write_raw_files(small_survey, out)
    return out


def test_raw_layer_has_the_contract_files(raw_dir) -> None:
    for name in (
        "wave1_kobo.xlsx",
        "wave1_kobo.codebook.yaml",
        "wave2_firm.codebook.yaml",
        "corrections.csv",
        "manifest.json",
        "truth.json",
        "planted_defects.json",
        "wave2_firm/hh.dta",
        "wave2_firm/members.dta",
        "wave2_firm/loans.dta",
        "wave2_firm/migration.dta",
    ):
        assert (raw_dir / name).is_file(), name
    sheets = pd.read_excel(raw_dir / "wave1_kobo.xlsx", sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["ctip_baseline", "hh_roster", "loan_repeat", "migration_repeat"]
    main = sheets["ctip_baseline"]
    for col in (
        "_uuid",
        "_submission_time",
        "_index",
        "_submitted_by",
        "deviceid",
        "start",
        "end",
        "_hh_gps_latitude",
        "_hh_gps_longitude",
        "debt/coping",
        "debt/coping/reduce_food",
    ):
        assert col in main.columns
    roster = sheets["hh_roster"]
    assert set(roster["_parent_index"]) <= set(main["_index"])
    assert set(roster["_submission__uuid"]) <= set(main["_uuid"])


def test_same_seed_gives_byte_identical_files(small_survey, raw_dir, tmp_path) -> None:
    again = generate_survey(SynthParams.model_validate(synth_data()))
    write_raw_files(again, tmp_path)
    files = sorted(p.relative_to(raw_dir) for p in raw_dir.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for rel in files:
        assert (raw_dir / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_manifest_lists_sha256_bytes_and_rows(raw_dir) -> None:
    manifest = read_json(raw_dir / "manifest.json")["files"]
    assert "wave1_kobo.xlsx" in manifest and "wave2_firm/hh.dta" in manifest
    for name, entry in manifest.items():
        path = raw_dir / name
        assert entry["sha256"] == file_sha256(path)
        assert entry["bytes"] == path.stat().st_size
    hh, _ = pyreadstat.read_dta(raw_dir / "wave2_firm/hh.dta", metadataonly=True)
    assert (
        manifest["wave2_firm/hh.dta"]["rows"]
        == pyreadstat.read_dta(raw_dir / "wave2_firm/hh.dta")[1].number_rows
    )


def test_raw_files_carry_names_phones_and_gps(raw_dir, small_survey) -> None:
    main = pd.read_excel(
        raw_dir / "wave1_kobo.xlsx", sheet_name="ctip_baseline", dtype=str, engine="openpyxl"
    )
    names = main["hh/respondent_name"].dropna()
    assert names.str.match(r"^[A-Z][a-z]+ [A-Z][a-z]+$").mean() > 0.95
    phones = main["hh/respondent_phone"].dropna()
    assert phones.str.match(PHONE).mean() > 0.95
    assert main["_hh_gps_latitude"].astype(float).between(9, 15).all()
    w2, meta = pyreadstat.read_dta(raw_dir / "wave2_firm/hh.dta")
    assert w2["resp_tel"].str.match(PHONE).mean() > 0.95
    assert meta.column_names_to_labels["q101_prov"] == "Province"
    assert meta.variable_value_labels["q101_prov"][12] == "Phnom Penh"
    # none of these identifiers is in the canonical tables
    canon = pd.concat(
        [small_survey.households.astype(str), small_survey.members.astype(str)], axis=1
    )
    text = canon.to_csv()
    for value in list(names.head(20)) + list(phones.head(20)):
        assert value not in text


@pytest.mark.slow
def test_planted_defects_present_at_their_rates(small_survey, tmp_path) -> None:
    rates = {
        "duplicate_submission": 0.05,
        "special_code": 0.05,
        "misspelt_province": 0.05,
        "outlier": 0.02,
        "riel_typed_as_dollars": 0.10,
        "skip_logic_loan": 0.05,
        "skip_logic_migration": 0.02,
    }
    survey = generate_survey(SynthParams.model_validate(synth_data(**rates)))
    record = write_raw_files(survey, tmp_path)
    counts = record["counts"]
    n1 = int((survey.households["wave"] == 1).sum())
    n2 = int((survey.households["wave"] == 2).sum())
    assert counts["duplicate_submission"] == round(0.05 * n1) + round(0.05 * n2)
    assert counts["misspelt_province"] == round(0.05 * n1)
    assert counts["special_code_refused"] + counts["special_code_dont_know"] == 4 * round(
        0.05 * n1
    ) + 4 * round(0.05 * n2)
    assert counts["test_submission"] == 2 * survey.params.defects.test_submissions
    main = pd.read_excel(
        tmp_path / "wave1_kobo.xlsx", sheet_name="ctip_baseline", engine="openpyxl"
    )
    for d in record["defects"]:
        if d["source"] == "wave1_kobo" and d["sheet"] == "ctip_baseline" and d["column"]:
            value = main.loc[d["row"] - 2, d["column"]]
            if d["defect"] == "special_code_refused":
                assert value == -99
            if d["defect"] == "misspelt_province":
                assert value not in {
                    "Banteay Meanchey",
                    "Battambang",
                    "Kampong Cham",
                    "Koh Kong",
                    "Phnom Penh",
                    "Prey Veng",
                    "Siem Reap",
                    "Preah Sihanouk",
                }
    dups = main["hh/hhid"].value_counts()
    assert (dups > 1).sum() == round(0.05 * n1)
    w2, _ = pyreadstat.read_dta(tmp_path / "wave2_firm/hh.dta", user_missing=True)
    assert (w2["q205_headage"].iloc[:n2].astype(str).isin(["a", "b"])).sum() == round(0.05 * n2)
    corr = pd.read_csv(tmp_path / "corrections.csv")
    assert list(corr.columns) == [
        "source",
        "table",
        "row",
        "household_id",
        "variable",
        "old_value",
        "new_value",
        "reason",
    ]
    assert len(corr) > 0


@pytest.mark.slow
def test_ingest_recovers_canonical_tables_without_defects(tmp_path, monkeypatch) -> None:
    """Raw files -> codebooks -> ingest gives back the generator's canonical tables."""
    from ctip_research.stages.ingest import ingest_sources

    zero = {
        k: 0
        for k in (
            "duplicate_submission",
            "special_code",
            "misspelt_province",
            "outlier",
            "riel_typed_as_dollars",
            "skip_logic_loan",
            "skip_logic_migration",
        )
    }
    data = synth_data(40, test_submissions=0, **zero)
    survey = generate_survey(SynthParams.model_validate(data))
    write_raw_files(survey, tmp_path / "data/raw/synthetic")
    all_params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    all_params["synth"] = data
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(all_params["privacy"]["hmac_key_env"], raising=False)
    result = ingest_sources(parse_params(all_params))
    keys = {
        "households": [],
        "members": ["member_id"],
        "loans": ["loan_id"],
        "migration_episodes": ["member_id"],
    }
    for name, extra in keys.items():
        canon = getattr(survey, name)
        got = result.tables[name]
        key = ["household_id", "wave", *extra]
        assert len(got) == len(canon), name
        m = canon.merge(got, on=key, suffixes=("", "_i"), how="left", validate="1:1")
        for col in canon.columns:
            if col in key:
                continue
            a, b = m[col], m[f"{col}_i"]
            if pd.api.types.is_float_dtype(a.dtype):
                ok = np.isclose(a.astype(float), b.astype(float), rtol=1e-6, equal_nan=True)
            else:
                ok = ((a.astype(object) == b.astype(object)) | (a.isna() & b.isna())).fillna(False)
            assert bool(np.all(ok)), f"{name}.{col}"


def test_parquet_output_format_writes_modules_and_codebooks(tmp_path) -> None:
    data = synth_data(20)
    data["output_format"] = "parquet"
    survey = generate_survey(SynthParams.model_validate(data))
    write_raw_files(survey, tmp_path)
    assert (tmp_path / "wave1_kobo/ctip_baseline.parquet").is_file()
    assert (tmp_path / "wave2_firm/hh.parquet").is_file()
    cb = yaml.safe_load((tmp_path / "wave2_firm.codebook.yaml").read_text())
    assert cb["format"] == "parquet"
    hh = pd.read_parquet(tmp_path / "wave2_firm/hh.parquet")
    assert pd.api.types.is_numeric_dtype(hh["q205_headage"])


@pytest.mark.parametrize("output_format", ["parquet", "kobo_stata"])
def test_correction_rows_follow_ingest_row_numbers_of_output_format(
    tmp_path, monkeypatch, output_format
) -> None:
    """corrections.csv `row` is the interim `_row` of the record (docs/CONTRACTS.md)."""
    from ctip_research.stages.ingest import ingest_sources

    all_params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    data = synth_data(30, riel_typed_as_dollars=0.2)
    data["output_format"] = output_format
    all_params["synth"] = data
    survey = generate_survey(SynthParams.model_validate(data))
    write_raw_files(survey, tmp_path / "data/raw/synthetic")
    corrections = pd.read_csv(tmp_path / "data/raw/synthetic/corrections.csv")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(all_params["privacy"]["hmac_key_env"], raising=False)
    loans = ingest_sources(parse_params(all_params)).tables["loans"]
    w1 = loans[loans["_source"] == "wave1_kobo"].set_index("_row")
    amounts = corrections[corrections["variable"] == "principal_usd"]
    assert len(amounts) == data["defects"]["n_corrections"]
    for _, c in amounts.iterrows():
        record = w1.loc[int(c["row"])]
        # the planted record: riel amount typed with currency USD, as the correction says
        assert record["currency"] == "USD"
        assert record["principal_usd"] == pytest.approx(float(c["old_value"]))
    for _, c in corrections[corrections["variable"] == "currency"].iterrows():
        assert w1.loc[int(c["row"]), "currency"] == c["old_value"] == "USD"


def test_blind_stream_plants_undocumented_defects_and_writes_no_answer(tmp_path) -> None:
    data = synth_data(n=80)
    data["defects"]["stream"] = "blind"
    survey = generate_survey(SynthParams.model_validate(data))
    record = write_raw_files(survey, tmp_path)
    counts = record["counts"]
    for defect in (
        "special_code_undocumented",
        "misspelt_label",
        "outlier_total",
        "outlier_component",
        "outlier_loan",
        "riel_typed_as_dollars",
        "duplicate_submission",
    ):
        assert counts.get(defect, 0) > 0, defect
    assert "misspelt_province" not in counts and "special_code_refused" not in counts
    # no reviewed answer beside the raw files: empty log, no fixes, only the documented codes
    corr = pd.read_csv(tmp_path / "corrections.csv")
    assert corr.empty and list(corr.columns)[:3] == ["source", "table", "row"]
    w1 = yaml.safe_load((tmp_path / "wave1_kobo.codebook.yaml").read_text("utf-8"))
    w2 = yaml.safe_load((tmp_path / "wave2_firm.codebook.yaml").read_text("utf-8"))
    assert "fixes" not in yaml.safe_dump(w1) + yaml.safe_dump(w2)
    assert set(w1["special_codes"]) == {-99, -98} and set(w2["special_codes"]) == {".a", ".b"}
    # each planted value is where the record says, with its truth (for tests only)
    main = pd.read_excel(tmp_path / "wave1_kobo.xlsx", sheet_name=None, engine="openpyxl")
    for d in record["defects"]:
        if d["source"] != "wave1_kobo" or not d["column"]:
            continue
        value = main[d["sheet"]].loc[d["row"] - 2, d["column"]]
        if d["defect"] == "misspelt_label":
            assert value != d["truth"] and isinstance(value, str)
        elif d["defect"] == "special_code_undocumented":
            assert value == d["truth"]
        elif d["defect"].startswith("outlier"):
            assert d["truth"] in (10, 100)
    w2hh, _ = pyreadstat.read_dta(tmp_path / "wave2_firm/hh.dta", user_missing=True)
    n_c = sum(d.get("truth") == ".c" for d in record["defects"])
    assert w2hh["q205_headage"].astype(str).isin(["c"]).sum() == n_c  # read back as Stata .c
