"""Numpy core of the design layer: design arrays, PSU totals and the linearised variance.

Every design-based variance in this package is the variance of a *total of influence values*
(scores). For a statistic whose influence value of unit ``i`` is ``z_i`` (a row vector), the
with-replacement, stratified, multi-PSU linearisation estimator (Wolter 2007, ch. 6; R ``survey``
``svyrecvar`` for the first stage; Stata ``svy: `` linearisation) is::

    V = sum_h (1 - f_h) * n_h / (n_h - 1) * sum_j (z_hj - zbar_h)' (z_hj - zbar_h)

where ``z_hj`` is the total of ``z_i`` over PSU ``j`` of stratum ``h``, ``n_h`` the number of
sampled PSUs in the stratum and ``f_h`` its first-stage sampling fraction (0 without FPC). This
module holds that formula, vectorised with the group sums of :mod:`ctip_research.estimation.kernels`
so that a million rows take milliseconds, and the lonely-PSU rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ctip_research.errors import SurveyDesignError
from ctip_research.estimation.kernels import group_sums
from ctip_research.literals import LonelyPsu

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SecondStage:
    """Second-stage units (SSUs) of a two-stage design with a second-stage FPC.

    Attributes
    ----------
    ssu
        SSU code ``0..S-1`` of every row (nested in PSUs).
    ssu_psu
        PSU code of every SSU, shape ``(S,)``.
    n_ssu_psu
        Number of sampled SSUs per PSU, shape ``(P,)``.
    fpc_factor
        ``1 - m_i / M_i`` per PSU, shape ``(P,)``.
    first_stage_fraction
        ``n_h / N_h`` of the PSU's stratum, per PSU, shape ``(P,)`` (the factor R survey's
        ``multistage`` puts in front of the second-stage variance).
    """

    ssu: IntArray
    ssu_psu: IntArray
    n_ssu_psu: IntArray
    fpc_factor: FloatArray
    first_stage_fraction: FloatArray


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
    stage2: SecondStage | None = None

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
    pairs is not much larger than the data.
    """
    n_inner = int(inner.max()) + 1
    cells = (int(outer.max()) + 1) * n_inner
    key = outer * n_inner + inner
    if cells > 4 * key.size + 1024:
        return np.unique(key, return_inverse=True)[1].astype(np.int64).reshape(-1)
    present = np.zeros(cells, dtype=bool)
    present[key] = True
    rank = np.cumsum(present, dtype=np.int64) - 1
    return rank[key]


def _fraction(values: FloatArray, n_sampled: FloatArray, what: str) -> FloatArray:
    """Sampling fraction from an fpc column (population size > 1, or fraction in (0, 1])."""
    frac = np.where(values > 1, n_sampled / np.where(values > 1, values, 1.0), values)
    if np.any(values <= 0):
        raise SurveyDesignError(f"{what} has non-positive values")
    if np.any(frac > 1 + 1e-12):
        raise SurveyDesignError(f"{what}: more sampled PSUs (units) than the population size")
    return np.minimum(frac, 1.0)


def _constant_within(values: FloatArray, groups: IntArray, n_groups: int, what: str) -> FloatArray:
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, groups, values)
    np.maximum.at(hi, groups, values)
    if np.any(lo != hi):
        raise SurveyDesignError(f"{what} varies within a stratum")
    return lo


@dataclass(frozen=True)
class _FirstStage:
    """Strata and PSU codes (PSUs nested in strata) and the PSU counts per stratum."""

    stratum: IntArray
    psu_codes: IntArray
    psu_stratum: IntArray
    n_psu_stratum: IntArray


def _stage_columns(
    psu: str | Sequence[str] | None, fpc: str | Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """The PSU and fpc columns as lists (one per sampling stage), checked."""
    psus = [] if psu is None else [psu] if isinstance(psu, str) else list(psu)
    fpcs = [] if fpc is None else [fpc] if isinstance(fpc, str) else list(fpc)
    if len(psus) > 2:
        raise SurveyDesignError("at most two sampling stages (psu=[stage1, stage2])")
    if len(fpcs) > max(len(psus), 1):
        raise SurveyDesignError("more fpc columns than sampling stages")
    return psus, fpcs


def _check_design_columns(
    data: pd.DataFrame,
    weight: str | None,
    strata: str | None,
    psus: list[str],
    fpcs: list[str],
) -> None:
    """Every design column is in the data and complete."""
    roles = [("weight", weight), ("strata", strata)]
    roles += [(f"psu (stage {i + 1})", c) for i, c in enumerate(psus)]
    roles += [(f"fpc (stage {i + 1})", c) for i, c in enumerate(fpcs)]
    for role, col in roles:
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


def _given_weights(data: pd.DataFrame, weight: str | None, n: int) -> FloatArray:
    """The weight column (positive and finite), or ones without one."""
    if weight is None:
        return np.ones(n)  # replaced later by weights derived from the fpc, if one is given
    w = np.asarray(data[weight], dtype=np.float64)
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        bad = int(np.sum(~np.isfinite(w) | (w <= 0)))
        raise SurveyDesignError(
            f"weight column {weight!r} has {bad} non-positive or non-finite value(s)"
        )
    return w


def _first_stage(data: pd.DataFrame, strata: str | None, psus: list[str]) -> _FirstStage:
    """Stratum and PSU codes, PSUs nested in strata (R nest=TRUE, Stata's convention)."""
    n = len(data)
    stratum = np.zeros(n, dtype=np.int64) if strata is None else _codes(data[strata])
    if not psus:
        psu_key: IntArray = np.arange(n, dtype=np.int64)
    else:
        psu_key = _codes(data[psus[0]])
    psu_codes = _nested_codes(stratum, psu_key)
    n_psu = int(psu_codes.max()) + 1
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu_codes] = stratum
    n_strata = int(stratum.max()) + 1
    n_psu_stratum = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)
    return _FirstStage(stratum, psu_codes, psu_stratum, n_psu_stratum)


def _first_stage_fraction(
    data: pd.DataFrame, fpcs: list[str], s1: _FirstStage
) -> tuple[FloatArray, FloatArray]:
    """Per stratum: ``1 - f_h`` and the sampling fraction ``f_h`` (0 without an fpc)."""
    n_strata = s1.n_psu_stratum.shape[0]
    fpc_factor = np.ones(n_strata)
    frac1 = np.zeros(n_strata)
    if fpcs:
        f_raw = np.asarray(data[fpcs[0]], dtype=np.float64)
        per_stratum = _constant_within(f_raw, s1.stratum, n_strata, f"fpc column {fpcs[0]!r}")
        frac1 = _fraction(per_stratum, s1.n_psu_stratum.astype(float), f"fpc column {fpcs[0]!r}")
        fpc_factor = 1.0 - frac1
    return fpc_factor, frac1


def _second_stage(
    data: pd.DataFrame, psus: list[str], fpcs: list[str], s1: _FirstStage, frac1: FloatArray
) -> tuple[SecondStage | None, FloatArray | None]:
    """The second stage (with its fpc) and the per-row second-stage fractions, if any."""
    if len(psus) != 2:
        return None, None
    psu_codes = s1.psu_codes
    n_psu = s1.psu_stratum.shape[0]
    ssu = _nested_codes(psu_codes, _codes(data[psus[1]]))
    n_ssu = int(ssu.max()) + 1
    ssu_psu = np.zeros(n_ssu, dtype=np.int64)
    ssu_psu[ssu] = psu_codes
    n_ssu_psu = np.bincount(ssu_psu, minlength=n_psu).astype(np.int64)
    if len(fpcs) != 2:
        return None, None
    f2_raw = np.asarray(data[fpcs[1]], dtype=np.float64)
    per_psu = _constant_within(f2_raw, psu_codes, n_psu, f"fpc column {fpcs[1]!r}")
    frac2 = _fraction(per_psu, n_ssu_psu.astype(float), f"fpc column {fpcs[1]!r}")
    stage2 = SecondStage(
        ssu=ssu,
        ssu_psu=ssu_psu,
        n_ssu_psu=n_ssu_psu,
        fpc_factor=1.0 - frac2,
        first_stage_fraction=frac1[s1.psu_stratum],
    )
    return stage2, frac2[psu_codes]


def _fpc_weights(
    psus: list[str],
    fpcs: list[str],
    frac1_rows: FloatArray,
    frac2_rows: FloatArray | None,
) -> FloatArray:
    """R svydesign: with an fpc and no weights, the weights are the inverse sampling fractions
    of the stages (a stage without an fpc cannot be reweighted: refuse).
    """
    if len(psus) > len(fpcs):
        raise SurveyDesignError(
            "no weight column and no fpc for every sampling stage: the weights cannot be "
            "derived; give weight= or an fpc column per stage"
        )
    w = 1.0 / frac1_rows
    if frac2_rows is not None:
        w = w / frac2_rows
    return w


def _check_lonely(n_psu_stratum: IntArray, lonely_psu: LonelyPsu) -> None:
    """Refuse single-PSU strata under the ``fail`` rule."""
    lonely = n_psu_stratum == 1
    if lonely.any() and lonely_psu == "fail":
        raise SurveyDesignError(
            f"{int(lonely.sum())} stratum/strata have a single PSU; choose a lonely-PSU rule "
            "(certainty, remove or adjust) or collapse strata"
        )


def build_design_arrays(
    data: pd.DataFrame,
    *,
    weight: str | None,
    strata: str | None,
    psu: str | Sequence[str] | None,
    fpc: str | Sequence[str] | None,
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
    psus, fpcs = _stage_columns(psu, fpc)
    _check_design_columns(data, weight, strata, psus, fpcs)
    w = _given_weights(data, weight, n)
    s1 = _first_stage(data, strata, psus)
    fpc_factor, frac1 = _first_stage_fraction(data, fpcs, s1)
    stage2, frac2_rows = _second_stage(data, psus, fpcs, s1, frac1)
    if weight is None and fpcs:
        w = _fpc_weights(psus, fpcs, frac1[s1.stratum], frac2_rows)
    _check_lonely(s1.n_psu_stratum, lonely_psu)
    return DesignArrays(
        weights=w,
        stratum=s1.stratum,
        psu=s1.psu_codes,
        psu_stratum=s1.psu_stratum,
        n_psu_stratum=s1.n_psu_stratum,
        fpc_factor=fpc_factor,
        lonely_psu=lonely_psu,
        stage2=stage2,
    )


def psu_totals(design: DesignArrays, z: FloatArray) -> FloatArray:
    """Totals of the columns of ``z`` (shape ``(n,)`` or ``(n, k)``) over PSUs: ``(P, k)``."""
    return group_sums(z.reshape(design.n_obs, -1), design.psu, design.n_psu)


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
    sums = group_sums(zt, h, design.n_strata)
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
    if design.stage2 is not None:
        v = v + _second_stage_vcov(design, design.stage2, z.reshape(design.n_obs, -1))
    return v


def _second_stage_vcov(design: DesignArrays, st: SecondStage, z: FloatArray) -> FloatArray:
    """Second-stage term of a two-stage design (R survey ``multistage``): for every PSU ``i``,
    ``f1_h (1 - f2_i) m_i / (m_i - 1) sum_j (t_ij - tbar_i)^2`` on the SSU totals ``t_ij``.

    A PSU with a single sampled SSU adds nothing when it is fully sampled; otherwise it follows
    the lonely-PSU rule (``fail`` raises, the others let it add nothing).
    """
    t = group_sums(z, st.ssu, st.ssu_psu.shape[0])
    sums = group_sums(t, st.ssu_psu, design.n_psu)
    m = st.n_ssu_psu.astype(np.float64)
    dev = t - (sums / m[:, None])[st.ssu_psu]
    lonely = (st.n_ssu_psu == 1) & (st.fpc_factor > 1e-12)
    if lonely.any() and design.lonely_psu == "fail":
        raise SurveyDesignError(
            f"{int(lonely.sum())} PSU(s) have a single sampled second-stage unit; choose a "
            "lonely-PSU rule"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(m > 1, m / (m - 1.0), 0.0) * st.fpc_factor * st.first_stage_fraction
    v: FloatArray = (dev * scale[st.ssu_psu][:, None]).T @ dev
    return v


def domain_df(design: DesignArrays, in_domain: npt.NDArray[np.bool_]) -> int:
    """Degrees of freedom of a domain estimate: PSUs minus strata that hold domain members.

    This is R ``survey``'s ``degf()`` of a subset design (and svy's domain df).
    """
    psus = np.unique(design.psu[in_domain])
    strata = np.unique(design.psu_stratum[psus])
    return int(max(psus.size - strata.size, 1))
