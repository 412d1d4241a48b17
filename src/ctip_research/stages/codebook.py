"""``ctip codebook draft FILE [FILE ...]``: draft one codebook for the raw files of one source.

Reads: the raw export(s) of one source (one wave): a KoboToolbox / ODK workbook with its
repeat-group sheets, or several CSV / Stata / SPSS / Parquet files, one per table, all in one
format. Writes: one YAML codebook (default: ``<FILE stem>.codebook.yaml`` beside a single file,
``<directory>/<source>.codebook.yaml`` for several files of one directory) with every column
listed, the obvious mappings made and each guess marked ``review:`` (``ctip_research.ingest.draft``);
raw paths in it are relative to the codebook. An existing file is never overwritten. Returns the
path and the counts, which the CLI prints (how many columns it mapped).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yaml

from ctip_research.errors import InputFileError
from ctip_research.ingest.codebook import FileKey
from ctip_research.ingest.draft import draft_codebook, draft_summary, guess_wave
from ctip_research.ingest.readers import RawTable, detect_format, list_sheets, read_raw
from ctip_research.io import write_text
from ctip_research.log import get_logger

__all__ = ["run_codebook_draft"]

log = get_logger("codebook")

_HEADER = """\
# Codebook drafted by `ctip codebook draft` from {names}.
# {mapped} of {columns} column(s) pre-mapped, {pii} pre-marked pii, {todo} left to decide.
# Check every entry with a `review:` marker (the mapping, values, fixes, currency, scale), then
# delete the marker; decide every TODO (map it, or confirm unused / pii with a reason); fill in
# `survey` and `description`. docs/codebook.md explains each key; docs/your-own-survey.md the
# whole path from export to brief.
"""


def run_codebook_draft(
    files: Sequence[Path] | Path,
    output: Path | None = None,
    *,
    source: str | None = None,
    wave: int | None = None,
) -> tuple[Path, dict[str, int]]:
    """Draft one codebook for ``files`` (one source) and write it; return its path and counts."""
    paths = [Path(files)] if isinstance(files, str | Path) else [Path(f) for f in files]
    if not paths:
        raise InputFileError("no raw file given")
    fmts = {p: detect_format(p) for p in paths}
    if len(set(fmts.values())) > 1:
        raise InputFileError(
            "the files of one source must share one format (a codebook has one reader); draft "
            "one codebook per format: " + ", ".join(f"{p.name} ({f})" for p, f in fmts.items())
        )
    fmt = next(iter(fmts.values()))
    if output is not None:
        target = Path(output)
    elif len(paths) == 1:
        target = paths[0].with_name(f"{paths[0].stem}.codebook.yaml")
    else:
        parents = {p.resolve().parent for p in paths}
        if len(parents) > 1:
            raise InputFileError(
                "the files are in different directories; pass --output PATH for the codebook"
            )
        directory = paths[0].parent
        target = directory / f"{source or directory.resolve().name}.codebook.yaml"
    if target.exists():
        raise InputFileError(
            "codebook exists already; not overwritten (pass --output PATH)", file=target
        )
    base = target.resolve().parent
    raws: dict[FileKey, RawTable] = {}
    for path in paths:
        rel = Path(os.path.relpath(path.resolve(), base)).as_posix()
        if fmt == "xlsx":
            sheets = list_sheets(path)
            for sheet in sheets:
                raws[(rel, sheet)] = read_raw(path, fmt, sheet=sheet)
        else:
            raws[(rel, None)] = read_raw(path, fmt)
    if fmt == "xlsx" and any({"_uuid", "_index"} & set(r.data.columns) for r in raws.values()):
        fmt = "kobo_xlsx"
    names = [str(p) for p in paths]
    if wave is None:
        wave = guess_wave(names) or 1
    if source is None:
        source = paths[0].stem if len(paths) == 1 else target.stem.removesuffix(".codebook")
    draft = draft_codebook(raws, source=source, fmt=fmt, wave=wave)
    counts = draft_summary(draft)
    text = _HEADER.format(
        names=", ".join(p.name for p in paths),
        mapped=counts["mapped"],
        columns=counts["columns"],
        pii=counts["pii"],
        todo=counts["todo"],
    ) + yaml.safe_dump(draft, sort_keys=False, allow_unicode=True, width=100)
    write_text(target, text)
    log.info(
        "wrote %s: %d file(s), %d column(s): %d pre-mapped, %d pii, %d left to decide",
        target,
        len(draft["files"]),
        counts["columns"],
        counts["mapped"],
        counts["pii"],
        counts["todo"],
    )
    return target, counts
