"""The numeric kernel every estimator shares: group sums, the within transformation, cluster
"meat", nesting of effects in clusters and the small-sample factors.

One implementation each, used by the linear and binary estimators (:mod:`ctip_research.estimation`),
the design-based variance (:mod:`ctip_research.survey`) and the models built on them (first-stage
diagnostics, wild cluster bootstrap, Romano-Wolf). The functions take integer codes ``0..G-1``
(``pandas.factorize`` / ``numpy.unique(..., return_inverse=True)``) and plain arrays, so every
caller keeps its own order of the groups.

Group sums add the rows of a group one after another in row order (``numpy.bincount``): the same
bits as ``numpy.add.at`` or a product with a sparse group-indicator matrix, whichever a caller
used before, so swapping them in changes no published digit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "AP_MAX_ITER",
    "AP_TOL",
    "cluster_adjustment",
    "cluster_meat",
    "crv1_factor",
    "dof_adjustment",
    "demean",
    "group_sums",
    "hc1_adjustment",
    "is_nested",
]

FloatArray = npt.NDArray[np.float64]

#: Alternating projections stop when no demeaned value moves by more than this times the column's
#: largest absolute value (or after :data:`AP_MAX_ITER` sweeps).
AP_TOL = 1e-13
AP_MAX_ITER = 10_000


def group_sums(values: npt.ArrayLike, codes: np.ndarray, n_groups: int | None = None) -> FloatArray:
    """Sum the rows of ``values`` within each group.

    Parameters
    ----------
    values
        ``(n,)`` or ``(n, m)`` numbers.
    codes
        Integer group code (``0..G-1``) of every row.
    n_groups
        ``G`` (default: the largest code plus one); groups without rows sum to 0.

    Returns
    -------
    numpy.ndarray
        ``(G,)`` for 1-D ``values``, else ``(G, m)``.

    Examples
    --------
    >>> import numpy as np
    >>> group_sums(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([0, 1, 0])).tolist()
    [[6.0, 8.0], [3.0, 4.0]]
    >>> group_sums(np.array([1.0, 2.0]), np.array([1, 1]), 3).tolist()
    [0.0, 3.0, 0.0]
    """
    arr = np.asarray(values, dtype=float)
    g = (int(codes.max()) + 1 if len(codes) else 0) if n_groups is None else int(n_groups)
    if arr.ndim == 1:
        return np.bincount(codes, weights=arr, minlength=g).astype(float, copy=False)
    out = np.empty((g, arr.shape[1]))
    for j in range(arr.shape[1]):
        out[:, j] = np.bincount(codes, weights=arr[:, j], minlength=g)
    return out


def cluster_meat(scores: np.ndarray, codes: np.ndarray | None) -> FloatArray:
    """``sum_g s_g s_g'`` with ``s_g`` the sum of the score rows of cluster ``g``.

    Parameters
    ----------
    scores
        ``(n, k)`` score (or influence) rows.
    codes
        Integer cluster code of every row; None: every row its own cluster (``S'S``, the
        heteroskedasticity-robust meat).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[1.0], [2.0], [-1.0]])
    >>> cluster_meat(s, np.array([0, 0, 1])).tolist()
    [[10.0]]
    >>> cluster_meat(s, None).tolist()
    [[6.0]]
    """
    if codes is None:
        out: FloatArray = scores.T @ scores
        return out
    sums = group_sums(scores, codes)
    meat: FloatArray = sums.T @ sums
    return meat


def demean(
    mat: np.ndarray,
    codes: list[np.ndarray],
    weights: np.ndarray | None = None,
    *,
    tol: float = AP_TOL,
    max_iter: int = AP_MAX_ITER,
) -> FloatArray:
    """Weighted within transformation of the columns of ``mat`` (a transformed copy).

    Exact for one effect; alternating projections (Gauss-Seidel sweeps over the effects, as
    fixest) to convergence for several: sweeps stop when no weighted group mean removed in a
    sweep exceeds ``tol`` times the column's largest absolute value.

    Parameters
    ----------
    mat
        ``(n,)`` or ``(n, m)`` array; the result has the shape ``(n, m)`` (``(n, 1)`` for 1-D).
    codes
        One integer code array (``0..levels-1``) per absorbed effect.
    weights
        Observation weights (None: equal weights).
    tol, max_iter
        Convergence tolerance and the largest number of sweeps (several effects only).

    Examples
    --------
    >>> import numpy as np
    >>> demean(np.array([[1.0], [3.0], [5.0]]), [np.array([0, 0, 1])]).ravel().tolist()
    [-1.0, 1.0, 0.0]
    """
    out = np.array(mat, dtype=float, copy=True)
    if out.ndim == 1:
        out = out[:, None]
    n = out.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    wsums = [group_sums(w, g, int(g.max()) + 1 if n else 0) for g in codes]
    scale = np.maximum(np.max(np.abs(out), axis=0), 1e-300) if n else np.ones(out.shape[1])

    def sweep() -> float:
        moved = 0.0
        for g, ws in zip(codes, wsums, strict=True):
            for j in range(out.shape[1]):
                means = group_sums(w * out[:, j], g, len(ws))
                np.divide(means, ws, out=means, where=ws > 0)
                out[:, j] -= means[g]
                moved = max(moved, float(np.max(np.abs(means))) / scale[j])
        return moved

    if len(codes) == 1:
        sweep()
        return out
    for _ in range(max_iter):
        if sweep() < tol:
            break
    return out


def is_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Is every level of ``inner`` (integer codes) inside one level of ``outer`` (codes)?

    Examples
    --------
    >>> import numpy as np
    >>> is_nested(np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1]))
    True
    >>> is_nested(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    False
    """
    pairs = np.unique(inner.astype(np.int64) * (int(outer.max()) + 1) + outer)
    return bool(len(pairs) == int(inner.max()) + 1)


def crv1_factor(n_obs: int, n_params: int, n_clusters: int) -> float:
    """The one-way CRV1 small-sample factor ``G/(G-1) (N-1)/(N-K)`` (Stata, linearmodels
    ``debiased=True``).

    Examples
    --------
    >>> crv1_factor(100, 3, 10)
    1.134020618556701
    """
    return n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - n_params)


def cluster_adjustment(n_clusters: int) -> float:
    """The cluster small-sample factor ``G/(G-1)``.

    Examples
    --------
    >>> cluster_adjustment(5)
    1.25
    """
    return n_clusters / (n_clusters - 1)


def dof_adjustment(n_obs: int, n_params: int) -> float:
    """The degrees-of-freedom factor ``(N-1)/(N-K)`` of a CRV1 covariance.

    Examples
    --------
    >>> dof_adjustment(11, 2)
    1.1111111111111112
    """
    return (n_obs - 1) / (n_obs - n_params)


def hc1_adjustment(n_obs: int, n_params: int) -> float:
    """The HC1 factor ``N/(N-K)`` (MacKinnon-White; Stata ``vce(robust)``).

    Examples
    --------
    >>> hc1_adjustment(10, 2)
    1.25
    """
    return n_obs / (n_obs - n_params)
