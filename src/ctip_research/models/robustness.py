"""Robustness (model 7): alternative debt measures and multiple-testing adjustments.

* :func:`adjust_pvalues`: Bonferroni, Holm and Benjamini-Hochberg (statsmodels ``multipletests``).
* :func:`romano_wolf`: Romano & Wolf (2005) step-down adjusted p-values, from a cluster multiplier
  (wild score) bootstrap that draws one Rademacher weight per cluster and applies it to every
  outcome at once, so the dependence between the outcomes' estimates is kept (as in Clarke,
  Romano & Wolf 2020, Stata ``rwolf2``, with a score instead of a pairs bootstrap).
* :func:`spec_variants`: the base spec refitted for every (outcome, exposure) pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ctip_research.estimation.kernels import cluster_adjustment, demean
from ctip_research.models.econometric import regressor_frame
from ctip_research.models.specs import ModelSpec, SpecError, select_sample

__all__ = ["adjust_pvalues", "exposure_influence", "romano_wolf", "spec_variants"]


def adjust_pvalues(pvalues: Sequence[float], method: str) -> np.ndarray:
    """Adjust a family of p-values: ``bonferroni``, ``holm`` or ``bh`` (Benjamini-Hochberg FDR).

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    from statsmodels.stats.multitest import multipletests

    name = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh"}.get(method)
    if name is None:
        raise ValueError(f"unknown adjustment {method!r}")
    return np.asarray(multipletests(np.asarray(pvalues, float), method=name)[1])


def spec_variants(base: ModelSpec, *, outcomes: list[str], exposures: list[str]) -> list[ModelSpec]:
    """The base spec with every (exposure, outcome) pair; names ``<base>__<exposure>__<outcome>``."""
    return [
        base.model_copy(
            update={
                "name": f"{base.name}__{e}__{o}",
                "outcome": o,
                "exposure": e,
                "headline": False,
            }
        )
        for e in exposures
        for o in outcomes
    ]


def exposure_influence(data: pd.DataFrame, spec: ModelSpec) -> tuple[float, pd.Series]:
    """Exposure coefficient and its per-cluster influence sums, for a linear spec.

    Kinds ``fixed_effects`` (effects ``spec.fixed_effects``) and ``panel`` (household and wave
    effects, households observed in every wave). Returns ``(beta, psi)`` where ``psi`` is indexed by
    cluster and ``beta_hat - beta ~ sum_g psi_g``; ``sqrt(sum psi_g²)`` is the CRV0 standard error.
    """
    if spec.kind not in ("fixed_effects", "panel"):
        raise SpecError(f"Romano-Wolf needs a linear base model, not kind {spec.kind}")
    if not spec.cluster:
        raise SpecError("Romano-Wolf here resamples clusters: the base model needs a cluster")
    extra = ["household_id", "wave"] if spec.kind == "panel" else []
    df = select_sample(data, spec, extra=extra)
    fes = list(spec.fixed_effects)
    if spec.kind == "panel":
        n_w = df["wave"].nunique()
        df = df.loc[df.groupby("household_id")["wave"].transform("nunique") == n_w]
        df = df.reset_index(drop=True)
        fes = ["household_id", "wave"]
    y = df[spec.outcome].astype(float).to_numpy()[:, None]
    x = regressor_frame(df, [spec.exposure, *spec.controls]).to_numpy()
    w = df[spec.weights].astype(float).to_numpy() if spec.weights else np.ones(len(df))
    if fes:
        groups = [pd.factorize(df[c])[0] for c in fes]
        yx = demean(np.hstack([y, x]), groups, w)
        y, x = yx[:, :1], yx[:, 1:]
        keep = np.abs(x).max(axis=0) > 1e-8
        x = x[:, keep]
    else:
        x = np.hstack([x, np.ones((len(df), 1))])
    xtwx_inv = np.linalg.pinv(x.T @ (x * w[:, None]))
    beta = xtwx_inv @ (x.T @ (w * y[:, 0]))
    e = y[:, 0] - x @ beta
    contrib = (x * (w * e)[:, None]) @ xtwx_inv[0]
    psi = pd.Series(contrib).groupby(df[spec.cluster].to_numpy()).sum()
    return float(beta[0]), psi


def romano_wolf(
    data: pd.DataFrame,
    specs: list[ModelSpec],
    *,
    reps: int,
    seed: int,
) -> pd.DataFrame:
    """Romano-Wolf step-down adjusted p-values for the exposure effect across ``specs``.

    Parameters
    ----------
    data
        Analysis table shared by the specs.
    specs
        The family of hypotheses (one exposure effect per spec), all clustered on the same column.
    reps
        Bootstrap draws.
    seed
        Seed of the Rademacher weights (numpy Generator).

    Returns
    -------
    DataFrame
        ``model, estimate, t_stat, p_value_rw`` (the t statistic uses CRV0 errors).

    Examples
    --------
    >>> from ctip_research.models.simulate import simulate_households
    >>> from ctip_research.config.fit import ModelSpec
    >>> df = simulate_households(n_villages=30, households_per_village=6, seed=1)
    >>> base = ModelSpec(name="b", kind="fixed_effects", label="b", outcome="has_risky_migration",
    ...     exposure="has_mfi_loan", controls=[], fixed_effects=[], cluster="psu_id",
    ...     weights=None, wave=1, sample=None, instruments=[], link=None, headline=False)
    >>> out = romano_wolf(df, [base], reps=199, seed=1)
    >>> bool((out["p_value_rw"] >= 0).all())
    True
    """
    betas, psis = [], []
    for spec in specs:
        b, psi = exposure_influence(data, spec)
        betas.append(b)
        psis.append(psi)
    psi_mat = pd.concat(psis, axis=1).fillna(0.0).sort_index()
    g = len(psi_mat)
    psi_arr = psi_mat.to_numpy() * np.sqrt(cluster_adjustment(g))
    se = np.sqrt((psi_arr**2).sum(axis=0))
    t = np.asarray(betas) / se
    rng = np.random.default_rng(seed)
    xi = rng.choice([-1.0, 1.0], size=(reps, g))
    t_star = np.abs(xi @ psi_arr) / se  # (reps, k), centred at the null by construction
    order = np.argsort(-np.abs(t))
    p_adj = np.empty(len(t))
    running = 0.0
    for step, j in enumerate(order):
        remaining = order[step:]
        max_star = t_star[:, remaining].max(axis=1)
        p = (1 + np.sum(max_star >= abs(t[j]))) / (reps + 1)
        running = max(running, p)
        p_adj[j] = running
    return pd.DataFrame(
        {"model": [s.name for s in specs], "estimate": betas, "t_stat": t, "p_value_rw": p_adj}
    )
