"""Fixed effects, IV / 2SLS and household-panel estimators (models 3-5).

All three return :class:`~ctip_research.models.results.RegressionResult`. Every model is fitted
by :func:`ctip_research.estimation.feols` (the package's own numpy estimator; linearmodels is
used only for Hansen's J, two-step GMM, and as a reference in the tests); a spec is translated into a
formula (``outcome ~ exposure + controls | fixed effects | endogenous ~ instruments``), so the
pipeline and a notebook fit the same estimator.

Small-sample convention (``ssc="stata"``, docs/models.md; linearmodels GitHub issues/477)
-------------------------------------------------------------------------------
Clustered errors are CRV1, G/(G-1) x (N-1)/(N-K) with t(G-1) inference, K as Stata counts it:
every estimated coefficient, the constant included (reported as ``Intercept``, Stata's
``_cons``); absorbed effects nested in the clusters are not counted (``xtreg, fe vce(cluster)``:
village effects with village clusters, household effects with village clusters), other absorbed
effects count as their dummies (province effects). This equals fixest / pyfixest's default
``ssc()`` and Stata ``reghdfe`` one-way. Unclustered errors are HC1 (N/(N-K)).

* ``fit_fixed_effects``: absorbed effects, constant added back as ``xtreg, fe`` does.
* ``fit_iv``: 2SLS; fixed effects absorbed (they must not absorb the instrument); diagnostics from
  :func:`first_stage` (robust F = Wald / L, the Montiel Olea-Pflueger effective F), the classical
  first-stage F of ``feols``, the Anderson-Rubin set and Hansen's J when over-identified.
* ``fit_panel``: household effects absorbed; wave effects (optional: only when the spec lists the
  time column among its fixed effects) enter as wave dummies, so the within R² is Stata
  ``xtreg, fe``'s; a regressor collinear with the effects is dropped and named in the result
  (``extra["collinear"]``) with a warning, never silently.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctip_research.errors import CtipError
from ctip_research.estimation.kernels import (
    cluster_adjustment,
    cluster_meat,
    crv1_factor,
    hc1_adjustment,
    is_nested,
)
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


def _linear_fit(
    df: pd.DataFrame,
    spec: ModelSpec,
    x: pd.DataFrame,
    *,
    fixef: list[str],
    alpha: float,
    iv: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Any:
    """``feols`` on a frame holding the outcome, the regressor columns and the design columns."""
    from ctip_research.estimation import feols

    cols: dict[str, Any] = {spec.outcome: df[spec.outcome].astype(float)}
    cols.update({c: x[c] for c in x.columns})
    if iv is not None:
        cols.update({c: iv[0][c] for c in iv[0].columns})
        cols.update({c: iv[1][c] for c in iv[1].columns})
    for c in [*fixef, *([spec.cluster] if spec.cluster else []), *([spec.weights] or [])]:
        if c and c not in cols:
            cols[c] = df[c]
    frame = pd.DataFrame(cols, index=df.index)
    formula = f"{spec.outcome} ~ " + (" + ".join(x.columns) if len(x.columns) else "1")
    if fixef:
        formula += " | " + " + ".join(fixef)
    if iv is not None:
        formula += f" | {' + '.join(iv[0].columns)} ~ {' + '.join(iv[1].columns)}"
    vcov: Any = {"CRV1": spec.cluster} if spec.cluster else "hetero"
    try:
        return feols(
            formula, frame, weights=spec.weights, vcov=vcov, ssc="stata", conf_level=1 - alpha
        )
    except CtipError as exc:
        raise SpecError(f"model {spec.name}: {exc}") from None


#: How the pipeline's errors are described (``design`` column of estimates.csv).
CONVENTION = "CRV1 G/(G-1)(N-1)/(N-K), Stata K (constant counted, effects nested in clusters not)"


def _result_from_fit(
    spec: ModelSpec,
    res: Any,
    names: list[str],
    *,
    alpha: float,
    estimator: str,
    note: str,
    stats_extra: dict[str, float] | None = None,
    extra: dict[str, Any] | None = None,
    fixed_effects: tuple[str, ...] | None = None,
) -> RegressionResult:
    """A :class:`RegressionResult` holding ``names`` (intercept first) of a ``feols`` fit."""
    names = [n for n in ["Intercept", *names] if n in res.params.index]
    terms = make_terms(
        names,
        res.params[names].to_numpy(),
        res.std_errors[names].to_numpy(),
        df=res.df_inference,
        alpha=alpha,
    )
    n_psu = res.n_clusters
    stats = {
        "r2": float(res.stats["r2"]),
        "sigma_e": float(res.stats["sigma_e"]),
        **(stats_extra or {}),
    }
    conv = CONVENTION if spec.cluster else "HC1 N/(N-K)"
    info_extra = dict(extra or {})
    if res.collinear:
        info_extra["collinear"] = list(res.collinear)
    return RegressionResult(
        model=spec.name,
        kind=spec.kind,
        outcome=spec.outcome,
        exposure=spec.exposure,
        terms=terms,
        n_obs=res.n_obs,
        n_psu=n_psu,
        df_resid=float(res.df_resid),
        design=_design_label(spec, n_psu, f"{note}{conv}"),
        fixed_effects=tuple(spec.fixed_effects) if fixed_effects is None else fixed_effects,
        stats=stats,
        extra=info_extra,
        label=spec.label,
        info=model_info(spec, estimator),
        covariance=res.vcov.loc[names, names],
        df_t=res.df_inference,
        conf_level=1 - alpha,
    )


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
    >>> res.tidy()["term"].tolist()
    ['Intercept', 'has_mfi_loan']
    """
    df = select_sample(data, spec)
    x = regressor_frame(df, [spec.exposure, *spec.controls])
    res = _linear_fit(df, spec, x, fixef=list(spec.fixed_effects), alpha=alpha)
    stats: dict[str, float] = {}
    if spec.fixed_effects:
        stats = {
            "r2_within": float(res.stats["r2_within"]),
            "f_fixef": float(res.stats["f_fixef"]),
            "f_fixef_p": float(res.stats["f_fixef_p"]),
        }
    else:
        stats = {"r2_within": float("nan")}
    counted = [c for c in spec.fixed_effects if not (spec.cluster and _nested(df, c, spec.cluster))]
    return _result_from_fit(
        spec,
        res,
        list(x.columns),
        alpha=alpha,
        estimator="OLS/LPM" if not spec.fixed_effects else "LPM, absorbed FE",
        note="",
        stats_extra=stats,
        extra={"fixed_effects_counted_in_k": counted},
    )


def absorbed_df(codes: list[np.ndarray], clusters: np.ndarray | None) -> int:
    """Degrees of freedom used by absorbed effects in the CRV1/HC1 factor of ``fit_fixed_effects``.

    All levels minus one per effect after the first; 0 for a single effect nested in the
    clusters (pyfixest ``ssc(k_fixef="none")``; the wild bootstrap's CRV1 convention -- the
    fitted models count the constant as well, Stata's ``xtreg``).

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
    if clusters is not None and len(codes) == 1 and is_nested(codes[0], clusters):
        return 0
    return int(sum(int(g.max()) + 1 for g in codes) - (len(codes) - 1))


def _residualise(target: np.ndarray, w_mat: np.ndarray, sw: np.ndarray) -> np.ndarray:
    """Weighted residuals of ``target`` on ``w_mat`` (``sw`` = sqrt of the weights)."""
    if w_mat.shape[1] == 0:
        return target
    scale = sw[:, None] if target.ndim == 2 else sw
    coef, *_ = np.linalg.lstsq(w_mat * sw[:, None], target * scale, rcond=None)
    return target - w_mat @ coef


def _cluster_meat(scores: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """The cluster meat with clusters given by their values (sorted order of the levels)."""
    codes = None if clusters is None else np.unique(clusters, return_inverse=True)[1].reshape(-1)
    return cluster_meat(scores, codes)


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
        scale = crv1_factor(n, k, len(np.unique(clusters)))
    else:
        scale = hc1_adjustment(n, k)
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
        scale, df2 = cluster_adjustment(g), g - 1
    else:
        k = n_inst + w_mat.shape[1]
        scale, df2 = hc1_adjustment(n, k), n - k
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


def _with_fe_dummies(df: pd.DataFrame, spec: ModelSpec, exog: pd.DataFrame) -> pd.DataFrame:
    """The exogenous regressors with the fixed effects as dummies and a constant."""
    for fe in spec.fixed_effects:
        exog = pd.concat(
            [exog, pd.get_dummies(df[fe].astype(str), prefix=fe, drop_first=True).astype(float)],
            axis=1,
        )
    return exog.assign(const=1.0)


def _first_stage_extra(inst: pd.DataFrame, fs: dict[str, Any]) -> dict[str, Any]:
    """The first-stage diagnostics as reported in ``extra``."""
    return {
        "coefficients": dict(zip(inst.columns, fs["coefficients"].tolist(), strict=True)),
        "std_errors": dict(zip(inst.columns, fs["std_errors"].tolist(), strict=True)),
        "partial_r2": fs["partial_r2"],
        "robust_f": fs["robust_f"],
        "robust_f_note": "Wald statistic of the instruments (CRV1) / number of instruments "
        "(= linearmodels first-stage f.stat / L)",
        "effective_f": fs["effective_f"],
    }


def _hansen_j(
    spec: ModelSpec,
    frames: tuple[pd.Series, pd.DataFrame, pd.DataFrame, pd.DataFrame],
    weights: pd.Series | None,
    cov: dict[str, Any],
) -> dict[str, Any]:
    """Hansen's J of over-identification from cluster-robust two-step GMM."""
    from linearmodels.iv import IVGMM

    y, exog, endog, inst = frames
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
    return {
        "test": "Hansen J (two-step GMM)",
        "statistic": float(j.stat),
        "p_value": float(j.pval),
        "df": int(j.df),
    }


def fit_iv(data: pd.DataFrame, spec: ModelSpec, *, alpha: float = 0.05) -> RegressionResult:
    """Two-stage least squares with the branch instrument(s) and clustered errors (model 4).

    Fixed effects enter as dummies (they must not absorb the instrument: use province or stratum
    effects with a commune-level instrument). Diagnostics in ``extra``: the first-stage
    coefficients, the robust first-stage F (linearmodels' Wald chi-square / number of
    instruments), the Montiel Olea-Pflueger effective F, partial R², the Anderson-Rubin set and,
    when over-identified, Hansen's J from cluster-robust two-step GMM.
    """
    df = select_sample(data, spec)
    y = df[spec.outcome].astype(float)
    endog = df[[spec.exposure]].astype(float)
    exog = regressor_frame(df, list(spec.controls))
    control_cols = list(exog.columns)
    fit = _linear_fit(
        df,
        spec,
        exog,
        fixef=list(spec.fixed_effects),
        alpha=alpha,
        iv=(endog, regressor_frame(df, list(spec.instruments))),
    )
    exog = _with_fe_dummies(df, spec, exog)
    inst = regressor_frame(df, list(spec.instruments))
    weights = df[spec.weights].astype(float) if spec.weights else None
    cov = _cov_kwargs(df, spec)
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
    est, se = float(fit.params[spec.exposure]), float(fit.std_errors[spec.exposure])
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
        "first_stage": _first_stage_extra(inst, fs),
        "anderson_rubin": ar,
        "n_instruments": n_inst,
    }
    if n_inst > 1:
        extra["overid"] = _hansen_j(spec, (y, exog, endog, inst), weights, cov)
    classical = fit.first_stage.get(spec.exposure, {})
    extra["first_stage"]["classical_f"] = classical.get("f", float("nan"))
    return _result_from_fit(
        spec,
        fit,
        [spec.exposure, *control_cols],
        alpha=alpha,
        estimator="2SLS",
        note="2SLS, ",
        stats_extra={
            "first_stage_f": fs["robust_f"],
            "first_stage_f_classical": classical.get("f", float("nan")),
            "effective_f": fs["effective_f"],
            "ar_low": float(ar["low"]),
            "ar_high": float(ar["high"]),
        },
        extra=extra,
    )


def fit_panel(
    data: pd.DataFrame,
    spec: ModelSpec,
    *,
    alpha: float = 0.05,
    entity: str = "household_id",
    time: str = "wave",
) -> RegressionResult:
    """Household fixed effects across waves (model 5), as Stata ``xtreg, fe vce(cluster)``.

    Uses the household-wave table, keeps households observed in every wave of the sample (a
    balanced panel), absorbs the household effects and, when ``spec.fixed_effects`` lists the
    time column, adds wave dummies (Stata ``i.wave``). Errors are clustered by ``spec.cluster``
    with the Stata convention (module notes); ``r2_within`` is Stata's within R². A regressor
    collinear with the effects (time-invariant, or a linear trend with wave effects) is dropped
    with a warning and listed in ``extra["collinear"]``. Weights: ``spec.weights`` as observed in
    each wave.
    """
    df = select_sample(data, spec, extra=[entity, time])
    n_waves = df[time].nunique()
    counts = df.groupby(entity)[time].transform("nunique")
    df = df.loc[counts == n_waves].reset_index(drop=True)
    if df.empty or n_waves < 2:
        raise SpecError(f"model {spec.name}: a panel needs households observed in 2+ waves")
    extra_fe = [c for c in spec.fixed_effects if c not in (entity, time)]
    if extra_fe:
        raise SpecError(
            f"model {spec.name}: a panel absorbs household (and wave) effects only; got {extra_fe}"
        )
    x = regressor_frame(df, [spec.exposure, *spec.controls])
    if time in spec.fixed_effects:
        waves = sorted(df[time].unique())
        for wv in waves[1:]:
            x[f"{time}_{wv}"] = (df[time] == wv).astype(float)
    res = _linear_fit(df, spec, x, fixef=[entity], alpha=alpha)
    if res.collinear:
        log_names = ", ".join(res.collinear)
        warnings.warn(
            f"model {spec.name}: dropped regressors collinear with the effects: {log_names}",
            UserWarning,
            stacklevel=2,
        )
    n_ent = df[entity].nunique()
    return _result_from_fit(
        spec,
        res,
        [c for c in x.columns if c in res.params.index],
        alpha=alpha,
        estimator="Panel FE (household" + (", wave)" if time in spec.fixed_effects else ")"),
        note="household effects absorbed"
        + (", wave dummies; " if time in spec.fixed_effects else "; "),
        stats_extra={
            "r2_within": float(res.stats["r2_within"]),
            "f_fixef": float(res.stats["f_fixef"]),
            "f_fixef_p": float(res.stats["f_fixef_p"]),
            "n_households": float(n_ent),
        },
        fixed_effects=(entity, time) if time in spec.fixed_effects else (entity,),
    )
