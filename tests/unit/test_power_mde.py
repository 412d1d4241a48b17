"""Power and MDE formulas (ctip_research.models.power) against textbook values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ctip_research.models.power import (
    DesignCalibration,
    calibrate_design,
    design_effect,
    icc_anova,
    minimum_detectable_effect,
    power_at_effect,
    power_table,
)


def test_mde_matches_duflo_glennerster_kremer_multiplier_without_clustering() -> None:
    # Duflo, Glennerster & Kremer (2007), "Using randomization in development economics
    # research: a toolkit", Handbook of Development Economics 4, section 4.1: for a two-sided
    # test at 5% with 80% power, (t_{1-kappa} + t_{alpha/2}) = 0.84 + 1.96 = 2.8 and, with half
    # the sample treated, MDE = 2.8 * sqrt(1 / (P (1 - P))) * sqrt(sigma^2 / N) = 2.8 * 2 / sqrt(N)
    # standard deviations. With N = 400: 0.28 sd (their text quotes 2.8 as the multiplier).
    mde = minimum_detectable_effect(
        400, 1, share_exposed=0.5, outcome_variance=1.0, rho=0.0, dof=float("inf")
    )
    assert mde == pytest.approx(2.8 * 2 / np.sqrt(400), abs=5e-4)


def test_mde_scales_with_bloom_design_effect_under_clustering() -> None:
    # Bloom (1995, "Minimum detectable effects", Evaluation Review 19(5)) and DGK (2007, eq. 12):
    # with J clusters of n and intra-class correlation rho the MDE is multiplied by
    # sqrt(1 + (n - 1) rho). Example: n = 20, rho = 0.05 -> deff = 1.95, factor sqrt(1.95).
    base = minimum_detectable_effect(
        100, 20, share_exposed=0.5, outcome_variance=1.0, rho=0.0, dof=float("inf")
    )
    clustered = minimum_detectable_effect(
        100, 20, share_exposed=0.5, outcome_variance=1.0, rho=0.05, dof=float("inf")
    )
    assert design_effect(20, 0.05) == pytest.approx(1.95)
    assert clustered / base == pytest.approx(np.sqrt(1.95))


def test_mde_uses_t_quantiles_with_villages_minus_two_df() -> None:
    # DGK (2007, eq. 12) use t quantiles with J - 2 degrees of freedom for J clusters.
    mde = minimum_detectable_effect(12, 10, share_exposed=0.5, outcome_variance=1.0, rho=0.1)
    multiplier = stats.t.ppf(0.975, 10) + stats.t.ppf(0.80, 10)
    se = 2.0 * np.sqrt(1.0 / 120) * np.sqrt(1 + 9 * 0.1)
    assert mde == pytest.approx(multiplier * se)


def test_power_at_the_mde_is_the_target_power() -> None:
    kw = {"share_exposed": 0.39, "outcome_variance": 0.16, "rho": 0.01}
    mde = minimum_detectable_effect(150, 15, power=0.9, **kw)
    # the far tail (wrong-sign rejections) adds a negligible amount
    assert power_at_effect(mde, 150, 15, **kw) == pytest.approx(0.9, abs=1e-6)


def test_power_at_zero_effect_is_the_test_size() -> None:
    p = power_at_effect(0.0, 200, 18, share_exposed=0.4, outcome_variance=0.2, rho=0.03)
    assert p == pytest.approx(0.05)


@settings(max_examples=50, deadline=None)
@given(
    villages=st.integers(10, 500),
    extra=st.integers(1, 500),
    m=st.integers(1, 40),
    rho=st.floats(0.0, 0.5),
)
def test_power_increases_with_villages(villages: int, extra: int, m: int, rho: float) -> None:
    kw = {"share_exposed": 0.4, "outcome_variance": 0.2, "rho": rho}
    small = power_at_effect(0.05, villages, m, **kw)
    large = power_at_effect(0.05, villages + extra, m, **kw)
    assert large > small
    assert minimum_detectable_effect(villages + extra, m, **kw) < minimum_detectable_effect(
        villages, m, **kw
    )


def test_iv_mde_is_ols_mde_over_root_first_stage_r2() -> None:
    kw = {"share_exposed": 0.4, "outcome_variance": 0.2, "rho": 0.02}
    ols = minimum_detectable_effect(200, 18, **kw)
    iv = minimum_detectable_effect(200, 18, r2_first_stage=0.04, **kw)
    assert iv == pytest.approx(ols / 0.2)


def test_mde_rejects_too_few_villages() -> None:
    with pytest.raises(ValueError, match="3 villages"):
        minimum_detectable_effect(2, 10, share_exposed=0.4, outcome_variance=0.2, rho=0.0)


def test_icc_anova_recovers_simulated_intra_cluster_correlation() -> None:
    # y = u_g + e with var(u) = 0.1, var(e) = 0.9 -> rho = 0.1 (Donner 1986 ANOVA estimator).
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(2000), 10)
    y = rng.normal(0, np.sqrt(0.1), 2000)[g] + rng.normal(0, np.sqrt(0.9), g.size)
    assert icc_anova(y, g) == pytest.approx(0.1, abs=0.015)


def test_calibrate_design_measures_share_and_first_stage() -> None:
    rng = np.random.default_rng(3)
    n_v, m = 400, 10
    g = np.repeat(np.arange(n_v), m)
    z = rng.normal(size=n_v)[g]
    x = (rng.random(n_v * m) < 0.4 + 0.1 * np.clip(z, -3, 3)).astype(float)
    y = (rng.random(n_v * m) < 0.2 + 0.05 * x).astype(float)
    df = pd.DataFrame({"y": y, "x": x, "v": g, "z": z})
    cal = calibrate_design(df, outcome="y", exposure="x", psu="v", instrument="z")
    assert cal.share_exposed == pytest.approx(x.mean())
    assert cal.exposure_variance == pytest.approx(x.var(ddof=1))
    assert cal.r2_first_stage == pytest.approx(np.corrcoef(x, z)[0, 1] ** 2)
    assert cal.n_villages == n_v
    assert cal.households_per_village == m


def test_power_table_power_increases_with_households_per_village() -> None:
    cal = DesignCalibration(0.4, 0.24, 0.2, 0.16, 0.06, 0.05, 0.03, 18.0, 220)
    t = power_table(cal, villages=[200], households_per_village=[10, 20, 30], effect=0.05)
    assert set(t["estimator"]) == {"ols_village_clustered", "iv_2sls"}
    for _, g in t.groupby("estimator"):
        assert g["power_at_effect"].is_monotonic_increasing
        assert g["mde"].is_monotonic_decreasing


def test_calibrate_design_measures_kish_weighting_effect() -> None:
    # Kish (1965, Survey Sampling, section 11.7): deff_w = n sum(w^2) / (sum w)^2 = 1 + cv^2;
    # for weights 1 and 3 in equal numbers: 2 * 10 / 16 = 1.25.
    df = pd.DataFrame(
        {
            "y": [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0],
            "x": [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0],
            "v": [1, 1, 2, 2, 3, 3, 4, 4],
            "w": [1.0, 3.0] * 4,
        }
    )
    assert calibrate_design(
        df, outcome="y", exposure="x", psu="v", weight="w"
    ).weighting_effect == (pytest.approx(1.25))
    assert calibrate_design(df, outcome="y", exposure="x", psu="v").weighting_effect == 1.0


def test_mde_scales_with_root_weighting_effect() -> None:
    kw = {"share_exposed": 0.4, "outcome_variance": 0.2, "rho": 0.02}
    plain = minimum_detectable_effect(200, 18, **kw)
    weighted = minimum_detectable_effect(200, 18, weighting_effect=1.44, **kw)
    assert weighted == pytest.approx(plain * 1.2)
