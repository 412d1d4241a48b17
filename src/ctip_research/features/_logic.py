"""Three-valued (Kleene) logic and missing-aware aggregation shared by the feature builders.

Every indicator follows one missing-data rule: it is true as soon as the observed values already
make it true, false only when every value it depends on is observed and makes it false, and
missing (``pd.NA``) when the missing values could decide it either way. Sums and counts are missing
when any term is missing (a total with unknown terms is unknown), never silently understated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

HH_KEY: list[str] = ["household_id", "wave"]


def as_boolean(values: pd.Series) -> pd.Series:
    """Return ``values`` as a nullable ``boolean`` series (missing stays missing)."""
    return values.astype("boolean")


def isin_or_na(values: pd.Series, allowed: Sequence[str]) -> pd.Series:
    """``values.isin(allowed)`` as ``boolean``, missing where ``values`` is missing."""
    out = values.isin(list(allowed)).astype("boolean")
    return out.mask(values.isna().to_numpy())


def at_least(frame: pd.DataFrame, k: int) -> pd.Series:
    """Row-wise: are at least ``k`` of the boolean columns of ``frame`` true (Kleene)?

    True if ``k`` observed values are true; false if even counting every missing value as true
    would not reach ``k``; missing otherwise.
    """
    n_true = frame.apply(lambda c: as_boolean(c).fillna(False)).sum(axis=1).to_numpy()
    n_na = frame.isna().sum(axis=1).to_numpy()
    return _decide(n_true, n_na, k, frame.index)


def _decide(n_true: np.ndarray, n_na: np.ndarray, k: int, index: pd.Index) -> pd.Series:
    out = pd.Series(pd.NA, index=index, dtype="boolean")
    out[n_true >= k] = True
    out[(n_true + n_na) < k] = False
    return out


def count_true(frame: pd.DataFrame) -> pd.Series:
    """Row-wise number of true values; missing if any of the columns is missing."""
    n = frame.apply(lambda c: as_boolean(c).fillna(False)).sum(axis=1).astype("Int64")
    return n.mask(frame.isna().any(axis=1).to_numpy())


def count_na(frame: pd.DataFrame) -> pd.Series:
    """Row-wise number of missing values."""
    return frame.isna().sum(axis=1).astype("Int64")


def kleene_or(*values: pd.Series) -> pd.Series:
    """Element-wise Kleene OR of boolean series (true if any is true)."""
    out = as_boolean(values[0])
    for v in values[1:]:
        out = out | as_boolean(v)
    return out


def kleene_and(*values: pd.Series) -> pd.Series:
    """Element-wise Kleene AND of boolean series (false if any is false)."""
    out = as_boolean(values[0])
    for v in values[1:]:
        out = out & as_boolean(v)
    return out


def positions(keys: pd.DataFrame, households: pd.DataFrame) -> np.ndarray:
    """Row position in ``households`` of each row of ``keys`` (matched on household_id, wave)."""
    target = pd.MultiIndex.from_frame(households.loc[:, HH_KEY].astype(object))
    pos = target.get_indexer(pd.MultiIndex.from_frame(keys.loc[:, HH_KEY].astype(object)))
    if (pos < 0).any():
        raise ValueError(f"{int((pos < 0).sum())} row(s) have no household-wave in households")
    return pos


def _bincount(pos: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(pos, weights=weights.astype(float), minlength=n)


def at_least_by(
    values: pd.Series, keys: pd.DataFrame, k: int, households: pd.DataFrame, *, empty: bool = False
) -> pd.Series:
    """Per household-wave: at least ``k`` rows true (Kleene); ``empty`` for households with no rows.

    ``values`` (boolean) and ``keys`` (``household_id``, ``wave``) are aligned row by row; the
    result is aligned with ``households``.
    """
    b = as_boolean(values)
    pos, n = positions(keys, households), len(households)
    n_true = _bincount(pos, b.fillna(False).to_numpy(dtype=bool), n)
    n_na = _bincount(pos, b.isna().to_numpy(dtype=bool), n)
    present = np.bincount(pos, minlength=n) > 0
    out = _decide(n_true, n_na, k, households.index)
    out[~present] = empty
    return out


def any_by(values: pd.Series, keys: pd.DataFrame, households: pd.DataFrame) -> pd.Series:
    """Per household-wave Kleene ANY of ``values``; false for households with no rows."""
    return at_least_by(values, keys, 1, households, empty=False)


def sum_by(values: pd.Series, keys: pd.DataFrame, households: pd.DataFrame) -> pd.Series:
    """Per household-wave sum; missing if any term is missing; 0 for households with no rows."""
    v = pd.Series(values.to_numpy(), dtype="Float64")
    pos, n = positions(keys, households), len(households)
    total = _bincount(pos, v.fillna(0).to_numpy(dtype=float), n)
    any_na = _bincount(pos, v.isna().to_numpy(dtype=bool), n) > 0
    out = pd.Series(total, index=households.index, dtype="Float64")
    out[any_na] = pd.NA
    return out


def count_by(keys: pd.DataFrame, households: pd.DataFrame) -> pd.Series:
    """Per household-wave number of rows (0 for households with no rows)."""
    pos = positions(keys, households)
    return pd.Series(
        np.bincount(pos, minlength=len(households)), index=households.index, dtype="Int64"
    )


def safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator`` as ``Float64``; missing (never inf) where the denominator is 0,
    negative or missing, or the numerator is missing.
    """
    num = pd.Series(numerator.to_numpy(), index=numerator.index, dtype="Float64")
    den = pd.Series(denominator.to_numpy(), index=numerator.index, dtype="Float64")
    ok = (den > 0).fillna(False).to_numpy(dtype=bool) & num.notna().to_numpy(dtype=bool)
    out = pd.Series(pd.NA, index=numerator.index, dtype="Float64")
    with np.errstate(over="ignore"):
        value = num[ok].to_numpy(dtype=float) / den[ok].to_numpy(dtype=float)
    value[~np.isfinite(value)] = np.nan
    out[ok] = value
    return out
