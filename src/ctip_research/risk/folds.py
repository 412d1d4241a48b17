"""Cross-validation of a risk score on a survey: folds grouped by PSU (villages never split, PSU
ids nested within strata) and stratified by the outcome, and the weighted cross-validation loop
(survey weights in the fit *and* in the scoring; out-of-fold scores kept in memory only).

:class:`PsuStratifiedGroupKFold` is a scikit-learn cross-validator (``cv=`` of
``cross_val_score``, ``GridSearchCV`` ...) with the PSU keys of :func:`psu_keys` as ``groups``;
:func:`make_psu_folds` gives its folds as a list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator, StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from ctip_research.risk.classifier import fit_classifier, predict_risk

__all__ = [
    "CrossValidation",
    "PsuStratifiedGroupKFold",
    "cross_validate_weighted",
    "make_psu_folds",
    "psu_keys",
]

FloatArray = np.ndarray


def psu_keys(psu: Sequence[Any] | pd.Series, stratum: Sequence[Any] | pd.Series) -> np.ndarray:
    """Integer PSU keys with PSU ids nested within strata (a code may repeat across strata).

    The ``groups`` of :class:`PsuStratifiedGroupKFold`.

    Examples
    --------
    >>> psu_keys([1, 2, 1, 1], ["a", "a", "b", "b"]).tolist()
    [0, 1, 2, 2]
    """
    frame = pd.DataFrame(
        {
            "s": pd.Series(stratum).astype("string").to_numpy(),
            "p": pd.Series(psu).astype("string").to_numpy(),
        }
    )
    return frame.groupby(["s", "p"], sort=True, dropna=False).ngroup().to_numpy(dtype=np.intp)


class PsuStratifiedGroupKFold(BaseCrossValidator):
    """K folds grouped by PSU (a village is never split between training and test) and
    stratified by the outcome, shuffled with a seed: a scikit-learn cross-validator.

    ``StratifiedGroupKFold(shuffle=True)`` with a check that there are at least ``n_splits``
    PSUs; pass the PSU keys of :func:`psu_keys` as ``groups`` (PSU ids nested within strata).

    Parameters
    ----------
    n_splits
        Number of folds.
    random_state
        Seed of the shuffle.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> X = np.arange(40.0).reshape(-1, 1)
    >>> y = np.array([0, 0, 1, 1] * 10)
    >>> cv = PsuStratifiedGroupKFold(5, random_state=1)
    >>> cross_val_score(LogisticRegression(), X, y, groups=np.arange(40) // 4, cv=cv).shape
    (5,)
    """

    def __init__(self, n_splits: int = 5, *, random_state: int | None = None) -> None:
        self.n_splits = n_splits
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds."""
        return self.n_splits

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Positional (train, test) indices of each fold.

        Parameters
        ----------
        X
            The design matrix (only its length is used).
        y
            Binary outcome (the folds are stratified by it).
        groups
            PSU key of every row (:func:`psu_keys`).
        """
        if y is None or groups is None:
            raise ValueError("PsuStratifiedGroupKFold needs the outcome y and the PSU groups")
        group_arr = np.asarray(groups)
        n_groups = int(np.unique(group_arr).size)
        if n_groups < self.n_splits:
            raise ValueError(f"{n_groups} PSUs cannot be split into {self.n_splits} grouped folds")
        y_arr = np.asarray(y, dtype=np.int64)
        splitter = StratifiedGroupKFold(
            n_splits=self.n_splits, shuffle=True, random_state=self.random_state
        )
        placeholder = np.zeros((y_arr.size, 1))
        for train, test in splitter.split(placeholder, y_arr, group_arr):
            yield np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp)


def make_psu_folds(
    y: Sequence[int] | np.ndarray,
    psu: Sequence[Any] | pd.Series,
    stratum: Sequence[Any] | pd.Series,
    *,
    n_splits: int,
    seed: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds grouped by PSU (villages never split) and stratified by outcome.

    The folds of :class:`PsuStratifiedGroupKFold` (``random_state=seed``) on the PSU keys of
    ``psu`` nested within ``stratum``.

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
    splitter = PsuStratifiedGroupKFold(n_splits, random_state=seed)
    y_arr = np.asarray(y, dtype=np.int64)
    return list(splitter.split(np.zeros((y_arr.size, 1)), y_arr, psu_keys(psu, stratum)))


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
    >>> from ctip_research.risk.classifier import ClassifierSpec, build_classifier
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
