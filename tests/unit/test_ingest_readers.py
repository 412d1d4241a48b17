"""Readers: each format on a hand-made fixture; every broken file is an InputFileError naming it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ctip_research.cli import app
from ctip_research.errors import InputFileError
from ctip_research.ingest.readers import detect_format, list_sheets, read_raw
from ingest_fixtures import PLANTED_IDENTIFIERS, corrupt, write_kobo_source, write_spss, write_stata


def test_read_csv_numbers_rows_as_spreadsheet_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "hh.csv"
    path.write_text("hhid,size\n0012,4\n0013,\n", encoding="utf-8")
    raw = read_raw(path)
    assert raw.rows.tolist() == [2, 3]
    assert raw.data["hhid"].tolist() == ["0012", "0013"]  # ids stay text, leading zeros kept
    assert raw.data["size"].isna().tolist() == [False, True]


def test_read_kobo_xlsx_reads_each_repeat_sheet(tmp_path: Path) -> None:
    write_kobo_source(tmp_path)
    path = tmp_path / "kobo.xlsx"
    assert list_sheets(path) == ["ctip_baseline", "roster", "loan_repeat"]
    roster = read_raw(path, "kobo_xlsx", sheet="roster")
    assert roster.sheet == "roster"
    assert "_parent_index" in roster.data.columns
    assert len(roster.data) == 5
    assert roster.rows.iloc[0] == 2


def test_read_stata_keeps_labels_and_extended_missing(tmp_path: Path) -> None:
    path = tmp_path / "hh.dta"
    write_stata(path)
    raw = read_raw(path)
    assert raw.first_row == 1
    assert raw.variable_labels["q101_prov"] == "Province"
    assert raw.value_labels["q101_prov"][17] == "Siem Reap"
    assert raw.data["q105_size"].tolist() == [4.0, ".a", ".b"]


def test_read_spss_keeps_user_missing_values_and_ranges(tmp_path: Path) -> None:
    path = tmp_path / "members.sav"
    write_spss(path)
    raw = read_raw(path)
    assert raw.data["age"].tolist() == [34.0, 99.0, 98.0]  # kept, not silently NaN
    assert sorted(raw.missing_ranges["age"]) == [(98.0, 98.0), (99.0, 99.0)]
    assert raw.value_labels["age"][99.0] == "refused"


def test_read_parquet_returns_columns_as_stored(tmp_path: Path) -> None:
    path = tmp_path / "loans.parquet"
    pd.DataFrame({"hhid": ["a", "b"], "amount": [1.5, 2.0]}).to_parquet(path)
    raw = read_raw(path)
    assert list(raw.data.columns) == ["hhid", "amount"]
    assert raw.rows.tolist() == [1, 2]


def _make(fmt: str, path: Path) -> None:
    if fmt == "csv":
        path.write_text("a,b\n1,2\n", encoding="utf-8")
    elif fmt == "xlsx":
        write_kobo_source(path.parent)
        (path.parent / "kobo.xlsx").rename(path)
    elif fmt == "stata":
        write_stata(path)
    elif fmt == "spss":
        write_spss(path)
    else:
        pd.DataFrame({"a": range(100)}).to_parquet(path)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("xlsx", "x.xlsx"), ("stata", "x.dta"), ("spss", "x.sav"), ("parquet", "x.parquet")],
)
def test_truncated_file_is_input_file_error_naming_it(tmp_path: Path, fmt: str, name: str) -> None:
    path = tmp_path / name
    _make(fmt, path)
    corrupt(path, keep=path.stat().st_size // 3)
    with pytest.raises(InputFileError) as info:
        read_raw(path, fmt)
    assert name in str(info.value)


@pytest.mark.parametrize("name", ["x.csv", "x.xlsx", "x.dta", "x.sav", "x.parquet"])
def test_zero_byte_file_is_input_file_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        read_raw(path)


@pytest.mark.parametrize("name", ["x.xlsx", "x.dta", "x.sav", "x.parquet"])
def test_wrong_magic_is_input_file_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("hhid,name\n1,Sok Dara\n", encoding="utf-8")  # a CSV under another name
    with pytest.raises(InputFileError) as info:
        read_raw(path)
    assert name in str(info.value)
    assert "Sok Dara" not in str(info.value)


def test_missing_sheet_is_input_file_error_listing_sheets(tmp_path: Path) -> None:
    write_kobo_source(tmp_path)
    with pytest.raises(InputFileError, match="sheet 'migration' not found"):
        read_raw(tmp_path / "kobo.xlsx", sheet="migration")


def test_bad_encoding_names_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "hh.csv"
    path.write_bytes("hhid,village\n1,ok\n2,Phum S\xe9k\n".encode("latin-1"))
    with pytest.raises(InputFileError) as info:
        read_raw(path)
    assert info.value.row == 3
    assert "hh.csv" in str(info.value)
    assert "Phum" not in str(info.value)


def test_malformed_csv_is_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "hh.csv"
    path.write_text('a,b\n1,2\n3,"4\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="hh.csv"):
        read_raw(path)


def test_unknown_extension_is_input_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="unknown file type"):
        detect_format(tmp_path / "x.sas7bdat")


@pytest.mark.parametrize("name", ["x.xlsx", "x.dta", "x.sav"])
def test_cli_reports_corrupt_file_without_traceback(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _make({"x.xlsx": "xlsx", "x.dta": "stata", "x.sav": "spss"}[name], path)
    corrupt(path, keep=120)
    result = CliRunner().invoke(app, ["codebook", "draft", str(path)])
    assert result.exit_code == InputFileError.exit_code
    assert name in result.output
    assert "Traceback" not in result.output
    assert not any(v in result.output for v in PLANTED_IDENTIFIERS)
