"""Econometric models against published textbook output and other packages on the same data.

Sources
-------
[W15] Wooldridge, J. M., *Introductory Econometrics: A Modern Approach*, 7th ed. (2020), ch. 15,
      MROZ data (428 working women): Example 15.1, eq. (15.10), log(wage) on educ instrumented by
      fatheduc: educ .059 (.035), intercept .441 (.446); first stage (15.9) fatheduc .269; eq. (15.40), with exper, expersq and
      instruments motheduc, fatheduc: educ .0614 (.0314), exper .0442 (.0134).
      Data: ``linearmodels.datasets.mroz`` (the same MROZ.RAW file).
[W17] Same book, Table 17.1 (Example 17.1), MROZ, 753 women, inlf on nwifeinc, educ, exper,
      expersq, age, kidslt6, kidsge6: logit coefficients -.021, .221, .206, -.0032, -.088,
      -1.443, .060, constant .425; probit -.012, .131, .123, -.0019, -.053, -.868, .036, .270.
[PF]  pyfixest (py-econometrics, installed dev dependency) run here on the same data:
      ``feols`` / IV with CRV1 errors; small-sample convention G/(G-1)(N-1)/(N-K), where K counts
      fixed effects per ``ssc(k_fixef=...)``: "none" when the absorbed effects are nested in the
      clusters (village effects, household effects), "nonnested" (its default) otherwise.
[SM]  statsmodels (installed) run here: ``Logit``/``Probit`` cluster-robust covariance, an
      observed-Hessian sandwich (Stata ``svy: probit``; for the logit it equals R ``svyglm``)
      with ``use_correction=True``: G/(G-1)(N-1)/(N-K); design-based errors with one stratum
      are G/(G-1) only, hence the factor sqrt((N-K)/(N-1)). ``get_margeff`` for the AMEs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip_research.config.fit import DesignParams
from ctip_research.models.design_based import fit_survey_glm_model
from ctip_research.models.econometric import fit_fixed_effects, fit_iv, fit_panel
from models_factory import households, spec

pytestmark = pytest.mark.reference

LOGIT_X = ["nwifeinc", "educ", "exper", "expersq", "age", "kidslt6", "kidsge6"]


def _printed(value: float, printed: str) -> None:
    decimals = len(printed.split(".")[1])
    assert value == pytest.approx(float(printed), abs=0.5 * 10.0**-decimals)


@pytest.fixture(scope="module")
def mroz() -> pd.DataFrame:
    from linearmodels.datasets import mroz

    df = mroz.load()
    df["one"] = 1.0
    df["cl"] = (np.arange(len(df)) // 7).astype(str)
    df["stratum"] = "s"
    return df


def _mroz_spec(**kw):
    base = dict(
        outcome="lwage",
        exposure="educ",
        controls=[],
        fixed_effects=[],
        cluster=None,
        weights=None,
        kind="iv",
        instruments=["fatheduc"],
    )
    base.update(kw)
    return spec(**base)


def test_iv_matches_wooldridge_example_15_1_and_pyfixest_robust(mroz) -> None:
    import pyfixest as pf

    work = mroz.dropna(subset=["lwage"]).reset_index(drop=True)
    res = fit_iv(work, _mroz_spec())
    _printed(res.effect, "0.059")  # [W15] eq. (15.10)
    _printed(float(res.extra["first_stage"]["coefficients"]["fatheduc"]), "0.269")  # (15.9)
    assert res.n_obs == 428
    ref = pf.feols("lwage ~ 1 | educ ~ fatheduc", data=work, vcov="hetero")  # [PF] HC1
    assert float(res.term()["std_error"]) == pytest.approx(float(ref.se()["educ"]), rel=1e-8)


def test_overidentified_iv_matches_wooldridge_15_40(mroz) -> None:
    work = mroz.dropna(subset=["lwage"]).reset_index(drop=True)
    res = fit_iv(
        work, _mroz_spec(controls=["exper", "expersq"], instruments=["motheduc", "fatheduc"])
    )
    _printed(res.effect, "0.0614")  # [W15] eq. (15.40)
    _printed(float(res.term("exper")["estimate"]), "0.0442")
    assert res.extra["overid"]["df"] == 1 and 0 < res.extra["overid"]["p_value"] < 1


def test_iv_clustered_errors_match_pyfixest_crv1() -> None:
    import pyfixest as pf

    df = households(n_villages=120, hh=10, seed=21)
    df = df.loc[df["wave"] == 1].reset_index(drop=True)
    df["y"] = df["has_international_migrant"].astype(float)
    df["d"] = df["has_mfi_loan"].astype(float)
    df["x"] = df["is_landless"].astype(float)
    res = fit_iv(
        df,
        spec(
            kind="iv",
            outcome="y",
            exposure="d",
            controls=["x"],
            instruments=["mfi_branches_per_1000hh"],
            weights=None,
        ),
    )
    ref = pf.feols("y ~ x | 0 | d ~ mfi_branches_per_1000hh", data=df, vcov={"CRV1": "psu_id"})
    assert res.effect == pytest.approx(float(ref.coef()["d"]), rel=1e-8)
    assert float(res.term()["std_error"]) == pytest.approx(float(ref.se()["d"]), rel=1e-8)


@pytest.mark.parametrize(
    ("link", "printed"),
    [
        ("logit", ["-0.021", "0.221", "0.206", "-0.0032", "-0.088", "-1.443", "0.060"]),
        ("probit", ["-0.012", "0.131", "0.123", "-0.0019", "-0.053", "-0.868", "0.036"]),
    ],
)
def test_survey_glm_matches_wooldridge_table_17_1_and_statsmodels_clustered(
    mroz, link: str, printed: list[str]
) -> None:
    import statsmodels.api as sm

    design = DesignParams(weight="one", strata="stratum", psu="cl", fpc=None, lonely_psu="fail")
    s = spec(
        kind="survey_glm",
        outcome="inlf",
        exposure="nwifeinc",
        controls=LOGIT_X[1:],
        link=link,
        cluster=None,
        weights=None,
    )
    res = fit_survey_glm_model(mroz, s, design)
    coefs = pd.DataFrame(res.extra["coefficients"]).set_index("term")
    for name, value in zip(LOGIT_X, printed, strict=True):
        _printed(float(coefs.loc[name, "estimate"]), value)  # [W17]
    x = sm.add_constant(mroz[LOGIT_X])
    y = mroz["inlf"].astype(float)
    fit_c = (sm.Logit if link == "logit" else sm.Probit)(y, x).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": pd.factorize(mroz["cl"])[0]}
    )
    n, k = x.shape
    # [SM] observed-Hessian sandwich (Stata svy: logit/probit; SurveyDesign.glm's default),
    # G/(G-1)(N-1)/(N-K) -> G/(G-1)
    expected_se = fit_c.bse[LOGIT_X].to_numpy() * np.sqrt((n - k) / (n - 1))
    assert coefs.loc[LOGIT_X, "std_error"].to_numpy() == pytest.approx(expected_se, rel=1e-6)
    model = (sm.Logit if link == "logit" else sm.Probit)(y, x)
    fit = model.fit(disp=0)
    # average marginal effects: the point estimates of statsmodels' get_margeff [SM]
    ame = fit.get_margeff(at="overall").summary_frame()["dy/dx"]
    got = res.tidy().set_index("term")["estimate"]
    assert got[LOGIT_X].to_numpy() == pytest.approx(ame[LOGIT_X].to_numpy(), rel=1e-5)


def test_fixed_effects_clustered_errors_match_pyfixest() -> None:
    import pyfixest as pf

    df = households(n_villages=100, hh=10, seed=22)
    df = df.loc[df["wave"] == 1].reset_index(drop=True)
    df["y"] = df["has_international_migrant"].astype(float)
    df["d"] = df["has_mfi_loan"].astype(float)
    df["x"] = df["is_landless"].astype(float)
    for fe in ("psu_id", "province_code"):
        res = fit_fixed_effects(
            df, spec(outcome="y", exposure="d", controls=["x"], fixed_effects=[fe])
        )
        # [PF] default ssc (K.fixef="nonnested"): the nested village effects count as the
        # constant only, as Stata xtreg, fe; province effects count as their dummies
        ref = pf.feols(
            f"y ~ d + x | {fe}",
            data=df,
            weights="weight_household",
            vcov={"CRV1": "psu_id"},
        )
        assert res.effect == pytest.approx(float(ref.coef()["d"]), rel=1e-8)
        assert float(res.term()["std_error"]) == pytest.approx(float(ref.se()["d"]), rel=1e-7)


def test_panel_clustered_errors_match_pyfixest_without_household_effects_in_k() -> None:
    import pyfixest as pf
    from linearmodels.datasets import wage_panel

    w = wage_panel.load()
    w["household_id"] = w["nr"].astype(str)
    w["wave"] = w["year"]
    w["psu_id"] = w["nr"].astype(str)
    res = fit_panel(
        w,
        spec(
            kind="panel",
            outcome="lwage",
            exposure="union",
            controls=["expersq", "married"],
            fixed_effects=["household_id", "wave"],
            weights=None,
        ),
    )
    ref = pf.feols(
        "lwage ~ union + expersq + married | nr + year",
        data=w,
        vcov={"CRV1": "nr"},
    )  # [PF] default ssc: household effects nested in the clusters not counted, year effects are
    n = len(w)
    assert res.effect == pytest.approx(float(ref.coef()["union"]), rel=1e-8)
    # G/(G-1)(N-1)/(N-K), K = 3 regressors + constant + 7 year dummies (Stata xtreg, fe i.year)
    assert n == 4360
    assert float(res.term()["std_error"]) == pytest.approx(float(ref.se()["union"]), rel=1e-7)
