"""Stage ``ingest``: raw exports -> de-identified interim canonical tables.

Reads: every codebook in ``params.ingest.sources`` and the raw files it lists (after checking
them against ``manifest.json`` of their directory). Writes to ``<paths.interim>/ingested/``:
``households.parquet``, ``members.parquet``, ``loans.parquet``, ``migration_episodes.parquet``
(canonical columns + meta columns, ``docs/CONTRACTS.md`` 'Interim layer'), ``special_codes.parquet``,
``value_fixes.parquet``, ``review_values.parquet`` and ``codebook_proposals.yaml`` (values no
codebook lists: unknown labels with the documented label they are a near miss of, code-like
numbers; for review, never applied), ``ingest_ledger.json`` (with every raw file read and its sha256, the
sources' survey name and description, and the fingerprint of the raw files) and ``run.json``
(the run record, :mod:`ctip_research.runs`). Everything is computed before anything is written,
and every file is written atomically: a failure leaves the previous outputs, and the run record
says the run failed, so ``ctip clean`` refuses them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ctip_research.config import Params
from ctip_research.errors import CodebookError, CtipError, InputFileError, RawFileChangedError
from ctip_research.identity import SYNTH_GENERATOR
from ctip_research.ingest.apply import (
    INTERIM_META_COLUMNS,
    REVIEW_COLUMNS,
    SPECIAL_CODES_COLUMNS,
    VALUE_FIXES_COLUMNS,
    IngestResult,
    apply_codebook,
    household_id_variants,
)
from ctip_research.ingest.codebook import Codebook, FileKey, read_codebook
from ctip_research.ingest.manifest import (
    MANIFEST_NAME,
    check_manifest,
    check_manifest_rows,
    manifest_entries,
)
from ctip_research.ingest.pii import check_pii
from ctip_research.ingest.pseudonymise import resolve_hmac_key
from ctip_research.ingest.readers import RawTable, list_sheets, read_raw, read_xlsx_sheets
from ctip_research.ingest.review import review_proposals
from ctip_research.io import (
    file_sha256,
    raw_fingerprint,
    read_json,
    write_json,
    write_parquet,
    write_text,
)
from ctip_research.log import get_logger, track
from ctip_research.runs import run_dir, stage_run
from ctip_research.schemas import CANONICAL_TABLES

__all__ = ["BUILTIN_PII_WAIVERS", "ingest_sources", "run_ingest"]

#: Columns of the interim layer that the PII scan flags by design, with the reason they may stay.
BUILTIN_PII_WAIVERS: dict[str, str] = {
    "household_id": "keyed hash (HMAC-SHA256) of the survey id; not reversible without the key",
    "_submission_id": "keyed hash (HMAC-SHA256) of the submission id",
    "_submission_time": "submission time, needed to resolve duplicate submissions; dropped by clean",
}

log = get_logger("ingest")


def hash_raw_files(path: Path, cb: Codebook) -> list[dict[str, Any]]:
    """sha256 and size of every raw file a codebook lists (once per file), in listing order.

    ``path`` is the raw file's location as registered (the codebook's directory joined with the
    file's path); ``file`` the path inside the codebook's directory.
    """
    out = []
    for rel in dict.fromkeys(f.path for f in cb.files):
        target = path.parent / rel
        if not target.is_file():
            raise InputFileError("raw file listed in the codebook not found", file=target)
        out.append(
            {
                "path": target.as_posix(),
                "file": rel,
                "sha256": file_sha256(target),
                "bytes": target.stat().st_size,
            }
        )
    return out


def is_embedded_default(path: Path, cb: Codebook, raw_files: list[dict[str, Any]]) -> bool:
    """Whether a source is the package's own synthetic survey: its codebook says
    ``synthetic: true`` and ``ctip synth`` registered every one of its raw files, byte for byte,
    in ``manifest.json`` beside it.
    """
    manifest_path = path.parent / MANIFEST_NAME
    if not cb.synthetic or not manifest_path.is_file():
        return False
    try:
        manifest = read_json(manifest_path)
    except (ValueError, OSError):
        return False
    if not isinstance(manifest, dict) or manifest.get("generator") != SYNTH_GENERATOR:
        return False
    entries = manifest_entries(manifest)
    return all((entries.get(f["file"]) or {}).get("sha256") == f["sha256"] for f in raw_files)


def read_source(path: Path, cb: Codebook, *, manifest: bool) -> dict[FileKey, RawTable]:
    """Check a source's raw files against its manifest (sha256 and size before parsing, data
    rows after), then read every raw table it lists.
    """
    base = path.parent
    if manifest:
        checked = check_manifest(base, [f.path for f in cb.files])
        log.debug("%s: %d raw file(s) match manifest.json", cb.source, len(checked))
    raws: dict[FileKey, RawTable] = {}
    if cb.format in ("xlsx", "kobo_xlsx"):  # open each workbook once for all its sheets
        by_path: dict[str, list[str | None]] = {}
        for f in cb.files:
            by_path.setdefault(f.path, []).append(f.sheet)
        counts: dict[str, int] = {}
        for rel, sheets in by_path.items():
            read = read_xlsx_sheets(base / rel, sheets)
            for sheet, raw in read.items():
                raws[(rel, sheet)] = raw
            # the manifest counts the rows of every sheet: compare only if every sheet was read
            if {r.sheet for r in read.values()} == set(list_sheets(base / rel)):
                counts[rel] = sum(len(r.data) for r in read.values())
    else:
        for f in cb.files:
            raws[f.key] = read_raw(base / f.path, cb.format, sheet=f.sheet, encoding=f.encoding)
        counts = {f.path: len(raws[f.key].data) for f in cb.files}
    if manifest:
        check_manifest_rows(base, counts)
    return raws


def check_raw_paths(path: Path, cb: Codebook, allowed: Sequence[Path] = ()) -> None:
    """Refuse raw-file paths of a codebook that leave its directory (``../../etc/passwd``, an
    absolute path, a symbolic link pointing elsewhere) unless they land in one of ``allowed``
    (``params.ingest.allowed_raw_dirs``). Checked before any raw file is opened.
    """
    base = path.parent.resolve()
    roots = [base, *(Path(a).resolve() for a in allowed)]
    problems = []
    rels = [f.path for f in cb.files] + [
        f.parent.path for f in cb.files if f.parent and f.parent.path
    ]
    for rel in dict.fromkeys(rels):
        target = (path.parent / rel).resolve()
        if not any(target == r or target.is_relative_to(r) for r in roots):
            problems.append(
                f"{rel}: the path leaves the codebook's directory {path.parent}; raw files are "
                "read only from there (list another directory in params ingest.allowed_raw_dirs "
                "to allow it)"
            )
    if problems:
        raise CodebookError(path, problems)


def _previous_manifests(params: Params) -> dict[str, bool]:
    """Codebook path -> whether its source had a manifest at the last complete ingest."""
    ledger_path = run_dir("ingest", params.paths) / "ingest_ledger.json"
    if not ledger_path.is_file():
        return {}
    try:
        ledger = read_json(ledger_path)
    except (ValueError, OSError):
        return {}
    out = {}
    for src in ledger.get("sources", []) if isinstance(ledger, dict) else []:
        if isinstance(src, dict) and "codebook" in src:
            out[str(src["codebook"])] = bool(src.get("manifest"))
    return out


def _source_identity(
    path: Path, cb: Codebook, had_manifest: dict[str, bool], allowed_raw_dirs: Sequence[Path]
) -> dict[str, Any]:
    """Check one source's raw paths and manifest and describe it for the ledger."""
    check_raw_paths(path, cb, allowed_raw_dirs)
    raw_files = hash_raw_files(path, cb)
    has_manifest = (path.parent / MANIFEST_NAME).is_file()
    if had_manifest.get(path.as_posix()) and not has_manifest:
        raise RawFileChangedError(
            f"{path.parent / MANIFEST_NAME} is missing, but the last `ctip ingest` checked "
            f"the raw files of {path} against it; restore it (or, for re-delivered raw "
            "files, write a new manifest for them) before ingesting"
        )
    return {
        "survey": cb.survey,
        "description": cb.description,
        "wave": cb.wave,
        "format": cb.format,
        "synthetic": cb.synthetic,
        "embedded_default": is_embedded_default(path, cb, raw_files),
        "manifest": has_manifest,
        "codebook_sha256": file_sha256(path),
        "raw_files": raw_files,
    }


def _warn_review_markers(path: Path, cb: Codebook) -> None:
    """Warn when a codebook still carries ``review:`` markers from ``ctip codebook draft``."""
    n_review = sum(f.review is not None for f in cb.files) + sum(
        spec.review is not None for f in cb.files for spec in f.columns.values()
    )
    if n_review:
        log.warning(
            "%s: %d entr(ies) still carry a `review:` marker from `ctip codebook draft`; "
            "check each one and delete the marker",
            path,
            n_review,
        )


def _read_sources(
    codebooks: list[tuple[Path, Codebook]], *, manifest: bool
) -> tuple[list[tuple[Codebook, dict[FileKey, RawTable]]], list[dict[str, Any]]]:
    """Read every source's raw files; the raw tables and the files without data rows."""
    read: list[tuple[Codebook, dict[FileKey, RawTable]]] = []
    empty: list[dict[str, Any]] = []
    for path, cb in track(codebooks, "Reading sources"):
        _warn_review_markers(path, cb)
        raws = read_source(path, cb, manifest=manifest)
        for f in cb.files:
            if f.key in raws and len(raws[f.key].data) == 0:
                where = f.path + (f" [sheet {f.sheet}]" if f.sheet else "")
                log.warning("%s: %s has no data rows (table %s)", cb.source, where, f.table)
                empty.append({"source": cb.source, "file": where, "table": f.table})
        read.append((cb, raws))
    return read, empty


def _warn_id_variants(variants: list[dict[str, Any]]) -> None:
    """Warn about household ids read as an earlier id that differs in case, blanks or hyphens."""
    for v in variants:
        log.warning(
            "%s: %d household id(s) in %s differ from an id met before only in case, blanks or "
            "hyphens (rows %s); they are read as that household",
            v["source"],
            v["ids"],
            v["file"],
            v["rows"][:10],
        )


def _warn_file_problems(cb: Codebook, res: IngestResult) -> None:
    """Warn about orphan rows left out and special codes that clash with real answers."""
    for f in res.ledger["files"]:
        if f["orphan_rows"]:
            log.warning(
                "%s: %d row(s) of %s have no parent row and were left out (rows %s)",
                cb.source,
                len(f["orphan_rows"]),
                f["path"],
                f["orphan_rows"][:10],
            )
        for c in f["special_code_clashes"]:
            log.warning(
                "%s: %s, column %r: %s; %d value(s) were read as that special code, "
                "check that none is a real answer",
                cb.source,
                f["path"],
                c["column"],
                c["detail"],
                c["values"],
            )


def _apply_sources(
    params: Params,
    codebooks: list[tuple[Path, Codebook]],
    read: list[tuple[Codebook, dict[FileKey, RawTable]]],
    key: str,
    aliases: dict[str, str],
) -> tuple[list[IngestResult], dict[str, Any]]:
    """Apply each source's codebook to its raw tables; the results and the PII waivers."""
    cfg = params.ingest
    results: list[IngestResult] = []
    waivers = dict(BUILTIN_PII_WAIVERS)
    for (path, cb), (_, raws) in zip(codebooks, read, strict=True):
        start = time.perf_counter()
        res = apply_codebook(
            cb,
            raws,
            exchange_rates=cfg.exchange_rates,
            hmac_key=key,
            codebook_file=str(path),
            unknown_labels=cfg.unknown_labels,
            code_like=(cfg.code_like.min_count, cfg.code_like.heaping_ratio),
            id_aliases=aliases,
        )
        results.append(res)
        waivers.update(cb.pii_waivers)
        _warn_file_problems(cb, res)
        rows = {t: len(df) for t, df in res.tables.items()}
        log.info("%s: %s in %.1f s", cb.source, rows, time.perf_counter() - start)
        del raws
    return results, waivers


def _scan_pii(
    params: Params, tables: dict[str, pd.DataFrame], waivers: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """Scan every table (canonical and long) for PII; the waived hits by table."""
    cfg = params.ingest
    scan = {
        "unique_share": cfg.pii_unique_share,
        "pattern_share": cfg.pii_pattern_share,
        "min_values": cfg.pii_min_values,
    }
    waived: dict[str, list[dict[str, Any]]] = {}
    long_columns = [*SPECIAL_CODES_COLUMNS, *VALUE_FIXES_COLUMNS, *REVIEW_COLUMNS]
    for name, df in tables.items():
        if name == "review_values" and df.empty:
            continue  # nothing to scan; a survey with nothing to review keeps its ledger as is
        reviewed = [*CANONICAL_TABLES[name].columns] if name in CANONICAL_TABLES else []
        reviewed += [*INTERIM_META_COLUMNS, *long_columns]
        hits = check_pii(df, table=name, waivers=waivers, reviewed_columns=reviewed, **scan)
        waived[name] = [
            {str(k): v for k, v in rec.items()} for rec in hits.to_dict(orient="records")
        ]
    return waived


def _check_ledger_balance(ledger: dict[str, Any]) -> None:
    """Rows in = rows out + rows excluded for every file of every source."""
    for src in ledger["sources"]:
        for f in src["files"]:
            if f["rows_in"] != f["rows_out"] + sum(f["rows_excluded"].values()):
                msg = f"ingest ledger does not balance for {f['path']}"
                raise CtipError(msg)  # pragma: no cover


def ingest_sources(params: Params) -> IngestResult:
    """Run ingest in memory: every source read, applied, stacked and PII-scanned.

    Returns the combined :class:`~ctip_research.ingest.apply.IngestResult` (tables, special
    codes, value fixes and the ledger of all sources); nothing is written.
    """
    cfg = params.ingest
    codebooks = [(Path(p), read_codebook(p)) for p in cfg.sources]
    had_manifest = _previous_manifests(params) if cfg.check_manifest else {}
    identities = [
        _source_identity(path, cb, had_manifest, cfg.allowed_raw_dirs) for path, cb in codebooks
    ]
    synthetic = all(cb.synthetic for _, cb in codebooks)
    embedded = all(i["embedded_default"] for i in identities)
    key = resolve_hmac_key(
        env_var=params.privacy.hmac_key_env,
        key_file=params.privacy.hmac_key_file,
        demo_key=params.privacy.demo_key,
        embedded_default=embedded,
    )
    read, empty = _read_sources(codebooks, manifest=cfg.check_manifest)
    aliases, variants = household_id_variants(read)
    _warn_id_variants(variants)
    results, waivers = _apply_sources(params, codebooks, read, key, aliases)
    del read
    tables = {
        name: pd.concat([r.tables[name] for r in results], ignore_index=True)
        for name in CANONICAL_TABLES
    }
    specials = pd.concat([r.special_codes for r in results], ignore_index=True).astype(
        SPECIAL_CODES_COLUMNS
    )
    fixes = pd.concat([r.value_fixes for r in results], ignore_index=True).astype(
        VALUE_FIXES_COLUMNS
    )
    review = pd.concat([r.review for r in results], ignore_index=True).astype(REVIEW_COLUMNS)
    long_tables = {"special_codes": specials, "value_fixes": fixes, "review_values": review}
    waived = _scan_pii(params, {**tables, **long_tables}, waivers)
    sources = [
        {**r.ledger, "codebook": p.as_posix(), **ident}
        for (p, _), r, ident in zip(codebooks, results, identities, strict=True)
    ]
    ledger: dict[str, Any] = {
        # synthetic: every codebook declares synthetic: true; embedded_default: every source is
        # the package's own synthetic survey (ctip synth's manifest registers its raw files).
        # The demonstration notice, the comparison with the ground truth and the public demo
        # key need the latter.
        "synthetic": synthetic,
        "embedded_default": embedded,
        "id_variants": variants,
        "empty_tables": empty,
        "raw_fingerprint": raw_fingerprint(f["sha256"] for s in sources for f in s["raw_files"]),
        "sources": sources,
        "tables": {name: {"rows": len(df)} for name, df in tables.items()},
        "special_codes": {
            "rows": len(specials),
            "by_reason": {
                str(k): int(v) for k, v in specials["reason"].value_counts().sort_index().items()
            },
        },
        "value_fixes": {"rows": len(fixes)},
        "pii_scan_waived": waived,
    }
    if not review.empty:  # a survey without values for review keeps its ledger unchanged
        ledger["review_values"] = {
            "rows": len(review),
            "by_kind": {
                str(k): int(v) for k, v in review["kind"].value_counts().sort_index().items()
            },
        }
    _check_ledger_balance(ledger)
    return IngestResult(
        tables=tables, special_codes=specials, value_fixes=fixes, ledger=ledger, review=review
    )


def run_ingest(params: Params) -> None:
    """Read every source through its codebook and write ``<interim>/ingested/``.

    Reads: ``params.ingest.sources`` (codebooks) and their raw files and ``manifest.json``.
    Writes: ``<paths.interim>/ingested/{households,members,loans,migration_episodes}.parquet``,
    ``special_codes.parquet``, ``value_fixes.parquet``, ``review_values.parquet``,
    ``codebook_proposals.yaml``, ``ingest_ledger.json``.
    """
    start = time.perf_counter()
    out = run_dir("ingest", params.paths)
    with stage_run("ingest", out) as run:
        res = ingest_sources(params)
        written = [write_parquet(out / f"{name}.parquet", df) for name, df in res.tables.items()]
        written.append(write_parquet(out / "special_codes.parquet", res.special_codes))
        written.append(write_parquet(out / "value_fixes.parquet", res.value_fixes))
        written.append(write_parquet(out / "review_values.parquet", res.review))
        written.append(write_text(out / "codebook_proposals.yaml", _proposals_yaml(res.review)))
        written.append(write_json(out / "ingest_ledger.json", res.ledger))
        run.finish(written)
    log.info(
        "ingest: wrote %s (%s; %d special codes, %d value fixes) in %.1f s",
        out,
        ", ".join(f"{k} {len(v)}" for k, v in res.tables.items()),
        len(res.special_codes),
        len(res.value_fixes),
        time.perf_counter() - start,
    )
    if not res.review.empty:
        kinds = res.review["kind"].value_counts().sort_index().to_dict()
        log.warning(
            "ingest: %d value(s) for review %s: see %s (clean reports each row)",
            len(res.review),
            kinds,
            out / "codebook_proposals.yaml",
        )


_PROPOSALS_HEADER = """\
# Codebook additions proposed by `ctip ingest` (docs/data-quality.md, "Values no codebook
# lists"). NOTHING HERE IS APPLIED. Per source, raw file and raw column:
#   fixes:          labels not in the value map, each with the documented label it is a near
#                   miss of; copy the right ones into the column's `fixes`
#   unknown:        labels with no documented label close to them; add them to `values`
#   special_codes:  numbers shaped like codes (heaped, or negative where amounts cannot be) that
#                   the codebook does not list; check the questionnaire, then add them to
#                   `special_codes` with their reason
# Written on every run; empty ({}) when there is nothing to review.
"""


def _proposals_yaml(review: pd.DataFrame) -> str:
    return _PROPOSALS_HEADER + yaml.safe_dump(
        review_proposals(review), sort_keys=False, allow_unicode=True, width=100
    )
