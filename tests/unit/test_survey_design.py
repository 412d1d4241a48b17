"""SurveyDesign: descriptive estimates, design rules, domains, missing values, jackknife."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctip_research.errors import SurveyDesignError
from ctip_research.survey import TIDY_COLUMNS, Estimate, SurveyDesign
from ctip_research.survey._engine import _codes, _nested_codes, linearized_vcov


def make_survey(
    seed: int, *, n_strata: int = 4, psu_per_stratum: int = 5, per_psu: int = 8
) -> pd.DataFrame:
    """A stratified two-stage sample with PSU labels that repeat across strata."""
    rng = np.random.default_rng(seed)
    n_psu = n_strata * psu_per_stratum
    psu_global = np.repeat(np.arange(n_psu), per_psu)
    stratum = psu_global // psu_per_stratum
    n = psu_global.size
    psu_effect = rng.normal(0, 1, n_psu)[psu_global]
    x = rng.gamma(2.0, 2.0, n) + 0.5
    y = 3.0 + psu_effect + 0.5 * x + rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "stratum": stratum,
            "village": psu_global % psu_per_stratum,  # repeats across strata: must be nested
            "w": rng.uniform(5.0, 50.0, n_psu)[psu_global],
            "y": y,
            "x": x,
            "b": (rng.uniform(size=n) < 0.3).astype(int),
            "g": rng.choice(["a", "b", "c"], n),
            "pop_villages": (psu_per_stratum * 10) + stratum,
        }
    )


def numpy_se(design: SurveyDesign, z: np.ndarray) -> float:
    return float(np.sqrt(linearized_vcov(design.arrays, z)[0, 0]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), with_fpc=st.booleans())
def test_svy_taylor_se_equals_numpy_linearisation_on_random_designs(
    seed: int, with_fpc: bool
) -> None:
    df = make_survey(seed)
    design = SurveyDesign(
        df, weight="w", strata="stratum", psu="village", fpc="pop_villages" if with_fpc else None
    )
    w, y, x = df["w"].to_numpy(), df["y"].to_numpy(), df["x"].to_numpy()
    big_w = w.sum()
    mean = design.mean("y")
    assert mean.estimate == pytest.approx((w * y).sum() / big_w)
    assert mean.std_error == pytest.approx(numpy_se(design, w * (y - mean.estimate) / big_w))
    total = design.total("y")
    assert total.std_error == pytest.approx(numpy_se(design, w * y))
    ratio = design.ratio("y", "x")
    r = (w * y).sum() / (w * x).sum()
    assert ratio.std_error == pytest.approx(numpy_se(design, w * (y - r * x) / (w * x).sum()))


def test_psu_labels_are_nested_in_strata_when_they_repeat() -> None:
    df = make_survey(1)
    unique = df.assign(village=df["stratum"] * 100 + df["village"])
    a = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    b = SurveyDesign(unique, weight="w", strata="stratum", psu="village")
    assert a.n_psu == b.n_psu == 20
    assert a.df == 16
    assert a.mean("y").std_error == pytest.approx(b.mean("y").std_error)


def test_fpc_as_fraction_equals_fpc_as_population_count() -> None:
    df = make_survey(2)
    df["fraction"] = 5 / df["pop_villages"]
    a = SurveyDesign(df, weight="w", strata="stratum", psu="village", fpc="pop_villages")
    b = SurveyDesign(df, weight="w", strata="stratum", psu="village", fpc="fraction")
    no_fpc = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    assert a.mean("y").std_error == pytest.approx(b.mean("y").std_error)
    assert a.mean("y").std_error < no_fpc.mean("y").std_error


def test_domain_total_equals_full_design_total_of_masked_variable() -> None:
    # the domain total is the total of y * 1[domain] over the full design, errors included
    df = make_survey(3)
    df["y_in_a"] = np.where(df["g"] == "a", df["y"], 0.0)
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    by = design.total("y", by="g").set_index("g")
    full = design.total("y_in_a")
    assert by.loc["a", "estimate"] == pytest.approx(full.estimate)
    assert by.loc["a", "std_error"] == pytest.approx(full.std_error)


def test_domain_se_differs_from_subset_se() -> None:
    # subsetting drops the PSUs with no domain members in a stratum and changes the error
    df = make_survey(4)
    df.loc[(df["stratum"] == 0) & (df["village"] < 3), "g"] = "b"
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    dom = design.total("y", by="g").set_index("g").loc["a", "std_error"]
    sub = df[df["g"] == "a"]
    subset = SurveyDesign(sub, weight="w", strata="stratum", psu="village").total("y")
    assert dom != pytest.approx(subset.std_error, rel=1e-3)


def test_missing_values_leave_the_estimate_but_keep_the_design() -> None:
    df = make_survey(5)
    df.loc[df.index % 7 == 0, "y"] = np.nan
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    est = design.mean("y")
    observed = df["y"].notna()
    assert est.n_obs == int(observed.sum())
    flagged = df.assign(obs=observed)
    dom = SurveyDesign(flagged, weight="w", strata="stratum", psu="village").mean("y", by="obs")
    row = dom[dom["obs"]].iloc[0]
    assert est.estimate == pytest.approx(row["estimate"])
    assert est.std_error == pytest.approx(row["std_error"])
    assert est.df == design.df


def test_deff_of_simple_random_sample_is_one() -> None:
    rng = np.random.default_rng(6)
    df = pd.DataFrame({"y": rng.normal(size=300), "w": np.full(300, 10.0)})
    assert SurveyDesign(df, weight="w").mean("y").deff == pytest.approx(1.0)


def test_jackknife_equals_taylor_for_totals() -> None:
    # a total is linear: JKn and linearisation agree exactly, with and without FPC
    df = make_survey(7)
    for fpc in (None, "pop_villages"):
        design = SurveyDesign(df, weight="w", strata="stratum", psu="village", fpc=fpc)
        jk = design.with_variance("jackknife")
        assert jk.total("y").std_error == pytest.approx(design.total("y").std_error)


def test_jackknife_mean_close_to_taylor_mean() -> None:
    df = make_survey(8, n_strata=10, psu_per_stratum=6)
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    ratio = design.with_variance("jackknife").mean("y").std_error / design.mean("y").std_error
    assert 0.95 < ratio < 1.05


def test_proportions_of_all_levels_sum_to_one() -> None:
    design = SurveyDesign(make_survey(9), weight="w", strata="stratum", psu="village")
    tab = design.proportion("g")
    assert list(tab["term"]) == ["g=a", "g=b", "g=c"]
    assert tab["estimate"].sum() == pytest.approx(1.0)
    assert (tab["conf_low"] < tab["estimate"]).all()
    assert (tab["estimate"] < tab["conf_high"]).all()


def test_proportion_of_binary_variable_is_its_mean() -> None:
    design = SurveyDesign(make_survey(10), weight="w", strata="stratum", psu="village")
    p = design.proportion("b")
    m = design.mean("b")
    assert isinstance(p, Estimate)
    assert p.estimate == pytest.approx(m.estimate)
    assert p.std_error == pytest.approx(m.std_error)
    assert p.conf_low != pytest.approx(m.conf_low)  # logit interval, not Wald


def test_proportion_by_domain_has_one_row_per_level() -> None:
    design = SurveyDesign(make_survey(11), weight="w", strata="stratum", psu="village")
    tab = design.proportion("b", by="g")
    assert list(tab.columns) == ["g", *TIDY_COLUMNS]
    assert list(tab["g"]) == ["a", "b", "c"]


def test_by_rows_with_missing_group_are_excluded() -> None:
    df = make_survey(12)
    df["g2"] = df["g"].where(df.index % 5 != 0)
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    tab = design.mean("y", by="g2")
    assert tab["n_obs"].sum() == int(df["g2"].notna().sum())


def test_estimate_tidy_has_house_columns_and_consistent_interval() -> None:
    design = SurveyDesign(make_survey(13), weight="w", strata="stratum", psu="village")
    est = design.mean("y")
    tidy = est.tidy()
    assert list(tidy.columns) == list(TIDY_COLUMNS)
    assert est.conf_low < est.estimate < est.conf_high
    assert tidy.loc[0, "statistic"] == pytest.approx(est.estimate / est.std_error)
    assert "mean of y" in str(est)
    assert est.to_dict()["df"] == design.df


def test_lonely_psu_fail_raises() -> None:
    df = make_survey(14)
    df = df[~((df["stratum"] == 0) & (df["village"] > 0))]
    with pytest.raises(SurveyDesignError, match="single PSU"):
        SurveyDesign(df, weight="w", strata="stratum", psu="village")
    ok = SurveyDesign(df, weight="w", strata="stratum", psu="village", lonely_psu="certainty")
    assert ok.mean("y").std_error > 0
    with pytest.raises(SurveyDesignError, match="jackknife"):
        SurveyDesign(
            df, weight="w", strata="stratum", psu="village", lonely_psu="adjust"
        ).with_variance("jackknife").mean("y")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(w=-d["w"]), "non-positive"),
        (lambda d: d.assign(village=d["village"].where(d.index > 0)), "missing"),
        (lambda d: d.assign(pop_villages=d["pop_villages"] + (d.index % 2)), "varies"),
        (lambda d: d.assign(pop_villages=2), "more sampled PSUs"),
    ],
)
def test_invalid_design_raises(change: object, message: str) -> None:
    df = change(make_survey(15))  # type: ignore[operator]
    with pytest.raises(SurveyDesignError, match=message):
        SurveyDesign(df, weight="w", strata="stratum", psu="village", fpc="pop_villages")


def test_unknown_column_and_options_raise() -> None:
    df = make_survey(16)
    with pytest.raises(SurveyDesignError, match="not in the data"):
        SurveyDesign(df, weight="weight_household")
    with pytest.raises(SurveyDesignError, match="variance"):
        SurveyDesign(df, weight="w", variance="bootstrap")  # type: ignore[arg-type]
    design = SurveyDesign(df, weight="w")
    with pytest.raises(SurveyDesignError, match="not numeric"):
        design.mean("g")
    with pytest.raises(SurveyDesignError, match="not in the survey data"):
        design.mean("nope")


def test_design_description_names_design_and_counts() -> None:
    design = SurveyDesign(make_survey(17), weight="w", strata="stratum", psu="village")
    text = design.describe()
    assert "strata=stratum (4)" in text
    assert "psu=village (20)" in text
    assert design.n_obs == 160
    assert design.n_strata == 4


@pytest.mark.parametrize("rule", ["certainty", "remove", "adjust"])
def test_numpy_lonely_psu_rules_equal_svy(rule: str) -> None:
    # the GLM path uses the numpy engine, the descriptive path svy: both apply the same rule
    df = make_survey(18)
    df = df[~((df["stratum"] == 1) & (df["village"] > 0))].reset_index(drop=True)
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village", lonely_psu=rule)  # type: ignore[arg-type]
    w, y = df["w"].to_numpy(), df["y"].to_numpy()
    mean = design.mean("y")
    assert mean.std_error == pytest.approx(
        numpy_se(design, w * (y - mean.estimate) / w.sum()), rel=1e-10
    )


@pytest.mark.parametrize("n_inner", [7, 5_000])  # dense grid, and a sparse one (sort fallback)
def test_nested_codes_equal_the_sorted_pair_codes(n_inner: int) -> None:
    rng = np.random.default_rng(7)
    outer = rng.integers(0, 4, 600).astype(np.int64)
    inner = rng.integers(0, n_inner, 600).astype(np.int64)
    expected = _codes(pd.DataFrame({"s": outer, "p": inner}))
    np.testing.assert_array_equal(_nested_codes(outer, inner), expected)


def test_the_svy_sample_holds_only_the_columns_estimated() -> None:
    df = make_survey(3)
    df["note"] = "free text"
    design = SurveyDesign(df, weight="w", strata="stratum", psu="village")
    design.mean("y")
    assert design._svy_columns == ("y",)
    design.mean("y", by="g")
    assert design._svy_columns == ("y", "g")
    design.mean("y")  # reuses the Sample
    assert design._svy_columns == ("y", "g")
