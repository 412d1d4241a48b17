"""Tests of the design-based cell tables behind the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip_research.reporting.disclosure import apply_disclosure_control
from ctip_research.reporting.tables import domain_mean, summarise_by


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
    res = apply_disclosure_control(cells, name="debt", dims=["province"])
    dominated = res.table.set_index("province")["suppression_reason"]
    assert dominated[df.loc[0, "province"]] == "dominance"
    assert res.record["passed"]
