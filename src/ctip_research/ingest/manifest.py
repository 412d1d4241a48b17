"""Raw-file manifest: notice a changed raw file before it is parsed.

A source directory may hold ``manifest.json`` with the sha256 and size of every raw file (the
synthetic generator writes one; a data manager writes one when raw data is delivered). Ingest
compares each file it is about to read with its entry; a difference raises
:class:`~ctip_research.errors.RawFileChangedError` naming the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ctip_research.errors import InputFileError, RawFileChangedError
from ctip_research.io import file_sha256, read_json

__all__ = ["MANIFEST_NAME", "check_manifest", "check_manifest_rows", "manifest_entries"]

MANIFEST_NAME = "manifest.json"


def manifest_entries(manifest: Any) -> dict[str, dict[str, Any]]:
    """Normalise a manifest to ``{relative path: {"sha256": ..., "bytes": ...}}``.

    Accepted shapes: ``{"files": {path: entry}}``, ``{"files": [{"path": path, ...}]}`` or
    ``{path: entry}``.

    Examples
    --------
    >>> manifest_entries({"files": [{"path": "a.csv", "sha256": "x", "bytes": 3}]})
    {'a.csv': {'path': 'a.csv', 'sha256': 'x', 'bytes': 3}}
    """
    files = manifest.get("files", manifest) if isinstance(manifest, Mapping) else manifest
    if isinstance(files, Mapping):
        return {str(k): dict(v) for k, v in files.items() if isinstance(v, Mapping)}
    if isinstance(files, list):
        return {str(e["path"]): dict(e) for e in files if isinstance(e, Mapping) and "path" in e}
    return {}


def check_manifest(directory: str | Path, files: Iterable[str]) -> list[str]:
    """Compare ``files`` (paths relative to ``directory``) with ``directory/manifest.json``.

    Returns the files checked (those listed in the manifest); files not in the manifest are not
    checked. Without a manifest nothing is checked.

    Raises
    ------
    RawFileChangedError
        A file's size or sha256 differs from its manifest entry, or a listed file is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("x")
    >>> check_manifest(d, ["a.csv"])  # no manifest.json: nothing to compare
    []
    """
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        entries = manifest_entries(read_json(path))
    except (ValueError, OSError):
        raise InputFileError("raw-file manifest is not valid JSON", file=path) from None
    checked = []
    for rel in dict.fromkeys(files):
        entry = entries.get(rel)
        if entry is None:
            continue
        target = directory / rel
        if not target.is_file():
            raise RawFileChangedError(f"raw file {target} is listed in {path} but missing")
        size = target.stat().st_size
        expected_size = entry.get("bytes", entry.get("size"))
        if expected_size is not None and int(expected_size) != size:
            raise RawFileChangedError(
                f"raw file {target} changed since it was registered in {path}: {size} bytes, "
                f"manifest says {expected_size}"
            )
        expected_sha = entry.get("sha256")
        if expected_sha is not None and file_sha256(target) != expected_sha:
            raise RawFileChangedError(
                f"raw file {target} changed since it was registered in {path} (sha256 differs)"
            )
        checked.append(rel)
    return checked


def check_manifest_rows(directory: str | Path, rows: Mapping[str, int]) -> list[str]:
    """Compare the data rows read from each file with the ``rows`` of its manifest entry.

    Run after parsing (counting rows needs the parse, which ingest does anyway); sha256 and
    size are checked before parsing by :func:`check_manifest`. ``rows`` maps a path relative to
    ``directory`` to the number of data rows read (for a workbook: all its sheets). Entries
    without ``rows`` (or ``rows: null``) are not compared. Returns the files compared.

    Raises
    ------
    RawFileChangedError
        The number of rows read differs from the manifest.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "manifest.json").write_text(json.dumps({"files": {"a.csv": {"rows": 2}}}))
    >>> check_manifest_rows(d, {"a.csv": 2})
    ['a.csv']
    """
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        entries = manifest_entries(read_json(path))
    except (ValueError, OSError):
        raise InputFileError("raw-file manifest is not valid JSON", file=path) from None
    compared = []
    for rel, n in rows.items():
        expected = (entries.get(rel) or {}).get("rows")
        if expected is None:
            continue
        if int(expected) != int(n):
            raise RawFileChangedError(
                f"raw file {directory / rel}: {n} data row(s) read, manifest {path} says "
                f"{expected}; the file was cut or changed"
            )
        compared.append(rel)
    return compared
