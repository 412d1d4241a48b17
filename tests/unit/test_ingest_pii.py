"""PII scan: name-like columns, unique text, phone / e-mail / date patterns; waivers with a reason."""

from __future__ import annotations

import pandas as pd
import pytest

from ctip_research.errors import PrivacyError
from ctip_research.ingest.pii import check_pii, is_name_like, scan_pii
from ctip_research.schemas import CANONICAL_TABLES


def _rules(df: pd.DataFrame, **kw) -> set[tuple[str, str]]:
    return set(zip(*[scan_pii(df, **kw)[c] for c in ("column", "rule")], strict=True))


@pytest.mark.parametrize(
    ("column", "term"),
    [
        ("hh/respondent_name", "respondent"),
        ("resp_fname", "fname"),
        ("_hh_gps_latitude", "gps"),
        ("deviceid", "deviceid"),
        ("meta/instanceID", "instanceid"),
        ("q12_phone_no", "phone"),
        ("ឈ្មោះអ្នកឆ្លើយ", "ឈ្មោះ"),
        ("lek_tourasap", "tourasap"),
        ("date_of_birth", "birth"),
    ],
)
def test_name_like_columns_are_hits(column: str, term: str) -> None:
    assert is_name_like(column) == term


@pytest.mark.parametrize(
    "column",
    [
        "income_farm_usd",
        "relation_to_head",
        "n_members_trained",
        "loan_id",
        "collateral",
        "allocation",
    ],
)
def test_ordinary_columns_are_not_name_like(column: str) -> None:
    # token matching: 'lat' does not hit 'relation'/'collateral', 'loc' not 'allocation'
    assert is_name_like(column) is None


def test_unique_text_column_is_a_hit_but_codes_are_not() -> None:
    df = pd.DataFrame(
        {
            "note": [f"visited on market day {i}" for i in range(40)],
            "enum": ["E01", "E02"] * 20,
            "amount": [float(i) for i in range(40)],
        }
    )
    assert _rules(df) == {("note", "high_uniqueness")}


def test_uniqueness_rule_needs_enough_values() -> None:
    df = pd.DataFrame({"x": ["a", "b", "c"]})
    assert _rules(df) == set()
    assert _rules(df, min_values=3) == {("x", "high_uniqueness")}


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        (["+855 12 345 678", "012 987 654", "097-111-2222", "016222333"], "phone"),
        (["a.b@example.org", "c@d.kh", "x@y.com", "none"], "email"),
        (["1984-02-01", "03/11/1990", "1975-07-30", "?"], "date"),
    ],
)
def test_patterns_in_more_than_half_of_values_are_hits(values: list[str], rule: str) -> None:
    assert ("v", rule) in _rules(pd.DataFrame({"v": values}))


def test_pattern_in_half_or_fewer_values_is_not_a_hit() -> None:
    df = pd.DataFrame({"v": ["012 987 654", "016222333", "rice", "fish"]})
    assert _rules(df) == set()


def test_datetime_column_is_a_hit() -> None:
    df = pd.DataFrame({"t": pd.to_datetime(["2022-01-01", "2022-01-02"])})
    assert _rules(df) == {("t", "datetime_column")}


def test_check_raises_for_unwaived_hits_without_echoing_values() -> None:
    df = pd.DataFrame({"contact": ["+855 12 345 678", "+855 97 111 2222"]})
    with pytest.raises(PrivacyError) as info:
        check_pii(df, table="households")
    assert "column 'contact'" in str(info.value) and "phone" in str(info.value)
    assert "345" not in str(info.value)


def test_waiver_needs_a_reason() -> None:
    df = pd.DataFrame({"contact": ["+855 12 345 678", "+855 97 111 2222"]})
    with pytest.raises(PrivacyError):
        check_pii(df, table="t", waivers={"contact": "  "})
    waived = check_pii(df, table="t", waivers={"contact": "switchboard numbers, not people"})
    assert waived["waiver"].tolist() == ["switchboard numbers, not people"] * 2


def test_reviewed_canonical_columns_skip_only_the_name_rule() -> None:
    table = CANONICAL_TABLES["households"]
    df = pd.DataFrame({"district_code": [1, 2], "village_name": ["x", "y"]})
    hits = _rules(df, reviewed_columns=table.columns)
    assert hits == {("village_name", "name_like")}
    flagged = {c for t in CANONICAL_TABLES.values() for c in t.columns if is_name_like(c)}
    assert flagged  # the J-PAL list does flag some canonical names: they are reviewed


def test_village_codes_and_amounts_are_not_phone_numbers() -> None:
    df = pd.DataFrame(
        {
            "psu_id": ["02010101", "17030405", "12010203", "01020304"],
            "amount": ["4100000", "350000", "1250000", "99000"],
        }
    )
    assert _rules(df) == set()
