"""Every case of the malformed-input corpus goes through the real ``ctip ingest`` (and ``ctip
clean`` for data-quality defects) and fails clearly or is reported (issue 9; docs/reliability.md).

A rejected case must exit with the code of the expected :class:`~ctip_research.errors.CtipError`
subclass, print one paragraph naming the file (and row and column where they apply) without a
traceback, and leave the previous complete interim and processed outputs byte-identical; only the
ingest run record changes, to ``failed`` (``ctip_research.runs``).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from reliability_support import ingest_params, tree_hashes
from typer.testing import CliRunner

from corpus.generate import CASES, Case, write_source
from ctip_research.cli import app
from ctip_research.stages.runner import LOCK_NAME

runner = CliRunner()


def _ctip(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=True)


@pytest.fixture(scope="module")
def previous_outputs(tmp_path_factory) -> Path:
    """Interim and processed outputs of a valid run, copied under every case."""
    root = tmp_path_factory.mktemp("previous")
    cb = write_source(root / "raw", "csv")
    params = ingest_params(root, cb)
    for stage in ("ingest", "clean"):
        res = _ctip(stage, "--params", str(params))
        assert res.exit_code == 0, res.output
    return root


def test_corpus_has_at_least_12_classes_of_5_cases() -> None:
    counts = Counter(c.defect for c in CASES)
    assert len(counts) >= 12
    assert min(counts.values()) >= 5, counts
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "reject"], ids=lambda c: c.id)
def test_malformed_input_is_rejected_clearly(case: Case, tmp_path: Path, previous_outputs: Path):
    for layer in ("interim", "processed"):
        shutil.copytree(previous_outputs / layer, tmp_path / layer)
    before = {layer: tree_hashes(tmp_path / layer) for layer in ("interim", "processed")}
    cb = case.build(tmp_path / "raw")
    params = ingest_params(tmp_path, cb)
    res = _ctip("ingest", "--params", str(params))
    assert case.error is not None
    assert isinstance(res.exception, SystemExit), res.exception  # no uncaught exception
    assert res.exit_code == case.error.exit_code, res.output
    err = res.stderr
    assert err.startswith("ctip: error: "), err
    assert "Traceback" not in res.output
    for text in case.names:
        assert text in err, (text, err)
    after = {layer: tree_hashes(tmp_path / layer) for layer in ("interim", "processed")}
    record = after["interim"].pop("ingested/run.json")
    assert record != before["interim"].pop("ingested/run.json")
    assert after == before  # every output as it was; only the run record changed, to failed
    status = json.loads((tmp_path / "interim/ingested/run.json").read_text("utf-8"))["status"]
    assert status == "failed"  # so `ctip clean` refuses the previous interim tables
    left = [p.name for p in (tmp_path / "interim").rglob(".*") if p.name != LOCK_NAME]
    assert left == []  # no temporary file, backup or journal left behind


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "report"], ids=lambda c: c.id)
def test_data_quality_defect_is_reported_by_clean(case: Case, tmp_path: Path):
    cb = case.build(tmp_path / "raw")
    params = ingest_params(tmp_path, cb)
    for stage in ("ingest", "clean"):
        res = _ctip(stage, "--params", str(params))
        assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "processed/quality/quality_report.json").read_text("utf-8"))
    assert case.issue is not None
    check, table, row, column = case.issue
    found = [
        i
        for i in report["issues"]
        if (i["check"], i["table"], int(i["row"]), i["column"]) == (check, table, row, column)
    ]
    assert found, [i for i in report["issues"] if i["check"] == check]
