"""The programme sample comes from the data; a model that drops treated households says so; a survey
without treated households is a normal result."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ctip_research.config import parse_params
from ctip_research.config.fit import ModelSpec
from ctip_research.io import read_json, write_parquet
from ctip_research.models.simulate import simulate_households, to_panel
from ctip_research.stages.fit import programme_sample, treated_coverage

REPO = Path(__file__).resolve().parents[2]


def _did(sample: str | None = None) -> ModelSpec:
    return ModelSpec(
        name="programme_did",
        kind="did",
        label="DiD",
        outcome="y",
        exposure="t",
        controls=[],
        fixed_effects=[],
        cluster=None,
        weights=None,
        wave=None,
        sample=sample,
        instruments=[],
        link=None,
        headline=False,
    )


PANEL = pd.DataFrame(
    {
        "prov": [6, 6, 6, 20, 20, 21, 21, 21],
        "urban": [False, False, True, False, True, False, False, True],
        "t": [True, False, False, True, False, False, False, False],
        "y_w1": [1, 0, 0, 1, 0, 0, 1, None],
        "y_w2": [0, 0, 1, 1, 0, 1, None, 0],
    }
)


def test_programme_areas_are_the_cells_with_a_treated_household() -> None:
    sample, cells = programme_sample(PANEL, treatment="t", areas=["prov", "urban"])
    assert cells == [{"prov": 6, "urban": False}, {"prov": 20, "urban": False}]
    assert sample.index.tolist() == [0, 1, 3]  # no province list anywhere
    everyone, none = programme_sample(PANEL, treatment="t", areas=[])
    assert len(everyone) == len(PANEL) and none == []


def test_a_model_that_drops_treated_households_says_so() -> None:
    sample, _ = programme_sample(PANEL, treatment="t", areas=["prov"])
    kept = treated_coverage(PANEL, sample, _did(), treatment="t", min_cell=1)
    assert kept["all_treated_in_sample"] is True
    assert kept["note"] == "programme_did: all 2 treated households are in the estimation sample."
    dropped = treated_coverage(PANEL, sample, _did("prov != 20"), treatment="t", min_cell=1)
    assert dropped["all_treated_in_sample"] is False
    assert dropped["note"].startswith(
        "programme_did: 1 of 2 treated households are not in the estimation sample "
        "(1 excluded by its sample restriction `prov != 20`)"
    )
    # counts below the minimum cell size are not printed exactly
    small = treated_coverage(PANEL, sample, _did("prov != 20"), treatment="t", min_cell=10)
    assert "fewer than 10 of fewer than 10 treated households" in small["note"]


@pytest.fixture(scope="module")
def small_fit(tmp_path_factory):
    """``ctip fit`` on a simulated survey, with the treated households of two provinces kept
    out by one model's sample and, in a second run, no treated household at all."""
    tmp = tmp_path_factory.mktemp("programme")
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    data["paths"] = {k: str(tmp / k) for k in ("raw", "interim", "processed")}
    fit = data["fit"]
    fit["design"]["fpc"] = None
    keep = {"fe_village", "programme_did", "programme_adjusted"}
    fit["models"] = [m for m in fit["models"] if m["name"] in keep]
    for m in fit["models"]:
        m["controls"] = [c for c in m["controls"] if not c.startswith("income_annual")]
    fit["models"][1]["sample"] = "province_code != 1"  # programme_did
    assert fit["models"][1]["name"] == "programme_did"
    fit["programme"]["balance_covariates"] = ["has_international_migrant_w1"]
    fit["descriptive"]["indicators"] = ["has_mfi_loan"]
    fit["robustness"].update(bootstrap_reps=99, exposures=["has_mfi_loan"])
    fit["robustness"]["outcomes"] = ["has_international_migrant"]
    fit["wild_bootstrap"]["comparisons"] = []
    fit["validation"]["naive_model"] = "fe_village"
    fit["validation"]["estimands"] = {m: "estimands.x" for m in keep}
    params = parse_params(data)
    hw = simulate_households(n_villages=80, households_per_village=10, seed=7)
    hw["n_psu_stratum"] = 1000
    return tmp, params, hw


def test_fit_reports_treated_households_left_out_and_keeps_all_in_the_others(
    small_fit, caplog
) -> None:
    from ctip_research.stages.fit import run_fit

    tmp, params, hw = small_fit
    write_parquet(tmp / "processed/analysis/household_wave.parquet", hw)
    write_parquet(tmp / "processed/analysis/panel.parquet", to_panel(hw))
    with caplog.at_level(logging.WARNING):
        run_fit(params)
    prog = read_json(tmp / "processed/models/programme.json")
    assert prog["coverage"]["programme_adjusted"]["all_treated_in_sample"] is True
    did = prog["coverage"]["programme_did"]
    assert did["all_treated_in_sample"] is False
    assert "excluded by its sample restriction `province_code != 1`" in did["note"]
    assert did["note"] in prog["notes"]
    assert any(
        "treated households are not in the estimation sample" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
    )
    assert {c["province_code"] for c in prog["area_cells"]} <= set(hw["province_code"])


def test_survey_without_treated_households_is_a_normal_result(small_fit, caplog) -> None:
    from ctip_research.stages.fit import run_fit

    tmp, params, hw = small_fit
    hw = hw.assign(received_livelihood_grant=False)
    write_parquet(tmp / "processed/analysis/household_wave.parquet", hw)
    write_parquet(tmp / "processed/analysis/panel.parquet", to_panel(hw))
    with caplog.at_level(logging.WARNING):
        run_fit(params)
    out = tmp / "processed/models"
    prog = read_json(out / "programme.json")
    sentence = (
        "No household received the programme (received_livelihood_grant_w2 is never true), so "
        "the programme models, the balance table and the mean reversion are not estimated."
    )
    assert prog["notes"] == [sentence]
    assert pd.read_csv(out / "balance.csv").empty
    metrics = read_json(out / "metrics.json")
    assert metrics["not_estimated"] == ["programme_did", "programme_adjusted"]
    assert "fe_village" in metrics["headline"]  # the other models are fitted as usual
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [f"fit: {sentence}"]  # one sentence, not a storm
    # the figures then say which models are missing and why, before drawing anything
    from ctip_research.errors import InputFileError
    from ctip_research.stages.figures import _require_estimated

    with pytest.raises(InputFileError, match="programme_did: not estimated; programme_adjusted"):
        _require_estimated(params, pd.read_csv(out / "estimates.csv"), tmp / "processed")
