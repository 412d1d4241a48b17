"""pandera schemas generated from the declarations, and validation with safe error messages."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa

from ctip_research.errors import SchemaError
from ctip_research.schemas.fields import Field, Table


def _checks(f: Field) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if f.allowed is not None:
        checks.append(pa.Check.isin(list(f.allowed)))
    if f.minimum is not None:
        checks.append(pa.Check.ge(f.minimum))
    if f.maximum is not None:
        checks.append(pa.Check.le(f.maximum))
    return checks


def to_pandera(table: Table) -> pa.DataFrameSchema:
    """Build the pandera schema of a declared table.

    The schema is strict (a column that is not declared is an error: the processed layer is an
    allow-list), ordered as declared, and checks the primary key for uniqueness.
    """
    columns = {
        f.name: pa.Column(f.dtype, checks=_checks(f), nullable=f.nullable, coerce=False)
        for f in table.fields
    }
    return pa.DataFrameSchema(
        columns,
        strict=True,
        ordered=True,
        unique=list(table.key),
        name=table.name,
    )


def coerce_dtypes(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return ``df`` with the declared columns, in declared order, cast to their declared dtypes.

    Raises :class:`~ctip_research.errors.SchemaError` if a declared column is missing or an
    undeclared one is present.
    """
    missing = [c for c in table.columns if c not in df.columns]
    extra = [c for c in df.columns if c not in table.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing declared column(s) {missing}")
        if extra:
            parts.append(f"undeclared column(s) {extra} (the processed layer is an allow-list)")
        raise SchemaError(f"table {table.name}: " + "; ".join(parts))
    out = df.loc[:, table.columns].copy()
    for f in table.fields:
        dtype: Any = f.dtype
        out[f.name] = out[f.name].astype(dtype)
    return out.reset_index(drop=True)


def validate_table(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Validate ``df`` against the declared schema, reporting every failure at once.

    Failure messages name the table, column, check and the number of failing rows with the first
    few row numbers, but never the failing values (they may identify someone).
    """
    schema = to_pandera(table)
    try:
        return schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        lines = []
        grouped = cases.groupby(["column", "check"], dropna=False, sort=True)
        for (column, check), grp in grouped:
            idx = [int(i) for i in grp["index"].dropna().tolist()[:5]]
            rows = f" at row(s) {idx}" if idx else ""
            lines.append(f"  - column {column}: check {check} failed for {len(grp)} row(s){rows}")
        raise SchemaError(
            f"table {table.name} does not satisfy its schema:\n" + "\n".join(lines)
        ) from None
