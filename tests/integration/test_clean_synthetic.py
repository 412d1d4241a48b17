"""Clean on the synthetic survey: no false alarm on the generator's clean tables; on the raw
default data (ingested), the planted defects are found (recall and false positives measured
against the generator's own record, data/raw/synthetic/planted_defects.json)."""

from __future__ import annotations

import pandas as pd
import pytest

from ctip_research.clean import clean_tables
from ctip_research.schemas import CANONICAL_TABLES
from ctip_research.synth import generate_survey

TABLES = ("households", "members", "loans", "migration_episodes")


@pytest.fixture(scope="module")
def survey(params):
    return generate_survey(params.synth)


def _as_interim(survey) -> dict[str, pd.DataFrame]:
    out = {}
    for name in TABLES:
        df = getattr(survey, name).copy()
        df["_source"] = pd.array([f"wave{w}" for w in df["wave"]], dtype="string")
        df["_file"] = pd.array([f"{name}.parquet"] * len(df), dtype="string")
        df["_row"] = pd.array(range(2, len(df) + 2), dtype="Int64")
        df["_submission_id"] = pd.array([pd.NA] * len(df), dtype="string")
        df["_submission_time"] = pd.array([pd.NA] * len(df), dtype="string")
        out[name] = df
    return out


@pytest.mark.slow
def test_clean_raises_no_issue_on_generator_clean_tables(survey, params):
    res = clean_tables(_as_interim(survey), params.clean)
    assert res.issues.empty, res.issues.groupby(["check", "column"]).size()
    for name, df in res.processed().items():
        key = list(CANONICAL_TABLES[name].key)
        expected = getattr(survey, name).sort_values(key, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(df, expected)
