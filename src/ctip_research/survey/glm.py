"""Design-based generalised linear models and average marginal effects.

The model is fitted by weighted IRLS (the pseudo-maximum-likelihood estimator of R ``svyglm`` and
Stata ``svy: logit/probit/regress``). Its design-based covariance is the linearised sandwich
``A^-1 V(U) A^-1``: ``U_i = w_i (y_i - mu_i) mu'(eta_i) / v(mu_i) x_i`` are the weighted scores,
``A`` the weighted information (observed Hessian by default, as Stata; the expected information
``sum_i w_i mu'(eta_i)^2 / v(mu_i) x_i x_i'`` of R ``svyglm`` with ``hessian="expected"``; the
same for logit and gaussian models), and ``V`` the design
variance of the totals of the influence values ``U_i A^-1`` (:func:`~ctip_research.survey._engine.
linearized_vcov`); with ``variance="jackknife"`` the model is refitted on each delete-one-PSU
replicate weight instead.

Average marginal effects (AMEs) are ``sum_i w_i m_i / sum_i w_i`` with ``m_i`` the derivative of
``mu_i`` with respect to a continuous regressor (``mu'(eta_i) * d eta_i / d x``, so transformations
and interactions are respected) or, for a 0/1, boolean or categorical regressor, the change in
``mu_i`` from the reference level to each other level. Their standard errors are delta-method
and design-based. By default (``vce="unconditional"``) the influence value of unit ``i`` is
``w_i (m_i - AME) / W + G A^-1 U_i`` with ``G = d AME / d beta``, so they include the sampling
variability of the covariates as well as that of ``beta`` (Stata's ``margins, vce(unconditional)``);
with the jackknife the AMEs are recomputed on every replicate. ``vce="delta"`` gives
``G V(beta) G'`` with the covariates held fixed (svy's ``margins``, Stata's ``vce(delta)``).

Rows with a missing value in any model variable are dropped from the fit but stay in the design
(their influence is zero), as is a ``domain`` restriction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from formulaic import model_matrix
from scipy import special, stats

from ctip_research.errors import SurveyDesignError
from ctip_research.estimation.binary import (
    MarginalEffects,
    compute_marginal_effects,
    effect_specs,
)
from ctip_research.estimation.results import ModelResult
from ctip_research.literals import AmeVce, GlmFamily, GlmHessian, GlmLink, VarianceMethod
from ctip_research.survey._engine import DesignArrays, FloatArray, domain_df


class GlmDesign(Protocol):
    """What the survey GLM needs of a design (:class:`ctip_research.survey.SurveyDesign` has it):
    its data and arrays, its variance method, and the variance of totals of influence values.
    """

    data: pd.DataFrame
    arrays: DesignArrays
    variance: VarianceMethod
    conf_level: float

    @property
    def df(self) -> int:
        """Design degrees of freedom."""

    def describe(self) -> str:
        """One line naming the design."""

    def column(self, name: str) -> pd.Series:
        """A column of the survey data, one value per row of the design."""

    def vcov_of(self, z: FloatArray) -> FloatArray:
        """Taylor covariance of the totals of influence values ``z``."""

    def jackknife(self, statistic: Any, full: FloatArray) -> FloatArray:
        """Jackknife covariance of ``statistic(weights)`` over the replicates."""


_CANONICAL: dict[str, str] = {"gaussian": "identity", "binomial": "logit"}
_ALLOWED: dict[str, tuple[str, ...]] = {
    "gaussian": ("identity",),
    "binomial": ("logit", "probit"),
}


# ---------------------------------------------------------------------- links and families
def _inverse_link(link: str, eta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``mu``, ``d mu / d eta`` and ``d2 mu / d eta2`` at ``eta``."""
    if link == "logit":
        mu = 1.0 / (1.0 + np.exp(-eta))
        d1 = mu * (1.0 - mu)
        return mu, d1, d1 * (1.0 - 2.0 * mu)
    if link == "probit":
        mu = special.ndtr(eta)
        d1 = np.exp(-0.5 * eta**2) / math.sqrt(2.0 * math.pi)
        return mu, d1, -eta * d1
    return eta, np.ones_like(eta), np.zeros_like(eta)


def _variance_fn(family: str, mu: FloatArray) -> FloatArray:
    if family == "binomial":
        return np.clip(mu * (1.0 - mu), 1e-12, None)
    return np.ones_like(mu)


def _irls(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
    family: str,
    link: str,
    start: FloatArray | None = None,
    *,
    tol: float = 1e-11,
    max_iter: int = 100,
) -> tuple[FloatArray, int, bool]:
    """Weighted IRLS; returns coefficients, iterations and convergence flag."""
    ws = w / w.mean()
    if family == "gaussian":
        xw = x * ws[:, None]
        beta = np.linalg.solve(xw.T @ x, xw.T @ y)
        return beta, 1, True
    if start is None:
        mu0 = (ws * y + 0.5) / (ws + 1.0)  # R glm's binomial mustart
        eta = special.ndtri(mu0) if link == "probit" else np.log(mu0 / (1.0 - mu0))
        beta = np.linalg.lstsq(x * np.sqrt(ws)[:, None], eta * np.sqrt(ws), rcond=None)[0]
    else:
        beta = start.copy()
    for it in range(1, max_iter + 1):
        eta = x @ beta
        mu, d1, _ = _inverse_link(link, eta)
        var = _variance_fn(family, mu)
        d1 = np.where(np.abs(d1) < 1e-300, 1e-300, d1)
        z = eta + (y - mu) / d1
        wt = ws * d1**2 / var
        xw = x * wt[:, None]
        new = np.linalg.solve(xw.T @ x, xw.T @ z)
        # Fisher scoring converges only linearly for a probit: stop on the coefficients
        step = float(np.max(np.abs(new - beta)))
        beta = new
        if step <= tol * (1.0 + float(np.max(np.abs(beta)))):
            return beta, it, True
    return beta, max_iter, False


def _scores_and_bread(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
    beta: FloatArray,
    family: str,
    link: str,
    hessian: str = "observed",
) -> tuple[FloatArray, FloatArray]:
    """Weighted scores ``U`` (n, p) and the inverse of the weighted information ``A`` (p, p).

    ``hessian="observed"``: ``A`` is minus the Hessian of the weighted log-likelihood (Stata
    ``svy: probit``); ``"expected"``: the expected (Fisher) information of IRLS (R ``svyglm``).
    They coincide for canonical links (logit, gaussian identity).
    """
    eta = x @ beta
    mu, d1, d2 = _inverse_link(link, eta)
    var = _variance_fn(family, mu)
    resid = y - mu
    u = x * (w * resid * d1 / var)[:, None]
    info = d1**2 / var
    if hessian == "observed" and family == "binomial" and link != "logit":
        # d/d eta of d1 / V(mu), with dV/d eta = (1 - 2 mu) d1 for the binomial variance
        d_ratio = (d2 * var - d1 * (1.0 - 2.0 * mu) * d1) / var**2
        info = info - resid * d_ratio
    a = (x * (w * info)[:, None]).T @ x
    a_inv = np.asarray(np.linalg.inv(a), dtype=np.float64)
    return u, a_inv


# ---------------------------------------------------------------------- results
def _tidy_table(
    terms: list[str], est: FloatArray, vcov: FloatArray, df: int, conf_level: float
) -> pd.DataFrame:
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, est / se, np.nan)
    q = float(stats.t.ppf(0.5 + conf_level / 2.0, df))
    return pd.DataFrame(
        {
            "term": terms,
            "estimate": est,
            "std_error": se,
            "statistic": t,
            "p_value": 2.0 * stats.t.sf(np.abs(t), df),
            "conf_low": est - q * se,
            "conf_high": est + q * se,
        }
    )


@dataclass(frozen=True, repr=False)
class SurveyGLMResults(ModelResult):
    """A fitted design-based GLM (``tidy()``, ``glance()``, ``summary()``, ``marginal_effects()``).

    Attributes
    ----------
    formula, family, link
        The model.
    params
        Coefficients (pandas Series indexed by term).
    vcov
        Design-based covariance matrix of the coefficients (DataFrame).
    df
        Degrees of freedom of the t tests and intervals: with ``df_method="design"`` (default)
        the design df, PSUs minus strata of the estimation domain (Stata ``svy``); with
        ``"residual"`` the design df minus the number of coefficients plus one (R
        ``summary.svyglm``). Estimates and standard errors are the same either way.
    df_method
        ``"design"`` or ``"residual"``.
    n_obs
        Rows used in the fit.
    n_psu, n_strata
        PSUs and strata of the design.
    variance
        ``"taylor"`` or ``"jackknife"``.
    design
        One-line description of the design.
    hessian
        Bread of the sandwich: ``"observed"`` or ``"expected"`` information.
    """

    formula: str
    family: str
    link: str
    params: pd.Series
    vcov: pd.DataFrame
    df: int
    n_obs: int
    n_psu: int
    n_strata: int
    variance: str
    design: str
    hessian: str
    conf_level: float
    converged: bool
    n_iter: int
    fit_stats: dict[str, float]
    _x: FloatArray = field(repr=False)
    _y: FloatArray = field(repr=False)
    _rows: np.ndarray = field(repr=False)
    _model: Any = field(repr=False)
    _survey: Any = field(repr=False)
    df_method: str = "design"

    @property
    def df_inference(self) -> float | None:
        """T degrees of freedom (design or residual, see ``df_method``)."""
        return float(self.df)

    @property
    def depvar(self) -> str:
        """Dependent variable."""
        return self.formula.split("~")[0].strip()

    @property
    def estimator(self) -> str:
        """Survey GLM with its family and link."""
        return f"Survey GLM ({self.family}, {self.link})"

    @property
    def vcov_type(self) -> str:
        """Design-based variance and the df convention."""
        return f"design-based ({self.variance}), t on {self.df_method} df = {self.df}"

    def glance(self) -> pd.DataFrame:
        """One-row model summary: sizes, design, variance method and fit statistics."""
        row: dict[str, Any] = {
            "family": self.family,
            "link": self.link,
            "n_obs": self.n_obs,
            "n_psu": self.n_psu,
            "n_strata": self.n_strata,
            "df_design": self.df if self.df_method == "design" else self._survey.df,
            "df_inference": self.df,
            "df_method": self.df_method,
            "variance": self.variance,
            "design": self.design,
            "converged": self.converged,
            **self.fit_stats,
        }
        return pd.DataFrame([row])

    def summary(self) -> str:
        """Plain-text summary in the style of ``summary(svyglm)`` / linearmodels."""
        tab = self.tidy()
        lines = [
            f"Survey GLM: {self.formula}   family={self.family}, link={self.link}",
            self.design,
            f"n_obs={self.n_obs}  PSUs={self.n_psu}  strata={self.n_strata}  "
            f"design df={self.df}  variance={self.variance}",
            "",
            f"{'term':<24}{'estimate':>13}{'std_error':>13}{'t':>9}{'p_value':>10}",
        ]
        for r in tab.itertuples(index=False):
            lines.append(
                f"{r.term!s:<24}{r.estimate:>13.6g}{r.std_error:>13.6g}"
                f"{r.statistic:>9.3f}{r.p_value:>10.4f}"
            )
        stats_txt = ", ".join(f"{k}={v:.4g}" for k, v in self.fit_stats.items())
        lines += ["", stats_txt]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form (coefficients, covariance, design and fit statistics)."""
        return {
            "formula": self.formula,
            "family": self.family,
            "link": self.link,
            "terms": list(self.params.index),
            "params": self.params.tolist(),
            "vcov": self.vcov.to_numpy().tolist(),
            "df": self.df,
            "n_obs": self.n_obs,
            "n_psu": self.n_psu,
            "n_strata": self.n_strata,
            "variance": self.variance,
            "design": self.design,
            "hessian": self.hessian,
            "converged": self.converged,
            "fit_stats": dict(self.fit_stats),
        }

    def marginal_effects(
        self,
        variables: list[str] | None = None,
        *,
        vce: AmeVce = "unconditional",
        at: Literal["overall", "mean"] = "overall",
    ) -> MarginalEffects:
        """Average marginal effects with design-based delta-method standard errors.

        Parameters
        ----------
        variables
            Data columns of the right-hand side (default: all of them).
        vce
            ``"unconditional"`` (default): linearisation of the AME as a population quantity,
            covariates treated as sampled (Stata ``margins, vce(unconditional)``); with the
            jackknife, AMEs recomputed on every replicate. ``"delta"``: ``G V(beta) G'``,
            covariates held fixed (svy's ``margins``; Stata's ``vce(delta)``).
        at
            ``"overall"`` (average marginal effects) or ``"mean"`` (at the weighted means of the
            regressors, Stata ``margins, dydx(*) atmeans``; delta method, ``vce`` must then be
            ``"delta"``).

        Examples
        --------
        >>> from ctip_research.models.simulate import simulate_households
        >>> from ctip_research.survey import SurveyDesign
        >>> df = simulate_households(n_villages=60, households_per_village=10, seed=3)
        >>> design = SurveyDesign(df, weight="weight_household", strata="province_code",
        ...     psu="psu_id")
        >>> res = design.glm("has_international_migrant ~ has_mfi_loan", family="binomial")
        >>> res.marginal_effects(["has_mfi_loan"]).tidy()["term"].tolist()
        ['has_mfi_loan']
        """
        if at == "mean":
            if vce != "delta":
                raise SurveyDesignError("marginal effects at the means need vce='delta'")
            data = self._survey.data.iloc[self._rows]
            terms, effects = effect_specs(self._model, data, variables, None)
            w = self._survey.arrays.weights[self._rows]
            est, v, _ = compute_marginal_effects(
                effects, self._x, self.params.to_numpy(), self.vcov.to_numpy(), w, self.link, "mean"
            )
            return _me(terms, est, v, self, "mean", "delta method (design-based)")
        return _average_marginal_effects(self, variables, vce)


# ---------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class _GlmData:
    """The complete (and in-domain) rows of a model: design matrix, response, positions."""

    x: FloatArray
    y: FloatArray
    rows: np.ndarray
    terms: list[str]
    spec: Any


def _link_for(family: str, link: str | None) -> str:
    """The link of ``family`` (canonical by default), checked."""
    if family not in _ALLOWED:
        raise SurveyDesignError(f"family must be one of {sorted(_ALLOWED)}, got {family!r}")
    link_name = link or _CANONICAL[family]
    if link_name not in _ALLOWED[family]:
        raise SurveyDesignError(f"link {link_name!r} is not available for family {family!r}")
    return link_name


def _glm_data(survey: GlmDesign, formula: str, family: str, domain: str | None) -> _GlmData:
    """Build the model matrix on the complete rows (restricted to ``domain``) and check it."""
    try:
        mm = model_matrix(formula, survey.data, na_action="drop")
    except Exception as exc:  # formulaic raises many types; name the formula, not the data
        raise SurveyDesignError(f"cannot build the model matrix of {formula!r}: {exc}") from None
    lhs, rhs = mm.lhs, mm.rhs
    spec = rhs.model_spec
    if lhs.shape[1] != 1:
        raise SurveyDesignError(
            f"the response of {formula!r} must be one numeric column (0/1 for binomial)"
        )
    rows = np.asarray(rhs.index, dtype=np.int64)
    if domain is not None:
        dom = survey.column(domain).fillna(False).to_numpy(dtype=bool)
        keep = dom[rows]
        rows = rows[keep]
        rhs, lhs = rhs[keep], lhs[keep]
    if rows.size == 0:
        raise SurveyDesignError(f"no complete rows for {formula!r}")
    x = np.asarray(rhs, dtype=np.float64)
    y = np.asarray(lhs, dtype=np.float64).ravel()
    if family == "binomial" and not np.all((y == 0) | (y == 1)):
        raise SurveyDesignError("a binomial response must be 0/1 or boolean")
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise SurveyDesignError(f"the design matrix of {formula!r} is rank deficient")
    return _GlmData(x, y, rows, [str(c) for c in rhs.columns], spec)


def _glm_vcov(
    survey: GlmDesign,
    gd: _GlmData,
    beta: FloatArray,
    model: tuple[str, str, FloatArray, FloatArray],
    domain: str | None,
) -> tuple[FloatArray, int]:
    """Design-based covariance of ``beta`` (jackknife refits or linearisation) and its df."""
    family, link_name, u, a_inv = model
    x, y, rows = gd.x, gd.y, gd.rows
    arrays = survey.arrays
    if survey.variance == "jackknife":

        def refit(wr: FloatArray) -> FloatArray:
            return _irls(x, y, wr[rows], family, link_name, start=beta, max_iter=25)[0]

        return survey.jackknife(refit, beta), survey.df
    infl = np.zeros((arrays.n_obs, x.shape[1]))
    infl[rows] = u @ a_inv
    vcov = survey.vcov_of(infl)
    in_fit = np.zeros(arrays.n_obs, dtype=bool)
    in_fit[rows] = True
    return vcov, (domain_df(arrays, in_fit) if domain is not None else survey.df)


def fit_survey_glm(
    survey: GlmDesign,
    formula: str,
    *,
    family: GlmFamily = "gaussian",
    link: GlmLink | None = None,
    domain: str | None = None,
    hessian: GlmHessian = "observed",
    df: Literal["design", "residual"] = "design",
) -> SurveyGLMResults:
    """Fit a design-based GLM on ``survey``.

    Parameters
    ----------
    survey
        The design (its ``variance`` and ``conf_level`` apply).
    formula
        Wilkinson formula (formulaic): ``"y ~ x1 + C(province_code) + x1:x2"``.
    family
        ``"gaussian"`` or ``"binomial"`` (``y`` 0/1 or boolean).
    link
        ``"identity"``, ``"logit"`` or ``"probit"`` (default: canonical).
    domain
        Optional boolean column: fit on the rows where it is True, keeping the full design.
    hessian
        Bread of the sandwich for a probit: ``"observed"`` Hessian (Stata ``svy: probit``,
        statsmodels) or ``"expected"`` information (R ``svyglm``). Logit and gaussian models
        are the same either way.
    df
        Degrees of freedom of the tests and intervals: ``"design"`` (PSUs minus strata, Stata
        ``svy``) or ``"residual"`` (design df - p + 1, R ``summary.svyglm``).

    Examples
    --------
    >>> from ctip_research.models.simulate import simulate_households
    >>> from ctip_research.survey import SurveyDesign
    >>> df = simulate_households(n_villages=60, households_per_village=10, seed=3)
    >>> design = SurveyDesign(df, weight="weight_household", strata="province_code", psu="psu_id")
    >>> res = design.glm("has_international_migrant ~ has_mfi_loan", family="binomial",
    ...     link="probit")
    >>> round(float(res.marginal_effects().tidy()["estimate"].iloc[0]), 3)
    0.107
    """
    link_name = _link_for(family, link)
    gd = _glm_data(survey, formula, family, domain)
    x, y, rows = gd.x, gd.y, gd.rows
    arrays = survey.arrays
    w = arrays.weights[rows]
    beta, n_iter, converged = _irls(x, y, w, family, link_name)
    if hessian not in ("observed", "expected"):
        raise SurveyDesignError(f"hessian must be 'observed' or 'expected', got {hessian!r}")
    u, a_inv = _scores_and_bread(x, y, w, beta, family, link_name, hessian)
    if df not in ("design", "residual"):
        raise SurveyDesignError(f"df must be 'design' or 'residual', got {df!r}")
    vcov, df_value = _glm_vcov(survey, gd, beta, (family, link_name, u, a_inv), domain)
    if df == "residual":
        df_value = df_value - x.shape[1] + 1
    terms = gd.terms
    return SurveyGLMResults(
        formula=formula,
        family=family,
        link=link_name,
        params=pd.Series(beta, index=terms),
        vcov=pd.DataFrame(vcov, index=terms, columns=terms),
        df=df_value,
        n_obs=int(rows.size),
        n_psu=arrays.n_psu,
        n_strata=arrays.n_strata,
        variance=survey.variance,
        design=survey.describe(),
        hessian=hessian,
        conf_level=survey.conf_level,
        converged=converged,
        n_iter=n_iter,
        fit_stats=_fit_stats(x, y, w, beta, family, link_name),
        _x=x,
        _y=y,
        _rows=rows,
        _model=gd.spec,
        _survey=survey,
        df_method=df,
    )


def _fit_stats(
    x: FloatArray, y: FloatArray, w: FloatArray, beta: FloatArray, family: str, link: str
) -> dict[str, float]:
    mu = _inverse_link(link, x @ beta)[0]
    big_w = w.sum()
    ybar = (w * y).sum() / big_w
    if family == "binomial":
        mu_c = np.clip(mu, 1e-15, 1 - 1e-15)
        ll = float(np.sum(w * (y * np.log(mu_c) + (1 - y) * np.log(1 - mu_c))))
        yb = min(max(ybar, 1e-15), 1 - 1e-15)
        ll0 = float(np.sum(w * (y * math.log(yb) + (1 - y) * math.log(1 - yb))))
        return {"pseudo_r2": 1.0 - ll / ll0 if ll0 != 0 else float("nan"), "pop_size": big_w}
    rss = float(np.sum(w * (y - mu) ** 2))
    tss = float(np.sum(w * (y - ybar) ** 2))
    return {"r2": 1.0 - rss / tss if tss > 0 else float("nan"), "pop_size": big_w}


# ---------------------------------------------------------------------- marginal effects
def _is_discrete(col: pd.Series) -> bool:
    if col.dtype == bool or isinstance(col.dtype, pd.CategoricalDtype):
        return True
    if not pd.api.types.is_numeric_dtype(col):
        return True
    values = pd.unique(col.dropna())
    return len(values) <= 2 and set(values.tolist()) <= {0, 1}


#: One marginal effect: ("slope", dX/dv, None) or ("change", X at level, X at reference).
_Effect = tuple[str, FloatArray, FloatArray | None]


def _chosen_variables(res: SurveyGLMResults, variables: list[str] | None) -> list[str]:
    """The model variables whose effects are asked for (all by default), checked."""
    available = sorted(str(v) for v in res._model.required_variables)
    chosen = available if variables is None else list(variables)
    for v in chosen:
        if v not in available:
            raise SurveyDesignError(f"{v!r} is not a variable of {res.formula!r}")
    return chosen


def _effect_matrices(
    res: SurveyGLMResults, variables: list[str] | None
) -> tuple[list[str], list[_Effect]]:
    """Term names and, per term, the model matrices its unit-level effect is computed from."""
    data = res._survey.data.iloc[res._rows]
    spec = res._model
    chosen = _chosen_variables(res, variables)

    def matrix(frame: pd.DataFrame) -> FloatArray:
        return np.asarray(spec.get_model_matrix(frame), dtype=np.float64)

    def constant(v: str, value: Any) -> pd.DataFrame:
        return data.assign(**{v: pd.Series([value] * len(data), index=data.index)})

    terms: list[str] = []
    effects: list[_Effect] = []
    for v in chosen:
        col = data[v]
        if _is_discrete(col):
            levels = sorted(pd.unique(col.dropna()).tolist(), key=lambda z: (str(type(z)), z))
            x_ref = matrix(constant(v, levels[0]))
            for lv in levels[1:]:
                effects.append(("change", matrix(constant(v, lv)), x_ref))
                terms.append(v if (lv is True or lv == 1) and len(levels) == 2 else f"{v}[{lv}]")
        else:
            xv = col.to_numpy(dtype=np.float64)
            h = 1e-4 * max(float(np.std(xv)), 1e-8)
            dx = (matrix(data.assign(**{v: xv + h})) - matrix(data.assign(**{v: xv - h}))) / (2 * h)
            effects.append(("slope", dx, None))
            terms.append(v)
    return terms, effects


def _unit_effects(
    link: str, x: FloatArray, effects: list[_Effect], beta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Unit-level effects ``m`` (n, k) and ``d mu / d eta`` at ``beta``."""
    _, d1, _ = _inverse_link(link, x @ beta)
    cols = []
    for kind, a, b in effects:
        if kind == "slope":
            cols.append(d1 * (a @ beta))
        else:
            assert b is not None
            cols.append(_inverse_link(link, a @ beta)[0] - _inverse_link(link, b @ beta)[0])
    return np.column_stack(cols), d1


def _ame_gradient(
    link: str,
    x: FloatArray,
    effects: list[_Effect],
    beta: FloatArray,
    weights: tuple[FloatArray, FloatArray, Any],
) -> FloatArray:
    """Gradient of the AMEs with respect to ``beta`` (one row per term)."""
    w, d1, big_w = weights
    _, _, d2 = _inverse_link(link, x @ beta)
    g_rows = []
    for kind, a, b in effects:
        if kind == "slope":
            deta = a @ beta
            g_rows.append(((w * d2 * deta) @ x + (w * d1) @ a) / big_w)
        else:
            assert b is not None
            d1_a = _inverse_link(link, a @ beta)[1]
            d1_b = _inverse_link(link, b @ beta)[1]
            g_rows.append(((w * d1_a) @ a - (w * d1_b) @ b) / big_w)
    return np.vstack(g_rows)


def _ame_jackknife(
    res: SurveyGLMResults, effects: list[_Effect], beta: FloatArray, ame: FloatArray
) -> FloatArray:
    """Jackknife covariance of the AMEs: refit and recompute them on every replicate."""
    x, y, family, link = res._x, res._y, res.family, res.link

    def refit(wr: FloatArray) -> FloatArray:
        wr_rows = wr[res._rows]
        b = _irls(x, y, wr_rows, family, link, start=beta, max_iter=25)[0]
        m, _ = _unit_effects(link, x, effects, b)
        out: FloatArray = (wr_rows @ m) / wr_rows.sum()
        return out

    return res._survey.jackknife(refit, ame)


def _ame_linearised(
    res: SurveyGLMResults,
    g: FloatArray,
    unit: tuple[FloatArray, FloatArray, FloatArray],
    beta: FloatArray,
    n_terms: int,
) -> FloatArray:
    """vce(unconditional): design variance of the AMEs' influence values."""
    m, ame, w = unit
    big_w = w.sum()
    x, survey = res._x, res._survey
    u, a_inv = _scores_and_bread(x, res._y, w, beta, res.family, res.link, res.hessian)
    infl_rows = (w[:, None] * (m - ame)) / big_w + (u @ a_inv) @ g.T
    infl = np.zeros((survey.arrays.n_obs, n_terms))
    infl[res._rows] = infl_rows
    return survey.vcov_of(infl)


def _average_marginal_effects(
    res: SurveyGLMResults, variables: list[str] | None, vce: AmeVce
) -> MarginalEffects:
    terms, effects = _effect_matrices(res, variables)
    x = res._x
    link = res.link
    beta = res.params.to_numpy()
    w = res._survey.arrays.weights[res._rows]
    big_w = w.sum()
    m, d1 = _unit_effects(link, x, effects, beta)
    ame = (w @ m) / big_w
    if vce not in ("unconditional", "delta"):
        raise SurveyDesignError(f"vce must be 'unconditional' or 'delta', got {vce!r}")
    if res.variance == "jackknife" and vce == "unconditional":
        vcov = _ame_jackknife(res, effects, beta, ame)
    else:
        g = _ame_gradient(link, x, effects, beta, (w, d1, big_w))
        if vce == "delta":
            vcov = g @ res.vcov.to_numpy() @ g.T
        else:
            vcov = _ame_linearised(res, g, (m, ame, w), beta, len(terms))
    method = (
        "delta method (design-based)"
        if vce == "delta"
        else ("jackknife" if res.variance == "jackknife" else "linearisation, vce(unconditional)")
    )
    return _me(terms, ame, vcov, res, "overall", method)


def _me(
    terms: list[str],
    est: FloatArray,
    vcov: FloatArray,
    res: SurveyGLMResults,
    at: Literal["overall", "mean"],
    method: str,
) -> MarginalEffects:
    return MarginalEffects(
        params=pd.Series(est, index=terms),
        vcov=pd.DataFrame(vcov, index=terms, columns=terms),
        at=at,
        n_obs=res.n_obs,
        conf_level=res.conf_level,
        df_t=float(res.df),
        method=method,
        _depvar=res.depvar,
    )
