"""Codebooks: parse, validate, check against the data, and draft a template.

A codebook (``docs/codebook.md``, format version 1) is a YAML data file, one per source, that
says for every raw column what happens to it. :func:`parse_codebook` validates its structure with
pydantic; :func:`check_codebook` compares it with the canonical schema and with the raw tables
and returns *every* mismatch (a mapped column missing, an unlisted raw column, a canonical name
not declared, a ``pii`` column without a reason, two raw columns filling one canonical column,
...). Drafting a codebook from raw files is :mod:`ctip_research.ingest.draft`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ctip_research import literals as L
from ctip_research.errors import CodebookError, InputFileError
from ctip_research.ingest.readers import RawTable
from ctip_research.schemas import CANONICAL_TABLES, Table
from ctip_research.strict_yaml import load_yaml

__all__ = [
    "Codebook",
    "ColumnSpec",
    "FileKey",
    "FileSpec",
    "ParentSpec",
    "check_codebook",
    "map_distinct",
    "normalise_code",
    "parse_codebook",
    "read_codebook",
]

#: Identifies one raw table of a codebook: (path relative to the codebook, sheet or None).
FileKey = tuple[str, str | None]

KEY_COLUMNS = ("household_id", "member_id", "loan_id")
#: Geographic codes below district level: a real survey must map them with ``pseudonymise: true``
#: (a village or commune code re-identifies households together with a village list).
SUB_DISTRICT_CODES = ("psu_id", "commune_code")
#: Interim meta columns a codebook ``meta`` column may fill: submission id and time (duplicate
#: resolution) and the loan module's filter question (clean's skip-logic check).
META_COLUMNS = ("_submission_id", "_submission_time", "_has_loan_reported")


#: Kinds of an object column (pandas ``infer_dtype``, missing values skipped) whose equal values
#: are values of one type: 1 and True, or 1 and 1.0, never meet in them.
_ONE_KIND = frozenset({"string", "integer", "floating", "boolean", "empty"})


def map_distinct(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``values.map(func)`` with ``func`` called once per distinct value: the same result.

    A survey column holds a few codes (or one id per household) on many rows; calling a Python
    function per row is what made ingest slow at census size. ``func`` must be pure. Missing
    values are mapped once per type (``None``, ``nan``, ``pd.NA``); an object column that mixes
    kinds whose values compare equal across types (``1 == 1.0 == True``) falls back to
    ``Series.map``, so the result is always the per-row one.

    Examples
    --------
    >>> s = pd.Series(["a", "b", "a", None, "b"])
    >>> map_distinct(s, lambda v: v.upper() if isinstance(v, str) else "-").tolist()
    ['A', 'B', 'A', '-', 'B']
    >>> map_distinct(pd.Series([1, True, 1.0], dtype=object), normalise_code).tolist()
    ['1', 'true', '1']
    """
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in _ONE_KIND:
        return values.map(func)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) == len(values) and len(values) > 0:
        return values.map(func)
    mapped = pd.Series(np.asarray(uniques, dtype=object), dtype=object).map(func)
    na = codes < 0
    if na.any():
        # each kind of missing value once, in the order of first appearance
        na_values = values.to_numpy(dtype=object)[na]
        kinds: dict[type, int] = {}
        for v in na_values:
            kinds.setdefault(type(v), len(kinds))
        na_index = np.fromiter((kinds[type(v)] for v in na_values), dtype=np.intp)
        extra = pd.Series(
            [next(v for v in na_values if type(v) is k) for k in kinds], dtype=object
        ).map(func)
        mapped = pd.concat([mapped, extra], ignore_index=True) if len(mapped) else extra
        codes = codes.copy()
        codes[na] = len(uniques) + na_index
    out = mapped.take(codes)
    out.index = values.index
    out.name = values.name
    return out


def normalise_code(value: Any) -> str | None:
    """Return the text form used to compare a raw value with codebook keys.

    Integral numbers lose their decimals (``1.0`` -> ``"1"``), text is put in Unicode NFC (so
    the same word typed with composed or decomposed characters compares equal) and stripped, booleans become
    ``"true"``/``"false"``; missing values give ``None``.

    Examples
    --------
    >>> [normalise_code(v) for v in (1, 1.0, " -99 ", True, 0.5, None, float("nan"))]
    ['1', '1', '-99', 'true', '0.5', None, None]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text if text else None


def _normalise_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = normalise_code(k)
            out[key if key is not None else ""] = v
        return out
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Model):
    """What happens to one raw column (``docs/codebook.md``, column actions and options)."""

    action: L.CodebookAction
    canonical: str | None = None
    values: dict[str, str | int | float | bool] | None = None
    scale: float | None = None
    currency: L.Currency | None = None
    currency_column: str | None = None
    special_codes: dict[str, str] | None = None
    fixes: dict[str, str | int | float] | None = None
    pseudonymise: bool = False
    khmer_text: bool = False
    reason: str | None = None
    label: str | None = None
    review: str | None = None

    _norm_values = field_validator("values", "special_codes", "fixes", mode="before")(
        classmethod(lambda cls, v: _normalise_keys(v))
    )


class ParentSpec(_Model):
    """Link of a child sheet/file (repeat group) to its parent rows."""

    path: str | None = None
    sheet: str | None = None
    key: str
    parent_key: str


class FileSpec(_Model):
    """One raw table (a CSV, an XLSX sheet, a .dta/.sav/.parquet file) -> one canonical table."""

    path: str
    sheet: str | None = None
    table: str
    encoding: str | None = None
    row_key: str | None = None
    parent: ParentSpec | None = None
    constants: dict[str, str | int | float | bool] = {}
    sequence: str | None = None
    review: str | None = None
    columns: dict[str, ColumnSpec]

    @property
    def key(self) -> FileKey:
        """(path, sheet) of this raw table."""
        return (self.path, self.sheet)

    @property
    def parent_file_key(self) -> FileKey | None:
        """(path, sheet) of the parent table, if any."""
        if self.parent is None:
            return None
        return (self.parent.path or self.path, self.parent.sheet)


class Codebook(_Model):
    """A source's codebook (format version 1)."""

    codebook_version: int
    survey: str | None = None
    source: str
    description: str = ""
    wave: int
    format: L.RawFormat
    synthetic: bool = False
    exchange_rate_year: int | None = None
    special_codes: dict[str, str] = {}
    pii_waivers: dict[str, str] = {}
    files: list[FileSpec]

    _norm_specials = field_validator("special_codes", mode="before")(
        classmethod(lambda cls, v: _normalise_keys(v))
    )

    def file(self, key: FileKey) -> FileSpec:
        """Return the file spec of a (path, sheet) key."""
        for f in self.files:
            if f.key == key:
                return f
        raise KeyError(key)


def parse_codebook(data: Any, *, file: str = "<codebook>") -> Codebook:
    """Validate a codebook mapping (as read from YAML), listing every structural error.

    Examples
    --------
    >>> cb = parse_codebook({"codebook_version": 1, "source": "s", "wave": 1, "format": "csv",
    ...     "files": [{"path": "a.csv", "table": "households",
    ...                "columns": {"id": {"action": "key", "canonical": "household_id"}}}]})
    >>> cb.files[0].columns["id"].action
    'key'
    """
    if not isinstance(data, Mapping):
        raise CodebookError(file, [f"a codebook must be a mapping, got {type(data).__name__}"])
    try:
        cb = Codebook.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{loc}: {msg}")
        raise CodebookError(file, problems) from None
    if cb.codebook_version != 1:
        raise CodebookError(
            file,
            [
                f"codebook_version {cb.codebook_version} is not supported "
                "(this package reads version 1)"
            ],
        )
    return cb


def _where(f: FileSpec) -> str:
    return f"{f.path}" + (f" [sheet {f.sheet}]" if f.sheet else "")


def _targets_of(spec: ColumnSpec, canonical: str, declared: set[str]) -> list[str]:
    """Canonical columns a raw column fills: its target and, for an amount kept in its own
    currency (``loans.principal``), the ``<target>_usd`` column it derives (and ``currency``
    when the currency is fixed; a ``currency_column`` mapped to ``currency`` agrees with it).
    """
    out = [canonical]
    if (spec.currency or spec.currency_column) and not canonical.endswith("_usd"):
        out += [c for c in (f"{canonical}_usd",) if c in declared]
        if spec.currency and "currency" in declared:
            out.append("currency")
    return out


def _check_column_action(at: str, spec: ColumnSpec) -> list[str]:
    """Whether the column's action takes a canonical name (and a pii column a reason)."""
    problems: list[str] = []
    canonical = spec.canonical
    if spec.action in ("map", "key", "meta") and not canonical:
        problems.append(f"{at}: action {spec.action!r} needs 'canonical'")
    if spec.action in ("pii", "unused", "link", "parent_key") and canonical:
        problems.append(f"{at}: action {spec.action!r} takes no 'canonical'")
    if spec.action == "pii" and not (spec.reason and spec.reason.strip()):
        problems.append(f"{at}: a pii column needs a 'reason'")
    return problems


def _check_map_target(at: str, spec: ColumnSpec, table: Table) -> list[str]:
    """A mapped column's canonical name: declared, not an id, its values and currency fit."""
    canonical = spec.canonical
    if spec.action != "map" or not canonical:
        return []
    if canonical not in table.columns:
        return [
            f"{at}: canonical name {canonical!r} is not declared in "
            f"table {table.name} (schemas/tables.py)"
        ]
    if canonical in KEY_COLUMNS:
        return [f"{at}: {canonical} is an id; use action 'key'"]
    problems: list[str] = []
    fld = table.field(canonical)
    if spec.values and fld.allowed is not None:
        bad = sorted({str(v) for v in spec.values.values() if v not in fld.allowed})
        if bad:
            problems.append(
                f"{at}: value map gives {bad}, not allowed for {canonical} ({list(fld.allowed)})"
            )
    if (spec.currency or spec.currency_column) and fld.type != "float":
        problems.append(f"{at}: currency given for non-money column {canonical}")
    return problems


def _check_key_and_meta(at: str, spec: ColumnSpec, table: Table) -> list[str]:
    """A key column maps to an id of the table; a meta column to a meta column."""
    problems: list[str] = []
    canonical = spec.canonical
    if spec.action == "key" and canonical:
        if canonical not in KEY_COLUMNS:
            problems.append(
                f"{at}: action 'key' maps to one of {list(KEY_COLUMNS)}, not {canonical!r}"
            )
        elif canonical not in table.columns:
            problems.append(f"{at}: {canonical} is not a column of table {table.name}")
    if spec.action == "meta" and canonical and canonical not in META_COLUMNS:
        problems.append(f"{at}: action 'meta' maps to one of {list(META_COLUMNS)}")
    return problems


def _check_currency_spec(at: str, spec: ColumnSpec, f: FileSpec) -> list[str]:
    """Either a fixed currency or a listed currency column, not both."""
    problems: list[str] = []
    if spec.currency and spec.currency_column:
        problems.append(f"{at}: give either 'currency' or 'currency_column', not both")
    if spec.currency_column and spec.currency_column not in f.columns:
        problems.append(f"{at}: currency_column {spec.currency_column!r} is not listed")
    return problems


def _check_map_privacy(at: str, spec: ColumnSpec, table: Table, cb: Codebook) -> list[str]:
    """Pseudonymised columns are text; codes below district level are pseudonymised."""
    problems: list[str] = []
    canonical = spec.canonical
    if spec.action != "map" or not canonical or canonical not in table.columns:
        return problems
    ftype = table.field(canonical).type
    if spec.pseudonymise and ftype != "str":
        problems.append(f"{at}: pseudonymise needs a text column; {canonical} is {ftype}")
    if canonical in SUB_DISTRICT_CODES and not spec.pseudonymise and not cb.synthetic:
        problems.append(
            f"{at}: {canonical} is a geographic code below district level; "
            "add 'pseudonymise: true' (keyed hash) so the raw code never reaches "
            "the processed layer"
        )
    return problems


def _check_columns(cb: Codebook, f: FileSpec, table: Table) -> tuple[list[str], dict[str, str]]:
    """Every column spec of a file; the problems and the raw column filling each target."""
    problems: list[str] = []
    where = _where(f)
    declared = set(table.columns)
    targets: dict[str, str] = {}
    for raw, spec in f.columns.items():
        at = f"{where}, column {raw!r}"
        problems += _check_column_action(at, spec)
        problems += _check_map_target(at, spec, table)
        problems += _check_key_and_meta(at, spec, table)
        problems += _check_currency_spec(at, spec, f)
        problems += _check_map_privacy(at, spec, table, cb)
        canonical = spec.canonical
        if spec.action in ("map", "key", "meta") and canonical:
            for target in _targets_of(spec, canonical, declared):
                if target in targets:
                    problems.append(
                        f"{at}: canonical {target!r} is also the target of "
                        f"{targets[target]!r}; map one raw column to it, not both"
                    )
                targets[target] = raw
    return problems, targets


def _check_constants_and_sequence(f: FileSpec, table: Table, targets: dict[str, str]) -> list[str]:
    """Constants and the sequence column are declared and not also mapped; row_key is listed."""
    problems: list[str] = []
    where = _where(f)
    declared = set(table.columns)
    for name in f.constants:
        if name not in declared:
            problems.append(f"{where}: constant {name!r} is not declared in table {f.table}")
        elif name in targets:
            problems.append(f"{where}: constant {name!r} is also mapped from a column")
    if f.sequence is not None:
        if f.sequence not in ("member_id", "loan_id") or f.sequence not in declared:
            problems.append(f"{where}: sequence must be member_id or loan_id of {f.table}")
        elif f.sequence in targets:
            problems.append(f"{where}: sequence {f.sequence!r} is also mapped from a column")
    if f.row_key is not None and f.row_key not in f.columns:
        problems.append(f"{where}: row_key {f.row_key!r} is not listed in columns")
    return problems


def _check_parent(
    cb: Codebook, f: FileSpec, keys: list[FileKey], targets: dict[str, str]
) -> list[str]:
    """A child file's parent and link column, or else a household id of its own."""
    problems: list[str] = []
    where = _where(f)
    if f.parent is not None:
        pkey = f.parent_file_key
        if pkey not in keys:
            problems.append(f"{where}: parent {pkey} is not a file of this codebook")
        else:
            parent = cb.file(pkey) if pkey is not None else f
            if f.parent.parent_key not in parent.columns:
                problems.append(
                    f"{where}: parent_key {f.parent.parent_key!r} is not listed "
                    f"in the parent's columns"
                )
        link = f.columns.get(f.parent.key)
        if link is None or link.action != "link":
            problems.append(
                f"{where}: the parent link column {f.parent.key!r} must be "
                "listed with action 'link'"
            )
    elif "household_id" not in targets:
        problems.append(
            f"{where}: no column maps to household_id (action 'key') and no parent is given"
        )
    for raw, spec in f.columns.items():
        if spec.action == "link" and (f.parent is None or f.parent.key != raw):
            problems.append(f"{where}, column {raw!r}: action 'link' but not the parent key")
    return problems


def _check_static(cb: Codebook) -> list[str]:
    """Every problem of a codebook that can be found without data, file by file."""
    problems: list[str] = []
    keys = [f.key for f in cb.files]
    for f in cb.files:
        where = _where(f)
        if keys.count(f.key) > 1:
            problems.append(f"{where}: listed more than once")
        if f.table not in CANONICAL_TABLES:
            problems.append(
                f"{where}: table {f.table!r} is not a canonical table ({sorted(CANONICAL_TABLES)})"
            )
            continue
        table = CANONICAL_TABLES[f.table]
        column_problems, targets = _check_columns(cb, f, table)
        problems += column_problems
        problems += _check_constants_and_sequence(f, table, targets)
        problems += _check_parent(cb, f, keys, targets)
    return problems


def check_codebook(cb: Codebook, raws: Mapping[FileKey, RawTable] | None = None) -> list[str]:
    """Return every mismatch between a codebook, the canonical schema and the raw tables.

    Checked without data: canonical tables and names declared in ``schemas/tables.py``, value
    maps giving allowed values, ``pii`` columns with a reason, ids mapped with action ``key``,
    parent links, duplicate targets, constants. With ``raws`` (the raw tables by (path, sheet)):
    a listed column missing from its file and a raw column not listed. Unknown codes and
    unreadable values are found while applying (:func:`~ctip_research.ingest.apply.apply_codebook`),
    which reports them together with these.

    Examples
    --------
    >>> cb = parse_codebook({"codebook_version": 1, "source": "s", "wave": 1, "format": "csv",
    ...     "files": [{"path": "a.csv", "table": "households", "columns": {
    ...         "id": {"action": "key", "canonical": "household_id"},
    ...         "nm": {"action": "pii"}}}]})
    >>> check_codebook(cb)
    ["a.csv, column 'nm': a pii column needs a 'reason'"]
    """
    problems = _check_static(cb)
    if raws is None:
        return problems
    for f in cb.files:
        raw = raws.get(f.key)
        if raw is None:
            continue
        where = _where(f)
        present = list(raw.data.columns)
        missing = [c for c in f.columns if c not in present]
        unlisted = [c for c in present if c not in f.columns]
        if missing:
            problems.append(
                f"{where}: {len(missing)} listed column(s) missing from the file: {missing}"
            )
        if unlisted:
            problems.append(
                f"{where}: {len(unlisted)} raw column(s) not listed in the codebook "
                f"(every raw column needs an action): {unlisted}"
            )
    return problems


def read_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file (structure only; see :func:`check_codebook`).

    Examples
    --------
    >>> cb = read_codebook("tests/data/example_survey/wave1_csv.codebook.yaml")
    >>> cb.source, cb.wave
    ('example_w1', 1)
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(
            "codebook not found (check params ingest.sources)", file=path
        ) from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"codebook is not valid UTF-8 (byte {exc.start})", file=path) from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputFileError(
            f"codebook is not valid YAML ({getattr(exc, 'problem', 'syntax')})",
            file=path,
            row=mark.line + 1 if mark else None,
        ) from None
    return parse_codebook(data, file=str(path))
