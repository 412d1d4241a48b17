"""Wild cluster bootstrap (WCR) for inference with few clusters.

With few clusters (or very unequal ones) CRV1 errors are too small and t(G-1) tests over-reject
(Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017). The restricted wild cluster bootstrap
(WCR) of Cameron, Gelbach & Miller (2008), computed as in Roodman, MacKinnon, Nielsen & Webb
(2019, "Fast and wild", Stata ``boottest``), keeps the cluster structure and imposes the null:

1. fit the restricted model (``beta_j = null``) and keep its residuals ``u~``;
2. for each draw ``b``, multiply every cluster's residuals by one weight ``v_gb`` (Rademacher
   +-1 or Webb's six-point distribution), ``y* = X beta~ + v_g u~``, refit and compute the CRV1
   t-statistic of ``beta_j = null``;
3. the symmetric p-value is the share of draws with ``|t*| >= |t|``.

Conventions
-----------
* **Statistic**: the CRV1 t with the factor G/(G-1) (N-1)/(N-K), K = regressors + absorbed
  levels not nested in the clusters (as :func:`~ctip_research.models.econometric.fit_fixed_effects`,
  Stata ``reghdfe`` / pyfixest). The factor cancels in the bootstrap p-value.
* **Ties**: a constant weight vector (``v = +-1``) reproduces ``|t|`` exactly at every null
  value, so with Rademacher full enumeration the smallest p-value is 2 / 2^G. Ties are included
  (conservative; Webb 2023): constant draws always count, other draws when |t*| is within 1e-9
  (relative) of |t|. ``wildboottest`` counts only strictly larger draws, which differs by at
  most 2 / 2^G.
* **Full enumeration**: Rademacher weights with 2^G <= ``reps`` use every sign vector once (the
  p-value is then deterministic); otherwise ``reps`` draws from ``numpy.random.Generator(seed)``.
* **Weights**: weighted least squares through sqrt-weights (the bootstrap multiplies the
  weighted residuals, which is the same as multiplying the residuals).
* **Fixed effects**: effects nested in the clusters are partialled out first (Frisch-Waugh-Lovell,
  with the weighted within transformation of ``fit_fixed_effects``). This is exact for the
  restricted fit and for every bootstrap refit because a cluster weight is constant within each
  level of a nested effect, so the multiplied residuals stay orthogonal to the effects. Effects
  not nested in the clusters (province effects with village clusters) would break that, so they
  enter as dummy columns instead (they are few in practice).
* **Speed**: everything is reduced to cluster-level pieces (per-cluster ``X_g'u~_g`` and
  ``X_g'X_g``), so one draw costs O(G k) (Roodman et al. 2019, section 3); the restricted
  residuals are linear in the null value, so the confidence set by test inversion costs O(B)
  per candidate value.
* **Confidence interval**: the null values not rejected at ``alpha`` with the same draws (test
  inversion, as ``boottest``): the p-value function is evaluated on a grid around the estimate and
  the outermost crossings of ``alpha`` are refined by bisection (to 1e-9 standard errors). The
  reported interval is the hull of the accepted region; a bound is infinite when the p-value
  never falls to ``alpha`` (e.g. Rademacher with G <= 5: 2 / 2^G > 0.05).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctip_research.estimation.kernels import crv1_factor, demean, group_sums, is_nested
from ctip_research.literals import WildWeightType
from ctip_research.models.econometric import absorbed_df, regressor_frame
from ctip_research.models.specs import ModelSpec, SpecError, select_sample

__all__ = [
    "WildBootstrapError",
    "WildBootstrapResult",
    "bootstrap_spec",
    "bootstrap_weights",
    "wild_cluster_bootstrap",
]

#: Draws processed at once, at most (bounds the memory of the B x G matrices).
_CHUNK = 4096
#: Weight-matrix elements per chunk (draws x clusters): 2^21 float64 = 16 MiB per temporary, so
#: a census-size design (50,000 villages) runs in chunks of 41 draws, never B x G at once.
_CHUNK_ELEMENTS = 2**21
#: |t*| within this relative distance of |t| counts as a tie (included in the p-value).
_TIE_RTOL = 1e-9
#: Webb's six-point distribution: +-sqrt(1/2), +-1, +-sqrt(3/2), each with probability 1/6.
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
#: The interval search stops at 2^_MAX_REACH standard errors from the estimate (then: infinite).
_MAX_REACH = 20
#: Largest G for which full enumeration (2^G sign vectors) is considered.
_MAX_ENUM_G = 24


class WildBootstrapError(SpecError):
    """The wild cluster bootstrap cannot be computed (too few clusters, collinear regressors)."""


@dataclass(frozen=True)
class WildBootstrapResult:
    """Wild cluster bootstrap (WCR) test of one coefficient.

    Attributes
    ----------
    term
        Name of the tested coefficient.
    estimate, std_error
        OLS/WLS estimate and its CRV1 standard error.
    statistic
        CRV1 t-statistic of ``estimate - null``.
    p_value
        Symmetric wild bootstrap p-value (share of draws with ``|t*| >= |t|``).
    p_value_crv1
        The usual CRV1 p-value, t(G-1) reference distribution.
    conf_low, conf_high
        Wild bootstrap confidence interval by test inversion (``+-inf`` when unbounded).
    null, alpha
        Tested value and the interval's level (1 - alpha).
    reps
        Draws actually used (2^G under full enumeration).
    n_clusters, n_obs
        G and N.
    weight_type
        ``rademacher`` or ``webb``.
    full_enumeration
        True when every Rademacher sign vector was used once (deterministic p-value).
    bootstrap_statistics
        The ``reps`` bootstrap t-statistics under the null.
    """

    term: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    p_value_crv1: float
    conf_low: float
    conf_high: float
    null: float
    alpha: float
    reps: int
    n_clusters: int
    n_obs: int
    weight_type: str
    full_enumeration: bool
    bootstrap_statistics: np.ndarray = field(repr=False, compare=False)

    def tidy(self) -> pd.DataFrame:
        """One row: term, estimate, std_error, statistic, p_value, conf_low, conf_high, ..."""
        return pd.DataFrame(
            {
                "term": [self.term],
                "estimate": [self.estimate],
                "std_error": [self.std_error],
                "statistic": [self.statistic],
                "p_value": [self.p_value],
                "conf_low": [self.conf_low],
                "conf_high": [self.conf_high],
                "p_value_crv1": [self.p_value_crv1],
                "n_clusters": [self.n_clusters],
                "reps": [self.reps],
                "weight_type": [self.weight_type],
                "full_enumeration": [self.full_enumeration],
            }
        )

    def summary(self) -> str:
        """A short text summary."""
        lo, hi = self.conf_low, self.conf_high
        return (
            f"Wild cluster bootstrap (WCR, {self.weight_type}, "
            f"{'full enumeration, ' if self.full_enumeration else ''}{self.reps} draws, "
            f"G = {self.n_clusters}, N = {self.n_obs})\n"
            f"{self.term}: {self.estimate:.6g} (CRV1 se {self.std_error:.6g}), "
            f"t = {self.statistic:.4f} for H0 = {self.null:g}\n"
            f"p (wild) = {self.p_value:.4f}; p (CRV1, t(G-1)) = {self.p_value_crv1:.4f}; "
            f"{100 * (1 - self.alpha):g}% CI [{lo:.6g}, {hi:.6g}]"
        )


def bootstrap_weights(
    n_clusters: int, *, reps: int, weight_type: WildWeightType, seed: int
) -> tuple[np.ndarray, bool]:
    """Cluster weights, one row per draw: ``(weights (B, G), full_enumeration)``.

    Rademacher with ``2**n_clusters <= reps``: all sign vectors once (B = 2^G, no randomness).
    Otherwise ``reps`` rows drawn from ``numpy.random.default_rng(seed)``.

    Examples
    --------
    >>> v, full = bootstrap_weights(3, reps=999, weight_type="rademacher", seed=1)
    >>> v.shape, full
    ((8, 3), True)
    >>> bootstrap_weights(3, reps=9, weight_type="webb", seed=1)[0].shape
    (9, 3)
    """
    chunks, full = _weight_chunks(
        n_clusters, reps=reps, weight_type=weight_type, seed=seed, chunk=_CHUNK
    )
    return np.vstack(list(chunks)), full


def _weight_chunks(
    n_clusters: int, *, reps: int, weight_type: WildWeightType, seed: int, chunk: int
) -> tuple[Iterator[np.ndarray], bool]:
    """The rows of :func:`bootstrap_weights`, ``chunk`` draws at a time (the same rows: a numpy
    Generator's int64 stream does not depend on how the draws are split).
    """
    if n_clusters < 1 or reps < 1:
        raise WildBootstrapError("the wild bootstrap needs at least one cluster and one draw")
    if weight_type not in ("rademacher", "webb"):
        raise WildBootstrapError(f"unknown weight_type {weight_type!r}")
    full = weight_type == "rademacher" and n_clusters <= _MAX_ENUM_G and 2**n_clusters <= reps
    n_draws = 2**n_clusters if full else reps
    shift = np.arange(n_clusters)

    def rows() -> Iterator[np.ndarray]:
        rng = np.random.default_rng(seed)
        for start in range(0, n_draws, chunk):
            size = (min(chunk, n_draws - start), n_clusters)
            if full:
                bits = (np.arange(start, start + size[0])[:, None] >> shift) & 1
                yield 2.0 * bits - 1.0
            elif weight_type == "rademacher":
                yield 2.0 * rng.integers(0, 2, size=size) - 1.0
            else:
                yield _WEBB[rng.integers(0, 6, size=size)]

    return rows(), full


def _as_codes(values: Any, n: int, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise WildBootstrapError(f"{what} must be one value per row")
    return pd.factorize(pd.Series(arr), sort=True)[0].astype(np.intp)


def _absorb_codes(absorb: Any, n: int) -> list[np.ndarray]:
    if absorb is None:
        return []
    if isinstance(absorb, pd.DataFrame):
        cols = [absorb[c].to_numpy() for c in absorb.columns]
    else:
        arr = np.asarray(absorb)
        cols = [arr] if arr.ndim == 1 else [arr[:, i] for i in range(arr.shape[1])]
    return [_as_codes(c, n, "absorb") for c in cols]


def _dummies(codes: np.ndarray) -> np.ndarray:
    """One-hot columns of every level but the first."""
    m = int(codes.max()) + 1
    out = np.zeros((len(codes), m))
    out[np.arange(len(codes)), codes] = 1.0
    return out[:, 1:]


@dataclass(frozen=True)
class _WeightedFit:
    """The (weighted, partialled-out) unrestricted fit the bootstrap starts from."""

    xd: np.ndarray
    a_inv: np.ndarray
    beta: np.ndarray
    u_hat: np.ndarray
    ssc: float


@dataclass(frozen=True)
class _DrawMoments:
    """Per-draw pieces of the bootstrap t; the restricted residuals are linear in the null."""

    num_a: np.ndarray
    num_b: np.ndarray
    q_aa: np.ndarray
    q_ab: np.ndarray
    q_bb: np.ndarray
    constant: np.ndarray
    ssc: float

    def t_boot(self, b0: float) -> np.ndarray:
        """Bootstrap t-statistics of every draw at the null value ``b0``."""
        den = self.ssc * (self.q_aa - 2 * b0 * self.q_ab + b0 * b0 * self.q_bb)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.num_a - b0 * self.num_b) / np.sqrt(np.maximum(den, 0.0))


@dataclass(frozen=True)
class _PValue:
    """The bootstrap p-value as a function of the null value (ties included)."""

    moments: _DrawMoments
    estimate: float
    se: float
    n_draws: int

    def __call__(self, b0: float) -> float:
        """Share of draws with ``|t*| >= |t|`` at the null value ``b0``."""
        constant = self.moments.constant
        varying = ~constant
        n_constant = int(constant.sum())
        t0 = abs(self.estimate - b0) / self.se
        tb = np.abs(self.moments.t_boot(b0))[varying]
        return float((np.count_nonzero(tb >= t0 * (1 - _TIE_RTOL)) + n_constant) / self.n_draws)


def _regressor_matrix(X: Any) -> tuple[np.ndarray, list[str]]:
    """``X`` as a float (N, k) array and its column names (``x0``, ``x1``... for arrays)."""
    if isinstance(X, pd.DataFrame):
        return X.to_numpy(dtype=float), [str(c) for c in X.columns]
    x_arr = np.asarray(X, dtype=float)
    if x_arr.ndim == 1:
        x_arr = x_arr[:, None]
    return x_arr, [f"x{i}" for i in range(x_arr.shape[1])]


def _param_position(param_index: int | str, names: list[str], k: int) -> int:
    """Column position of the tested coefficient."""
    if isinstance(param_index, str):
        if param_index not in names:
            raise WildBootstrapError(f"param_index {param_index!r} is not a column of X")
        return names.index(param_index)
    j = int(param_index)
    if not 0 <= j < k:
        raise WildBootstrapError(f"param_index {param_index} out of range (k = {k})")
    return j


def _checked_inputs(y: Any, weights: Any, x_arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and weights as float vectors, checked against ``X``."""
    n = x_arr.shape[0]
    y_arr = np.asarray(y, dtype=float).reshape(-1)
    if len(y_arr) != n:
        raise WildBootstrapError("y and X have different numbers of rows")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if len(w) != n or np.any(~np.isfinite(w)) or np.any(w < 0):
        raise WildBootstrapError("weights must be finite, non-negative, one per row")
    if not (np.all(np.isfinite(y_arr)) and np.all(np.isfinite(x_arr))):
        raise WildBootstrapError("y and X must be finite (drop incomplete rows first)")
    return y_arr, w


def _cluster_codes(clusters: Any, n: int) -> tuple[np.ndarray, int]:
    """Cluster codes ``0..G-1`` and G (at least two clusters)."""
    cl = _as_codes(clusters, n, "clusters")
    n_clusters = int(cl.max()) + 1 if n else 0
    if n_clusters < 2:
        raise WildBootstrapError("the wild cluster bootstrap needs at least two clusters")
    return cl, n_clusters


def _draw_plan(
    n_clusters: int, reps: int, weight_type: WildWeightType, seed: int
) -> tuple[Iterator[np.ndarray], bool, int, int]:
    """The weight chunks, whether they enumerate every sign vector, the draws and chunk size."""
    chunk = max(1, min(_CHUNK, _CHUNK_ELEMENTS // n_clusters))
    chunks, full = _weight_chunks(
        n_clusters, reps=reps, weight_type=weight_type, seed=seed, chunk=chunk
    )
    n_draws = 2**n_clusters if full else reps
    return chunks, full, n_draws, chunk


def _fit_partialled(
    y_arr: np.ndarray,
    x_arr: np.ndarray,
    w: np.ndarray,
    cl: np.ndarray,
    codes: list[np.ndarray],
    j: int,
    name: str,
) -> _WeightedFit:
    """Partial out nested effects (FWL), add the others as dummies, and fit by WLS."""
    n, k = x_arr.shape
    n_clusters = int(cl.max()) + 1
    nested = [c for c in codes if is_nested(c, cl)]
    other = [c for c in codes if not is_nested(c, cl)]
    nuisance = [_dummies(c) for c in other]
    if other and not nested:
        nuisance.insert(0, np.ones((n, 1)))
    mat = np.column_stack([y_arr, x_arr, *nuisance])
    orig_norm = np.sqrt((w[:, None] * mat**2).sum(axis=0))
    if nested:
        mat = demean(mat, nested, w)
    mat *= np.sqrt(w)[:, None]
    yd, xd = mat[:, 0], mat[:, 1:]
    if np.linalg.norm(xd[:, j]) < 1e-4 * max(orig_norm[1 + j], 1e-300):
        raise WildBootstrapError(f"{name} is absorbed by the fixed effects")
    xtx = xd.T @ xd
    if np.linalg.cond(xtx) > 1e12:
        raise WildBootstrapError("the regressors are collinear (with the fixed effects)")
    a_inv = np.linalg.inv(xtx)
    a_inv = (a_inv + a_inv.T) / 2
    beta = a_inv @ (xd.T @ yd)
    u_hat = yd - xd @ beta
    n_k = k + absorbed_df(codes, cl) if codes else k
    if nested and not other:
        n_k += 1  # the constant swept out with the effects counts in K (Stata xtreg, fe)
    if n - n_k <= 0:
        raise WildBootstrapError("no residual degrees of freedom")
    return _WeightedFit(xd, a_inv, beta, u_hat, crv1_factor(n, n_k, n_clusters))


def _crv1_test(
    fit: _WeightedFit, cl: np.ndarray, n_clusters: int, j: int, null: float
) -> tuple[float, float, float]:
    """CRV1 standard error, t-statistic and t(G-1) p-value of ``beta_j = null``."""
    a_j = fit.a_inv[:, j]
    s_hat = group_sums(fit.xd * fit.u_hat[:, None], cl, n_clusters)  # (G, kk): X_g' u^_g
    meat = s_hat.T @ s_hat
    se = float(np.sqrt(fit.ssc * a_j @ meat @ a_j))
    t_stat = (float(fit.beta[j]) - null) / se
    p_crv1 = float(2 * stats.t.sf(abs(t_stat), n_clusters - 1))
    return se, t_stat, p_crv1


def _draw_moments(
    fit: _WeightedFit,
    cl: np.ndarray,
    n_clusters: int,
    j: int,
    draws: tuple[Iterator[np.ndarray], bool, int, int],
) -> _DrawMoments:
    """Reduce every draw to the cluster-level pieces of its t (Roodman et al. 2019)."""
    chunks, _full, n_draws, chunk = draws
    xd, a_inv, beta = fit.xd, fit.a_inv, fit.beta
    a_j = a_inv[:, j]
    # restricted residuals u~(b0) = u_a - b0 u_b (the restricted fit is linear in b0)
    h = xd @ a_j / a_j[j]
    s_a = group_sums(xd * (fit.u_hat + h * beta[j])[:, None], cl, n_clusters)
    s_b = group_sums(xd * h[:, None], cl, n_clusters)
    p_mat = group_sums(xd * (xd @ a_j)[:, None], cl, n_clusters)  # (G, kk): e_j' A X_g'X_g
    c_a, c_b = s_a @ a_j, s_b @ a_j
    sa_a, sb_a = s_a @ a_inv, s_b @ a_inv
    num_a, num_b = np.empty(n_draws), np.empty(n_draws)
    q_aa, q_ab, q_bb = np.empty(n_draws), np.empty(n_draws), np.empty(n_draws)
    constant = np.empty(n_draws, dtype=bool)
    for start, v in zip(range(0, n_draws, chunk), chunks, strict=True):
        sl = slice(start, start + len(v))
        # a constant weight vector (v = +-1: Rademacher; Webb rarely) reproduces |t| at every
        # null value exactly (y* - X b~ = c u~), so it is a tie by construction, not by rounding
        constant[sl] = np.ptp(v, axis=1) == 0
        num_a[sl], num_b[sl] = v @ c_a, v @ c_b
        z_a = v * c_a - (v @ sa_a) @ p_mat.T
        z_b = v * c_b - (v @ sb_a) @ p_mat.T
        q_aa[sl] = np.einsum("bg,bg->b", z_a, z_a)
        q_ab[sl] = np.einsum("bg,bg->b", z_a, z_b)
        q_bb[sl] = np.einsum("bg,bg->b", z_b, z_b)
    return _DrawMoments(num_a, num_b, q_aa, q_ab, q_bb, constant, fit.ssc)


def wild_cluster_bootstrap(
    y: Any,
    X: Any,
    clusters: Any,
    *,
    param_index: int | str,
    weights: Any = None,
    absorb: Any = None,
    reps: int,
    weight_type: WildWeightType,
    seed: int,
    null: float = 0.0,
    alpha: float = 0.05,
    conf_int: bool = True,
) -> WildBootstrapResult:
    """Restricted wild cluster bootstrap-t test (WCR) of one coefficient, with its CI.

    Parameters
    ----------
    y
        Outcome, length N.
    X
        Regressors (N, k), array or DataFrame. Include an intercept when ``absorb`` is None;
        leave it out when effects are absorbed.
    clusters
        Cluster labels, length N (the bootstrap clusters are the CRV1 clusters).
    param_index
        Column of ``X`` tested (position, or name when ``X`` is a DataFrame).
    weights
        Observation weights (None: OLS).
    absorb
        Fixed effects, one column of labels each (DataFrame or array), or None.
    reps
        Bootstrap draws (e.g. 9999); fewer are used under full enumeration (2^G).
    weight_type
        ``rademacher`` or ``webb``.
    seed
        Seed of the draws (unused under full enumeration).
    null
        Value of the coefficient under the null.
    alpha
        1 - level of the confidence interval.
    conf_int
        Invert the test for the confidence interval (False: ``conf_low``/``conf_high`` are NaN;
        saves the inversion's few hundred O(B) evaluations, e.g. in simulations).

    Returns
    -------
    WildBootstrapResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(8), 25)
    >>> x = rng.normal(size=200) + rng.normal(size=8)[g]
    >>> y = 0.5 * x + rng.normal(size=8)[g] + rng.normal(size=200)
    >>> X = np.column_stack([x, np.ones(200)])
    >>> res = wild_cluster_bootstrap(y, X, g, param_index=0, reps=9999,
    ...                              weight_type="rademacher", seed=1)
    >>> res.reps, res.full_enumeration, res.p_value >= 2 / 256
    (256, True, True)
    """
    x_arr, names = _regressor_matrix(X)
    n, k = x_arr.shape
    j = _param_position(param_index, names, k)
    y_arr, w = _checked_inputs(y, weights, x_arr)
    cl, n_clusters = _cluster_codes(clusters, n)
    # fixed effects: nested ones partialled out (FWL), the others as dummy columns
    fit = _fit_partialled(y_arr, x_arr, w, cl, _absorb_codes(absorb, n), j, names[j])
    se, t_stat, p_crv1 = _crv1_test(fit, cl, n_clusters, j, null)
    draws = _draw_plan(n_clusters, reps, weight_type, seed)
    _, full, n_draws, _ = draws
    moments = _draw_moments(fit, cl, n_clusters, j, draws)
    estimate = float(fit.beta[j])
    p_at = _PValue(moments, estimate, se, n_draws)
    t_null = moments.t_boot(null)
    p_value = p_at(null)
    low, high = _invert(p_at, estimate, se, alpha) if conf_int else (np.nan, np.nan)
    return WildBootstrapResult(
        term=names[j],
        estimate=estimate,
        std_error=se,
        statistic=t_stat,
        p_value=p_value,
        p_value_crv1=p_crv1,
        conf_low=low,
        conf_high=high,
        null=float(null),
        alpha=float(alpha),
        reps=int(n_draws),
        n_clusters=n_clusters,
        n_obs=n,
        weight_type=weight_type,
        full_enumeration=full,
        bootstrap_statistics=t_null,
    )


def bootstrap_spec(
    data: pd.DataFrame,
    spec: ModelSpec,
    *,
    cluster: str | None = None,
    reps: int,
    weight_type: WildWeightType,
    seed: int,
    alpha: float = 0.05,
    conf_int: bool = True,
) -> WildBootstrapResult:
    """Wild cluster bootstrap test of a ``fixed_effects`` spec's exposure effect (H0: 0).

    Same sample, regressors, weights and absorbed effects as
    :func:`~ctip_research.models.econometric.fit_fixed_effects`, so the estimate is the
    model's; ``cluster`` replaces the spec's cluster column (None: keep it).

    Examples
    --------
    >>> from ctip_research.models.simulate import simulate_households
    >>> from ctip_research.config.fit import ModelSpec
    >>> df = simulate_households(n_villages=40, households_per_village=10, seed=1)
    >>> spec = ModelSpec(name="fe", kind="fixed_effects", label="FE",
    ...     outcome="has_international_migrant", exposure="has_mfi_loan", controls=[],
    ...     fixed_effects=["province_code"], cluster="psu_id", weights="weight_household",
    ...     wave=1, sample=None, instruments=[], link=None, headline=False)
    >>> res = bootstrap_spec(df, spec, cluster="province_code", reps=999,
    ...                      weight_type="webb", seed=1)
    >>> res.term, res.n_clusters <= 8
    ('has_mfi_loan', True)
    """
    if spec.kind != "fixed_effects":
        raise WildBootstrapError(
            f"model {spec.name}: the wild bootstrap is implemented for kind fixed_effects "
            f"(linear models with absorbed effects), not {spec.kind}"
        )
    cl = cluster or spec.cluster
    if cl is None:
        raise WildBootstrapError(f"model {spec.name}: the wild cluster bootstrap needs a cluster")
    df = select_sample(data, spec, extra=[cl])
    x = regressor_frame(df, [spec.exposure, *spec.controls])
    if not spec.fixed_effects:
        x = x.assign(const=1.0)
    return wild_cluster_bootstrap(
        df[spec.outcome].astype(float).to_numpy(),
        x,
        df[cl].to_numpy(),
        param_index=spec.exposure if spec.exposure in x.columns else 0,
        weights=df[spec.weights].astype(float).to_numpy() if spec.weights else None,
        absorb=df[list(spec.fixed_effects)] if spec.fixed_effects else None,
        reps=reps,
        weight_type=weight_type,
        seed=seed,
        alpha=alpha,
        conf_int=conf_int,
    )


def _invert(
    p_at: Callable[[float], float], estimate: float, se: float, alpha: float
) -> tuple[float, float]:
    """Hull of ``{b0: p(b0) > alpha}`` around the estimate: grid, then bisection per side."""
    bounds = []
    for side in (-1.0, 1.0):
        # bracket: the first multiple of se (1, 2, 4, ...) where H0 is rejected
        reach = None
        for power in range(_MAX_REACH + 1):
            m = float(2**power)
            if p_at(estimate + side * m * se) <= alpha:
                reach = m
                break
        if reach is None:
            bounds.append(side * np.inf)
            continue
        grid = np.linspace(0.0, reach, 257)
        accepted = np.array([p_at(estimate + side * g * se) > alpha for g in grid])
        last = int(np.flatnonzero(accepted).max())
        lo, hi = grid[last], grid[last + 1]  # accepted at lo, rejected at hi
        for _ in range(200):  # to 1e-9 se (relative beyond 1 se); float spacing ends it too
            mid = (lo + hi) / 2
            if hi - lo <= 1e-9 * max(1.0, lo) or not lo < mid < hi:
                break
            if p_at(estimate + side * mid * se) > alpha:
                lo = mid
            else:
                hi = mid
        bounds.append(estimate + side * (lo + hi) / 2 * se)
    return float(bounds[0]), float(bounds[1])
