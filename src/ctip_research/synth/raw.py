"""Raw files as field teams hand them over, with planted defects, codebooks and manifest.

Wave 1 is a KoboToolbox-style XLSX export (main sheet plus one sheet per repeat group,
:mod:`ctip_research.synth.kobo`), wave 2 a set of Stata files from another survey firm (different
names, value labels, extended missing values, :mod:`ctip_research.synth.firm`). Both carry what
real exports carry (names, phone numbers, GPS, device ids, free text,
:mod:`ctip_research.synth.identities`), so that ingest's de-identification is exercised for real.
Defects are planted at the rates of ``synth.defects`` (blind stream:
:mod:`ctip_research.synth.blind`) and every one is recorded (source, file, sheet, row, column,
defect class).

Everything here is pure (DataFrames, dictionaries, text, bytes): :func:`build_raw_export` builds
the tables and codebooks; the ``synth`` stage (:mod:`ctip_research.stages.synth`) writes them
atomically and deterministically.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import yaml

from ctip_research.config.synth import SynthParams
from ctip_research.synth._random import Streams
from ctip_research.synth.codebooks import codebook_w1, codebook_w2
from ctip_research.synth.firm import build_w2
from ctip_research.synth.generate import SyntheticSurvey
from ctip_research.synth.kobo import build_w1
from ctip_research.synth.rawlayout import (
    CORRECTION_COLUMNS,
    W1_FILE,
    W1_MAIN,
    W1_SHEETS,
    W1_SOURCE,
    W2_DIR,
    W2_FILES,
    W2_SOURCE,
    RawExport,
)
from ctip_research.synth.xlsx import xlsx_bytes

__all__ = [
    "CORRECTION_COLUMNS",
    "W1_FILE",
    "W1_MAIN",
    "W1_SHEETS",
    "W1_SOURCE",
    "W2_DIR",
    "W2_FILES",
    "W2_SOURCE",
    "RawExport",
    "build_raw_export",
    "codebook_text",
    "defect_record",
    "parquet_tables",
    "xlsx_bytes",
]


def build_raw_export(survey: SyntheticSurvey) -> RawExport:
    """Build the raw tables of both sources with planted defects (pure; no file I/O)."""
    p = survey.params
    s = Streams(p.seed)
    rates = {"USD": 1.0, "KHR": p.khr_per_usd, "THB": p.thb_per_usd}
    keys = survey.household_keys.set_index("household_id")["raw_household_id"]
    export = RawExport({}, {}, {}, {}, {}, pd.DataFrame())
    build_w1(survey, export, s("raw_w1"), rates, keys)
    build_w2(survey, export, s("raw_w2"), rates, keys)
    export.codebooks = {
        W1_SOURCE: codebook_w1(survey, export),
        W2_SOURCE: codebook_w2(survey, export),
    }
    return export


def _w1_parquet_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A Kobo sheet as its Parquet module stores it: text columns as strings."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].astype("string")
    return out


def _w2_parquet_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A Stata file as Parquet: extended missing values as numeric special codes, text as strings."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            special = out[c].isin(["a", "b", "c"])
            if special.any():  # Stata extended missing -> the numeric special codes
                out[c] = pd.to_numeric(
                    out[c]
                    .mask(out[c] == "a", -99)
                    .mask(out[c] == "b", -98)
                    .mask(out[c] == "c", -97)  # blind stream: undeclared
                )
            else:
                out[c] = out[c].astype("string")
    return out


def parquet_tables(ex: RawExport) -> dict[str, pd.DataFrame]:
    """The raw tables as Parquet files (``synth.output_format: parquet``), by relative path.

    Parameters
    ----------
    ex : RawExport
        The raw export of :func:`build_raw_export`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``wave1_kobo/<sheet>.parquet`` and ``wave2_firm/<file>.parquet``, in writing order.
    """
    out = {
        f"wave1_kobo/{sheet}.parquet": _w1_parquet_frame(df) for sheet, df in ex.w1_sheets.items()
    }
    for name, df in ex.w2_files.items():
        out[f"{W2_DIR}/{name}.parquet"] = _w2_parquet_frame(df)
    return out


def codebook_text(codebook: dict[str, Any]) -> str:
    """The YAML text of one codebook, with its header comment."""
    return (
        "# Codebook (docs/codebook.md), written by ctip synth. SYNTHETIC data.\n"
        + yaml.safe_dump(codebook, sort_keys=False, allow_unicode=True, width=100)
    )


def defect_record(p: SynthParams, ex: RawExport) -> dict[str, Any]:
    """The content of ``planted_defects.json``: the rates, every planted defect and the counts."""
    return {
        "description": "Every defect planted by ctip synth in the raw files (for tests; no stage "
        "reads it). row: 1-based row as the reader numbers it (XLSX: spreadsheet row, header = 1; "
        "Stata/Parquet: observation number).",
        "rates": p.defects.model_dump(mode="json"),
        "defects": ex.defects,
        "counts": pd.Series([d["defect"] for d in ex.defects], dtype="object")
        .value_counts()
        .sort_index()
        .to_dict(),
    }
