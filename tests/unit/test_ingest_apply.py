"""Applying codebooks: special codes, value maps, scale, currency, repeat joins, ids, ledger."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip_research.errors import CodebookError
from ctip_research.ingest.apply import (
    INTERIM_META_COLUMNS,
    SPECIAL_CODES_COLUMNS,
    VALUE_FIXES_COLUMNS,
    apply_codebook,
)
from ctip_research.ingest.codebook import parse_codebook, read_codebook
from ctip_research.ingest.pseudonymise import pseudonymise
from ctip_research.ingest.readers import RawTable, read_raw
from ctip_research.schemas import CANONICAL_TABLES
from ingest_fixtures import RAW_HH_IDS, write_kobo_source, write_spss, write_stata

RATES = {2022: {"USD": 1.0, "KHR": 4100.0, "THB": 35.0}}


@pytest.fixture()
def kobo(tmp_path: Path):
    path = write_kobo_source(tmp_path)
    cb = read_codebook(path)
    raws = {f.key: read_raw(tmp_path / f.path, cb.format, sheet=f.sheet) for f in cb.files}
    return apply_codebook(cb, raws, exchange_rates=RATES, hmac_key="test-key")


def _source(files: list[dict], **extra) -> dict:
    return {
        "codebook_version": 1,
        "source": "s",
        "wave": 2,
        "format": "stata",
        "files": files,
        **extra,
    }


def test_interim_tables_have_canonical_then_meta_columns(kobo) -> None:
    for name, table in CANONICAL_TABLES.items():
        df = kobo.tables[name]
        assert list(df.columns) == table.columns + list(INTERIM_META_COLUMNS)
        for col, dtype in table.dtypes.items():
            assert str(df[col].dtype) == dtype, (name, col)
    assert kobo.tables["migration_episodes"].empty  # the source has no migration sheet


def test_special_codes_become_missing_with_reason_never_numbers(kobo) -> None:
    hh = kobo.tables["households"]
    assert hh["household_size"].tolist()[:2] == [4, pd.NA]
    assert hh["household_size"].sum() == 12  # 4 + 5 + 3: -99 never enters a sum
    assert hh["income_farm_usd"].isna().tolist() == [False, False, True, False]
    assert (hh["income_farm_usd"].dropna() >= 0).all()
    sc = kobo.special_codes
    assert list(sc.columns) == list(SPECIAL_CODES_COLUMNS)
    assert sorted(zip(sc["column"], sc["code"], sc["reason"], sc["_row"], strict=True)) == [
        ("household_size", "-99", "refused", 3),
        ("income_farm_usd", "-98", "dont_know", 4),
    ]  # the -98 of the orphan roster row is excluded with its row


def test_stata_extended_missing_become_missing_with_reason(tmp_path: Path) -> None:
    write_stata(tmp_path / "hh.dta")
    cb = parse_codebook(
        _source(
            [
                {
                    "path": "hh.dta",
                    "table": "households",
                    "columns": {
                        "hhid": {"action": "key", "canonical": "household_id"},
                        "q101_prov": {
                            "action": "map",
                            "canonical": "province_code",
                            "values": {"Banteay Meanchey": 1, "Battambang": 2, "Siem Reap": 17},
                        },
                        "q105_size": {"action": "map", "canonical": "household_size"},
                        "q201_name": {"action": "pii", "reason": "name"},
                    },
                }
            ],
            special_codes={".a": "refused"},
        )
    )
    res = apply_codebook(
        cb, {("hh.dta", None): read_raw(tmp_path / "hh.dta")}, exchange_rates=RATES, hmac_key="k"
    )
    hh = res.tables["households"]
    assert hh["province_code"].tolist() == [2, 17, 1]  # value map keyed by the value labels
    assert hh["household_size"].tolist() == [4, pd.NA, pd.NA]
    assert res.special_codes[["code", "reason"]].values.tolist() == [
        [".a", "refused"],
        [".b", "stata_missing"],
    ]
    assert hh["_row"].tolist() == [1, 2, 3]  # Stata rows: no header row


def test_spss_user_missing_become_missing_with_label_reason(tmp_path: Path) -> None:
    write_spss(tmp_path / "m.sav")
    cb = parse_codebook(
        _source(
            [
                {
                    "path": "m.sav",
                    "table": "members",
                    "columns": {
                        "hhid": {"action": "key", "canonical": "household_id"},
                        "line": {"action": "key", "canonical": "member_id"},
                        "age": {"action": "map", "canonical": "age"},
                    },
                }
            ],
            format="spss",
        )
    )
    res = apply_codebook(
        cb, {("m.sav", None): read_raw(tmp_path / "m.sav")}, exchange_rates=RATES, hmac_key="k"
    )
    assert res.tables["members"]["age"].tolist() == [34, pd.NA, pd.NA]
    assert res.special_codes["reason"].tolist() == ["refused", "dont know"]
    assert res.special_codes["code"].tolist() == ["99", "98"]


def test_currency_converted_with_dated_rate_table(kobo) -> None:
    hh = kobo.tables["households"]
    assert hh["income_farm_usd"].tolist()[:2] == [1000.0, 2000.0]  # KHR 4.1m / 4,100
    loans = kobo.tables["loans"]
    assert loans["currency"].tolist() == ["KHR", "THB", "USD"]
    assert loans["principal"].tolist() == [4_100_000.0, 350.0, 1000.0]  # as reported
    assert loans["principal_usd"].tolist() == [1000.0, 10.0, 1000.0]
    assert loans["interest_rate_annual"].round(6).tolist() == [0.18, 0.6, 0.18]  # scale 0.12


def test_missing_exchange_rate_is_listed(tmp_path: Path) -> None:
    path = write_kobo_source(tmp_path)
    cb = read_codebook(path)
    raws = {f.key: read_raw(tmp_path / f.path, cb.format, sheet=f.sheet) for f in cb.files}
    with pytest.raises(CodebookError, match=r"no exchange rate for THB in 2022"):
        apply_codebook(cb, raws, exchange_rates={2022: {"USD": 1.0, "KHR": 4100.0}}, hmac_key="k")


def test_repeat_groups_join_their_parent_submission(kobo) -> None:
    hh = kobo.tables["households"].set_index("_row")
    members = kobo.tables["members"]
    loans = kobo.tables["loans"]
    # roster rows with _parent_index 1, 1, 2, 3 -> households on raw rows 2, 2, 3, 4
    assert members["household_id"].tolist() == hh.loc[[2, 2, 3, 4], "household_id"].tolist()
    assert members["_submission_id"].tolist() == hh.loc[[2, 2, 3, 4], "_submission_id"].tolist()
    assert members["member_id"].tolist() == [1, 2, 1, 1]
    assert members["sex"].tolist() == ["male", "female", "female", "male"]
    assert loans["loan_id"].tolist() == [1, 2, 1]  # numbered within each household
    assert loans["household_id"].tolist() == hh.loc[[2, 2, 4], "household_id"].tolist()


def test_ledger_balances_and_accounts_for_every_raw_column(kobo, tmp_path: Path) -> None:
    roster = next(f for f in kobo.ledger["files"] if f["sheet"] == "roster")
    assert roster["rows_in"] == 5 and roster["rows_out"] == 4
    assert roster["rows_excluded"] == {"no matching parent row": 1}
    for f in kobo.ledger["files"]:
        assert f["rows_in"] == f["rows_out"] + sum(f["rows_excluded"].values())
    raw_cols = set(read_raw(tmp_path / "kobo.xlsx", sheet="ctip_baseline").data.columns)
    main = kobo.ledger["files"][0]
    assert set(main["columns"]) == raw_cols
    assert main["columns"]["hh/respondent_name"] == {"action": "pii", "reason": "name"}


def test_household_id_is_keyed_hash_of_raw_id(kobo) -> None:
    expected = [pseudonymise(i, "test-key") for i in RAW_HH_IDS]
    assert kobo.tables["households"]["household_id"].tolist() == expected
    assert kobo.tables["households"]["_submission_id"].tolist()[0] == pseudonymise(
        "submission:uuid-1", "test-key"
    )


def test_submission_time_parsed_as_timestamp(kobo) -> None:
    times = kobo.tables["households"]["_submission_time"]
    assert str(times.dtype) == "datetime64[us]"
    assert times.iloc[1] == pd.Timestamp("2022-03-02 11:30:00")


def test_boolean_without_map_accepts_only_yes_no_codes() -> None:
    cb = parse_codebook(
        _source(
            [
                {
                    "path": "a.csv",
                    "table": "households",
                    "columns": {
                        "id": {"action": "key", "canonical": "household_id"},
                        "title": {"action": "map", "canonical": "has_land_title"},
                    },
                }
            ],
            format="csv",
        )
    )
    raw = RawTable(
        pd.DataFrame({"id": ["1", "2", "3"], "title": ["1", "0", "maybe"]}), file="a.csv"
    )
    with pytest.raises(CodebookError, match=r"1 value\(s\) are not yes/no .* row\(s\) \[4\]"):
        apply_codebook(cb, {("a.csv", None): raw}, exchange_rates=RATES, hmac_key="k")


def test_rows_without_household_id_are_excluded_and_counted() -> None:
    cb = parse_codebook(
        _source(
            [
                {
                    "path": "a.csv",
                    "table": "households",
                    "columns": {"id": {"action": "key", "canonical": "household_id"}},
                }
            ],
            format="csv",
        )
    )
    raw = RawTable(pd.DataFrame({"id": ["1", None, "3"]}), file="a.csv")
    res = apply_codebook(cb, {("a.csv", None): raw}, exchange_rates=RATES, hmac_key="k")
    assert res.tables["households"]["_row"].tolist() == [2, 4]
    assert res.ledger["files"][0]["rows_excluded"] == {"household id missing": 1}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=-99, max_value=20), min_size=1, max_size=30))
def test_special_codes_never_reach_the_numbers(values: list[int]) -> None:
    cb = parse_codebook(
        _source(
            [
                {
                    "path": "a.csv",
                    "table": "households",
                    "columns": {
                        "id": {"action": "key", "canonical": "household_id"},
                        "n": {"action": "map", "canonical": "n_children"},
                    },
                }
            ],
            format="csv",
            special_codes={-99: "refused", -98: "dont_know"},
        )
    )
    raw = RawTable(
        pd.DataFrame({"id": [str(i) for i in range(len(values))], "n": [str(v) for v in values]}),
        file="a.csv",
    )
    try:
        res = apply_codebook(cb, {("a.csv", None): raw}, exchange_rates=RATES, hmac_key="k")
    except CodebookError:
        return  # other negative numbers are data errors caught later (schema bounds)
    kept = res.tables["households"]["n_children"]
    assert not kept.isin([-99, -98]).any()
    assert len(res.special_codes) == sum(v in (-99, -98) for v in values)
    assert kept.isna().sum() == len(res.special_codes)


def test_reviewed_fixes_are_applied_and_recorded(kobo) -> None:
    assert kobo.tables["households"]["province_code"].tolist() == [2, 1, 2, 14]
    fx = kobo.value_fixes
    assert list(fx.columns) == list(VALUE_FIXES_COLUMNS)
    assert fx[["_row", "column", "from_value", "to_value"]].values.tolist() == [
        [4, "province_code", "Batambang", "Battambang"]
    ]
    assert kobo.ledger["files"][0]["value_fixes"] == {"hh/province": 1}


def test_text_is_matched_in_nfc() -> None:
    import unicodedata

    nfc = unicodedata.normalize("NFC", "Kâmpóng Cham")  # as typed on one tablet
    nfd = unicodedata.normalize("NFD", nfc)  # decomposed accents, as typed on another
    assert nfc != nfd
    cb = parse_codebook(
        _source(
            [
                {
                    "path": "a.csv",
                    "table": "households",
                    "columns": {
                        "id": {"action": "key", "canonical": "household_id"},
                        "area": {
                            "action": "map",
                            "canonical": "is_urban",
                            "values": {nfc: True, "rural": False},
                        },
                    },
                }
            ],
            format="csv",
        )
    )
    raw = RawTable(pd.DataFrame({"id": ["1", "2"], "area": [nfd, "rural"]}), file="a.csv")
    res = apply_codebook(cb, {("a.csv", None): raw}, exchange_rates=RATES, hmac_key="k")
    assert res.tables["households"]["is_urban"].tolist() == [True, False]
