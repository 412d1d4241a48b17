"""``ctip synth``: generate the calibrated synthetic survey (the embedded default raw data).

Reads: ``params.yaml`` (``synth``, ``privacy.demo_key``). Writes: ``<paths.raw>/synthetic/``: the
wave-1 Kobo XLSX export and the wave-2 Stata files (or Parquet at scale), their codebooks,
``corrections.csv``, ``manifest.json``, ``truth.json`` and ``planted_defects.json``
(``docs/synthetic.md``). The tables, codebooks and defect record come from
:mod:`ctip_research.synth.raw` (pure); this stage writes them, atomically and deterministically
(fixed XLSX zip timestamps and document properties, fixed Stata header timestamp).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from ctip_research.config import Params
from ctip_research.determinism import fix_dta_timestamp_file
from ctip_research.identity import SYNTH_GENERATOR
from ctip_research.io import (
    atomic_path,
    current_path,
    dumps_json,
    file_sha256,
    raw_fingerprint,
    write_bytes,
    write_csv,
    write_json,
    write_parquet,
    write_text,
)
from ctip_research.log import get_logger
from ctip_research.synth import SyntheticSurvey, generate_survey
from ctip_research.synth.raw import (
    W1_FILE,
    W2_DIR,
    RawExport,
    build_raw_export,
    codebook_text,
    defect_record,
    parquet_tables,
    xlsx_bytes,
)

__all__ = ["SYNTH_DIR", "run_synth", "write_raw_files"]

#: Directory of the synthetic raw layer, under ``paths.raw``.
SYNTH_DIR = "synthetic"
#: Header timestamp of the synthetic firm's Stata files (their pretend export date).
_DTA_TIMESTAMP = b"01 Jan 2025 00:00"

log = get_logger("synth")


def run_synth(params: Params) -> None:
    """Generate the synthetic survey and write its raw files, codebooks and ground truth."""
    t0 = time.perf_counter()
    survey = generate_survey(params.synth, hmac_key=params.privacy.demo_key)
    log.info(
        "generated %d households in wave 1, %d in wave 2 (seed %d) in %.1f s",
        (survey.households["wave"] == 1).sum(),
        (survey.households["wave"] == 2).sum(),
        params.synth.seed,
        time.perf_counter() - t0,
    )
    outdir = Path(params.paths.raw) / SYNTH_DIR
    record = write_raw_files(survey, outdir)
    log.info(
        "wrote %s (%d planted defects) in %.1f s",
        outdir,
        len(record["defects"]),
        time.perf_counter() - t0,
    )


def write_raw_files(survey: SyntheticSurvey, outdir: str | Path) -> dict[str, Any]:
    """Write the raw layer of the synthetic survey into ``outdir`` and return the defect record.

    Files (``docs/CONTRACTS.md``): ``wave1_kobo.xlsx`` + ``wave1_kobo.codebook.yaml``,
    ``wave2_firm/*.dta`` + ``wave2_firm.codebook.yaml`` (or Parquet files when
    ``synth.output_format`` is ``parquet``), ``corrections.csv``, ``truth.json``,
    ``planted_defects.json`` and ``manifest.json`` (sha256, bytes and rows of every raw file).
    Every file is written atomically; the same survey gives byte-identical files.
    """
    outdir = Path(outdir)
    p = survey.params
    ex = build_raw_export(survey)
    if p.output_format == "parquet":
        rows = _write_parquet_tables(ex, outdir)
    else:
        rows = _write_kobo_stata(ex, outdir)
    for source, cb in ex.codebooks.items():
        write_text(outdir / f"{source}.codebook.yaml", codebook_text(cb))
    write_csv(outdir / "corrections.csv", ex.corrections)
    _write_truth(survey, outdir, rows)
    record = defect_record(p, ex)
    write_json(outdir / "planted_defects.json", record)
    _write_manifest(outdir, rows)
    return record


def _write_parquet_tables(ex: RawExport, outdir: Path) -> dict[str, int]:
    """Write the raw tables as Parquet files; return the rows of each file."""
    rows: dict[str, int] = {}
    for name, df in parquet_tables(ex).items():
        write_parquet(outdir / name, df)
        rows[name] = len(df)
    return rows


def _write_kobo_stata(ex: RawExport, outdir: Path) -> dict[str, int]:
    """Write the Kobo XLSX export and the firm's Stata files; return the rows of each file."""
    rows: dict[str, int] = {}
    write_bytes(outdir / W1_FILE, xlsx_bytes(ex.w1_sheets))
    rows[W1_FILE] = sum(len(df) for df in ex.w1_sheets.values())
    for name, df in ex.w2_files.items():
        _write_dta(
            outdir / W2_DIR / f"{name}.dta",
            df,
            ex.w2_labels[name],
            ex.w2_var_labels[name],
            name,
        )
        rows[f"{W2_DIR}/{name}.dta"] = len(df)
    return rows


def _write_dta(
    target: Path,
    df: pd.DataFrame,
    labels: dict[str, dict[int, str]],
    var_labels: dict[str, str],
    name: str,
) -> None:
    """Write one Stata file of the firm (value labels, extended missing values, fixed header)."""
    import pyreadstat

    missing = {
        c: ["a", "b", *(["c"] if df[c].isin(["c"]).any() else [])]
        for c in df.columns
        if df[c].dtype == object and df[c].isin(["a", "b", "c"]).any()
    }
    col_labels: dict[str, str | None] = dict(var_labels)
    value_labels: dict[str, dict[int | float, str]] = {
        k: {float(c) if isinstance(c, float) else int(c): v for c, v in m.items()}
        for k, m in labels.items()
    }
    with atomic_path(target) as tmp:
        pyreadstat.write_dta(
            df,
            str(tmp),
            file_label=f"CTIP endline {name} (synthetic)",
            column_labels=col_labels,
            variable_value_labels=value_labels,
            missing_user_values=missing or None,
        )
        fix_dta_timestamp_file(tmp, _DTA_TIMESTAMP)


def _write_truth(survey: SyntheticSurvey, outdir: Path, rows: dict[str, int]) -> None:
    """Write ``truth.json``: the survey's truth and the fingerprint of the raw files it describes."""
    # the truth describes exactly these raw files: validation compares it with the estimates
    # only when the ingested raw files have the same fingerprint
    # current_path: inside a stage transaction the files are staged until the stage ends
    raw_sha = {name: file_sha256(current_path(outdir / name)) for name in rows}
    write_json(
        outdir / "truth.json",
        {
            **survey.truth,
            "raw_files": raw_sha,
            "raw_fingerprint": raw_fingerprint(raw_sha.values()),
        },
    )


def _write_manifest(outdir: Path, rows: dict[str, int]) -> None:
    """Write ``manifest.json``: sha256, bytes and rows of every raw file, codebook and log."""
    manifest: dict[str, Any] = {
        "description": "Raw files of the synthetic survey (ctip synth).",
        "generator": SYNTH_GENERATOR,
        "synthetic": True,
        "files": {},
    }
    raw_names = [*rows, "wave1_kobo.codebook.yaml", "wave2_firm.codebook.yaml", "corrections.csv"]
    for name in raw_names:
        path = current_path(outdir / name)
        manifest["files"][name] = {
            "sha256": file_sha256(path),
            "bytes": path.stat().st_size,
            "rows": rows.get(name),
        }
    write_text(outdir / "manifest.json", dumps_json(manifest))
