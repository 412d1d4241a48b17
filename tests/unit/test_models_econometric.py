"""Fixed effects, IV and panel estimators on simulated data with known effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ctip_research.models.econometric import (
    first_stage,
    fit_fixed_effects,
    fit_iv,
    fit_panel,
    regressor_frame,
)
from ctip_research.models.specs import SpecError
from models_factory import households, spec


def _wave1() -> pd.DataFrame:
    df = households()
    return df.loc[df["wave"] == 1].reset_index(drop=True)


def test_absorbed_fixed_effects_equal_dummy_regression() -> None:
    from linearmodels.iv import IV2SLS

    df = households(n_villages=40, hh=10, seed=2)
    df = df.loc[df["wave"] == 1].reset_index(drop=True)
    res = fit_fixed_effects(df, spec(fixed_effects=["psu_id"]))
    x = pd.concat(
        [
            regressor_frame(df, ["has_mfi_loan", "is_landless"]),
            pd.get_dummies(df["psu_id"], drop_first=True).astype(float),
        ],
        axis=1,
    ).assign(const=1.0)
    ref = IV2SLS(
        df["has_international_migrant"].astype(float), x, None, None, weights=df["weight_household"]
    ).fit()
    assert res.effect == pytest.approx(float(ref.params["has_mfi_loan"]), rel=1e-8)
    assert res.n_psu == df["psu_id"].nunique()
    assert res.fixed_effects == ("psu_id",)


def test_panel_recovers_effect_that_naive_overstates_when_confounded() -> None:
    df = households(n_villages=200, hh=15, seed=11)
    naive = fit_fixed_effects(df, spec(wave=1))
    panel = fit_panel(df, spec(kind="panel", controls=[]))
    truth = 0.09  # effect_mfi of simulate_households
    lo, hi = panel.term()[["conf_low", "conf_high"]]
    assert lo <= truth <= hi
    assert naive.effect - truth > 2 * float(naive.term()["std_error"])


def test_panel_errors_not_inflated_by_absorbed_household_effects() -> None:
    from linearmodels.panel import PanelOLS

    df = households()
    res = fit_panel(df, spec(kind="panel", controls=[]))
    idx = pd.MultiIndex.from_arrays([df["household_id"], df["wave"]])
    default = PanelOLS(
        df["has_international_migrant"].astype(float).set_axis(idx),
        df[["has_mfi_loan"]].astype(float).set_axis(idx),
        entity_effects=True,
        time_effects=True,
        weights=df["weight_household"].set_axis(idx),
    ).fit(
        cov_type="clustered", clusters=pd.Series(pd.factorize(df["psu_id"])[0], index=idx, name="c")
    )
    ratio = float(default.std_errors["has_mfi_loan"]) / float(res.term()["std_error"])
    # two waves: the default counts ~N/2 household effects in K, (N-1)/(N-K) ~ 2
    assert ratio == pytest.approx(np.sqrt(2), rel=0.05)


def test_first_stage_f_equals_linearmodels_wald_over_instruments() -> None:
    from linearmodels.iv import IV2SLS

    df = _wave1()
    inst = ["mfi_branches_per_1000hh", "dist_mfi_branch_km"]
    res = fit_iv(df, spec(kind="iv", instruments=inst, fixed_effects=["province_code"]))
    exog = pd.concat(
        [
            regressor_frame(df, ["is_landless"]),
            pd.get_dummies(df["province_code"].astype(str), drop_first=True).astype(float),
        ],
        axis=1,
    ).assign(const=1.0)
    ref = IV2SLS(
        df["has_international_migrant"].astype(float),
        exog,
        df[["has_mfi_loan"]].astype(float),
        df[inst],
        weights=df["weight_household"],
    ).fit(cov_type="clustered", clusters=pd.Series(pd.factorize(df["psu_id"])[0]), debiased=True)
    diag = ref.first_stage.diagnostics.loc["has_mfi_loan"]
    assert res.stats["first_stage_f"] == pytest.approx(float(diag["f.stat"]) / 2, rel=1e-8)
    assert res.extra["first_stage"]["partial_r2"] == pytest.approx(
        float(diag["partial.rsquared"]), rel=1e-8
    )
    assert res.effect == pytest.approx(float(ref.params["has_mfi_loan"]), rel=1e-10)
    assert res.extra["overid"]["df"] == 1


def test_effective_f_equals_robust_f_with_one_instrument() -> None:
    rng = np.random.default_rng(3)
    n = 400
    z = rng.normal(size=(n, 1))
    w = np.ones((n, 1))
    x = 0.3 * z[:, 0] + rng.normal(size=n)
    fs = first_stage(x, z, w, clusters=np.repeat(np.arange(40), 10))
    assert fs["effective_f"] == pytest.approx(fs["robust_f"], rel=1e-12)


def test_anderson_rubin_bounds_are_where_ar_test_rejects_at_alpha() -> None:
    from linearmodels.iv import IV2SLS

    df = _wave1()
    res = fit_iv(
        df,
        spec(kind="iv", instruments=["mfi_branches_per_1000hh"], fixed_effects=["province_code"]),
    )
    ar = res.extra["anderson_rubin"]
    assert ar["kind"] == "interval" and ar["low"] < res.effect < ar["high"]
    x = pd.concat(
        [
            regressor_frame(df, ["is_landless"]),
            pd.get_dummies(df["province_code"].astype(str), drop_first=True).astype(float),
            df[["mfi_branches_per_1000hh"]],
        ],
        axis=1,
    ).assign(const=1.0)
    clusters = pd.Series(pd.factorize(df["psu_id"])[0])
    g = clusters.nunique()
    for b in (ar["low"], ar["high"]):
        yb = df["has_international_migrant"].astype(float) - b * df["has_mfi_loan"].astype(float)
        fit = IV2SLS(yb, x, None, None, weights=df["weight_household"]).fit(
            cov_type="clustered", clusters=clusters, debiased=False
        )
        wald = float(fit.tstats["mfi_branches_per_1000hh"]) ** 2 * (g - 1) / g
        assert stats.f.sf(wald, 1, g - 1) == pytest.approx(0.05, abs=1e-6)


def test_unknown_column_raises_spec_error() -> None:
    with pytest.raises(SpecError, match="not in the analysis table"):
        fit_fixed_effects(_wave1(), spec(controls=["no_such_column"]))


def test_panel_rejects_extra_fixed_effects() -> None:
    with pytest.raises(SpecError, match="household \\(and wave\\) effects only"):
        fit_panel(households(), spec(kind="panel", fixed_effects=["psu_id"]))
