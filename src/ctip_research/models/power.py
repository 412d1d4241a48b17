"""Power, minimum detectable effects and Monte Carlo summaries for the survey design.

Two planning questions for the next survey round, answered with the analytic design-effect formula
(Bloom 1995; Duflo, Glennerster & Kremer 2007, "Using randomization in development economics
research: a toolkit", section 4, eq. 11-12), calibrated on the synthetic design:

- :func:`minimum_detectable_effect`: the smallest true effect of a binary exposure (MFI loan)
  detected with power ``1 - kappa`` in a two-sided test of size ``alpha``:

  ``MDE = (t_{1-kappa} + t_{alpha/2}) * sqrt(1 / (P (1 - P))) * sqrt(sigma^2 / N) * sqrt(deff)``,
  ``deff = (1 + (m - 1) * rho) * deff_w``,

  with ``P`` the exposed share, ``sigma^2`` the outcome variance, ``N`` households, ``m``
  households per village (PSU) and ``rho`` the intra-cluster correlation relevant to the estimate
  (for an exposure that varies within villages, the Moulton factor ``rho = rho_x * rho_y``; for a
  village-level instrument ``rho = rho_y``). ``t`` quantiles use ``villages - 2`` degrees of
  freedom (clustered inference). For 2SLS the variance is that of OLS divided by the first-stage
  partial R-squared, so the MDE is divided by ``sqrt(r2_first_stage)``. ``deff_w = 1 + cv(w)^2`` is
  Kish's effect of unequal weights (1 when unweighted).
- :func:`power_at_effect`: the power for a given true effect (the inverse relation).
- :func:`calibrate_design`: the inputs (P, sigma^2, rho_x, rho_y, first-stage R-squared) measured
  on a household-wave table (the synthetic survey).

Monte Carlo draws of the estimators are summarised by
:func:`ctip_research.models.validation.summarise_draws` (``ctip monte-carlo``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "DesignCalibration",
    "calibrate_design",
    "design_effect",
    "icc_anova",
    "minimum_detectable_effect",
    "power_at_effect",
    "power_table",
]


def design_effect(households_per_village: float, rho: float) -> float:
    """Kish design effect of cluster sampling, ``1 + (m - 1) * rho``.

    Examples
    --------
    >>> round(design_effect(20, 0.05), 6)
    1.95
    """
    if households_per_village < 1:
        raise ValueError("households_per_village must be at least 1")
    if not 0 <= rho <= 1:
        raise ValueError("rho must lie in [0, 1]")
    return float(1.0 + (households_per_village - 1.0) * rho)


def _multiplier(dof: float, *, alpha: float, power: float) -> float:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must lie in (0, 1)")
    if np.isinf(dof):
        return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    return float(stats.t.ppf(1 - alpha / 2, dof) + stats.t.ppf(power, dof))


def _standard_error(
    n_villages: int,
    households_per_village: int,
    *,
    share_exposed: float,
    outcome_variance: float,
    rho: float,
    r2_first_stage: float,
    exposure_variance: float | None = None,
    weighting_effect: float = 1.0,
) -> float:
    if n_villages < 3:
        raise ValueError("at least 3 villages are needed (t with villages - 2 df)")
    if not 0 < share_exposed < 1:
        raise ValueError("share_exposed must lie in (0, 1)")
    if outcome_variance <= 0:
        raise ValueError("outcome_variance must be positive")
    if not 0 < r2_first_stage <= 1:
        raise ValueError("r2_first_stage must lie in (0, 1]")
    n = n_villages * households_per_village
    deff = design_effect(households_per_village, rho)
    var_x = (
        share_exposed * (1.0 - share_exposed) if exposure_variance is None else exposure_variance
    )
    if var_x <= 0:
        raise ValueError("exposure_variance must be positive")
    if weighting_effect < 1 - 1e-9:
        raise ValueError("weighting_effect (Kish 1 + cv^2) is at least 1")
    return float(
        np.sqrt(1.0 / var_x)
        * np.sqrt(outcome_variance / n)
        * np.sqrt(deff * weighting_effect)
        / np.sqrt(r2_first_stage)
    )


def minimum_detectable_effect(
    n_villages: int,
    households_per_village: int,
    *,
    share_exposed: float,
    outcome_variance: float,
    rho: float,
    alpha: float = 0.05,
    power: float = 0.80,
    r2_first_stage: float = 1.0,
    exposure_variance: float | None = None,
    weighting_effect: float = 1.0,
    dof: float | None = None,
) -> float:
    """Minimum detectable effect (two-sided test) under cluster sampling.

    Parameters
    ----------
    n_villages, households_per_village
        Number of PSUs and households interviewed in each.
    share_exposed
        ``P``, the share of households with the exposure.
    outcome_variance
        ``sigma^2`` of the outcome (``p (1 - p)`` for a 0/1 outcome).
    rho
        Intra-cluster correlation entering the design effect ``1 + (m - 1) rho``.
    alpha, power
        Size of the two-sided test and the target power ``1 - kappa``.
    r2_first_stage
        Partial R-squared of the instrument(s) in the first stage (1 = OLS).
    exposure_variance
        Variance of the exposure after the fixed effects; default ``P (1 - P)``.
    weighting_effect
        Kish's design effect of unequal weights, ``1 + cv(w)^2`` (multiplies ``deff``).
    dof
        Degrees of freedom of the t quantiles; default ``n_villages - 2``; ``inf`` for normal.

    Examples
    --------
    Duflo, Glennerster & Kremer (2007, section 4.1): with ``P = 0.5``, ``sigma = 1``, no
    clustering and normal quantiles, the MDE is ``2.8 / sqrt(N P (1-P))`` standard deviations:

    >>> round(minimum_detectable_effect(1000, 1, share_exposed=0.5, outcome_variance=1.0,
    ...                                 rho=0.0, dof=float("inf")), 4)
    0.1772
    """
    se = _standard_error(
        n_villages,
        households_per_village,
        share_exposed=share_exposed,
        outcome_variance=outcome_variance,
        rho=rho,
        r2_first_stage=r2_first_stage,
        exposure_variance=exposure_variance,
        weighting_effect=weighting_effect,
    )
    d = float(n_villages - 2) if dof is None else dof
    return _multiplier(d, alpha=alpha, power=power) * se


def power_at_effect(
    effect: float,
    n_villages: int,
    households_per_village: int,
    *,
    share_exposed: float,
    outcome_variance: float,
    rho: float,
    alpha: float = 0.05,
    r2_first_stage: float = 1.0,
    exposure_variance: float | None = None,
    weighting_effect: float = 1.0,
    dof: float | None = None,
) -> float:
    """Power of the two-sided test of size ``alpha`` when the true effect is ``effect``.

    ``power = F_t(|effect| / se - t_{alpha/2}) + F_t(-|effect| / se - t_{alpha/2})``.

    Examples
    --------
    >>> mde = minimum_detectable_effect(200, 18, share_exposed=0.4, outcome_variance=0.2,
    ...                                 rho=0.02)
    >>> round(power_at_effect(mde, 200, 18, share_exposed=0.4, outcome_variance=0.2, rho=0.02), 2)
    0.8
    """
    se = _standard_error(
        n_villages,
        households_per_village,
        share_exposed=share_exposed,
        outcome_variance=outcome_variance,
        rho=rho,
        r2_first_stage=r2_first_stage,
        exposure_variance=exposure_variance,
        weighting_effect=weighting_effect,
    )
    d = float(n_villages - 2) if dof is None else dof
    dist = stats.norm if np.isinf(d) else stats.t(d)
    crit = float(dist.ppf(1 - alpha / 2))
    z = abs(effect) / se
    return float(dist.cdf(z - crit) + dist.cdf(-z - crit))


def icc_anova(values: pd.Series | np.ndarray, groups: pd.Series | np.ndarray) -> float:
    """One-way ANOVA estimator of the intra-cluster correlation (unbalanced clusters).

    ``rho = (MSB - MSW) / (MSB + (m0 - 1) MSW)`` with ``m0 = (N - sum n_g^2 / N) / (G - 1)``
    (Donner 1986); truncated at 0.

    Examples
    --------
    >>> icc_anova([1.0, 1.0, 0.0, 0.0], ["a", "a", "b", "b"])
    1.0
    """
    frame = pd.DataFrame({"y": np.asarray(values, dtype=float), "g": np.asarray(groups)}).dropna()
    n = len(frame)
    grouped = frame.groupby("g", sort=False)["y"]
    n_g = grouped.size().to_numpy(dtype=float)
    n_groups = len(n_g)
    if n_groups < 2 or n <= n_groups:
        raise ValueError("need at least two clusters and more observations than clusters")
    mean_g = grouped.mean().to_numpy()
    grand = frame["y"].mean()
    ssb = float(np.sum(n_g * (mean_g - grand) ** 2))
    ssw = float(((frame["y"] - grouped.transform("mean")) ** 2).sum())
    msb = ssb / (n_groups - 1)
    msw = ssw / (n - n_groups)
    m0 = (n - float(np.sum(n_g**2)) / n) / (n_groups - 1)
    denom = msb + (m0 - 1.0) * msw
    if denom <= 0:
        return 0.0
    return float(min(max((msb - msw) / denom, 0.0), 1.0))


@dataclass(frozen=True)
class DesignCalibration:
    """Inputs of the MDE formula measured on one household-wave table.

    ``exposure_variance`` and ``outcome_variance`` are within the absorbed groups (e.g.
    provinces) when :func:`calibrate_design` is given ``absorb``; the intra-cluster correlations
    are measured on the same within-group values.
    """

    share_exposed: float
    exposure_variance: float
    outcome_mean: float
    outcome_variance: float
    icc_exposure: float
    icc_outcome: float
    r2_first_stage: float
    households_per_village: float
    n_villages: int
    weighting_effect: float = 1.0

    @property
    def rho_ols(self) -> float:
        """Moulton intra-cluster correlation for a within-village exposure: ``rho_x * rho_y``."""
        return self.icc_exposure * self.icc_outcome

    def to_dict(self) -> dict[str, float]:
        """Plain mapping (JSON-serialisable), including ``rho_ols``."""
        out = {k: float(v) for k, v in asdict(self).items()}
        out["rho_ols"] = self.rho_ols
        return out


def _within(values: pd.Series, groups: pd.Series | None) -> pd.Series:
    if groups is None:
        return values - values.mean()
    return values - values.groupby(groups, sort=False).transform("mean")


def calibrate_design(
    data: pd.DataFrame,
    *,
    outcome: str,
    exposure: str,
    psu: str,
    instrument: str | None = None,
    absorb: str | None = None,
    weight: str | None = None,
) -> DesignCalibration:
    """Measure the MDE inputs on a household-level table (one wave).

    With ``absorb`` (e.g. the province), outcome, exposure and instrument are first demeaned
    within its groups, as the fixed-effects and 2SLS specifications do; the first-stage
    R-squared is then the partial R-squared of the (village-level) instrument. With ``weight``,
    Kish's weighting effect ``n sum(w^2) / sum(w)^2`` is measured too (weighted estimators).

    Examples
    --------
    >>> from ctip_research.models.simulate import simulate_households
    >>> df = simulate_households(n_villages=60, households_per_village=10, seed=3)
    >>> cal = calibrate_design(df[df["wave"] == 1], outcome="has_international_migrant",
    ...                        exposure="has_mfi_loan", psu="psu_id",
    ...                        instrument="mfi_branches_per_1000hh", absorb="province_code")
    >>> 0 < cal.share_exposed < 1 and 0 < cal.r2_first_stage < 1
    True
    """
    extra = (c for c in (instrument, absorb, weight) if c)
    cols = list(dict.fromkeys([outcome, exposure, psu, *extra]))
    frame = data.loc[:, cols].dropna()
    groups = frame[absorb] if absorb else None
    y = _within(frame[outcome].astype(float), groups)
    x = _within(frame[exposure].astype(float), groups)
    r2 = 1.0
    if instrument:
        z = _within(frame[instrument].astype(float), groups)
        r = float(np.corrcoef(x, z)[0, 1]) if z.std() > 0 else 0.0
        r2 = r * r
    sizes = frame.groupby(psu, sort=False).size()
    w_eff = 1.0
    if weight:
        w = frame[weight].astype(float).to_numpy()
        w_eff = float(len(w) * np.sum(w**2) / np.sum(w) ** 2)
    return DesignCalibration(
        share_exposed=float(frame[exposure].astype(float).mean()),
        exposure_variance=float(x.var(ddof=1)),
        outcome_mean=float(frame[outcome].astype(float).mean()),
        outcome_variance=float(y.var(ddof=1)),
        icc_exposure=icc_anova(x, frame[psu]),
        icc_outcome=icc_anova(y, frame[psu]),
        r2_first_stage=float(r2),
        households_per_village=float(sizes.mean()),
        n_villages=int(len(sizes)),
        weighting_effect=w_eff,
    )


def power_table(
    calibration: DesignCalibration,
    *,
    villages: list[int],
    households_per_village: list[int],
    effect: float,
    alpha: float = 0.05,
    power: float = 0.80,
) -> pd.DataFrame:
    """MDE and power over a grid of villages x households per village, for OLS and 2SLS.

    Returns
    -------
    DataFrame
        ``estimator, n_villages, households_per_village, n_households, rho, design_effect,
        mde, power_at_effect`` (one row per estimator and grid point).

    Examples
    --------
    >>> cal = DesignCalibration(0.4, 0.24, 0.25, 0.19, 0.1, 0.1, 0.05, 18.0, 400)
    >>> t = power_table(cal, villages=[100, 200], households_per_village=[10], effect=0.09)
    >>> t.groupby("estimator")["power_at_effect"].is_monotonic_increasing.all()
    np.True_
    """
    rows = []
    for estimator, rho, r2 in (
        ("ols_village_clustered", calibration.rho_ols, 1.0),
        ("iv_2sls", calibration.icc_outcome, calibration.r2_first_stage),
    ):
        for g in villages:
            for m in households_per_village:
                common = {
                    "share_exposed": calibration.share_exposed,
                    "exposure_variance": calibration.exposure_variance,
                    "weighting_effect": calibration.weighting_effect,
                    "outcome_variance": calibration.outcome_variance,
                    "rho": rho,
                    "alpha": alpha,
                    "r2_first_stage": r2,
                }
                rows.append(
                    {
                        "estimator": estimator,
                        "n_villages": g,
                        "households_per_village": m,
                        "n_households": g * m,
                        "rho": rho,
                        "design_effect": design_effect(m, rho) * calibration.weighting_effect,
                        "mde": minimum_detectable_effect(g, m, power=power, **common),
                        "power_at_effect": power_at_effect(effect, g, m, **common),
                    }
                )
    return pd.DataFrame(rows)
