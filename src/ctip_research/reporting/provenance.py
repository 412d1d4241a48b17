"""Provenance of rendered reports: the data, package version, code hash, params hash, the files
ingested with their hashes, date.

:func:`gather_provenance` reads what it needs (the installed package version and
:func:`code_sha256`, a hash of the package's source files and the report notebooks: the code
that made the reports, identical in every clone and install of the same code, unlike a git commit,
which changes when only the lock file is committed) and takes the data identity written by ``ctip clean``
(:mod:`ctip_research.identity`: the survey, its sources and every codebook and raw file ingest
read, with its sha256); the run date is fixed by
``SOURCE_DATE_EPOCH`` (``report.source_date_epoch``), never the wall clock, so a rerun gives the
same files. :func:`provenance_markdown` formats the block every notebook opens with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["code_sha256", "gather_provenance", "ingested_files", "provenance_markdown"]


def code_sha256(roots: Iterable[Path]) -> str:
    r"""SHA-256 of the source files under ``roots`` (``*.py``, ``*.ipynb``, ``*.typ``, ``*.yaml``,
    ``*.csv``, ``*.mplstyle``, ``*.po``; caches left out), by relative path and content.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.py").write_text("x = 1\n")
    >>> h = code_sha256([d]); len(h), h == code_sha256([d])
    (64, True)
    >>> _ = (d / "a.py").write_text("x = 2\n"); h == code_sha256([d])
    False
    """
    suffixes = {".py", ".ipynb", ".typ", ".yaml", ".csv", ".mplstyle", ".po"}
    digest = hashlib.sha256()
    for root in roots:
        root = Path(root)
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts
        )
        for f in files:
            digest.update(f"{root.name}/{f.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


def ingested_files(identity: Mapping[str, Any]) -> dict[str, str]:
    """Every file ingest read, as registered (path -> sha256): codebooks and raw files.

    Examples
    --------
    >>> ingested_files({"sources": [{"codebook": "a/w1.yaml", "codebook_sha256": "c",
    ...     "raw_files": [{"path": "a/hh.csv", "sha256": "h"}]}]})
    {'a/hh.csv': 'h', 'a/w1.yaml': 'c'}
    """
    out: dict[str, str] = {}
    for src in identity.get("sources", []):
        for f in src.get("raw_files") or []:
            out[str(f["path"])] = str(f["sha256"])
        if src.get("codebook") and src.get("codebook_sha256"):
            out[str(src["codebook"])] = str(src["codebook_sha256"])
    return dict(sorted(out.items()))


def gather_provenance(
    *,
    params_hash: str,
    identity: Mapping[str, Any],
    source_date_epoch: int,
    notebooks: Path = Path("notebooks"),
) -> dict[str, Any]:
    """Provenance of this run (JSON-ready): package and code hash (the package's source and the
    ``notebooks`` directory), parameters, the data's identity (survey, sources, waves) and every
    file ingested with its sha256.

    Examples
    --------
    >>> p = gather_provenance(params_hash="abc", identity={"survey": "S"}, source_date_epoch=0)
    >>> p["run_date"], p["survey"], len(p["code_sha256"])
    ('1970-01-01T00:00:00Z', 'S', 64)
    """
    import ctip_research

    try:
        pkg = version("ctip_research")
    except PackageNotFoundError:  # pragma: no cover - the package is installed to run
        pkg = "unknown"
    date = dt.datetime.fromtimestamp(source_date_epoch, tz=dt.UTC)
    return {
        "package_version": pkg,
        "code_sha256": code_sha256(
            [Path(ctip_research.__file__).parent, *([notebooks] if notebooks.is_dir() else [])]
        ),
        "params_hash": params_hash,
        "survey": identity.get("survey"),
        "sources": [
            {k: src.get(k) for k in ("source", "wave", "description")}
            for src in identity.get("sources", [])
        ],
        "waves": list(identity.get("waves", [])),
        "raw_fingerprint": identity.get("raw_fingerprint"),
        "raw_files": ingested_files(identity),
        "run_date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_date_epoch": source_date_epoch,
    }


def provenance_markdown(prov: Mapping[str, Any]) -> str:
    """The provenance block (Markdown) that opens every report.

    Examples
    --------
    >>> md = provenance_markdown({"package_version": "0.1.0", "code_sha256": "c" * 64,
    ...     "params_hash": "p", "raw_files": {"a.csv": "f" * 64}, "run_date": "2026-01-01"})
    >>> "| a.csv | `ffffffffffff` |" in md
    True
    """
    lines = [
        "**Provenance**",
        "",
    ]
    if prov.get("survey"):
        lines.append(f"- Data: {prov['survey']}")
    for src in prov.get("sources") or []:
        lines.append(
            f"  - `{src.get('source')}` (wave {src.get('wave')}): {src.get('description')}"
        )
    lines += [
        f"- Package: `ctip_research {prov['package_version']}`",
        f"- Code (sha256 of the package source and notebooks): `{prov['code_sha256'][:12]}`",
        f"- Parameters hash: `{prov['params_hash']}`",
        f"- Run date (fixed by SOURCE_DATE_EPOCH): {prov['run_date']}",
        "",
        "| file ingested | sha256 (first 12) |",
        "|---|---|",
    ]
    lines += [f"| {name} | `{sha[:12]}` |" for name, sha in sorted(prov["raw_files"].items())]
    if not prov["raw_files"]:
        lines.append("| (no data identity found: run `ctip clean`) | |")
    return "\n".join(lines) + "\n"
