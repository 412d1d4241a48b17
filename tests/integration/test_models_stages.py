"""``ctip fit`` and ``ctip validate`` end to end on simulated analysis tables with a known truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ctip_research.config import parse_params
from ctip_research.io import file_sha256, read_json, write_json, write_parquet
from ctip_research.models.results import ESTIMATE_COLUMNS
from ctip_research.models.simulate import simulate_households, to_panel
from ctip_research.stages.fit import PUBLISHED_ESTIMATE_COLUMNS, WILD_BOOTSTRAP_COLUMNS

pytestmark = pytest.mark.slow

TRUE_MFI, TRUE_PROGRAMME = 0.09, -0.08  # simulate_households defaults
FINGERPRINT = "f" * 64  # of the raw files the truth describes (here: none; a stand-in)


def _params(params_dict: dict, tmp: Path):
    params_dict["paths"] = {
        "raw": str(tmp / "raw"),
        "interim": str(tmp / "interim"),
        "processed": str(tmp / "processed"),
    }
    fit = params_dict["fit"]
    fit["design"]["fpc"] = None
    keep = {
        "naive_ols",
        "survey_logit",
        "fe_village",
        "iv_branches",
        "panel_fe",
        "programme_did",
        "programme_adjusted",
    }
    fit["models"] = [m for m in fit["models"] if m["name"] in keep]
    for m in fit["models"]:  # the simulator has no income column
        m["controls"] = [c for c in m["controls"] if not c.startswith("income_annual")]
    fit["programme"]["balance_covariates"] = [
        c for c in fit["programme"]["balance_covariates"] if c.startswith(("has_", "is_"))
    ]
    fit["descriptive"]["indicators"] = ["has_mfi_loan", "has_international_migrant"]
    fit["robustness"]["bootstrap_reps"] = 199
    fit["wild_bootstrap"]["reps"] = 999
    fit["wild_bootstrap"]["comparisons"] = [
        c for c in fit["wild_bootstrap"]["comparisons"] if c["model"] in keep
    ]
    fit["robustness"]["exposures"] = ["has_mfi_loan", "is_over_indebted"]
    fit["robustness"]["outcomes"] = ["has_international_migrant", "has_risky_migration"]
    fit["validation"]["estimands"] = {
        "naive_ols": "estimands.mfi.ate",
        "fe_village": "estimands.mfi.ate",
        "panel_fe": "estimands.mfi.ate",
        "programme_adjusted": "estimands.programme.att",
    }
    return parse_params(params_dict)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, request):
    import yaml

    from ctip_research.stages.fit import run_fit
    from ctip_research.stages.validate import run_validate

    repo = Path(__file__).resolve().parents[2]
    tmp = tmp_path_factory.mktemp("models")
    params = _params(yaml.safe_load((repo / "params.yaml").read_text()), tmp)
    hw = simulate_households(n_villages=160, households_per_village=12, seed=31)
    hw["n_psu_stratum"] = 1000
    write_parquet(tmp / "processed/analysis/household_wave.parquet", hw)
    write_parquet(tmp / "processed/analysis/panel.parquet", to_panel(hw))
    # the truth describes the raw files whose fingerprint the ingest ledger records
    write_json(
        tmp / "raw/synthetic/truth.json",
        {
            "estimands": {"mfi": {"ate": TRUE_MFI}, "programme": {"att": TRUE_PROGRAMME}},
            "raw_fingerprint": FINGERPRINT,
        },
    )
    write_json(
        tmp / "interim/ingested/ingest_ledger.json",
        {"synthetic": True, "sources": [], "raw_fingerprint": FINGERPRINT},
    )
    run_fit(params)
    run_validate(params)
    return params, tmp / "processed"


def test_fit_writes_contract_outputs(fitted) -> None:
    _, out = fitted
    est = pd.read_csv(out / "models/estimates.csv")
    assert est.columns.tolist() == PUBLISHED_ESTIMATE_COLUMNS
    assert est.columns.tolist()[: len(ESTIMATE_COLUMNS)] == ESTIMATE_COLUMNS
    head = est[(est["model"] == "panel_fe") & (est["term"] == "has_mfi_loan")].iloc[0]
    assert (head["estimand"], head["conf_level"]) == ("within_household", 0.95)
    assert set(est.loc[est["model"] == "descriptive", "estimand"]) == {"population_mean"}
    records = sorted(p.name for p in (out / "models").rglob("*.disclosure.json"))
    assert "estimates.disclosure.json" in records and "main.disclosure.json" in records
    assert {"naive_ols", "panel_fe", "descriptive"} <= set(est["model"])
    for name in ("main", "programme", "robustness_has_mfi_loan"):
        for fmt in ("md", "html", "tex", "docx"):
            assert (out / "models/tables" / f"{name}.{fmt}").stat().st_size > 0
    metrics = read_json(out / "models/metrics.json")
    assert set(metrics["headline"]) >= {"naive_ols", "iv_branches", "panel_fe"}
    rob = pd.read_csv(out / "models/robustness.csv")
    assert {"p_value", "p_bh", "p_holm", "p_romano_wolf"} <= set(rob.columns)
    assert "conclusion" in read_json(out / "models/programme.json")
    wild = pd.read_csv(out / "models/wild_bootstrap.csv")
    assert wild.columns.tolist() == WILD_BOOTSTRAP_COLUMNS
    assert set(wild["model"]) == {"naive_ols", "fe_village"}
    assert wild["p_value_wild"].between(0, 1).all()
    assert (wild["conf_low"] < wild["estimate"]).all() and (
        wild["estimate"] < wild["conf_high"]
    ).all()
    by_province = wild.loc[wild["cluster"] == "province_code"].iloc[0]
    assert by_province["n_clusters"] == 8
    naive = est.loc[(est["model"] == "naive_ols") & (est["term"] == "has_mfi_loan")].iloc[0]
    assert by_province["estimate"] == pytest.approx(naive["estimate"], abs=1e-9)


def test_fit_is_deterministic(fitted) -> None:
    from ctip_research.stages.fit import run_fit

    params, out = fitted
    files = sorted(p for p in (out / "models").rglob("*") if p.is_file())
    before = {p: file_sha256(p) for p in files}
    run_fit(params)
    assert {p: file_sha256(p) for p in files} == before


def test_validate_shows_panel_recovers_truth(fitted) -> None:
    _, out = fitted
    val = pd.read_csv(out / "validation/validation.csv").set_index("model")
    assert bool(val.loc["panel_fe", "covers_truth"])
    assert val.loc["naive_ols", "estimate"] > TRUE_MFI
    assert "panel_fe" in read_json(out / "validation/metrics.json")["recovering"]
    assert (out / "validation/validation.md").read_text().startswith("# Estimates")
    assert read_json(out / "validation/metrics.json")["applicable"] is True


def test_validate_on_real_data_compares_nothing(fitted, tmp_path) -> None:
    # a real survey (a codebook without synthetic: true): the synthetic survey's truth.json,
    # which the synth stage still writes, must never be set beside real estimates
    from ctip_research.stages.figures import _read_truth
    from ctip_research.stages.validate import run_validate

    params, out = fitted
    real = params.model_copy(
        update={
            "paths": params.paths.model_copy(
                update={"interim": tmp_path / "interim", "processed": tmp_path / "processed"}
            )
        }
    )
    write_json(tmp_path / "interim/ingested/ingest_ledger.json", {"synthetic": False})
    (tmp_path / "processed/models").mkdir(parents=True)
    (tmp_path / "processed/models/estimates.csv").write_bytes(
        (out / "models/estimates.csv").read_bytes()
    )
    assert (params.paths.raw / params.fit.validation.truth_file).exists()
    run_validate(real)
    val = pd.read_csv(tmp_path / "processed/validation/validation.csv")
    assert val.empty and "covers_truth" in val.columns
    assert read_json(tmp_path / "processed/validation/metrics.json")["applicable"] is False
    assert "Not applicable" in (tmp_path / "processed/validation/validation.md").read_text()
    assert _read_truth(real, tmp_path / "processed") == (None, None)
    assert _read_truth(params, out)[0]  # the synthetic run's figures do get the truth


def test_validate_skips_a_truth_of_other_raw_files(fitted, tmp_path) -> None:
    # someone else's simulated survey (synthetic: true), or the package's survey after its raw
    # files changed: truth.json does not describe the ingested files, so nothing is compared
    from ctip_research.stages.validate import run_validate

    params, out = fitted
    other = params.model_copy(
        update={
            "paths": params.paths.model_copy(
                update={"interim": tmp_path / "interim", "processed": tmp_path / "processed"}
            )
        }
    )
    write_json(
        tmp_path / "interim/ingested/ingest_ledger.json",
        {"synthetic": True, "sources": [], "raw_fingerprint": "0" * 64},
    )
    (tmp_path / "processed/models").mkdir(parents=True)
    (tmp_path / "processed/models/estimates.csv").write_bytes(
        (out / "models/estimates.csv").read_bytes()
    )
    run_validate(other)
    assert pd.read_csv(tmp_path / "processed/validation/validation.csv").empty
    metrics = read_json(tmp_path / "processed/validation/metrics.json")
    assert metrics == {"applicable": False, "reason": "the ground truth describes other raw files"}
    text = (tmp_path / "processed/validation/validation.md").read_text()
    assert "describes other raw files" in text and "ffffffffffff" in text


def test_regression_with_too_few_residual_df_is_suppressed(params_dict, tmp_path) -> None:
    from ctip_research.stages.fit import run_fit

    params_dict["privacy"]["min_residual_df"] = 10_000
    params = _params(params_dict, tmp_path)
    hw = simulate_households(n_villages=40, households_per_village=8, seed=2)
    write_parquet(tmp_path / "processed/analysis/household_wave.parquet", hw)
    write_parquet(tmp_path / "processed/analysis/panel.parquet", to_panel(hw))
    run_fit(params)
    est = pd.read_csv(tmp_path / "processed/models/estimates.csv")
    regressions = est[est["model"] != "descriptive"]
    # every model is kept, marked suppressed, with every number blanked
    assert (regressions["status"] == "suppressed").all()
    assert all("residual_df" in r for r in regressions["suppression_reason"])
    assert regressions[["estimate", "std_error", "conf_low", "n_obs"]].isna().all(axis=None)
    assert "naive_ols" in read_json(tmp_path / "processed/models/metrics.json")["suppressed"]
    assert not (tmp_path / "processed/models/tables/main.md").exists()


def test_validate_compares_a_suppressed_model_as_missing(fitted, tmp_path) -> None:
    from ctip_research.stages._publish import write_record
    from ctip_research.stages.validate import run_validate

    params, out = fitted
    moved = params.model_copy(
        update={"paths": params.paths.model_copy(update={"processed": tmp_path / "processed"})}
    )
    models = tmp_path / "processed/models"
    models.mkdir(parents=True)
    est = pd.read_csv(out / "models/estimates.csv")
    naive = est["model"] == "naive_ols"
    numbers = ["estimate", "std_error", "conf_low", "conf_high", "p_value", "n_obs", "n_psu"]
    est.loc[naive, numbers + ["df_resid"]] = float("nan")
    est.loc[naive, ["status", "suppression_reason"]] = ["suppressed", "residual_df"]
    est.to_csv(models / "estimates.csv", index=False)
    record = read_json(out / "models/estimates.disclosure.json")
    write_record(models, "estimates", record, [models / "estimates.csv"])
    run_validate(moved)
    val = pd.read_csv(tmp_path / "processed/validation/validation.csv").set_index("model")
    assert pd.isna(val.loc["naive_ols", "estimate"]) and not val.loc["naive_ols", "covers_truth"]
    assert read_json(tmp_path / "processed/validation/validation.disclosure.json")["passed"]
