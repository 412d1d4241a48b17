"""The reviewed corrections log, applied by code (iecorrect-style).

A corrections log is a CSV (format in docs/CONTRACTS.md) with columns
``source, table, row, household_id, variable, old_value, new_value, reason``. Each line names one
record, by raw row of its source file or (households only) by the raw household id, and one
canonical variable. The correction applies when the data holds ``old_value``; it is recorded as
``already_applied`` when the data already holds ``new_value`` (so cleaning twice equals cleaning
once); anything else is an error naming the line, never the values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import pandas as pd

from ctip_research.errors import CorrectionError
from ctip_research.schemas import Field, get_table

CORRECTION_COLUMNS = [
    "source",
    "table",
    "row",
    "household_id",
    "variable",
    "old_value",
    "new_value",
    "reason",
]
LOG_COLUMNS = ["line", "source", "table", "row", "household_id", "variable", "status", "reason"]

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def parse_value(text: object, field: Field) -> object:
    """Parse a corrections-log cell into a value of the field's type (empty = missing).

    Examples
    --------
    >>> from ctip_research.schemas import get_table
    >>> parse_value("true", get_table("members").field("is_away"))
    True
    >>> parse_value("12", get_table("members").field("age"))
    12
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return pd.NA
    s = str(text).strip()
    if s == "" or s.upper() in ("NA", "NAN", "."):
        return pd.NA
    if field.type == "bool":
        if s.lower() in _TRUE:
            return True
        if s.lower() in _FALSE:
            return False
        raise ValueError("not a boolean")
    if field.type == "int":
        x = float(s)
        if not x.is_integer():
            raise ValueError("not an integer")
        return int(x)
    if field.type == "float":
        return float(s)
    return s


def values_equal(a: object, b: object) -> bool:
    """Equality of two canonical values: both missing, or equal (numbers to 1e-6 relative).

    Examples
    --------
    >>> values_equal(1.0, 1.0000000001), values_equal(pd.NA, None), values_equal(1, 2)
    (True, True, False)
    """
    na_a = a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a))
    na_b = b is None or b is pd.NA or (isinstance(b, float) and math.isnan(b))
    if na_a or na_b:
        return na_a and na_b
    if isinstance(a, bool | str) or isinstance(b, bool | str):
        return bool(a == b)
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return bool(a == b)


class _LineProblem(Exception):
    """A corrections-log line that does not fit the data (the message names the line)."""


def _locate_record(
    c: dict[Hashable, Any],
    where: str,
    tname: str,
    df: pd.DataFrame,
    hash_id: Callable[[str], str] | None,
) -> tuple[pd.Series, int | None, str | None]:
    """The mask of the record a line names (by raw row or household id), its row and hashed id."""
    srcs = df["_source"].astype(object) if "_source" in df.columns else None
    if srcs is None:
        raise _LineProblem(f"{where}: table {tname} has no _source column")
    src = c["source"].strip()
    row_txt, hid_txt = c["row"].strip(), c["household_id"].strip()
    if row_txt:
        try:
            row = int(float(row_txt))
        except ValueError:
            raise _LineProblem(f"{where}: row is not a number") from None
        mask = (srcs == src) & (pd.to_numeric(df["_row"], errors="coerce") == row)
        return mask, row, None
    if hid_txt:
        if tname != "households":
            raise _LineProblem(
                f"{where}: a household id names a households row only; give "
                "the raw row for other tables"
            )
        if hash_id is None:
            raise _LineProblem(f"{where}: names a raw household id but no key is available")
        hashed = hash_id(hid_txt)
        mask = (srcs == src) & (df["household_id"].astype(object) == hashed)
        return mask, None, hashed
    raise _LineProblem(f"{where}: neither row nor household_id given")


def _apply_line(
    c: dict[Hashable, Any],
    line: int,
    out: dict[str, pd.DataFrame],
    hash_id: Callable[[str], str] | None,
) -> dict[str, object]:
    """Apply one log line to ``out`` in place and return its log record."""
    where = f"line {line}"
    tname, var, src = c["table"].strip(), c["variable"].strip(), c["source"].strip()
    if tname not in out:
        raise _LineProblem(f"{where}: unknown table {tname!r}")
    try:
        field = get_table(tname).field(var)
    except KeyError:
        raise _LineProblem(f"{where}: table {tname} has no canonical column {var!r}") from None
    df = out[tname]
    mask, row, hashed = _locate_record(c, where, tname, df, hash_id)
    mask = mask.fillna(False).astype(bool)
    n = int(mask.sum())
    if n != 1:
        what = "no record" if n == 0 else f"{n} records"
        raise _LineProblem(
            f"{where}: {what} of table {tname} in source {src!r} match "
            f"{'row ' + str(row) if row is not None else 'the household id'}"
        )
    try:
        old = parse_value(c["old_value"], field)
        new = parse_value(c["new_value"], field)
    except ValueError as exc:
        raise _LineProblem(
            f"{where}: value of {var} cannot be read as {field.type} ({exc})"
        ) from None
    idx = df.index[mask][0]
    current = df.at[idx, var] if var in df.columns else pd.NA
    if values_equal(current, old):
        status = "applied"
        df.loc[idx, var] = new  # type: ignore[call-overload]
    elif values_equal(current, new):
        status = "already_applied"
    else:
        raise _LineProblem(
            f"{where}: old value of {var} does not match the data (source "
            f"{src!r}, table {tname}, row {df.at[idx, '_row']!s})"
        )
    return {
        "line": line,
        "source": src,
        "table": tname,
        "row": df.at[idx, "_row"],
        "household_id": df.at[idx, "household_id"] if "household_id" in df else hashed,
        "variable": var,
        "status": status,
        "reason": c["reason"],
    }


def apply_corrections(
    tables: Mapping[str, pd.DataFrame],
    corrections: pd.DataFrame,
    *,
    hash_id: Callable[[str], str] | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Apply a corrections log to the interim tables.

    Parameters
    ----------
    tables
        Interim tables by name (canonical plus meta columns ``_source`` and ``_row``).
    corrections
        The log, read as strings (columns ``CORRECTION_COLUMNS``; ``row`` or ``household_id``).
    hash_id
        Pseudonymisation of a raw household id (``ingest.pseudonymise`` with the key); needed
        only for lines that name a household by id.

    Returns
    -------
    tables, log
        Corrected copies of the tables and one log line per correction (status ``applied`` or
        ``already_applied``).

    Raises
    ------
    CorrectionError
        Listing every line that names an unknown table, variable or record, has an unparsable
        value, or whose old value does not match the data.

    Examples
    --------
    >>> hh = pd.DataFrame({"household_id": ["a"], "wave": [1], "_source": ["s"], "_row": [2],
    ...                    "head_age": pd.array([150], dtype="Int64")})
    >>> log = pd.DataFrame({"source": ["s"], "table": ["households"], "row": ["2"],
    ...                     "household_id": [""], "variable": ["head_age"], "old_value": ["150"],
    ...                     "new_value": ["50"], "reason": ["typo"]})
    >>> out, rec = apply_corrections({"households": hh}, log)
    >>> int(out["households"]["head_age"].iloc[0]), rec["status"].tolist()
    (50, ['applied'])
    """
    missing = [c for c in CORRECTION_COLUMNS if c not in corrections.columns]
    if missing:
        raise CorrectionError(
            f"corrections log lacks column(s) {missing}; expected {CORRECTION_COLUMNS}"
        )
    out = {k: v.copy() for k, v in tables.items()}
    problems: list[str] = []
    log: list[dict[str, object]] = []
    for i, c in enumerate(corrections.fillna("").astype(str).to_dict("records")):
        line = i + 2  # header is line 1
        try:
            log.append(_apply_line(c, line, out, hash_id))
        except _LineProblem as exc:
            problems.append(str(exc))
    if problems:
        raise CorrectionError(
            f"{len(problems)} correction(s) do not fit the data:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return out, pd.DataFrame.from_records(log, columns=LOG_COLUMNS)
