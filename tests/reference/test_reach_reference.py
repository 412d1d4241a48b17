"""Programme reach estimates against numbers computed elsewhere.

- The share of supported units, overall: R ``survey`` 4.1.1, ``svyciprop(~I(stype == "E"),
  dclus1, method = "logit", df = degf(dclus1))`` on the ``apiclus1`` data shipped with the
  package (Lumley 2010), printed in ``data/survey_api_reference.Rout`` by
  ``data/survey_api_reference.R``.
- The totals and the mean per supported unit: the textbook Taylor-linearisation formulas of a
  one-stage cluster sample with a finite-population correction (Lumley 2010, sections 2.2 and
  3.4; Cochran 1977, eq. 11.30), computed here with plain numpy on the PSU totals: a different
  method from the package's engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ctip_research.config.fit import DesignParams
from ctip_research.models.reach import estimate_reach

DATA = Path(__file__).parent / "data"
DESIGN = DesignParams(weight="pw", strata=None, psu="dnum", fpc="fpc", lonely_psu="fail")


@pytest.fixture(scope="module")
def clus1() -> pd.DataFrame:
    """apiclus1 with a made-up programme: elementary schools are 'supported', one in three is
    'represented by a woman' and 'trained' counts come from the school number."""
    df = pd.read_csv(DATA / "apiclus1.csv")
    supported = df["stype"] == "E"
    return df.assign(
        received_livelihood_grant=supported,
        representative_is_female=pd.array(
            np.where(supported, df["snum"] % 3 == 0, pd.NA), dtype="boolean"
        ),
        n_members_trained=np.where(supported, df["snum"] % 4 + 1, 0),
        n_trained_tip_safe_migration=np.where(supported, df["snum"] % 2 + 1, 0),
    )


@pytest.fixture(scope="module")
def table(clus1: pd.DataFrame) -> pd.DataFrame:
    res = estimate_reach(clus1, DESIGN)
    return res.table.set_index("indicator")


def _cluster_variance(df: pd.DataFrame, z: np.ndarray) -> float:
    """v = (1 - n/N) n/(n - 1) sum_i (t_i - mean t)^2 over the PSU totals t_i of z."""
    totals = pd.Series(z).groupby(df["dnum"].to_numpy()).sum().to_numpy()
    n = len(totals)
    big_n = float(df["fpc"].iloc[0])
    return (1 - n / big_n) * n / (n - 1) * float(((totals - totals.mean()) ** 2).sum())


def test_share_supported_matches_r_svyciprop_logit(table: pd.DataFrame) -> None:
    # [ROUT] dclus1 svyciprop logit stype==E: 0.78688525, SE 0.0463365536499,
    # CI 0.671201134422 to 0.869764787636
    row = table.loc["households_supported_share"]
    assert row["estimate"] == pytest.approx(0.78688525, abs=1e-8)
    assert row["std_error"] == pytest.approx(0.0463365536499, rel=1e-8)
    assert row["conf_low"] == pytest.approx(0.671201134422, rel=1e-8)
    assert row["conf_high"] == pytest.approx(0.869764787636, rel=1e-8)


def test_totals_match_the_cluster_sample_formula(clus1: pd.DataFrame, table: pd.DataFrame) -> None:
    w = clus1["pw"].to_numpy(float)
    df = clus1["dnum"].nunique() - 1
    q = stats.t.ppf(0.975, df)
    for name, column in (
        ("households_supported", "received_livelihood_grant"),
        ("members_trained", "n_members_trained"),
        ("members_trained_tip_safe_migration", "n_trained_tip_safe_migration"),
    ):
        y = clus1[column].to_numpy(float)
        est = float((w * y).sum())
        se = np.sqrt(_cluster_variance(clus1, w * y))
        row = table.loc[name]
        assert row["estimate"] == pytest.approx(est, rel=1e-10), name
        assert row["std_error"] == pytest.approx(se, rel=1e-8), name
        assert row["conf_low"] == pytest.approx(est - q * se, rel=1e-8), name
        assert row["conf_high"] == pytest.approx(est + q * se, rel=1e-8), name


def test_per_supported_household_is_the_linearised_domain_mean(
    clus1: pd.DataFrame, table: pd.DataFrame
) -> None:
    w = clus1["pw"].to_numpy(float)
    d = clus1["received_livelihood_grant"].to_numpy(bool)
    y = clus1["n_members_trained"].to_numpy(float)
    n_hat = float(w[d].sum())
    mean = float((w * y)[d].sum()) / n_hat
    z = np.where(d, w * (y - mean), 0.0) / n_hat  # the domain mean's influence values
    row = table.loc["members_trained_per_supported_household"]
    assert row["estimate"] == pytest.approx(mean, rel=1e-10)
    assert row["std_error"] == pytest.approx(np.sqrt(_cluster_variance(clus1, z)), rel=1e-8)
    assert row["n_obs"] == int(d.sum())


def test_female_share_is_over_supported_units_with_a_known_answer(
    clus1: pd.DataFrame, table: pd.DataFrame
) -> None:
    w = clus1["pw"].to_numpy(float)
    known = clus1["representative_is_female"].notna().to_numpy()
    f = clus1["representative_is_female"].fillna(False).to_numpy(bool)
    row = table.loc["female_representative_share"]
    assert row["estimate"] == pytest.approx(float(w[f].sum() / w[known].sum()), rel=1e-10)
    assert row["n_obs"] == int(known.sum())
    assert row["n_numerator"] == int(f.sum())
    assert row["conf_low"] < row["estimate"] < row["conf_high"]
