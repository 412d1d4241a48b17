"""The formula API: behaviour beyond the published reference numbers."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import ctip_research as ct
from ctip_research.estimation.results import EstimationError, parse_hypotheses
from models_factory import households, spec


def _frame(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 20, n)
    x = rng.normal(size=n) + 0.2 * g
    z = rng.normal(size=n)
    d = 0.8 * z + rng.normal(size=n)
    y = 1.0 + 0.5 * x + 0.3 * d + 0.1 * g + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "d": d, "z": z, "g": g, "h": g % 5, "w": 1 + g / 10})


def test_collinear_regressor_is_dropped_out_loud() -> None:
    df = _frame().assign(x2=lambda f: 2 * f["x"], const_in_g=lambda f: f["g"] * 3.0)
    with pytest.warns(UserWarning, match="collinear"):
        fit = ct.feols("y ~ x + x2 + const_in_g | g", df)
    assert set(fit.collinear) == {"x2", "const_in_g"}
    assert "Dropped as collinear" in fit.summary()
    assert "x2" not in fit.params.index


def test_fixed_effects_equal_dummy_regression_with_weights_and_intercept() -> None:
    df = _frame()
    fe = ct.feols("y ~ x | g", df, weights="w", vcov={"CRV1": "g"})
    dummies = ct.feols("y ~ x + C(g)", df, weights="w", vcov={"CRV1": "g"}, ssc="regress")
    assert fe.params["x"] == pytest.approx(dummies.params["x"], rel=1e-10)
    # xtreg's K (constant counted, nested effects not) vs every dummy counted
    n, k_fe, k_dum = len(df), 2, 21
    ratio = np.sqrt((n - k_fe) / (n - k_dum))
    assert fe.std_errors["x"] * ratio == pytest.approx(dummies.std_errors["x"], rel=1e-9)
    w = df["w"]
    cons = np.average(df["y"], weights=w) - fe.params["x"] * np.average(df["x"], weights=w)
    assert fe.params["Intercept"] == pytest.approx(cons, rel=1e-10)


def test_two_way_fixed_effects_and_iv_run_and_match_pyfixest() -> None:
    import pyfixest as pf

    df = _frame()
    fit = ct.feols("y ~ x | g + h | d ~ z", df, vcov={"CRV1": "g"}, ssc="fixest")
    ref = pf.feols("y ~ x | g + h | d ~ z", data=df, vcov={"CRV1": "g"})
    assert fit.params["d"] == pytest.approx(float(ref.coef()["d"]), rel=1e-8)
    assert fit.std_errors["d"] == pytest.approx(float(ref.se()["d"]), rel=1e-6)
    assert fit.first_stage["d"]["f"] > 10


def test_errors_are_clear() -> None:
    df = _frame()
    with pytest.raises(EstimationError, match="ssc must be one of"):
        ct.feols("y ~ x", df, ssc="stata13")
    with pytest.raises(EstimationError, match="HC2 is available"):
        ct.feols("y ~ x | g", df, vcov="HC2")
    with pytest.raises(EstimationError, match="not in the data"):
        ct.feols("y ~ x | nowhere", df)
    with pytest.raises(EstimationError, match="vcov"):
        ct.feols("y ~ x", df, vcov="robustest")


def test_wald_test_strings_terms_and_matrix_agree() -> None:
    fit = ct.feols("y ~ x + d", _frame(), vcov="hetero")
    a = fit.wald_test(["x = 0", "d = 0"])
    b = fit.wald_test(terms=["x", "d"])
    c = fit.wald_test(r_matrix=np.array([[0, 1, 0], [0, 0, 1]]))
    assert a["statistic"] == pytest.approx(b["statistic"]) == pytest.approx(c["statistic"])
    single = fit.wald_test("x = 0")
    assert single["statistic"] == pytest.approx(float(fit.tidy().iloc[1]["statistic"]) ** 2)
    r, q = parse_hypotheses(["2*x - d = 1"], ["Intercept", "x", "d"])
    assert r.tolist() == [[0.0, 2.0, -1.0]] and q.tolist() == [1.0]
    with pytest.raises(EstimationError, match="not a coefficient"):
        fit.wald_test("nope = 0")


def test_logit_errors_and_marginal_effects_options() -> None:
    df = _frame().assign(b=lambda f: (f["y"] > f["y"].median()).astype(int))
    cl = ct.logit("b ~ x + C(h)", df, vcov={"CRV1": "g"})
    assert cl.vcov_type.startswith("CRV1")
    me = cl.marginal_effects(at="overall").tidy()
    assert me["term"].tolist() == ["h[1]", "h[2]", "h[3]", "h[4]", "x"]
    assert cl.marginal_effects(at="mean").at == "mean"
    with pytest.raises(EstimationError, match="at must be"):
        cl.marginal_effects(at="median")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="0/1"):
        ct.logit("y ~ x", df)


def test_results_share_one_api_and_display() -> None:
    df = _frame().assign(b=lambda f: (f["y"] > 1).astype(int))
    fits = [ct.feols("y ~ x", df), ct.logit("b ~ x", df), ct.probit("b ~ x", df)]
    design = ct.SurveyDesign(df.assign(psu=df["g"]), weight="w", psu="psu")
    fits.append(design.glm("b ~ x", family="binomial"))
    for fit in fits:
        assert isinstance(fit, ct.ModelResult)
        assert list(fit.tidy().columns) == list(ct.estimation.TIDY_COLUMNS)
        assert fit.tidy()["term"].iloc[0] == "Intercept"
        assert "<table" in fit._repr_html_()
        assert fit.vcov.shape == (2, 2)
        assert fit.conf_int(0.9).shape == (2, 2)


def test_pipeline_results_keep_intercept_and_covariance_through_json() -> None:
    from ctip_research.models.econometric import fit_fixed_effects
    from ctip_research.models.results import RegressionResult

    res = fit_fixed_effects(households(), spec(fixed_effects=["psu_id"]))
    assert res.tidy()["term"].tolist()[0] == "Intercept"
    back = RegressionResult.from_dict(json.loads(json.dumps(res.to_dict())))
    np.testing.assert_allclose(back.vcov.to_numpy(), res.vcov.to_numpy())
    joint = back.wald_test(terms=["has_mfi_loan", "is_landless"])
    assert joint["df_num"] == 2 and 0 <= joint["p_value"] <= 1


def test_panel_time_effects_are_optional_and_collinear_regressors_reported() -> None:
    from ctip_research.models.econometric import fit_panel

    data = households()
    base = dict(kind="panel", weights=None)
    with_wave = fit_panel(data, spec(fixed_effects=["household_id", "wave"], controls=[], **base))
    without = fit_panel(data, spec(fixed_effects=["household_id"], controls=[], **base))
    assert "wave_2" in with_wave.tidy()["term"].tolist()
    assert "wave_2" not in without.tidy()["term"].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dropped = fit_panel(
            data.assign(village_size=data.groupby("psu_id")["household_id"].transform("size")),
            spec(fixed_effects=["household_id"], controls=["village_size"], **base),
        )
    assert dropped.extra["collinear"], "a time-invariant control must be reported"


def test_panel_within_r2_is_stata_xtreg_within_r2() -> None:
    import pyfixest as pf
    from linearmodels.datasets import wage_panel

    from ctip_research.models.econometric import fit_panel

    w = wage_panel.load()
    w = w.assign(household_id=w["nr"].astype(str), wave=w["year"], psu_id=w["nr"].astype(str))
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
    ref = pf.feols("lwage ~ union + expersq + married + C(year) | nr", data=w)
    # the within R2 of xtreg, fe with i.year: year dummies are regressors, only nr is absorbed
    assert res.stats["r2_within"] == pytest.approx(float(ref._r2_within), rel=1e-8)
    assert 0.17 < res.stats["r2_within"] < 0.19
