"""Model-based logit and probit (maximum likelihood) and marginal effects with delta-method errors.

``logit("y ~ x1 + x2", data)`` and ``probit(...)`` fit by Newton-Raphson on the (optionally
weighted) log-likelihood. Errors, as Stata ``logit`` / ``probit``: ``vcov="iid"`` (default) is the
inverse of the observed information (OIM); ``"hetero"`` the sandwich times ``N/(N-1)``;
``{"CRV1": "g"}`` the cluster sandwich times ``G/(G-1)``. ``glance()`` reports the
log-likelihood, the intercept-only log-likelihood, the LR chi2 test of all slopes, McFadden's
pseudo-R², AIC, BIC and the percent correctly predicted (predicted probability >= 0.5).

:meth:`BinaryResult.marginal_effects` gives average marginal effects (``at="overall"``, Stata
``margins, dydx(*)``) or marginal effects at the means (``at="mean"``, Stata ``margins, dydx(*)
atmeans``) with delta-method standard errors. A boolean, categorical or 0/1 regressor gets the
discrete change from its reference level (Stata's factor-variable ``i.`` treatment); pass
``discrete=False`` for derivatives throughout (Stata without ``i.``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from ctip_research.estimation.covariance import group_codes, parse_vcov
from ctip_research.estimation.kernels import cluster_meat
from ctip_research.estimation.results import EstimationError, ModelResult

__all__ = ["BinaryResult", "MarginalEffects", "compute_marginal_effects", "logit", "probit"]

At = Literal["overall", "mean"]


def inverse_link(link: str, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``mu``, ``d mu / d eta`` and ``d2 mu / d eta2`` of a logit, probit or identity link."""
    if link == "logit":
        mu = special.expit(eta)
        d1 = mu * (1.0 - mu)
        return mu, d1, d1 * (1.0 - 2.0 * mu)
    if link == "probit":
        mu = special.ndtr(eta)
        d1 = np.exp(-0.5 * eta**2) / math.sqrt(2.0 * math.pi)
        return mu, d1, -eta * d1
    return eta, np.ones_like(eta), np.zeros_like(eta)


@dataclass(frozen=True, repr=False)
class MarginalEffects(ModelResult):
    """Marginal effects (probability scale) with their covariance matrix.

    ``at`` is ``"overall"`` (average marginal effects) or ``"mean"`` (at the means of the
    regressors). Terms: ``variable`` for a derivative or a 0/1 change, ``variable[level]`` for a
    change from the reference level of a categorical variable.
    """

    params: pd.Series
    vcov: pd.DataFrame
    at: str
    n_obs: int
    conf_level: float
    df_t: float | None = None
    method: str = "delta method"
    _depvar: str = ""

    @property
    def df_inference(self) -> float | None:
        """T degrees of freedom (design df for survey models) or None (normal)."""
        return self.df_t

    @property
    def depvar(self) -> str:
        """Dependent variable."""
        return self._depvar

    @property
    def estimator(self) -> str:
        """What these are."""
        kind = "Average marginal effects" if self.at == "overall" else "Marginal effects at means"
        return kind

    @property
    def vcov_type(self) -> str:
        """How the errors were computed."""
        return self.method

    # compatibility with the design-based API
    @property
    def terms(self) -> list[str]:
        """Term names."""
        return [str(t) for t in self.params.index]

    @property
    def estimates(self) -> np.ndarray:
        """The effects as an array."""
        return self.params.to_numpy(dtype=float)

    @property
    def df(self) -> float | None:
        """Degrees of freedom of tests and intervals (None: normal)."""
        return self.df_t

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form."""
        return {
            "terms": self.terms,
            "estimates": self.estimates.tolist(),
            "vcov": self.vcov.to_numpy().tolist(),
            "df": self.df_t,
            "at": self.at,
            "conf_level": self.conf_level,
        }


def is_discrete(col: pd.Series) -> bool:
    """Bool, categorical, text, or numeric with only the values 0 and 1."""
    if col.dtype == bool or isinstance(col.dtype, pd.CategoricalDtype):
        return True
    if not pd.api.types.is_numeric_dtype(col):
        return True
    values = pd.unique(col.dropna())
    return len(values) <= 2 and set(values.tolist()) <= {0, 1}


def categorical_in(formula: str) -> set[str]:
    """Variables wrapped in ``C(...)`` in a formula (Stata's ``i.`` factor variables).

    Examples
    --------
    >>> sorted(categorical_in("y ~ x + C(h) + C(g, Treatment(1))"))
    ['g', 'h']
    """
    import re

    return set(re.findall(r"C\(\s*([A-Za-z_][A-Za-z0-9_.]*)", formula))


def effect_specs(
    spec: Any,
    data: pd.DataFrame,
    variables: Sequence[str] | None,
    discrete: bool | Sequence[str] | None,
    categorical: set[str] | None = None,
) -> tuple[list[str], list[tuple[str, np.ndarray, np.ndarray | None]]]:
    """Terms and effects of the chosen variables: ``("slope", dX/dv, None)`` or
    ``("change", X at level, X at reference)`` (model matrices over the rows of ``data``).

    A variable in ``categorical`` (wrapped in ``C()``) always gets discrete changes.
    """
    available = sorted(str(v) for v in spec.required_variables)
    chosen = available if variables is None else list(variables)
    for v in chosen:
        if v not in available:
            raise EstimationError(f"{v!r} is not a variable of the model ({available})")

    def matrix(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(spec.get_model_matrix(frame), dtype=np.float64)

    def constant(v: str, value: Any) -> pd.DataFrame:
        return data.assign(**{v: pd.Series([value] * len(data), index=data.index)})

    terms: list[str] = []
    effects: list[tuple[str, np.ndarray, np.ndarray | None]] = []
    for v in chosen:
        col = data[v]
        if discrete is None:
            disc = is_discrete(col)
        elif isinstance(discrete, bool):
            disc = discrete and is_discrete(col)
        else:
            disc = v in discrete
        if (not pd.api.types.is_numeric_dtype(col) and col.dtype != bool) or (
            categorical is not None and v in categorical
        ):
            disc = True
        if disc:
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


def compute_marginal_effects(
    effects: list[tuple[str, np.ndarray, np.ndarray | None]],
    x: np.ndarray,
    beta: np.ndarray,
    vcov: np.ndarray,
    w: np.ndarray,
    link: str,
    at: At,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Effects, their delta-method covariance ``G V G'`` and the gradient ``G``."""
    big_w = w.sum()
    if at == "mean":
        xm = (w @ x) / big_w
        values, grads = [], []
        for kind, a, b in effects:
            am = (w @ a) / big_w
            if kind == "slope":
                eta = float(xm @ beta)
                _, d1, d2 = inverse_link(link, np.array([eta]))
                slope = float(am @ beta)
                values.append(float(d1[0]) * slope)
                grads.append(float(d2[0]) * slope * xm + float(d1[0]) * am)
            else:
                assert b is not None
                bm = (w @ b) / big_w
                mu_a, d1_a, _ = inverse_link(link, np.array([float(am @ beta)]))
                mu_b, d1_b, _ = inverse_link(link, np.array([float(bm @ beta)]))
                values.append(float(mu_a[0] - mu_b[0]))
                grads.append(float(d1_a[0]) * am - float(d1_b[0]) * bm)
        g = np.vstack(grads)
        est = np.asarray(values)
    elif at == "overall":
        _, d1, d2 = inverse_link(link, x @ beta)
        values, grads = [], []
        for kind, a, b in effects:
            if kind == "slope":
                deta = a @ beta
                values.append(float(w @ (d1 * deta)) / big_w)
                grads.append(((w * d2 * deta) @ x + (w * d1) @ a) / big_w)
            else:
                assert b is not None
                mu_a, d1_a, _ = inverse_link(link, a @ beta)
                mu_b, d1_b, _ = inverse_link(link, b @ beta)
                values.append(float(w @ (mu_a - mu_b)) / big_w)
                grads.append(((w * d1_a) @ a - (w * d1_b) @ b) / big_w)
        g = np.vstack(grads)
        est = np.asarray(values)
    else:
        raise EstimationError(f"at must be 'overall' or 'mean', got {at!r}")
    return est, g @ vcov @ g.T, g


def _loglik(link: str, eta: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    if link == "logit":
        return float(w @ (y * eta - np.logaddexp(0.0, eta)))
    return float(w @ (y * special.log_ndtr(eta) + (1 - y) * special.log_ndtr(-eta)))


def _score_hessian(
    link: str, x: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row scores (n, k) and the observed Hessian (k, k) of the log-likelihood."""
    eta = x @ beta
    if link == "logit":
        mu = special.expit(eta)
        s = w * (y - mu)
        hw = w * mu * (1.0 - mu)
        return x * s[:, None], -(x * hw[:, None]).T @ x
    # probit: lambda_i = d log F(q eta) / d eta with q = 2y - 1
    q = 2.0 * y - 1.0
    lam = q * np.exp(special.log_ndtr(q * eta) * -1.0 + -0.5 * eta**2) / math.sqrt(2 * math.pi)
    s = w * lam
    hw = w * lam * (lam + eta)
    return x * s[:, None], -(x * hw[:, None]).T @ x


def _newton(link: str, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, int]:
    beta = np.zeros(x.shape[1])
    for it in range(1, 101):
        scores, hess = _score_hessian(link, x, y, w, beta)
        grad = scores.sum(axis=0)
        step = np.linalg.solve(hess, grad)
        new = beta - step
        # step halving keeps the log-likelihood increasing
        ll_old = _loglik(link, x @ beta, y, w)
        for _ in range(30):
            if _loglik(link, x @ new, y, w) >= ll_old - 1e-12:
                break
            new = beta + (new - beta) / 2.0
        if np.max(np.abs(new - beta)) <= 1e-12 * (1.0 + np.max(np.abs(new))):
            return new, it
        beta = new
    raise EstimationError(f"{link} did not converge in 100 Newton steps (separation?)")


@dataclass(frozen=True, repr=False)
class BinaryResult(ModelResult):
    """A fitted model-based logit or probit (see the module docstring)."""

    params: pd.Series
    vcov: pd.DataFrame
    formula: str
    link: str
    n_obs: int
    conf_level: float
    vcov_label: str
    stats: dict[str, float]
    weights: str | None
    _depvar: str
    _x: np.ndarray
    _w: np.ndarray
    _data: pd.DataFrame
    _spec: Any

    @property
    def depvar(self) -> str:
        """Dependent variable."""
        return self._depvar

    @property
    def estimator(self) -> str:
        """``Logit`` or ``Probit`` (maximum likelihood)."""
        return f"{self.link.capitalize()} (maximum likelihood)"

    @property
    def vcov_type(self) -> str:
        """Covariance type."""
        return self.vcov_label

    def _glance_row(self) -> dict[str, Any]:
        return dict(self.stats)

    def _header_lines(self) -> list[str]:
        return [f"Formula: {self.formula}"]

    def _footer_lines(self) -> list[str]:
        s = self.stats
        return [
            f"Log likelihood = {s['llf']:.6g}   LR chi2({s['lr_df']:g}) = {s['lr_chi2']:.4g} "
            f"(p = {s['lr_p_value']:.4g})   Pseudo R2 = {s['pseudo_r2']:.4f}",
            f"Correctly predicted (p >= 0.5): {100 * s['pct_correct']:.2f}%   AIC = "
            f"{s['aic']:.6g}   BIC = {s['bic']:.6g}",
        ]

    def predict(self, data: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted probabilities (on the estimation rows, or on new ``data``)."""
        x = self._x if data is None else np.asarray(self._spec.get_model_matrix(data), float)
        return inverse_link(self.link, x @ self.params.to_numpy())[0]

    def marginal_effects(
        self,
        variables: Sequence[str] | None = None,
        *,
        at: At = "overall",
        discrete: bool | Sequence[str] | None = None,
    ) -> MarginalEffects:
        """Marginal effects on the probability with delta-method errors (module docstring).

        Examples
        --------
        >>> import pandas as pd
        >>> from ctip_research.estimation import logit
        >>> df = pd.DataFrame({"y": [0, 0, 1, 0, 1, 1, 0, 1], "x": [1, 2, 3, 4, 5, 6, 3, 4]})
        >>> me = logit("y ~ x", df).marginal_effects(at="mean")
        >>> me.tidy()["term"].tolist()
        ['x']
        """
        terms, effects = effect_specs(
            self._spec, self._data, variables, discrete, categorical_in(self.formula)
        )
        est, v, _ = compute_marginal_effects(
            effects, self._x, self.params.to_numpy(), self.vcov.to_numpy(), self._w, self.link, at
        )
        return MarginalEffects(
            params=pd.Series(est, index=terms),
            vcov=pd.DataFrame(v, index=terms, columns=terms),
            at=at,
            n_obs=self.n_obs,
            conf_level=self.conf_level,
            df_t=None,
            method=f"delta method, {self.vcov_label}",
            _depvar=self.depvar,
        )


def _fit_binary(
    link: str,
    formula: str,
    data: pd.DataFrame,
    weights: str | None,
    vcov: Any,
    conf_level: float,
) -> BinaryResult:
    from formulaic import model_matrix

    request = parse_vcov(vcov)
    if request.kind in ("HC2", "HC3") or len(request.clusters) > 1:
        raise EstimationError(f"{link}: vcov must be iid, hetero/HC0/HC1 or one-way CRV1")
    from ctip_research.estimation.linear import _bools_as_float

    frame = _bools_as_float(data.reset_index(drop=True))
    extra = [*request.clusters, *([weights] if weights else [])]
    missing = [c for c in extra if c not in frame.columns]
    if missing:
        raise EstimationError(f"columns not in the data: {missing}")
    ok_extra = np.ones(len(frame), dtype=bool)
    for c in extra:
        ok_extra &= frame[c].notna().to_numpy()
    try:
        mm = model_matrix(formula, frame.loc[ok_extra], na_action="drop")
    except Exception as exc:
        raise EstimationError(f"cannot build the model matrix of {formula!r}: {exc}") from None
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise EstimationError(f"the response of {formula!r} must be one 0/1 column")
    rows = np.asarray(rhs.index)
    sub = frame.loc[rows]
    x = np.asarray(rhs, dtype=float)
    y = np.asarray(lhs, dtype=float).ravel()
    if not np.all((y == 0) | (y == 1)):
        raise EstimationError(f"{link}: the response must be 0/1 or boolean")
    n = len(y)
    w = sub[weights].to_numpy(dtype=float) if weights else np.ones(n)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise EstimationError(f"the design matrix of {formula!r} is rank deficient")
    beta, _ = _newton(link, x, y, w)
    scores, hess = _score_hessian(link, x, y, w, beta)
    bread = np.linalg.inv(-hess)
    if request.kind == "iid":
        v = bread
    elif request.kind in ("HC0", "HC1"):
        v = bread @ (scores.T @ scores) @ bread
        if request.kind == "HC1":
            v = v * n / (n - 1)
    else:
        codes = group_codes(sub[request.clusters[0]])
        g = int(codes.max()) + 1
        v = bread @ cluster_meat(scores, codes) @ bread * g / (g - 1)
    names = [str(c) for c in rhs.columns]
    eta = x @ beta
    llf = _loglik(link, eta, y, w)
    ybar = float(w @ y / w.sum())
    llnull = float(w @ (y * math.log(ybar) + (1 - y) * math.log(1 - ybar)))
    k = x.shape[1]
    lr = 2.0 * (llf - llnull)
    lr_df = float(k - (1 if "Intercept" in names else 0))
    mu = inverse_link(link, eta)[0]
    stats_out = {
        "llf": llf,
        "llnull": llnull,
        "lr_chi2": lr,
        "lr_df": lr_df,
        "lr_p_value": float(stats.chi2.sf(lr, lr_df)),
        "pseudo_r2": 1.0 - llf / llnull,
        "aic": -2.0 * llf + 2.0 * k,
        "bic": -2.0 * llf + k * math.log(n),
        "pct_correct": float(np.mean((mu >= 0.5) == (y == 1))),
    }
    return BinaryResult(
        params=pd.Series(beta, index=names),
        vcov=pd.DataFrame(v, index=names, columns=names),
        formula=formula,
        link=link,
        n_obs=n,
        conf_level=conf_level,
        vcov_label={"iid": "OIM (classical)", "HC0": "robust (HC0)", "HC1": "robust"}.get(
            request.kind, request.label
        ),
        stats=stats_out,
        weights=weights,
        _depvar=str(lhs.columns[0]),
        _x=x,
        _w=w,
        _data=sub,
        _spec=rhs.model_spec,
    )


def logit(
    formula: str,
    data: pd.DataFrame,
    *,
    weights: str | None = None,
    vcov: Any = "iid",
    conf_level: float = 0.95,
) -> BinaryResult:
    """Model-based logit by maximum likelihood (Stata ``logit``; see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [0, 0, 1, 0, 1, 1, 0, 1], "x": [1, 2, 3, 4, 5, 6, 3, 4]})
    >>> fit = logit("y ~ x", df)
    >>> fit.tidy()["term"].tolist()
    ['Intercept', 'x']
    """
    return _fit_binary("logit", formula, data, weights, vcov, conf_level)


def probit(
    formula: str,
    data: pd.DataFrame,
    *,
    weights: str | None = None,
    vcov: Any = "iid",
    conf_level: float = 0.95,
) -> BinaryResult:
    """Model-based probit by maximum likelihood (Stata ``probit``; see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [0, 0, 1, 0, 1, 1, 0, 1], "x": [1, 2, 3, 4, 5, 6, 3, 4]})
    >>> round(float(probit("y ~ x", df).glance()["pseudo_r2"].iloc[0]), 3)
    0.416
    """
    return _fit_binary("probit", formula, data, weights, vcov, conf_level)


_ = Callable  # re-exported type for annotations in subclasses
