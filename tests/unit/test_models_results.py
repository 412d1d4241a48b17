"""Result objects: tidy/glance/summary, serialisation and the maketables plug-in."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip_research.models.results import (
    ESTIMATE_COLUMNS,
    TIDY_COLUMNS,
    RegressionResult,
    make_terms,
)


def _result() -> RegressionResult:
    terms = make_terms(["x", "c"], np.array([0.1, -0.2]), np.array([0.02, 0.5]), df=49, alpha=0.05)
    return RegressionResult(
        model="m",
        kind="fixed_effects",
        outcome="y",
        exposure="x",
        terms=terms,
        n_obs=500,
        n_psu=50,
        df_resid=497,
        design="clustered by psu_id",
        fixed_effects=("psu_id",),
        stats={"r2": 0.3, "r2_within": float("nan")},
        extra={"note": "n"},
        label="M",
        info={"estimator": "OLS"},
    )


def test_tidy_and_estimates_have_contract_columns() -> None:
    res = _result()
    assert res.tidy().columns.tolist() == TIDY_COLUMNS
    est = res.estimates()
    assert est.columns.tolist() == ESTIMATE_COLUMNS
    assert est["model"].unique().tolist() == ["m"] and est["n_psu"].iloc[0] == 50


def test_to_dict_round_trips_through_json() -> None:
    res = _result()
    back = RegressionResult.from_dict(json.loads(json.dumps(res.to_dict())))
    assert back.tidy().equals(res.tidy())
    assert back.fixed_effects == res.fixed_effects and back.info == res.info
    assert np.isnan(back.stats["r2_within"])


def test_summary_names_model_errors_and_terms() -> None:
    text = _result().summary()
    assert "clustered by psu_id" in text and "psu_id" in text and "0.1000" in text


def test_glance_has_one_row_with_stats() -> None:
    g = _result().glance()
    assert len(g) == 1 and g["r2"].iloc[0] == 0.3


def test_maketables_plugin_reports_n_and_missing_stats_as_none() -> None:
    res = _result()
    assert res.__maketables_stat__("N") == 500
    assert res.__maketables_stat__("r2_within") is None
    assert res.__maketables_coef_table__.loc["x", "b"] == pytest.approx(0.1)


@given(st.floats(-5, 5), st.floats(0.01, 3), st.integers(2, 500))
def test_interval_contains_estimate_and_p_matches_t(est: float, se: float, df: int) -> None:
    from scipy import stats

    t = make_terms(["x"], np.array([est]), np.array([se]), df=df, alpha=0.05).iloc[0]
    assert t["conf_low"] <= est <= t["conf_high"]
    assert t["p_value"] == pytest.approx(2 * stats.t.sf(abs(est / se), df), abs=1e-12)
    assert (t["p_value"] < 0.05) == (t["conf_low"] > 0 or t["conf_high"] < 0)
