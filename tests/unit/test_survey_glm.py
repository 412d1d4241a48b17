"""Design-based GLMs and average marginal effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import svy

from ctip_research.errors import SurveyDesignError
from ctip_research.survey import SurveyDesign
from ctip_research.survey.glm import MarginalEffects, SurveyGLMResults


def make_household_survey(seed: int, n_psu: int = 120, per_psu: int = 15) -> pd.DataFrame:
    """Villages in strata, a PSU-level covariate component and a logit outcome."""
    rng = np.random.default_rng(seed)
    psu = np.repeat(np.arange(n_psu), per_psu)
    n = psu.size
    x = rng.normal(0, 1.2, n_psu)[psu] + rng.normal(0, 0.6, n)
    debt = (rng.uniform(size=n) < 0.4).astype(int)
    province = rng.choice(["p1", "p2", "p3"], n)
    eta = -0.8 + 0.9 * x + 0.7 * debt + 0.3 * (province == "p2")
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    return pd.DataFrame(
        {
            "y": y,
            "x": x,
            "debt": debt,
            "province": province,
            "income": 2.0 + 1.5 * x + rng.normal(0, 1, n),
            "stratum": psu // 10,
            "village": psu % 10,
            "w": rng.uniform(10, 40, n_psu)[psu],
        }
    )


@pytest.fixture(scope="module")
def households() -> pd.DataFrame:
    return make_household_survey(1)


@pytest.fixture(scope="module")
def design(households: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(households, weight="w", strata="stratum", psu="village")


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_glm_matches_svy_glm_coefficients_and_errors(
    households: pd.DataFrame, design: SurveyDesign, link: str
) -> None:
    # svy, like R svyglm, uses the expected information as the bread
    res = design.glm("y ~ x + debt", family="binomial", link=link, hessian="expected")  # type: ignore[arg-type]
    frame = pl.from_pandas(households[["y", "x", "debt", "w", "stratum", "village"]])
    sample = svy.Sample(frame, svy.Design(stratum="stratum", psu="village", wgt="w"))
    ref = sample.glm.fit(y="y", x=["x", "debt"], family="binomial", link=link).to_polars()
    # svy stops IRLS earlier than we do (1e-6 relative on probit); R with tight control agrees
    # with us to 1e-6 (tests/reference/test_survey_api.py)
    np.testing.assert_allclose(res.params.to_numpy(), ref["estimate"].to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(res.std_errors.to_numpy(), ref["std_err"].to_numpy(), rtol=1e-5)


def test_observed_hessian_probit_matches_statsmodels_cluster_sandwich(
    households: pd.DataFrame,
) -> None:
    # one stratum, PSUs = clusters: the design-based variance is the cluster-robust sandwich with
    # the small-sample factor G/(G-1); statsmodels' Probit uses the observed Hessian
    import statsmodels.api as sm

    df = households.assign(cluster=households["stratum"] * 10 + households["village"])
    design = SurveyDesign(df, weight=None, psu="cluster")
    res = design.glm("y ~ x + debt", family="binomial", link="probit")
    x = sm.add_constant(df[["x", "debt"]])
    fit = sm.Probit(df["y"], x).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": df["cluster"], "use_correction": False}
    )
    g = df["cluster"].nunique()
    expected = fit.bse.to_numpy() * np.sqrt(g / (g - 1))
    np.testing.assert_allclose(res.params.to_numpy(), fit.params.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(res.std_errors.to_numpy(), expected, rtol=1e-6)
    expected_info = design.glm("y ~ x + debt", family="binomial", link="probit", hessian="expected")
    assert not np.allclose(expected_info.std_errors.to_numpy(), expected, rtol=1e-4)


def test_delta_ame_matches_svy_margins(households: pd.DataFrame, design: SurveyDesign) -> None:
    res = design.glm("y ~ x + income", family="binomial")
    frame = pl.from_pandas(households[["y", "x", "income", "w", "stratum", "village"]])
    sample = svy.Sample(frame, svy.Design(stratum="stratum", psu="village", wgt="w"))
    fit = sample.glm.fit(y="y", x=["x", "income"], family="binomial")
    ref = fit.margins(variables=["x", "income"]).to_polars()
    got = res.marginal_effects(["x", "income"], vce="delta").tidy()
    np.testing.assert_allclose(got["estimate"], ref["margin"].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(got["std_error"], ref["se"].to_numpy(), rtol=1e-4)


def test_ame_is_the_weighted_average_derivative(design: SurveyDesign) -> None:
    res = design.glm("y ~ x + debt + C(province)", family="binomial", link="probit")
    ame = res.marginal_effects(["x"]).tidy().loc[0, "estimate"]
    data, w = design.data, design.arrays.weights
    from scipy.stats import norm

    b = res.params
    eta = (
        b["Intercept"]
        + b["x"] * data["x"]
        + b["debt"] * data["debt"]
        + b["C(province)[T.p2]"] * (data["province"] == "p2")
        + b["C(province)[T.p3]"] * (data["province"] == "p3")
    )
    assert ame == pytest.approx(float(np.sum(w * norm.pdf(eta) * b["x"]) / w.sum()), rel=1e-6)


def test_ame_of_binary_and_categorical_regressors_is_a_discrete_change(
    design: SurveyDesign,
) -> None:
    res = design.glm("y ~ x + debt + C(province)", family="binomial")
    tab = res.marginal_effects(["debt", "province"]).tidy().set_index("term")
    assert list(tab.index) == ["debt", "province[p2]", "province[p3]"]
    data, w, b = design.data, design.arrays.weights, res.params
    base = b["Intercept"] + b["x"] * data["x"] + b["C(province)[T.p2]"] * (data["province"] == "p2")
    base = base + b["C(province)[T.p3]"] * (data["province"] == "p3")

    def mu(v: pd.Series) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-v.to_numpy()))

    change = mu(base + b["debt"]) - mu(base)
    assert tab.loc["debt", "estimate"] == pytest.approx(np.sum(w * change) / w.sum(), rel=1e-9)


def test_ame_of_linear_model_equals_its_coefficient(design: SurveyDesign) -> None:
    res = design.glm("income ~ x + debt")
    ame = res.marginal_effects(["x"]).tidy().iloc[0]
    coef = res.tidy().set_index("term").loc["x"]
    assert ame["estimate"] == pytest.approx(coef["estimate"], rel=1e-6)
    assert ame["std_error"] == pytest.approx(coef["std_error"], rel=1e-5)


def test_unconditional_ame_se_agrees_with_jackknife_refits() -> None:
    df = make_household_survey(2, n_psu=200, per_psu=12)
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    taylor = design.glm("y ~ x", family="binomial").marginal_effects().tidy()
    jk = design.with_variance("jackknife").glm("y ~ x", family="binomial")
    jk_tab = jk.marginal_effects().tidy()
    assert taylor.loc[0, "estimate"] == pytest.approx(jk_tab.loc[0, "estimate"])
    assert jk_tab.loc[0, "std_error"] / taylor.loc[0, "std_error"] == pytest.approx(1.0, abs=0.06)


def test_missing_rows_are_dropped_from_the_fit_but_kept_in_the_design(
    households: pd.DataFrame,
) -> None:
    df = households.copy()
    df.loc[df.index % 9 == 0, "x"] = np.nan
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    res = design.glm("y ~ x", family="binomial")
    assert res.n_obs == int(df["x"].notna().sum())
    assert res.n_psu == design.n_psu
    assert res.df == design.df
    complete = SurveyDesign(df.dropna(subset=["x"]), weight="w", strata="stratum", psu="village")
    np.testing.assert_allclose(
        res.params, complete.glm("y ~ x", family="binomial").params, rtol=1e-8
    )


def test_domain_fit_equals_subset_coefficients_with_full_design(households: pd.DataFrame) -> None:
    df = households.assign(in_p1=households["province"] == "p1")
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    dom = design.glm("income ~ x", domain="in_p1")
    sub = SurveyDesign(df[df["in_p1"]], weight="w", strata="stratum", psu="village")
    np.testing.assert_allclose(dom.params, sub.glm("income ~ x").params, rtol=1e-10)
    assert dom.n_obs == int(df["in_p1"].sum())


def test_result_objects_tidy_glance_summary_and_dict(design: SurveyDesign) -> None:
    res = design.glm("y ~ x + debt", family="binomial", link="probit")
    assert isinstance(res, SurveyGLMResults)
    assert list(res.tidy().columns) == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    glance = res.glance().iloc[0]
    assert glance["n_psu"] == design.n_psu
    assert glance["df_design"] == design.df
    assert 0.0 < glance["pseudo_r2"] < 1.0
    assert "probit" in res.summary()
    assert res.to_dict()["terms"] == ["Intercept", "x", "debt"]
    me = res.marginal_effects()
    assert isinstance(me, MarginalEffects)
    assert me.to_dict()["terms"] == ["debt", "x"]


def test_invalid_models_raise(design: SurveyDesign) -> None:
    with pytest.raises(SurveyDesignError, match="0/1"):
        design.glm("income ~ x", family="binomial")
    with pytest.raises(SurveyDesignError, match="not available"):
        design.glm("income ~ x", family="gaussian", link="logit")
    with pytest.raises(SurveyDesignError, match="not available"):
        design.glm("y ~ x", family="binomial", link="identity")
    with pytest.raises(SurveyDesignError, match="hessian"):
        design.glm("y ~ x", family="binomial", hessian="sandwich")  # type: ignore[arg-type]
    with pytest.raises(SurveyDesignError, match="model matrix"):
        design.glm("income ~ not_a_column")
    with pytest.raises(SurveyDesignError, match="not a variable"):
        design.glm("y ~ x", family="binomial").marginal_effects(["debt"])
    with pytest.raises(SurveyDesignError, match="vce"):
        design.glm("y ~ x", family="binomial").marginal_effects(vce="robust")  # type: ignore[arg-type]
