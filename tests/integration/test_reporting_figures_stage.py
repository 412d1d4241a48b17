"""The figures stage end to end on small synthetic inputs written to a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from reporting_factory import REPO_PARAMS, make_params, write_inputs

from ctip_research.errors import DisclosureError, InputFileError
from ctip_research.io import file_sha256
from ctip_research.stages.figures import FIGURE_NAMES, run_figures


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("figures")
    write_inputs(root)
    run_figures(make_params(REPO_PARAMS(), root))
    return root


@pytest.mark.slow
def test_figures_stage_writes_every_figure_with_its_check_record(built: Path) -> None:
    out = built / "processed" / "figures"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [f["name"] for f in manifest["figures"]] == list(FIGURE_NAMES)
    for name in FIGURE_NAMES:
        for suffix in (".png", ".svg", ".caption.md", ".alt.txt", ".data.csv", ".disclosure.json"):
            assert (out / f"{name}{suffix}").stat().st_size > 0
        assert json.loads((out / f"{name}.disclosure.json").read_text())["passed"]
        data = pd.read_csv(out / f"{name}.data.csv")
        assert "household_id" not in data.columns
    svg = (out / "effect_estimates.svg").read_text()
    assert "<dc:date>" not in svg


@pytest.mark.slow
def test_figures_stage_is_byte_identical_when_run_twice(built: Path) -> None:
    out = built / "processed" / "figures"
    first = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    run_figures(make_params(REPO_PARAMS(), built))
    second = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert first == second


def test_a_model_the_fit_stage_suppressed_is_shown_as_suppressed(
    tmp_path: Path, params_dict: dict
) -> None:
    write_inputs(tmp_path, n_obs=8)  # every model under the residual-df rule: fit suppressed them
    run_figures(make_params(params_dict, tmp_path))
    out = tmp_path / "processed" / "figures"
    data = pd.read_csv(out / "effect_estimates.data.csv")
    assert (data["status"] == "suppressed").all() and data["estimate"].isna().all()
    assert "suppressed (disclosure control)" in (out / "effect_estimates.caption.md").read_text()


def test_figures_stage_fails_and_writes_nothing_when_a_published_regression_is_too_small(
    tmp_path: Path, params_dict: dict
) -> None:
    write_inputs(tmp_path)
    est_path = tmp_path / "processed" / "models" / "estimates.csv"
    est = pd.read_csv(est_path)
    est["n_obs"] = 8  # a table that claims to be published but breaks the rule
    est.to_csv(est_path, index=False)
    with pytest.raises(DisclosureError, match="changed after it was checked"):
        run_figures(make_params(params_dict, tmp_path))
    # even with a record that vouches for the changed file, the figure's own check refuses it
    record_path = est_path.with_name("estimates.disclosure.json")
    record = json.loads(record_path.read_text())
    record["files"]["estimates.csv"] = file_sha256(est_path)
    record_path.write_text(json.dumps(record))
    with pytest.raises(DisclosureError, match="effect_estimates"):
        run_figures(make_params(params_dict, tmp_path))
    assert not (tmp_path / "processed" / "figures").exists()


def test_figures_stage_names_the_missing_input(tmp_path: Path, params_dict: dict) -> None:
    params = make_params(params_dict, tmp_path)
    with pytest.raises(InputFileError, match="ctip features"):
        run_figures(params)
