"""The source registry in dvc.yaml (``ctip sources sync``): every registered file a DVC dependency."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ctip_research.cli import app
from ctip_research.config import parse_params
from ctip_research.errors import PipelineError
from ctip_research.stages.sources import (
    SYNTH_STAGE_YAML,
    check_dvc_yaml,
    planned_dependencies,
    sync_dvc_yaml,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "tests" / "data" / "example_survey"


def _project(tmp_path: Path, params_dict: dict, *, example: bool) -> Path:
    """A project directory: the repository's dvc.yaml, params.yaml, and the example survey."""
    shutil.copy(REPO / "dvc.yaml", tmp_path / "dvc.yaml")
    if example:
        shutil.copytree(EXAMPLE, tmp_path / "data" / "raw" / "example")
        params_dict["ingest"]["sources"] = [
            "data/raw/example/wave1_csv.codebook.yaml",
            "data/raw/example/wave2_dta.codebook.yaml",
        ]
        params_dict["clean"]["corrections_file"] = "data/raw/example/corrections.csv"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict), encoding="utf-8")
    return tmp_path


def test_committed_dvc_yaml_lists_the_registered_sources(params) -> None:
    # the repository's dvc.yaml is in step with params.yaml (the synthetic default)
    assert sync_dvc_yaml(params, REPO / "dvc.yaml", write=False) == []
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    # the synth stage is exactly the template the registry inserts (so removing and adding it
    # again gives the same file)
    assert stages["synth"] == yaml.safe_load(SYNTH_STAGE_YAML)["stages"]["synth"]


def test_every_raw_file_of_every_codebook_becomes_an_ingest_dependency(
    tmp_path: Path, params_dict
) -> None:
    root = _project(tmp_path, params_dict, example=True)
    params = parse_params(params_dict)
    planned = planned_dependencies(params, root=root)
    raw = sorted(
        p.relative_to(root).as_posix()
        for p in (root / "data/raw/example").rglob("*")
        if p.suffix in (".csv", ".dta") and p.name != "corrections.csv"
    )
    assert sorted(planned["ingest"]) == sorted(
        [
            *raw,
            "data/raw/example/wave1_csv.codebook.yaml",
            "data/raw/example/wave2_dta.codebook.yaml",
        ]
    )
    assert planned["clean"] == ["data/raw/example/corrections.csv"]
    assert planned["validate"] == []  # no synthetic survey: no ground truth to depend on


def test_sync_rewrites_only_the_data_dependencies_and_round_trips(
    tmp_path: Path, params_dict
) -> None:
    original = (REPO / "dvc.yaml").read_text(encoding="utf-8")
    synthetic = parse_params(dict(params_dict))
    root = _project(tmp_path, params_dict, example=True)
    params = parse_params(params_dict)
    changes = sync_dvc_yaml(params, root / "dvc.yaml")
    assert "synth: stage removed (no registered source needs it)" in changes
    stages = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    assert "synth" not in stages
    assert "data/raw/example/wave2/hh.dta" in stages["ingest"]["deps"]
    assert "data/raw/synthetic" not in stages["ingest"]["deps"]
    assert stages["ingest"]["deps"][0] == "src/ctip_research/ingest"  # code deps kept, in order
    assert stages["clean"]["deps"][-1] == "data/raw/example/corrections.csv"
    assert "data/interim/ingested" in stages["clean"]["deps"]
    assert not any("truth.json" in d for d in stages["validate"]["deps"])
    assert sync_dvc_yaml(params, root / "dvc.yaml") == []  # idempotent
    # back to the synthetic default: byte for byte the committed file, comments included
    assert sync_dvc_yaml(synthetic, root / "dvc.yaml")
    assert (root / "dvc.yaml").read_text(encoding="utf-8") == original


def test_cli_ingest_refuses_while_dvc_yaml_is_out_of_step(tmp_path: Path, params_dict) -> None:
    root = _project(tmp_path, params_dict, example=True)
    res = CliRunner().invoke(app, ["ingest", "--params", str(root / "params.yaml")])
    assert res.exit_code == PipelineError.exit_code, res.output
    assert "does not list the registered data sources" in res.output
    assert "ctip sources sync" in res.output and "Traceback" not in res.output
    check = CliRunner().invoke(app, ["sources", "sync", "--check", "-p", str(root / "params.yaml")])
    assert check.exit_code == 1 and "would change" in check.output
    done = CliRunner().invoke(app, ["sources", "sync", "-p", str(root / "params.yaml")])
    assert done.exit_code == 0 and "updated" in done.output
    check_dvc_yaml(parse_params(params_dict), root / "dvc.yaml")  # now in step
    listed = CliRunner().invoke(app, ["sources", "list", "-p", str(root / "params.yaml")])
    assert "raw file: data/raw/example/wave1/loans.csv" in listed.output
    assert "corrections log: data/raw/example/corrections.csv" in listed.output


def test_sync_names_a_missing_stage(tmp_path: Path, params) -> None:
    (tmp_path / "dvc.yaml").write_text("stages:\n  clean:\n    cmd: x\n    deps: []\n")
    with pytest.raises(PipelineError, match="no `ingest` stage"):
        sync_dvc_yaml(params, tmp_path / "dvc.yaml")


def test_monte_carlo_depends_on_every_analysis_choice_but_not_on_the_sources() -> None:
    """The study reruns when an ingest or clean rule changes, not when a researcher registers
    their own survey (a draw writes and reads its own synthetic files at the generator's
    exchange rates: draw_params)."""
    from ctip_research.config.clean import CleanParams
    from ctip_research.config.ingest import IngestParams

    stage = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]["monte_carlo"]
    listed = set(stage["params"])
    placing = {"ingest.sources", "ingest.exchange_rates", "clean.corrections_file"}
    wanted = {f"ingest.{k}" for k in IngestParams.model_fields} | {
        f"clean.{k}" for k in CleanParams.model_fields
    }
    assert wanted - placing <= listed
    assert not placing & listed and not {"ingest", "clean"} & listed
