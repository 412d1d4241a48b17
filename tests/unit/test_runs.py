"""Run records: a stage refuses inputs from a failed, edited, mixed or older upstream run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctip_research.config.paths import PathsParams
from ctip_research.errors import StageOrderError
from ctip_research.io import read_json, write_text
from ctip_research.runs import read_run, require_upstream, run_dir, stage_run


def _paths(tmp_path: Path) -> PathsParams:
    return PathsParams(raw=tmp_path / "raw", interim=tmp_path / "interim", processed=tmp_path / "p")


def _run(stage: str, paths: PathsParams, content: str, upstream: dict | None = None) -> str:
    out = run_dir(stage, paths)
    with stage_run(stage, out) as run:
        run.read_from(upstream or {})
        return run.finish([write_text(out / "table.csv", content)])


def test_complete_run_records_its_files_and_a_deterministic_run_id(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    first = _run("ingest", paths, "a,b\n1,2\n")
    record = read_run(run_dir("ingest", paths))
    assert record is not None and record["status"] == "complete"
    assert list(record["files"]) == ["table.csv"]
    assert _run("ingest", paths, "a,b\n1,2\n") == first  # same outputs, same run id
    assert _run("ingest", paths, "a,b\n1,3\n") != first
    assert require_upstream("ingest", paths, consumer="clean") == read_run(run_dir("ingest", paths))


def test_consumer_refuses_outputs_of_a_failed_run_and_names_the_stage(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _run("ingest", paths, "a\n1\n")
    out = run_dir("ingest", paths)
    before = (out / "table.csv").read_bytes()
    with pytest.raises(ValueError), stage_run("ingest", out):
        raise ValueError("a codebook problem")
    assert (out / "table.csv").read_bytes() == before  # the previous outputs stay as they were
    assert read_run(out) == {"stage": "ingest", "status": "failed", "error": "ValueError"}
    with pytest.raises(StageOrderError, match=r"last `ctip ingest` failed.*before `ctip clean`"):
        require_upstream("ingest", paths, consumer="clean")


def test_first_run_that_fails_before_writing_leaves_nothing(tmp_path: Path) -> None:
    out = run_dir("ingest", _paths(tmp_path))
    with pytest.raises(KeyError), stage_run("ingest", out):
        raise KeyError("x")
    assert not out.exists()


def test_consumer_refuses_an_edited_or_mixed_output(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _run("ingest", paths, "a\n1\n")
    (run_dir("ingest", paths) / "table.csv").write_text("a\n2\n", encoding="utf-8")
    with pytest.raises(StageOrderError, match="differs from what the last `ctip ingest` wrote"):
        require_upstream("ingest", paths, consumer="clean")


def test_consumer_refuses_outputs_built_from_an_older_upstream_run(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _run("ingest", paths, "a\n1\n")
    _run("clean", paths, "c\n1\n", {"ingest": require_upstream("ingest", paths, consumer="clean")})
    assert require_upstream("clean", paths, consumer="features") is not None
    _run("ingest", paths, "a\n2\n")  # ingest ran again; clean did not
    with pytest.raises(StageOrderError, match="older `ctip ingest` run"):
        require_upstream("clean", paths, consumer="features")


def test_consumer_refuses_when_the_upstream_of_its_upstream_failed(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _run("ingest", paths, "a\n1\n")
    _run("clean", paths, "c\n1\n", {"ingest": read_run(run_dir("ingest", paths))})
    with pytest.raises(RuntimeError), stage_run("ingest", run_dir("ingest", paths)):
        raise RuntimeError
    with pytest.raises(StageOrderError, match="last `ctip ingest` failed"):
        require_upstream("clean", paths, consumer="features")


def test_outputs_without_a_record_are_accepted(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    write_text(run_dir("ingest", paths) / "table.csv", "a\n1\n")  # written by hand
    assert require_upstream("ingest", paths, consumer="clean") is None


def test_cli_clean_after_a_failed_ingest_refuses_with_exit_code(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ctip_research.cli import app

    paths = _paths(tmp_path)
    _run("ingest", paths, "a\n1\n")
    with pytest.raises(OSError), stage_run("ingest", run_dir("ingest", paths)):
        raise OSError
    repo = Path(__file__).resolve().parents[2]
    import yaml

    data = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    data["paths"] = {k: str(v) for k, v in paths.model_dump().items()}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = CliRunner().invoke(app, ["clean", "--params", str(params)])
    assert res.exit_code == StageOrderError.exit_code, res.output
    assert "ctip: error: the last `ctip ingest` failed" in res.output
    assert "Traceback" not in res.output
    assert read_json(run_dir("ingest", paths) / "run.json")["status"] == "failed"
