"""Design-based models 1-2: domain estimates use the full design."""

from __future__ import annotations

import numpy as np
import pytest

from ctip_research.models.design_based import estimate_indicators, fit_survey_glm_model
from models_factory import DESIGN, households, spec


def test_domain_means_equal_weighted_means_with_full_design_df() -> None:
    df = households(n_villages=40, hh=8, seed=12)
    df = df.loc[df["wave"] == 1].reset_index(drop=True)
    res = estimate_indicators(
        df, DESIGN, indicators=["has_international_migrant"], domains=["has_mfi_loan"]
    )
    tab = res.tidy().set_index(["domain", "level"])
    sub = df.loc[df["has_mfi_loan"]]
    expected = np.average(sub["has_international_migrant"], weights=sub["weight_household"])
    row = tab.loc[("has_mfi_loan", "True")]
    assert row["estimate"] == pytest.approx(expected, rel=1e-10)
    assert row["conf_low"] < row["estimate"] < row["conf_high"]
    assert res.n_psu == df["psu_id"].nunique()
    assert set(res.estimates()["term"]) >= {"all=all", "has_mfi_loan=True"}


def test_survey_logit_on_a_domain_keeps_every_psu_in_the_design() -> None:
    df = households(n_villages=60, hh=10, seed=13)
    s = spec(
        kind="survey_glm",
        link="logit",
        wave=1,
        sample="is_urban == False",
        cluster=None,
        weights=None,
    )
    res = fit_survey_glm_model(df, s, DESIGN)
    wave1 = df.loc[df["wave"] == 1]
    assert res.n_psu == wave1["psu_id"].nunique()  # full design, not the subset's PSUs
    assert res.n_obs == int((~wave1["is_urban"]).sum())
    assert res.term()["conf_low"] < res.effect < res.term()["conf_high"]
    assert "coefficients" in res.extra and res.info["survey"].startswith("strata=")
