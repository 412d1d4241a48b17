"""Duplicate ids and duplicate submissions, resolved ieduplicates-style.

Rows sharing a table's primary key form a *group*. A group whose rows agree on every canonical
column is a ``duplicate_submission`` (the same interview uploaded twice); otherwise it is a
``duplicate_id`` (two different interviews under one id). The resolution rule keeps the last or
first row by an ordering column (ties broken by raw row), or drops the whole group. The report
lists every row of every group and whether it was kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ctip_research.literals import DuplicateRule

REPORT_COLUMNS = [
    "table",
    "group",
    "kind",
    "household_id",
    "wave",
    "key",
    "n_rows",
    "source",
    "file",
    "row",
    "order_value",
    "is_kept",
    "index",
]


def _kept_mask(rule: DuplicateRule, pos: pd.Series, n: pd.Series) -> pd.Series:
    """Which sorted rows ``rule`` keeps, given each row's position and its group size."""
    if rule == "keep_last":
        return pos == n - 1
    if rule == "keep_first":
        return pos == 0
    return pd.Series(False, index=pos.index)


def _key_text(sub: pd.DataFrame, key: list[str]) -> pd.Series:
    """The key columns other than household and wave as ``k=v, ...`` text per row."""
    others = [k for k in key if k not in ("household_id", "wave")]
    if not others:
        return pd.Series("", index=sub.index)
    return pd.Series(
        [
            ", ".join(f"{k}={v}" for k, v in zip(others, vals, strict=True))
            for vals in zip(*[sub[k].to_numpy(dtype=object) for k in others], strict=True)
        ],
        index=sub.index,
    )


def find_duplicates(
    df: pd.DataFrame,
    key: Sequence[str],
    *,
    table: str,
    rule: DuplicateRule,
    order_by: str,
) -> pd.DataFrame:
    """Find the groups of rows sharing ``key`` and decide which row each rule keeps.

    Parameters
    ----------
    df
        Interim table (canonical and meta columns).
    key
        Primary-key columns.
    table
        Table name, for the report.
    rule
        ``keep_last`` / ``keep_first`` by ``order_by`` (missing values first, ties by ``_row``),
        or ``drop_all``.
    order_by
        Column ordering the submissions (e.g. ``_submission_time``); absent column = raw order.

    Returns
    -------
    pandas.DataFrame
        One row per member of a duplicate group (columns ``REPORT_COLUMNS``; ``index`` is the row
        label in ``df``, ``is_kept`` the decision). Empty if no key is duplicated.

    Examples
    --------
    >>> df = pd.DataFrame({"household_id": ["a", "a", "b"], "wave": [1, 1, 1],
    ...                    "x": [1, 1, 2], "_row": [2, 3, 4],
    ...                    "_submission_time": ["2022-01-01", "2022-01-02", "2022-01-01"]})
    >>> rep = find_duplicates(df, ["household_id", "wave"], table="households",
    ...                       rule="keep_last", order_by="_submission_time")
    >>> rep[["row", "kind", "is_kept"]].values.tolist()
    [[2, 'duplicate_submission', False], [3, 'duplicate_submission', True]]
    """
    key = list(key)
    dup = df.duplicated(subset=key, keep=False)
    if not dup.any():
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in REPORT_COLUMNS})
    sub = df.loc[dup].copy()
    content = [c for c in df.columns if not str(c).startswith("_")]
    if order_by in sub.columns:
        order = pd.to_datetime(sub[order_by], errors="coerce", utc=True)
    else:
        order = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns, UTC]")
    raw_row = (
        sub["_row"] if "_row" in sub.columns else pd.Series(np.arange(len(sub)), index=sub.index)
    )
    sub["_order"] = order
    sub["_rawrow"] = pd.to_numeric(raw_row, errors="coerce")
    sub["_pos"] = np.arange(len(sub))
    sub["_content"] = pd.util.hash_pandas_object(sub.loc[:, content], index=False).to_numpy()
    sub = sub.sort_values(key + ["_order", "_rawrow", "_pos"], na_position="first", kind="stable")
    grouped = sub.groupby(key, sort=False, dropna=False)
    group_id = grouped.ngroup() + 1
    n = grouped["_pos"].transform("size")
    pos = grouped.cumcount()
    same = grouped["_content"].transform("nunique") == 1
    kept = _kept_mask(rule, pos, n)
    key_text = _key_text(sub, key)

    def col(c: str) -> pd.Series:
        return sub[c] if c in sub.columns else pd.Series(None, index=sub.index, dtype=object)

    out = pd.DataFrame(
        {
            "table": table,
            "group": group_id.to_numpy(),
            "kind": np.where(same, "duplicate_submission", "duplicate_id"),
            "household_id": col("household_id").to_numpy(dtype=object),
            "wave": col("wave").to_numpy(dtype=object),
            "key": key_text.to_numpy(),
            "n_rows": n.to_numpy(),
            "source": col("_source").to_numpy(dtype=object),
            "file": col("_file").to_numpy(dtype=object),
            "row": col("_row").to_numpy(dtype=object),
            "order_value": [None if pd.isna(v) else v.isoformat() for v in sub["_order"]],
            "is_kept": kept.to_numpy(dtype=bool),
            "index": sub.index.to_numpy(),
        }
    )
    return out.reset_index(drop=True)[REPORT_COLUMNS]
