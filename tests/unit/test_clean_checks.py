"""Each data-quality check on a small hand-made fixture: a planted hit is found, a valid table
gives no hit, and no issue carries the checked value."""

from __future__ import annotations

import pandas as pd
import pytest
from clean_fixtures import make_interim

from ctip_research.clean import checks
from ctip_research.schemas import CANONICAL_TABLES


@pytest.fixture()
def interim() -> dict[str, pd.DataFrame]:
    return make_interim()


def test_range_finds_nothing_when_table_valid(interim):
    for name, df in interim.items():
        assert checks.check_range(df, CANONICAL_TABLES[name]).empty


def test_range_flags_value_above_maximum_without_echoing_it(interim):
    mem = interim["members"]
    mem.loc[4, "age"] = 187
    iss = checks.check_range(mem, CANONICAL_TABLES["members"])
    assert iss[["check", "column", "row", "index"]].values.tolist() == [["range", "age", 6, 4]]
    assert iss["household_id"].iloc[0] == mem.loc[4, "household_id"]
    assert "187" not in iss.drop(columns=["index"]).to_csv()


def test_range_flags_category_not_in_allowed_set(interim):
    loans = interim["loans"]
    loans.loc[0, "lender_type"] = "loan_shark"
    iss = checks.check_range(loans, CANONICAL_TABLES["loans"])
    assert iss["column"].tolist() == ["lender_type"]
    assert iss["detail"].iloc[0] == "value not in the allowed set"


def test_range_flags_missing_required_value(interim):
    hh = interim["households"]
    hh.loc[3, "weight_household"] = pd.NA
    iss = checks.check_range(hh, CANONICAL_TABLES["households"])
    assert iss[["check", "column"]].values.tolist() == [["missing_required", "weight_household"]]


def test_test_submission_found_by_enumerator_pattern(interim):
    hh = interim["households"]
    hh.loc[7, "enumerator_id"] = "TEST-01"
    iss = checks.check_test_submissions(hh, enumerator_pattern="^test", fieldwork_start=None)
    assert iss["index"].tolist() == [7]


def test_test_submission_found_by_time_before_fieldwork(interim):
    hh = interim["households"]
    hh.loc[2, "_submission_time"] = "2022-02-20T09:00:00"
    iss = checks.check_test_submissions(hh, enumerator_pattern=None, fieldwork_start="2022-03-01")
    assert iss["index"].tolist() == [2]
    assert iss["detail"].iloc[0] == "submitted before fieldwork started"


def test_test_submission_none_when_codes_and_times_regular(interim):
    iss = checks.check_test_submissions(
        interim["households"], enumerator_pattern="^test", fieldwork_start="2022-03-01"
    )
    assert iss.empty


def test_referential_integrity_none_when_every_child_has_parent(interim):
    assert checks.check_referential_integrity(interim).empty


def test_referential_integrity_flags_orphan_loan_and_episode_without_member(interim):
    interim["loans"].loc[5, "household_id"] = "nohousehold"
    interim["migration_episodes"].loc[9, "member_id"] = 8
    iss = checks.check_referential_integrity(interim)
    assert sorted(zip(iss["table"], iss["index"], strict=True)) == [
        ("loans", 5),
        ("migration_episodes", 9),
    ]


def test_currency_flags_riel_typed_as_dollars(interim):
    loans = interim["loans"]
    loans.loc[11, "principal_usd"] = loans.loc[11, "principal_usd"] * 4100
    iss = checks.check_currency(loans, ["principal_usd"], table="loans", min_ratio=1000, min_n=20)
    assert iss["index"].tolist() == [11]
    assert "riel typed as dollars" in iss["detail"].iloc[0]


def test_currency_none_on_plausible_amounts(interim):
    iss = checks.check_currency(
        interim["loans"], ["principal_usd"], table="loans", min_ratio=1000, min_n=20
    )
    assert iss.empty


def test_currency_reaches_fixed_point_with_two_scales(interim):
    # Two planted amounts: after the larger is set aside the smaller is still flagged.
    loans = interim["loans"]
    loans.loc[1, "principal_usd"] = 1e7
    loans.loc[2, "principal_usd"] = 4e6
    iss = checks.check_currency(loans, ["principal_usd"], table="loans", min_ratio=1000, min_n=20)
    assert sorted(iss["index"].tolist()) == [1, 2]


@pytest.mark.parametrize(("rule", "threshold"), [("iqr", 3.0), ("mad", 5.0), ("zscore", 4.0)])
def test_outliers_flag_planted_extreme_by_each_rule(interim, rule, threshold):
    hh = interim["households"]
    hh.loc[13, "income_annual_usd"] = 9e6
    iss = checks.check_outliers(
        hh, ["income_annual_usd"], table="households", rule=rule, threshold=threshold, min_n=20
    )
    assert iss["index"].tolist() == [13]
    assert iss["enumerator_id"].iloc[0] == hh.loc[13, "enumerator_id"]


def test_outliers_none_on_lognormal_amounts(interim):
    iss = checks.check_outliers(
        interim["households"],
        ["income_annual_usd", "asset_value_usd"],
        table="households",
        rule="mad",
        threshold=5,
        min_n=20,
    )
    assert iss.empty


def test_outliers_skip_groups_smaller_than_min_n(interim):
    hh = interim["households"]
    hh.loc[13, "income_annual_usd"] = 9e6
    iss = checks.check_outliers(
        hh, ["income_annual_usd"], table="households", rule="mad", threshold=5, min_n=len(hh) + 1
    )
    assert iss.empty


def test_outliers_leave_out_excluded_rows(interim):
    hh = interim["households"]
    hh.loc[13, "income_annual_usd"] = 9e6
    iss = checks.check_outliers(
        hh,
        ["income_annual_usd"],
        table="households",
        rule="mad",
        threshold=5,
        min_n=20,
        exclude=pd.Index([13]),
    )
    assert iss.empty


def test_skip_logic_none_when_answers_consistent(interim):
    assert checks.check_skip_logic(interim).empty


def test_skip_logic_flags_each_rule(interim):
    hh, mem, ep = interim["households"], interim["members"], interim["migration_episodes"]
    hh.loc[0, "n_children"] = 5  # > household size 3
    hh.loc[1, "n_working_age"] = 3  # 1 child + 3 > 3
    hh.loc[2, "received_livelihood_grant"] = True  # wave 1
    mem.loc[0, "migrant_type"] = "domestic"  # head, not away
    mem.loc[5, "is_away"] = False  # household 1's migrant back home, episode not returned
    ep.loc[3, "cost_financed_by_loan"] = False  # but lender mfi given
    iss = checks.check_skip_logic(interim)
    got = sorted(zip(iss["table"], iss["column"], iss["index"], strict=True))
    assert got == [
        ("households", "n_children", 0),
        ("households", "n_working_age", 1),
        ("households", "received_livelihood_grant", 2),
        ("members", "migrant_type", 0),
        ("members", "migrant_type", 5),  # still typed international while home
        ("migration_episodes", "loan_source", 3),
        ("migration_episodes", "member_id", 1),
    ]


def test_skip_logic_accepts_episode_of_returned_migrant(interim):
    interim["members"].loc[5, "is_away"] = False
    interim["members"].loc[5, "migrant_type"] = "none"
    interim["migration_episodes"].loc[1, "has_returned"] = True
    assert checks.check_skip_logic(interim).empty


@pytest.mark.parametrize(
    ("column", "yes", "no"),
    [
        ("_n_loans_reported", 1, 0),
        ("_has_loan_reported", True, False),
        ("_has_loan_reported", "yes", "no"),
    ],
)
def test_skip_logic_flags_loans_of_household_reporting_none(interim, column, yes, no):
    hh = interim["households"]
    hh[column] = pd.Series([yes] * len(hh), index=hh.index, dtype=object)
    hh.loc[0, column] = no
    iss = checks.check_skip_logic(interim)
    assert iss["table"].tolist() == ["loans"]
    assert (iss["household_id"] == hh.loc[0, "household_id"]).all()


def test_special_codes_counted_by_reason_and_joined_to_household(interim):
    sc = pd.DataFrame(
        {
            "source": ["wave1_kobo"] * 3,
            "table": ["households", "households", "loans"],
            "_row": [2, 3, 4],
            "column": ["head_age", "head_age", "principal"],
            "code": [-99, -98, -99],
            "reason": ["refused", "dont_know", "refused"],
        }
    )
    counts, iss = checks.summarise_special_codes(sc, interim)
    assert counts["n"].sum() == 3
    assert set(counts["reason"]) == {"refused", "dont_know"}
    hh = interim["households"]
    assert sorted(iss.loc[iss["table"] == "households", "household_id"]) == sorted(
        hh.loc[[0, 1], "household_id"]
    )
    assert (iss["severity"] == "info").all()
    assert iss.loc[iss["table"] == "households", "enumerator_id"].notna().all()
    assert iss.loc[iss["table"] == "loans", "household_id"].tolist() == [
        interim["loans"].loc[2, "household_id"]
    ]


def test_outliers_upper_tail_ignores_tiny_amounts(interim):
    hh = interim["households"]
    hh.loc[13, "income_annual_usd"] = 0.5
    kw = dict(table="households", rule="mad", threshold=5, min_n=20)
    assert checks.check_outliers(hh, ["income_annual_usd"], tail="upper", **kw).empty
    both = checks.check_outliers(hh, ["income_annual_usd"], tail="both", **kw)
    assert both["index"].tolist() == [13]
