"""The shared numeric kernel: group sums, cluster meat, within transformation, nesting.

References: pyfixest 0.60 ``pyfixest.estimation.demean`` (alternating projections, run here with
a tight tolerance) for the within transformation, statsmodels 0.15
``stats.sandwich_covariance.S_crosssection`` for the cluster meat; and, bit for bit, the three
ways the estimators summed clusters before they shared the kernel (``numpy.add.at``, a product
with a sparse group-indicator matrix, a per-column ``numpy.bincount``), so that moving them onto
the kernel changed no published digit.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from ctip_research.estimation.kernels import (
    cluster_meat,
    crv1_factor,
    demean,
    group_sums,
    is_nested,
)


def _data(n: int = 600, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    firm = rng.integers(0, 40, n)
    year = rng.integers(0, 6, n)
    x = rng.normal(size=(n, 3)) * rng.lognormal(size=(n, 1)) + 0.3 * firm[:, None]
    return {"x": x, "firm": firm, "year": year, "w": rng.uniform(0.5, 3.0, n)}


def test_group_sums_equal_add_at_sparse_product_and_bincount_bit_for_bit() -> None:
    d = _data()
    x, g = d["x"], d["firm"]
    n_groups = int(g.max()) + 1
    add_at = np.zeros((n_groups, x.shape[1]))
    np.add.at(add_at, g, x)
    indicator = sparse.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), (n_groups, len(g)))
    by_matrix = np.asarray(indicator @ x)
    by_column = np.column_stack(
        [np.bincount(g, weights=x[:, j], minlength=n_groups) for j in range(x.shape[1])]
    )
    out = group_sums(x, g)
    assert np.array_equal(out, add_at)
    assert np.array_equal(out, by_matrix)
    assert np.array_equal(out, by_column)
    assert np.array_equal(group_sums(x[:, 0], g), add_at[:, 0])


def test_group_sums_keep_empty_groups_when_told_how_many() -> None:
    out = group_sums(np.array([[1.0], [2.0]]), np.array([2, 2]), 4)
    assert out.ravel().tolist() == [0.0, 0.0, 3.0, 0.0]


def test_cluster_meat_matches_statsmodels_s_crosssection() -> None:
    from statsmodels.stats.sandwich_covariance import S_crosssection

    d = _data()
    scores = d["x"] * d["w"][:, None]
    ours = cluster_meat(scores, d["firm"])
    np.testing.assert_allclose(ours, S_crosssection(scores, d["firm"]), rtol=1e-12)
    np.testing.assert_array_equal(cluster_meat(scores, None), scores.T @ scores)


@pytest.mark.parametrize("effects", [("firm",), ("firm", "year")])
@pytest.mark.parametrize("weighted", [False, True])
def test_demean_matches_pyfixest(effects: tuple[str, ...], weighted: bool) -> None:
    from pyfixest.estimation import demean as pf_demean

    d = _data()
    codes = [d[e] for e in effects]
    w = d["w"] if weighted else np.ones(len(d["firm"]))
    ours = demean(d["x"], codes, d["w"] if weighted else None)
    flist = np.column_stack(codes).astype(np.uint64)
    ref, converged = pf_demean(d["x"].copy(), flist, w, tol=1e-12)
    assert converged
    np.testing.assert_allclose(ours, ref, atol=1e-9 * np.abs(d["x"]).max())


def test_demean_equals_the_residuals_of_the_dummy_regression() -> None:
    # Frisch-Waugh-Lovell: the within transformation is the residual of a weighted regression on
    # the dummies of both effects (numpy least squares, no alternating projections)
    d = _data(n=300)
    dummies = np.column_stack(
        [np.eye(40)[d["firm"]], np.eye(6)[d["year"]][:, 1:]]
    )  # every firm, years but the first
    sw = np.sqrt(d["w"])
    coef, *_ = np.linalg.lstsq(dummies * sw[:, None], d["x"] * sw[:, None], rcond=None)
    resid = d["x"] - dummies @ coef
    ours = demean(d["x"], [d["firm"], d["year"]], d["w"])
    np.testing.assert_allclose(ours, resid, atol=1e-9 * np.abs(d["x"]).max())


def test_demean_agrees_with_the_earlier_romano_wolf_sweeps() -> None:
    # the all-columns sweep the Romano-Wolf influence function used before (absolute tolerance
    # 1e-10, at most 500 sweeps): the same projections, so the same numbers to its tolerance
    d = _data()
    groups, w = [d["firm"], d["year"]], d["w"]
    out = d["x"].copy()
    for _ in range(500):
        prev = out.copy()
        for g in groups:
            sums = np.zeros((g.max() + 1, out.shape[1]))
            np.add.at(sums, g, out * w[:, None])
            out = out - (sums / np.bincount(g, weights=w)[:, None])[g]
        if np.max(np.abs(out - prev)) < 1e-10:
            break
    np.testing.assert_allclose(demean(d["x"], groups, w), out, atol=1e-8)


def test_demean_single_effect_is_one_exact_sweep() -> None:
    d = _data()
    ours = demean(d["x"], [d["firm"]], d["w"])
    wsum = np.bincount(d["firm"], weights=d["w"])
    for j in range(3):
        means = np.bincount(d["firm"], weights=d["w"] * d["x"][:, j]) / wsum
        assert np.array_equal(ours[:, j], d["x"][:, j] - means[d["firm"]])


def test_is_nested_and_crv1_factor() -> None:
    d = _data()
    sub = np.unique(d["firm"] * 3 + d["year"] % 3, return_inverse=True)[1]  # codes 0..G-1
    assert is_nested(sub, d["firm"])
    assert not is_nested(d["firm"], d["year"])
    # Stata's CRV1 factor G/(G-1) (N-1)/(N-K)
    assert crv1_factor(600, 4, 40) == pytest.approx(40 / 39 * 599 / 596, rel=1e-15)
