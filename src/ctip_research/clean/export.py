"""Stata export: the processed tables with variable labels and value labels (pyreadstat).

Categorical text columns are exported as numeric codes 1..k with value labels in the declared
order, booleans as 0/1 labelled no/yes, declared integer value labels (province) as they are;
numbers become doubles with Stata's system missing. The stage that writes the file fixes its
header timestamp (:func:`ctip_research.determinism.fix_dta_timestamp_file`) so that the same data
gives the same bytes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip_research.schemas import Table


def stata_labels(table: Table) -> tuple[dict[str, str], dict[str, dict[int | float, str]]]:
    """Variable labels and value labels of a table's Stata export.

    Examples
    --------
    >>> from ctip_research.schemas import get_table
    >>> labels, values = stata_labels(get_table("members"))
    >>> labels["age"], values["sex"]
    ('Age', {1: 'female', 2: 'male'})
    """
    labels = {f.name: f.label[:80] for f in table.fields}
    values: dict[str, dict[int | float, str]] = {}
    for f in table.fields:
        if f.type == "bool":
            values[f.name] = {0: "no", 1: "yes"}
        elif f.value_labels:
            values[f.name] = {int(k): str(v) for k, v in f.value_labels.items()}
        elif f.type == "str" and f.allowed is not None:
            values[f.name] = {i + 1: str(v) for i, v in enumerate(f.allowed)}
    return labels, values


def to_stata_frame(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Convert a processed table to the column types pyreadstat writes to Stata.

    Examples
    --------
    >>> from ctip_research.schemas import get_table, coerce_dtypes
    >>> t = get_table("members")
    >>> df = coerce_dtypes(pd.DataFrame({c: [pd.NA] for c in t.columns}).assign(
    ...     household_id="a", wave=1, member_id=1, sex="male", is_away=True), t)
    >>> to_stata_frame(df, t)[["sex", "is_away"]].values.tolist()
    [[2.0, 1.0]]
    """
    out: dict[str, pd.Series] = {}
    for f in table.fields:
        s = df[f.name]
        if f.type == "str" and f.allowed is not None:
            codes = {v: float(i + 1) for i, v in enumerate(f.allowed)}
            out[f.name] = s.astype(object).map(lambda v, c=codes: c.get(v, np.nan)).astype(float)
        elif f.type == "str":
            out[f.name] = s.astype(object).where(s.notna(), "").astype(str)
        elif f.type == "bool":
            out[f.name] = s.astype("boolean").astype("Float64").astype(float)
        else:
            out[f.name] = s.astype("Float64").astype(float)
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)
