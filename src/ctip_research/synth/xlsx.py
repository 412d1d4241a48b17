"""A minimal, deterministic XLSX workbook (fixed zip timestamps and document properties)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip_research.determinism import write_zip

__all__ = ["xlsx_bytes"]

_FIXED_ZIP_TIME = (2022, 1, 1, 0, 0, 0)
_FIXED_ISO = "2022-01-01T00:00:00Z"


def _col_letter(i: int) -> str:
    """Spreadsheet column letters of the 0-based column ``i`` (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _sheet_xml(df: pd.DataFrame) -> str:
    """SpreadsheetML of one sheet: header row, then numbers as numbers, text as inline strings."""
    cols: list[np.ndarray] = []
    n = len(df)
    rownum = np.arange(2, n + 2).astype(str).astype(object)
    for j, name in enumerate(df.columns):
        letter = _col_letter(j)
        s = df[name]
        ref = f'<c r="{letter}' + rownum
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            vals = s.to_numpy()
            ok = ~pd.isna(vals)
            text = np.asarray(
                [
                    repr(float(v))
                    if isinstance(v, float | np.floating) and not float(v).is_integer()
                    else str(int(v))
                    for v in np.where(ok, vals, 0)
                ],
                dtype=object,
            )
            cell = np.where(ok, ref + '"><v>' + text + "</v></c>", "")
        else:
            vals = s.astype(object).to_numpy()
            ok = ~pd.isna(vals)
            out = np.full(n, "", dtype=object)
            for i in np.flatnonzero(ok):
                v = vals[i]
                if isinstance(v, bool | np.bool_):
                    v = int(v)
                if isinstance(v, int | float | np.integer | np.floating):
                    out[i] = (
                        f'{ref[i]}"><v>{v!r}</v></c>'
                        if isinstance(v, float)
                        else f'{ref[i]}"><v>{int(v)}</v></c>'
                    )
                else:
                    out[i] = (
                        f'{ref[i]}" t="inlineStr"><is><t xml:space="preserve">{_esc(str(v))}</t></is></c>'
                    )
            cell = out
        cols.append(cell)
    header = "".join(
        f'<c r="{_col_letter(j)}1" t="inlineStr"><is><t>{_esc(str(c))}</t></is></c>'
        for j, c in enumerate(df.columns)
    )
    body = np.full(n, "", dtype=object)
    for c in cols:
        body = body + c
    rows = "".join(f'<row r="{i + 2}">{b}</row>' for i, b in enumerate(body))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        # the used range, as Excel and Kobo write it; without it openpyxl's read-only reader
        # scans every sheet once more just to size it
        f'<dimension ref="A1:{_col_letter(max(len(df.columns) - 1, 0))}{n + 1}"/>'
        f'<sheetData><row r="1">{header}</row>{rows}</sheetData></worksheet>'
    )


def _esc(s: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for XML text."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A minimal, deterministic XLSX (Office Open XML) workbook, one sheet per DataFrame.

    Written directly (inline strings, no styles) because openpyxl needs about 20 s for the
    half-million cells of the default export; the result reads with openpyxl, pandas and Excel.
    """
    ns = "http://schemas.openxmlformats.org"
    names = list(sheets)
    files: dict[str, str] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{ns}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(len(names))
            )
            + '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{ns}/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            "</Relationships>"
        ),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<cp:coreProperties xmlns:cp="{ns}/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:title>CTIP baseline (synthetic)</dc:title><dc:creator>KoboToolbox</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{_FIXED_ISO}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{_FIXED_ISO}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/2006/relationships"><sheets>'
            + "".join(
                f'<sheet name="{_esc(nm)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                for i, nm in enumerate(names)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i + 1}" Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                for i in range(len(names))
            )
            + "</Relationships>"
        ),
    }
    for i, nm in enumerate(names):
        files[f"xl/worksheets/sheet{i + 1}.xml"] = _sheet_xml(sheets[nm])
    return write_zip(
        ((name, text.encode("utf-8")) for name, text in files.items()),
        date_time=_FIXED_ZIP_TIME,
        external_attr=0o644 << 16,
    )
