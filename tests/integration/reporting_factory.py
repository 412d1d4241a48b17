"""Synthetic inputs and params for the reporting stages' integration tests (not a test module)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ctip_research.config import Params
from ctip_research.config.brief import BriefParams
from ctip_research.config.features import FeaturesParams
from ctip_research.config.figures import FiguresParams
from ctip_research.config.paths import PathsParams
from ctip_research.config.privacy import PrivacyParams
from ctip_research.config.report import ReportParams
from ctip_research.disclosure import Curve, DisclosurePolicy, Regressions, disclose
from ctip_research.io import write_json
from ctip_research.stages._publish import combine_records, write_record

REPO_ROOT = Path(__file__).resolve().parents[2]


def REPO_PARAMS() -> dict[str, Any]:
    """The repository's params.yaml as a fresh mutable dict."""
    return yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))


BANDS = ["<=0.50", "0.50-0.75", "0.75-1.00", ">1.00"]
MODELS = [
    "naive_ols",
    "fe_village",
    "iv_branches",
    "panel_fe",
    "programme_did",
    "programme_adjusted",
]


def _kind(model: str) -> str:
    return "iv" if model.startswith("iv") else "panel" if model.startswith("panel") else "other"


def make_params(params_dict: dict[str, Any], root: Path) -> Params:
    """Params with this package's sections validated and the processed layer under ``root``.

    Other sections are not needed by the reporting stages and are left out (model_construct),
    so these tests do not depend on other stages' parameters.
    """
    d = params_dict
    fit = SimpleNamespace(
        models=[
            SimpleNamespace(
                name=m,
                label=m.replace("_", " ").title(),
                kind=_kind(m),
                instruments=["mfi_branches_per_1000hh"] if m.startswith("iv") else [],
            )
            for m in MODELS
        ],
        descriptive=SimpleNamespace(wave=1),
    )
    return Params.model_construct(
        paths=PathsParams(raw=root / "raw", interim=root / "interim", processed=root / "processed"),
        privacy=PrivacyParams.model_validate(d["privacy"]),
        features=FeaturesParams.model_validate(d["features"]),
        figures=FiguresParams.model_validate(d["figures"]),
        report=ReportParams.model_validate(d["report"]),
        brief=BriefParams.model_validate(d["brief"]),
        fit=fit,
    )


def write_inputs(root: Path, *, n: int = 3000, seed: int = 11, n_obs: int = 3000) -> None:
    """Write small synthetic versions of every input of the figures and brief stages."""
    rng = np.random.default_rng(seed)
    processed = root / "processed"
    (processed / "analysis").mkdir(parents=True)
    (processed / "models").mkdir(parents=True)
    (processed / "risk").mkdir(parents=True)
    (processed / "validation").mkdir(parents=True)
    province = rng.choice([1, 2, 3, 9, 12, 14, 17, 18], n)
    has_formal = rng.random(n) < 0.45
    hh = pd.DataFrame(
        {
            "household_id": [f"h{i:05d}" for i in range(n)],
            "wave": 1,
            "province_code": province,
            "stratum_id": province * 10 + rng.integers(0, 2, n),
            "psu_id": rng.integers(0, 20, n),
            "weight_household": rng.uniform(50, 150, n),
            "has_mfi_loan": has_formal & (rng.random(n) < 0.9),
            "has_formal_loan": has_formal,
            "is_over_indebted": has_formal & (rng.random(n) < 0.3),
            "debt_service_to_income_band": rng.choice(BANDS, n, p=[0.55, 0.2, 0.15, 0.1]),
            "has_international_migrant": rng.random(n) < 0.25,
            "has_risky_migration": rng.random(n) < 0.12,
            "has_forced_labour_case": rng.random(n) < 0.015,
        }
    )
    hh.to_parquet(processed / "analysis" / "household_wave.parquet", index=False)
    est = pd.DataFrame(
        {
            "model": MODELS,
            "outcome": ["has_international_migrant"] * 4 + ["has_risky_migration"] * 2,
            "exposure": ["has_mfi_loan"] * 4 + ["received_livelihood_grant"] * 2,
            "estimate": [0.13, 0.11, 0.085, 0.09, -0.02, -0.04],
            "std_error": [0.01, 0.012, 0.03, 0.02, 0.015, 0.012],
            "p_value": [1e-9, 1e-7, 0.004, 1e-5, 0.18, 0.001],
            "n_obs": n_obs,
            "n_psu": 160,
            "design": "clustered",
        }
    )
    est["term"] = est["exposure"]
    est["conf_low"] = est["estimate"] - 1.96 * est["std_error"]
    est["conf_high"] = est["estimate"] + 1.96 * est["std_error"]
    est["df_resid"] = n_obs - 10
    est["estimand"] = ["ate", "ate", "late", "within_household", "att", "att"]
    est["population"] = ["wave 1"] * 3 + ["all waves"] + ["all waves; is_urban == False"] * 2
    est["conf_level"] = 0.95
    policy = DisclosurePolicy()
    # the fit stage's gate and records (the downstream stages read them)
    gated = disclose(Regressions(est, "regression estimates"), policy)
    assert gated.table is not None
    models = processed / "models"
    gated.table.to_csv(models / "estimates.csv", index=False)
    write_json(
        models / "metrics.json",
        {
            "sample": {
                "waves": [1, 2],
                "n_households": {"1": n, "2": n - 200},
                "n_psu": 20,
                "n_provinces": 8,
            }
        },
    )
    record = combine_records("estimates.csv", [gated.record], policy)
    write_record(models, "estimates", record, [models / "estimates.csv"])
    write_record(models, "results", record, [models / "metrics.json"])
    pd.DataFrame(
        {
            "model": MODELS,
            "truth": [0.08, 0.08, 0.08, 0.08, -0.04, -0.04],
        }
    ).to_csv(processed / "validation" / "validation.csv", index=False)
    shares = np.round(np.arange(0.05, 1.0001, 0.05), 2)
    curve = pd.DataFrame(
        {
            "share_served": shares,
            "share_reached": 1 - (1 - shares) ** 2,
            "share_reached_random": shares,
            "share_reached_perfect": np.minimum(1, shares / 0.12),
            "precision": 0.12 * (1 - (1 - shares) ** 2) / shares,
            "is_suppressed": False,
        }
    )
    curve.to_csv(processed / "risk" / "targeting.csv", index=False)
    metrics = {
        "overall": {
            "top_share_reached": 0.36,
            "top_share_reached_low": 0.31,
            "top_share_reached_high": 0.41,
            "roc_auc": 0.7,
        },
        "settings": {"top_share": 0.2, "ci_level": 0.95},
        "design": {"n_households": n - 200, "n_bootstrap": 500},
    }
    (processed / "risk" / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    # the risk stage publishes the curve without its counts, gated by its own check record
    upstream = {"artefact": "risk: targeting points", "passed": True}
    curve_record = disclose(
        Curve(curve, "risk/targeting.csv", value_columns=["share_reached"], upstream=[upstream]),
        policy,
    ).record
    write_record(
        processed / "risk",
        "",
        combine_records("risk outputs", [curve_record], policy),
        [processed / "risk" / "targeting.csv", processed / "risk" / "metrics.json"],
    )


def write_descriptive(
    root: Path, indicators: tuple[str, ...] = ("has_mfi_loan", "has_forced_labour_case")
) -> None:
    """A ``models/descriptive.csv`` gated as the fit stage gates it (unweighted shares)."""
    from ctip_research.models.support import indicator_counts
    from ctip_research.stages.fit import gate_descriptive

    processed = root / "processed"
    hh = pd.read_parquet(processed / "analysis" / "household_wave.parquet")
    rows = []
    for ind in indicators:
        groups = [("all", "all", hh)] + [
            ("province_code", str(code), part) for code, part in hh.groupby("province_code")
        ]
        for domain, level, part in groups:
            p = float(part[ind].mean())
            se = float(np.sqrt(p * (1 - p) / len(part)))
            rows.append(
                {
                    "indicator": ind,
                    "domain": domain,
                    "level": level,
                    "estimate": p,
                    "std_error": se,
                    "conf_low": p - 1.96 * se,
                    "conf_high": p + 1.96 * se,
                    "deff": 1.0,
                    "df": 100,
                    "n_obs": len(part),
                }
            )
    counts = indicator_counts(hh, indicators=list(indicators), domains=["province_code"])
    table, record = gate_descriptive(
        pd.DataFrame(rows), counts, DisclosurePolicy(), conf_level=0.95
    )
    models = processed / "models"
    table.to_csv(models / "descriptive.csv", index=False)
    write_record(models, "descriptive", record, [models / "descriptive.csv"])
