"""The numpy absorbed-effects estimator of ``fit_fixed_effects`` against linearmodels ``AbsorbingLS``.

``fit_fixed_effects`` demeans by weighted group means itself (linearmodels falls back to iterative
LSMR for weighted models: benchmarks, docs/benchmarks.md); linearmodels stays the reference here:
same coefficients, clustered / robust standard errors (``debiased=True``) and R^2 to 1e-8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip_research.models import econometric
from ctip_research.models.econometric import fit_fixed_effects, regressor_frame
from models_factory import spec


def _design(seed: int, n: int = 1_500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    village = rng.integers(0, 60, n)
    region = rng.integers(0, 4, n)  # not nested in villages nor in the clusters
    effect = rng.normal(0, 1, 60)[village] + rng.normal(0, 0.5, 4)[region]
    d = (rng.random(n) < 0.3 + 0.1 * (effect > 0)).astype(float)
    x1 = rng.normal(size=n) + 0.3 * effect
    cat = rng.choice(np.array(["a", "b", "c"]), n)
    y = 0.2 * d - 0.1 * x1 + 0.05 * (cat == "b") + effect + rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "y": y,
            "d": d,
            "x1": x1,
            "cat": cat,
            "village": pd.Series(village).map("v{:02d}".format),
            "region": region,
            "cluster_nested": pd.Series(village // 2).map("c{:02d}".format),
            "cluster_crossed": rng.integers(0, 45, n),
            "w": rng.lognormal(0.0, 0.6, n),
        }
    )


def _reference(df: pd.DataFrame, fixed_effects: list[str], cluster: str | None, weights: bool):
    from linearmodels.iv.absorbing import AbsorbingLS

    x = regressor_frame(df, ["d", "x1", "cat"])
    absorb = pd.DataFrame({c: pd.Categorical(df[c].astype(str)) for c in fixed_effects})
    cov: dict = {"cov_type": "robust"}
    if cluster:
        cov = {"cov_type": "clustered", "clusters": pd.Series(pd.factorize(df[cluster])[0])}
    model = AbsorbingLS(df["y"], x, absorb=absorb, weights=df["w"] if weights else None)
    # LSMR to machine precision so that the reference itself is exact to 1e-8
    return model.fit(
        debiased=True, method="lsmr", absorb_options={"atol": 1e-15, "btol": 1e-15}, **cov
    )


CASES = [
    (["village"], "cluster_nested", True),  # effect nested in clusters: not counted in K
    (["village"], "cluster_crossed", True),  # not nested: counted
    (["village"], None, True),  # robust (HC1-type) errors
    (["village"], "cluster_crossed", False),  # unweighted
    (["region"], "cluster_nested", True),
    (["village", "region"], "cluster_nested", True),  # two effects: alternating projections
    (["village", "region"], None, False),
]


@pytest.mark.parametrize(("fixed_effects", "cluster", "weights"), CASES)
@pytest.mark.parametrize("seed", [1, 2])
def test_absorbed_fit_equals_linearmodels_absorbing_ls_random_design(
    seed, fixed_effects, cluster, weights
) -> None:
    df = _design(seed)
    s = spec(
        outcome="y",
        exposure="d",
        controls=["x1", "cat"],
        fixed_effects=fixed_effects,
        cluster=cluster,
        weights="w" if weights else None,
    )
    res = fit_fixed_effects(df, s)
    ref = _reference(df, fixed_effects, cluster, weights)
    tidy = res.tidy().set_index("term")
    names = list(ref.params.index)
    assert list(tidy.index) == names
    np.testing.assert_allclose(tidy["estimate"], ref.params[names], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(tidy["std_error"], ref.std_errors[names], rtol=1e-8)
    assert res.stats["r2"] == pytest.approx(float(ref.rsquared), rel=1e-8)
    assert res.stats["r2_within"] == pytest.approx(float(ref.absorbed_rsquared), rel=1e-8)


def test_absorbed_fit_does_not_call_linearmodels_for_the_usual_model(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("linearmodels fallback used")

    monkeypatch.setattr(econometric, "_absorbed_ls_linearmodels", fail)
    s = spec(
        outcome="y",
        exposure="d",
        controls=["x1"],
        fixed_effects=["village"],
        cluster="cluster_crossed",
        weights="w",
    )
    res = fit_fixed_effects(_design(3), s)
    assert np.isfinite(res.effect)


def test_regressor_absorbed_by_effects_raises_linearmodels_error() -> None:
    from linearmodels.panel.utility import AbsorbingEffectError

    df = _design(4)
    df["v_level"] = df.groupby("village")["x1"].transform("mean")  # constant within villages
    s = spec(
        outcome="y",
        exposure="d",
        controls=["v_level"],
        fixed_effects=["village"],
        cluster="cluster_nested",
        weights="w",
    )
    with pytest.raises(AbsorbingEffectError):
        fit_fixed_effects(df, s)
