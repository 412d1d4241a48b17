"""Weighted ranking metrics of a risk score: ROC-AUC, PR-AUC, Brier score, the targeting curve
(share of the risky households reached when the top ``k`` are served) and the reliability curve.

Every metric takes the survey weights, so it estimates the population quantity (scikit-learn's
cross-validation scoring ignores sample weights, scikit-learn GitHub issues/4632): ROC-AUC is the weighted
Mann-Whitney statistic, PR-AUC the weighted average precision (as sklearn's
``average_precision_score(sample_weight=...)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "HEADLINE_METRICS",
    "METRICS",
    "SUBGROUP_METRICS",
    "reliability_curve",
    "served_fraction",
    "share_reached",
    "targeting_curve",
    "weighted_average_precision",
    "weighted_brier",
    "weighted_roc_auc",
]

#: Metrics computed overall, per subgroup cell and in every bootstrap replicate.
METRICS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "brier",
    "prevalence",
    "mean_predicted",
    "top_share_reached",
    "top_share_lift",
    "top_share_precision",
    "top_share_reached_overall_rule",
)

#: The overall metrics of ``metrics.json``, with intervals (the rest are in the tidy CSV).
HEADLINE_METRICS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "brier",
    "prevalence",
    "top_share_reached",
    "top_share_lift",
)
#: The subgroup metrics of ``metrics.json`` (point estimates; intervals in the tidy CSV).
SUBGROUP_METRICS: tuple[str, ...] = (
    "roc_auc",
    "brier",
    "prevalence",
    "top_share_reached",
    "top_share_reached_overall_rule",
)

FloatArray = np.ndarray


def _arrays(
    y: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
    weight: Sequence[float] | np.ndarray | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    y_arr = np.asarray(y, dtype=np.float64)
    s_arr = np.asarray(score, dtype=np.float64)
    w_arr = np.ones_like(s_arr) if weight is None else np.asarray(weight, dtype=np.float64)
    if not (y_arr.shape == s_arr.shape == w_arr.shape) or y_arr.ndim != 1:
        raise ValueError("y, score and weight must be 1-d arrays of the same length")
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise ValueError("y must be binary (0/1)")
    if not np.isfinite(s_arr).all() or not np.isfinite(w_arr).all() or (w_arr < 0).any():
        raise ValueError("scores must be finite and weights finite and non-negative")
    return y_arr, s_arr, w_arr


def _rank_levels(score: FloatArray) -> tuple[np.ndarray, int]:
    """Dense ascending rank of each score (ties share a level) and the number of levels."""
    levels, inv = np.unique(score, return_inverse=True)
    return inv.astype(np.intp), int(levels.size)


@dataclass(frozen=True)
class _Ranked:
    """Weighted positive / negative mass per distinct score level (ascending)."""

    pos: FloatArray
    neg: FloatArray

    @classmethod
    def build(cls, inv: np.ndarray, n_levels: int, y: FloatArray, w: FloatArray) -> _Ranked:
        return cls(
            pos=np.bincount(inv, weights=w * y, minlength=n_levels),
            neg=np.bincount(inv, weights=w * (1.0 - y), minlength=n_levels),
        )

    def roc_auc(self) -> float:
        tot_p, tot_n = self.pos.sum(), self.neg.sum()
        if tot_p <= 0 or tot_n <= 0:
            return float("nan")
        neg_below = np.cumsum(self.neg) - self.neg
        return float(np.sum(self.pos * (neg_below + 0.5 * self.neg)) / (tot_p * tot_n))

    def average_precision(self) -> float:
        pos, neg = self.pos[::-1], self.neg[::-1]
        tot_p = pos.sum()
        if tot_p <= 0:
            return float("nan")
        tps, fps = np.cumsum(pos), np.cumsum(neg)
        hit = pos > 0
        return float(np.sum(tps[hit] / (tps[hit] + fps[hit]) * pos[hit]) / tot_p)

    def level_fraction(self, share: float) -> FloatArray:
        """Fraction of each level served when the top ``share`` of the weight is served."""
        mass = (self.pos + self.neg)[::-1]
        target = share * mass.sum()
        before = np.cumsum(mass) - mass
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(mass > 0, (target - before) / mass, 0.0)
        return np.clip(frac, 0.0, 1.0)[::-1]

    def reached_curve(self, shares: FloatArray) -> FloatArray:
        """Share of the positive weight reached when the top ``shares`` of the weight are served.

        The same rule as :meth:`level_fraction` (the tied level straddling the cut is served in
        part), in ``O(levels + shares log levels)``: cumulative positive and total weight by
        descending score, interpolated within the straddling level. NaN without positive weight.
        """
        mass = (self.pos + self.neg)[::-1]
        keep = mass > 0
        mass, pos = mass[keep], self.pos[::-1][keep]
        out = np.full(shares.shape, np.nan)
        if mass.size == 0:
            return out
        cum_mass, cum_pos = np.cumsum(mass), np.cumsum(pos)
        if cum_pos[-1] <= 0:
            return out
        target = shares * cum_mass[-1]
        k = np.minimum(np.searchsorted(cum_mass, target, side="left"), mass.size - 1)
        pos_before = np.concatenate(([0.0], cum_pos[:-1]))[k]
        mass_before = np.concatenate(([0.0], cum_mass[:-1]))[k]
        frac = np.clip((target - mass_before) / mass[k], 0.0, 1.0)
        # a level whose cumulative weight the cut reaches is served in full (exactly)
        reached = np.where(target >= cum_mass[k], cum_pos[k], pos_before + frac * pos[k])
        return np.asarray(reached / cum_pos[-1], dtype=np.float64)


def weighted_roc_auc(
    y: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
    weight: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Weighted ROC-AUC: the weighted share of (positive, negative) pairs ranked correctly.

    ``sum_i sum_j w_i w_j [s_i > s_j] + 0.5 [s_i = s_j]`` over positives ``i`` and negatives ``j``,
    divided by ``W_pos * W_neg``; equal to ``sklearn.metrics.roc_auc_score(sample_weight=w)``.
    NaN if a class has no weight.

    Examples
    --------
    >>> weighted_roc_auc([0, 1, 0, 1], [0.1, 0.4, 0.5, 0.8])
    0.75
    >>> weighted_roc_auc([0, 1, 0, 1], [0.1, 0.4, 0.5, 0.8], [1, 1, 3, 1])
    0.625
    """
    y_arr, s_arr, w_arr = _arrays(y, score, weight)
    inv, n_levels = _rank_levels(s_arr)
    return _Ranked.build(inv, n_levels, y_arr, w_arr).roc_auc()


def weighted_average_precision(
    y: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
    weight: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Weighted PR-AUC as average precision: ``sum_k (R_k - R_{k-1}) P_k`` over distinct scores.

    Same definition as ``sklearn.metrics.average_precision_score(sample_weight=w)``.

    Examples
    --------
    >>> round(weighted_average_precision([0, 1, 0, 1], [0.1, 0.4, 0.5, 0.8]), 4)
    0.8333
    """
    y_arr, s_arr, w_arr = _arrays(y, score, weight)
    inv, n_levels = _rank_levels(s_arr)
    return _Ranked.build(inv, n_levels, y_arr, w_arr).average_precision()


def weighted_brier(
    y: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
    weight: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Weighted Brier score ``sum w (p - y)^2 / sum w``.

    Examples
    --------
    >>> weighted_brier([0, 1], [0.2, 0.6], [3, 1])
    0.07
    """
    y_arr, s_arr, w_arr = _arrays(y, score, weight)
    return float(np.sum(w_arr * (s_arr - y_arr) ** 2) / w_arr.sum())


def served_fraction(
    score: Sequence[float] | np.ndarray,
    weight: Sequence[float] | np.ndarray | None,
    share: float,
) -> FloatArray:
    """Per household, the fraction served when the top ``share`` of the (weighted) households by
    score are served.

    Households above the cut are served (1), below it not (0); the tied group straddling the cut is
    served in part, which is the expectation under random tie-breaking. So a constant score serves
    everyone with probability ``share``.

    Examples
    --------
    >>> served_fraction([0.9, 0.5, 0.5, 0.1], None, 0.5).tolist()
    [1.0, 0.5, 0.5, 0.0]
    """
    s_arr = np.asarray(score, dtype=np.float64)
    w_arr = np.ones_like(s_arr) if weight is None else np.asarray(weight, dtype=np.float64)
    inv, n_levels = _rank_levels(s_arr)
    ranked = _Ranked.build(inv, n_levels, np.zeros_like(s_arr), w_arr)
    return ranked.level_fraction(share)[inv]


def share_reached(
    y: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
    weight: Sequence[float] | np.ndarray | None,
    share: float,
) -> float:
    """Share of the (weighted) positives reached when the top ``share`` of households are served.

    Random targeting reaches ``share`` in expectation; a perfect score reaches
    ``min(1, share / prevalence)``.

    Examples
    --------
    >>> share_reached([1, 0, 0, 0], [0.9, 0.2, 0.3, 0.1], None, 0.25)
    1.0
    """
    y_arr, s_arr, w_arr = _arrays(y, score, weight)
    frac = served_fraction(s_arr, w_arr, share)
    tot = np.sum(w_arr * y_arr)
    return float(np.sum(frac * w_arr * y_arr) / tot) if tot > 0 else float("nan")


def targeting_curve(
    y: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
    weight: Sequence[float] | np.ndarray | None,
    *,
    shares: Sequence[float],
) -> pd.DataFrame:
    """Targeting (cumulative gains) curve on a grid of shares served.

    Returns
    -------
    DataFrame
        ``share_served``, ``share_reached`` (model), ``share_reached_random`` (= share served),
        ``share_reached_perfect`` (``min(1, share / prevalence)``), ``precision`` (weighted risky
        share among those served), ``n_served`` and ``n_reached`` (unweighted households, for the
        minimum-cell check).

    Examples
    --------
    >>> c = targeting_curve([1, 0, 0, 0], [0.9, 0.2, 0.3, 0.1], None, shares=[0.25, 0.5])
    >>> c["share_reached"].tolist()
    [1.0, 1.0]
    """
    y_arr, s_arr, w_arr = _arrays(y, score, weight)
    tot_p = np.sum(w_arr * y_arr)
    prevalence = tot_p / w_arr.sum()
    inv, n_levels = _rank_levels(s_arr)
    # the same computation as the bootstrap replicates of the band (evaluate_classifier)
    reached_share = _Ranked.build(inv, n_levels, y_arr, w_arr).reached_curve(
        np.asarray(shares, dtype=np.float64)
    )
    rows = []
    for share, reached in zip(shares, reached_share, strict=True):
        frac = served_fraction(s_arr, w_arr, float(share))
        served_w = np.sum(frac * w_arr)
        reached_w = np.sum(frac * w_arr * y_arr)
        rows.append(
            {
                "share_served": float(share),
                "share_reached": float(reached),
                "share_reached_random": float(share),
                "share_reached_perfect": float(min(1.0, share / prevalence))
                if prevalence > 0
                else np.nan,
                "precision": float(reached_w / served_w) if served_w > 0 else np.nan,
                "n_served": int(np.floor(np.sum(frac) + 1e-9)),
                "n_reached": int(np.floor(np.sum(frac * y_arr) + 1e-9)),
            }
        )
    return pd.DataFrame(rows)


def reliability_curve(
    y: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
    weight: Sequence[float] | np.ndarray | None,
    *,
    n_bins: int,
) -> pd.DataFrame:
    """Reliability (calibration) curve on equal-count bins of the score.

    Bins hold (nearly) equal numbers of households, so that each bin is as far above the minimum
    cell size as possible. Within each bin: weighted mean predicted risk and weighted observed
    rate.

    Returns
    -------
    DataFrame
        ``bin`` (1 = lowest scores), ``n_households``, ``n_positive``, ``n_negative``,
        ``mean_predicted``, ``observed_rate``.

    Examples
    --------
    >>> r = reliability_curve([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], None, n_bins=2)
    >>> r["observed_rate"].tolist()
    [0.0, 1.0]
    """
    y_arr, s_arr, w_arr = _arrays(y, score, weight)
    n = s_arr.size
    order = np.argsort(s_arr, kind="stable")
    bins = np.empty(n, dtype=np.intp)
    bins[order] = (np.arange(n) * n_bins) // max(n, 1)
    rows = []
    for b in range(n_bins):
        m = bins == b
        wb = w_arr[m]
        rows.append(
            {
                "bin": b + 1,
                "n_households": int(m.sum()),
                "n_positive": int(y_arr[m].sum()),
                "n_negative": int(m.sum() - y_arr[m].sum()),
                "mean_predicted": float(np.sum(wb * s_arr[m]) / wb.sum())
                if wb.sum() > 0
                else np.nan,
                "observed_rate": float(np.sum(wb * y_arr[m]) / wb.sum())
                if wb.sum() > 0
                else np.nan,
            }
        )
    return pd.DataFrame(rows)
