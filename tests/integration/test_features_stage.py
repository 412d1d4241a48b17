"""``ctip features`` end to end on small canonical tables in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ctip_research.config import parse_params
from ctip_research.errors import InputFileError, SchemaError
from ctip_research.features import episode_table, household_wave_table, panel_table
from ctip_research.io import file_sha256, read_json, write_parquet
from ctip_research.schemas import validate_table
from ctip_research.stages.features import run_features
from features_factory import tables

OUTPUTS = (
    "household_wave.parquet",
    "episodes.parquet",
    "panel.parquet",
    "feature_dictionary.md",
    "feature_dictionary.csv",
    "features_metrics.json",
)


def _params(params_dict: dict, tmp_path: Path):
    params_dict["paths"] = {
        "raw": str(tmp_path / "raw"),
        "interim": str(tmp_path / "interim"),
        "processed": str(tmp_path / "processed"),
    }
    return parse_params(params_dict)


def _write_tables(tmp_path: Path) -> None:
    t = tables(
        households=[
            {"household_id": "a", "wave": 1, "cope_reduce_food": True, "cope_sold_land": True},
            {"household_id": "a", "wave": 2},
            {"household_id": "b", "wave": 1, "income_annual_usd": 0.0},
            {"household_id": "b", "wave": 2, "weight_household": 50.0},
        ],
        loans=[{"household_id": "a", "wave": 1}, {"household_id": "b", "wave": 1}],
        members=[{"household_id": "a", "wave": 2}],
        episodes=[
            {
                "household_id": "a",
                "wave": 2,
                "deceived_recruitment": True,
                "documents_withheld": True,
            }
        ],
    )
    for name, df in t.items():
        write_parquet(tmp_path / "processed" / "tables" / f"{name}.parquet", df)


def test_stage_writes_valid_outputs_deterministically(params_dict, tmp_path) -> None:
    params = _params(params_dict, tmp_path)
    _write_tables(tmp_path)
    run_features(params)
    out = tmp_path / "processed" / "analysis"
    first = {name: file_sha256(out / name) for name in OUTPUTS}
    p = params.features
    analysis = pd.read_parquet(out / "household_wave.parquet")
    validate_table(analysis, household_wave_table(p))
    validate_table(pd.read_parquet(out / "episodes.parquet"), episode_table(p))
    panel = pd.read_parquet(out / "panel.parquet")
    validate_table(panel, panel_table(p))
    assert len(analysis) == 4 and len(panel) == 2
    assert analysis["is_over_indebted"].tolist()[:1] == [True]
    assert pd.isna(analysis.loc[2, "debt_service_to_income_ratio"])  # zero income
    metrics = read_json(out / "features_metrics.json")
    assert metrics["rows"] == {"household_wave": 4, "episodes": 1, "panel": 2}
    assert metrics["weighted_share"]["wave1"]["has_mfi_loan"] == 1.0
    assert metrics["weighted_share_international_episodes"]["wave2"]["is_forced_labour"] == 1.0
    assert "includes remittances" in (out / "feature_dictionary.md").read_text()
    run_features(params)
    assert {name: file_sha256(out / name) for name in OUTPUTS} == first


def test_stage_without_canonical_tables_names_the_missing_file(params_dict, tmp_path) -> None:
    with pytest.raises(InputFileError, match="ctip clean"):
        run_features(_params(params_dict, tmp_path))


def test_special_code_leaked_as_number_fails_the_input_check(params_dict, tmp_path) -> None:
    params = _params(params_dict, tmp_path)
    _write_tables(tmp_path)
    path = tmp_path / "processed" / "tables" / "households.parquet"
    hh = pd.read_parquet(path)
    hh.loc[0, "income_annual_usd"] = -99.0  # 'refused' that was not turned into missing
    write_parquet(path, hh)
    with pytest.raises(SchemaError, match="income_annual_usd"):
        run_features(params)


def test_feature_missing_for_the_whole_survey_is_stated_once(params_dict, tmp_path, caplog) -> None:
    # a survey that asked no asset question: asset value, asset index and the debt-to-asset
    # ratio have no value at all; the stage says so once and writes the tables as usual
    params = _params(params_dict, tmp_path)
    _write_tables(tmp_path)
    path = tmp_path / "processed" / "tables" / "households.parquet"
    hh = pd.read_parquet(path)
    hh["asset_value_usd"] = pd.NA
    hh["asset_index"] = pd.NA
    write_parquet(path, hh)
    run_features(params)
    metrics = read_json(tmp_path / "processed" / "analysis" / "features_metrics.json")
    assert {"asset_value_usd", "asset_index", "debt_to_asset_ratio"} <= set(metrics["all_missing"])
    said = [
        r.getMessage() for r in caplog.records if "no value for any household" in r.getMessage()
    ]
    assert len(said) == 1 and "debt_to_asset_ratio" in said[0]
