"""Values no codebook lists: near-miss label proposals and code-like numbers (ingest.review),
and how apply_codebook records them (``unknown_labels``, ``code_like``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip_research.errors import CodebookError
from ctip_research.ingest.apply import REVIEW_COLUMNS, apply_codebook
from ctip_research.ingest.codebook import parse_codebook
from ctip_research.ingest.readers import RawTable
from ctip_research.ingest.review import (
    find_code_like,
    is_code_like,
    propose_label,
    review_proposals,
)

PROVINCES = ["Banteay Meanchey", "Battambang", "Kampong Cham", "Koh Kong", "Phnom Penh"]
RATES = {2022: {"USD": 1.0, "KHR": 4100.0, "THB": 35.0}}


# -- propose_label ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "right"),
    [
        ("Batambang", "Battambang"),  # a letter dropped
        ("Battambangg", "Battambang"),  # doubled
        ("Btatambang", "Battambang"),  # two neighbours swapped
        ("Kampong Chim", "Kampong Cham"),  # a vowel changed
        ("phnom penh", "Phnom Penh"),  # case
        ("PhnomPenh", "Phnom Penh"),  # separator dropped
        ("Koh-Kong", "Koh Kong"),  # separator changed
        ("Banteay Mean Chey", "Banteay Meanchey"),  # separator added
    ],
)
def test_one_keying_slip_is_proposed_as_its_documented_label(typo: str, right: str) -> None:
    assert propose_label(typo, PROVINCES) == right


@pytest.mark.parametrize("label", ["Kampong Som", "B. Meanchey", "Takeo", "", "   "])
def test_no_proposal_when_no_documented_label_is_close(label: str) -> None:
    assert propose_label(label, PROVINCES) is None


def test_no_proposal_when_two_documented_labels_are_equally_close() -> None:
    assert propose_label("bat", ["bad", "bag"]) is None
    assert propose_label("mfi", ["mfi", "bank"]) == "mfi"


def test_short_labels_need_more_than_one_edit_to_be_ambiguous() -> None:
    # one edit in a three-letter label is a third of it: no proposal (fmi could be anything)
    assert propose_label("fmi", ["mfi", "bank"]) is None
    assert propose_label("bnak", ["mfi", "bank"]) == "bank"


@pytest.mark.parametrize("label", PROVINCES)
def test_a_documented_label_proposes_itself(label: str) -> None:
    assert propose_label(label, PROVINCES) == label


# -- code-like numbers ------------------------------------------------------------------------


def test_code_shapes() -> None:
    shaped = [99, 98, 97, 999, 9998, 99999, 88, 888, 77, -1, -97, -99, -999, -88]
    plain = [9, 8, 90, 100, 1999, 989, 87, 0.5, 99.5, 0, -2, -5, 1000]
    assert all(is_code_like(v) for v in shaped)
    assert not any(is_code_like(v) for v in plain)


def test_heaped_code_is_found_and_an_isolated_one_is_not() -> None:
    rng = np.random.default_rng(1)
    ages = list(rng.integers(18, 90, 500)) + [99] * 12 + [98]
    why = find_code_like(pd.Series(ages), nonnegative=True, min_count=3, heaping_ratio=5)
    hit = pd.Series(ages)[why.notna()]
    assert set(hit) == {99} and len(hit) == 12
    assert "12 rows" in why[why.notna()].iloc[0]


def test_negative_code_in_a_nonnegative_column_is_found_once_seen() -> None:
    values = pd.Series([1200.0, 800.0, -97.0, 640.0])
    why = find_code_like(values, nonnegative=True, min_count=3, heaping_ratio=5)
    assert why.notna().tolist() == [False, False, True, False]
    assert find_code_like(values, nonnegative=False, min_count=3, heaping_ratio=5).isna().all()


def test_a_value_common_among_its_neighbours_is_not_heaped() -> None:
    # instalments rounded to whole dollars: 99 as common as 95..104 is no code
    values = pd.Series(np.repeat(np.arange(90, 110), 6).astype(float))
    assert find_code_like(values, nonnegative=True, min_count=3, heaping_ratio=5).isna().all()


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_log_normal_amounts_give_no_code(seed: int) -> None:
    amounts = np.round(np.exp(np.random.default_rng(seed).normal(8, 1.2, 800)), 2)
    why = find_code_like(pd.Series(amounts), nonnegative=True, min_count=3, heaping_ratio=5)
    assert why.isna().all()


def test_text_and_missing_values_are_ignored() -> None:
    values = pd.Series(["99", "99", "99", None, "x", "99", "40"])
    why = find_code_like(values, nonnegative=True, min_count=3, heaping_ratio=3)
    assert why.notna().tolist() == [True, True, True, False, False, True, False]


def test_proposals_group_by_source_file_and_column() -> None:
    review = pd.DataFrame(
        {
            "source": ["s", "s", "s", "s"],
            "file": ["a.xlsx"] * 4,
            "sheet": ["main"] * 4,
            "raw_column": ["prov", "prov", "prov", "age"],
            "kind": ["unknown_label", "unknown_label", "unknown_label", "code_like"],
            "value": ["Batambang", "Batambang", "Kampong Som", "99"],
            "proposal": ["Battambang", "Battambang", None, None],
        }
    )
    out = review_proposals(review)["s"]["a.xlsx [sheet main]"]
    assert out["prov"] == {"fixes": {"Batambang": "Battambang"}, "unknown": ["Kampong Som"]}
    assert out["age"] == {"special_codes": {"99": "TODO: reason (1 row)"}}
    assert review_proposals(pd.DataFrame()) == {}


# -- apply_codebook -----------------------------------------------------------------------------


def _codebook() -> object:
    return parse_codebook(
        {
            "codebook_version": 1,
            "source": "s",
            "wave": 1,
            "format": "csv",
            "special_codes": {-99: "refused"},
            "files": [
                {
                    "path": "a.csv",
                    "table": "households",
                    "columns": {
                        "id": {"action": "key", "canonical": "household_id"},
                        "prov": {
                            "action": "map",
                            "canonical": "province_code",
                            "values": {"Battambang": 2, "Kampong Cham": 3},
                        },
                        "age": {"action": "map", "canonical": "head_age"},
                    },
                }
            ],
        }
    )


def _raw() -> RawTable:
    n = 12
    prov = ["Battambang"] * n
    prov[3], prov[7] = "Batambang", "Kampong Som"
    age = [str(30 + i) for i in range(n)]
    age[1] = age[4] = age[9] = "99"
    age[10] = "-99"
    return RawTable(
        pd.DataFrame({"id": [f"H{i}" for i in range(n)], "prov": prov, "age": age}),
        file="a.csv",
    )


def test_unknown_labels_stop_ingest_counting_near_misses_without_values() -> None:
    with pytest.raises(CodebookError) as err:
        apply_codebook(_codebook(), {("a.csv", None): _raw()}, exchange_rates=RATES, hmac_key="k")
    text = str(err.value)
    assert "2 value(s) not in the value map of province_code" in text
    assert "near misses of documented labels" in text and "ingest.unknown_labels: propose" in text
    # the raw labels never reach a message (they could be names typed into the wrong column)
    assert "Batambang" not in text


def test_propose_sets_unknown_labels_missing_and_records_them_for_review() -> None:
    res = apply_codebook(
        _codebook(),
        {("a.csv", None): _raw()},
        exchange_rates=RATES,
        hmac_key="k",
        unknown_labels="propose",
        code_like=(3, 3.0),  # no age near 99: three rows are three times its neighbours
    )
    hh = res.tables["households"]
    assert hh["province_code"].isna().tolist() == [i in (3, 7) for i in range(12)]
    rv = res.review
    assert list(rv.columns) == list(REVIEW_COLUMNS)
    labels = rv[rv["kind"] == "unknown_label"]
    assert labels["_row"].tolist() == [5, 9]
    assert labels["value"].tolist() == ["Batambang", "Kampong Som"]
    assert labels["proposal"].iloc[0] == "Battambang" and pd.isna(labels["proposal"].iloc[1])
    # never applied: the near miss stays missing
    assert pd.isna(hh.loc[3, "province_code"])
    codes = rv[rv["kind"] == "code_like"]
    assert codes["_row"].tolist() == [3, 6, 11] and set(codes["value"]) == {"99"}
    assert codes["column"].unique().tolist() == ["head_age"]
    # the value is kept (clean decides); the documented -99 is a special code, not for review
    assert hh.loc[1, "head_age"] == 99 and pd.isna(hh.loc[10, "head_age"])
    assert res.ledger["files"][0]["review_values"] == 5


def test_without_code_like_rule_nothing_is_reviewed() -> None:
    raw = _raw()
    raw.data.loc[[3, 7], "prov"] = "Battambang"
    res = apply_codebook(_codebook(), {("a.csv", None): raw}, exchange_rates=RATES, hmac_key="k")
    assert res.review.empty and list(res.review.columns) == list(REVIEW_COLUMNS)
    assert "review_values" not in res.ledger["files"][0]
