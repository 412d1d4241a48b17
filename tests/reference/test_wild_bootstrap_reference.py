"""Wild cluster bootstrap (WCR) against implementations written elsewhere, on the same data.

Sources
-------
[WBT] ``wildboottest`` 0.3.2 (py-econometrics, A. Fischer & contributors; dev dependency),
      ``wildboottest.wildboottest.WildboottestCL`` with ``bootstrap_type="11"`` (WCR with the CRV1
      statistic, the "fast and wild" algorithm of Roodman et al. 2019) and ``impose_null=True``.
      It enumerates all 2^G Rademacher sign vectors when 2^G < B, so its bootstrap t-statistics
      are then deterministic and must equal ours draw for draw (up to order): tolerance 1e-10.
      Its p-value counts draws with |t*| > |t| strictly; ours counts ties too (the draws v = +-1
      reproduce |t|), so the two p-values differ by at most 2 / 2^G, and ours equals the share of
      its t* with |t*| >= |t| exactly.
[PF]  pyfixest 0.60 (dev dependency) ``Feols.wildboottest`` (it calls [WBT] on the one-hot
      encoded fixed effects), for a one-way fixed-effect model: checks the FWL partialling of
      effects nested in the clusters. Its t uses K = all one-hot columns; ours does not count the
      nested effects (reghdfe), so the statistics differ by the known factor
      sqrt(ssc_ours / ssc_pf) and the p-values (invariant to that factor) agree.
Neither supports weights: the weighted case is checked against [WBT] run on sqrt-weight
transformed data (WLS = OLS on sqrt(w) y, sqrt(w) X), the textbook equivalence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip_research.models.wild_bootstrap import wild_cluster_bootstrap

pytestmark = pytest.mark.reference

B = 9999


def _wildboottest(
    x: np.ndarray, y: np.ndarray, cluster: np.ndarray, *, weights_type: str, seed: int = 7
) -> tuple[float, float, np.ndarray, float]:
    """[WBT] for the first column of ``x``: (t, p, t*, ssc)."""
    from wildboottest.wildboottest import WildboottestCL

    r = np.zeros(x.shape[1])
    r[0] = 1.0
    boot = WildboottestCL(X=x, Y=y, cluster=cluster, R=r, B=B, seed=seed, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type=weights_type)
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    t = float(np.asarray(boot.t_stat).ravel()[0])
    return t, float(boot.pvalue), np.asarray(boot.t_boot, float), float(boot.ssc)


def _data(n_clusters: int, seed: int) -> pd.DataFrame:
    """Unbalanced clusters, a cluster-correlated regressor and error, a nested and a coarse effect."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(8, 90, n_clusters)
    g = np.repeat(np.arange(n_clusters), sizes)
    n = len(g)
    sub = g * 3 + rng.integers(0, 3, n)  # nested in the clusters
    coarse = g % 3  # clusters nested in it (not nested in the clusters)
    x = rng.normal(size=n) + rng.normal(size=n_clusters)[g] + 0.1 * (sub % 5)
    z = rng.normal(size=n)
    y = 0.08 * x + 0.3 * z + 0.05 * sub + rng.normal(size=n_clusters)[g] + rng.normal(size=n)
    w = rng.uniform(0.5, 3.0, n)
    return pd.DataFrame({"y": y, "x": x, "z": z, "g": g, "sub": sub, "coarse": coarse, "w": w})


def _assert_same_enumeration(ours, t_ref: float, p_ref: float, tb_ref: np.ndarray, g: int) -> None:
    assert ours.full_enumeration and ours.reps == 2**g == len(tb_ref)
    np.testing.assert_allclose(
        np.sort(ours.bootstrap_statistics), np.sort(tb_ref), rtol=0, atol=1e-10
    )
    p_ties = float(np.mean(np.abs(tb_ref) >= abs(t_ref) * (1 - 1e-9)))
    assert ours.p_value == pytest.approx(p_ties, abs=1e-12)
    assert 0 <= ours.p_value - p_ref <= 2 / 2**g + 1e-12


def test_wcr_rademacher_enumeration_matches_wildboottest_unweighted() -> None:
    df = _data(8, seed=11)
    x = df[["x", "z"]].assign(const=1.0).to_numpy()
    ours = wild_cluster_bootstrap(
        df["y"], x, df["g"], param_index=0, reps=B, weight_type="rademacher", seed=1
    )
    t_ref, p_ref, tb_ref, _ = _wildboottest(
        x, df["y"].to_numpy(), df["g"].to_numpy(), weights_type="rademacher"
    )
    assert ours.statistic == pytest.approx(t_ref, abs=1e-10)
    _assert_same_enumeration(ours, t_ref, p_ref, tb_ref, 8)


def test_wcr_rademacher_enumeration_matches_wildboottest_weighted() -> None:
    df = _data(9, seed=12)
    sw = np.sqrt(df["w"].to_numpy())
    x = df[["x", "z"]].assign(const=1.0).to_numpy()
    ours = wild_cluster_bootstrap(
        df["y"],
        x,
        df["g"],
        param_index=0,
        weights=df["w"],
        reps=B,
        weight_type="rademacher",
        seed=1,
    )
    t_ref, p_ref, tb_ref, _ = _wildboottest(
        x * sw[:, None], df["y"].to_numpy() * sw, df["g"].to_numpy(), weights_type="rademacher"
    )
    assert ours.statistic == pytest.approx(t_ref, abs=1e-10)
    _assert_same_enumeration(ours, t_ref, p_ref, tb_ref, 9)


def test_wcr_nested_fixed_effect_matches_pyfixest() -> None:
    import pyfixest as pf

    df = _data(8, seed=13)
    fit = pf.feols("y ~ x + z | sub", data=df, vcov={"CRV1": "g"})
    ref, tb_ref = fit.wildboottest(
        param="x", reps=B, seed=3, weights_type="rademacher", return_bootstrapped_t_stats=True
    )
    ours = wild_cluster_bootstrap(
        df["y"],
        df[["x", "z"]],
        df["g"],
        param_index="x",
        absorb=df[["sub"]],
        reps=B,
        weight_type="rademacher",
        seed=1,
    )
    n, k, g = len(df), 2, 8
    # nested effect not counted in K, the constant it stands for is (Stata xtreg, fe)
    ssc_ours = g / (g - 1) * (n - 1) / (n - k - 1)
    ssc_pf = float(ref["ssc"])
    factor = np.sqrt(ssc_ours / ssc_pf)
    assert ours.statistic * factor == pytest.approx(float(ref["t value"]), abs=1e-10)
    # t* scale with the same factor; the p-value is invariant to it
    tb_ref = np.asarray(tb_ref, float) / factor
    assert ours.estimate == pytest.approx(float(fit.coef()["x"]), abs=1e-12)
    _assert_same_enumeration(
        ours, float(ref["t value"]) / factor, float(ref["Pr(>|t|)"]), tb_ref, g
    )


def test_wcr_fixed_effect_not_nested_matches_wildboottest_dummies_weighted() -> None:
    df = _data(9, seed=14)
    sw = np.sqrt(df["w"].to_numpy())
    dummies = pd.get_dummies(df["coarse"]).to_numpy(float)
    x_ref = np.column_stack([df[["x", "z"]].to_numpy(), dummies])
    ours = wild_cluster_bootstrap(
        df["y"],
        df[["x", "z"]],
        df["g"],
        param_index="x",
        absorb=df["coarse"],
        weights=df["w"],
        reps=B,
        weight_type="rademacher",
        seed=1,
    )
    t_ref, p_ref, tb_ref, _ = _wildboottest(
        x_ref * sw[:, None],
        df["y"].to_numpy() * sw,
        df["g"].to_numpy(),
        weights_type="rademacher",
    )
    # K = 2 regressors + 3 levels = all columns of x_ref: same small-sample factor
    assert ours.statistic == pytest.approx(t_ref, abs=1e-10)
    _assert_same_enumeration(ours, t_ref, p_ref, tb_ref, 9)


@pytest.mark.parametrize("weight_type", ["webb", "rademacher"])
def test_wcr_random_draws_match_wildboottest_within_monte_carlo_error(weight_type: str) -> None:
    # G = 40: 2^40 sign vectors, both draw B = 9999 at random (different streams). Two
    # independent bootstrap p-values differ with sd sqrt(2 p (1 - p) / B) <= 0.0071; the
    # tolerance is 4.5 sd (two-sided 1e-5 chance of a false failure).
    df = _data(40, seed=15)
    x = df[["x", "z"]].assign(const=1.0).to_numpy()
    ours = wild_cluster_bootstrap(
        df["y"], x, df["g"], param_index=0, reps=B, weight_type=weight_type, seed=2
    )
    t_ref, p_ref, tb_ref, _ = _wildboottest(
        x, df["y"].to_numpy(), df["g"].to_numpy(), weights_type=weight_type
    )
    assert not ours.full_enumeration and ours.reps == B
    assert ours.statistic == pytest.approx(t_ref, abs=1e-10)
    assert 0.02 < ours.p_value < 0.98  # an informative comparison, not two zeros
    sd = np.sqrt(2 * p_ref * (1 - p_ref) / B)
    assert abs(ours.p_value - p_ref) <= 4.5 * sd
    # the bootstrap distributions agree too: quantiles of |t*| within a few MC sd
    q = [0.5, 0.9, 0.95]
    np.testing.assert_allclose(
        np.quantile(np.abs(ours.bootstrap_statistics), q),
        np.quantile(np.abs(tb_ref), q),
        rtol=0.05,
    )
