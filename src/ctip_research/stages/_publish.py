"""Writing check records beside published artefacts (shared by the publishing stages).

A record is what :func:`ctip_research.disclosure.disclose` returned, plus ``files``: the name
(relative to the record's directory) and sha256 of every file it vouches for. The tree audit
(:func:`ctip_research.disclosure.audit_publication`, ``ctip audit``) fails on any published file
that no passing record lists with its current sha256.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ctip_research.disclosure import RECORD_SUFFIX, DisclosurePolicy, Document, disclose
from ctip_research.errors import DisclosureError, InputFileError
from ctip_research.io import PUBLISHED_DIGITS, file_sha256, read_json, write_json

__all__ = ["combine_records", "read_record", "write_record"]


def write_record(
    directory: Path, stem: str, record: Mapping[str, Any], files: Iterable[Path]
) -> Path:
    """Write ``<directory>/<stem>.disclosure.json`` (``disclosure.json`` when ``stem`` is
    empty) listing ``files`` with their sha256; the record must have passed.
    """
    if not record.get("passed"):
        raise DisclosureError(f"refusing to publish {record.get('artefact')!r}: its check failed")
    listed = {}
    for f in files:
        f = Path(f)
        listed[f.resolve().relative_to(directory.resolve()).as_posix()] = file_sha256(f)
    if not listed:
        raise DisclosureError(f"record {stem or 'disclosure'!r} vouches for no file")
    name = f"{stem}{RECORD_SUFFIX}" if stem else "disclosure.json"
    return write_json(directory / name, {**record, "files": listed}, digits=PUBLISHED_DIGITS)


def combine_records(
    name: str, records: Iterable[Mapping[str, Any]], policy: DisclosurePolicy
) -> dict[str, Any]:
    """One record for a file assembled from several checked parts (each kept in ``parts``)."""
    parts = list(records)
    record = disclose(Document(name, parts=parts), policy).record
    return {**record, "parts": parts}


def read_record(path: Path, *, stage: str) -> dict[str, Any]:
    """The passing check record at ``path``, whose files are unchanged since they were checked.

    Raises
    ------
    InputFileError
        The record is missing (run ``ctip <stage>``).
    DisclosureError
        The record did not pass, or a file it lists changed after it was checked.
    """
    if not path.exists():
        raise InputFileError(f"input has no check record; run `ctip {stage}` first", file=path)
    record = dict(read_json(path))
    if not record.get("passed"):
        raise DisclosureError(f"{path.name}: the check record of an input did not pass")
    for name, sha in dict(record.get("files", {})).items():
        target = path.parent / name
        if not target.is_file() or file_sha256(target) != sha:
            raise DisclosureError(
                f"{path.parent.name}/{name} changed after it was checked ({path.name}); rerun "
                f"`ctip {stage}`"
            )
    return record
