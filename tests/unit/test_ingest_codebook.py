"""Codebooks: structure validation, every mismatch listed at once, and the draft template."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ctip_research.cli import app
from ctip_research.errors import CodebookError, InputFileError, PrivacyError
from ctip_research.ingest.apply import apply_codebook
from ctip_research.ingest.codebook import (
    check_codebook,
    parse_codebook,
    read_codebook,
)
from ctip_research.ingest.readers import read_raw
from ingest_fixtures import kobo_codebook, write_kobo_source, write_stata

RATES = {2022: {"USD": 1.0, "KHR": 4100.0, "THB": 35.0}}


def _read_all(codebook_path: Path):
    cb = read_codebook(codebook_path)
    raws = {
        f.key: read_raw(codebook_path.parent / f.path, cb.format, sheet=f.sheet) for f in cb.files
    }
    return cb, raws


def test_fixture_codebook_has_no_problems(tmp_path: Path) -> None:
    cb, raws = _read_all(write_kobo_source(tmp_path))
    assert check_codebook(cb, raws) == []


def test_every_kind_of_mismatch_is_listed_in_one_error(tmp_path: Path) -> None:
    book = kobo_codebook()
    main = book["files"][0]["columns"]
    main["hh/ghost"] = {"action": "map", "canonical": "head_age"}  # mapped column missing
    del main["hh/notes"]  # an unlisted raw column
    main["hh/province"]["values"].pop("Prey Veng")  # a raw code without a mapping
    main["hh/size"]["canonical"] = "hh_size_typo"  # canonical name not declared
    main["hh/phone"] = {"action": "pii"}  # pii without a reason
    cb, raws = _read_all(write_kobo_source(tmp_path, book))
    with pytest.raises(CodebookError) as info:
        apply_codebook(cb, raws, exchange_rates=RATES, hmac_key="k")
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 5
    assert "missing from the file: ['hh/ghost']" in text
    assert "not listed in the codebook (every raw column needs an action): ['hh/notes']" in text
    assert "not in the value map of province_code" in text and "row(s) [5]" in text
    assert "'hh_size_typo' is not declared in table households" in text
    assert "column 'hh/phone': a pii column needs a 'reason'" in text


def test_names_mapped_into_a_code_column_stop_ingest_without_echo(tmp_path: Path) -> None:
    book = kobo_codebook()
    book["files"][0]["columns"]["hh/respondent_name"] = {
        "action": "map",
        "canonical": "enumerator_id",
        "values": {"x": "y"},
    }
    cb, raws = _read_all(write_kobo_source(tmp_path, book))
    with pytest.raises(PrivacyError) as info:
        apply_codebook(cb, raws, exchange_rates=RATES, hmac_key="k")
    text = str(info.value)
    assert "column 'hh/respondent_name'" in text and "['roster/member_name']" in text
    names = raws[("kobo.xlsx", "ctip_baseline")].data["hh/respondent_name"]
    assert not any(str(n) in text for n in names.dropna())
    assert "HH-0001" not in text


def test_names_in_a_number_column_name_rows_not_values(tmp_path: Path) -> None:
    book = kobo_codebook()
    book["files"][0]["columns"]["hh/respondent_name"] = {"action": "map", "canonical": "head_age"}
    cb, raws = _read_all(write_kobo_source(tmp_path, book))
    with pytest.raises(PrivacyError) as info:
        apply_codebook(cb, raws, exchange_rates=RATES, hmac_key="k")
    assert "at row(s) [2, 3, 4]" in str(info.value)
    assert "Sok Dara" not in str(info.value)


def test_structure_errors_are_listed_with_their_key_path() -> None:
    book = kobo_codebook()
    book["files"][0]["columns"]["hh/size"]["acton"] = "map"
    book["files"][1]["columns"]["roster/sex"]["action"] = "rename"
    with pytest.raises(CodebookError) as info:
        parse_codebook(book)
    text = str(info.value)
    assert "files.0.columns.hh/size.acton: unknown key" in text
    assert "files.1.columns.roster/sex.action" in text


def test_static_checks_cover_keys_links_and_targets() -> None:
    book = copy.deepcopy(kobo_codebook())
    loans = book["files"][2]
    loans["columns"]["_parent_index"] = {"action": "unused"}
    loans["columns"]["loan/lender"]["values"]["mfi"] = "microfinance"
    book["files"][1]["columns"]["roster/age"] = {"action": "key", "canonical": "age"}
    problems = check_codebook(parse_codebook(book))
    text = "\n".join(problems)
    assert "must be listed with action 'link'" in text
    assert "value map gives ['microfinance'], not allowed for lender_type" in text
    assert "action 'key' maps to one of" in text


def test_read_codebook_reports_yaml_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.codebook.yaml"
    path.write_text("source: x\nfiles: [\n  - a: b\n   c: d\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="not valid YAML"):
        read_codebook(path)


def test_draft_from_stata_lists_labels_and_premarks_pii(tmp_path: Path) -> None:
    path = tmp_path / "hh.dta"
    write_stata(path)
    result = CliRunner().invoke(app, ["codebook", "draft", str(path)])
    assert result.exit_code == 0, result.output
    draft = yaml.safe_load((tmp_path / "hh.codebook.yaml").read_text(encoding="utf-8"))
    cols = draft["files"][0]["columns"]
    assert set(cols) == {"hhid", "q101_prov", "q105_size", "q201_name"}
    assert cols["q201_name"]["action"] == "pii"  # variable name and label say 'name'
    assert cols["q101_prov"]["label"] == "Province"
    # the province labels become a map onto the NIS codes; household size by its label
    assert cols["q101_prov"]["canonical"] == "province_code"
    assert cols["q101_prov"]["values"] == {"1": 1, "2": 2, "17": 17}
    assert cols["q105_size"]["canonical"] == "household_size"
    assert cols["hhid"] == {
        "action": "key",
        "canonical": "household_id",
        "review": "pre-mapped: 'hhid' is a common name for it",
        "label": "Household id",
    }
    assert draft["format"] == "stata" and draft["files"][0]["table"] == "households"
    assert "3 of 4 column(s) pre-mapped" in (tmp_path / "hh.codebook.yaml").read_text("utf-8")
    assert "3 pre-mapped (75%" in result.output
    parse_codebook(draft)  # the template is a valid codebook structure


def test_draft_from_kobo_links_repeat_groups_and_never_overwrites(tmp_path: Path) -> None:
    write_kobo_source(tmp_path)
    out = tmp_path / "draft.yaml"
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["codebook", "draft", str(tmp_path / "kobo.xlsx"), "-o", str(out)]
        ).exit_code
        == 0
    )
    draft = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert draft["format"] == "kobo_xlsx"
    main, roster, _ = draft["files"]
    assert roster["parent"] == {
        "sheet": "ctip_baseline",
        "key": "_parent_index",
        "parent_key": "_index",
    }
    pii = {c for c, s in main["columns"].items() if s["action"] == "pii"}
    assert {"hh/respondent_name", "hh/phone", "_hh_gps_latitude", "deviceid", "start"} <= pii
    assert main["table"] == "households" and roster["table"] == "members"
    assert main["columns"]["_uuid"] == {"action": "meta", "canonical": "_submission_id"}
    again = runner.invoke(app, ["codebook", "draft", str(tmp_path / "kobo.xlsx"), "-o", str(out)])
    assert again.exit_code == InputFileError.exit_code


def _csv_book(columns: dict, *, synthetic: bool = False, table: str = "loans") -> dict:
    return {
        "codebook_version": 1,
        "source": "s",
        "wave": 1,
        "format": "csv",
        "synthetic": synthetic,
        "files": [{"path": "a.csv", "table": table, "columns": columns}],
    }


def test_two_raw_columns_filling_one_canonical_column_are_an_error_naming_both() -> None:
    # principal + currency_column fills principal_usd too: a raw principal_usd column would
    # otherwise silently win
    book = _csv_book(
        {
            "hhid": {"action": "key", "canonical": "household_id"},
            "amount": {"action": "map", "canonical": "principal", "currency_column": "cur"},
            "cur": {"action": "map", "canonical": "currency"},
            "amount_usd": {"action": "map", "canonical": "principal_usd"},
        }
    )
    problems = check_codebook(parse_codebook(book))
    assert problems == [
        "a.csv, column 'amount_usd': canonical 'principal_usd' is also the target of 'amount'; "
        "map one raw column to it, not both"
    ]
    book["files"][0]["columns"]["amount"] = {
        "action": "map",
        "canonical": "principal",
        "currency": "KHR",  # a fixed currency fills `currency` too
    }
    del book["files"][0]["columns"]["amount_usd"]
    text = "\n".join(check_codebook(parse_codebook(book)))
    assert "canonical 'currency' is also the target of 'amount'" in text


def test_village_and_commune_codes_of_a_real_survey_must_be_pseudonymised() -> None:
    columns = {
        "hhid": {"action": "key", "canonical": "household_id"},
        "vill": {"action": "map", "canonical": "psu_id"},
        "comm": {"action": "map", "canonical": "commune_code"},
        "size": {"action": "map", "canonical": "household_size", "pseudonymise": True},
    }
    problems = check_codebook(parse_codebook(_csv_book(columns, table="households")))
    assert len(problems) == 3
    assert "column 'vill': psu_id is a geographic code below district level" in problems[0]
    assert "column 'comm': commune_code" in problems[1]
    assert "pseudonymise needs a text column; household_size is int" in problems[2]
    del columns["size"]
    assert (
        check_codebook(parse_codebook(_csv_book(columns, table="households", synthetic=True))) == []
    )


def test_dollar_amounts_of_a_child_file_need_no_interview_year(tmp_path: Path) -> None:
    import pandas as pd

    from ctip_research.ingest.readers import RawTable

    book = _csv_book(
        {
            "hhid": {"action": "key", "canonical": "household_id"},
            "amount": {"action": "map", "canonical": "principal_usd", "currency": "USD"},
            "riel": {"action": "map", "canonical": "outstanding_usd", "currency": "KHR"},
        }
    )
    raw = RawTable(pd.DataFrame({"hhid": ["a"], "amount": ["150"], "riel": [None]}), file="a.csv")
    res = apply_codebook(
        parse_codebook(book), {("a.csv", None): raw}, exchange_rates={}, hmac_key="k"
    )
    assert res.tables["loans"]["principal_usd"].tolist() == [150.0]
    raw.data.loc[0, "riel"] = "4100"
    with pytest.raises(CodebookError, match="without a year for the exchange rate"):
        apply_codebook(
            parse_codebook(book), {("a.csv", None): raw}, exchange_rates={}, hmac_key="k"
        )
