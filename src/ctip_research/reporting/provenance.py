"""Provenance of rendered reports: package version, git commit, params hash, raw-file hashes, date.

:func:`gather_provenance` reads what it needs (the installed package version, ``git rev-parse HEAD``
in the working directory, the raw layer's ``manifest.json`` files); the run date is fixed by
``SOURCE_DATE_EPOCH`` (``report.source_date_epoch``), never the wall clock, so a rerun gives the
same files. :func:`provenance_markdown` formats the block every notebook opens with.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["gather_provenance", "provenance_markdown"]


def _git_commit(cwd: Path) -> str:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return res.stdout.strip()


def _raw_hashes(raw: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for manifest in sorted(raw.rglob("manifest.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        files = data.get("files", data) if isinstance(data, dict) else {}
        items: list[tuple[Any, Any]]
        if isinstance(files, dict):
            items = list(files.items())
        else:  # a list of entries with a name / path
            items = [(f.get("path") or f.get("name"), f) for f in files]
        for name, entry in items:
            sha = entry.get("sha256") if isinstance(entry, dict) else None
            if name and sha:
                rel = (manifest.parent.relative_to(raw) / str(name)).as_posix()
                out[rel] = str(sha)
    return out


def gather_provenance(
    *, params_hash: str, raw: Path, source_date_epoch: int, cwd: Path = Path(".")
) -> dict[str, Any]:
    """Provenance of this run (JSON-ready).

    Examples
    --------
    >>> p = gather_provenance(params_hash="abc", raw=Path("/nonexistent"), source_date_epoch=0)
    >>> p["run_date"]
    '1970-01-01T00:00:00Z'
    """
    try:
        pkg = version("ctip_research")
    except PackageNotFoundError:  # pragma: no cover - the package is installed to run
        pkg = "unknown"
    date = dt.datetime.fromtimestamp(source_date_epoch, tz=dt.UTC)
    return {
        "package_version": pkg,
        "git_commit": _git_commit(cwd),
        "params_hash": params_hash,
        "raw_files": _raw_hashes(raw) if raw.exists() else {},
        "run_date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_date_epoch": source_date_epoch,
    }


def provenance_markdown(prov: Mapping[str, Any]) -> str:
    """The provenance block (Markdown) that opens every report.

    Examples
    --------
    >>> md = provenance_markdown({"package_version": "0.1.0", "git_commit": "abc",
    ...     "params_hash": "p", "raw_files": {"a.csv": "f" * 64}, "run_date": "2026-01-01"})
    >>> "| a.csv | `ffffffffffff` |" in md
    True
    """
    lines = [
        "**Provenance**",
        "",
        f"- Package: `ctip_research {prov['package_version']}`",
        f"- Git commit: `{prov['git_commit']}`",
        f"- Parameters hash: `{prov['params_hash']}`",
        f"- Run date (fixed by SOURCE_DATE_EPOCH): {prov['run_date']}",
        "",
        "| raw file | sha256 (first 12) |",
        "|---|---|",
    ]
    lines += [f"| {name} | `{sha[:12]}` |" for name, sha in sorted(prov["raw_files"].items())]
    if not prov["raw_files"]:
        lines.append("| (no raw-file manifest found) | |")
    return "\n".join(lines) + "\n"
