"""The formula API and the survey layer against published output.

Every number below was printed by other software or in a textbook; each test cites its source
(see also ``tests/reference/data/SOURCES.md``):

[FIXEST] R fixest vignette "On standard-errors" (CRAN fixest, ``inst/doc/standard_errors.html``),
         section "Replicating standard-errors from other methods": Grunfeld data (plm), 200 rows;
         ``inv ~ capital``: SE 15.63927 / 0.0383394 (iid), 17.05558 / 0.06633144 (HC1 = Stata
         ``reg, robust``); ``inv ~ capital | firm + year``: iid 0.02597821 (= Stata ``xtreg``),
         clustered by firm 0.06328129 (Stata ``xtreg, fe vce(cluster firm)``), 0.06493478 (lm +
         sandwich HC1, all dummies in K), 0.05693726 (plm, no correction), two-way firm & year
         0.06041290 (fixest default, min G) and 0.06213837 (conventional G, lfe).
         Data: statsmodels' ``grunfeld`` without American Steel = plm's 10-firm Grunfeld.
[PETERSEN] Mitchell Petersen's "Programming Advice: Estimating Standard Errors in Finance Panel
         Data Sets" test-data page (Kellogg School; test_data.txt, 5,000 firm-years): x 1.0348,
         constant 0.0297, R2 0.2078; SEs (constant, x): OLS 0.0284 / 0.0286, White 0.0284 /
         0.0284, clustered by firm 0.0670 / 0.0506, by year 0.0234 / 0.0334, by firm and year
         0.0651 / 0.0536. R sandwich's ``tests/vcovCL.Rout.save`` records Stata/MP 12.0
         ``regress y x, vce(cluster firm)``: V = [[0.0044907, -0.00006474], [., 0.00255993]].
         Data: ``tests/reference/data/petersen.csv`` (R sandwich's ``PetersenCL``).
[GREENE] Greene, *Econometric Analysis* 2nd ed., Table 14.3: US public-school expenditure on
         income and income squared, classical and White (HC0) errors; printed by R sandwich's
         ``PublicSchools`` example. Data: ``tests/reference/data/public_schools.csv``.
[STATA]  Stata 11 on the Spector & Mazzeo data (32 students), recorded in statsmodels'
         ``statsmodels/discrete/tests/results/results_discrete.py`` (class ``Spector``): logit
         coefficients, SEs, log-likelihoods, LR chi2, pseudo-R2, ``margins, dydx(*)`` overall and
         ``atmeans`` with delta-method SEs, classification table [[18, 3], [3, 8]]. Greene,
         *Econometric Analysis* 7th ed., Table 17.1 prints the same marginal effects (.534, .018,
         .456 logit; .533, .017, .464 probit).
[W15]    Wooldridge, *Introductory Econometrics* 7th ed., eq. (15.9): first stage of educ on
         fatheduc, n = 428, R2 = .173.
[ROUT]   R survey's saved regression-test outputs (CRAN package survey): ``tests/testoutput/
         api.Rout.saved``, ``tests/rakecheck.Rout.save``, ``tests/testoutput/caleg.Rout.save``,
         ``tests/deff.Rout.save``; the numbers are quoted in each test.
[RSCRIPT2] ``tests/reference/data/survey_calibration_reference.Rout`` (R 4.2.2, survey 4.1.1):
         post-stratified, raked and linearly calibrated (``~stype + api99``) estimates,
         recalibrated JK1 with and without mse, the two-stage design and both design effects of
         ``dclus1``, to 1e-6 relative.
[RSCRIPT] ``tests/reference/data/survey_api_reference.Rout`` (R 4.2.2, survey 4.1.1): svyglm
         coefficient tables with R's p-values (residual df = design df - p + 1).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ctip_research as ct
from ctip_research.survey import SurveyDesign

pytestmark = pytest.mark.reference

DATA = Path(__file__).parent / "data"


def _printed(value: float, printed: str) -> None:
    """``value`` rounds to ``printed`` (the printed digits)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert value == pytest.approx(float(printed), abs=0.5 * 10.0**-decimals + 1e-12)


def _sig(value: float, printed: str) -> None:
    """``value`` agrees with ``printed`` to its significant digits (R prints 5-7)."""
    digits = len(printed.replace("-", "").replace(".", "").lstrip("0"))
    assert value == pytest.approx(float(printed), rel=0.5 * 10.0 ** (1 - digits))


@pytest.fixture(scope="module")
def grunfeld() -> pd.DataFrame:
    import statsmodels.api as sm

    g = sm.datasets.grunfeld.load_pandas().data
    g = g.loc[g["firm"] != "American Steel"].rename(columns={"invest": "inv"})
    g["year"] = g["year"].astype(int)
    assert len(g) == 200
    return g.reset_index(drop=True)


@pytest.fixture(scope="module")
def spector() -> pd.DataFrame:
    import statsmodels.api as sm

    return sm.datasets.spector.load_pandas().data


# ------------------------------------------------------------------ linear models: [FIXEST]
def test_classical_and_hc1_errors_match_fixest_vignette_and_stata(grunfeld) -> None:
    iid = ct.feols("inv ~ capital", grunfeld)
    _sig(iid.std_errors["Intercept"], "15.63927")
    _sig(iid.std_errors["capital"], "0.0383394")
    hc1 = ct.feols("inv ~ capital", grunfeld, vcov="hetero")
    _sig(hc1.std_errors["Intercept"], "17.05558")
    _sig(hc1.std_errors["capital"], "0.06633144")


@pytest.mark.parametrize(
    ("vcov", "ssc", "printed"),
    [
        ("iid", "stata", "0.02597821"),  # lm, plm, fixest, Stata xtreg
        ({"CRV1": "firm"}, "stata", "0.06328129"),  # Stata xtreg, fe vce(cluster firm)
        ({"CRV1": "firm"}, "fixest", "0.06328129"),  # fixest default = reghdfe
        ({"CRV1": "firm"}, "reghdfe", "0.06328129"),
        ({"CRV1": "firm"}, "regress", "0.06493478"),  # lm + vcovCL HC1, every dummy in K
        ({"CRV1": "firm"}, "none", "0.05693726"),  # plm vcovHC(cluster="group")
        ({"CRV1": "firm + year"}, "fixest", "0.06041290"),  # two-way, min(G)/(min(G)-1)
        ({"CRV1": "firm + year"}, "stata", "0.06213837"),  # two-way, each G_i/(G_i-1)
    ],
)
def test_fixed_effects_errors_match_fixest_vignette(grunfeld, vcov, ssc, printed) -> None:
    fit = ct.feols("inv ~ capital | firm + year", grunfeld, vcov=vcov, ssc=ssc)
    _sig(fit.std_errors["capital"], printed)


@pytest.mark.parametrize(
    ("vcov", "printed"),
    [
        ("iid", ("0.0284", "0.0286")),
        ("hetero", ("0.0284", "0.0284")),
        ({"CRV1": "firm"}, ("0.0670", "0.0506")),
        ({"CRV1": "year"}, ("0.0234", "0.0334")),
        ({"CRV1": "firm + year"}, ("0.0651", "0.0536")),
    ],
)
def test_classical_white_one_and_two_way_clustered_match_petersen(vcov, printed) -> None:
    df = pd.read_csv(DATA / "petersen.csv")
    fit = ct.feols("y ~ x", df, vcov=vcov)
    _printed(fit.params["x"], "1.0348")
    _printed(fit.params["Intercept"], "0.0297")
    _printed(fit.stats["r2"], "0.2078")
    _printed(fit.std_errors["Intercept"], printed[0])
    _printed(fit.std_errors["x"], printed[1])


def test_firm_clustered_covariance_matches_stata_12_regress() -> None:
    df = pd.read_csv(DATA / "petersen.csv")
    v = ct.feols("y ~ x", df, vcov={"CRV1": "firm"}).vcov.to_numpy()
    _sig(v[0, 0], "0.0044907")
    _sig(v[0, 1], "-0.00006474")
    _sig(v[1, 1], "0.00255993")


def test_classical_and_hc0_errors_match_greene_table_14_3() -> None:
    # [GREENE] Greene, Econometric Analysis 2nd ed., p. 391, Table 14.3, as reproduced by R
    # sandwich's PublicSchools example (tests/Examples/sandwich-Ex.Rout.save)
    df = pd.read_csv(DATA / "public_schools.csv").dropna()
    df["Income"] = df["Income"] * 1e-4
    formula = "Expenditure ~ Income + I(Income**2)"
    const = ct.feols(formula, df).std_errors.to_numpy()
    hc0 = ct.feols(formula, df, vcov="HC0").std_errors.to_numpy()
    for got, printed in zip(const, ("327.2925", "828.9855", "519.0768"), strict=True):
        _printed(got, printed)
    for got, printed in zip(hc0, ("460.8917", "1243.0430", "829.9927"), strict=True):
        _printed(got, printed)


def test_hc0_to_hc3_match_statsmodels(grunfeld) -> None:
    import statsmodels.api as sm

    x = sm.add_constant(grunfeld[["capital", "value"]])
    for kind in ("HC0", "HC1", "HC2", "HC3"):
        ref = sm.OLS(grunfeld["inv"], x).fit(cov_type=kind)  # statsmodels (another package)
        got = ct.feols("inv ~ capital + value", grunfeld, vcov=kind)
        np.testing.assert_allclose(got.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-10)


def test_xtreg_sigma_e_and_fixed_effects_f_test_match_a_dummy_regression(grunfeld) -> None:
    import statsmodels.formula.api as smf

    fe = ct.feols("inv ~ capital + value | firm", grunfeld)
    dummies = smf.ols("inv ~ capital + value + C(firm)", grunfeld).fit()
    pooled = smf.ols("inv ~ capital + value", grunfeld).fit()
    assert fe.params["capital"] == pytest.approx(dummies.params["capital"], rel=1e-10)
    assert fe.stats["sigma_e"] == pytest.approx(np.sqrt(dummies.mse_resid), rel=1e-10)
    f_ref = ((pooled.ssr - dummies.ssr) / 9) / (dummies.ssr / dummies.df_resid)
    assert fe.stats["f_fixef"] == pytest.approx(f_ref, rel=1e-10)
    # Stata's _cons after xtreg, fe: mean(y) - mean(x)'b
    means = grunfeld[["inv", "capital", "value"]].mean()
    cons = (
        means["inv"] - means["capital"] * fe.params["capital"] - means["value"] * fe.params["value"]
    )
    assert fe.params["Intercept"] == pytest.approx(cons, rel=1e-10)


def test_iv_classical_first_stage_matches_wooldridge_15_9() -> None:
    from linearmodels.datasets import mroz

    df = mroz.load().dropna(subset=["lwage"])
    fit = ct.feols("lwage ~ 1 | educ ~ fatheduc", df)
    _printed(fit.params["educ"], "0.059")  # [W15] eq. (15.10)
    fs = fit.first_stage["educ"]
    _printed(fs["partial_r2"], "0.173")  # [W15] eq. (15.9), R2 of the first stage
    assert fs["f"] == pytest.approx((0.269 / 0.029) ** 2, rel=0.05)  # t^2 from printed (15.9)


# ------------------------------------------------------------------ logit / probit: [STATA]
def test_logit_matches_stata_spector(spector) -> None:
    fit = ct.logit("GRADE ~ GPA + TUCE + PSI", spector)
    np.testing.assert_allclose(
        fit.params[["GPA", "TUCE", "PSI", "Intercept"]],
        [2.82611297201, 0.0951576702557, 2.37868772835, -13.0213483201],
        rtol=1e-6,  # Stata's own convergence tolerance
    )
    np.testing.assert_allclose(
        fit.std_errors[["GPA", "TUCE", "PSI", "Intercept"]],
        [1.26294114526, 0.141554207662, 1.06456430165, 4.93132462871],
        rtol=1e-6,
    )
    g = fit.glance().iloc[0]
    assert g["llf"] == pytest.approx(-12.8896334653335, rel=1e-6)  # statsmodels: same as ours
    assert g["llnull"] == pytest.approx(-20.5917296966173, rel=1e-9)
    assert g["lr_chi2"] == pytest.approx(15.4041924625676, rel=1e-6)
    assert g["pseudo_r2"] == pytest.approx(0.374038332124624, rel=1e-6)
    assert g["pct_correct"] == pytest.approx((18 + 8) / 32)  # classification table


def test_logit_marginal_effects_match_stata_margins(spector) -> None:
    fit = ct.logit("GRADE ~ GPA + TUCE + PSI", spector)
    # margins, dydx(*) (psi as a continuous regressor)
    ame = fit.marginal_effects(at="overall", discrete=False).tidy().set_index("term")
    np.testing.assert_allclose(
        ame.loc[["GPA", "TUCE", "PSI"], "estimate"],
        [0.36258084688424, 0.01220841099085, 0.30517768382304],
        rtol=1e-7,
    )
    np.testing.assert_allclose(
        ame.loc[["GPA", "TUCE", "PSI"], "std_error"], [0.1094412, 0.0177942, 0.0923796], rtol=5e-6
    )
    # margins, dydx(*) atmeans
    mem = fit.marginal_effects(at="mean", discrete=False).tidy().set_index("term")
    np.testing.assert_allclose(
        mem.loc[["GPA", "TUCE", "PSI"], "estimate"],
        [0.53385885781692, 0.01797548988961, 0.44933926079386],
        rtol=1e-7,
    )
    np.testing.assert_allclose(
        mem.loc[["GPA", "TUCE", "PSI"], "std_error"], [0.237038, 0.0262369, 0.1967626], rtol=5e-6
    )
    # i.psi: discrete change at the means (Greene Table 17.1: .456)
    disc = fit.marginal_effects(["PSI"], at="mean").tidy().iloc[0]
    assert disc["estimate"] == pytest.approx(0.456498405282412, rel=1e-7)
    assert disc["std_error"] == pytest.approx(0.1810536852, rel=1e-6)


def test_probit_matches_stata_spector(spector) -> None:
    fit = ct.probit("GRADE ~ GPA + TUCE + PSI", spector)
    np.testing.assert_allclose(
        fit.params[["GPA", "TUCE", "PSI", "Intercept"]],
        [1.62581025407, 0.051728948442, 1.42633236818, -7.45232041607],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        fit.std_errors[["GPA", "TUCE", "PSI", "Intercept"]],
        [0.693882522754, 0.083890261293, 0.595037920474, 2.54247249731],
        rtol=1e-5,
    )
    assert fit.glance().iloc[0]["llf"] == pytest.approx(-12.8188033249334, rel=1e-6)
    mem = fit.marginal_effects(at="mean").tidy().set_index("term")["estimate"]
    _printed(mem["GPA"], "0.533")  # Greene Table 17.1, probit
    _printed(mem["TUCE"], "0.017")
    _printed(mem["PSI"], "0.464")


# ------------------------------------------------------------------ survey: [ROUT]
@pytest.fixture(scope="module")
def dclus1() -> SurveyDesign:
    return SurveyDesign(pd.read_csv(DATA / "apiclus1.csv"), weight="pw", psu="dnum", fpc="fpc")


POP_TYPES = {"E": 4421, "H": 755, "M": 1018}


def test_two_stage_fpc_matches_r_api_rout() -> None:
    df = pd.read_csv(DATA / "apiclus2.csv")
    # svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2): weights from the fpc
    d = SurveyDesign(df, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    _printed(d.mean("api00").estimate, "670.81")
    _printed(d.mean("api00").std_error, "30.099")
    _printed(d.total("enroll").estimate, "2639273")
    _printed(d.total("enroll").std_error, "799638")
    # svydesign(id=~dnum+snum, weights=~pw, data=apiclus2): with replacement
    wr = SurveyDesign(df, weight="pw", psu=["dnum", "snum"])
    _printed(wr.mean("api00").std_error, "30.712")
    _printed(wr.total("enroll").std_error, "820261")


def test_fpc_without_every_stage_refuses_instead_of_weight_one() -> None:
    df = pd.read_csv(DATA / "apiclus2.csv")
    with pytest.raises(ct.EstimationError.__mro__[1], match="weights cannot be derived"):
        SurveyDesign(df, psu=["dnum", "snum"], fpc="fpc1")


def test_poststratification_matches_r_api_rout(dclus1) -> None:
    p = dclus1.poststratify("stype", POP_TYPES)
    _printed(p.mean("api00").estimate, "642.31")
    # the saved outputs print 23.921 (survey 3.x); survey 4.1.1 gives 23.92049 [RSCRIPT2]
    _sig(p.mean("api00").std_error, "23.921")
    assert p.mean("api00").std_error == pytest.approx(23.92049, abs=5e-6)
    _printed(p.total("enroll").estimate, "3680893")
    _printed(p.total("enroll").std_error, "406293")


def test_raking_matches_r_rakecheck(dclus1) -> None:
    r = dclus1.rake({"stype": POP_TYPES, "sch.wide": {"No": 1072, "Yes": 5122}})
    _printed(r.mean("api00").estimate, "641.23")
    _printed(r.mean("api00").std_error, "23.704")
    _printed(r.total("enroll").estimate, "3647280")
    _printed(r.total("enroll").std_error, "400603")
    # calibrate(..., calfun="raking") gives the same weights (rakecheck: all.equal TRUE)
    g = dclus1.calibrate(
        "~ stype + sch.wide",
        {"Intercept": 6194, "stype[T.H]": 755, "stype[T.M]": 1018, "sch.wide[T.Yes]": 5122},
        calfun="raking",
    )
    np.testing.assert_allclose(g.arrays.weights, r.arrays.weights, rtol=1e-8)
    _printed(g.mean("api00").std_error, "23.704")


def test_linear_calibration_matches_r_caleg(dclus1) -> None:
    g = dclus1.calibrate("~ stype", {"Intercept": 6194, "stype[T.H]": 755, "stype[T.M]": 1018})
    _printed(g.mean("api00").estimate, "642.31")
    _sig(g.mean("api00").std_error, "23.921")  # 23.92049, see the post-stratification test
    _printed(g.total("enroll").std_error, "406293")
    # calibrate(dclus1, ~enroll, pop): range(weights(dclus1g)/weights(dclus1))
    df = dclus1.data
    enroll_total = 3811472  # sum(apipop$enroll, na.rm=TRUE), api.Rout.saved
    lin = dclus1.calibrate("~ enroll", {"Intercept": 6194, "enroll": enroll_total})
    ratio = lin.arrays.weights / df["pw"].to_numpy()
    _sig(ratio.min(), "0.7906782")
    _sig(ratio.max(), "1.7891164")


def test_jackknife_mse_and_replicate_poststratification_match_r_api_rout(dclus1) -> None:
    mse = dclus1.with_variance("jackknife", mse=True)
    _printed(mse.mean("api00").std_error, "26.335")  # options(survey.replicates.mse=TRUE)
    _printed(dclus1.with_variance("jackknife").mean("api00").std_error, "26.329")
    for design, mean_se, total_se in (
        (mse, "26.936", "473434"),
        (dclus1.with_variance("jackknife"), "26.934", "473431"),
    ):
        p = design.poststratify("stype", POP_TYPES)
        _sig(p.mean("api00").std_error, mean_se)  # survey 4.1.1: 26.93454 / 26.93573
        _printed(p.total("enroll").std_error, total_se)


def test_design_effects_with_and_without_replacement_match_r_deff_rout() -> None:
    df = pd.read_csv(DATA / "kigyo.csv")
    srs = SurveyDesign(df, weight="srs_w", deff="srswor")  # svymean(..., deff=TRUE)
    m = srs.mean("uriage")
    _printed(m.estimate, "113.700")
    _printed(m.std_error, "35.626")
    _printed(m.deff, "1.0101")
    _printed(srs.total("uriage").deff, "1.0101")
    pps = SurveyDesign(df, weight="pps_w", deff="replace")  # deff="replace"
    _printed(pps.mean("uriage").estimate, "243.914")
    _printed(pps.mean("uriage").std_error, "48.752")
    _printed(pps.mean("uriage").deff, "1.9741")
    _printed(pps.total("uriage").std_error, "184965")
    _printed(pps.total("uriage").deff, "18.157")


def test_svyglm_p_values_on_residual_df_match_r_and_design_df_is_stata(dclus1) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r_style = dclus1.glm("api00 ~ ell + meals + mobility", df="residual")
        stata_style = dclus1.glm("api00 ~ ell + meals + mobility")
    tab = r_style.tidy().set_index("term")
    # [RSCRIPT] "dclus1 svyglm gaussian": Pr(>|t|) on degf - p + 1 = 14 - 4 + 1 = 11
    assert r_style.df == 11 and stata_style.df == 14
    assert tab.loc["Intercept", "p_value"] == pytest.approx(4.64662029965e-13, rel=1e-6)
    assert tab.loc["ell", "p_value"] == pytest.approx(1.39063467306e-01, rel=1e-6)
    assert tab.loc["meals", "p_value"] == pytest.approx(2.29050741241e-07, rel=1e-6)
    # Stata svy: the same t statistic on PSUs - strata = 14 df
    st = stata_style.tidy().set_index("term")
    assert st.loc["ell", "statistic"] == pytest.approx(tab.loc["ell", "statistic"], rel=1e-12)
    assert st.loc["ell", "p_value"] == pytest.approx(
        2 * stats.t.sf(abs(st.loc["ell", "statistic"]), 14), rel=1e-12
    )


def test_calibration_and_design_options_match_rscript2(dclus1) -> None:
    rel = 1e-6
    # [RSCRIPT2] "postStratify", "rake", "calibrate ~stype+api99 linear"
    p = dclus1.poststratify("stype", POP_TYPES)
    assert p.mean("api00").std_error == pytest.approx(23.92049, rel=rel)
    assert p.total("enroll").std_error == pytest.approx(406292.6363, rel=rel)
    r = dclus1.rake({"stype": POP_TYPES, "sch.wide": {"No": 1072, "Yes": 5122}})
    assert r.mean("api00").estimate == pytest.approx(641.2303209, rel=rel)
    assert r.mean("api00").std_error == pytest.approx(23.70362, rel=rel)
    assert r.total("enroll").std_error == pytest.approx(400603.2569, rel=rel)
    totals = {"Intercept": 6194, "stype[T.H]": 755, "stype[T.M]": 1018, "api99": 3914069}
    g = dclus1.calibrate("~ stype + api99", totals)
    assert g.mean("api00").estimate == pytest.approx(665.3090712, rel=rel)
    assert g.mean("api00").std_error == pytest.approx(3.44175, rel=rel)
    assert g.total("enroll").estimate == pytest.approx(3638487.204, rel=rel)
    assert g.total("enroll").std_error == pytest.approx(385524.4274, rel=rel)
    # "JK1 postStratify, mse FALSE and TRUE"
    jk = dclus1.with_variance("jackknife")
    assert jk.poststratify("stype", POP_TYPES).mean("api00").std_error == pytest.approx(
        26.93454, rel=rel
    )
    jk_mse = dclus1.with_variance("jackknife", mse=True).poststratify("stype", POP_TYPES)
    assert jk_mse.mean("api00").std_error == pytest.approx(26.93573, rel=rel)
    # "dclus2 two-stage fpc"
    d2 = SurveyDesign(
        pd.read_csv(DATA / "apiclus2.csv"), psu=["dnum", "snum"], fpc=["fpc1", "fpc2"]
    )
    assert d2.mean("api00").std_error == pytest.approx(30.09903, rel=rel)
    assert d2.total("enroll").std_error == pytest.approx(799637.7736, rel=rel)
    # "dclus1 deff TRUE (without replacement) and replace"
    wor = SurveyDesign(dclus1.data, weight="pw", psu="dnum", fpc="fpc", deff="srswor")
    assert wor.mean("api00").deff == pytest.approx(9.34587, abs=5e-6)
    assert dclus1.mean("api00").deff == pytest.approx(9.06975, abs=5e-6)
