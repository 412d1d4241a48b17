"""The ctip CLI: help texts, exit codes and one-paragraph errors."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from ctip_research.cli import app

runner = CliRunner()


def test_help_lists_every_stage() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for stage in (
        "synth",
        "ingest",
        "clean",
        "features",
        "fit",
        "risk",
        "report",
        "brief",
        "codebook",
        "monte-carlo",
    ):
        assert stage in result.output


def test_stage_help_says_what_it_reads_and_writes() -> None:
    result = runner.invoke(app, ["fit", "--help"])
    assert result.exit_code == 0
    assert "Reads:" in result.output and "Writes:" in result.output


def test_misspelt_key_exits_nonzero_and_names_key(params_dict, tmp_path: Path) -> None:
    params_dict["fit"]["modles"] = []
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(params_dict), encoding="utf-8")
    result = runner.invoke(app, ["fit", "--params", str(p)])
    assert result.exit_code == 2
    assert "fit.modles" in result.output
    assert "Traceback" not in result.output


def test_missing_params_file_exits_nonzero(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--params", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "not found" in result.output
