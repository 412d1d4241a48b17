"""Fixed effects, IV / 2SLS and household-panel estimators (models 3-5).

All three wrap linearmodels and return :class:`~ctip_research.models.results.RegressionResult`.

Small-sample conventions (methods.md; linearmodels issue 477)
-------------------------------------------------------------
* ``fit_fixed_effects`` (linearmodels ``AbsorbingLS``, ``debiased=True``): clustered errors scaled by
  G/(G-1) x (N-1)/(N-K), K = regressors + absorbed levels *not* nested in the clusters (village
  effects with village clusters are not counted; province effects are). This equals pyfixest
  ``ssc(k_fixef="nonnested")`` without the intercept (``k_fixef="none"`` when the absorbed effects are
  nested in the clusters) and Stata ``reghdfe``'s treatment of nested effects.
* ``fit_iv`` (``IV2SLS``, ``debiased=True``): G/(G-1) x (N-1)/(N-K), K = all regressors including
  fixed-effect dummies, Stata's ``ivregress 2sls, small vce(cluster)`` convention. linearmodels'
  first-stage ``f.stat`` is a Wald chi-square; we divide it by the number of instruments.
* ``fit_panel`` (``PanelOLS``, entity + time effects, ``count_effects=False``, ``auto_df=False``,
  ``debiased=True``, ``group_debias=True``): G/(G-1) x (N-1)/(N-K) with K = regressors + 1; the
  absorbed household and wave effects are not counted, which is Stata's ``xtreg, fe
  vce(cluster)`` treatment of the household effects (pyfixest ``ssc(k_fixef="none")`` up to
  the constant). linearmodels' default would count ~N/2 household effects and inflate the errors
  by about sqrt(2) in a two-wave panel; without ``group_debias`` it would drop G/(G-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctip_research.models.results import RegressionResult, make_terms
from ctip_research.models.specs import ModelSpec, SpecError, select_sample

__all__ = [
    "absorbed_df",
    "anderson_rubin_interval",
    "model_info",
    "effective_f",
    "first_stage",
    "fit_fixed_effects",
    "fit_iv",
    "fit_panel",
    "regressor_frame",
    "within_transform",
]


def regressor_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Numeric regressors: booleans as 0/1, categorical/string columns as dummies (first dropped).

    Examples
    --------
    >>> import pandas as pd
    >>> regressor_frame(pd.DataFrame({"a": [True, False], "b": ["x", "y"]}), ["a", "b"])
         a  b_y
    0  1.0  0.0
    1  0.0  1.0
    """
    parts: list[pd.Series | pd.DataFrame] = []
    for col in columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(s.astype(float).rename(col))
        else:
            dummies = pd.get_dummies(s.astype(str), prefix=col, prefix_sep="_", drop_first=True)
            parts.append(dummies.astype(float))
    if not parts:
        return pd.DataFrame(index=df.index)
    return pd.concat(parts, axis=1)


def _design_label(spec: ModelSpec, n_psu: int | None, extra: str = "") -> str:
    cl = f"clustered by {spec.cluster} ({n_psu})" if spec.cluster else "heteroskedasticity-robust"
    w = f", weighted by {spec.weights}" if spec.weights else ", unweighted"
    return cl + w + (f"; {extra}" if extra else "")


def model_info(spec: ModelSpec, estimator: str, survey: str = "-") -> dict[str, str]:
    """Rows of the regression table describing a model (estimator, clustering, weights, survey)."""
    return {
        "estimator": estimator,
        "clustering": spec.cluster or "none (robust)",
        "weights": spec.weights or "none",
        "survey": survey,
    }


def _n_levels(df: pd.DataFrame, cols: list[str]) -> int:
    return int(sum(df[c].nunique() for c in cols))


def _nested(df: pd.DataFrame, inner: str, outer: str | None) -> bool:
    """Is every level of ``inner`` inside one level of ``outer``?"""
    if outer is None:
        return False
    if inner == outer:
        return True
    return bool((df.groupby(inner, observed=True)[outer].nunique() <= 1).all())


def _cov_kwargs(df: pd.DataFrame, spec: ModelSpec) -> dict[str, Any]:
    if spec.cluster:
        codes = pd.factorize(df[spec.cluster])[0]
        return {"cov_type": "clustered", "clusters": pd.Series(codes, index=df.index)}
    return {"cov_type": "robust"}


def _check_df(spec: ModelSpec, n_obs: int, n_params: int) -> float:
    df_resid = float(n_obs - n_params)
    if df_resid <= 0:
        raise SpecError(f"model {spec.name}: no residual degrees of freedom ({n_obs} rows)")
    return df_resid


def _inference_df(df_resid: float, n_psu: int | None) -> float:
    """Reference t distribution: G - 1 with clustered errors, else the residual df."""
    return float(n_psu - 1) if n_psu else df_resid


def fit_fixed_effects(
    data: pd.DataFrame, spec: ModelSpec, *, alpha: float = 0.05
) -> RegressionResult:
    """Linear (probability) model with absorbed fixed effects and clustered errors (model 3).

    Parameters
    ----------
    data
        Household-wave analysis table.
    spec
        A spec of kind ``fixed_effects`` (also used for the naive OLS when it has no effects).
    alpha
        1 - confidence level.

    Examples
    --------
    >>> from ctip_research.models.simulate import simulate_households
    >>> from ctip_research.config.fit import ModelSpec
    >>> df = simulate_households(n_villages=40, households_per_village=10, seed=1)
    >>> spec = ModelSpec(name="fe", kind="fixed_effects", label="FE",
    ...     outcome="has_international_migrant", exposure="has_mfi_loan", controls=[],
    ...     fixed_effects=["psu_id"], cluster="psu_id", weights="weight_household", wave=1,
    ...     sample=None, instruments=[], link=None, headline=False)
    >>> res = fit_fixed_effects(df, spec)
    >>> res.tidy().columns.tolist()[:3]
    ['term', 'estimate', 'std_error']
    """
    from linearmodels.iv import IV2SLS

    df = select_sample(data, spec)
    y = df[spec.outcome].astype(float)
    x = regressor_frame(df, [spec.exposure, *spec.controls])
    weights = df[spec.weights].astype(float) if spec.weights else None
    n_psu = int(df[spec.cluster].nunique()) if spec.cluster else None
    res: Any
    if spec.fixed_effects:
        fast = _absorbed_ls(df, spec, y, x, weights)
        res = fast if fast is not None else _absorbed_ls_linearmodels(df, spec, y, x, weights)
        n_params = x.shape[1] + _n_levels(df, spec.fixed_effects)
        r2_within = float(res.absorbed_rsquared)
    else:
        x = x.assign(const=1.0)
        cov = _cov_kwargs(df, spec)
        res = IV2SLS(y, x, None, None, weights=weights).fit(debiased=True, **cov)
        n_params = x.shape[1]
        r2_within = float("nan")
    df_resid = _check_df(spec, len(df), n_params)
    names = [c for c in res.params.index if c != "const"]
    terms = make_terms(
        names,
        res.params[names].to_numpy(),
        res.std_errors[names].to_numpy(),
        df=_inference_df(df_resid, n_psu),
        alpha=alpha,
    )
    counted = [c for c in spec.fixed_effects if not _nested(df, c, spec.cluster)]
    convention = (
        "CRV1 G/(G-1)(N-1)/(N-K), K excludes effects nested in clusters" if spec.cluster else "HC1"
    )
    return RegressionResult(
        model=spec.name,
        kind=spec.kind,
        outcome=spec.outcome,
        exposure=spec.exposure,
        terms=terms,
        n_obs=len(df),
        n_psu=n_psu,
        df_resid=df_resid,
        design=_design_label(spec, n_psu, convention),
        fixed_effects=tuple(spec.fixed_effects),
        stats={"r2": float(res.rsquared), "r2_within": r2_within},
        extra={"fixed_effects_counted_in_k": counted},
        label=spec.label,
        info=model_info(spec, "OLS/LPM" if not spec.fixed_effects else "LPM, absorbed FE"),
    )


#: Alternating projections (several absorbed effects) stop when no demeaned value moves by more
#: than this times the column's scale, or after _AP_MAX_ITER sweeps.
_AP_TOL = 1e-13
_AP_MAX_ITER = 10_000
#: A regressor whose demeaned norm is below this share of its norm counts as absorbed; such a
#: model goes to linearmodels, which raises its error (it uses 1e-5).
_ABSORBED_SHARE = 1e-4


@dataclass(frozen=True)
class _AbsorbedFit:
    """The parts of linearmodels' ``AbsorbingLSResults`` that :func:`fit_fixed_effects` reads."""

    params: pd.Series
    std_errors: pd.Series
    rsquared: float
    absorbed_rsquared: float


def _group_codes(df: pd.DataFrame, cols: list[str]) -> list[np.ndarray]:
    return [pd.factorize(df[c], sort=False)[0].astype(np.intp) for c in cols]


def _demean(
    mat: np.ndarray, codes: list[np.ndarray], w: np.ndarray, wsums: list[np.ndarray]
) -> np.ndarray:
    """Weighted within transformation of the columns of ``mat`` (modified in place and returned).

    Exact for one effect; alternating projections (Gauss-Seidel sweeps over the effects, as
    fixest/pyfixest) to convergence for several.
    """

    def sweep() -> float:
        moved = 0.0
        for g, ws in zip(codes, wsums, strict=True):
            for j in range(mat.shape[1]):
                means = np.bincount(g, weights=w * mat[:, j], minlength=len(ws))
                np.divide(means, ws, out=means, where=ws > 0)
                mat[:, j] -= means[g]
                moved = max(moved, float(np.max(np.abs(means))) / scale[j])
        return moved

    scale = np.maximum(np.max(np.abs(mat), axis=0), 1e-300) if len(mat) else np.ones(mat.shape[1])
    if len(codes) == 1:
        sweep()
        return mat
    for _ in range(_AP_MAX_ITER):
        if sweep() < _AP_TOL:
            break
    return mat


def _absorbed_ls(
    df: pd.DataFrame,
    spec: ModelSpec,
    y: pd.Series,
    x: pd.DataFrame,
    weights: pd.Series | None,
) -> _AbsorbedFit | None:
    """Weighted least squares with absorbed effects in numpy: linearmodels' ``AbsorbingLS`` numbers.

    Same estimator, degrees of freedom and covariance as ``AbsorbingLS(...).fit(debiased=True)``
    (clustered: G/(G-1)(N-1)/(N-k-d); robust: N/(N-k-d); d = absorbed dummies, one less per effect
    after the first, 0 for a single effect nested in the clusters), but linearmodels falls back to
    iterative LSMR on the sparse dummies whenever the model is weighted; weighted group means by
    ``np.bincount`` are exact for one effect and much faster. Returns None (the caller then uses
    linearmodels, which raises) when a regressor is absorbed by the effects or no degree of
    freedom is left.
    """
    n = len(df)
    k = x.shape[1]
    w = np.ones(n) if weights is None else weights.to_numpy(float)
    codes = _group_codes(df, spec.fixed_effects)
    n_levels = [int(g.max()) + 1 if n else 0 for g in codes]
    wsums = [np.bincount(g, weights=w, minlength=m) for g, m in zip(codes, n_levels, strict=True)]
    yx = np.empty((n, k + 1))
    yx[:, 0] = y.to_numpy(float)
    yx[:, 1:] = x.to_numpy(float)
    sw = np.sqrt(w)
    orig_norm = np.sqrt((w[:, None] * yx**2).sum(axis=0))
    y_mean = float(np.average(yx[:, 0], weights=w))
    tss = float(np.sum(w * (yx[:, 0] - y_mean) ** 2))
    y_ss = float(orig_norm[0] ** 2)
    yx = _demean(yx, codes, w, wsums)
    yx *= sw[:, None]
    yt, xt = yx[:, 0], yx[:, 1:]
    if k and np.any(np.linalg.norm(xt, axis=0) < _ABSORBED_SHARE * orig_norm[1:]):
        return None
    beta = np.linalg.lstsq(xt, yt, rcond=None)[0] if k else np.zeros(0)
    e = yt - xt @ beta
    rss = float(e @ e)
    bread = np.linalg.inv(xt.T @ xt) if k else np.zeros((0, 0))
    scores = xt * e[:, None]
    meat: np.ndarray
    if spec.cluster:
        clusters = pd.factorize(df[spec.cluster], sort=False)[0]
        n_groups = int(clusters.max()) + 1
        sums = np.vstack(
            [np.bincount(clusters, weights=scores[:, j], minlength=n_groups) for j in range(k)]
        ).T
        meat = sums.T @ sums
        extra_df = absorbed_df(codes, clusters)
        dof = n - k - extra_df
        scale = n_groups / (n_groups - 1) * (n - 1) / dof
    else:
        meat = scores.T @ scores
        dof = n - k - absorbed_df(codes, None)
        scale = n / dof
    if dof <= 0:  # linearmodels raises its error
        return None
    cov = bread @ meat @ bread * scale
    names = list(x.columns)
    tol = (max(n, 100) * np.finfo(float).eps) ** 2
    r2 = float("nan") if tss <= tol * y_ss else max(0.0, 1.0 - rss / tss)
    within_tss = float(yt @ yt)
    r2_within = float("nan") if within_tss <= tol * y_ss else max(0.0, 1.0 - rss / within_tss)
    return _AbsorbedFit(
        params=pd.Series(beta, index=names, name="parameter"),
        std_errors=pd.Series(np.sqrt(np.diag(cov)), index=names, name="std_error"),
        rsquared=r2,
        absorbed_rsquared=r2_within,
    )


def within_transform(
    mat: np.ndarray, codes: list[np.ndarray], weights: np.ndarray | None = None
) -> np.ndarray:
    """Weighted within transformation of the columns of ``mat`` (the one of ``fit_fixed_effects``).

    Parameters
    ----------
    mat
        ``(n, m)`` array; a copy is transformed and returned.
    codes
        One integer code array (0..levels-1) per absorbed effect.
    weights
        Observation weights (None: equal weights).

    Exact for one effect; alternating projections to convergence for several.

    Examples
    --------
    >>> import numpy as np
    >>> within_transform(np.array([[1.0], [3.0], [5.0]]), [np.array([0, 0, 1])]).ravel().tolist()
    [-1.0, 1.0, 0.0]
    """
    out = np.array(mat, dtype=float, copy=True)
    n = out.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    wsums = [np.bincount(g, weights=w, minlength=int(g.max()) + 1 if n else 0) for g in codes]
    return _demean(out, codes, w, wsums)


def absorbed_df(codes: list[np.ndarray], clusters: np.ndarray | None) -> int:
    """Degrees of freedom used by absorbed effects in the CRV1/HC1 factor of ``fit_fixed_effects``.

    All levels minus one per effect after the first; 0 for a single effect nested in the
    clusters (Stata ``reghdfe``; pyfixest ``ssc(k_fixef="nonnested")``).

    Examples
    --------
    >>> import numpy as np
    >>> absorbed_df([np.array([0, 0, 1, 1])], np.array([0, 0, 1, 1]))
    0
    >>> absorbed_df([np.array([0, 0, 1, 1])], np.array([0, 1, 0, 1]))
    2
    """
    if not codes:
        return 0
    if clusters is not None and len(codes) == 1 and _codes_nested(codes[0], clusters):
        return 0
    return int(sum(int(g.max()) + 1 for g in codes) - (len(codes) - 1))


def _codes_nested(effect: np.ndarray, clusters: np.ndarray) -> bool:
    """Is every level of ``effect`` (integer codes) inside a single cluster?"""
    pairs = np.unique(effect.astype(np.int64) * (int(clusters.max()) + 1) + clusters)
    return bool(len(pairs) == int(effect.max()) + 1)


def _absorbed_ls_linearmodels(
    df: pd.DataFrame,
    spec: ModelSpec,
    y: pd.Series,
    x: pd.DataFrame,
    weights: pd.Series | None,
) -> Any:
    """The reference implementation: linearmodels ``AbsorbingLS`` (``debiased=True``)."""
    from linearmodels.iv.absorbing import AbsorbingLS

    absorb = pd.DataFrame(
        {c: pd.Categorical(df[c].astype(str)) for c in spec.fixed_effects}, index=df.index
    )
    return AbsorbingLS(y, x, absorb=absorb, weights=weights).fit(
        debiased=True, **_cov_kwargs(df, spec)
    )


def _residualise(target: np.ndarray, w_mat: np.ndarray, sw: np.ndarray) -> np.ndarray:
    """Weighted residuals of ``target`` on ``w_mat`` (``sw`` = sqrt of the weights)."""
    if w_mat.shape[1] == 0:
        return target
    scale = sw[:, None] if target.ndim == 2 else sw
    coef, *_ = np.linalg.lstsq(w_mat * sw[:, None], target * scale, rcond=None)
    return target - w_mat @ coef


def _cluster_meat(scores: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    if clusters is None:
        return scores.T @ scores
    _, inv = np.unique(clusters, return_inverse=True)
    sums = np.zeros((inv.max() + 1, scores.shape[1]))
    np.add.at(sums, inv, scores)
    return sums.T @ sums


def first_stage(
    x: np.ndarray,
    z: np.ndarray,
    w_mat: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
) -> dict[str, Any]:
    """First-stage diagnostics for one endogenous regressor ``x``, instruments ``z``, exogenous ``w_mat``.

    By Frisch-Waugh-Lovell the instruments and ``x`` are partialled on ``w_mat`` (weighted), which
    gives the same coefficients and cluster-robust scores as the full first stage.

    Returns
    -------
    dict
        ``coefficients``, ``std_errors`` (CRV1: G/(G-1)(N-1)/(N-K), as linearmodels
        ``debiased=True``), ``robust_f`` (the Wald statistic of the instruments / L, i.e.
        linearmodels' first-stage ``f.stat`` divided by the number of instruments),
        ``effective_f`` (Montiel Olea & Pflueger 2013: ``pi' Z'Z pi / trace(V(pi) Z'Z)``; equal to
        ``robust_f`` with one instrument) and ``partial_r2``.
    """
    n = len(x)
    wts = np.ones(n) if weights is None else np.asarray(weights, float)
    sw = np.sqrt(wts)
    z = np.atleast_2d(z.T).T
    n_inst = z.shape[1]
    zt = _residualise(z, w_mat, sw) * sw[:, None]
    xt = _residualise(x, w_mat, sw) * sw
    zz = zt.T @ zt
    zz_inv = np.linalg.inv(zz)
    pi = zz_inv @ zt.T @ xt
    e = xt - zt @ pi
    meat = _cluster_meat(zt * e[:, None], clusters)
    k = n_inst + w_mat.shape[1]
    if clusters is not None:
        g = len(np.unique(clusters))
        scale = g / (g - 1) * (n - 1) / (n - k)
    else:
        scale = n / (n - k)
    v = zz_inv @ meat @ zz_inv * scale
    wald = float(pi @ np.linalg.solve(v, pi))
    return {
        "coefficients": pi,
        "std_errors": np.sqrt(np.diag(v)),
        "robust_f": wald / n_inst,
        "effective_f": float(pi @ zz @ pi / np.trace(v @ zz)),
        "partial_r2": float(1 - (e @ e) / (xt @ xt)),
    }


def effective_f(
    x: np.ndarray,
    z: np.ndarray,
    w_mat: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
) -> float:
    """Montiel Olea & Pflueger (2013) effective first-stage F (see :func:`first_stage`)."""
    return float(first_stage(x, z, w_mat, weights=weights, clusters=clusters)["effective_f"])


def anderson_rubin_interval(
    y: np.ndarray,
    x: np.ndarray,
    z: np.ndarray,
    w_mat: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    alpha: float = 0.05,
    grid: np.ndarray | None = None,
) -> dict[str, Any]:
    """Weak-instrument-robust Anderson-Rubin confidence set for one endogenous regressor.

    For each candidate ``b``, regress ``y - b x`` on the instruments and the exogenous regressors and
    Wald-test the instrument coefficients with cluster-robust (G/(G-1)) errors against
    F(L, G-1) (F(L, N-K) without clusters). Both the coefficients and the robust variance are
    quadratic in ``b``, so the statistic is evaluated in closed form; with one instrument the set
    is solved exactly (an interval, two rays or the whole line), otherwise on ``grid``.

    Returns
    -------
    dict
        ``kind`` (``interval``, ``union_of_rays``, ``unbounded``, ``empty`` or ``grid``), ``low``,
        ``high`` and ``statistic_at_zero`` / ``p_value_at_zero`` (the AR test of no effect).
    """
    n = len(y)
    wts = np.ones(n) if weights is None else np.asarray(weights, float)
    sw = np.sqrt(wts)
    z = np.atleast_2d(z.T).T
    n_inst = z.shape[1]
    zt = _residualise(z, w_mat, sw) * sw[:, None]
    yt = _residualise(y, w_mat, sw) * sw
    xt = _residualise(x, w_mat, sw) * sw
    zz_inv = np.linalg.inv(zt.T @ zt)
    gy, gx = zz_inv @ zt.T @ yt, zz_inv @ zt.T @ xt
    ey, ex = yt - zt @ gy, xt - zt @ gx
    if clusters is not None:
        g = len(np.unique(clusters))
        scale, df2 = g / (g - 1), g - 1
    else:
        k = n_inst + w_mat.shape[1]
        scale, df2 = n / (n - k), n - k
    syy = zz_inv @ _cluster_meat(zt * ey[:, None], clusters) @ zz_inv * scale
    sxx = zz_inv @ _cluster_meat(zt * ex[:, None], clusters) @ zz_inv * scale
    cross = _cluster_meat(np.hstack([zt * ey[:, None], zt * ex[:, None]]), clusters)
    sxy = zz_inv @ cross[:n_inst, n_inst:] @ zz_inv * scale
    crit = stats.f.ppf(1 - alpha, n_inst, df2) * n_inst

    def wald(b: float) -> float:
        d = gy - b * gx
        v = syy - b * (sxy + sxy.T) + b * b * sxx
        return float(d @ np.linalg.solve(v, d))

    stat0 = wald(0.0)
    out: dict[str, Any] = {
        "statistic_at_zero": stat0 / n_inst,
        "p_value_at_zero": float(stats.f.sf(stat0 / n_inst, n_inst, df2)),
        "critical_value": crit / n_inst,
    }
    if n_inst == 1:
        # (gy - b gx)^2 <= crit (syy - 2 b sxy + b^2 sxx)  <=>  a b^2 + bb b + c <= 0
        a = float(gx[0] ** 2 - crit * sxx[0, 0])
        bb = float(-2 * gy[0] * gx[0] + 2 * crit * sxy[0, 0])
        c = float(gy[0] ** 2 - crit * syy[0, 0])
        disc = bb * bb - 4 * a * c
        if a > 0:
            if disc < 0:
                out.update(kind="empty", low=float("nan"), high=float("nan"))
            else:
                r = np.sort([(-bb - np.sqrt(disc)) / (2 * a), (-bb + np.sqrt(disc)) / (2 * a)])
                out.update(kind="interval", low=float(r[0]), high=float(r[1]))
        elif disc > 0 and a < 0:
            r = np.sort([(-bb - np.sqrt(disc)) / (2 * a), (-bb + np.sqrt(disc)) / (2 * a)])
            out.update(kind="union_of_rays", low=float(r[0]), high=float(r[1]))
        else:
            out.update(kind="unbounded", low=float("-inf"), high=float("inf"))
        return out
    if grid is None:
        raise ValueError("an over-identified AR set needs a grid")
    accepted = np.array([wald(float(b)) <= crit for b in grid])
    if not accepted.any():
        out.update(kind="empty", low=float("nan"), high=float("nan"))
    else:
        lo, hi = grid[accepted].min(), grid[accepted].max()
        bounded = not (accepted[0] or accepted[-1])
        out.update(kind="grid" if bounded else "unbounded", low=float(lo), high=float(hi))
    return out


def fit_iv(data: pd.DataFrame, spec: ModelSpec, *, alpha: float = 0.05) -> RegressionResult:
    """Two-stage least squares with the branch instrument(s) and clustered errors (model 4).

    Fixed effects enter as dummies (they must not absorb the instrument: use province or stratum
    effects with a commune-level instrument). Diagnostics in ``extra``: the first-stage
    coefficients, the robust first-stage F (linearmodels' Wald chi-square / number of
    instruments), the Montiel Olea-Pflueger effective F, partial R², the Anderson-Rubin set and,
    when over-identified, Hansen's J from cluster-robust two-step GMM.
    """
    from linearmodels.iv import IV2SLS, IVGMM

    df = select_sample(data, spec)
    y = df[spec.outcome].astype(float)
    endog = df[[spec.exposure]].astype(float)
    exog = regressor_frame(df, list(spec.controls))
    control_cols = list(exog.columns)
    for fe in spec.fixed_effects:
        exog = pd.concat(
            [exog, pd.get_dummies(df[fe].astype(str), prefix=fe, drop_first=True).astype(float)],
            axis=1,
        )
    exog = exog.assign(const=1.0)
    inst = regressor_frame(df, list(spec.instruments))
    weights = df[spec.weights].astype(float) if spec.weights else None
    cov = _cov_kwargs(df, spec)
    n_psu = int(df[spec.cluster].nunique()) if spec.cluster else None
    res = IV2SLS(y, exog, endog, inst, weights=weights).fit(debiased=True, **cov)
    n_params = exog.shape[1] + 1
    df_resid = _check_df(spec, len(df), n_params)
    names = [spec.exposure, *control_cols]
    terms = make_terms(
        names,
        res.params[names].to_numpy(),
        res.std_errors[names].to_numpy(),
        df=_inference_df(df_resid, n_psu),
        alpha=alpha,
    )
    n_inst = inst.shape[1]
    clusters = cov["clusters"].to_numpy() if spec.cluster else None
    w_arr = None if weights is None else weights.to_numpy()
    fs = first_stage(
        endog[spec.exposure].to_numpy(),
        inst.to_numpy(),
        exog.to_numpy(),
        weights=w_arr,
        clusters=clusters,
    )
    est, se = float(res.params[spec.exposure]), float(res.std_errors[spec.exposure])
    grid = np.linspace(est - 20 * se, est + 20 * se, 4001)
    ar = anderson_rubin_interval(
        y.to_numpy(),
        endog[spec.exposure].to_numpy(),
        inst.to_numpy(),
        exog.to_numpy(),
        weights=w_arr,
        clusters=clusters,
        alpha=alpha,
        grid=grid,
    )
    extra: dict[str, Any] = {
        "first_stage": {
            "coefficients": dict(zip(inst.columns, fs["coefficients"].tolist(), strict=True)),
            "std_errors": dict(zip(inst.columns, fs["std_errors"].tolist(), strict=True)),
            "partial_r2": fs["partial_r2"],
            "robust_f": fs["robust_f"],
            "robust_f_note": "Wald statistic of the instruments (CRV1) / number of instruments "
            "(= linearmodels first-stage f.stat / L)",
            "effective_f": fs["effective_f"],
        },
        "anderson_rubin": ar,
        "n_instruments": n_inst,
    }
    if n_inst > 1:
        wcfg = {"clusters": cov["clusters"]} if spec.cluster else {}
        gmm = IVGMM(
            y,
            exog,
            endog,
            inst,
            weights=weights,
            weight_type="clustered" if spec.cluster else "robust",
            **wcfg,
        ).fit(**cov)
        j = gmm.j_stat  # type: ignore[attr-defined]
        extra["overid"] = {
            "test": "Hansen J (two-step GMM)",
            "statistic": float(j.stat),
            "p_value": float(j.pval),
            "df": int(j.df),
        }
    return RegressionResult(
        model=spec.name,
        kind=spec.kind,
        outcome=spec.outcome,
        exposure=spec.exposure,
        terms=terms,
        n_obs=len(df),
        n_psu=n_psu,
        df_resid=df_resid,
        design=_design_label(spec, n_psu, "2SLS, CRV1 G/(G-1)(N-1)/(N-K)"),
        fixed_effects=tuple(spec.fixed_effects),
        stats={
            "r2": float(res.rsquared),
            "first_stage_f": fs["robust_f"],
            "effective_f": fs["effective_f"],
            "ar_low": float(ar["low"]),
            "ar_high": float(ar["high"]),
        },
        extra=extra,
        label=spec.label,
        info=model_info(spec, "2SLS"),
    )


def fit_panel(
    data: pd.DataFrame,
    spec: ModelSpec,
    *,
    alpha: float = 0.05,
    entity: str = "household_id",
    time: str = "wave",
) -> RegressionResult:
    """Household fixed effects across waves with time effects (model 5).

    Uses the household-wave table, keeps households observed in every wave of the sample
    (a balanced panel), and fits linearmodels ``PanelOLS(entity_effects=True,
    time_effects=True)`` with errors clustered by ``spec.cluster`` and
    ``count_effects=False, auto_df=False`` (see the module notes). Weights: ``spec.weights`` as
    observed in each wave.
    """
    from linearmodels.panel import PanelOLS

    df = select_sample(data, spec, extra=[entity, time])
    n_waves = df[time].nunique()
    counts = df.groupby(entity)[time].transform("nunique")
    df = df.loc[counts == n_waves].reset_index(drop=True)
    if df.empty or n_waves < 2:
        raise SpecError(f"model {spec.name}: a panel needs households observed in 2+ waves")
    extra_fe = [c for c in spec.fixed_effects if c not in (entity, time)]
    if extra_fe:
        raise SpecError(
            f"model {spec.name}: a panel absorbs household and wave effects only; got {extra_fe}"
        )
    idx = pd.MultiIndex.from_arrays([df[entity].astype(str), df[time].astype(int)])
    y = df[spec.outcome].astype(float).set_axis(idx)
    x = regressor_frame(df, [spec.exposure, *spec.controls]).set_axis(idx)
    weights = df[spec.weights].astype(float).set_axis(idx) if spec.weights else None
    n_psu = int(df[spec.cluster].nunique()) if spec.cluster else None
    mod = PanelOLS(
        y, x, entity_effects=True, time_effects=True, weights=weights, drop_absorbed=True
    )
    if spec.cluster:
        clusters = pd.DataFrame({"cl": pd.factorize(df[spec.cluster])[0]}, index=idx)
        res = mod.fit(
            cov_type="clustered",
            clusters=clusters,
            count_effects=False,
            auto_df=False,
            debiased=True,
            group_debias=True,
        )
    else:
        res = mod.fit(cov_type="robust", count_effects=False, auto_df=False, debiased=True)
    n_ent = df[entity].nunique()
    n_params = len(res.params) + n_ent + n_waves - 1
    df_resid = _check_df(spec, len(df), n_params)
    names = list(res.params.index)
    terms = make_terms(
        names,
        res.params.to_numpy(),
        res.std_errors.to_numpy(),
        df=_inference_df(df_resid, n_psu),
        alpha=alpha,
    )
    return RegressionResult(
        model=spec.name,
        kind=spec.kind,
        outcome=spec.outcome,
        exposure=spec.exposure,
        terms=terms,
        n_obs=len(df),
        n_psu=n_psu,
        df_resid=df_resid,
        design=_design_label(
            spec,
            n_psu,
            "PanelOLS entity+time effects, CRV1 G/(G-1)(N-1)/(N-K), household effects not in K",
        ),
        fixed_effects=(entity, time),
        stats={
            "r2_within": float(res.rsquared_within),
            "r2": float(res.rsquared),
            "n_households": float(n_ent),
        },
        extra={},
        label=spec.label,
        info=model_info(spec, "Panel FE (household, wave)"),
    )
