"""Byte-determinism of the binary formats the pipeline writes: zip containers (XLSX, DOCX) and
Stata ``.dta`` headers.

The same data must give the same bytes (``dvc repro`` twice leaves every hash unchanged). Text,
CSV, JSON and Parquet writers in :mod:`ctip_research.io` are deterministic by construction; the
formats here carry a clock: a zip records each member's modification time and an Office document
its ``modified`` property, and a ``.dta`` header its creation time. These helpers put a fixed
value in their place, for every writer of the package (the synthetic survey's Kobo workbook and
Stata files, the processed tables' Stata export, the Word regression tables).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterable

__all__ = [
    "FIXED_DTA_TIMESTAMP",
    "FIXED_ZIP_TIME",
    "fix_dta_timestamp",
    "fix_dta_timestamp_file",
    "normalise_office_zip",
    "write_zip",
]

#: Timestamp written into a .dta header unless a writer names another (Stata format:
#: ``dd Mon yyyy hh:mm``).
FIXED_DTA_TIMESTAMP = b"01 Jan 2000 00:00"
#: Modification time of every zip member unless a writer names another.
FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

_DTA_TIMESTAMP = rb"<timestamp>\x11.{17}</timestamp>"
#: Bytes of a .dta file searched for the timestamp (it is in the header, within the first ~200).
_HEADER_BYTES = 4096


def write_zip(
    members: Iterable[tuple[str, bytes]],
    *,
    date_time: tuple[int, int, int, int, int, int] = FIXED_ZIP_TIME,
    external_attr: int | None = None,
) -> bytes:
    """A deflated zip of ``members`` (name, content) in the given order, every member stamped
    ``date_time``.

    Parameters
    ----------
    members
        ``(name, content)`` pairs, written in this order.
    date_time
        The modification time of every member.
    external_attr
        Member attributes (e.g. ``0o644 << 16`` for rw-r--r--); None leaves zipfile's 0.

    Examples
    --------
    >>> a = write_zip([("a.txt", b"x")])
    >>> a == write_zip([("a.txt", b"x")]), zipfile.ZipFile(io.BytesIO(a)).read("a.txt")
    (True, b'x')
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            if external_attr is not None:
                info.external_attr = external_attr
            dst.writestr(info, content)
    return buf.getvalue()


def normalise_office_zip(
    data: bytes, *, date_time: tuple[int, int, int, int, int, int] = FIXED_ZIP_TIME
) -> bytes:
    """Rewrite an Office Open XML file (DOCX, XLSX) with fixed member times and without the
    ``dcterms:modified`` document property, members in their original order.

    Examples
    --------
    >>> core = b'<cp:coreProperties><dcterms:modified x="1">2026-01-02</dcterms:modified></cp:coreProperties>'
    >>> doc = write_zip([("docProps/core.xml", core)], date_time=(2026, 1, 2, 3, 4, 6))
    >>> out = normalise_office_zip(doc)
    >>> zipfile.ZipFile(io.BytesIO(out)).read("docProps/core.xml")
    b'<cp:coreProperties></cp:coreProperties>'
    >>> zipfile.ZipFile(io.BytesIO(out)).infolist()[0].date_time
    (2020, 1, 1, 0, 0, 0)
    """
    src = zipfile.ZipFile(io.BytesIO(data))

    def members() -> Iterable[tuple[str, bytes]]:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", content)
            yield info.filename, content

    return write_zip(members(), date_time=date_time)


def fix_dta_timestamp(data: bytes, stamp: bytes = FIXED_DTA_TIMESTAMP) -> bytes:
    r"""Replace the creation timestamp in a Stata 117+ header by ``stamp`` (17 bytes).

    Examples
    --------
    >>> fix_dta_timestamp(b"<timestamp>\x1129 Nov 2026 00:13</timestamp>")
    b'<timestamp>\x1101 Jan 2000 00:00</timestamp>'
    """
    _check_stamp(stamp)
    return re.sub(
        _DTA_TIMESTAMP,
        b"<timestamp>\x11" + stamp + b"</timestamp>",
        data,
        count=1,
        flags=re.DOTALL,
    )


def fix_dta_timestamp_file(
    path: str | os.PathLike[str], stamp: bytes = FIXED_DTA_TIMESTAMP
) -> bool:
    r"""Patch the header timestamp of a Stata 117+ file in place (reads only the header).

    The same bytes as ``path.write_bytes(fix_dta_timestamp(path.read_bytes(), stamp))`` without
    holding the file in memory (a .dta of a large table is hundreds of MB).

    Returns
    -------
    bool
        Whether a timestamp was found and written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.dta"
    >>> _ = p.write_bytes(b"<stata_dta><timestamp>\x1129 Nov 2026 00:13</timestamp>data")
    >>> fix_dta_timestamp_file(p), p.read_bytes()[23:40]
    (True, b'01 Jan 2000 00:00')
    """
    _check_stamp(stamp)
    with open(path, "r+b") as fh:
        head = fh.read(_HEADER_BYTES)
        m = re.search(_DTA_TIMESTAMP, head, flags=re.DOTALL)
        if m is None:
            return False
        fh.seek(m.start() + len(b"<timestamp>\x11"))
        fh.write(stamp)
    return True


def _check_stamp(stamp: bytes) -> None:
    if len(stamp) != 17:
        raise ValueError(f"a .dta timestamp is 17 bytes ('dd Mon yyyy hh:mm'), got {stamp!r}")
