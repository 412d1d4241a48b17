"""Which outputs are published and which are internal, declared once; the audit of the tree."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ctip_research.io import CONTROL_FILES

#: Directories of the processed layer (``paths.processed``) whose every file is published: each
#: file must be listed, with its sha256, in a passing check record in the same directory.
PUBLISHED_DIRS: tuple[str, ...] = (
    "models",
    "risk",
    "validation",
    "monte_carlo",
    "power",
    "reach",
    "figures",
    "brief",
    "reports",
)
#: Directories of the processed layer that are internal: de-identified record-level tables
#: (``tables``, ``analysis``) and the unsuppressed data-quality report (``quality``; its gated
#: version is the ``data_quality`` report notebook). They are for the research team, never
#: circulated. ``paths.interim`` and ``paths.raw`` are internal as a whole.
INTERNAL_DIRS: tuple[str, ...] = ("tables", "analysis", "quality")
#: A check record is ``disclosure.json`` or ``<stem>.disclosure.json``. (Empty ``.gitkeep``
#: placeholders of the repository are not outputs.)
RECORD_SUFFIX = ".disclosure.json"


def is_record(path: Path) -> bool:
    """Whether ``path`` is a check record (not an artefact)."""
    return path.name == "disclosure.json" or path.name.endswith(RECORD_SUFFIX)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _undeclared_dirs(processed: Path) -> list[str]:
    """Entries of the processed layer that are neither published nor internal."""
    problems: list[str] = []
    if not processed.exists():
        return problems
    for entry in sorted(processed.iterdir()):
        if entry.name in INTERNAL_DIRS or entry.name in CONTROL_FILES or entry.name == ".gitkeep":
            continue
        if entry.name not in PUBLISHED_DIRS:
            problems.append(
                f"{entry.name}: not declared published or internal "
                "(ctip_research.disclosure.PUBLISHED_DIRS / INTERNAL_DIRS)"
            )
    return problems


def _record_coverage(
    rec_path: Path, processed: Path, covered: dict[Path, str], problems: list[str]
) -> None:
    """Read one check record: add the files it vouches for to ``covered``, its faults to
    ``problems``.
    """
    rel = rec_path.relative_to(processed).as_posix()
    try:
        rec = json.loads(rec_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        problems.append(f"{rel}: not a readable check record")
        return
    if not isinstance(rec, dict) or rec.get("passed") is not True:
        problems.append(f"{rel}: the check record did not pass")
        return
    if "override_reason" not in rec:
        problems.append(f"{rel}: the record does not print override_reason")
    listed = rec.get("files")
    if not isinstance(listed, dict) or not listed:
        problems.append(f"{rel}: the record lists no files")
        return
    for name, sha in listed.items():
        target = rec_path.parent / name
        if not target.is_file():
            problems.append(f"{rel}: lists {name}, which does not exist")
        elif _sha256(target) != sha:
            problems.append(f"{rel}: {name} changed after it was checked")
        else:
            covered[target] = rel


def _audit_dir(root: Path, processed: Path, problems: list[str]) -> tuple[int, int]:
    """Audit one published directory; return its numbers of artefacts and records."""
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.name != ".gitkeep" and p.name not in CONTROL_FILES
    )
    records = [p for p in files if is_record(p)]
    covered: dict[Path, str] = {}
    for rec_path in records:
        _record_coverage(rec_path, processed, covered, problems)
    n_files = 0
    for f in files:
        if is_record(f):
            continue
        n_files += 1
        if f not in covered:
            problems.append(
                f"{f.relative_to(processed).as_posix()}: no passing check record lists this file"
            )
    return n_files, len(records)


def audit_publication(processed: Path) -> dict[str, Any]:
    r"""Walk the published tree; every file needs a passing record that lists its sha256.

    Parameters
    ----------
    processed
        The processed layer (``paths.processed``).

    Returns
    -------
    dict
        ``passed``, ``n_files`` (artefacts), ``n_records``, ``problems`` (one line each: a file
        without a record, a record that did not pass or lists a changed file, an undeclared
        directory) and the declared layout.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "models").mkdir(); _ = (root / "models" / "x.csv").write_text("a\n1\n")
    >>> audit_publication(root)["problems"]
    ['models/x.csv: no passing check record lists this file']
    """
    n_files = n_records = 0
    processed = Path(processed)
    problems = _undeclared_dirs(processed)
    for d in PUBLISHED_DIRS:
        root = processed / d
        if not root.exists():
            continue
        dir_files, dir_records = _audit_dir(root, processed, problems)
        n_files += dir_files
        n_records += dir_records
    return {
        "passed": not problems,
        "n_files": n_files,
        "n_records": n_records,
        "problems": problems,
        "published_dirs": list(PUBLISHED_DIRS),
        "internal_dirs": list(INTERNAL_DIRS),
    }
