"""Readers of raw survey exports: CSV, XLSX (incl. KoboToolbox / ODK), Stata, SPSS, Parquet.

Every reader returns a :class:`RawTable`: the data exactly as exported (no recoding) plus what
the file says about itself (variable labels, value labels, user-missing values). Parsing is left
to pandas, openpyxl and pyreadstat. Every failure (missing, zero-byte, truncated or corrupt file,
wrong format, bad encoding, missing sheet) becomes an
:class:`~ctip_research.errors.InputFileError` that names the file (and the row where one is known)
and never echoes a cell value.

Stata extended missing values ``.a``-``.z`` are returned as the strings ``".a"``-``".z"``; SPSS
user-missing values are kept as their numbers and listed in :attr:`RawTable.missing_ranges`, so
that ingest can turn both into missing values with a reason (never a number).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ctip_research.errors import InputFileError

__all__ = ["RawTable", "detect_format", "list_sheets", "read_raw", "read_xlsx_sheets"]

_STATA_LETTER = re.compile(r"^[a-z]$")


@dataclass(frozen=True)
class RawTable:
    """A raw table as exported, with its metadata.

    Attributes
    ----------
    data
        The columns as in the file (index 0..n-1).
    file
        The file name as shown in messages.
    sheet
        The sheet (XLSX) or ``None``.
    first_row
        Row number, as a user sees it, of the first data row: 2 when row 1 is a header (CSV,
        XLSX), else 1 (Stata, SPSS, Parquet).
    variable_labels
        Column -> variable label (Stata, SPSS).
    value_labels
        Column -> {code: label} (Stata, SPSS).
    missing_ranges
        Column -> list of inclusive (low, high) user-missing ranges (SPSS).
    """

    data: pd.DataFrame
    file: str
    sheet: str | None = None
    first_row: int = 2
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    missing_ranges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def rows(self) -> pd.Series:
        """The row number of each data row as a user sees it (1-based, header counted)."""
        return pd.Series(range(self.first_row, self.first_row + len(self.data)), dtype="Int64")


def detect_format(path: str | Path) -> str:
    """Guess the export format from the file name (``kobo_xlsx`` is decided by the content).

    Examples
    --------
    >>> detect_format("wave2/hh.dta")
    'stata'
    """
    suffix = Path(path).suffix.lower()
    formats = {
        ".csv": "csv",
        ".xlsx": "xlsx",
        ".xlsm": "xlsx",
        ".dta": "stata",
        ".sav": "spss",
        ".zsav": "spss",
        ".parquet": "parquet",
        ".pq": "parquet",
    }
    try:
        return formats[suffix]
    except KeyError:
        raise InputFileError(
            f"unknown file type {suffix!r}; expected one of {sorted(set(formats))}", file=path
        ) from None


def _check_exists(path: Path) -> None:
    if not path.is_file():
        raise InputFileError("file not found", file=path)
    if path.stat().st_size == 0:
        raise InputFileError("file is empty (0 bytes)", file=path)


def _line_of_offset(path: Path, offset: int) -> int:
    with open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def _first_bad_byte(path: Path, encoding: str) -> int:
    try:
        path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        return int(exc.start)
    return 0


def _read_csv(path: Path, encoding: str) -> RawTable:
    try:
        data = pd.read_csv(
            path,
            dtype=str,
            encoding=encoding,
            keep_default_na=False,
            na_values=[""],
            encoding_errors="strict",
        )
    except UnicodeDecodeError:
        start = _first_bad_byte(path, encoding)
        line = _line_of_offset(path, start)
        raise InputFileError(
            f"not valid {encoding} text (byte {start}); re-export the file "
            f"as {encoding} or set its encoding in the codebook",
            file=path,
            row=line,
        ) from None
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        row = int(match.group(1)) if match else None
        raise InputFileError(
            "malformed CSV (wrong number of fields or unbalanced quotes)", file=path, row=row
        ) from None
    except pd.errors.EmptyDataError:
        raise InputFileError("no columns to read (empty CSV)", file=path) from None
    _check_csv_fields(path, encoding, len(data.columns))
    return RawTable(data=data, file=str(path), first_row=2)


def _check_csv_fields(path: Path, encoding: str, n_columns: int) -> None:
    """Raise if a record has fewer fields than the header (pandas pads such rows silently).

    A file cut mid-line (an interrupted copy or download) ends in such a record.
    """
    import csv

    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        row = 1
        for record in reader:
            if not record:  # blank line: skipped by pandas too
                continue
            row += 1
            if len(record) < n_columns:
                raise InputFileError(
                    f"{len(record)} field(s) where the header has {n_columns}: the file is cut "
                    "mid-line (truncated) or malformed",
                    file=path,
                    row=row,
                )


def _xlsx_engine() -> Literal["calamine", "openpyxl"]:
    """``calamine`` (a compiled XLSX reader, about 9x faster) when installed, else openpyxl."""
    try:
        import python_calamine  # noqa: F401
    except ImportError:  # pragma: no cover - python-calamine is a declared dependency
        return "openpyxl"
    return "calamine"


def list_sheets(path: str | Path) -> list[str]:
    """Return the sheet names of an XLSX workbook (raising ``InputFileError`` if unreadable).

    Examples
    --------
    >>> import tempfile
    >>> book = Path(tempfile.mkdtemp()) / "export.xlsx"
    >>> with pd.ExcelWriter(book) as xl:
    ...     for sheet in ("ctip_baseline", "hh_roster"):
    ...         pd.DataFrame({"_index": [1, 2]}).to_excel(xl, sheet_name=sheet, index=False)
    >>> list_sheets(book)
    ['ctip_baseline', 'hh_roster']
    """
    path = Path(path)
    _check_exists(path)
    try:
        if _xlsx_engine() == "calamine":
            from python_calamine import CalamineWorkbook

            return list(CalamineWorkbook.from_path(str(path)).sheet_names)
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()
    except Exception as exc:  # zip, XML and calamine errors alike: never a traceback
        raise InputFileError(
            f"not a readable XLSX workbook ({type(exc).__name__})", file=path
        ) from None


def read_xlsx_sheets(path: str | Path, sheets: list[str | None]) -> dict[str | None, RawTable]:
    """Read several sheets of one XLSX workbook in one pass (the workbook is opened once).

    ``None`` stands for the first sheet. Parsing is pandas' ``read_excel`` with the calamine
    engine (openpyxl if python-calamine is not installed). Raises :class:`InputFileError` for an
    unreadable workbook or a missing sheet.

    Examples
    --------
    >>> import tempfile
    >>> book = Path(tempfile.mkdtemp()) / "export.xlsx"
    >>> with pd.ExcelWriter(book) as xl:
    ...     for sheet in ("ctip_baseline", "hh_roster"):
    ...         pd.DataFrame({"_index": [1, 2]}).to_excel(xl, sheet_name=sheet, index=False)
    >>> raws = read_xlsx_sheets(book, ["ctip_baseline", "hh_roster"])
    >>> int(raws["hh_roster"].rows.iloc[0])  # the spreadsheet row of the first record
    2
    """
    path = Path(path)
    _check_exists(path)
    available = list_sheets(path)
    names = {s: (s if s is not None else available[0]) for s in sheets}
    for name in names.values():
        if name not in available:
            raise InputFileError(
                f"sheet {name!r} not found; the workbook has {available}", file=path
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # text such as "NA", "N/A" or "null" stays text (a household id "NA" is an id);
            # only empty cells are missing. A codebook declares such text missing through
            # special_codes when it means that.
            frames = pd.read_excel(
                path,
                sheet_name=sorted(set(names.values())),
                engine=_xlsx_engine(),
                keep_default_na=False,
                na_values=[""],
            )
    except Exception as exc:  # zip, XML and calamine errors alike: never a traceback
        raise InputFileError(f"workbook cannot be read ({type(exc).__name__})", file=path) from None
    out: dict[str | None, RawTable] = {}
    for sheet, name in names.items():
        data = frames[name]
        data.columns = [str(c) for c in data.columns]
        out[sheet] = RawTable(data=data, file=str(path), sheet=name, first_row=2)
    return out


def _read_xlsx(path: Path, sheet: str | None) -> RawTable:
    return read_xlsx_sheets(path, [sheet])[sheet]


def _readstat_error(path: Path, exc: Exception, kind: str) -> InputFileError:
    reason = str(exc).split("\n")[0][:120]
    return InputFileError(
        f"not a readable {kind} file ({reason}); the file may be truncated, "
        "corrupt or of another format",
        file=path,
    )


def _read_stata(path: Path, encoding: str | None) -> RawTable:
    import pyreadstat

    try:
        data, meta = pyreadstat.read_dta(
            path, user_missing=True, apply_value_formats=False, encoding=encoding
        )
    except Exception as exc:  # pyreadstat raises ReadstatError / PyreadstatError / OSError
        raise _readstat_error(path, exc, "Stata .dta") from None
    numeric = {c for c, t in meta.readstat_variable_types.items() if t != "string"}
    for col in data.columns:
        if col in numeric and data[col].dtype == object:
            data[col] = data[col].map(
                lambda v: f".{v}" if isinstance(v, str) and _STATA_LETTER.match(v) else v
            )
    labels = {k: v for k, v in meta.column_names_to_labels.items() if v}
    value_labels = {k: dict(v) for k, v in meta.variable_value_labels.items()}
    return RawTable(
        data=data, file=str(path), first_row=1, variable_labels=labels, value_labels=value_labels
    )


def _read_spss(path: Path, encoding: str | None) -> RawTable:
    import pyreadstat

    try:
        data, meta = pyreadstat.read_sav(
            path, user_missing=True, apply_value_formats=False, encoding=encoding
        )
    except Exception as exc:
        raise _readstat_error(path, exc, "SPSS .sav") from None
    ranges: dict[str, list[tuple[float, float]]] = {}
    for col, rs in meta.missing_ranges.items():
        for r in rs:
            lo, hi = (r.get("lo"), r.get("hi")) if isinstance(r, dict) else (None, None)
            if isinstance(lo, int | float) and isinstance(hi, int | float):
                ranges.setdefault(col, []).append((float(lo), float(hi)))
    labels = {k: v for k, v in meta.column_names_to_labels.items() if v}
    value_labels = {k: dict(v) for k, v in meta.variable_value_labels.items()}
    return RawTable(
        data=data,
        file=str(path),
        first_row=1,
        variable_labels=labels,
        value_labels=value_labels,
        missing_ranges={k: v for k, v in ranges.items() if v},
    )


def _read_parquet(path: Path) -> RawTable:
    try:
        data = pd.read_parquet(path)
    except Exception as exc:  # pyarrow.ArrowInvalid, OSError
        raise InputFileError(
            f"not a readable Parquet file ({type(exc).__name__})", file=path
        ) from None
    data.columns = [str(c) for c in data.columns]
    return RawTable(data=data.reset_index(drop=True), file=str(path), first_row=1)


def read_raw(
    path: str | Path,
    fmt: str | None = None,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
) -> RawTable:
    r"""Read one raw table (one CSV, one XLSX sheet, one .dta/.sav/.parquet file).

    Parameters
    ----------
    path
        The file.
    fmt
        ``csv``, ``xlsx``, ``kobo_xlsx``, ``stata``, ``spss`` or ``parquet``; guessed from the
        file name if ``None``.
    sheet
        The XLSX sheet (default: the first).
    encoding
        Text encoding (CSV default UTF-8; Stata/SPSS: as declared in the file).

    Returns
    -------
    RawTable

    Raises
    ------
    InputFileError
        If the file is missing, empty, truncated, corrupt, of another format, not valid text in
        the encoding, or lacks the sheet.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("id,x\n1,2\n")
    >>> read_raw(p).rows.tolist()
    [2]
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    _check_exists(path)
    if fmt == "csv":
        return _read_csv(path, encoding or "utf-8")
    if fmt in ("xlsx", "kobo_xlsx"):
        return _read_xlsx(path, sheet)
    if fmt == "stata":
        return _read_stata(path, encoding)
    if fmt == "spss":
        return _read_spss(path, encoding)
    if fmt == "parquet":
        return _read_parquet(path)
    raise InputFileError(f"unknown format {fmt!r}", file=path)
