"""Plausibility of amounts and dates beyond the declared bounds of the schema.

The schema bounds say what a column can hold at all (a principal is not negative, a year lies
between 1990 and 2100); these checks say what a survey of households can plausibly report:

* an amount in US dollars above ``clean.range.max_amount_usd`` (a principal of 1e15 riel is a
  typing error, not a loan); the amount in its own currency (``loans.principal``) goes with its
  dollar value;
* a number that is not finite (``inf`` typed as text in a weight or an amount);
* an interview year outside the survey period, and a year of an event (loan taken, migrant
  left) after its end. The survey period is ``clean.range.first_year`` - ``last_year``; unset,
  it is the span of the dated rate table ``ingest.exchange_rates``, which covers the survey's
  interview years by construction (money of any other year cannot be converted).

Issues use the check name ``plausibility`` and the action of the range check. Like every check,
an issue names table, row and column and never copies the value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip_research.clean._common import concat_issues, empty_issues, make_issues
from ctip_research.schemas import Table

__all__ = ["EVENT_YEAR_COLUMNS", "check_plausibility"]

#: Years of events before the interview: never after the end of the survey period.
EVENT_YEAR_COLUMNS: tuple[str, ...] = ("year_taken", "year_left")
#: Amounts in their own currency checked through their dollar column.
_OWN_CURRENCY: dict[str, str] = {"principal": "principal_usd"}


def _plausibility_issues(df: pd.DataFrame, table: Table, column: str, detail: str) -> pd.DataFrame:
    """Issues of check ``plausibility`` (severity error) for the rows of ``df``."""
    return make_issues(
        df,
        check="plausibility",
        table=table.name,
        column=column,
        detail=detail,
        severity="error",
    )


def _check_float_field(
    df: pd.DataFrame,
    table: Table,
    name: str,
    *,
    max_amount_usd: float,
    parts: tuple[str, ...],
) -> list[pd.DataFrame]:
    """Non-finite values of one float column and, for a dollar column, implausible amounts."""
    out: list[pd.DataFrame] = []
    num = pd.to_numeric(df[name], errors="coerce").astype("Float64")
    values = num.to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(values)
    if "finite" in parts and infinite.any():
        out.append(_plausibility_issues(df.loc[infinite], table, name, "not a finite number"))
    if "amounts" in parts and name.endswith("_usd"):
        big = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0) > max_amount_usd
        if big.any():
            detail = f"amount above the plausible maximum of USD {max_amount_usd:g}"
            out.append(_plausibility_issues(df.loc[big], table, name, detail))
            for own, usd in _OWN_CURRENCY.items():
                if usd == name and own in df.columns:
                    out.append(_plausibility_issues(df.loc[big], table, own, detail))
    return out


def _check_interview_year(
    df: pd.DataFrame, table: Table, first_year: int | None, last_year: int | None
) -> list[pd.DataFrame]:
    """Interview years outside the survey period."""
    if "interview_year" not in df.columns or (first_year is None and last_year is None):
        return []
    year = pd.to_numeric(df["interview_year"], errors="coerce").astype("Float64")
    outside = pd.Series(False, index=df.index)
    if first_year is not None:
        outside |= (year < first_year).fillna(False).astype(bool)
    if last_year is not None:
        outside |= (year > last_year).fillna(False).astype(bool)
    if not outside.any():
        return []
    detail = f"outside the survey period ({first_year}-{last_year})"
    return [_plausibility_issues(df.loc[outside], table, "interview_year", detail)]


def _check_event_years(df: pd.DataFrame, table: Table, last_year: int | None) -> list[pd.DataFrame]:
    """Years of events after the end of the survey period."""
    out: list[pd.DataFrame] = []
    if last_year is None:
        return out
    for col in EVENT_YEAR_COLUMNS:
        if col not in df.columns:
            continue
        year = pd.to_numeric(df[col], errors="coerce").astype("Float64")
        late = (year > last_year).fillna(False).astype(bool)
        if late.any():
            detail = f"after the end of the survey period ({last_year})"
            out.append(_plausibility_issues(df.loc[late], table, col, detail))
    return out


def check_plausibility(
    df: pd.DataFrame,
    table: Table,
    *,
    max_amount_usd: float,
    first_year: int | None,
    last_year: int | None,
    parts: tuple[str, ...] = ("finite", "years", "amounts"),
) -> pd.DataFrame:
    """Implausible amounts, non-finite numbers and years outside the survey period.

    ``parts`` chooses the rules: ``finite`` (run before the currency check, which cannot judge
    an infinite amount), ``years`` and ``amounts`` (run after it, so that riel typed as dollars
    is reported as such first).

    Examples
    --------
    >>> from ctip_research.schemas import get_table
    >>> df = pd.DataFrame({"household_id": ["a", "b"], "wave": [1, 1], "loan_id": [1, 1],
    ...     "principal": [4.1e15, 4100.0], "principal_usd": [1e12, 1000.0],
    ...     "year_taken": [2021, 2099]})
    >>> iss = check_plausibility(df, get_table("loans"), max_amount_usd=1e6, first_year=2022,
    ...                          last_year=2025)
    >>> iss[["column", "detail"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['principal_usd', 'amount above the plausible maximum of USD 1e+06'],
     ['principal', 'amount above the plausible maximum of USD 1e+06'],
     ['year_taken', 'after the end of the survey period (2025)']]
    """
    if df.empty:
        return empty_issues()
    out: list[pd.DataFrame] = []
    for f in table.fields:
        if f.name not in df.columns or f.type != "float":
            continue
        out += _check_float_field(df, table, f.name, max_amount_usd=max_amount_usd, parts=parts)
    if "years" not in parts:
        return concat_issues(out)
    out += _check_interview_year(df, table, first_year, last_year)
    out += _check_event_years(df, table, last_year)
    return concat_issues(out)
