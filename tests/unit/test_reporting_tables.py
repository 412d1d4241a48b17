"""Tests of the design-based cell tables behind the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip_research.disclosure import Cells, disclose
from ctip_research.reporting.tables import domain_mean, risk_metric_cells, summarise_by


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=3, max_size=40))
def test_domain_mean_se_equals_textbook_se_for_simple_random_sample(ys: list[float]) -> None:
    # one stratum, each unit its own PSU, equal weights: SE = s / sqrt(n) (Cochran 1977, 2.8)
    y = np.asarray(ys)
    n = len(y)
    est, se = domain_mean(y, np.ones(n, dtype=bool), np.ones(n), np.zeros(n), np.arange(n))
    assert np.isclose(est, y.mean())
    assert np.isclose(se, y.std(ddof=1) / np.sqrt(n), atol=1e-9)


def _households(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "province": rng.choice(["A", "B", "C"], n),
            "has_migrant": rng.random(n) < 0.3,
            "total_debt_usd": rng.lognormal(7, 1, n) * (rng.random(n) < 0.5),
            "weight_household": rng.uniform(50, 150, n),
            "stratum_id": rng.integers(0, 4, n),
            "psu_id": rng.integers(0, 15, n),
        }
    )


def test_summarise_by_adds_margins_and_counts() -> None:
    df = _households()
    cells = summarise_by(df, ["province"], value="has_migrant", kind="share")
    assert cells["province"].tolist() == ["A", "B", "C", "Total"]
    assert cells["n_denominator"].iloc[:3].sum() == cells["n_denominator"].iloc[3] == len(df)
    assert cells["n_numerator"].iloc[3] == int(df["has_migrant"].sum())
    w = df["weight_household"]
    assert np.isclose(cells["estimate"].iloc[3], (w * df["has_migrant"]).sum() / w.sum())
    assert (cells["conf_low"] < cells["estimate"]).all()
    assert (cells["conf_high"] > cells["estimate"]).all()


def test_summarise_by_money_feeds_the_dominance_rule() -> None:
    df = _households()
    df.loc[0, "total_debt_usd"] = 5e7  # one household dominates its province
    cells = summarise_by(df, ["province"], value="total_debt_usd", kind="money")
    res = disclose(Cells(cells, "debt", dims=["province"]))
    dominated = res.table.set_index("province")["suppression_reason"]
    assert dominated[df.loc[0, "province"]] == "dominance"
    assert res.record["passed"]


def test_risk_metric_cells_keep_the_stage_suppression_and_flag_small_groups() -> None:
    # rows as the risk stage writes them (risk/subgroup_metrics.csv); province 3 was suppressed
    # there (too few positives) with its metrics blank but its household count kept
    m = pd.DataFrame(
        {
            "subgroup": ["overall", "province_code", "province_code", "province_code", "x"],
            "group": ["all", "1", "2", "3", "y"],
            "metric": ["roc_auc", "roc_auc", "roc_auc", "roc_auc", "brier"],
            "estimate": [0.78, 0.80, 0.75, np.nan, 0.1],
            "std_error": [0.02, 0.05, 0.06, np.nan, 0.01],
            "conf_low": [0.74, 0.70, 0.63, np.nan, 0.08],
            "conf_high": [0.82, 0.90, 0.87, np.nan, 0.12],
            "n_households": [600, 60, 30, 47, 20],
            "is_suppressed": [False, False, False, True, False],
        }
    )
    cells = risk_metric_cells(m)
    assert cells["status"].tolist() == [
        "published",
        "published",
        "flagged",
        "suppressed",
        "suppressed",
    ]
    assert cells["suppression_reason"].tolist()[3:] == ["risk stage", "reliability"]
    assert cells.loc[3:, ["estimate", "conf_low", "conf_high", "n_denominator"]].isna().all().all()
    assert cells.loc[:2, "n_denominator"].tolist() == [600.0, 60.0, 30.0]
    assert disclose(Cells(cells, "risk")).record["passed"]
    only = risk_metric_cells(m, metrics=["brier"])
    assert only["metric"].tolist() == ["brier"]
