"""Unit tests of the wild cluster bootstrap (models/wild_bootstrap.py).

References to other software are in tests/reference/test_wild_bootstrap_reference.py; here:
draws, the FWL partialling of nested effects, agreement with fit_fixed_effects, the test
inversion, errors, and the size of the test under a true null with few, unequal clusters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip_research.config import parse_params
from ctip_research.errors import ParamsError
from ctip_research.models import wild_bootstrap
from ctip_research.models.econometric import fit_fixed_effects
from ctip_research.models.wild_bootstrap import (
    WildBootstrapError,
    bootstrap_spec,
    bootstrap_weights,
    wild_cluster_bootstrap,
)
from models_factory import households, spec

B_SMALL = 999


def _clustered(n_clusters: int, seed: int, effect: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_clusters), rng.integers(5, 40, n_clusters))
    n = len(g)
    x = rng.normal(size=n) + rng.normal(size=n_clusters)[g]
    y = effect * x + rng.normal(size=n_clusters)[g] + rng.normal(size=n)
    sub = g * 4 + rng.integers(0, 4, n)
    return pd.DataFrame(
        {"y": y, "x": x, "z": rng.normal(size=n), "g": g, "sub": sub, "w": rng.uniform(1, 4, n)}
    )


def test_rademacher_full_enumeration_uses_every_sign_vector_once() -> None:
    v, full = bootstrap_weights(6, reps=64, weight_type="rademacher", seed=0)
    assert full and v.shape == (64, 6)
    assert len({tuple(row) for row in v}) == 64
    assert set(np.unique(v)) == {-1.0, 1.0}


def test_random_draws_are_reproducible_and_have_unit_variance() -> None:
    for weight_type in ("rademacher", "webb"):
        a, full = bootstrap_weights(20, reps=20_000, weight_type=weight_type, seed=5)
        b, _ = bootstrap_weights(20, reps=20_000, weight_type=weight_type, seed=5)
        assert not full and np.array_equal(a, b)
        assert abs(a.mean()) < 0.01 and abs(a.var() - 1) < 0.01
    webb, _ = bootstrap_weights(3, reps=1000, weight_type="webb", seed=1)
    assert len(np.unique(webb)) == 6


def test_rademacher_p_value_floor_is_two_over_two_to_g() -> None:
    df = _clustered(7, seed=1, effect=5.0)
    res = wild_cluster_bootstrap(
        df["y"],
        df[["x"]].assign(c=1.0),
        df["g"],
        param_index="x",
        reps=999,
        weight_type="rademacher",
        seed=1,
    )
    assert res.full_enumeration and res.reps == 128
    assert res.p_value == pytest.approx(2 / 128)
    assert res.p_value_crv1 < 1e-4


def test_nested_effects_partialled_out_equal_dummies() -> None:
    # FWL: absorbing effects nested in the clusters gives the bootstrap of the dummy regression
    df = _clustered(9, seed=2)
    absorbed = wild_cluster_bootstrap(
        df["y"],
        df[["x", "z"]],
        df["g"],
        param_index="x",
        absorb=df["sub"],
        weights=df["w"],
        reps=B_SMALL,
        weight_type="webb",
        seed=3,
    )
    dummies = pd.get_dummies(df["sub"], prefix="d", dtype=float)
    explicit = wild_cluster_bootstrap(
        df["y"],
        pd.concat([df[["x", "z"]], dummies], axis=1),
        df["g"],
        param_index="x",
        weights=df["w"],
        reps=B_SMALL,
        weight_type="webb",
        seed=3,
    )
    n, g, k = len(df), 9, 2
    # the explicit model counts every dummy in K, the absorbed one only the constant it
    # stands for (nested; Stata xtreg, fe)
    factor = np.sqrt((n - k - dummies.shape[1]) / (n - k - 1))
    assert absorbed.estimate == pytest.approx(explicit.estimate, abs=1e-10)
    assert absorbed.statistic * factor == pytest.approx(explicit.statistic, rel=1e-9)
    np.testing.assert_allclose(
        absorbed.bootstrap_statistics * factor, explicit.bootstrap_statistics, rtol=1e-8
    )
    assert absorbed.p_value == explicit.p_value
    assert g == absorbed.n_clusters


@pytest.mark.parametrize(
    ("fixed_effects", "cluster"),
    [([], "psu_id"), (["psu_id"], "psu_id"), (["province_code"], "psu_id")],
)
def test_crv1_std_error_equals_fit_fixed_effects(fixed_effects: list[str], cluster: str) -> None:
    data = households()
    s = spec(fixed_effects=fixed_effects, cluster=cluster, controls=["is_landless", "head_age"])
    fe = fit_fixed_effects(data, s).term()
    res = bootstrap_spec(data, s, reps=B_SMALL, weight_type="webb", seed=1, conf_int=False)
    assert res.estimate == pytest.approx(float(fe["estimate"]), abs=1e-10)
    assert res.std_error == pytest.approx(float(fe["std_error"]), rel=1e-8)
    assert res.p_value_crv1 == pytest.approx(float(fe["p_value"]), rel=1e-6, abs=1e-12)


def test_bootstrap_spec_reclusters_without_changing_the_estimate() -> None:
    data = households()
    s = spec(fixed_effects=["province_code"], cluster="psu_id")
    own = bootstrap_spec(data, s, reps=B_SMALL, weight_type="webb", seed=1, conf_int=False)
    coarse = bootstrap_spec(
        data,
        s,
        cluster="province_code",
        reps=9999,
        weight_type="rademacher",
        seed=1,
        conf_int=False,
    )
    assert coarse.estimate == pytest.approx(own.estimate, abs=1e-12)  # within vs dummies
    assert coarse.n_clusters == 8 and coarse.full_enumeration and coarse.reps == 256
    assert own.n_clusters == 150


def test_confidence_interval_inverts_the_test() -> None:
    df = _clustered(12, seed=4, effect=0.3)
    kw = dict(param_index="x", weights=df["w"], reps=B_SMALL, weight_type="webb", seed=9)
    res = wild_cluster_bootstrap(df["y"], df[["x"]].assign(c=1.0), df["g"], **kw)
    assert res.conf_low < res.estimate < res.conf_high
    eps = 1e-6 * res.std_error
    for bound, inward in ((res.conf_low, 1.0), (res.conf_high, -1.0)):
        inside = wild_cluster_bootstrap(
            df["y"],
            df[["x"]].assign(c=1.0),
            df["g"],
            null=bound + inward * eps,
            conf_int=False,
            **kw,
        )
        outside = wild_cluster_bootstrap(
            df["y"],
            df[["x"]].assign(c=1.0),
            df["g"],
            null=bound - inward * eps,
            conf_int=False,
            **kw,
        )
        assert inside.p_value > res.alpha >= outside.p_value


def test_confidence_interval_unbounded_when_p_cannot_reach_alpha() -> None:
    df = _clustered(4, seed=5, effect=1.0)  # Rademacher, G = 4: p >= 2/16 > 0.05
    res = wild_cluster_bootstrap(
        df["y"],
        df[["x"]].assign(c=1.0),
        df["g"],
        param_index=0,
        reps=999,
        weight_type="rademacher",
        seed=1,
    )
    assert res.p_value >= 2 / 16
    assert res.conf_low == -np.inf and res.conf_high == np.inf


def test_absorbed_exposure_and_single_cluster_raise() -> None:
    df = _clustered(6, seed=6)
    df["xg"] = df.groupby("sub")["x"].transform("mean")
    with pytest.raises(WildBootstrapError, match="absorbed"):
        wild_cluster_bootstrap(
            df["y"],
            df[["xg", "z"]],
            df["g"],
            param_index="xg",
            absorb=df["sub"],
            reps=99,
            weight_type="webb",
            seed=1,
        )
    with pytest.raises(WildBootstrapError, match="two clusters"):
        wild_cluster_bootstrap(
            df["y"],
            df[["x"]].assign(c=1.0),
            np.zeros(len(df)),
            param_index=0,
            reps=99,
            weight_type="webb",
            seed=1,
        )


def test_spec_of_another_kind_is_refused() -> None:
    s = spec(kind="panel", fixed_effects=["household_id", "wave"])
    with pytest.raises(WildBootstrapError, match="fixed_effects"):
        bootstrap_spec(households(), s, reps=99, weight_type="webb", seed=1)


@pytest.mark.parametrize(
    ("model", "message"), [("no_such_model", "unknown model"), ("iv_branches", "fixed_effects")]
)
def test_wild_bootstrap_params_reject_unknown_or_unsupported_model(
    params_dict, model: str, message: str
) -> None:
    params_dict["fit"]["wild_bootstrap"]["comparisons"].append({"model": model, "cluster": None})
    with pytest.raises(ParamsError, match=message):
        parse_params(params_dict)


def test_wild_bootstrap_params_require_every_key(params_dict) -> None:
    del params_dict["fit"]["wild_bootstrap"]["weight_type"]
    with pytest.raises(ParamsError, match="weight_type"):
        parse_params(params_dict)


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(0.01, 100), shift=st.floats(-5, 5), seed=st.integers(0, 50))
def test_p_value_invariant_to_units_and_controls(scale: float, shift: float, seed: int) -> None:
    # t and t* are invariant to rescaling y and to adding a multiple of a regressor to y
    # (the restricted residuals do not change), so the bootstrap p-value is too
    df = _clustered(10, seed=seed, effect=0.2)
    kw = dict(param_index="x", reps=499, weight_type="webb", seed=2, conf_int=False)
    x = df[["x", "z"]].assign(c=1.0)
    base = wild_cluster_bootstrap(df["y"], x, df["g"], **kw)
    moved = wild_cluster_bootstrap(scale * (df["y"] + shift * df["z"]), x, df["g"], **kw)
    assert moved.statistic == pytest.approx(base.statistic, rel=1e-7)
    assert moved.p_value == base.p_value


def test_wcr_size_closer_to_nominal_than_crv1_with_few_unequal_clusters() -> None:
    # True null, G = 10 clusters of 400 ... 4 households, a cluster-level regressor and a
    # cluster error: CRV1 with t(9) over-rejects heavily (MacKinnon & Webb 2017); the WCR
    # bootstrap-t is much closer to 5%. 1000 datasets, Webb weights, B = 399 (about 1 s).
    sizes = np.array([400, 150, 60, 30, 20, 12, 10, 8, 6, 4])
    g = np.repeat(np.arange(10), sizes)
    n = len(g)
    rng = np.random.default_rng(20260101)
    n_sim = 1000
    rej_wild = rej_crv1 = 0
    for s in range(n_sim):
        x = rng.normal(size=10)[g] + 0.5 * rng.normal(size=n)
        y = rng.normal(size=10)[g] + rng.normal(size=n)
        res = wild_cluster_bootstrap(
            y,
            np.column_stack([x, np.ones(n)]),
            g,
            param_index=0,
            reps=399,
            weight_type="webb",
            seed=s,
            conf_int=False,
        )
        rej_wild += res.p_value <= 0.05
        rej_crv1 += res.p_value_crv1 <= 0.05
    wild, crv1 = rej_wild / n_sim, rej_crv1 / n_sim
    assert crv1 > 0.15  # the design is one where CRV1 fails
    assert abs(wild - 0.05) < abs(crv1 - 0.05)
    assert wild < 0.5 * crv1


@pytest.mark.parametrize("weight_type", ["webb", "rademacher"])
def test_results_do_not_depend_on_the_memory_chunk(
    weight_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # census-size designs run in chunks of a few draws: the same draws, the same results (up to
    # the rounding of matrix products of another shape)
    df = _clustered(30, seed=8)
    args = dict(param_index="x", weights=df["w"], reps=999, weight_type=weight_type, seed=4)
    whole = wild_cluster_bootstrap(df["y"], df[["x", "z"]], df["g"], **args)
    monkeypatch.setattr(wild_bootstrap, "_CHUNK_ELEMENTS", 30 * 7)  # 7 draws per chunk
    chunked = wild_cluster_bootstrap(df["y"], df[["x", "z"]], df["g"], **args)
    np.testing.assert_allclose(
        chunked.bootstrap_statistics, whole.bootstrap_statistics, rtol=1e-12, atol=1e-12
    )
    assert chunked.p_value == whole.p_value
    assert chunked.conf_low == pytest.approx(whole.conf_low, abs=1e-8 * whole.std_error)
    assert chunked.conf_high == pytest.approx(whole.conf_high, abs=1e-8 * whole.std_error)
