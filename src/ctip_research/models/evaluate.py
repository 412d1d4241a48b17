"""Survey-aware evaluation of a risk-screening classifier.

What a survey statistician expects from a classification evaluation, and what scikit-learn does not
do by default (its cross-validation scoring ignores sample weights, scikit-learn issue 4632):

* **Folds grouped by PSU** (villages never split; PSU ids nested within strata), stratified by the
  outcome where possible (:func:`make_psu_folds`), seeded.
* **Weighted metrics**: every metric estimates the population quantity, with the survey weights in
  the fit *and* in the scoring: ROC-AUC (weighted Mann-Whitney), PR-AUC (weighted average
  precision, as sklearn's ``average_precision_score(sample_weight=...)``), Brier score, a
  reliability curve and a targeting curve (share of the population's risky-migration households
  reached when the top ``k`` of households by score are served, against ``k`` for random targeting).
* **Intervals** from a Rao-Wu (rescaling) bootstrap of PSUs within strata (``n_h - 1`` PSUs drawn
  with replacement per stratum, weights rescaled by ``n_h / (n_h - 1)`` times the multiplicity), run
  with joblib (threads: numpy releases the GIL, no process start-up) or on a Dask cluster
  (:mod:`ctip_research.parallel`); each replicate has its own seed, so the result does not
  depend on the number of workers nor on where they run. The intervals are conditional on the fitted fold models (the evaluation sample varies,
  the models are not refitted). The targeting curve gets a pointwise percentile band from the same
  replicates (each replicate's curve on the out-of-fold scores with the replicate's weights).
* **Permutation importance** on the out-of-fold predictions (drop in weighted ROC-AUC).
* **Subgroups** (e.g. province, female-headed households): every metric also per cell. Which
  cells, reliability bins and targeting points may be published is decided by the disclosure
  authority (:func:`ctip_research.disclosure.disclose`): enough households, risky households
  (numerator) and non-risky households (complement) behind each, reliability cut-offs, and
  secondary suppression so that a suppressed cell cannot be recovered from its subgroup and the
  overall cell (or a bin from the other bins of its curve). The check records are kept in
  :attr:`RiskEvaluation.records`.

Nothing here returns an individual score in a published form: the result object holds aggregates
only (the out-of-fold scores stay in memory in :class:`CrossValidation`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from ctip_research.disclosure import Cells, DisclosurePolicy, disclose
from ctip_research.models.classify import (
    MODEL_STEP,
    fit_classifier,
    predict_risk,
    single_threaded,
    transformed_columns,
)
from ctip_research.parallel import DISTRIBUTED_CHUNKS, is_local, map_tasks

__all__ = [
    "HEADLINE_METRICS",
    "METRICS",
    "SUBGROUP_METRICS",
    "CrossValidation",
    "RiskEvaluation",
    "cross_validate_weighted",
    "evaluate_classifier",
    "make_psu_folds",
    "permutation_importance_weighted",
    "rao_wu_factors",
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


# ---------------------------------------------------------------------------------------------
# Weighted metrics on a ranking
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Folds, cross-validation, bootstrap
# ---------------------------------------------------------------------------------------------


def _psu_keys(psu: Sequence[Any] | pd.Series, stratum: Sequence[Any] | pd.Series) -> np.ndarray:
    """Integer PSU keys with PSU ids nested within strata (a code may repeat across strata)."""
    frame = pd.DataFrame(
        {
            "s": pd.Series(stratum).astype("string").to_numpy(),
            "p": pd.Series(psu).astype("string").to_numpy(),
        }
    )
    return frame.groupby(["s", "p"], sort=True, dropna=False).ngroup().to_numpy(dtype=np.intp)


def make_psu_folds(
    y: Sequence[int] | np.ndarray,
    psu: Sequence[Any] | pd.Series,
    stratum: Sequence[Any] | pd.Series,
    *,
    n_splits: int,
    seed: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds grouped by PSU (villages never split) and stratified by outcome.

    ``StratifiedGroupKFold(shuffle=True, random_state=seed)`` on PSU keys nested within strata.

    Returns
    -------
    list of (train_index, test_index)
        Positional indices.

    Examples
    --------
    >>> y = [0, 1] * 10
    >>> psu = [i // 2 for i in range(20)]
    >>> folds = make_psu_folds(y, psu, [1] * 20, n_splits=5, seed=1)
    >>> len(folds), sorted(int(i) for _, t in folds for i in t) == list(range(20))
    (5, True)
    """
    groups = _psu_keys(psu, stratum)
    n_groups = int(np.unique(groups).size)
    if n_groups < n_splits:
        raise ValueError(f"{n_groups} PSUs cannot be split into {n_splits} grouped folds")
    y_arr = np.asarray(y, dtype=np.int64)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    placeholder = np.zeros((y_arr.size, 1))
    return [
        (np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp))
        for tr, te in splitter.split(placeholder, y_arr, groups)
    ]


@dataclass
class CrossValidation:
    """Out-of-fold predictions of a pipeline (kept in memory; never written out).

    Attributes
    ----------
    scores
        Out-of-fold risk score of every household.
    fold
        Fold number (0-based) in which each household was scored.
    models
        The fitted pipeline of each fold.
    folds
        The (train, test) positional indices.
    """

    scores: FloatArray
    fold: np.ndarray
    models: list[Pipeline]
    folds: list[tuple[np.ndarray, np.ndarray]]


def cross_validate_weighted(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray,
    weight: Sequence[float] | np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
) -> CrossValidation:
    """Fit ``pipeline`` on each training fold with survey weights; score the held-out fold.

    Examples
    --------
    >>> from ctip_research.models.classify import ClassifierSpec, build_classifier
    >>> X = pd.DataFrame({"x": np.arange(20.0)})
    >>> y = np.array([0, 1] * 10)
    >>> folds = make_psu_folds(y, np.arange(20) // 2, np.ones(20), n_splits=2, seed=0)
    >>> cv = cross_validate_weighted(
    ...     build_classifier(ClassifierSpec("logistic", ("x",))), X, y, np.ones(20), folds)
    >>> cv.scores.shape
    (20,)
    """
    y_arr = np.asarray(y, dtype=np.int64)
    w_arr = np.asarray(weight, dtype=np.float64)
    scores = np.full(y_arr.size, np.nan)
    fold_of = np.full(y_arr.size, -1, dtype=np.intp)
    models = []
    for k, (train, test) in enumerate(folds):
        model = fit_classifier(pipeline, X.iloc[train], y_arr[train], sample_weight=w_arr[train])
        scores[test] = predict_risk(model, X.iloc[test])
        fold_of[test] = k
        models.append(model)
    if np.isnan(scores).any():
        raise ValueError("the folds do not cover every household")
    return CrossValidation(scores=scores, fold=fold_of, models=models, folds=list(folds))


@dataclass(frozen=True)
class _PsuDesign:
    """PSU key of each household and the PSU keys of each stratum (for fast replicate draws)."""

    keys: np.ndarray
    n_psu: int
    strata: list[np.ndarray]

    @classmethod
    def build(
        cls, psu: Sequence[Any] | pd.Series, stratum: Sequence[Any] | pd.Series
    ) -> _PsuDesign:
        keys = _psu_keys(psu, stratum)
        n_psu = int(keys.max()) + 1 if keys.size else 0
        labels = pd.Series(stratum).astype("string").fillna("<NA>").to_numpy()
        first = np.zeros(n_psu, dtype=np.intp)
        first[keys[::-1]] = np.arange(keys.size)[::-1]
        key_stratum = labels[first]
        strata = [np.flatnonzero(key_stratum == h) for h in sorted(set(key_stratum.tolist()))]
        return cls(keys=keys, n_psu=n_psu, strata=strata)

    def factors(self, seed: int | np.random.SeedSequence) -> FloatArray:
        rng = np.random.default_rng(seed)
        factor_by_key = np.ones(self.n_psu)
        for psus in self.strata:
            n_h = psus.size
            if n_h < 2:
                continue
            counts = np.bincount(rng.integers(0, n_h, size=n_h - 1), minlength=n_h)
            factor_by_key[psus] = counts * n_h / (n_h - 1)
        return factor_by_key[self.keys]


def rao_wu_factors(
    psu: Sequence[Any] | pd.Series,
    stratum: Sequence[Any] | pd.Series,
    *,
    seed: int | np.random.SeedSequence,
) -> FloatArray:
    """Weight factors of one Rao-Wu rescaling bootstrap replicate.

    In each stratum with ``n_h >= 2`` PSUs, ``n_h - 1`` PSUs are drawn with replacement and a
    household's factor is ``n_h / (n_h - 1)`` times its PSU's draw count; strata with one PSU keep
    factor 1 (they contribute no between-PSU variance). All households of a PSU share its factor.

    Examples
    --------
    >>> f = rao_wu_factors([1, 1, 2, 2, 3, 3], [1] * 6, seed=0)
    >>> float(f.reshape(3, 2).std(axis=1).max()), float(f.sum())
    (0.0, 6.0)
    """
    return _PsuDesign.build(psu, stratum).factors(seed)


# ---------------------------------------------------------------------------------------------
# Metric sets, subgroups, suppression
# ---------------------------------------------------------------------------------------------


def _metric_set(
    ranked: _Ranked,
    inv: np.ndarray,
    y: FloatArray,
    s: FloatArray,
    w: FloatArray,
    *,
    top_share: float,
    overall_frac: FloatArray,
) -> dict[str, float]:
    tot_w = w.sum()
    tot_p = np.sum(w * y)
    frac = ranked.level_fraction(top_share)[inv]
    served = np.sum(frac * w)
    reached = np.sum(frac * w * y)
    nan = float("nan")
    out = {
        "roc_auc": ranked.roc_auc(),
        "pr_auc": ranked.average_precision(),
        "brier": float(np.sum(w * (s - y) ** 2) / tot_w) if tot_w > 0 else nan,
        "prevalence": float(tot_p / tot_w) if tot_w > 0 else nan,
        "mean_predicted": float(np.sum(w * s) / tot_w) if tot_w > 0 else nan,
        "top_share_reached": float(reached / tot_p) if tot_p > 0 else nan,
        "top_share_precision": float(reached / served) if served > 0 else nan,
        "top_share_reached_overall_rule": float(np.sum(overall_frac * w * y) / tot_p)
        if tot_p > 0
        else nan,
    }
    out["top_share_lift"] = out["top_share_reached"] / top_share
    return out


def _natural_key(label: str) -> tuple[int, float, str]:
    """Sort numbers numerically (province codes 1, 2, ..., 18), then other labels."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


@dataclass(frozen=True)
class _Cells:
    """Positional index of each subgroup cell, with ``("overall", "all")`` first."""

    keys: list[tuple[str, str]]
    index: list[np.ndarray]

    @classmethod
    def build(cls, subgroups: pd.DataFrame | None, n: int) -> _Cells:
        keys: list[tuple[str, str]] = [("overall", "all")]
        index: list[np.ndarray] = [np.arange(n)]
        if subgroups is not None:
            for col in subgroups.columns:
                labels = subgroups[col].astype("string").fillna("missing").to_numpy()
                for value in sorted(set(labels.tolist()), key=_natural_key):
                    keys.append((str(col), str(value)))
                    index.append(np.flatnonzero(labels == value))
        return cls(keys, index)


def _all_cell_metrics(
    cells: _Cells,
    inv: np.ndarray,
    n_levels: int,
    y: FloatArray,
    s: FloatArray,
    w: FloatArray,
    *,
    top_share: float,
    shares: FloatArray,
) -> tuple[np.ndarray, np.ndarray]:
    """Matrices (cells x METRICS) of metric values and (cells x shares) of the targeting curve
    (share reached) for one weight vector."""
    overall = _Ranked.build(inv, n_levels, y, w)
    overall_frac = overall.level_fraction(top_share)[inv]
    out = np.full((len(cells.keys), len(METRICS)), np.nan)
    curves = np.full((len(cells.keys), shares.size), np.nan)
    for c, idx in enumerate(cells.index):
        ranked = _Ranked.build(inv[idx], n_levels, y[idx], w[idx])
        curves[c] = ranked.reached_curve(shares)
        values = _metric_set(
            ranked,
            inv[idx],
            y[idx],
            s[idx],
            w[idx],
            top_share=top_share,
            overall_frac=overall_frac[idx],
        )
        out[c] = [values[m] for m in METRICS]
    return out, curves


def _bootstrap_chunk(
    seeds: Sequence[np.random.SeedSequence],
    design: _PsuDesign,
    cells: _Cells,
    inv: np.ndarray,
    n_levels: int,
    y: FloatArray,
    s: FloatArray,
    w: FloatArray,
    top_share: float,
    shares: FloatArray,
) -> tuple[np.ndarray, np.ndarray]:
    """Metrics and targeting curves of the replicates of ``seeds`` (stacked on axis 0)."""
    reps, curves = [], []
    for seed in seeds:
        factors = design.factors(seed)
        metrics, curve = _all_cell_metrics(
            cells, inv, n_levels, y, s, w * factors, top_share=top_share, shares=shares
        )
        reps.append(metrics)
        curves.append(curve)
    return np.stack(reps), np.stack(curves)


def _gate(
    table: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    name: str,
    n_numerator: str,
    n_denominator: str,
    dims: Sequence[str],
    lines: list[list[int]],
) -> tuple[np.ndarray, dict[str, Any]]:
    """Ask the disclosure authority which rows of ``table`` are suppressed (shares
    ``n_numerator / n_denominator``); return the mask and the check record."""
    num = table[n_numerator].to_numpy(dtype=float)
    den = table[n_denominator].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = num / den
    cells = table[list(dims)].astype(str).reset_index(drop=True)
    cells = cells.assign(estimate=share, kind="share", n_numerator=num, n_denominator=den)
    out = disclose(Cells(cells, name, dims=dims, total_label="all", lines=lines), policy)
    assert out.table is not None
    return (out.table["status"] == "suppressed").to_numpy(), out.record


def _group_lines(frame: pd.DataFrame, *, by: Sequence[str], with_overall: bool) -> list[list[int]]:
    """Positional rows of each ``by`` group (one additive line each), plus the overall row."""
    is_overall = (frame["subgroup"] == "overall").to_numpy()
    overall = np.flatnonzero(is_overall).tolist() if with_overall else []
    keys = frame[list(by)].astype(str).agg("|".join, axis=1).to_numpy()
    lines = []
    for key in dict.fromkeys(keys.tolist()):
        rows = np.flatnonzero((keys == key) & ~(is_overall if with_overall else False))
        if rows.size:
            lines.append([*rows.tolist(), *overall])
    return lines


# ---------------------------------------------------------------------------------------------
# Permutation importance
# ---------------------------------------------------------------------------------------------


def _positive_proba(estimator: Any, Z: pd.DataFrame) -> FloatArray:
    with single_threaded():
        proba = estimator.predict_proba(Z)
    return np.asarray(proba[:, list(estimator.classes_).index(1)], dtype=np.float64)


def permutation_importance_weighted(
    cv: CrossValidation,
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray,
    weight: Sequence[float] | np.ndarray,
    *,
    n_repeats: int,
    seed: int,
    cells: Mapping[tuple[str, str], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Drop in weighted ROC-AUC when one predictor is permuted within each held-out fold.

    Uses the fold models of ``cv`` (no refit); repeat ``r`` of feature ``j`` has its own seed.

    Returns
    -------
    DataFrame
        ``subgroup``, ``group``, ``feature``, ``importance_mean``, ``importance_sd``.
    """
    y_arr = np.asarray(y, dtype=np.float64)
    w_arr = np.asarray(weight, dtype=np.float64)
    cell_map = dict(cells) if cells else {("overall", "all"): np.arange(y_arr.size)}
    base = {k: weighted_roc_auc(y_arr[i], cv.scores[i], w_arr[i]) for k, i in cell_map.items()}
    features = list(X.columns)
    seeds = np.random.SeedSequence(seed).spawn(len(features))
    # transform each held-out fold once; permuting a feature's block of transformed columns is
    # the same as permuting the feature (all transformations are row-wise)
    prepared = [
        model.named_steps["prepare"].transform(X.iloc[test])
        for model, (_, test) in zip(cv.models, cv.folds, strict=True)
    ]
    rows = []
    for feature, fseed in zip(features, seeds, strict=True):
        drops: dict[tuple[str, str], list[float]] = {k: [] for k in cell_map}
        blocks = [transformed_columns(model, feature) for model in cv.models]
        for rseed in fseed.spawn(n_repeats):
            rng = np.random.default_rng(rseed)
            permuted = np.empty_like(cv.scores)
            for model, Z, block, (_, test) in zip(
                cv.models, prepared, blocks, cv.folds, strict=True
            ):
                Zp = Z.copy()
                Zp[block] = Z[block].to_numpy()[rng.permutation(test.size)]
                permuted[test] = _positive_proba(model.named_steps[MODEL_STEP], Zp)
            for k, i in cell_map.items():
                drops[k].append(base[k] - weighted_roc_auc(y_arr[i], permuted[i], w_arr[i]))
        for (sub, grp), values in drops.items():
            arr = np.asarray(values)
            rows.append(
                {
                    "subgroup": sub,
                    "group": grp,
                    "feature": feature,
                    "importance_mean": float(np.mean(arr)),
                    "importance_sd": float(np.std(arr, ddof=1)) if arr.size > 1 else 0.0,
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# The evaluation result
# ---------------------------------------------------------------------------------------------


@dataclass
class RiskEvaluation:
    """Aggregate evaluation of a risk-screening classifier (publishable after suppression).

    Attributes
    ----------
    classifier
        Model family.
    design
        Counts of the evaluation sample: households, PSUs, strata, folds, bootstrap replicates.
    cells
        One row per (subgroup, group) cell: ``n_households``, ``is_suppressed`` and, for cells not
        suppressed, every metric of :data:`METRICS` with ``_low``/``_high``/``_se`` columns.
        Suppressed cells hold ``NaN`` metrics. ``n_positive``/``n_negative`` are kept for the
        checks but not published.
    reliability
        Reliability bins (overall and by subgroup) with ``is_suppressed``.
    targeting
        Targeting curves (overall and by subgroup) with ``is_suppressed`` and a pointwise
        percentile band of ``share_reached`` (``conf_low``, ``conf_high``) from the same PSU
        bootstrap replicates as the metrics' intervals; blank where the point is suppressed.
    importance
        Permutation importance (overall and by subgroup; suppressed cells dropped).
    settings
        Top share, interval level, minimum cell size.
    records
        The disclosure authority's check records of the subgroup cells, the reliability bins and
        the targeting points.
    """

    classifier: str
    design: dict[str, int]
    cells: pd.DataFrame
    reliability: pd.DataFrame
    targeting: pd.DataFrame
    importance: pd.DataFrame
    settings: dict[str, float] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        """Long table: ``subgroup, group, metric, estimate, std_error, conf_low, conf_high,
        n_households, is_suppressed``."""
        rows = []
        for _, cell in self.cells.iterrows():
            for m in METRICS:
                rows.append(
                    {
                        "subgroup": cell["subgroup"],
                        "group": cell["group"],
                        "metric": m,
                        "estimate": cell[m],
                        "std_error": cell[f"{m}_se"],
                        "conf_low": cell[f"{m}_low"],
                        "conf_high": cell[f"{m}_high"],
                        "n_households": cell["n_households"],
                        "is_suppressed": bool(cell["is_suppressed"]),
                    }
                )
        return pd.DataFrame(rows)

    def glance(self) -> pd.DataFrame:
        """One row: classifier, sample counts and the overall headline metrics."""
        overall = self.cells.iloc[0]
        row: dict[str, Any] = {"classifier": self.classifier, **self.design}
        for m in ("roc_auc", "pr_auc", "brier", "prevalence", "top_share_reached"):
            row[m] = overall[m]
        return pd.DataFrame([row])

    def to_dict(
        self, *, metrics: Sequence[str] = METRICS, intervals: bool = True, digits: int = 6
    ) -> dict[str, Any]:
        """Nested, JSON-ready summary of ``metrics`` with their intervals (rounded; suppressed
        cells say so instead of a number)."""

        def num(x: Any) -> float | None:
            return None if pd.isna(x) else round(float(x), digits)

        by: dict[str, Any] = {}
        overall: dict[str, Any] = {}
        for _, cell in self.cells.iterrows():
            if cell["is_suppressed"]:
                entry: dict[str, Any] = {
                    "suppressed": (
                        f"fewer than {int(self.settings['min_cell_count'])} households, "
                        "positives or negatives, too few households for a reliable estimate, "
                        "or secondary suppression"
                    )
                }
            else:
                entry = {"n_households": int(cell["n_households"])}
                for m in metrics:
                    entry[m] = num(cell[m])
                    if intervals:
                        entry[f"{m}_low"] = num(cell[f"{m}_low"])
                        entry[f"{m}_high"] = num(cell[f"{m}_high"])
            if cell["subgroup"] == "overall":
                overall = entry
            else:
                by.setdefault(str(cell["subgroup"]), {})[str(cell["group"])] = entry
        return {
            "classifier": self.classifier,
            "design": dict(self.design),
            "settings": {k: num(v) for k, v in self.settings.items()},
            "overall": overall,
            "by_subgroup": by,
        }


def _subgroup_curves(
    cells: _Cells,
    y: FloatArray,
    s: FloatArray,
    w: FloatArray,
    *,
    shares: Sequence[float],
    n_bins: int,
    n_bins_subgroup: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rel_parts, tgt_parts = [], []
    for (sub, grp), idx in zip(cells.keys, cells.index, strict=True):
        bins = n_bins if sub == "overall" else n_bins_subgroup
        rel = reliability_curve(y[idx], s[idx], w[idx], n_bins=bins)
        rel.insert(0, "group", grp)
        rel.insert(0, "subgroup", sub)
        rel_parts.append(rel)
        tgt = targeting_curve(y[idx], s[idx], w[idx], shares=shares)
        tgt.insert(0, "group", grp)
        tgt.insert(0, "subgroup", sub)
        tgt["n_positive"] = int(y[idx].sum())
        tgt_parts.append(tgt)
    return pd.concat(rel_parts, ignore_index=True), pd.concat(tgt_parts, ignore_index=True)


def _gate_curves(
    reliability: pd.DataFrame, targeting: pd.DataFrame, policy: DisclosurePolicy
) -> dict[str, dict[str, Any]]:
    """Suppress reliability bins and targeting points behind the authority (in place)."""
    rel_sup, rel_rec = _gate(
        reliability,
        policy,
        name="risk: reliability bins",
        n_numerator="n_positive",
        n_denominator="n_households",
        dims=["subgroup", "group", "bin"],
        lines=_group_lines(reliability, by=["subgroup", "group"], with_overall=False),
    )
    reliability["is_suppressed"] = rel_sup
    reliability.loc[rel_sup, ["mean_predicted", "observed_rate"]] = np.nan
    # a curve point is two shares: of the risky households reached, and of the served who are
    # risky (precision); cumulative points are not additive, so there is no secondary line
    reach_sup, reach_rec = _gate(
        targeting,
        policy,
        name="risk: targeting points, share reached",
        n_numerator="n_reached",
        n_denominator="n_positive",
        dims=["subgroup", "group", "share_served"],
        lines=[],
    )
    prec_sup, prec_rec = _gate(
        targeting,
        policy,
        name="risk: targeting points, precision",
        n_numerator="n_reached",
        n_denominator="n_served",
        dims=["subgroup", "group", "share_served"],
        lines=[],
    )
    targeting["is_suppressed"] = reach_sup | prec_sup
    targeting.loc[
        targeting["is_suppressed"], ["share_reached", "share_reached_perfect", "precision"]
    ] = np.nan
    return {"reliability": rel_rec, "targeting_reached": reach_rec, "targeting_precision": prec_rec}


def evaluate_classifier(
    cv: CrossValidation,
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray,
    weight: Sequence[float] | np.ndarray,
    *,
    psu: Sequence[Any] | pd.Series,
    stratum: Sequence[Any] | pd.Series,
    subgroups: pd.DataFrame | None,
    classifier: str,
    top_share: float,
    shares: Sequence[float],
    n_bins: int,
    n_bins_subgroup: int,
    n_bootstrap: int,
    ci_level: float,
    policy: DisclosurePolicy | None = None,
    seed: int,
    n_permutation_repeats: int,
    n_jobs: int = 1,
    scheduler: str | None = "local",
) -> RiskEvaluation:
    """Evaluate out-of-fold risk scores as a survey statistician would.

    Parameters
    ----------
    cv
        Out-of-fold scores and fold models (:func:`cross_validate_weighted`).
    X, y, weight
        Design matrix, binary outcome and survey weights, in the row order of ``cv``.
    psu, stratum
        Design columns (PSU ids nested within strata) for the Rao-Wu bootstrap.
    subgroups
        Columns defining subgroup cells (e.g. province, female head), or ``None``.
    top_share
        Headline share served (e.g. 0.2).
    shares
        Grid of the targeting curve.
    n_bins, n_bins_subgroup
        Reliability bins overall and per subgroup cell.
    n_bootstrap, ci_level
        Bootstrap replicates and percentile-interval level (metrics and the targeting band).
    policy
        The disclosure policy (thresholds; default: the documented values) the cells, bins and
        curve points are gated by.
    seed
        Seed of the bootstrap and of the permutations.
    n_permutation_repeats
        Repeats of permutation importance (0 skips it).
    n_jobs
        joblib workers for the bootstrap (the result does not depend on it).
    scheduler
        Where the bootstrap runs: ``"local"`` (joblib threads, ``n_jobs`` of them) or the address
        of a Dask scheduler (:mod:`ctip_research.parallel`; ``None`` reads ``$CTIP_SCHEDULER``).
        The result does not depend on it.

    Returns
    -------
    RiskEvaluation

    Examples
    --------
    See ``tests/unit/test_risk_evaluate.py`` and :func:`ctip_research.stages.risk.run_risk`.
    """
    y_arr = np.asarray(y, dtype=np.float64)
    w_arr = np.asarray(weight, dtype=np.float64)
    s_arr = cv.scores
    _arrays(y_arr, s_arr, w_arr)
    psu_arr = pd.Series(psu).to_numpy()
    stratum_arr = pd.Series(stratum).to_numpy()
    cells = _Cells.build(
        None if subgroups is None else subgroups.reset_index(drop=True), y_arr.size
    )
    inv, n_levels = _rank_levels(s_arr)
    design = _PsuDesign.build(pd.Series(psu_arr), pd.Series(stratum_arr))

    share_arr = np.asarray(shares, dtype=np.float64)
    point, _ = _all_cell_metrics(
        cells, inv, n_levels, y_arr, s_arr, w_arr, top_share=top_share, shares=share_arr[:0]
    )

    seed_seq = np.random.SeedSequence([seed, 1])
    boot_seeds = seed_seq.spawn(n_bootstrap)
    local = is_local(scheduler)
    n_chunks = max(1, min(n_jobs if local else DISTRIBUTED_CHUNKS, n_bootstrap))
    chunks = [boot_seeds[i::n_chunks] for i in range(n_chunks)]
    results = map_tasks(
        _bootstrap_chunk,
        [
            (chunk, design, cells, inv, n_levels, y_arr, s_arr, w_arr, top_share, share_arr)
            for chunk in chunks
        ],
        scheduler=scheduler,
        n_jobs=n_jobs,
        prefer="threads",
        description="risk bootstrap",
        progress=not local,
    )
    # restore replicate order (chunk i holds replicates i, i + n_chunks, ...)
    reps = np.empty((n_bootstrap, len(cells.keys), len(METRICS)))
    curve_reps = np.empty((n_bootstrap, len(cells.keys), share_arr.size))
    for i, (res, curve_res) in enumerate(results):
        reps[i::n_chunks] = res
        curve_reps[i::n_chunks] = curve_res
    alpha = (1.0 - ci_level) / 2.0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # a cell without positives in every replicate has an all-NaN slice: its interval is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanquantile(reps, alpha, axis=0)
        high = np.nanquantile(reps, 1.0 - alpha, axis=0)
        se = np.nanstd(reps, axis=0, ddof=1)
        curve_low = np.nanquantile(curve_reps, alpha, axis=0)
        curve_high = np.nanquantile(curve_reps, 1.0 - alpha, axis=0)

    counts = pd.DataFrame(
        {
            "subgroup": [k[0] for k in cells.keys],
            "group": [k[1] for k in cells.keys],
            "n_households": [int(i.size) for i in cells.index],
            "n_positive": [int(y_arr[i].sum()) for i in cells.index],
            "n_negative": [int(i.size - y_arr[i].sum()) for i in cells.index],
        }
    )
    policy = policy or DisclosurePolicy()
    cell_sup, cells_record = _gate(
        counts,
        policy,
        name="risk: subgroup cells",
        n_numerator="n_positive",
        n_denominator="n_households",
        dims=["subgroup", "group"],
        lines=_group_lines(counts, by=["subgroup"], with_overall=True),
    )
    counts["is_suppressed"] = cell_sup
    table = counts.copy()
    metric_cols: list[str] = []
    for j, m in enumerate(METRICS):
        for col, values in ((m, point), (f"{m}_low", low), (f"{m}_high", high), (f"{m}_se", se)):
            table[col] = values[:, j]
            metric_cols.append(col)
    table.loc[table["is_suppressed"], metric_cols] = np.nan

    reliability, targeting = _subgroup_curves(
        cells,
        y_arr,
        s_arr,
        w_arr,
        shares=shares,
        n_bins=n_bins,
        n_bins_subgroup=n_bins_subgroup,
    )
    records = {"subgroup_cells": cells_record, **_gate_curves(reliability, targeting, policy)}
    targeting = targeting.drop(columns=["n_positive"])
    suppressed_keys = {(r.subgroup, r.group) for r in counts.itertuples() if bool(r.is_suppressed)}
    curve_values = {
        "reliability": ["mean_predicted", "observed_rate"],
        "targeting": ["share_reached", "share_reached_perfect", "precision"],
    }
    for kind, frame in (("reliability", reliability), ("targeting", targeting)):
        mask = [
            (a, b) in suppressed_keys
            for a, b in zip(frame["subgroup"], frame["group"], strict=True)
        ]
        frame.loc[mask, "is_suppressed"] = True
        # a suppressed cell (also a complementary one) shows no curve value
        frame.loc[frame["is_suppressed"], curve_values[kind]] = np.nan
    # pointwise percentile band of the targeting curve (rows: cells in order, then shares)
    pos = list(targeting.columns).index("share_reached") + 1
    targeting.insert(pos, "conf_low", curve_low.ravel())
    targeting.insert(pos + 1, "conf_high", curve_high.ravel())
    targeting.loc[targeting["is_suppressed"], ["conf_low", "conf_high"]] = np.nan

    if n_permutation_repeats > 0:
        cell_map = {
            k: i for k, i in zip(cells.keys, cells.index, strict=True) if k not in suppressed_keys
        }
        importance = permutation_importance_weighted(
            cv, X, y_arr, w_arr, n_repeats=n_permutation_repeats, seed=seed, cells=cell_map
        )
    else:
        importance = pd.DataFrame(
            columns=["subgroup", "group", "feature", "importance_mean", "importance_sd"]
        )

    counts_design = {
        "n_households": int(y_arr.size),
        "n_psu": design.n_psu,
        "n_strata": len(design.strata),
        "n_single_psu_strata": sum(1 for p in design.strata if p.size < 2),
        "n_folds": len(cv.folds),
        "n_bootstrap": int(n_bootstrap),
    }
    settings = {
        "top_share": float(top_share),
        "ci_level": float(ci_level),
        "min_cell_count": float(policy.min_cell_count),
    }
    return RiskEvaluation(
        classifier=classifier,
        design=counts_design,
        cells=table,
        reliability=reliability,
        targeting=targeting,
        importance=importance,
        settings=settings,
        records=records,
    )
