"""Published forms of the cleaned data: data dictionary, Stata export, quality report."""

from __future__ import annotations

import json

import pandas as pd
import pyreadstat
import pytest
from clean_fixtures import make_interim

from ctip_research.clean import clean_tables
from ctip_research.clean.dictionary import (
    build_data_dictionary,
    render_dictionary_html,
    render_dictionary_markdown,
)
from ctip_research.clean.export import stata_labels, to_stata_frame
from ctip_research.clean.report import build_metrics, build_quality_report, render_quality_html
from ctip_research.config.clean import CleanParams
from ctip_research.determinism import fix_dta_timestamp, fix_dta_timestamp_file
from ctip_research.schemas import CANONICAL_TABLES


@pytest.fixture()
def result(params_dict):
    t = make_interim()
    t["households"].loc[0, "enumerator_id"] = "test"
    t["members"].loc[4, "age"] = 150
    t["loans"].loc[2, "principal_usd"] = 3e7
    return clean_tables(t, CleanParams.model_validate(params_dict["clean"]))


def test_dictionary_lists_every_declared_column(result):
    dd = build_data_dictionary(result.processed(), min_cell=10)
    for name, table in CANONICAL_TABLES.items():
        assert dd.loc[dd["table"] == name, "name"].tolist() == table.columns
    md, page = render_dictionary_markdown(dd), render_dictionary_html(dd)
    for name in CANONICAL_TABLES["loans"].columns:
        assert f"`{name}`" in md and f"<code>{name}</code>" in page


def test_dictionary_reports_missingness_and_suppresses_small_counts(result):
    processed = result.processed()
    dd = build_data_dictionary(processed, min_cell=10).set_index(["table", "name"])
    age = dd.loc[("members", "age")]
    assert age["n_missing"] == 1 and age["pct_missing"] == round(100 / 117, 1)
    # 39 households kept, every one rural in province 2: other provinces show 0, none "<10"
    prov = dd.loc[("households", "province_code"), "summary"]
    assert "2 Battambang: 39" in prov and "1 Banteay Meanchey: 0" in prov
    loans = processed["loans"]
    loans.loc[:4, "lender_type"] = "bank"  # 5 bank loans: below the cell minimum
    dd2 = build_data_dictionary({"loans": loans}, min_cell=10).set_index("name")
    assert "bank: <10" in dd2.loc["lender_type", "summary"]
    assert "distinct values" in dd2.loc["household_id", "summary"]


def test_stata_export_round_trips_variable_and_value_labels(tmp_path, result):
    table = CANONICAL_TABLES["members"]
    df = result.processed()["members"]
    labels, values = stata_labels(table)
    frame = to_stata_frame(df, table)
    path = tmp_path / "members.dta"
    pyreadstat.write_dta(frame, str(path), column_labels=dict(labels), variable_value_labels=values)
    back, meta = pyreadstat.read_dta(str(path), apply_value_formats=True)
    assert meta.column_names_to_labels == {f.name: f.label for f in table.fields}
    assert meta.variable_value_labels["sex"] == {1: "female", 2: "male"}
    assert meta.variable_value_labels["is_away"] == {0: "no", 1: "yes"}
    assert back["sex"].tolist() == df["sex"].astype(object).tolist()
    assert back["relation_to_head"].tolist() == df["relation_to_head"].astype(object).tolist()
    assert back["age"].isna().sum() == df["age"].isna().sum() == 1
    assert back["household_id"].tolist() == df["household_id"].tolist()


def test_stata_timestamp_fixed_so_bytes_repeat(tmp_path, result):
    table = CANONICAL_TABLES["loans"]
    frame = to_stata_frame(result.processed()["loans"], table)
    path = tmp_path / "loans.dta"
    pyreadstat.write_dta(frame, str(path))
    data = path.read_bytes()
    fixed = fix_dta_timestamp(data)
    assert len(fixed) == len(data) and b"01 Jan 2000 00:00" in fixed
    path.write_bytes(fixed)
    assert pyreadstat.read_dta(str(path))[0].shape == frame.shape


def test_stata_timestamp_patched_in_place_matches_whole_file_rewrite(tmp_path, result):
    table = CANONICAL_TABLES["loans"]
    frame = to_stata_frame(result.processed()["loans"], table)
    path = tmp_path / "loans.dta"
    pyreadstat.write_dta(frame, str(path))
    data = path.read_bytes()
    assert fix_dta_timestamp_file(path) is True
    assert path.read_bytes() == fix_dta_timestamp(data)
    assert b"01 Jan 2000 00:00" in path.read_bytes()[:4096]


def test_stata_timestamp_patch_reports_missing_header(tmp_path):
    path = tmp_path / "x.dta"
    path.write_bytes(b"not a stata file")
    assert fix_dta_timestamp_file(path) is False
    assert path.read_bytes() == b"not a stata file"


def test_quality_report_counts_by_check_and_enumerator(result):
    rep = build_quality_report(result)
    s = rep["summary"]
    assert s["by_check"] == {"currency": 1, "range": 1, "test_submission": 1}
    assert sum(sum(d.values()) for d in s["by_enumerator"].values()) == s["n_issues"] == 3
    assert len(rep["issues"]) == 3
    json.dumps(rep)  # serialisable as is
    metrics = build_metrics(rep)
    assert metrics["ledger_balanced"] is True
    assert metrics["rows_excluded"]["members"] == 3
    page = render_quality_html(rep)
    for heading in (
        "Issues by check",
        "Issues by enumerator",
        "Row ledger",
        "Duplicate groups",
        "Corrections applied",
    ):
        assert heading in page
    assert "3e+07" not in page and "30000000" not in page


def test_quality_report_issue_rows_never_carry_checked_values(result):
    iss = pd.DataFrame(build_quality_report(result)["issues"])
    assert set(iss.columns) == {
        "check",
        "table",
        "source",
        "file",
        "row",
        "wave",
        "household_id",
        "enumerator_id",
        "column",
        "severity",
        "action",
        "detail",
    }
    assert "150" not in iss.to_csv()
