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
    columns kept before it (relative residual norm below ``_COLLINEAR_TOL``), as fixest does.
    """
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
        """T degrees of freedom: N - K (iid, HC) or min(G) - 1 (clustered)."""
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


@dataclass(frozen=True)
class _ModelData:
    """The complete rows of the model matrices, before any transformation."""

    n: int
    w: np.ndarray
    depvar: str
    y: np.ndarray
    x: np.ndarray
    names_x: list[str]
    endog: np.ndarray
    names_en: list[str]
    inst: np.ndarray
    names_z: list[str]
    x_pooled: np.ndarray
    sub: pd.DataFrame
    fe_codes: list[np.ndarray]
    levels: dict[str, int]
    cl_codes: list[np.ndarray]


@dataclass(frozen=True)
class _Within:
    """Model arrays after the within transformation (grand means added back)."""

    y: np.ndarray
    x: np.ndarray
    endog: np.ndarray
    inst: np.ndarray
    y_within: np.ndarray | None


@dataclass(frozen=True)
class _Regressors:
    """The regressors kept after dropping collinear ones."""

    x: np.ndarray
    x_keep: list[int]
    names_x: list[str]
    names: list[str]
    has_const: bool
    dropped: list[str]


@dataclass(frozen=True)
class _Solution:
    """Coefficients, their bread and the residuals of the (weighted) fit."""

    beta: np.ndarray
    reg_w: np.ndarray
    bread: np.ndarray
    e: np.ndarray
    ew: np.ndarray
    rss: float
    dropped_z: list[str]


@dataclass(frozen=True)
class _Dof:
    """Absorbed levels, the full K and the residual degrees of freedom."""

    absorbed_full: int
    k_full: int
    df_resid: float


def _check_options(ssc: str, conf_level: float) -> None:
    """Reject an unknown small-sample convention or a confidence level outside (0, 1)."""
    if ssc not in SSC_CONVENTIONS:
        raise EstimationError(f"ssc must be one of {sorted(SSC_CONVENTIONS)}, got {ssc!r}")
    if not 0.0 < conf_level < 1.0:
        raise EstimationError(f"conf_level must be in (0, 1), got {conf_level!r}")


def _complete_rows(
    formula: str,
    frame: pd.DataFrame,
    mats: dict[str, pd.DataFrame],
    extra_cols: list[str],
    weights: str | None,
) -> np.ndarray:
    """Positions of the rows with every model column present (and a positive weight)."""
    parts = [m.to_numpy(dtype=float) for m in mats.values()]
    ok = np.all(np.isfinite(np.hstack(parts)), axis=1) if parts else np.ones(len(frame), bool)
    for c in extra_cols:
        ok &= frame[c].notna().to_numpy()
    if weights:
        w_all = frame[weights].to_numpy(dtype=float)
        ok &= np.isfinite(w_all) & (w_all > 0)
    if not ok.any():
        raise EstimationError(f"{formula!r}: no complete rows")
    return np.flatnonzero(ok)


def _model_data(
    formula: str,
    data: pd.DataFrame,
    parsed: ParsedFormula,
    request: VcovRequest,
    weights: str | None,
) -> _ModelData:
    """Build the model matrices and keep their complete rows."""
    extra_cols = [*parsed.fixef, *request.clusters, *([weights] if weights else [])]
    missing = [c for c in extra_cols if c not in data.columns]
    if missing:
        raise EstimationError(f"columns not in the data: {missing}")
    frame = _bools_as_float(data.reset_index(drop=True))
    mats = _matrices(parsed, frame)
    rows = _complete_rows(formula, frame, mats, extra_cols, weights)
    n = rows.size
    x_df = mats["x"].iloc[rows]
    has_iv = "endog" in mats
    sub = frame.iloc[rows]
    fe_codes = [group_codes(sub[c]) for c in parsed.fixef]
    return _ModelData(
        n=n,
        w=frame[weights].to_numpy(dtype=float)[rows] if weights else np.ones(n),
        depvar=str(mats["y"].columns[0]),
        y=mats["y"].to_numpy(dtype=float)[rows, 0],
        x=x_df.to_numpy(dtype=float),
        names_x=[str(c) for c in x_df.columns],
        endog=mats["endog"].to_numpy(dtype=float)[rows] if has_iv else np.zeros((n, 0)),
        names_en=[str(c) for c in mats["endog"].columns] if has_iv else [],
        inst=mats["inst"].to_numpy(dtype=float)[rows] if "inst" in mats else np.zeros((n, 0)),
        names_z=[str(c) for c in mats["inst"].columns] if "inst" in mats else [],
        x_pooled=mats["x"].to_numpy(dtype=float)[rows],
        sub=sub,
        fe_codes=fe_codes,
        levels={c: int(g.max()) + 1 for c, g in zip(parsed.fixef, fe_codes, strict=True)},
        cl_codes=[group_codes(sub[c]) for c in request.clusters],
    )


def _absorb(d: _ModelData) -> _Within:
    """Sweep out the absorbed effects and add the grand means back (xtreg / reghdfe constant)."""
    y = d.y.copy()
    if not d.fe_codes:
        return _Within(y, d.x, d.endog, d.inst, None)
    block = np.column_stack([y, d.x, d.endog, d.inst])
    means = (d.w @ block) / d.w.sum()
    dm = demean(block, d.fe_codes, d.w)
    y_within = dm[:, 0].copy()
    dm = dm + means  # add the grand means back (xtreg / reghdfe constant)
    n_x, n_en = len(d.names_x), len(d.names_en)
    x = dm[:, 1 : 1 + d.x.shape[1]]
    endog = dm[:, 1 + n_x : 1 + n_x + d.endog.shape[1]]
    inst = dm[:, 1 + n_x + n_en :]
    if "Intercept" in d.names_x:
        x[:, d.names_x.index("Intercept")] = 1.0
    return _Within(dm[:, 0], x, endog, inst, y_within)


def _drop_collinear(formula: str, d: _ModelData, within: _Within, sw: np.ndarray) -> _Regressors:
    """Drop regressors collinear with earlier ones (exogenous first, then endogenous)."""
    xe = np.column_stack([within.x, within.endog])
    names_xe = d.names_x + d.names_en
    keep = _independent(xe * sw[:, None], names_xe)
    dropped = [names_xe[i] for i in range(len(names_xe)) if i not in keep]
    dropped_endog = [dr for dr in dropped if dr in d.names_en]
    if dropped_endog:
        raise EstimationError(
            f"endogenous regressor(s) {dropped_endog} collinear with the exogenous ones"
        )
    if dropped:
        warnings.warn(
            f"{formula!r}: dropped collinear regressor(s) {dropped}", UserWarning, stacklevel=3
        )
    x_keep = [i for i in keep if i < len(d.names_x)]
    names_x = [d.names_x[i] for i in x_keep]
    return _Regressors(
        x=within.x[:, x_keep],
        x_keep=x_keep,
        names_x=names_x,
        names=names_x + d.names_en,
        has_const="Intercept" in names_x,
        dropped=dropped,
    )


def _solve(
    formula: str,
    d: _ModelData,
    within: _Within,
    reg: _Regressors,
    sw: np.ndarray,
) -> _Solution:
    """Least squares (or 2SLS on the kept instruments) and the residuals."""
    xmat = np.column_stack([reg.x, within.endog])
    xw = xmat * sw[:, None]
    yw = within.y * sw
    dropped_z: list[str] = []
    if d.names_en:
        zmat = np.column_stack([reg.x, within.inst])
        znames = reg.names_x + d.names_z
        zkeep = _independent(zmat * sw[:, None], znames)
        dropped_z = [znames[i] for i in range(len(znames)) if i not in zkeep]
        if dropped_z:
            warnings.warn(
                f"{formula!r}: dropped collinear instrument(s) {dropped_z}",
                UserWarning,
                stacklevel=3,
            )
        if len(zkeep) - len(reg.names_x) < len(d.names_en):
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
    e = within.y - xmat @ beta
    ew = e * sw
    return _Solution(beta, reg_w, bread, e, ew, float(ew @ ew), dropped_z)


def _degrees_of_freedom(formula: str, d: _ModelData, reg: _Regressors) -> _Dof:
    """Count coefficients and absorbed levels; N - K must be positive."""
    levels = d.levels
    absorbed_full = sum(v - 1 for v in levels.values()) + (0 if reg.has_const or not levels else 1)
    k_full = len(reg.names) + absorbed_full
    df_resid = float(d.n - k_full)
    if df_resid <= 0:
        raise EstimationError(f"{formula!r}: no residual degrees of freedom ({d.n} rows)")
    return _Dof(absorbed_full, k_full, df_resid)


def _vcov_hetero(
    kind: str,
    convention: Any,
    d: _ModelData,
    sol: _Solution,
    df_resid: float,
) -> np.ndarray:
    """Heteroskedasticity-robust covariance (HC0 to HC3)."""
    reg_w, bread = sol.reg_w, sol.bread
    scores = reg_w * sol.ew[:, None]
    if kind in ("HC2", "HC3"):
        if d.levels or d.names_en:
            raise EstimationError(f"{kind} is available for OLS without absorbed effects")
        h = np.einsum("ij,jk,ik->i", reg_w, bread, reg_w)
        power = 1.0 if kind == "HC2" else 2.0
        scores = scores / ((1.0 - h) ** (power / 2.0))[:, None]
    v = bread @ (scores.T @ scores) @ bread
    if kind == "HC1" and convention.k_adj:
        v = v * d.n / df_resid
    return v


def _cluster_combos(cl_codes: list[np.ndarray], gs: list[int]) -> list[tuple[Any, int, float]]:
    """One-way clusters, or the two ways plus minus their intersection (Cameron-Gelbach-Miller)."""
    if len(cl_codes) == 1:
        return [(cl_codes[0], gs[0], 1.0)]
    inter = group_codes(cl_codes[0].astype(np.int64) * (gs[1] + 1) + cl_codes[1])
    return [
        (cl_codes[0], gs[0], 1.0),
        (cl_codes[1], gs[1], 1.0),
        (inter, int(inter.max()) + 1, -1.0),
    ]


def _vcov_cluster(
    convention: Any, d: _ModelData, reg: _Regressors, sol: _Solution
) -> tuple[np.ndarray, float]:
    """Cluster-robust covariance (one- or two-way) and its t degrees of freedom."""
    k_cols = len(reg.names)
    bread = sol.bread
    scores = sol.reg_w * sol.ew[:, None]
    k_cl = (
        _k_for_clusters(
            k_cols,
            reg.has_const,
            d.levels,
            d.fe_codes,
            d.cl_codes,
            convention.absorbed_nested_counted,
        )
        if d.levels
        else k_cols
    )
    k_factor = dof_adjustment(d.n, k_cl) if convention.k_adj else 1.0
    gs = [int(c.max()) + 1 for c in d.cl_codes]
    v = np.zeros((k_cols, k_cols))
    g_min = min(gs)
    for codes, g, sign in _cluster_combos(d.cl_codes, gs):
        if convention.g_adj:
            g_use = g_min if convention.g_df == "min" else g
            g_factor = cluster_adjustment(g_use)
        else:
            g_factor = 1.0
        v += sign * g_factor * (bread @ cluster_meat(scores, codes) @ bread)
    v = v * k_factor
    return v, float(g_min - 1)


def _covariance(
    kind: str,
    convention: Any,
    d: _ModelData,
    reg: _Regressors,
    sol: _Solution,
    df_resid: float,
) -> tuple[np.ndarray, float | None]:
    """The requested covariance matrix and the t degrees of freedom."""
    if kind == "iid":
        s2 = sol.rss / (df_resid if convention.k_adj else d.n)
        return sol.bread * s2, df_resid
    if kind in ("HC0", "HC1", "HC2", "HC3"):
        return _vcov_hetero(kind, convention, d, sol, df_resid), df_resid
    return _vcov_cluster(convention, d, reg, sol)


def _fit_statistics(
    d: _ModelData,
    within: _Within,
    reg: _Regressors,
    sol: _Solution,
    dof: _Dof,
) -> dict[str, float]:
    """R², adjusted R², root MSE, RSS and (with absorbed effects) the within R²."""
    w, y_orig, levels, rss = d.w, d.y, d.levels, sol.rss
    n, df_resid = d.n, dof.df_resid
    ybar = float(w @ y_orig / w.sum())
    tss = float(w @ (y_orig - ybar) ** 2)
    r2 = 1.0 - rss / tss if tss > 0 else float("nan")
    stats_out: dict[str, float] = {
        "r2": r2,
        "adj_r2": 1.0 - (1.0 - r2) * (n - 1) / df_resid if (reg.has_const or levels) else r2,
        # weights normalised to mean 1, as Stata's Root MSE / sigma_e with [aw=] / [pw=]
        "sigma_e": float(np.sqrt(rss / float(np.mean(w)) / df_resid)),
        "rss": rss,
    }
    if within.y_within is not None:
        wtss = float(w @ within.y_within**2)
        stats_out["r2_within"] = 1.0 - rss / wtss if wtss > 0 else float("nan")
    return stats_out


def _f_model(
    d: _ModelData,
    reg: _Regressors,
    sol: _Solution,
    dof: _Dof,
    cov: tuple[np.ndarray, float | None],
) -> dict[str, float]:
    """Wald F test that all slopes are zero (empty without slopes)."""
    v, df_t = cov
    k_r2 = dof.k_full - (1 if (reg.has_const or d.levels) else 0)
    slopes = [i for i, nm in enumerate(reg.names) if nm != "Intercept"]
    if not (slopes and k_r2 > 0):
        return {}
    b = sol.beta[slopes]
    vs = v[np.ix_(slopes, slopes)]
    wald = float(b @ np.linalg.pinv(vs) @ b)
    j = len(slopes)
    return {
        "f_model": wald / j,
        "f_model_p": float(
            stats.f.sf(wald / j, j, df_t) if df_t is not None else stats.chi2.sf(wald, j)
        ),
    }


def _f_fixef(
    d: _ModelData, reg: _Regressors, sol: _Solution, dof: _Dof, sw: np.ndarray
) -> dict[str, float]:
    """F test that all absorbed effects are zero (pooled OLS with the same regressors)."""
    n, rss, df_resid = d.n, sol.rss, dof.df_resid
    xp = d.x_pooled[:, reg.x_keep]
    if not reg.has_const:
        xp = np.column_stack([np.ones(n), xp])
    bp = np.linalg.lstsq(xp * sw[:, None], d.y * sw, rcond=None)[0]
    ep = (d.y - xp @ bp) * sw
    rss_r = float(ep @ ep)
    df1 = float(dof.absorbed_full)
    f_fe = ((rss_r - rss) / df1) / (rss / df_resid) if df1 > 0 else float("nan")
    return {
        "f_fixef": f_fe,
        "f_fixef_df1": df1,
        "f_fixef_df2": df_resid,
        "f_fixef_p": float(stats.f.sf(f_fe, df1, df_resid)),
    }


def _first_stage(
    d: _ModelData, within: _Within, reg: _Regressors, dof: _Dof, sw: np.ndarray
) -> dict[str, dict[str, float]]:
    """Classical F of the excluded instruments and partial R², per endogenous regressor."""
    first_stage: dict[str, dict[str, float]] = {}
    zx = reg.x * sw[:, None]
    zall = np.column_stack([reg.x, within.inst]) * sw[:, None]
    for j, nm in enumerate(d.names_en):
        target = within.endog[:, j] * sw
        bu = np.linalg.lstsq(zall, target, rcond=None)[0]
        ru = target - zall @ bu
        br = np.linalg.lstsq(zx, target, rcond=None)[0]
        rr = target - zx @ br
        rss_u, rss_r = float(ru @ ru), float(rr @ rr)
        df1 = float(within.inst.shape[1])
        df2 = float(d.n - zall.shape[1] - dof.absorbed_full)
        f = ((rss_r - rss_u) / df1) / (rss_u / df2)
        first_stage[nm] = {
            "f": f,
            "df1": df1,
            "df2": df2,
            "p_value": float(stats.f.sf(f, df1, df2)),
            "partial_r2": 1.0 - rss_u / rss_r if rss_r > 0 else float("nan"),
        }
    return first_stage


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
    _check_options(ssc, conf_level)
    convention = SSC_CONVENTIONS[ssc]
    request: VcovRequest = parse_vcov(vcov)
    d = _model_data(formula, data, parse_formula(formula), request, weights)
    within = _absorb(d)
    sw = np.sqrt(d.w)
    # collinearity: exogenous regressors, then endogenous on top, then instruments
    reg = _drop_collinear(formula, d, within, sw)
    sol = _solve(formula, d, within, reg, sw)
    dof = _degrees_of_freedom(formula, d, reg)
    v, df_t = _covariance(request.kind, convention, d, reg, sol, dof.df_resid)
    stats_out = _fit_statistics(d, within, reg, sol, dof)
    stats_out.update(_f_model(d, reg, sol, dof, (v, df_t)))
    if d.levels and not d.names_en:
        stats_out.update(_f_fixef(d, reg, sol, dof, sw))
    first_stage = _first_stage(d, within, reg, dof, sw) if d.names_en else {}
    return LinearResult(
        params=pd.Series(sol.beta, index=reg.names),
        vcov=pd.DataFrame(v, index=reg.names, columns=reg.names),
        formula=formula,
        n_obs=d.n,
        df_resid=dof.df_resid,
        df_t=df_t,
        fixed_effects=d.levels,
        clusters={c: int(g.max()) + 1 for c, g in zip(request.clusters, d.cl_codes, strict=True)},
        vcov_label=request.label,
        ssc=ssc,
        conf_level=conf_level,
        stats=stats_out,
        collinear=tuple(reg.dropped + sol.dropped_z),
        first_stage=first_stage,
        weights=weights,
        endog=tuple(d.names_en),
        resid=pd.Series(sol.e, index=d.sub.index),
        _depvar=d.depvar,
    )
