"""SurveyDesign against R ``survey`` on its own ``api`` data (California API schools).

Data: ``tests/reference/data/api{strat,clus1,clus2}.csv``, columns of R survey's ``data(api)``
written by ``tests/reference/data/survey_api_reference.R`` (R 4.2.2, survey 4.1.1).

Two kinds of reference numbers:

1. Published R output, checked to its printed precision:
   - [ROUT] R survey's own regression-test output ``tests/api.Rout.save`` of the CRAN package
     (https://github.com/cran/survey/blob/master/tests/api.Rout.save), ``example(api)``.
   - [SUMMARY] http://faculty.washington.edu/tlumley/old-survey/example-summary.html
   - [DOMAIN] http://r-survey.r-forge.r-project.org/survey/example-domain.html
   - [REGRESSION] http://r-survey.r-forge.r-project.org/survey/example-regression.html
2. Full-precision output of ``survey_api_reference.R``, committed beside it as
   ``survey_api_reference.Rout`` ([RSCRIPT], section named in each test), checked to 1e-6
   relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctip_research.survey import SurveyDesign

pytestmark = pytest.mark.reference

DATA = Path(__file__).parent / "data"


def _printed(value: float, printed: str) -> None:
    """``value`` rounds to ``printed`` (R's printed digits)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert round(value, decimals) == pytest.approx(float(printed), abs=10.0 ** (-decimals) / 2)


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    df = pd.read_csv(DATA / "apistrat.csv")
    df["sch_wide"] = (df["sch.wide"] == "Yes").astype(int)
    return df


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    df = pd.read_csv(DATA / "apiclus1.csv")
    df["sch_wide"] = (df["sch.wide"] == "Yes").astype(int)
    return df


@pytest.fixture(scope="module")
def dstrat(apistrat: pd.DataFrame) -> SurveyDesign:
    # R: svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)
    return SurveyDesign(apistrat, weight="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def dclus1(apiclus1: pd.DataFrame) -> SurveyDesign:
    # R: svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc)
    return SurveyDesign(apiclus1, weight="pw", psu="dnum", fpc="fpc")


# ---------------------------------------------------------------- published output
def test_mean_and_total_match_r_api_rout_stratified(dstrat: SurveyDesign) -> None:
    # [ROUT] svymean(~api00, dstrat): 662.29 SE 9.4089; svytotal(~enroll, dstrat): 3687178 SE 114642
    m, t = dstrat.mean("api00"), dstrat.total("enroll")
    _printed(m.estimate, "662.29")
    _printed(m.std_error, "9.4089")
    _printed(t.estimate, "3687178")
    _printed(t.std_error, "114642")


def test_mean_and_total_match_r_api_rout_cluster(dclus1: SurveyDesign) -> None:
    # [ROUT] svymean(~api00, dclus1): 644.17 SE 23.542; svytotal(~enroll, dclus1): 3404940 SE 932235
    m, t = dclus1.mean("api00"), dclus1.total("enroll")
    _printed(m.estimate, "644.17")
    _printed(m.std_error, "23.542")
    _printed(t.estimate, "3404940")
    _printed(t.std_error, "932235")


def test_jackknife_matches_r_api_rout_jk1(dclus1: SurveyDesign) -> None:
    # [ROUT] rclus1 <- as.svrepdesign(dclus1) (JK1 with fpc): svymean 644.17 SE 26.329;
    # svytotal(~enroll, rclus1): 3404940 SE 932235
    jk = dclus1.with_variance("jackknife")
    m, t = jk.mean("api00"), jk.total("enroll")
    _printed(m.estimate, "644.17")
    _printed(m.std_error, "26.329")
    _printed(t.std_error, "932235")


def test_means_and_proportions_match_r_example_summary(dclus1: SurveyDesign) -> None:
    # [SUMMARY] svymean(~api00+api99+stype, dclus1): api99 606.978142 SE 24.2250,
    # stypeE 0.786885 SE 0.0463, stypeH 0.076503 SE 0.0268, stypeM 0.136612 SE 0.0296
    api99 = dclus1.mean("api99")
    _printed(api99.estimate, "606.978142")
    _printed(api99.std_error, "24.2250")
    props = dclus1.proportion("stype").set_index("term")
    for level, est, se in (("E", "0.786885", "0.0463"), ("H", "0.076503", "0.0268")):
        _printed(props.loc[f"stype={level}", "estimate"], est)
        _printed(props.loc[f"stype={level}", "std_error"], se)
    _printed(props.loc["stype=M", "std_error"], "0.0296")


def test_jackknife_proportions_match_r_example_summary(dclus1: SurveyDesign) -> None:
    # [SUMMARY] svymean(~api00+api99+stype, rclus1): api99 SE 26.9985, stypeE SE 0.0514,
    # stypeH SE 0.0278, stypeM SE 0.0332
    jk = dclus1.with_variance("jackknife")
    _printed(jk.mean("api99").std_error, "26.9985")
    props = jk.proportion("stype").set_index("term")
    _printed(props.loc["stype=E", "std_error"], "0.0514")
    _printed(props.loc["stype=H", "std_error"], "0.0278")
    _printed(props.loc["stype=M", "std_error"], "0.0332")


def test_domain_total_matches_r_example_domain(apiclus1: pd.DataFrame) -> None:
    # [DOMAIN] svytotal(~enroll, subset(dclus1, sch.wide=="Yes" & comp.imp=="Yes")):
    # 2406420 SE 645444 (and the same with the jackknife rclus1)
    df = apiclus1.assign(both_yes=(apiclus1["sch.wide"] == "Yes") & (apiclus1["comp.imp"] == "Yes"))
    design = SurveyDesign(df, weight="pw", psu="dnum", fpc="fpc")
    for variance in ("taylor", "jackknife"):
        tab = design.with_variance(variance).total("enroll", by="both_yes")
        row = tab[tab["both_yes"]].iloc[0]
        _printed(row["estimate"], "2406420")
        _printed(row["std_error"], "645444")


def test_domain_means_match_r_example_domain_two_way(dclus1: SurveyDesign) -> None:
    # [DOMAIN] svyby(~api99+api00, ~stype+sch.wide, dclus1, svymean, keep.var=TRUE)
    expected = {
        ("E", "No"): ("601.6667", "596.3333", "47.27582", "43.49010"),
        ("E", "Yes"): ("608.3485", "653.6439", "21.52493", "20.31720"),
        ("H", "No"): ("662.0000", "659.3333", "29.23003", "27.00275"),
        ("H", "Yes"): ("577.6364", "607.4545", "46.50125", "43.70468"),
        ("M", "No"): ("611.3750", "606.3750", "41.11886", "41.11686"),
        ("M", "Yes"): ("607.2941", "643.2353", "42.53046", "42.12850"),
    }
    t99 = dclus1.mean("api99", by=["stype", "sch.wide"]).set_index(["stype", "sch.wide"])
    t00 = dclus1.mean("api00", by=["stype", "sch.wide"]).set_index(["stype", "sch.wide"])
    for key, (m99, m00, se99, se00) in expected.items():
        _printed(t99.loc[key, "estimate"], m99)
        _printed(t00.loc[key, "estimate"], m00)
        _printed(t99.loc[key, "std_error"], se99)
        _printed(t00.loc[key, "std_error"], se00)


def test_gaussian_glm_matches_r_example_regression() -> None:
    # [REGRESSION] summary(svyglm(api00 ~ ell + meals + mobility, design = dclus2)) with
    # dclus2 <- svydesign(id=~dnum+snum, weights=~pw, data=apiclus2) (with replacement: only the
    # first stage, dnum, enters the variance):
    # (Intercept) 811.4907 (30.8795), ell -2.0592 (1.4075), meals -1.7772 (1.1053),
    # mobility 0.3253 (0.5305)
    df = pd.read_csv(DATA / "apiclus2.csv")
    res = SurveyDesign(df, weight="pw", psu="dnum").glm("api00 ~ ell + meals + mobility")
    tab = res.tidy().set_index("term")
    expected = {
        "Intercept": ("811.4907", "30.8795"),
        "ell": ("-2.0592", "1.4075"),
        "meals": ("-1.7772", "1.1053"),
        "mobility": ("0.3253", "0.5305"),
    }
    for term, (est, se) in expected.items():
        _printed(tab.loc[term, "estimate"], est)
        _printed(tab.loc[term, "std_error"], se)
    # [REGRESSION] summary(svyglm(api00~stype-1, dclus2)): 692.81 (30.28), 598.34 (16.96),
    # 642.35 (45.34)
    cells = SurveyDesign(df, weight="pw", psu="dnum").glm("api00 ~ 0 + C(stype)").tidy()
    for (_, row), (est, se) in zip(
        cells.iterrows(),
        (("692.81", "30.28"), ("598.34", "16.96"), ("642.35", "45.34")),
        strict=True,
    ):
        _printed(row["estimate"], est)
        _printed(row["std_error"], se)


# ---------------------------------------------------------------- survey_api_reference.Rout
REL = 1e-6


def test_deff_and_ci_match_rscript(dstrat: SurveyDesign, dclus1: SurveyDesign) -> None:
    # [RSCRIPT] "dstrat mean api00, deff replace" .. "dclus1 total enroll, deff replace"
    assert dstrat.mean("api00").deff == pytest.approx(1.16557, abs=5e-6)
    assert dstrat.total("enroll").deff == pytest.approx(0.35033, abs=5e-6)
    m = dclus1.mean("api00")
    assert m.deff == pytest.approx(9.06975, abs=5e-6)
    assert dclus1.total("enroll").deff == pytest.approx(30.38559, abs=5e-6)
    # "dclus1 confint mean api00 on design df": t on 14 df
    assert m.df == 14
    assert m.conf_low == pytest.approx(593.676314463, rel=REL)
    assert m.conf_high == pytest.approx(694.662483351, rel=REL)


def test_ratio_matches_rscript(dclus1: SurveyDesign) -> None:
    # [RSCRIPT] "dclus1 ratio api.stu/enroll": 0.849708741724 SE 0.00838629716939
    r = dclus1.ratio("api.stu", "enroll")
    assert r.estimate == pytest.approx(0.849708741724, rel=REL)
    assert r.std_error == pytest.approx(0.00838629716939, rel=REL)


def test_domain_means_match_rscript_with_deff_and_df(dclus1: SurveyDesign) -> None:
    # [RSCRIPT] "dclus1 svyby mean api00 by stype, deff replace" and "degf of stype subsets"
    tab = dclus1.mean("api00", by="stype").set_index("stype")
    expected = {
        "E": (648.868055556, 22.3624088938, 6.38916073975, 14),
        "H": (618.571428571, 38.0202493594, 2.16242602116, 7),
        "M": (631.440000000, 31.6094652272, 2.09996791058, 11),
    }
    for level, (est, se, deff, df) in expected.items():
        assert tab.loc[level, "estimate"] == pytest.approx(est, rel=REL)
        assert tab.loc[level, "std_error"] == pytest.approx(se, rel=REL)
        assert tab.loc[level, "deff"] == pytest.approx(deff, rel=REL)
        assert tab.loc[level, "df"] == df


def test_proportion_logit_interval_matches_rscript_svyciprop(dclus1: SurveyDesign) -> None:
    # [RSCRIPT] "dclus1 svyciprop logit stype==E": 0.78688525, SE 0.0463365536499,
    # CI 0.671201134422 to 0.869764787636
    p = dclus1.proportion("stype", level="E")
    assert p.estimate == pytest.approx(0.78688525, rel=REL)
    assert p.std_error == pytest.approx(0.0463365536499, rel=REL)
    assert p.conf_low == pytest.approx(0.671201134422, rel=REL)
    assert p.conf_high == pytest.approx(0.869764787636, rel=REL)


GLM_EXPECTED = {
    # [RSCRIPT] sections "dclus1 svyglm gaussian", "dstrat svyglm gaussian", "dclus1 svyglm logit",
    # "dstrat svyglm logit", "dclus1 svyglm probit": (estimate, std. error) per term
    ("dclus1", "gaussian", "identity"): [
        (819.279051139125, 21.389971265152),
        (-0.516721779683, 0.324003944965),
        (-3.123204264899, 0.278083043761),
        (-0.168919682187, 0.444918419151),
    ],
    ("dstrat", "gaussian", "identity"): [
        (820.887315905623, 10.077735949885),
        (-0.480586612172, 0.391973403223),
        (-3.141535309985, 0.283946506417),
        (0.225713210230, 0.393218362023),
    ],
    ("dclus1", "binomial", "logit"): [
        (1.7261001737097, 0.70113590039571),
        (0.0400948017629, 0.01257307686699),
        (-0.0207883108507, 0.00921076249569),
        (0.0145803655360, 0.02583008258113),
    ],
    ("dstrat", "binomial", "logit"): [
        (0.83583652484549, 0.45562087836016),
        (-0.00248963574926, 0.01325251021939),
        (-0.00315236511229, 0.00919945360884),
        (0.06089677872753, 0.03193457693654),
    ],
    ("dclus1", "binomial", "probit"): [
        (1.01260808955062, 0.36989586441355),
        (0.02291319816165, 0.00676535950166),
        (-0.01183008735355, 0.00483833923123),
        (0.00858185987688, 0.01292836908993),
    ],
}


@pytest.mark.parametrize(("design_name", "family", "link"), list(GLM_EXPECTED))
def test_glm_matches_rscript_svyglm(
    design_name: str, family: str, link: str, request: pytest.FixtureRequest
) -> None:
    design: SurveyDesign = request.getfixturevalue(design_name)
    y = "api00" if family == "gaussian" else "sch_wide"
    # R svyglm's bread is the expected information (IRLS); it differs from the observed Hessian
    # for the probit only
    res = design.glm(
        f"{y} ~ ell + meals + mobility",
        family=family,  # type: ignore[arg-type]
        link=link,  # type: ignore[arg-type]
        hessian="expected",
    )
    got = res.tidy()[["estimate", "std_error"]].to_numpy()
    np.testing.assert_allclose(got, np.array(GLM_EXPECTED[(design_name, family, link)]), rtol=REL)


def test_jackknife_matches_rscript_jk1_jkn(dclus1: SurveyDesign, dstrat: SurveyDesign) -> None:
    # [RSCRIPT] "rclus1 (JK1) svyby mean api00 by stype": SE 25.3743035524, 46.3441217452,
    # 33.6876199986; "rstrat (JKn) mean api00": SE 9.40894
    tab = dclus1.with_variance("jackknife").mean("api00", by="stype")
    np.testing.assert_allclose(
        tab["std_error"], [25.3743035524, 46.3441217452, 33.6876199986], rtol=REL
    )
    _printed(dstrat.with_variance("jackknife").mean("api00").std_error, "9.40894")


def test_jackknife_glm_matches_rscript_jk1(dclus1: SurveyDesign) -> None:
    # [RSCRIPT] "rclus1 (JK1) svyglm logit": SEs 0.8474002343142, 0.0145980431515,
    # 0.0105493428266, 0.0375891099401
    res = dclus1.with_variance("jackknife").glm(
        "sch_wide ~ ell + meals + mobility", family="binomial"
    )
    np.testing.assert_allclose(
        res.std_errors.to_numpy(),
        [0.8474002343142, 0.0145980431515, 0.0105493428266, 0.0375891099401],
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    ("rule", "se"), [("adjust", "23.12973"), ("certainty", "23.08152"), ("remove", "23.08152")]
)
def test_lonely_psu_rules_match_rscript(apiclus1: pd.DataFrame, rule: str, se: str) -> None:
    # [RSCRIPT] "lonely PSU": options(survey.lonely.psu = rule), district 637 alone in stratum A
    df = apiclus1.assign(
        st=np.where(apiclus1["dnum"] == 637, "A", np.where(apiclus1["dnum"] < 400, "B", "C"))
    )
    design = SurveyDesign(df, weight="pw", strata="st", psu="dnum", lonely_psu=rule)  # type: ignore[arg-type]
    _printed(design.mean("api00").std_error, se)
