"""Declared schemas: strict allow-list, key uniqueness, value checks, no values in messages."""

from __future__ import annotations

import pandas as pd
import pytest

from ctip_research.errors import SchemaError
from ctip_research.schemas import CANONICAL_TABLES, coerce_dtypes, get_table, validate_table


def _members(**overrides) -> pd.DataFrame:
    data = {
        "household_id": ["h1", "h1"],
        "wave": [1, 1],
        "member_id": [1, 2],
        "sex": ["female", "male"],
        "age": [40, 12],
        "relation_to_head": ["head", "child"],
        "educ_years": [5, 4],
        "is_away": [False, False],
        "migrant_type": ["none", "none"],
    }
    data.update(overrides)
    return coerce_dtypes(pd.DataFrame(data), get_table("members"))


def test_design_columns_named_identically_everywhere() -> None:
    for table in CANONICAL_TABLES.values():
        assert table.columns[:2] == ["household_id", "wave"]
    hh = get_table("households")
    for col in ("stratum_id", "psu_id", "weight_household", "province_code", "is_urban"):
        assert col in hh.columns


def test_valid_table_passes() -> None:
    df = _members()
    assert validate_table(df, get_table("members")).shape == (2, 9)


def test_undeclared_column_is_rejected() -> None:
    df = _members()
    df["name"] = ["Sok", "Dara"]
    with pytest.raises(SchemaError, match="allow-list"):
        coerce_dtypes(df, get_table("members"))


def test_every_failure_reported_without_values() -> None:
    df = _members(sex=["female", "Sokha"], age=[40, 400], member_id=[1, 1])
    with pytest.raises(SchemaError) as info:
        validate_table(df, get_table("members"))
    msg = str(info.value)
    assert "column sex" in msg and "column age" in msg and "uniqueness" in msg
    assert "Sokha" not in msg and "400" not in msg
