"""The data identity: survey name, waves, provinces and the demonstration notice come from the data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ctip_research.errors import InputFileError
from ctip_research.identity import (
    DEMO_NOTICE,
    EMBEDDED_SURVEY,
    build_identity,
    data_notices,
    read_identity,
    source_label,
)

LEDGER = {
    "synthetic": True,  # someone else's simulated survey: synthetic, but not the package's own
    "embedded_default": False,
    "raw_fingerprint": "ab" * 32,
    "sources": [
        {
            "source": "delta_w1",
            "survey": "Delta panel",
            "description": "Baseline, CSV",
            "wave": 1,
            "format": "csv",
            "synthetic": True,
            "embedded_default": False,
            "codebook": "raw/w1.codebook.yaml",
            "codebook_sha256": "cd" * 32,
            "raw_files": [{"path": "raw/w1/hh.csv", "sha256": "ef" * 32, "bytes": 10}],
            "files": [{"path": "w1/hh.csv"}],  # ledger detail not copied into the identity
        },
        {"source": "delta_w2", "survey": "Delta panel", "wave": 2, "raw_files": []},
    ],
}
HOUSEHOLDS = pd.DataFrame(
    {
        "wave": [1, 1, 1, 2],
        "province_code": [20, 6, 6, 20],
        "interview_year": [2021, 2021, 2022, 2024],
    }
)


def test_identity_names_the_survey_waves_provinces_and_files() -> None:
    ident = build_identity(LEDGER, HOUSEHOLDS)
    assert ident["survey"] == "Delta panel"
    assert ident["provinces"] == [
        {"code": 6, "name": "Kampong Thom"},
        {"code": 20, "name": "Svay Rieng"},
    ]
    assert ident["waves"] == [
        {"wave": 1, "interview_years": [2021, 2022], "households": 3},
        {"wave": 2, "interview_years": [2024], "households": 1},
    ]
    assert ident["sources"][0]["raw_files"][0]["path"] == "raw/w1/hh.csv"
    assert "files" not in ident["sources"][0]
    assert source_label(ident) == "Delta panel, 2 provinces"


def test_demo_notice_only_when_every_source_is_the_embedded_default() -> None:
    foreign = build_identity(LEDGER, HOUSEHOLDS)
    assert data_notices(foreign) is None  # synthetic: true is not enough
    assert data_notices(foreign, "Preliminary.") == "Preliminary."
    own = build_identity({**LEDGER, "embedded_default": True}, HOUSEHOLDS)
    assert own["survey"] == EMBEDDED_SURVEY
    assert data_notices(own) == DEMO_NOTICE


def test_read_identity_without_clean_names_no_survey(tmp_path: Path) -> None:
    ident = read_identity(tmp_path)
    assert ident["missing"] is True and data_notices(ident) is None
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "survey.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputFileError, match="not valid JSON"):
        read_identity(tmp_path)
