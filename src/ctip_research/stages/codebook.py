"""``ctip codebook draft FILE``: write a codebook template from a raw export.

Reads: one raw export (.csv, .xlsx incl. KoboToolbox exports with repeat-group sheets, .dta,
.sav, .parquet). Writes: a YAML codebook template (default ``<FILE stem>.codebook.yaml`` beside
the file) listing every variable with its label and value labels, likely identifiers pre-marked
``pii``; the researcher fills it in (``docs/codebook.md``). An existing file is never overwritten.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ctip_research.errors import InputFileError
from ctip_research.ingest.codebook import FileKey, draft_codebook
from ctip_research.ingest.readers import RawTable, detect_format, list_sheets, read_raw
from ctip_research.io import write_text
from ctip_research.log import get_logger

__all__ = ["run_codebook_draft"]

log = get_logger("codebook")

_HEADER = """\
# Codebook template drafted by `ctip codebook draft` from {name}.
# Fill it in (docs/codebook.md): set `table` for every file, map each column to a canonical
# column (action map/key/link/meta) or confirm it as pii (with a reason) or unused; replace the
# value labels in `values` by canonical values. Columns pre-marked pii look like identifiers.
"""


def run_codebook_draft(file: Path, output: Path | None = None) -> Path:
    """Draft a codebook for ``file`` and write it to ``output``; return the path written."""
    file = Path(file)
    fmt = detect_format(file)
    raws: dict[FileKey, RawTable] = {}
    if fmt == "xlsx":
        sheets = list_sheets(file)
        for sheet in sheets:
            raws[(file.name, sheet)] = read_raw(file, fmt, sheet=sheet)
        if any({"_uuid", "_index"} & set(r.data.columns) for r in raws.values()):
            fmt = "kobo_xlsx"
    else:
        raws[(file.name, None)] = read_raw(file, fmt)
    target = Path(output) if output is not None else file.with_name(f"{file.stem}.codebook.yaml")
    if target.exists():
        raise InputFileError(
            "codebook exists already; not overwritten (pass --output PATH)", file=target
        )
    draft = draft_codebook(raws, source=file.stem, fmt=fmt)
    text = _HEADER.format(name=file.name) + yaml.safe_dump(
        draft, sort_keys=False, allow_unicode=True, width=100
    )
    write_text(target, text)
    n_pii = sum(1 for f in draft["files"] for c in f["columns"].values() if c["action"] == "pii")
    log.info(
        "wrote %s (%d file(s), %d column(s) pre-marked pii)", target, len(draft["files"]), n_pii
    )
    return target
