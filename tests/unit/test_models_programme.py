"""The livelihood programme: balance table, DiD, adjusted estimators and the conclusion."""

from __future__ import annotations

import pandas as pd
import pytest

from ctip_research.models.programme import (
    balance_table,
    fit_did,
    fit_programme_adjusted,
    mean_reversion,
    programme_conclusion,
)
from ctip_research.models.simulate import to_panel
from models_factory import households, spec

TRUE_EFFECT = -0.08  # effect_programme of simulate_households


def _panel() -> pd.DataFrame:
    return to_panel(households(n_villages=200, hh=15, seed=5))


def _spec(kind: str):
    return spec(
        name=kind,
        kind=kind,
        outcome="has_risky_migration",
        exposure="received_livelihood_grant_w2",
        controls=["is_landless_w1"],
        fixed_effects=["province_code"],
        sample="is_urban == False",
    )


def test_normalised_difference_matches_imbens_rubin_formula() -> None:
    df = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "x": [2.0, 4.0, 6.0, 1.0, 2.0, 3.0]})
    row = balance_table(df, treatment="t", covariates=["x"]).iloc[0]
    # m1 = 4, m0 = 2, population variances 8/3 and 2/3
    assert row["norm_diff"] == pytest.approx(2 / ((8 / 3 + 2 / 3) / 2) ** 0.5)
    assert bool(row["imbalanced"])


@pytest.mark.slow
def test_did_biased_by_mean_reversion_and_ancova_recovers_effect() -> None:
    panel = _panel()
    did = fit_did(panel, _spec("did"))
    adj = fit_programme_adjusted(panel, _spec("programme_adjusted"), method="ancova")
    lo, hi = adj.term()[["conf_low", "conf_high"]]
    assert lo <= TRUE_EFFECT <= hi
    assert did.term()["conf_high"] < TRUE_EFFECT  # DiD overstates the reduction
    sample = panel.query("is_urban == False")
    rev = mean_reversion(
        sample, outcome="has_risky_migration", treatment="received_livelihood_grant_w2"
    )
    assert rev["slope"] < 0
    bal = balance_table(
        sample, treatment="received_livelihood_grant_w2", covariates=["has_risky_migration_w1"]
    )
    text = programme_conclusion(bal, did, adj, rev, outcome_covariate="has_risky_migration_w1")
    assert "biased by mean reversion" in text and "adjusted" in text


@pytest.mark.slow
def test_ipw_estimate_close_to_ancova() -> None:
    panel = _panel()
    a = fit_programme_adjusted(panel, _spec("programme_adjusted"), method="ancova")
    b = fit_programme_adjusted(panel, _spec("programme_adjusted"), method="ipw")
    assert abs(a.effect - b.effect) < 2 * float(a.term()["std_error"])
    assert b.extra["method"] == "ipw" and 0 < b.extra["propensity_min"] < 1
