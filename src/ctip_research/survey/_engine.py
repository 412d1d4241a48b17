"""Numpy core of the design layer: design arrays, PSU totals and the linearised variance.

Every design-based variance in this package is the variance of a *total of influence values*
(scores). For a statistic whose influence value of unit ``i`` is ``z_i`` (a row vector), the
with-replacement, stratified, multi-PSU linearisation estimator (Wolter 2007, ch. 6; R ``survey``
``svyrecvar`` for the first stage; Stata ``svy: `` linearisation) is::

    V = sum_h (1 - f_h) * n_h / (n_h - 1) * sum_j (z_hj - zbar_h)' (z_hj - zbar_h)

where ``z_hj`` is the total of ``z_i`` over PSU ``j`` of stratum ``h``, ``n_h`` the number of
sampled PSUs in the stratum and ``f_h`` its first-stage sampling fraction (0 without FPC). This
module holds that formula, vectorised with sparse indicator matrices so that a million rows take
milliseconds, and the lonely-PSU rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from ctip_research.errors import SurveyDesignError
from ctip_research.literals import LonelyPsu

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DesignArrays:
    """The design of ``n`` rows reduced to integer codes and per-stratum constants.

    Attributes
    ----------
    weights
        Sampling weights, shape ``(n,)``.
    stratum
        Stratum code ``0..H-1`` of every row.
    psu
        PSU code ``0..P-1`` of every row; PSUs are nested in strata (a PSU label that repeats in
        two strata is two PSUs).
    psu_stratum
        Stratum code of every PSU, shape ``(P,)``.
    n_psu_stratum
        Number of sampled PSUs per stratum, shape ``(H,)``.
    fpc_factor
        ``1 - f_h`` per stratum (1 without FPC), shape ``(H,)``.
    lonely_psu
        Rule for strata with a single PSU.
    """

    weights: FloatArray
    stratum: IntArray
    psu: IntArray
    psu_stratum: IntArray
    n_psu_stratum: IntArray
    fpc_factor: FloatArray
    lonely_psu: LonelyPsu

    @property
    def n_obs(self) -> int:
        """Number of rows."""
        return int(self.weights.shape[0])

    @property
    def n_psu(self) -> int:
        """Number of PSUs."""
        return int(self.psu_stratum.shape[0])

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return int(self.n_psu_stratum.shape[0])

    @property
    def df(self) -> int:
        """Design degrees of freedom: PSUs minus strata."""
        return self.n_psu - self.n_strata

    def psu_matrix(self) -> sparse.csr_matrix:
        """Sparse ``(P, n)`` indicator matrix: ``psu_matrix() @ z`` gives PSU totals."""
        n = self.n_obs
        return sparse.csr_matrix(
            (np.ones(n), (self.psu, np.arange(n))), shape=(self.n_psu, n), dtype=np.float64
        )


def _codes(values: pd.Series | pd.DataFrame) -> IntArray:
    """Integer codes ``0..K-1`` of the distinct values (or value combinations), sorted."""
    if isinstance(values, pd.DataFrame):
        return np.asarray(
            values.groupby(list(values.columns), sort=True, observed=True).ngroup(),
            dtype=np.int64,
        )
    codes, _ = pd.factorize(values, sort=True)
    return np.asarray(codes, dtype=np.int64)


def _nested_codes(outer: IntArray, inner: IntArray) -> IntArray:
    """Codes ``0..K-1`` of the distinct ``(outer, inner)`` pairs of two code arrays, in sorted
    pair order (as ``_codes`` of the two columns gives them), in linear time when the grid of
    pairs is not much larger than the data."""
    n_inner = int(inner.max()) + 1
    cells = (int(outer.max()) + 1) * n_inner
    key = outer * n_inner + inner
    if cells > 4 * key.size + 1024:
        return np.unique(key, return_inverse=True)[1].astype(np.int64).reshape(-1)
    present = np.zeros(cells, dtype=bool)
    present[key] = True
    rank = np.cumsum(present, dtype=np.int64) - 1
    return rank[key]


def build_design_arrays(
    data: pd.DataFrame,
    *,
    weight: str | None,
    strata: str | None,
    psu: str | None,
    fpc: str | None,
    lonely_psu: LonelyPsu,
) -> DesignArrays:
    """Validate the design columns of ``data`` and reduce them to :class:`DesignArrays`.

    ``fpc`` is read as R ``survey`` reads it: a value above 1 is the number of PSUs in the
    stratum's population (``N_h``), a value in ``(0, 1]`` is the first-stage sampling fraction
    ``n_h / N_h``. It must be constant within a stratum.
    """
    n = len(data)
    if n == 0:
        raise SurveyDesignError("the survey design has no rows")
    for role, col in (("weight", weight), ("strata", strata), ("psu", psu), ("fpc", fpc)):
        if col is None:
            continue
        if col not in data.columns:
            raise SurveyDesignError(f"{role} column {col!r} is not in the data")
        n_missing = int(data[col].isna().sum())
        if n_missing:
            raise SurveyDesignError(
                f"{role} column {col!r} has {n_missing} missing value(s); design columns must be "
                "complete (drop or impute those rows before declaring the design)"
            )
    if weight is None:
        w = np.ones(n)
    else:
        w = np.asarray(data[weight], dtype=np.float64)
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            bad = int(np.sum(~np.isfinite(w) | (w <= 0)))
            raise SurveyDesignError(
                f"weight column {weight!r} has {bad} non-positive or non-finite value(s)"
            )
    stratum = np.zeros(n, dtype=np.int64) if strata is None else _codes(data[strata])
    if psu is None:
        psu_key: IntArray = np.arange(n, dtype=np.int64)
    else:
        psu_key = _codes(data[psu])
    # nest PSUs in strata (R nest=TRUE, Stata's convention)
    psu_codes = _nested_codes(stratum, psu_key)
    n_psu = int(psu_codes.max()) + 1
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu_codes] = stratum
    n_strata = int(stratum.max()) + 1
    n_psu_stratum = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)

    fpc_factor = np.ones(n_strata)
    if fpc is not None:
        f_raw = np.asarray(data[fpc], dtype=np.float64)
        lo = np.full(n_strata, np.inf)
        hi = np.full(n_strata, -np.inf)
        np.minimum.at(lo, stratum, f_raw)
        np.maximum.at(hi, stratum, f_raw)
        if np.any(lo != hi):
            raise SurveyDesignError(f"fpc column {fpc!r} varies within a stratum")
        if np.any(lo <= 0):
            raise SurveyDesignError(f"fpc column {fpc!r} has non-positive values")
        frac = np.where(lo > 1, n_psu_stratum / lo, lo)
        if np.any(frac > 1 + 1e-12):
            raise SurveyDesignError(
                f"fpc column {fpc!r}: a stratum has more sampled PSUs than its population size"
            )
        fpc_factor = 1.0 - np.minimum(frac, 1.0)

    lonely = n_psu_stratum == 1
    if lonely.any() and lonely_psu == "fail":
        raise SurveyDesignError(
            f"{int(lonely.sum())} stratum/strata have a single PSU; choose a lonely-PSU rule "
            "(certainty, remove or adjust) or collapse strata"
        )
    return DesignArrays(
        weights=w,
        stratum=stratum,
        psu=psu_codes,
        psu_stratum=psu_stratum,
        n_psu_stratum=n_psu_stratum,
        fpc_factor=fpc_factor,
        lonely_psu=lonely_psu,
    )


def psu_totals(design: DesignArrays, z: FloatArray) -> FloatArray:
    """Totals of the columns of ``z`` (shape ``(n,)`` or ``(n, k)``) over PSUs: ``(P, k)``."""
    z2 = z.reshape(design.n_obs, -1)
    out = np.empty((design.n_psu, z2.shape[1]))
    for j in range(z2.shape[1]):
        out[:, j] = np.bincount(design.psu, weights=z2[:, j], minlength=design.n_psu)
    return out


def linearized_vcov(design: DesignArrays, z: FloatArray) -> FloatArray:
    """Design-based covariance matrix of the totals of the influence values ``z``.

    Parameters
    ----------
    design
        The design.
    z
        Influence values (already multiplied by the weights), shape ``(n,)`` or ``(n, k)``.

    Returns
    -------
    numpy.ndarray
        ``(k, k)`` covariance matrix.

    Examples
    --------
    >>> import pandas as pd
    >>> d = build_design_arrays(pd.DataFrame({"w": [1.0, 1.0, 1.0, 1.0]}), weight="w",
    ...                         strata=None, psu=None, fpc=None, lonely_psu="fail")
    >>> float(linearized_vcov(d, np.array([1.0, 2.0, 3.0, 4.0]))[0, 0])
    6.666666666666667
    """
    zt = psu_totals(design, z)
    h = design.psu_stratum
    n_h = design.n_psu_stratum.astype(np.float64)
    k = zt.shape[1]
    sums = np.empty((design.n_strata, k))
    for j in range(k):
        sums[:, j] = np.bincount(h, weights=zt[:, j], minlength=design.n_strata)
    centre = sums / n_h[:, None]
    dev = zt - centre[h]
    lonely = design.n_psu_stratum == 1
    adjust = design.lonely_psu == "adjust"
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(lonely, 1.0 if adjust else 0.0, n_h / (n_h - 1.0)) * design.fpc_factor
    if lonely.any() and adjust:
        # R survey.lonely.psu = "adjust": centre the lonely PSU at the grand mean of PSU totals
        grand = zt.sum(axis=0) / design.n_psu
        lonely_rows = lonely[h]
        dev[lonely_rows] = zt[lonely_rows] - grand
    dev_scaled = dev * scale[h][:, None]
    v: FloatArray = dev_scaled.T @ dev
    return v


def domain_df(design: DesignArrays, in_domain: npt.NDArray[np.bool_]) -> int:
    """Degrees of freedom of a domain estimate: PSUs minus strata that hold domain members.

    This is R ``survey``'s ``degf()`` of a subset design (and svy's domain df).
    """
    psus = np.unique(design.psu[in_domain])
    strata = np.unique(design.psu_stratum[psus])
    return int(max(psus.size - strata.size, 1))
