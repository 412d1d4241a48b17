"""Planted-defect recall: every planted defect is reported in one run.

Data-quality defects (20 of 15 kinds, ``corpus.recall``) are all in one ``quality_report.json``
after one ``ctip ingest`` + ``ctip clean``; codebook mismatches (10) are all listed in one
``CodebookError`` from one ``ctip ingest``.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from reliability_support import ingest_params
from typer.testing import CliRunner

from corpus.generate import households, write_source
from corpus.recall import write_recall_fixture
from ctip_research.cli import app
from ctip_research.errors import CodebookError

runner = CliRunner()


def test_all_20_planted_quality_defects_are_reported_in_one_run(tmp_path: Path) -> None:
    cb, planted = write_recall_fixture(tmp_path / "raw")
    assert len(planted) == 20
    assert len({kind for kind, *_ in planted}) >= 12
    params = ingest_params(tmp_path, cb)
    for stage in ("ingest", "clean"):
        res = runner.invoke(app, [stage, "--params", str(params)])
        assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "processed/quality/quality_report.json").read_text("utf-8"))
    hits = {(i["check"], i["table"], int(i["row"])) for i in report["issues"]}
    missed = [
        (kind, table, row)
        for kind, table, row, checks in planted
        if not any((c, table, row) in hits for c in checks)
    ]
    assert missed == []
    # nothing flagged outside the planted rows, but the originals of duplicated ids
    planted_rows = {(t, r) for _, t, r, _ in planted}
    originals = {("households", 26), ("households", 28), ("loans", 12)}
    extra = {(t, r) for c, t, r in hits} - planted_rows - originals
    assert extra == set()


def test_every_codebook_mismatch_is_listed_in_one_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    df = households().drop(columns=["size", "weight"]).assign(gps="x", deviceid="d")
    df = df.astype({"province": object, "income_farm": object})
    df.loc[3, "head_female"] = "maybe"
    df.loc[5, "income_farm"] = "lots"
    df.loc[7, "province"] = "ភ្នំពេញ"  # Phnom Penh: not in the value map
    cb_path = write_source(raw, "csv", df)
    cb = yaml.safe_load(cb_path.read_text("utf-8"))
    cols = cb["files"][0]["columns"]
    cols["stratum"]["canonical"] = "stratum_code"  # not declared
    cols["village"] = {"action": "pii"}  # no reason
    cols["hhid2"] = {"action": "map", "canonical": "household_id"}  # id via map; not in file
    cols["urban"]["currency"] = "KHR"  # currency on a non-money column
    cb_path.write_text(yaml.safe_dump(cb, allow_unicode=True), "utf-8")
    res = runner.invoke(app, ["ingest", "--params", str(ingest_params(tmp_path, cb_path))])
    assert res.exit_code == CodebookError.exit_code, res.output
    expected = [
        "['hhid2', 'size', 'weight']",  # listed columns missing
        "['gps', 'deviceid']",  # raw columns not listed
        "'head_female': 1 value(s) are not yes/no (1/0) for head_is_female; add a value map, at row(s) [5]",
        "'income_farm': 1 value(s) cannot be read as a number (income_farm_usd) at row(s) [7]",
        "'province': 1 value(s) not in the value map",
        "at row(s) [9]",
        "'stratum_code' is not declared",
        "a pii column needs a 'reason'",
        "household_id is an id; use action 'key'",
        "currency given for non-money column is_urban",
    ]
    for text in expected:
        assert text in res.stderr, (text, res.stderr)
    n = int(res.stderr.split("(")[1].split(" problem")[0])
    assert n >= len(expected)
