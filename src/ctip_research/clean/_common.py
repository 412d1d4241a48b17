"""Shared vocabulary of the cleaning library: meta columns and the tidy issue table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Meta columns of the interim tables (docs/CONTRACTS.md, 'Interim layer'); dropped on output.
META_COLUMNS: tuple[str, ...] = ("_source", "_file", "_row", "_submission_id", "_submission_time")

#: Columns of every issue table, in order. ``index`` is the row label in the checked frame (used
#: by :func:`~ctip_research.clean.pipeline.clean_tables` to act on the row; dropped from reports).
ISSUE_COLUMNS: list[str] = [
    "check",
    "table",
    "source",
    "file",
    "row",
    "wave",
    "household_id",
    "enumerator_id",
    "column",
    "severity",
    "action",
    "detail",
    "index",
]

ISSUE_DTYPES: dict[str, str] = {
    "check": "string",
    "table": "string",
    "source": "string",
    "file": "string",
    "row": "Int64",
    "wave": "Int64",
    "household_id": "string",
    "enumerator_id": "string",
    "column": "string",
    "severity": "string",
    "action": "string",
    "detail": "string",
    "index": "Int64",
}


_EMPTY: list[pd.DataFrame] = []


def empty_issues() -> pd.DataFrame:
    """An issue table with no rows."""
    if not _EMPTY:
        _EMPTY.append(pd.DataFrame({c: pd.Series([], dtype=d) for c, d in ISSUE_DTYPES.items()}))
    return _EMPTY[0].copy()


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(pd.NA, index=df.index)


def make_issues(
    rows: pd.DataFrame,
    *,
    check: str,
    table: str,
    column: str | None,
    detail: str | pd.Series,
    severity: str = "warning",
    action: str = "flag",
) -> pd.DataFrame:
    """Build issue rows, one per row of ``rows`` (a subset of a canonical/interim table).

    Never copies a value of the checked column into the issue: ``detail`` describes the rule.

    Examples
    --------
    >>> df = pd.DataFrame({"household_id": ["a"], "wave": [1], "_row": [2]})
    >>> make_issues(df, check="range", table="households", column="head_age",
    ...             detail="below minimum 15")["row"].tolist()
    [2]
    """
    if rows.empty:
        return empty_issues()
    out = pd.DataFrame(
        {
            "check": check,
            "table": table,
            "source": _col(rows, "_source").to_numpy(dtype=object),
            "file": _col(rows, "_file").to_numpy(dtype=object),
            "row": _col(rows, "_row").to_numpy(dtype=object),
            "wave": _col(rows, "wave").to_numpy(dtype=object),
            "household_id": _col(rows, "household_id").to_numpy(dtype=object),
            "enumerator_id": _col(rows, "enumerator_id").to_numpy(dtype=object),
            "column": column,
            "severity": severity,
            "action": action,
            "detail": detail.to_numpy(dtype=object) if isinstance(detail, pd.Series) else detail,
            "index": rows.index.to_numpy(),
        }
    )
    return out.astype(ISSUE_DTYPES)


def concat_issues(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate issue tables (ignoring empty ones) into one with the standard dtypes."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_issues()
    return pd.concat(frames, ignore_index=True).astype(ISSUE_DTYPES)[list(ISSUE_DTYPES)]


def key_isin(
    df: pd.DataFrame,
    cols: Sequence[str],
    ref: pd.DataFrame,
    ref_cols: Sequence[str] | None = None,
) -> np.ndarray:
    """Is each row's key ``df[cols]`` among the keys ``ref[ref_cols]``? (missing equals missing)

    The same answer as ``key_tuples(df, cols).isin(set(key_tuples(ref, ref_cols)))`` from joint
    integer codes of the key columns, without a Python tuple per row (memory at census size).

    Examples
    --------
    >>> a = pd.DataFrame({"h": ["x", "y", None], "w": [1, 1, 2]})
    >>> b = pd.DataFrame({"h": ["y", None], "w": [1, 2]})
    >>> key_isin(a, ["h", "w"], b).tolist()
    [False, True, True]
    """
    rcols = list(cols if ref_cols is None else ref_cols)
    n = len(df)
    if n == 0 or len(ref) == 0:
        return np.zeros(n, dtype=bool)
    combined = np.zeros(n + len(ref), dtype=np.int64)
    for c, rc in zip(cols, rcols, strict=True):
        both = pd.concat([df[c], ref[rc]], ignore_index=True)
        codes, uniques = pd.factorize(both, use_na_sentinel=False)
        combined = combined * (len(uniques) + 1) + codes
        combined = pd.factorize(combined)[0].astype(np.int64)
    return np.isin(combined[:n], combined[n:])


def key_tuples(df: pd.DataFrame, cols: Sequence[str]) -> pd.Series:
    """One hashable tuple per row of ``df[cols]`` (missing values as ``None``)."""
    if df.empty:
        return pd.Series([], dtype=object, index=df.index)
    arrays = [df[c].to_numpy(dtype=object, na_value=None) for c in cols]  # type: ignore[call-overload]
    return pd.Series(list(zip(*arrays, strict=True)), index=df.index, dtype=object)
