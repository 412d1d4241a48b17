"""The identity of the data: which survey every published number comes from.

Ingest records, per source, the codebook's ``survey`` name, ``description``, wave and whether it
is the package's own synthetic survey (the embedded default), with every raw file it read and its
sha256 (``ingest_ledger.json``). ``ctip clean`` turns that ledger and the cleaned households into
the data identity ``<processed>/tables/survey.json`` (:func:`build_identity`): survey name,
sources, waves with their interview years, provinces present, raw files with their hashes and
the fingerprint of the raw files. Every face reads it: captions name the survey
(:func:`source_label`), the demonstration notice appears only when every source is the embedded
default (:func:`data_notices`), provenance lists the files actually ingested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ctip_research.literals import PROVINCES

__all__ = [
    "DEMO_NOTICE",
    "EMBEDDED_SURVEY",
    "IDENTITY_FILE",
    "SYNTH_GENERATOR",
    "build_identity",
    "data_notices",
    "read_identity",
    "source_label",
    "survey_description",
]

#: ``generator`` entry of the manifest ``ctip synth`` writes beside the synthetic raw files.
SYNTH_GENERATOR = "ctip synth"
#: Name of the embedded default survey in captions, provenance and the index.
EMBEDDED_SURVEY = "ctip_research calibrated synthetic survey (embedded default)"
#: The notice every face carries when (and only when) the data are the embedded default.
DEMO_NOTICE = (
    "Demonstration: every number comes from the package's calibrated synthetic survey, not from "
    "real Cambodian households."
)
#: File name of the data identity in ``<processed>/tables/``.
IDENTITY_FILE = "survey.json"


def _survey_name(sources: Sequence[Mapping[str, Any]], embedded: bool) -> str:
    if embedded:
        return EMBEDDED_SURVEY
    names = [str(s.get("survey") or s.get("source")) for s in sources]
    return "; ".join(dict.fromkeys(names)) or "(no source)"


def build_identity(ingest_ledger: Mapping[str, Any], households: pd.DataFrame) -> dict[str, Any]:
    """The data identity (JSON-ready) from the ingest ledger and the cleaned households.

    Parameters
    ----------
    ingest_ledger
        ``ingest_ledger.json`` as written by ``ctip ingest``.
    households
        The cleaned canonical households table (``wave``, ``province_code``,
        ``interview_year``).

    Examples
    --------
    >>> ledger = {"embedded_default": False, "synthetic": False, "raw_fingerprint": "f",
    ...           "sources": [{"source": "w1", "survey": "Delta survey", "description": "d",
    ...                        "wave": 1, "raw_files": []}]}
    >>> hh = pd.DataFrame({"wave": [1, 1], "province_code": [6, 21],
    ...                    "interview_year": [2021, 2021]})
    >>> ident = build_identity(ledger, hh)
    >>> ident["survey"], [p["name"] for p in ident["provinces"]]
    ('Delta survey', ['Kampong Thom', 'Takeo'])
    """
    sources = list(ingest_ledger.get("sources", []))
    embedded = bool(ingest_ledger.get("embedded_default"))
    waves = []
    if not households.empty:
        for wave_value, part in households.groupby("wave", sort=True):
            wave = int(str(wave_value))
            years = (
                sorted(int(y) for y in part["interview_year"].dropna().unique())
                if "interview_year" in part
                else []
            )
            waves.append({"wave": wave, "interview_years": years, "households": int(len(part))})
    codes = (
        sorted(int(c) for c in households["province_code"].dropna().unique())
        if "province_code" in households
        else []
    )
    return {
        "survey": _survey_name(sources, embedded),
        "embedded_default": embedded,
        "synthetic": bool(ingest_ledger.get("synthetic")),
        "raw_fingerprint": ingest_ledger.get("raw_fingerprint"),
        "waves": waves,
        "provinces": [{"code": c, "name": PROVINCES.get(c, str(c))} for c in codes],
        "sources": [
            {
                k: s.get(k)
                for k in (
                    "source",
                    "survey",
                    "description",
                    "wave",
                    "format",
                    "synthetic",
                    "embedded_default",
                    "codebook",
                    "codebook_sha256",
                    "raw_files",
                )
            }
            for s in sources
        ],
    }


def source_label(identity: Mapping[str, Any]) -> str:
    """The data source named in captions: survey name and number of provinces.

    Examples
    --------
    >>> source_label({"survey": "Delta survey", "provinces": [{"code": 6}, {"code": 21}]})
    'Delta survey, 2 provinces'
    """
    n = len(identity.get("provinces", []))
    return f"{identity['survey']}, {n} province{'s' if n != 1 else ''}"


def survey_description(identity: Mapping[str, Any]) -> str:
    """One line on the data for methods notes: survey, waves with their years, provinces.

    Examples
    --------
    >>> survey_description({"survey": "Delta panel", "provinces": [{"code": 6}, {"code": 20}],
    ...     "waves": [{"wave": 1, "interview_years": [2021]},
    ...               {"wave": 2, "interview_years": [2024]}]})
    'Delta panel: two-wave household survey (2021, 2024) in 2 provinces'
    """
    waves = identity.get("waves", [])
    if not waves:
        return str(identity["survey"])
    words = {1: "one", 2: "two", 3: "three", 4: "four"}
    years = sorted({y for w in waves for y in w.get("interview_years", [])})
    n = len(identity.get("provinces", []))
    return (
        f"{identity['survey']}: {words.get(len(waves), str(len(waves)))}-wave household survey"
        + (f" ({', '.join(str(y) for y in years)})" if years else "")
        + f" in {n} province{'s' if n != 1 else ''}"
    )


def data_notices(identity: Mapping[str, Any], extra: str | None = None) -> str | None:
    """The notice printed at the top of the brief and the index, or ``None``.

    The demonstration notice appears only when every source is the embedded default; ``extra``
    (``brief.data_notice``, e.g. "Preliminary results") is added on any data.

    Examples
    --------
    >>> data_notices({"embedded_default": False}) is None
    True
    >>> data_notices({"embedded_default": True}, "Draft.") == DEMO_NOTICE + " Draft."
    True
    """
    parts = [DEMO_NOTICE] if identity.get("embedded_default") else []
    if extra and extra.strip():
        parts.append(extra.strip())
    return " ".join(parts) or None


def read_identity(processed: str | Path) -> dict[str, Any]:
    """The data identity written by ``ctip clean`` (``<processed>/tables/survey.json``).

    Without one (tables written by hand, or ``ctip clean`` not run) an identity naming no survey
    is returned, with ``missing: true``: captions then say the source is unknown and no
    demonstration notice is printed. An unreadable file is an
    :class:`~ctip_research.errors.InputFileError`.

    Examples
    --------
    >>> read_identity("/nonexistent")["missing"]
    True
    """
    from ctip_research.errors import InputFileError
    from ctip_research.io import read_json

    path = Path(processed) / "tables" / IDENTITY_FILE
    if not path.is_file():
        return {
            "survey": "unknown survey (no data identity; run `ctip clean`)",
            "embedded_default": False,
            "synthetic": False,
            "provinces": [],
            "waves": [],
            "sources": [],
            "missing": True,
        }
    try:
        data = read_json(path)
    except (ValueError, OSError):
        raise InputFileError("data identity is not valid JSON", file=path) from None
    if not isinstance(data, dict) or "survey" not in data:
        raise InputFileError("data identity lacks the survey name", file=path)
    return data
