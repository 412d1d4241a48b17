"""``ctip risk`` end to end on a simulated panel: outputs, disclosure control, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from risk_factory import simulate_panel

from ctip_research.config import Params
from ctip_research.config.paths import PathsParams
from ctip_research.config.privacy import PrivacyParams
from ctip_research.config.risk import RiskParams
from ctip_research.errors import InputFileError
from ctip_research.io import write_parquet
from ctip_research.stages.risk import run_risk, targeting_grid

OUTPUTS = (
    "metrics.json",
    "subgroup_metrics.csv",
    "reliability.csv",
    "reliability_by_subgroup.csv",
    "targeting.csv",
    "targeting_by_subgroup.csv",
    "importance.csv",
    "model_card.md",
    "disclosure.json",
)


def _params(root: Path, repo_root: Path, **risk_overrides) -> Params:
    """The repository's risk and privacy sections, pointed at ``root`` and at the simulated panel.

    Only the sections the stage reads are built (other sections are owned and validated elsewhere).
    """
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    risk = {
        **raw["risk"],
        "features": [
            "has_mfi_loan_w1",
            "total_debt_usd_w1",
            "debt_service_to_income_ratio_w1",
            "has_migrant_w1",
            "household_size_w1",
            "is_urban",
        ],
        "log_features": ["total_debt_usd_w1"],
        "n_bootstrap": 40,
        "n_permutation_repeats": 2,
        "gradient_boosting": {**raw["risk"]["gradient_boosting"], "max_iter": 20},
        **risk_overrides,
    }
    return Params.model_construct(
        paths=PathsParams(raw=root / "raw", interim=root / "interim", processed=root / "processed"),
        privacy=PrivacyParams.model_validate(raw["privacy"]),
        risk=RiskParams.model_validate(risk),
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, repo_root) -> tuple[Path, Params]:
    root = tmp_path_factory.mktemp("risk")
    write_parquet(
        root / "processed" / "analysis" / "panel.parquet", simulate_panel(seed=4, n_tiny_group=6)
    )
    params = _params(root, repo_root)
    run_risk(params)
    return root, params


def test_risk_stage_writes_every_output_and_saves_the_model_unpublished(run_dir) -> None:
    root, _ = run_dir
    for name in OUTPUTS:
        assert (root / "processed" / "risk" / name).is_file(), name
    assert (root / "interim" / "risk" / "model.joblib").is_file()
    assert not list((root / "processed").rglob("*.joblib"))


def test_risk_outputs_hold_no_individual_scores(run_dir) -> None:
    root, _ = run_dir
    n_households = len(pd.read_parquet(root / "processed" / "analysis" / "panel.parquet"))
    n_cells = 1 + 8 + 3  # overall, provinces, female head True/False/missing
    for path in (root / "processed" / "risk").glob("*.csv"):
        frame = pd.read_csv(path)
        assert not [c for c in frame.columns if "household_id" in c or "score" in c], path.name
        # rows are cells x (curve points or features), not households
        assert len(frame) <= n_cells * 21 < n_households, path.name
    text = (root / "processed" / "risk" / "metrics.json").read_text()
    assert "h0000" not in text


def test_metrics_json_has_headline_metrics_with_intervals_and_suppression(run_dir) -> None:
    root, params = run_dir
    metrics = json.loads((root / "processed" / "risk" / "metrics.json").read_text())
    overall = metrics["overall"]
    for key in ("roc_auc", "roc_auc_low", "roc_auc_high", "brier", "top_share_reached"):
        assert isinstance(overall[key], float)
    assert 0.5 < overall["roc_auc"] < 1
    assert set(metrics["comparison"]) == {"gradient_boosting"}
    assert set(metrics["by_subgroup"]["head_is_female_w1"]["missing"]) == {"suppressed"}
    assert len(metrics["by_subgroup"]["province_code"]) == 8
    disclosure = json.loads((root / "processed" / "risk" / "disclosure.json").read_text())
    cells = next(p for p in disclosure["parts"] if p["artefact"] == "risk: subgroup cells")
    assert disclosure["passed"] and cells["n_suppressed"] >= 1
    # the record vouches for every file the stage publishes, and prints the override reason
    published = {p.name for p in (root / "processed" / "risk").iterdir()} - {"disclosure.json"}
    assert set(disclosure["files"]) == published and disclosure["override_reason"] is None


def test_model_card_states_intended_use_and_shows_suppressed_cells(run_dir) -> None:
    root, _ = run_dir
    card = (root / "processed" / "risk" / "model_card.md").read_text()
    assert "## Intended use" in card and "No individual scores are published" in card
    assert "| `head_is_female_w1` | missing | suppressed |" in card
    assert "Banteay Meanchey (01)" in card
    assert "## Limits" in card and "gradient_boosting" in card
    # the card's numbers are the metrics', not typed by hand
    overall = json.loads((root / "processed" / "risk" / "metrics.json").read_text())["overall"]
    assert f"| ROC-AUC | {overall['roc_auc']:.3f} ({overall['roc_auc_low']:.3f}–" in card


def test_dvc_plot_files_have_the_declared_columns(run_dir) -> None:
    root, _ = run_dir
    tgt = pd.read_csv(root / "processed" / "risk" / "targeting.csv")
    rel = pd.read_csv(root / "processed" / "risk" / "reliability.csv")
    assert {
        "share_served",
        "share_reached",
        "share_reached_random",
        "share_reached_perfect",
        "conf_low",
        "conf_high",
    } <= set(tgt)
    assert {"mean_predicted", "observed_rate"} <= set(rel)
    assert tgt["share_served"].tolist() == targeting_grid(0.05, 0.2)
    # the village-bootstrap band: blank exactly where a point is suppressed
    shown = ~tgt["is_suppressed"]
    assert tgt.loc[shown, ["conf_low", "conf_high"]].notna().all(axis=None)
    assert tgt.loc[~shown, ["conf_low", "conf_high"]].isna().all(axis=None)
    assert (tgt.loc[shown, "conf_low"] <= tgt.loc[shown, "share_reached"]).all()
    assert (tgt.loc[shown, "share_reached"] <= tgt.loc[shown, "conf_high"]).all()


@pytest.mark.slow
def test_same_seed_gives_byte_identical_outputs(run_dir, tmp_path, repo_root) -> None:
    root, _ = run_dir
    write_parquet(
        tmp_path / "processed" / "analysis" / "panel.parquet",
        simulate_panel(seed=4, n_tiny_group=6),
    )
    run_risk(_params(tmp_path, repo_root))
    for name in OUTPUTS:
        a = (root / "processed" / "risk" / name).read_bytes()
        b = (tmp_path / "processed" / "risk" / name).read_bytes()
        assert a == b, name


def test_missing_panel_column_is_an_input_error(tmp_path, repo_root) -> None:
    panel = simulate_panel(seed=4).drop(columns=["household_size_w1"])
    write_parquet(tmp_path / "processed" / "analysis" / "panel.parquet", panel)
    with pytest.raises(InputFileError, match="household_size_w1"):
        run_risk(_params(tmp_path, repo_root))


def test_targeting_grid_includes_the_headline_share() -> None:
    assert targeting_grid(0.25, 0.2) == [0.2, 0.25, 0.5, 0.75, 1.0]


def test_feature_missing_for_the_whole_survey_is_left_out_with_one_sentence(
    tmp_path, repo_root, caplog
) -> None:
    # a survey without asset values: the feature is all missing; one warning and a line in the
    # model card, not one imputer warning per fold and bootstrap draw
    import warnings

    panel = simulate_panel(seed=5)
    panel["asset_index_w1"] = float("nan")
    write_parquet(tmp_path / "processed" / "analysis" / "panel.parquet", panel)
    base = _params(tmp_path, repo_root)
    params = _params(
        tmp_path, repo_root, features=[*base.risk.features, "asset_index_w1"], n_bootstrap=20
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning (sklearn's imputer's included) fails
        run_risk(params)
    out = tmp_path / "processed" / "risk"
    assert json.loads((out / "metrics.json").read_text())["features_left_out"] == ["asset_index_w1"]
    card = (out / "model_card.md").read_text(encoding="utf-8")
    assert "Left out because no household of this survey has a value: asset_index_w1." in card
    assert "synthetic" not in card  # no data identity: the card names no synthetic survey
    left = [r for r in caplog.records if "left out of the model" in r.getMessage()]
    assert len(left) == 1
