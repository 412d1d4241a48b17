"""``feols``: OLS, weighted least squares, absorbed fixed effects and 2SLS from one formula.

The formula follows pyfixest / fixest::

    y ~ x1 + x2                       OLS (formulaic terms: C(g), x1:x2, np.log(x) ...)
    y ~ x1 + x2 | fe1 + fe2           absorbed fixed effects
    y ~ x1 | fe1 | d ~ z1 + z2        2SLS, d instrumented by z1, z2, with fixed effects
    y ~ x1 | d ~ z1                   2SLS without fixed effects

Absorbed effects are swept out by the (weighted) within transformation -- exact for one effect,
alternating projections to convergence for several (fixest's method). As Stata ``xtreg, fe`` and
``reghdfe`` do, the grand means are added back before the regression, so the output has a
constant (``Intercept`` = weighted mean of ``y`` minus the weighted means of the regressors
times their coefficients) with its standard error.

A regressor that is collinear with the others or absorbed by the fixed effects is dropped, with
a warning and its name in ``result.collinear`` (fixest's behaviour, said out loud).

Standard errors: ``vcov=`` and ``ssc=`` of :mod:`ctip_research.estimation.covariance`.
Fit statistics (``glance()``): R², adjusted R², within R² (fixed effects), ``sigma_e`` (root MSE on
N - K residual df, weights normalised to mean one, Stata's ``sigma_e`` / ``Root MSE``), the F test that all absorbed effects are
zero (Stata ``xtreg, fe``: "F test that all u_i=0", classical errors), the Wald F of all slopes,
and for IV the classical first-stage F of the excluded instruments (one per endogenous
regressor) and its partial R².
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctip_research.estimation.covariance import (
    SSC_CONVENTIONS,
    VcovRequest,
    group_codes,
    parse_vcov,
)
from ctip_research.estimation.kernels import (
    cluster_adjustment,
    cluster_meat,
    demean,
    dof_adjustment,
    is_nested,
)
from ctip_research.estimation.results import EstimationError, ModelResult

__all__ = ["LinearResult", "feols", "parse_formula"]

#: A regressor is collinear when its pivot in the (weighted) QR is below this share of the largest.
_COLLINEAR_TOL = 1e-9


@dataclass(frozen=True)
class ParsedFormula:
    """The parts of a fixest-style formula."""

    main: str
    fixef: tuple[str, ...]
    iv: str | None


def parse_formula(formula: str) -> ParsedFormula:
    """Split ``"y ~ x | fe1 + fe2 | d ~ z"`` into its parts.

    Examples
    --------
    >>> p = parse_formula("y ~ x | f1 + f2 | d ~ z")
    >>> p.main, p.fixef, p.iv
    ('y ~ x', ('f1', 'f2'), 'd ~ z')
    >>> parse_formula("y ~ x | d ~ z").fixef
    ()
    """
    parts = [p.strip() for p in formula.split("|")]
    if "~" not in parts[0]:
        raise EstimationError(f"formula {formula!r} has no '~'")
    fixef: list[str] = []
    iv = None
    for part in parts[1:]:
        if "~" in part:
            if iv is not None:
                raise EstimationError(f"formula {formula!r} has two IV parts")
            iv = part
        else:
            fixef += [f.strip() for f in part.split("+") if f.strip() not in ("", "0")]
    if len(parts) > 3:
        raise EstimationError(f"formula {formula!r}: at most 'y ~ x | fe | endog ~ inst'")
    return ParsedFormula(parts[0], tuple(fixef), iv)


def _matrices(formula: ParsedFormula, data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    from formulaic import model_matrix

    def build(f: str, what: str) -> Any:
        try:
            return model_matrix(f, data, na_action="ignore")
        except Exception as exc:  # formulaic raises many types; name the formula
            raise EstimationError(f"cannot build the {what} of {f!r}: {exc}") from None

    main = build(formula.main, "model matrix")
    out = {"y": pd.DataFrame(main.lhs), "x": pd.DataFrame(main.rhs)}
    if out["y"].shape[1] != 1:
        raise EstimationError(f"the left-hand side of {formula.main!r} must be one column")
    if formula.iv is not None:
        ivm = build(formula.iv, "IV part")
        out["endog"] = pd.DataFrame(ivm.lhs)
        z = pd.DataFrame(ivm.rhs)
        out["inst"] = z.drop(columns=[c for c in z.columns if c == "Intercept"])
        if out["inst"].shape[1] < out["endog"].shape[1]:
            raise EstimationError(
                f"{formula.iv!r}: fewer excluded instruments than endogenous regressors"
            )
    return out


def _bools_as_float(frame: pd.DataFrame) -> pd.DataFrame:
    """Boolean columns enter models as 0/1 numbers (terms keep the column name)."""
    bools = [c for c in frame.columns if frame[c].dtype == bool]
    return frame.astype({c: float for c in bools}) if bools else frame


def _independent(mat: np.ndarray, names: list[str]) -> list[int]:
    """Indices of the columns kept in order: a column is dropped when it lies in the span of the
    columns kept before it (relative residual norm below ``_COLLINEAR_TOL``), as fixest does."""
    keep: list[int] = []
    basis = np.zeros((mat.shape[0], 0))
    for j in range(mat.shape[1]):
        col = mat[:, j]
        norm = float(np.linalg.norm(col))
        if norm == 0.0:
            continue
        if basis.shape[1]:
            resid = col - basis @ (basis.T @ col)
            resid = resid - basis @ (basis.T @ resid)  # re-orthogonalise
        else:
            resid = col
        r = float(np.linalg.norm(resid))
        if r > 1e-7 * norm:
            keep.append(j)
            basis = np.column_stack([basis, resid / r])
    return keep


@dataclass(frozen=True, repr=False)
class LinearResult(ModelResult):
    """A fitted :func:`feols` model (OLS, WLS, absorbed fixed effects or 2SLS).

    Attributes
    ----------
    params, vcov
        Coefficients (intercept included) and their covariance matrix.
    formula, depvar
        The model.
    n_obs, df_resid
        Observations used and the residual degrees of freedom ``N - K`` (all coefficients and
        absorbed effects counted).
    fixed_effects
        Absorbed effects and their number of levels.
    clusters
        Cluster columns and their number of clusters.
    vcov_label, ssc
        The covariance type and the small-sample convention.
    stats
        Fit statistics (``r2``, ``adj_r2``, ``r2_within``, ``sigma_e``, ``rss``, ``f_fixef``...).
    collinear
        Regressors dropped as collinear (with each other or with the fixed effects).
    first_stage
        IV only: per endogenous regressor, the classical F of the excluded instruments, its
        degrees of freedom and p-value, and the partial R².
    """

    params: pd.Series
    vcov: pd.DataFrame
    formula: str
    n_obs: int
    df_resid: float
    df_t: float | None
    fixed_effects: dict[str, int]
    clusters: dict[str, int]
    vcov_label: str
    ssc: str
    conf_level: float
    stats: dict[str, float]
    collinear: tuple[str, ...] = ()
    first_stage: dict[str, dict[str, float]] = field(default_factory=dict)
    weights: str | None = None
    endog: tuple[str, ...] = ()
    resid: pd.Series | None = None
    _depvar: str = ""

    @property
    def df_inference(self) -> float | None:
        """t degrees of freedom: N - K (iid, HC) or min(G) - 1 (clustered)."""
        return self.df_t

    @property
    def depvar(self) -> str:
        """Dependent variable."""
        return self._depvar

    @property
    def estimator(self) -> str:
        """``OLS``, ``WLS``, ``2SLS`` (``+ FE`` with absorbed effects)."""
        base = "2SLS" if self.endog else ("WLS" if self.weights else "OLS")
        return base + (" + absorbed FE" if self.fixed_effects else "")

    @property
    def vcov_type(self) -> str:
        """Covariance type and small-sample convention."""
        return f"{self.vcov_label} ({self.ssc} small-sample convention)"

    @property
    def fixef(self) -> tuple[str, ...]:
        """Absorbed fixed effects."""
        return tuple(self.fixed_effects)

    @property
    def n_clusters(self) -> int | None:
        """Smallest number of clusters (None without clustering)."""
        return min(self.clusters.values()) if self.clusters else None

    def _glance_row(self) -> dict[str, Any]:
        return {
            "df_resid": self.df_resid,
            "n_clusters": self.n_clusters,
            "ssc": self.ssc,
            "collinear": ",".join(self.collinear),
            **self.stats,
        }

    def _header_lines(self) -> list[str]:
        lines = [f"Formula: {self.formula}"]
        if self.weights:
            lines.append(f"Weights: {self.weights}")
        if self.fixed_effects:
            lines.append(
                "Absorbed: " + ", ".join(f"{k} ({v} levels)" for k, v in self.fixed_effects.items())
            )
        if self.clusters:
            lines.append("Clusters: " + ", ".join(f"{k} ({v})" for k, v in self.clusters.items()))
        return lines

    def _footer_lines(self) -> list[str]:
        s = self.stats
        out = [
            f"R2 = {s['r2']:.4f}   adj. R2 = {s['adj_r2']:.4f}"
            + (f"   within R2 = {s['r2_within']:.4f}" if "r2_within" in s else "")
            + f"   sigma_e = {s['sigma_e']:.6g}   residual df = {self.df_resid:g}"
        ]
        if "f_fixef" in s:
            out.append(
                f"F test that all absorbed effects are 0: F({s['f_fixef_df1']:g}, "
                f"{s['f_fixef_df2']:g}) = {s['f_fixef']:.4g}, p = {s['f_fixef_p']:.4g}"
            )
        for name, fs in self.first_stage.items():
            out.append(
                f"First stage of {name}: F({fs['df1']:g}, {fs['df2']:g}) = {fs['f']:.4g} "
                f"(classical), partial R2 = {fs['partial_r2']:.4f}"
            )
        if self.collinear:
            out.append("Dropped as collinear: " + ", ".join(self.collinear))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (coefficients, covariance, statistics)."""
        return {
            "formula": self.formula,
            "terms": [str(t) for t in self.params.index],
            "params": self.params.tolist(),
            "vcov": self.vcov.to_numpy().tolist(),
            "n_obs": self.n_obs,
            "df_resid": self.df_resid,
            "vcov_type": self.vcov_type,
            "fixed_effects": dict(self.fixed_effects),
            "clusters": dict(self.clusters),
            "stats": {k: (None if not np.isfinite(v) else v) for k, v in self.stats.items()},
            "collinear": list(self.collinear),
            "first_stage": self.first_stage,
        }


def _k_for_clusters(
    n_x: int,
    has_const: bool,
    levels: dict[str, int],
    fe_codes: list[np.ndarray],
    cluster_codes: list[np.ndarray],
    count_nested: bool,
) -> int:
    """K in (N-1)/(N-K) for clustered errors (module docstring of ``covariance``)."""
    if not levels:
        return n_x
    k = n_x + (0 if has_const else 1)  # the constant stands for one level of the effects
    for (_, n_levels), codes in zip(levels.items(), fe_codes, strict=True):
        inside = any(is_nested(codes, cl) for cl in cluster_codes)
        if count_nested or not inside:
            k += n_levels - 1
    return k


def feols(
    formula: str,
    data: pd.DataFrame,
    *,
    weights: str | None = None,
    vcov: Any = "iid",
    ssc: str = "stata",
    conf_level: float = 0.95,
) -> LinearResult:
    """Fit a linear model by (weighted) least squares or 2SLS, with absorbed fixed effects.

    Parameters
    ----------
    formula
        ``"y ~ x1 + x2 | fe1 + fe2 | endog ~ instruments"`` (module docstring).
    data
        One row per observation; rows with a missing value in any model column are dropped.
        Boolean columns enter as 0/1.
    weights
        Column of analytic / sampling weights (WLS; Stata ``[aw=]`` / ``[pw=]``).
    vcov
        ``"iid"`` (default), ``"hetero"``/``"HC1"``, ``"HC0"``, ``"HC2"``, ``"HC3"``,
        ``{"CRV1": "g"}`` or ``{"CRV1": "g1 + g2"}`` (two-way).
    ssc
        Small-sample convention: ``"stata"`` (default), ``"fixest"``, ``"reghdfe"``,
        ``"regress"``, ``"none"``.
    conf_level
        Level of the intervals of ``tidy()``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 4.8, 6.1], "x": [0, 1, 2, 3, 4, 5],
    ...                    "g": ["a", "a", "b", "b", "c", "c"]})
    >>> fit = feols("y ~ x | g", df, vcov={"CRV1": "g"})
    >>> fit.tidy()["term"].tolist()
    ['Intercept', 'x']
    >>> round(float(fit.params["x"]), 3)
    1.233
    """
    if ssc not in SSC_CONVENTIONS:
        raise EstimationError(f"ssc must be one of {sorted(SSC_CONVENTIONS)}, got {ssc!r}")
    if not 0.0 < conf_level < 1.0:
        raise EstimationError(f"conf_level must be in (0, 1), got {conf_level!r}")
    convention = SSC_CONVENTIONS[ssc]
    request: VcovRequest = parse_vcov(vcov)
    parsed = parse_formula(formula)
    extra_cols = [*parsed.fixef, *request.clusters, *([weights] if weights else [])]
    missing = [c for c in extra_cols if c not in data.columns]
    if missing:
        raise EstimationError(f"columns not in the data: {missing}")
    frame = _bools_as_float(data.reset_index(drop=True))
    mats = _matrices(parsed, frame)
    parts = [m.to_numpy(dtype=float) for m in mats.values()]
    ok = np.all(np.isfinite(np.hstack(parts)), axis=1) if parts else np.ones(len(frame), bool)
    for c in extra_cols:
        ok &= frame[c].notna().to_numpy()
    if weights:
        w_all = frame[weights].to_numpy(dtype=float)
        ok &= np.isfinite(w_all) & (w_all > 0)
    if not ok.any():
        raise EstimationError(f"{formula!r}: no complete rows")
    rows = np.flatnonzero(ok)
    n = rows.size
    w = frame[weights].to_numpy(dtype=float)[rows] if weights else np.ones(n)
    depvar = str(mats["y"].columns[0])
    y_orig = mats["y"].to_numpy(dtype=float)[rows, 0]
    x_df = mats["x"].iloc[rows]
    names_x = [str(c) for c in x_df.columns]
    x = x_df.to_numpy(dtype=float)
    endog = mats["endog"].to_numpy(dtype=float)[rows] if "endog" in mats else np.zeros((n, 0))
    names_en = [str(c) for c in mats["endog"].columns] if "endog" in mats else []
    inst = mats["inst"].to_numpy(dtype=float)[rows] if "inst" in mats else np.zeros((n, 0))
    names_z = [str(c) for c in mats["inst"].columns] if "inst" in mats else []
    sub = frame.iloc[rows]
    fe_codes = [group_codes(sub[c]) for c in parsed.fixef]
    levels = {c: int(g.max()) + 1 for c, g in zip(parsed.fixef, fe_codes, strict=True)}
    cl_codes = [group_codes(sub[c]) for c in request.clusters]
    has_const = "Intercept" in names_x
    y = y_orig.copy()
    y_within = None
    if fe_codes:
        block = np.column_stack([y, x, endog, inst])
        means = (w @ block) / w.sum()
        dm = demean(block, fe_codes, w)
        y_within = dm[:, 0].copy()
        dm = dm + means  # add the grand means back (xtreg / reghdfe constant)
        y = dm[:, 0]
        x = dm[:, 1 : 1 + x.shape[1]]
        endog = dm[:, 1 + len(names_x) : 1 + len(names_x) + endog.shape[1]]
        inst = dm[:, 1 + len(names_x) + len(names_en) :]
        if has_const:
            x[:, names_x.index("Intercept")] = 1.0
    sw = np.sqrt(w)
    # collinearity: exogenous regressors, then endogenous on top, then instruments
    xe = np.column_stack([x, endog])
    names_xe = names_x + names_en
    keep = _independent(xe * sw[:, None], names_xe)
    dropped = [names_xe[i] for i in range(len(names_xe)) if i not in keep]
    dropped_endog = [d for d in dropped if d in names_en]
    if dropped_endog:
        raise EstimationError(
            f"endogenous regressor(s) {dropped_endog} collinear with the exogenous ones"
        )
    if dropped:
        warnings.warn(
            f"{formula!r}: dropped collinear regressor(s) {dropped}", UserWarning, stacklevel=2
        )
    x_keep = [i for i in keep if i < len(names_x)]
    x = x[:, x_keep]
    names_x = [names_x[i] for i in x_keep]
    has_const = "Intercept" in names_x
    names = names_x + names_en
    xmat = np.column_stack([x, endog])
    k_cols = xmat.shape[1]
    xw = xmat * sw[:, None]
    yw = y * sw
    first_stage: dict[str, dict[str, float]] = {}
    if names_en:
        zmat = np.column_stack([x, inst])
        znames = names_x + names_z
        zkeep = _independent(zmat * sw[:, None], znames)
        dropped_z = [znames[i] for i in range(len(znames)) if i not in zkeep]
        if dropped_z:
            warnings.warn(
                f"{formula!r}: dropped collinear instrument(s) {dropped_z}",
                UserWarning,
                stacklevel=2,
            )
            dropped += dropped_z
        if len(zkeep) - len(names_x) < len(names_en):
            raise EstimationError(f"{formula!r}: fewer independent instruments than endogenous")
        zmat = zmat[:, zkeep]
        zw = zmat * sw[:, None]
        pi = np.linalg.lstsq(zw, xw, rcond=None)[0]
        xhat_w = zw @ pi
        beta = np.linalg.lstsq(xhat_w, yw, rcond=None)[0]
        reg_w = xhat_w
    else:
        beta = np.linalg.lstsq(xw, yw, rcond=None)[0]
        reg_w = xw
    bread = np.linalg.inv(reg_w.T @ reg_w)
    e = y - xmat @ beta
    ew = e * sw
    rss = float(ew @ ew)
    absorbed_full = sum(v - 1 for v in levels.values()) + (0 if has_const or not levels else 1)
    k_full = k_cols + absorbed_full
    df_resid = float(n - k_full)
    if df_resid <= 0:
        raise EstimationError(f"{formula!r}: no residual degrees of freedom ({n} rows)")
    kind = request.kind
    df_t: float | None = df_resid
    if kind == "iid":
        s2 = rss / (df_resid if convention.k_adj else n)
        v = bread * s2
    elif kind in ("HC0", "HC1", "HC2", "HC3"):
        scores = reg_w * ew[:, None]
        if kind in ("HC2", "HC3"):
            if levels or names_en:
                raise EstimationError(f"{kind} is available for OLS without absorbed effects")
            h = np.einsum("ij,jk,ik->i", reg_w, bread, reg_w)
            power = 1.0 if kind == "HC2" else 2.0
            scores = scores / ((1.0 - h) ** (power / 2.0))[:, None]
        v = bread @ (scores.T @ scores) @ bread
        if kind == "HC1" and convention.k_adj:
            v = v * n / df_resid
    else:
        scores = reg_w * ew[:, None]
        k_cl = (
            _k_for_clusters(
                k_cols, has_const, levels, fe_codes, cl_codes, convention.absorbed_nested_counted
            )
            if levels
            else k_cols
        )
        k_factor = dof_adjustment(n, k_cl) if convention.k_adj else 1.0
        gs = [int(c.max()) + 1 for c in cl_codes]
        if len(cl_codes) == 1:
            combos = [(cl_codes[0], gs[0], 1.0)]
        else:
            inter = group_codes(cl_codes[0].astype(np.int64) * (gs[1] + 1) + cl_codes[1])
            combos = [
                (cl_codes[0], gs[0], 1.0),
                (cl_codes[1], gs[1], 1.0),
                (inter, int(inter.max()) + 1, -1.0),
            ]
        v = np.zeros((k_cols, k_cols))
        g_min = min(gs)
        for codes, g, sign in combos:
            if convention.g_adj:
                g_use = g_min if convention.g_df == "min" else g
                g_factor = cluster_adjustment(g_use)
            else:
                g_factor = 1.0
            v += sign * g_factor * (bread @ cluster_meat(scores, codes) @ bread)
        v = v * k_factor
        df_t = float(g_min - 1)
    vcov_df = pd.DataFrame(v, index=names, columns=names)
    # ---- statistics
    ybar = float(w @ y_orig / w.sum())
    tss = float(w @ (y_orig - ybar) ** 2)
    r2 = 1.0 - rss / tss if tss > 0 else float("nan")
    k_r2 = k_full - (1 if (has_const or levels) else 0)
    stats_out: dict[str, float] = {
        "r2": r2,
        "adj_r2": 1.0 - (1.0 - r2) * (n - 1) / df_resid if (has_const or levels) else r2,
        # weights normalised to mean 1, as Stata's Root MSE / sigma_e with [aw=] / [pw=]
        "sigma_e": float(np.sqrt(rss / float(np.mean(w)) / df_resid)),
        "rss": rss,
    }
    if y_within is not None:
        wtss = float(w @ y_within**2)
        stats_out["r2_within"] = 1.0 - rss / wtss if wtss > 0 else float("nan")
    slopes = [i for i, nm in enumerate(names) if nm != "Intercept"]
    if slopes and k_r2 > 0:
        b = beta[slopes]
        vs = v[np.ix_(slopes, slopes)]
        wald = float(b @ np.linalg.pinv(vs) @ b)
        j = len(slopes)
        stats_out["f_model"] = wald / j
        stats_out["f_model_p"] = float(
            stats.f.sf(wald / j, j, df_t) if df_t is not None else stats.chi2.sf(wald, j)
        )
    if levels and not names_en:
        # F test that all absorbed effects are zero (pooled OLS with the same regressors)
        xp = mats["x"].to_numpy(dtype=float)[rows][:, x_keep]
        if not has_const:
            xp = np.column_stack([np.ones(n), xp])
        bp = np.linalg.lstsq(xp * sw[:, None], y_orig * sw, rcond=None)[0]
        ep = (y_orig - xp @ bp) * sw
        rss_r = float(ep @ ep)
        df1 = float(absorbed_full)
        f_fe = ((rss_r - rss) / df1) / (rss / df_resid) if df1 > 0 else float("nan")
        stats_out.update(
            f_fixef=f_fe,
            f_fixef_df1=df1,
            f_fixef_df2=df_resid,
            f_fixef_p=float(stats.f.sf(f_fe, df1, df_resid)),
        )
    if names_en:
        zx = x * sw[:, None]
        zall = np.column_stack([x, inst]) * sw[:, None]
        for j, nm in enumerate(names_en):
            target = endog[:, j] * sw
            bu = np.linalg.lstsq(zall, target, rcond=None)[0]
            ru = target - zall @ bu
            br = np.linalg.lstsq(zx, target, rcond=None)[0]
            rr = target - zx @ br
            rss_u, rss_r = float(ru @ ru), float(rr @ rr)
            df1 = float(inst.shape[1])
            df2 = float(n - zall.shape[1] - absorbed_full)
            f = ((rss_r - rss_u) / df1) / (rss_u / df2)
            first_stage[nm] = {
                "f": f,
                "df1": df1,
                "df2": df2,
                "p_value": float(stats.f.sf(f, df1, df2)),
                "partial_r2": 1.0 - rss_u / rss_r if rss_r > 0 else float("nan"),
            }
    return LinearResult(
        params=pd.Series(beta, index=names),
        vcov=vcov_df,
        formula=formula,
        n_obs=n,
        df_resid=df_resid,
        df_t=df_t,
        fixed_effects=levels,
        clusters={c: int(g.max()) + 1 for c, g in zip(request.clusters, cl_codes, strict=True)},
        vcov_label=request.label,
        ssc=ssc,
        conf_level=conf_level,
        stats=stats_out,
        collinear=tuple(dropped),
        first_stage=first_stage,
        weights=weights,
        endog=tuple(names_en),
        resid=pd.Series(e, index=sub.index),
        _depvar=depvar,
    )
