"""Apply a codebook to its raw tables: canonical columns, special codes, currency, pseudonyms.

:func:`apply_codebook` turns the raw tables of one source into the interim layer
(``docs/CONTRACTS.md``, 'Interim layer'): per canonical table the declared columns (absent ones
all-NA with the declared dtype) plus the meta columns ``_source``, ``_file``, ``_sheet``, ``_row``,
``_submission_id``, ``_submission_time``; the long table of special codes; and a ledger (per raw
table: rows in, rows out, rows excluded by reason; per raw column its action). It is a pure
function: the raw tables come in, nothing is read or written.

Every problem (a codebook mismatch, an unknown code, a value that cannot be read as a number, a
missing exchange rate) is collected and raised together in one
:class:`~ctip_research.errors.CodebookError`; messages give file, rows and column and never echo a
raw value. Identifying values in mapped columns (a phone number, a respondent's name typed into a
code column) stop the source first, with a
:class:`~ctip_research.errors.PrivacyError` (:mod:`ctip_research.ingest.identifiers`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.errors import CodebookError, PrivacyError
from ctip_research.ingest.codebook import (
    KEY_COLUMNS,
    META_COLUMNS,
    Codebook,
    ColumnSpec,
    FileKey,
    FileSpec,
    check_codebook,
    map_distinct,
    normalise_code,
)
from ctip_research.ingest.identifiers import format_hits, scan_identifier_values
from ctip_research.ingest.khmer import khmer_text_problem
from ctip_research.ingest.pseudonymise import pseudonymise
from ctip_research.ingest.readers import RawTable
from ctip_research.ingest.review import find_code_like, propose_label
from ctip_research.literals import CURRENCIES, UnknownLabels
from ctip_research.schemas import CANONICAL_TABLES, Table

__all__ = [
    "INTERIM_META_COLUMNS",
    "REVIEW_COLUMNS",
    "household_id_variants",
    "id_key",
    "SPECIAL_CODES_COLUMNS",
    "VALUE_FIXES_COLUMNS",
    "IngestResult",
    "apply_codebook",
    "empty_interim_table",
    "to_interim_table",
]

#: Meta columns of every interim table, after the canonical columns, with their dtypes.
INTERIM_META_COLUMNS: dict[str, str] = {
    "_source": "string",
    "_file": "string",
    "_sheet": "string",
    "_row": "Int64",
    "_submission_id": "string",
    "_submission_time": "datetime64[us]",
    "_has_loan_reported": "boolean",
}
#: Address of a raw value in the long tables below: where it was read and which column it is.
_ADDRESS_COLUMNS: dict[str, str] = {
    "source": "string",
    "table": "string",
    "file": "string",
    "sheet": "string",
    "_row": "Int64",
    "household_id": "string",
    "column": "string",
    "raw_column": "string",
}
#: Columns of the long table of reviewed value fixes (codebook ``fixes``) applied.
VALUE_FIXES_COLUMNS: dict[str, str] = {
    **_ADDRESS_COLUMNS,
    "from_value": "string",
    "to_value": "string",
}
#: Columns of the long special-codes table.
SPECIAL_CODES_COLUMNS: dict[str, str] = {**_ADDRESS_COLUMNS, "code": "string", "reason": "string"}
#: Columns of the long table of values for review (``ingest.review``): an unknown label of a
#: value-mapped column (set missing; ``proposal`` is the documented label it is a near miss of,
#: never applied) or a code-like number no ``special_codes`` lists (kept; ``reason`` says why).
REVIEW_COLUMNS: dict[str, str] = {
    **_ADDRESS_COLUMNS,
    "kind": "string",
    "value": "string",
    "proposal": "string",
    "reason": "string",
}
_STATA_MISSING = re.compile(r"^\.[a-z]?$")
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}
_MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class IngestResult:
    """The interim layer of one source (or of several, once combined by the stage).

    Attributes
    ----------
    tables
        Canonical table name -> interim table (canonical columns + meta columns).
    special_codes
        One row per special code turned into a missing value (:data:`SPECIAL_CODES_COLUMNS`).
    value_fixes
        One row per reviewed fix (codebook ``fixes``: a known misspelling) applied
        (:data:`VALUE_FIXES_COLUMNS`).
    review
        One row per value for review (:data:`REVIEW_COLUMNS`): unknown labels (with
        ``unknown_labels="propose"``) and code-like numbers no codebook lists.
    ledger
        ``{"source": ..., "files": [...]}``: per raw table rows in/out/excluded and the action
        of every raw column.
    """

    tables: dict[str, pd.DataFrame]
    special_codes: pd.DataFrame
    value_fixes: pd.DataFrame
    ledger: dict[str, Any]
    review: pd.DataFrame = field(default_factory=lambda: empty_review_table())


def empty_review_table() -> pd.DataFrame:
    """A review table (:data:`REVIEW_COLUMNS`) with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in REVIEW_COLUMNS.items()})


def _rows(rows: pd.Series, mask: pd.Series) -> str:
    shown = [int(r) for r in rows[mask.to_numpy()].head(_MAX_ROWS_SHOWN)]
    more = int(mask.sum()) - len(shown)
    return f"row(s) {shown}" + (f" and {more} more" if more > 0 else "")


def empty_interim_table(table: Table) -> pd.DataFrame:
    """An empty interim table: declared columns then meta columns, with their dtypes.

    Examples
    --------
    >>> from ctip_research.schemas import get_table
    >>> list(empty_interim_table(get_table("loans")).columns)[-3:]
    ['_submission_id', '_submission_time', '_has_loan_reported']
    """
    cols = {c: pd.Series(dtype=d) for c, d in table.dtypes.items()}
    cols.update({c: pd.Series(dtype=d) for c, d in INTERIM_META_COLUMNS.items()})
    return pd.DataFrame(cols)


def to_interim_table(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Order and type ``df`` as an interim table: every declared column (absent ones all-NA),
    then the meta columns; other columns are dropped.

    Examples
    --------
    >>> from ctip_research.schemas import get_table
    >>> df = to_interim_table(pd.DataFrame({"household_id": ["a"], "wave": [1]}),
    ...                       get_table("members"))
    >>> df["member_id"].isna().tolist(), str(df["member_id"].dtype)
    ([True], 'Int64')
    """
    n = len(df)
    out: dict[str, pd.Series] = {}
    dtypes: dict[str, Any] = {**table.dtypes, **INTERIM_META_COLUMNS}
    for name, dtype in dtypes.items():
        if name in df.columns:
            out[name] = df[name].reset_index(drop=True).astype(dtype)
        else:
            out[name] = (
                pd.Series([pd.NA] * n, dtype=dtype)
                if dtype != "datetime64[us]"
                else (pd.Series([pd.NaT] * n, dtype=dtype))
            )
    return pd.DataFrame(out)


class _FileState:
    """Working state while one raw table is converted."""

    def __init__(
        self,
        cb: Codebook,
        f: FileSpec,
        raw: RawTable,
        id_aliases: Mapping[str, str] | None = None,
        *,
        unknown_labels: UnknownLabels = "error",
        code_like: tuple[int, float] | None = None,
    ) -> None:
        self.cb = cb
        self.id_aliases: Mapping[str, str] = id_aliases or {}
        self.clashes: list[dict[str, Any]] = []
        self.f = f
        self.raw = raw
        self.unknown_labels = unknown_labels
        self.code_like = code_like
        self.review: list[pd.DataFrame] = []
        self.where = f.path + (f" [sheet {f.sheet}]" if f.sheet else "")
        self.rows = raw.rows
        self.n = len(raw.data)
        self.out = pd.DataFrame(index=pd.RangeIndex(self.n))
        self.problems: list[str] = []
        self.specials: list[pd.DataFrame] = []
        self.fixes: list[pd.DataFrame] = []
        self.money: list[tuple[str, str, pd.Series, pd.Series]] = []

    # -- helpers ---------------------------------------------------------------------------
    def problem(self, column: str, text: str) -> None:
        self.problems.append(f"{self.where}, column {column!r}: {text}")

    def codes(self, column: str) -> pd.Series:
        return map_distinct(self.raw.data[column], normalise_code).astype(object)

    def special_mask(self, column: str, spec: ColumnSpec, codes: pd.Series) -> pd.Series:
        """Mark special codes; record them with their reasons. Returns the mask."""
        reasons = {**self.cb.special_codes, **(spec.special_codes or {})}
        labels = {
            normalise_code(k): str(v) for k, v in self.raw.value_labels.get(column, {}).items()
        }
        reason = map_distinct(
            codes, lambda c: reasons.get(c) if isinstance(c, str) else None
        ).astype(object)
        stata = map_distinct(codes, lambda c: isinstance(c, str) and bool(_STATA_MISSING.match(c)))
        stata = stata.astype(bool) & reason.isna() & (self.cb.format == "stata")
        if stata.any():
            reason[stata] = codes[stata].map(
                lambda c: reasons.get(c) or labels.get(c[1:]) or labels.get(c) or "stata_missing"
            )
        ranges = self.raw.missing_ranges.get(column)
        if ranges:
            numeric = pd.to_numeric(self.raw.data[column], errors="coerce")
            in_range = pd.Series(False, index=codes.index)
            for lo, hi in ranges:
                in_range |= numeric.between(lo, hi).fillna(False).astype(bool)
            user = in_range & reason.isna()
            reason[user] = codes[user].map(lambda c: labels.get(c) or "user_missing")
        mask = reason.notna()
        if mask.any():
            self.note_clashes(column, spec, codes, mask)
            self.specials.append(
                pd.DataFrame(
                    {
                        "__idx": np.flatnonzero(mask.to_numpy()),
                        "column": spec.canonical,
                        "raw_column": column,
                        "code": codes[mask].astype(str).to_numpy(),
                        "reason": reason[mask].astype(str).to_numpy(),
                    }
                )
            )
        return mask

    def note_clashes(
        self, column: str, spec: ColumnSpec, codes: pd.Series, mask: pd.Series
    ) -> None:
        """Note special codes that are also valid values of the column (a warning): a code
        inside the declared range of its canonical column, or between the smallest and largest
        other value; in a yes/no column 0 or 1; in a value-mapped column a key of the map.
        """
        table = CANONICAL_TABLES.get(self.f.table)
        canonical = spec.canonical
        if table is None or canonical is None or canonical not in table.columns:
            return
        fld = table.field(canonical)
        hit_codes = codes[mask.to_numpy()]
        others = pd.to_numeric(codes[~mask.to_numpy()], errors="coerce").dropna()
        for code, n in hit_codes.value_counts(sort=False).items():
            clash = ""
            num = pd.to_numeric(pd.Series([code]), errors="coerce").iloc[0]
            if spec.values and str(code) in spec.values:
                clash = "is also a key of the column's value map"
            elif fld.type == "bool" and str(code) in ("0", "1"):
                clash = "is also a yes/no answer (0/1)"
            elif fld.type in ("int", "float") and pd.notna(num):
                lo = fld.minimum if fld.minimum is not None else -np.inf
                hi = fld.maximum if fld.maximum is not None else np.inf
                if lo <= num <= hi and (fld.minimum is not None or fld.maximum is not None):
                    clash = f"lies in the valid range of {canonical}"
                elif not others.empty and others.min() <= num <= others.max():
                    clash = "lies between other values of the column"
            if clash:
                self.clashes.append(
                    {
                        "column": column,
                        "canonical": canonical,
                        "code": str(code),
                        "values": int(n),
                        "detail": f"special code {code} {clash}",
                    }
                )

    def check_khmer(self, column: str, raw_values: pd.Series) -> None:
        """Reject legacy-font (Limon/ABC) or mis-decoded text in a ``khmer_text`` column."""
        why = raw_values.map(lambda v: khmer_text_problem(v) if isinstance(v, str) else None)
        bad = why.notna().to_numpy()
        if bad.any():
            reasons = sorted({str(r) for r in why[bad]})
            self.problem(
                column,
                f"{int(bad.sum())} value(s) are not Unicode Khmer text ({'; '.join(reasons)}); "
                f"re-export as Unicode or convert legacy-font text, at "
                f"{_rows(self.rows, pd.Series(bad))}",
            )

    def apply_fixes(
        self, column: str, spec: ColumnSpec, codes: pd.Series, raw_values: pd.Series
    ) -> tuple[pd.Series, pd.Series]:
        """Apply the reviewed fixes (known misspellings); record each fixed row."""
        fixes = spec.fixes or {}
        fixed = map_distinct(codes, lambda c: fixes.get(c) if isinstance(c, str) else None).astype(
            object
        )
        hit = fixed.notna()
        if not hit.any():
            return codes, raw_values
        self.fixes.append(
            pd.DataFrame(
                {
                    "__idx": np.flatnonzero(hit.to_numpy()),
                    "column": spec.canonical,
                    "raw_column": column,
                    "from_value": codes[hit].astype(str).to_numpy(),
                    "to_value": fixed[hit].map(str).to_numpy(),
                }
            )
        )
        new_codes = codes.where(~hit, fixed.map(normalise_code))
        return new_codes, raw_values.where(~hit, fixed)

    def record_padding(self, column: str, spec: ColumnSpec, raw_values: pd.Series) -> None:
        """Record categorical text with leading/trailing blanks (trimmed before the value map)."""
        padded = map_distinct(raw_values, lambda v: isinstance(v, str) and v != v.strip()).astype(
            bool
        )
        if padded.any():
            self.fixes.append(
                pd.DataFrame(
                    {
                        "__idx": np.flatnonzero(padded.to_numpy()),
                        "column": spec.canonical,
                        "raw_column": column,
                        "from_value": raw_values[padded].astype(str).to_numpy(),
                        "to_value": raw_values[padded].astype(str).str.strip().to_numpy(),
                    }
                )
            )

    def value_map(
        self, column: str, spec: ColumnSpec, codes: pd.Series, valid: pd.Series
    ) -> pd.Series:
        assert spec.values is not None
        vmap = spec.values
        labels = {
            normalise_code(k): normalise_code(v)
            for k, v in self.raw.value_labels.get(column, {}).items()
        }

        def lookup(code: str | None) -> Any:
            if not isinstance(code, str):
                return None
            if code in vmap:
                return vmap[code]
            label = labels.get(code)
            if label is not None and label in vmap:
                return vmap[label]
            return _UNKNOWN

        mapped = map_distinct(codes.where(valid), lookup).astype(object)
        unknown = pd.Series(
            [v is _UNKNOWN for v in mapped.to_numpy(dtype=object)], index=mapped.index, dtype=bool
        )
        if unknown.any():
            distinct = sorted({str(c) for c in codes[unknown]})
            documented = [*vmap, *(lab for lab in labels.values() if lab is not None)]
            proposal = {c: propose_label(c, documented) for c in distinct}
            if self.unknown_labels == "propose":
                self.review.append(
                    pd.DataFrame(
                        {
                            "__idx": np.flatnonzero(unknown.to_numpy()),
                            "column": spec.canonical,
                            "raw_column": column,
                            "kind": "unknown_label",
                            "value": codes[unknown].astype(str).to_numpy(),
                            "proposal": codes[unknown].map(lambda c: proposal[str(c)]).to_numpy(),
                            "reason": codes[unknown]
                            .map(
                                lambda c: (
                                    "not in the value map; near miss of a documented label"
                                    if proposal[str(c)] is not None
                                    else "not in the value map; no documented label is close"
                                )
                            )
                            .to_numpy(),
                        }
                    )
                )
            else:
                # Never echo the raw values (they may be names or phone numbers typed into the
                # wrong column): counts and rows only; the proposals go to the interim review
                # file when ingest.unknown_labels is `propose`.
                n_near = sum(proposal[c] is not None for c in distinct)
                hint = (
                    f"; {n_near} of them are near misses of documented labels (set "
                    "ingest.unknown_labels: propose to list the proposals in "
                    "codebook_proposals.yaml, then add them to `fixes` after review)"
                    if n_near
                    else ""
                )
                self.problem(
                    column,
                    f"{int(unknown.sum())} value(s) not in the value map of "
                    f"{spec.canonical} ({len(distinct)} distinct; values not shown) at "
                    f"{_rows(self.rows, unknown)}{hint}",
                )
            mapped[unknown] = None
        return mapped

    def check_code_like(
        self, column: str, spec: ColumnSpec, fld: Any, raw_values: pd.Series, valid: pd.Series
    ) -> None:
        """Record numbers that look like special codes the codebook does not list."""
        if self.code_like is None or spec.values or fld.type not in ("int", "float"):
            return
        if fld.name.endswith(("_code", "_id")) or fld.name in ("interview_year", "wave"):
            return
        min_count, ratio = self.code_like
        why = find_code_like(
            raw_values.where(valid.to_numpy(), None),
            nonnegative=fld.minimum is not None and fld.minimum >= 0,
            min_count=min_count,
            heaping_ratio=ratio,
        )
        hit = why.notna().to_numpy()
        if hit.any():
            self.review.append(
                pd.DataFrame(
                    {
                        "__idx": np.flatnonzero(hit),
                        "column": spec.canonical,
                        "raw_column": column,
                        "kind": "code_like",
                        "value": self.codes(column)[hit].astype(str).to_numpy(),
                        "proposal": None,
                        "reason": why[hit].astype(str).to_numpy(),
                    }
                )
            )

    def to_type(self, column: str, canonical: str, ftype: str, values: pd.Series) -> pd.Series:
        present = map_distinct(
            values, lambda v: v is not None and not (isinstance(v, float) and np.isnan(v))
        ).astype(bool)
        if ftype in ("int", "float"):
            if map_distinct(values, lambda v: isinstance(v, bool)).any():
                values = values.map(lambda v: int(v) if isinstance(v, bool) else v)
            num = pd.to_numeric(values.where(present, np.nan), errors="coerce").astype("Float64")
            bad = present & num.isna().to_numpy()
            if bad.any():
                self.problem(
                    column,
                    f"{int(bad.sum())} value(s) cannot be read as a number "
                    f"({canonical}) at {_rows(self.rows, bad)}",
                )
            if ftype == "int":
                frac = num.notna() & (num.round() != num).fillna(False)
                if frac.any():
                    self.problem(
                        column,
                        f"{int(frac.sum())} non-integer value(s) for the "
                        f"integer column {canonical} at {_rows(self.rows, frac)}",
                    )
                    num = num.mask(frac)
            return num
        if ftype == "bool":

            def as_bool(v: Any) -> Any:
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    return pd.NA
                if isinstance(v, bool | np.bool_):
                    return bool(v)
                code = (normalise_code(v) or "").lower()
                if code in _TRUE:
                    return True
                if code in _FALSE:
                    return False
                return _UNKNOWN

            out = map_distinct(values, as_bool).astype(object)
            bad = pd.Series(
                [v is _UNKNOWN for v in out.to_numpy(dtype=object)], index=out.index, dtype=bool
            )
            if bad.any():
                self.problem(
                    column,
                    f"{int(bad.sum())} value(s) are not yes/no (1/0) for "
                    f"{canonical}; add a value map, at {_rows(self.rows, bad)}",
                )
                out[bad] = pd.NA
            return out.astype("boolean")
        # text: NFC, blanks trimmed, integral numbers without decimals (a code 12.0 -> "12")
        return map_distinct(values, normalise_code).astype("string")


class _Unknown:
    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "<unknown code>"


_UNKNOWN = _Unknown()


def _currency_of(state: _FileState, spec: ColumnSpec, column: str) -> pd.Series | None:
    """Per-row currency of a money column (``None`` where unknown)."""
    if spec.currency is not None:
        return pd.Series([spec.currency] * state.n, dtype=object)
    if spec.currency_column is None:
        return None
    ccol = spec.currency_column
    if ccol not in state.raw.data.columns:
        return pd.Series([None] * state.n, dtype=object)
    cspec = state.f.columns[ccol]
    codes = state.codes(ccol)
    if cspec.values:
        cur = codes.map(
            lambda c: cspec.values.get(c) if (isinstance(c, str) and cspec.values) else None
        )
    else:
        cur = codes.map(lambda c: c.upper() if isinstance(c, str) else None)
    cur = cur.map(lambda c: c if c in CURRENCIES else None).astype(object)
    odd = codes.notna() & cur.isna()
    if odd.any() and not cspec.values:
        state.problem(
            ccol,
            f"{int(odd.sum())} value(s) are not a currency code {CURRENCIES}; "
            f"add a value map, at {_rows(state.rows, odd)}",
        )
    return cur


def _is_skipped(state: _FileState, table: Table, column: str, spec: ColumnSpec) -> bool:
    """Columns not read here: absent from the file or mapped where check_codebook objects."""
    if column not in state.raw.data.columns:
        return True  # reported by check_codebook
    if spec.action in ("map", "key") and spec.canonical not in table.columns:
        return True  # reported by check_codebook
    if spec.action == "map" and spec.canonical in KEY_COLUMNS:
        return True  # ids only through action key (hashed); reported by check_codebook
    return spec.action == "meta" and spec.canonical not in META_COLUMNS


def _process_key(state: _FileState, column: str, spec: ColumnSpec, hmac_key: str) -> None:
    """An id column: the household id pseudonymised, member and loan ids as integers."""
    codes = state.codes(column)
    if spec.canonical == "household_id":
        state.out["household_id"] = map_distinct(
            codes,
            lambda c: (
                pseudonymise(state.id_aliases.get(c, c), hmac_key) if isinstance(c, str) else None
            ),
        )
    else:
        assert spec.canonical is not None
        state.out[spec.canonical] = state.to_type(column, spec.canonical, "int", codes)


def _process_meta(state: _FileState, column: str, spec: ColumnSpec, hmac_key: str) -> None:
    """A meta column: submission id (pseudonymised), reported loan flag or submission time."""
    if spec.canonical == "_submission_id":
        state.out["_submission_id"] = state.codes(column).map(
            lambda c: pseudonymise(f"submission:{c}", hmac_key) if isinstance(c, str) else None
        )
    elif spec.canonical == "_has_loan_reported":
        # the loan module's filter question (yes/no); special codes -> NA
        codes = state.codes(column)
        valid = ~state.special_mask(column, spec, codes)
        values = (
            state.value_map(column, spec, codes, valid)
            if spec.values
            else state.raw.data[column].astype(object).where(valid.to_numpy(), None)
        )
        state.out[spec.canonical] = state.to_type(column, spec.canonical, "bool", values)
    else:
        times = pd.to_datetime(
            state.raw.data[column].astype(object).map(lambda v: normalise_code(v)),
            errors="coerce",
            utc=True,
            format="ISO8601",
        )
        state.out["_submission_time"] = times.dt.tz_localize(None).astype("datetime64[us]")


def _process_map(
    state: _FileState, column: str, spec: ColumnSpec, hmac_key: str, table: Table
) -> None:
    """A mapped column: fixes, special codes, value map, type, scale, pseudonym and currency."""
    assert spec.canonical is not None
    fld = table.field(spec.canonical)
    codes = state.codes(column)
    raw_values = state.raw.data[column].astype(object)
    if spec.khmer_text:
        state.check_khmer(column, raw_values)
    if spec.fixes:
        codes, raw_values = state.apply_fixes(column, spec, codes, raw_values)
    if spec.values:
        state.record_padding(column, spec, raw_values)
    special = state.special_mask(column, spec, codes)
    valid = ~special
    if spec.values:
        values = state.value_map(column, spec, codes, valid)
    else:
        values = raw_values.where(valid.to_numpy(), None)
        state.check_code_like(column, spec, fld, raw_values, valid)
    typed = state.to_type(column, spec.canonical, fld.type, values)
    if spec.scale is not None:
        typed = typed * spec.scale
    if spec.pseudonymise:
        typed = typed.map(
            lambda v: pseudonymise(str(v), hmac_key) if pd.notna(v) else pd.NA
        ).astype("string")
    state.out[spec.canonical] = typed
    currency = _currency_of(state, spec, column)
    if currency is not None:
        state.money.append((column, spec.canonical, typed, currency))


def _process_columns(state: _FileState, hmac_key: str, table: Table) -> None:
    """Every listed column of the file by its action, then the constants and the wave."""
    f = state.f
    for column, spec in f.columns.items():
        if _is_skipped(state, table, column, spec):
            continue
        if spec.action == "key":
            _process_key(state, column, spec, hmac_key)
        elif spec.action == "meta":
            _process_meta(state, column, spec, hmac_key)
        elif spec.action == "link":
            state.out["__link"] = state.codes(column)
        elif spec.action == "map":
            _process_map(state, column, spec, hmac_key, table)
    for name, value in f.constants.items():
        if name in table.columns:
            state.out[name] = value
    state.out["wave"] = state.cb.wave


def _convert_money(
    state: _FileState,
    table: Table,
    rates: Mapping[int, Mapping[Any, float]],
    years: pd.Series,
    keep: pd.Series,
) -> None:
    missing_rates: set[tuple[Any, str]] = set()
    for column, canonical, amount, currency in state.money:

        def rate(year: Any, cur: Any) -> float:
            if cur == "USD":  # dollars need no rate (and no year)
                return 1.0
            if cur is None or pd.isna(cur) or year is None or pd.isna(year):
                return np.nan
            by_year = rates.get(int(year))
            if by_year is None or cur not in by_year:
                missing_rates.add((int(year), str(cur)))
                return np.nan
            return float(by_year[cur])

        # one rate per distinct (year, currency) pair, in the order the rows first meet them
        y_codes, y_uniques = pd.factorize(years.reset_index(drop=True), use_na_sentinel=True)
        c_codes, c_uniques = pd.factorize(
            currency.reset_index(drop=True).astype(object), use_na_sentinel=True
        )
        year_of = [None, *list(y_uniques)]  # code + 1 -> value (0: missing)
        currency_of = [None, *list(c_uniques)]
        width = len(currency_of)
        pair = (y_codes.astype(np.int64) + 1) * width + (c_codes + 1)
        pair_codes, pair_uniques = pd.factorize(pair)
        pair_rates = np.array(
            [rate(year_of[int(p) // width], currency_of[int(p) % width]) for p in pair_uniques],
            dtype=np.float64,
        )
        per_usd = pd.Series(pair_rates[pair_codes], dtype="Float64")
        is_usd = currency.map(lambda c: c == "USD").astype(bool).to_numpy()
        no_year = amount.notna() & years.isna().to_numpy() & keep.to_numpy() & ~is_usd
        if no_year.any():
            state.problem(
                column,
                f"{int(no_year.sum())} amount(s) without a year for the "
                "exchange rate (map interview_year or set exchange_rate_year)",
            )
        no_currency = (amount.notna() & currency.isna().to_numpy() & keep.to_numpy()).astype(bool)
        if no_currency.any():
            state.problem(
                column,
                f"{int(no_currency.sum())} amount(s) without a currency (the currency column is "
                f"empty, a special code or not a currency) at "
                f"{_rows(state.rows, pd.Series(no_currency.to_numpy()))}",
            )
        usd = amount.astype("Float64") / per_usd.to_numpy()
        if canonical.endswith("_usd"):
            state.out[canonical] = usd
        else:
            target = f"{canonical}_usd"
            if target in table.columns and target not in state.out.columns:
                state.out[target] = usd
            if "currency" in table.columns and "currency" not in state.out.columns:
                state.out["currency"] = currency.astype("string")
    for year, cur in sorted(missing_rates):
        state.problems.append(
            f"{state.where}: no exchange rate for {cur} in {year} (params ingest.exchange_rates)"
        )


def _long_rows(
    state: _FileState, parts: list[pd.DataFrame], keep: pd.Series, columns: Mapping[str, str]
) -> list[pd.DataFrame]:
    """Rows of a long table (special codes, fixes) for the kept rows of one raw table."""
    out = []
    keep_arr = keep.to_numpy()
    for part in parts:
        part = part[keep_arr[part["__idx"].to_numpy()]]
        if part.empty:
            continue
        idx = part["__idx"].to_numpy()
        frame: dict[str, Any] = {
            "source": state.cb.source,
            "table": state.f.table,
            "file": state.f.path,
            "sheet": state.f.sheet,
            "_row": state.rows.to_numpy()[idx],
            "household_id": state.out["household_id"].to_numpy()[idx],
        }
        frame.update({c: part[c].to_numpy() for c in columns if c not in frame})
        out.append(pd.DataFrame(frame, columns=list(columns)))
    return out


def _order_files(cb: Codebook) -> list[FileSpec]:
    done: list[FileSpec] = []
    pending = sorted(cb.files, key=lambda f: (f.table != "households", f.parent is not None))
    while pending:
        progressed = False
        for f in list(pending):
            if f.parent is None or any(d.key == f.parent_file_key for d in done):
                done.append(f)
                pending.remove(f)
                progressed = True
        if not progressed:  # a cycle or a missing parent (reported by check_codebook)
            done.extend(pending)
            break
    return done


_ID_NOISE = re.compile(r"[\s\-_./]+")


def id_key(raw_id: str) -> str:
    """The form of a household id compared across files and waves: no blanks, hyphens,
    underscores, dots or slashes, case folded.

    Examples
    --------
    >>> id_key(" HH-02 0113"), id_key("hh_020113")
    ('hh020113', 'hh020113')
    """
    return _ID_NOISE.sub("", raw_id).casefold()


def household_id_variants(
    cb_raws: Sequence[tuple[Codebook, Mapping[FileKey, RawTable]]],
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Household ids of one or more sources that differ only in case, blanks or hyphens.

    The first spelling met (sources in order, files in codebook order, rows in file order)
    keeps its pseudonym; every other spelling of the same id is given it too, so the household
    is not split across waves or files.

    Returns
    -------
    aliases
        Other spelling -> first spelling (raw ids: used only in memory, never written).
    report
        Per file with such spellings: ``source``, ``table``, ``file``, ``rows`` (rows of the later
        spellings) and ``ids`` (how many distinct ids were merged); no id is included.

    Examples
    --------
    >>> from ctip_research.ingest.codebook import parse_codebook
    >>> cb = parse_codebook({"codebook_version": 1, "source": "s", "wave": 1, "format": "csv",
    ...     "files": [{"path": "a.csv", "table": "households",
    ...                "columns": {"id": {"action": "key", "canonical": "household_id"}}}]})
    >>> raw = RawTable(pd.DataFrame({"id": ["HH-1", "hh1", "HH-2"]}), file="a.csv")
    >>> aliases, report = household_id_variants([(cb, {("a.csv", None): raw})])
    >>> aliases, report[0]["rows"]
    ({'hh1': 'HH-1'}, [3])
    """
    first: dict[str, str] = {}
    aliases: dict[str, str] = {}
    report: list[dict[str, Any]] = []
    for cb, raws in cb_raws:
        for f in cb.files:
            raw = raws.get(f.key)
            cols = [
                c
                for c, spec in f.columns.items()
                if spec.action == "key" and spec.canonical == "household_id"
            ]
            if raw is None or not cols or cols[0] not in raw.data.columns:
                continue
            codes = map_distinct(raw.data[cols[0]], normalise_code)
            # each distinct spelling once, in the order the rows first meet it: the first
            # spelling of a key is the one its first row has
            later: set[str] = set()
            merged: set[str] = set()
            for code in pd.unique(codes.to_numpy(dtype=object)):
                if not isinstance(code, str):
                    continue
                key = id_key(code)
                seen = first.setdefault(key, code)
                if seen != code:
                    aliases[code] = seen
                    later.add(code)
                    merged.add(key)
            rows = [int(r) for r in np.asarray(raw.rows)[codes.isin(later).to_numpy(dtype=bool)]]
            if rows:
                report.append(
                    {
                        "source": cb.source,
                        "table": f.table,
                        "file": f.path + (f" [sheet {f.sheet}]" if f.sheet else ""),
                        "rows": rows,
                        "ids": len(merged),
                    }
                )
    return aliases, report


def _refuse_identifiers(cb: Codebook, raws: Mapping[FileKey, RawTable], codebook_file: str) -> None:
    """Refuse a source whose mapped columns hold identifying values (values not shown)."""
    hits = scan_identifier_values(cb, raws)
    if hits:
        lines = "\n".join(f"  - {line}" for line in format_hits(hits))
        raise PrivacyError(
            f"codebook {codebook_file}: {len(hits)} mapped column(s) hold identifying values "
            f"(values not shown):\n{lines}\nCorrect the raw data (or map a column that holds "
            "identifiers as `pii`); nothing was written"
        )


def _parent_keys(cb: Codebook) -> dict[FileKey, set[str]]:
    """For each parent file, the raw columns its children link to."""
    parent_keys: dict[FileKey, set[str]] = {}
    for f in cb.files:
        pkey = f.parent_file_key
        if pkey is not None and f.parent is not None:
            parent_keys.setdefault(pkey, set()).add(f.parent.parent_key)
    return parent_keys


@dataclass(frozen=True)
class _KeptRows:
    """Rows of a file kept after linking to the parent and requiring a household id."""

    keep: pd.Series
    excluded: Counter[str]
    orphan_rows: list[int]


_INHERITED_COLUMNS = (
    "household_id",
    "_submission_id",
    "_submission_time",
    "interview_year",
    "__year",
)


def _link_and_keep(state: _FileState, parent_frame: pd.DataFrame | None) -> _KeptRows:
    """Inherit ids and year from the parent rows; drop orphans and rows without household id."""
    f, out = state.f, state.out
    excluded: Counter[str] = Counter()
    keep = pd.Series(True, index=out.index)
    if f.parent is not None and parent_frame is not None and "__link" in out.columns:
        col = f"__pkey::{f.parent.parent_key}"
        lookup = parent_frame.dropna(subset=[col]).drop_duplicates(col).set_index(col)
        orphan = ~out["__link"].isin(lookup.index)
        for inherited in _INHERITED_COLUMNS:
            if inherited in lookup.columns and inherited not in out.columns:
                out[inherited] = out["__link"].map(lookup[inherited])
        if "interview_year" in lookup.columns and "__year" not in out.columns:
            out["__year"] = out["__link"].map(lookup["interview_year"])
        keep &= ~orphan
        excluded["no matching parent row"] += int(orphan.sum())
        orphan_rows = [int(r) for r in state.rows[orphan.to_numpy()]]
    else:
        orphan_rows = []
    if "household_id" not in out.columns:
        out["household_id"] = None
    no_id = keep & out["household_id"].isna()
    keep &= ~no_id
    excluded["household id missing"] += int(no_id.sum())
    return _KeptRows(keep=keep, excluded=excluded, orphan_rows=orphan_rows)


def _row_years(
    cb: Codebook, out: pd.DataFrame, keep: pd.Series, hh_year: dict[str, Any]
) -> pd.Series:
    """The year of each kept row for the exchange rate (interview, parent's or household's)."""
    if "interview_year" in out.columns:
        years = pd.to_numeric(out["interview_year"], errors="coerce")
    elif "__year" in out.columns:
        years = pd.to_numeric(out["__year"], errors="coerce")
    else:
        years = out["household_id"].map(hh_year).astype("Float64")
    if cb.exchange_rate_year is not None:
        years = years.fillna(cb.exchange_rate_year)
    return years.astype("Float64").where(keep, np.nan)


def _remember_household_years(f: FileSpec, out: pd.DataFrame, hh_year: dict[str, Any]) -> None:
    """Record each household's first interview year for child files without one."""
    if f.table == "households" and "interview_year" in out.columns:
        for hid, yr in zip(out["household_id"], out["interview_year"], strict=True):
            if hid is not None and pd.notna(yr):
                hh_year.setdefault(hid, yr)


def _add_row_meta(state: _FileState, years: pd.Series, keep: pd.Series) -> None:
    """The year, source, file, sheet and raw row of each row, and the sequence column."""
    cb, f, out = state.cb, state.f, state.out
    out["__year"] = years
    out["_source"] = cb.source
    out["_file"] = f.path
    out["_sheet"] = f.sheet
    out["_row"] = state.rows.to_numpy()
    if f.sequence is not None:
        group = [c for c in ("household_id", "_submission_id") if c in out.columns]
        seq = out[keep].groupby(group, dropna=False, sort=False).cumcount() + 1
        out[f.sequence] = seq.reindex(out.index)


def _column_actions(f: FileSpec) -> dict[str, dict[str, Any]]:
    """Action, canonical name and reason of every listed column, for the ledger."""
    return {
        raw_col: {
            k: v
            for k, v in (
                ("action", spec.action),
                ("canonical", spec.canonical),
                ("reason", spec.reason),
            )
            if v is not None
        }
        for raw_col, spec in f.columns.items()
    }


@dataclass
class _SourceOutputs:
    """What the files of one source add up to: kept rows, long tables and ledger entries."""

    by_table: dict[str, list[pd.DataFrame]] = field(
        default_factory=lambda: {t: [] for t in CANONICAL_TABLES}
    )
    specials: list[pd.DataFrame] = field(default_factory=list)
    fixes: list[pd.DataFrame] = field(default_factory=list)
    reviews: list[pd.DataFrame] = field(default_factory=list)
    ledger_files: list[dict[str, Any]] = field(default_factory=list)

    def add_file(self, state: _FileState, kept: _KeptRows) -> None:
        """Add one file's kept rows, its long-table rows and its ledger entry."""
        f, keep = state.f, kept.keep
        self.by_table[f.table].append(state.out[keep])
        file_specials = _long_rows(state, state.specials, keep, SPECIAL_CODES_COLUMNS)
        file_fixes = _long_rows(state, state.fixes, keep, VALUE_FIXES_COLUMNS)
        file_review = _long_rows(state, state.review, keep, REVIEW_COLUMNS)
        self.specials.extend(file_specials)
        self.fixes.extend(file_fixes)
        self.reviews.extend(file_review)
        special_counts: Counter[str] = Counter()
        for sp in file_specials:
            special_counts.update(sp["reason"].tolist())
        fix_counts: Counter[str] = Counter()
        for fx in file_fixes:
            fix_counts.update(fx["raw_column"].tolist())
        self.ledger_files.append(
            {
                "path": f.path,
                "sheet": f.sheet,
                "table": f.table,
                "rows_in": state.n,
                "rows_out": int(keep.sum()),
                "rows_excluded": {k: v for k, v in sorted(kept.excluded.items()) if v},
                "special_codes": dict(sorted(special_counts.items())),
                "value_fixes": dict(sorted(fix_counts.items())),
                **({"review_values": int(sum(len(r) for r in file_review))} if file_review else {}),
                "constants": sorted(f.constants),
                "orphan_rows": kept.orphan_rows,
                "special_code_clashes": state.clashes,
                "columns": _column_actions(f),
            }
        )

    def result(self, source: str) -> IngestResult:
        """The source's interim tables, long tables and ledger."""
        tables = {
            name: (
                to_interim_table(pd.concat(frames, ignore_index=True), CANONICAL_TABLES[name])
                if frames
                else empty_interim_table(CANONICAL_TABLES[name])
            )
            for name, frames in self.by_table.items()
        }
        special = (
            pd.concat(self.specials, ignore_index=True)
            if self.specials
            else pd.DataFrame(columns=list(SPECIAL_CODES_COLUMNS))
        )
        special = special.astype(SPECIAL_CODES_COLUMNS)
        fixed = (
            pd.concat(self.fixes, ignore_index=True)
            if self.fixes
            else pd.DataFrame(columns=list(VALUE_FIXES_COLUMNS))
        ).astype(VALUE_FIXES_COLUMNS)
        review = (
            pd.concat(self.reviews, ignore_index=True).astype(REVIEW_COLUMNS)
            if self.reviews
            else empty_review_table()
        )
        return IngestResult(
            tables=tables,
            special_codes=special,
            value_fixes=fixed,
            ledger={"source": source, "files": self.ledger_files},
            review=review,
        )


def apply_codebook(
    cb: Codebook,
    raws: Mapping[FileKey, RawTable],
    *,
    exchange_rates: Mapping[int, Mapping[Any, float]],
    hmac_key: str,
    codebook_file: str = "<codebook>",
    id_aliases: Mapping[str, str] | None = None,
    unknown_labels: UnknownLabels = "error",
    code_like: tuple[int, float] | None = None,
) -> IngestResult:
    """Convert the raw tables of one source into interim canonical tables.

    Parameters
    ----------
    cb
        The source's codebook.
    raws
        Its raw tables by (path, sheet), as read by :func:`~ctip_research.ingest.readers.read_raw`.
    exchange_rates
        Year -> currency -> units per USD (``params.ingest.exchange_rates``).
    hmac_key
        Key of the keyed hash for household and submission ids.
    codebook_file
        The codebook's path, for messages.
    id_aliases
        Raw household id -> the spelling whose pseudonym it takes (ids that differ only in
        case, blanks or hyphens; :func:`household_id_variants`).
    unknown_labels
        ``error``: a label not in a column's value map is a problem (the message counts the
        near misses of documented labels, never showing a value); ``propose``: it becomes a missing value and a
        row of :attr:`IngestResult.review` with its proposal (never applied).
    code_like
        ``(min_count, heaping_ratio)`` of :func:`~ctip_research.ingest.review.find_code_like`:
        code-like numbers of numeric columns are recorded in :attr:`IngestResult.review` (the
        value is kept); ``None``: not looked for.

    Returns
    -------
    IngestResult

    Raises
    ------
    CodebookError
        Listing every mismatch: codebook vs schema, codebook vs file columns, unknown codes,
        unreadable numbers, missing exchange rates.

    Examples
    --------
    >>> from ctip_research.ingest.codebook import parse_codebook
    >>> cb = parse_codebook({"codebook_version": 1, "source": "s", "wave": 1, "format": "csv",
    ...     "special_codes": {-99: "refused"},
    ...     "files": [{"path": "a.csv", "table": "households", "columns": {
    ...         "id": {"action": "key", "canonical": "household_id"},
    ...         "size": {"action": "map", "canonical": "household_size"}}}]})
    >>> raw = RawTable(pd.DataFrame({"id": ["A", "B"], "size": ["4", "-99"]}), file="a.csv")
    >>> res = apply_codebook(cb, {("a.csv", None): raw}, exchange_rates={}, hmac_key="k")
    >>> res.tables["households"]["household_size"].tolist()
    [4, <NA>]
    >>> res.special_codes["reason"].tolist()
    ['refused']
    """
    _refuse_identifiers(cb, raws, codebook_file)
    problems = check_codebook(cb, raws)
    if any(f.table not in CANONICAL_TABLES for f in cb.files):
        raise CodebookError(codebook_file, problems)
    done: dict[FileKey, pd.DataFrame] = {}
    outputs = _SourceOutputs()
    hh_year: dict[str, Any] = {}
    parent_keys = _parent_keys(cb)
    for f in _order_files(cb):
        raw = raws.get(f.key)
        if raw is None:
            problems.append(f"{f.path}: raw table not read")
            continue
        table = CANONICAL_TABLES[f.table]
        state = _FileState(
            cb, f, raw, id_aliases, unknown_labels=unknown_labels, code_like=code_like
        )
        _process_columns(state, hmac_key, table)
        out = state.out
        for pk in parent_keys.get(f.key, ()):
            if pk in raw.data.columns:
                out[f"__pkey::{pk}"] = state.codes(pk)
        kept = _link_and_keep(state, done.get(f.parent_file_key) if f.parent_file_key else None)
        years = _row_years(cb, out, kept.keep, hh_year)
        _convert_money(state, table, exchange_rates, years, kept.keep)
        _remember_household_years(f, out, hh_year)
        _add_row_meta(state, years, kept.keep)
        problems.extend(state.problems)
        done[f.key] = out
        outputs.add_file(state, kept)
    if problems:
        raise CodebookError(codebook_file, problems)
    return outputs.result(cb.source)
