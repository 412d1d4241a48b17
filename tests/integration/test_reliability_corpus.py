"""Every case of the malformed-input corpus goes through the real CLI (``ctip ingest``, ``ctip
clean`` where it applies) and fails clearly, is reported, or is read as it should be
(docs/reliability.md).

A rejected case must exit with the code of the expected :class:`~ctip_research.errors.CtipError`
subclass, print one paragraph naming the file (and row and column where they apply) without a
traceback, and leave the previous complete interim and processed outputs byte-identical; only
the run record of the failing stage changes, to ``failed`` (``ctip_research.runs``), and not even
that when the run never started (a params file it cannot read, another run holding the lock).

Every case, whatever its outcome, is also a test that no identifying value reaches a message, a
log line or an output: the valid source carries respondent names and phone numbers in ``pii``
columns, and cases plant phone numbers, e-mail addresses and ID numbers in other columns
(``corpus.generate.SENTINELS``); none may appear in the CLI's output or in any file under
``interim/`` and ``processed/``.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from filelock import FileLock
from reliability_support import ingest_params, sentinel_leaks, tree_hashes
from typer.testing import CliRunner

from corpus.generate import CASES, SENTINELS, Case, write_source
from corpus.hardening import BusyError
from ctip_research.cli import app
from ctip_research.errors import ParamsError

LOCK_NAME = ".ctip.lock"  # ctip_research.stages.runner.LOCK_NAME

runner = CliRunner()
RUN_RECORD = {"ingest": "interim/ingested/run.json", "clean": "processed/tables/run.json"}


def _ctip(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=True)


def _no_leak(res, root: Path) -> None:
    leaks = sentinel_leaks(SENTINELS, res.output, root / "interim", root / "processed")
    assert leaks == [], leaks


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


def test_corpus_has_at_least_25_classes_of_5_cases() -> None:
    counts = Counter(c.defect for c in CASES)
    assert len(counts) >= 25
    assert min(counts.values()) >= 5, counts
    assert len({c.id for c in CASES}) == len(CASES)


def test_reliability_doc_lists_every_class() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs/reliability.md").read_text("utf-8")
    missing = sorted({c.defect for c in CASES if f"`{c.defect}`" not in doc})
    assert missing == []


def _params(case: Case, root: Path) -> Path:
    cb = case.build(root / "raw")
    return ingest_params(root, cb, change=case.params_change, text=case.params_text)


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "reject"], ids=lambda c: c.id)
def test_malformed_input_is_rejected_clearly(
    case: Case, tmp_path: Path, previous_outputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for layer in ("interim", "processed"):
        shutil.copytree(previous_outputs / layer, tmp_path / layer)
    params = _params(case, tmp_path)
    if case.after_first_ingest is not None or (case.stage != "ingest" and not case.hold_lock):
        first = _ctip("ingest", "--params", str(params))  # the valid source, ingested
        assert first.exit_code == 0, first.output
    if case.after_first_ingest is not None:
        case.after_first_ingest(tmp_path / "raw")
    before = {layer: tree_hashes(tmp_path / layer) for layer in ("interim", "processed")}
    lock = FileLock(str(tmp_path / case.hold_lock / LOCK_NAME)) if case.hold_lock else None
    with monkeypatch.context() as patch:
        if lock is not None:
            lock.acquire()
        if case.fault is not None:
            case.fault(patch)
        try:
            res = _ctip(case.stage, "--params", str(params))
        finally:
            if lock is not None:
                lock.release()
    assert case.error is not None
    assert isinstance(res.exception, SystemExit), res.exception  # no uncaught exception
    assert res.exit_code == case.error.exit_code, res.output
    assert "ctip: error: " in res.stderr, res.stderr  # after any progress lines
    err = res.stderr[res.stderr.index("ctip: error: ") :]
    assert "Traceback" not in res.output
    for text in case.names:
        assert text in err, (text, err)
    after = {layer: tree_hashes(tmp_path / layer) for layer in ("interim", "processed")}
    started = case.error not in (ParamsError, BusyError)
    if (
        started and case.record_failed
    ):  # the failing stage's run record says so, and only it changed
        layer, rel = RUN_RECORD[case.stage].split("/", 1)
        assert after[layer].pop(rel) != before[layer].pop(rel)
        status = json.loads((tmp_path / RUN_RECORD[case.stage]).read_text("utf-8"))["status"]
        assert status == "failed"  # so the next stage refuses the previous outputs
    assert after == before  # every output as it was
    for layer in ("interim", "processed"):
        left = [p.name for p in (tmp_path / layer).rglob(".*") if p.name != LOCK_NAME]
        assert left == []  # no temporary file, backup or journal left behind
    _no_leak(res, tmp_path)


def _matches(issue: dict, expected: tuple[str, str, int, str]) -> bool:
    check, table, row, column = expected
    got_row = -1 if issue["row"] is None else int(issue["row"])
    return (issue["check"], issue["table"], got_row, issue["column"] or "") == (
        check,
        table,
        row,
        column,
    )


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "report"], ids=lambda c: c.id)
def test_data_quality_defect_is_reported_by_clean(case: Case, tmp_path: Path) -> None:
    params = _params(case, tmp_path)
    for stage in ("ingest", "clean"):
        res = _ctip(stage, "--params", str(params))
        assert res.exit_code == 0, res.output
        _no_leak(res, tmp_path)
    report = json.loads((tmp_path / "processed/quality/quality_report.json").read_text("utf-8"))
    assert case.issue is not None
    found = [i for i in report["issues"] if _matches(i, case.issue)]
    assert found, [i for i in report["issues"] if i["check"] == case.issue[0]]


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "accept"], ids=lambda c: c.id)
def test_input_is_read_as_written(case: Case, tmp_path: Path) -> None:
    params = _params(case, tmp_path)
    res = _ctip("ingest", "--params", str(params))
    assert res.exit_code == 0, res.output
    assert case.expect is not None
    case.expect(tmp_path)
    _no_leak(res, tmp_path)
