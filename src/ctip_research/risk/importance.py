"""Permutation importance of the predictors of a risk score, on the out-of-fold predictions: the
drop in weighted ROC-AUC when one predictor is permuted within each held-out fold (fold models
reused, no refit), overall and per subgroup cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.risk.classifier import MODEL_STEP, single_threaded, transformed_columns
from ctip_research.risk.folds import CrossValidation
from ctip_research.risk.metrics import weighted_roc_auc

__all__ = ["permutation_importance_weighted"]

FloatArray = np.ndarray


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
