"""Delete-one-PSU jackknife (JK1 without strata, JKn with strata), with the FPC.

Replicate ``r`` deletes PSU ``j`` of stratum ``h``: its rows get weight 0, the other PSUs of the
stratum are scaled by ``n_h / (n_h - 1)``, other strata are unchanged. The variance is R
``survey``'s (``as.svrepdesign(design, type="JK1"/"JKn")`` then ``svrVar`` with
``mse = FALSE``)::

    V = sum_r (1 - f_h) * (n_h - 1) / n_h * (theta_r - mean(theta))^2

For a statistic that is a smooth function of population totals (means, totals, ratios,
proportions, domain versions of them) the replicate totals follow from the PSU totals without
building replicate weights: ``S_r = S + S_h / (n_h - 1) - n_h / (n_h - 1) * t_hj``. GLMs are refitted
on replicate weights (:func:`replicate_weight_factors`).

Lonely PSUs: a stratum with one PSU yields no replicate. Under ``certainty`` / ``remove`` it adds
nothing to the variance; ``adjust`` has no jackknife analogue and raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ctip_research.errors import SurveyDesignError
from ctip_research.estimation.kernels import group_sums
from ctip_research.survey._engine import DesignArrays, FloatArray, psu_totals


def _check_lonely(design: DesignArrays) -> None:
    if design.lonely_psu == "adjust" and np.any(design.n_psu_stratum == 1):
        raise SurveyDesignError(
            "lonely_psu='adjust' has no jackknife analogue; use 'certainty' or 'remove' with "
            "variance='jackknife', or Taylor linearisation"
        )


def replicate_scales(design: DesignArrays) -> FloatArray:
    """``(1 - f_h) (n_h - 1) / n_h`` of every PSU's replicate (0 for a lonely PSU), shape ``(P,)``."""
    n_h = design.n_psu_stratum[design.psu_stratum].astype(np.float64)
    fpc = design.fpc_factor[design.psu_stratum]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_h > 1, (n_h - 1.0) / n_h * fpc, 0.0)


def replicate_totals(design: DesignArrays, z: FloatArray) -> FloatArray:
    """Totals of the columns of ``z`` under every replicate weight: ``(P, k)`` (rows = PSUs).

    Rows of lonely PSUs hold the full-sample totals (their replicate is skipped).
    """
    _check_lonely(design)
    t = psu_totals(design, z)
    full = t.sum(axis=0)
    h = design.psu_stratum
    sums = group_sums(t, h, design.n_strata)
    n_h = design.n_psu_stratum[h].astype(np.float64)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rep = full[None, :] + sums[h] / (n_h - 1.0) - n_h / (n_h - 1.0) * t
    rep[(n_h == 1).ravel()] = full
    return rep


def jackknife_vcov(
    design: DesignArrays, thetas: FloatArray, *, centre: FloatArray | None = None
) -> FloatArray:
    """Jackknife covariance from replicate estimates ``thetas`` of shape ``(P, m)``.

    Centred at the mean of the replicates that exist (R ``mse = FALSE``, the default), or at
    ``centre`` (the full-sample estimate: R ``mse = TRUE``).
    """
    th = thetas.reshape(design.n_psu, -1)
    scales = replicate_scales(design)
    used = scales > 0
    if not used.any():
        return np.zeros((th.shape[1], th.shape[1]))
    if centre is None:
        centre = th[used].mean(axis=0)
    dev = th - centre
    dev[~used] = 0.0
    v: FloatArray = (dev * scales[:, None]).T @ dev
    return v


def jackknife_ratio_se(
    design: DesignArrays, num: FloatArray, den: FloatArray | None
) -> tuple[float, float]:
    """Point estimate and jackknife SE of ``sum(num) / sum(den)`` (or ``sum(num)`` if no ``den``)."""
    if den is None:
        rep = replicate_totals(design, num)[:, 0]
        theta = float(num.sum())
    else:
        both = replicate_totals(design, np.column_stack([num, den]))
        with np.errstate(divide="ignore", invalid="ignore"):
            rep = both[:, 0] / both[:, 1]
        theta = float(num.sum() / den.sum())
    v = jackknife_vcov(design, rep[:, None])
    return theta, float(np.sqrt(v[0, 0]))


def replicate_weight_factors(design: DesignArrays) -> Iterator[tuple[int, FloatArray]]:
    """Yield ``(psu, factor)`` for every jackknife replicate; ``weights * factor`` is its weight.

    Lonely PSUs are skipped (their replicate scale is 0).
    """
    _check_lonely(design)
    n_h = design.n_psu_stratum.astype(np.float64)
    for p in range(design.n_psu):
        h = int(design.psu_stratum[p])
        if design.n_psu_stratum[h] < 2:
            continue
        factor = np.where(design.stratum == h, n_h[h] / (n_h[h] - 1.0), 1.0)
        factor[design.psu == p] = 0.0
        yield p, factor


def jackknife_refit(
    design: DesignArrays, fit: Callable[[FloatArray], FloatArray], full: FloatArray
) -> FloatArray:
    """Jackknife covariance of a vector statistic refitted on every replicate weight.

    ``fit(weights)`` returns the statistic; ``full`` is its full-sample value (used for lonely PSUs,
    whose replicate is skipped).
    """
    thetas = np.tile(full, (design.n_psu, 1))
    for p, factor in replicate_weight_factors(design):
        thetas[p] = fit(design.weights * factor)
    return jackknife_vcov(design, thetas)
