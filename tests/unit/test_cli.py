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


def test_brief_lang_option_sets_the_languages_of_one_run(monkeypatch, repo_root: Path) -> None:
    import ctip_research.stages.runner as runner_module

    seen: list[list[str]] = []
    monkeypatch.setattr(
        runner_module, "run_stage", lambda stage, params: seen.append(params.brief.languages)
    )
    params = str(repo_root / "params.yaml")
    for option, languages in (("km", ["km"]), ("en", ["en"]), ("both", ["en", "km"])):
        assert runner.invoke(app, ["brief", "--params", params, "--lang", option]).exit_code == 0
        assert seen[-1] == languages
    assert runner.invoke(app, ["brief", "--params", params]).exit_code == 0
    assert seen[-1] == yaml.safe_load((repo_root / "params.yaml").read_text())["brief"]["languages"]
    bad = runner.invoke(app, ["brief", "--params", params, "--lang", "fr"])
    assert bad.exit_code == 2 and "--lang" in bad.output
