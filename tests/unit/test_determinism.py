"""Byte-determinism of zip containers (XLSX, DOCX) and Stata headers.

The references are the writers these helpers replaced (spelled out below with zipfile and
bytes.find) -- the same bytes, so the synthetic survey, the Stata export and the Word tables
kept their hashes -- and pyreadstat 1.3, which must still read a patched file.
"""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
import pyreadstat
import pytest

from ctip_research.determinism import (
    fix_dta_timestamp,
    fix_dta_timestamp_file,
    normalise_office_zip,
    write_zip,
)

MEMBERS = [("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook>" * 50)]


def test_write_zip_equals_the_earlier_workbook_writer() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, content in MEMBERS:
            zi = zipfile.ZipInfo(name, date_time=(2022, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, content)
    ours = write_zip(MEMBERS, date_time=(2022, 1, 1, 0, 0, 0), external_attr=0o644 << 16)
    assert ours == out.getvalue()


def test_normalise_office_zip_equals_the_earlier_docx_rewrite_and_drops_the_clock() -> None:
    core = b'<cp:core><dcterms:modified xsi:type="W3CDTF">2026-12-04T07:00:00Z</dcterms:modified></cp:core>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # stamped with today's clock
        z.writestr("word/document.xml", b"<w:document/>")
        z.writestr("docProps/core.xml", core)
    data = buf.getvalue()
    earlier = io.BytesIO()
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(earlier, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, content)
    ours = normalise_office_zip(data)
    assert ours == earlier.getvalue()
    assert b"2026" not in zipfile.ZipFile(io.BytesIO(ours)).read("docProps/core.xml")


def test_dta_timestamp_with_a_writer_stamp_equals_the_earlier_patch_and_reads(tmp_path) -> None:
    path = tmp_path / "firm.dta"
    pyreadstat.write_dta(pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]}), str(path))
    data = path.read_bytes()
    # the earlier patch of the synthetic firm files: find the tag, keep its length byte
    i = data.find(b"<timestamp>")
    length = data[i + 11]
    earlier = data[: i + 12] + b"01 Jan 2025 00:00"[:length].ljust(length) + data[i + 12 + length :]
    assert fix_dta_timestamp(data, b"01 Jan 2025 00:00") == earlier
    assert fix_dta_timestamp_file(path, b"01 Jan 2025 00:00") is True
    assert path.read_bytes() == earlier
    assert pyreadstat.read_dta(str(path))[0]["x"].tolist() == [1.0, 2.0]


def test_dta_timestamp_refuses_a_stamp_of_the_wrong_length(tmp_path) -> None:
    with pytest.raises(ValueError, match="17 bytes"):
        fix_dta_timestamp(b"", b"2025-01-01")
