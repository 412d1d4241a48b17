"""Duplicate ids and submissions: the resolution rule, the report, and child rows following."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from clean_fixtures import make_interim

from ctip_research.clean import clean_tables
from ctip_research.clean.duplicates import find_duplicates
from ctip_research.config.clean import CleanParams

KEY = ["household_id", "wave"]


@pytest.fixture()
def clean_params(params_dict) -> CleanParams:
    return CleanParams.model_validate(params_dict["clean"])


def _with_resubmission(tables: dict[str, pd.DataFrame], i: int, *, change: bool) -> None:
    """Append a re-upload of household ``i`` (later time, new submission id) with its children."""
    hh = tables["households"]
    sid = hh.loc[i, "_submission_id"]
    for name, df in tables.items():
        rows = df.loc[df["_submission_id"] == sid].copy()
        rows["_submission_id"] = "resub"
        rows["_submission_time"] = "2022-04-30T10:00:00"
        rows["_row"] = rows["_row"] + 1000
        if name == "households" and change:
            rows["head_age"] = 55
        tables[name] = pd.concat([df, rows], ignore_index=True)


def test_no_duplicates_gives_empty_report():
    hh = make_interim()["households"]
    assert find_duplicates(
        hh, KEY, table="households", rule="keep_last", order_by="_submission_time"
    ).empty


@pytest.mark.parametrize(
    ("rule", "kept_row"), [("keep_last", 1003), ("keep_first", 3), ("drop_all", None)]
)
def test_duplicate_rule_decides_kept_row(rule, kept_row):
    t = make_interim()
    _with_resubmission(t, 1, change=False)
    rep = find_duplicates(
        t["households"], KEY, table="households", rule=rule, order_by="_submission_time"
    )
    assert len(rep) == 2 and rep["group"].nunique() == 1
    kept = rep.loc[rep["is_kept"].astype(bool), "row"].tolist()
    assert kept == ([] if kept_row is None else [kept_row])


def test_duplicate_kind_separates_resubmission_from_conflicting_id():
    t = make_interim()
    _with_resubmission(t, 1, change=False)
    _with_resubmission(t, 2, change=True)
    rep = find_duplicates(
        t["households"], KEY, table="households", rule="keep_last", order_by="_submission_time"
    )
    kinds = rep.drop_duplicates("group").set_index("household_id")["kind"].to_dict()
    assert kinds == {"h0001": "duplicate_submission", "h0002": "duplicate_id"}


def test_duplicate_keep_last_uses_time_not_file_order():
    t = make_interim()
    _with_resubmission(t, 1, change=True)
    hh = t["households"]
    # The re-upload comes later in the file but was submitted earlier.
    hh.loc[hh["_submission_id"] == "resub", "_submission_time"] = "2022-01-01T00:00:00"
    rep = find_duplicates(
        hh, KEY, table="households", rule="keep_last", order_by="_submission_time"
    )
    assert rep.loc[rep["is_kept"].astype(bool), "row"].tolist() == [3]


def test_duplicate_resolution_drops_children_of_dropped_submission(clean_params):
    t = make_interim()
    n_loans = len(t["loans"])
    _with_resubmission(t, 1, change=True)
    res = clean_tables(t, clean_params)
    out = res.tables
    assert len(out["households"]) == 40
    assert (
        out["households"].loc[out["households"]["household_id"] == "h0001", "_submission_id"]
        == "resub"
    ).all()
    assert len(out["loans"]) == n_loans
    assert len(out["members"]) == 120
    assert res.ledger["members"]["excluded"] == {"duplicate_id (keep_last) (household dropped)": 3}
    assert res.duplicates["table"].unique().tolist() == ["households"]


def test_duplicate_drop_all_removes_household_and_children(clean_params):
    t = make_interim()
    _with_resubmission(t, 4, change=True)
    p = clean_params.model_copy(
        update={"duplicates": clean_params.duplicates.model_copy(update={"rule": "drop_all"})}
    )
    res = clean_tables(t, p)
    for name, df in res.tables.items():
        assert "h0004" not in set(df["household_id"]), name
    assert all(v["balanced"] for v in res.ledger.values())


def test_duplicate_child_rows_resolved_within_table(clean_params):
    t = make_interim()
    extra = t["loans"].iloc[[0]].copy()
    extra["_row"] = 999
    t["loans"] = pd.concat([t["loans"], extra], ignore_index=True)
    res = clean_tables(t, clean_params)
    assert res.ledger["loans"]["excluded"] == {"duplicate_submission (keep_last)": 1}
    assert len(res.tables["loans"]) == len(t["loans"]) - 1


def test_params_yaml_clean_section_is_valid(params_dict):
    assert CleanParams.model_validate(params_dict["clean"]).duplicates.rule in (
        "keep_last",
        "keep_first",
        "drop_all",
    )
    bad = yaml.safe_load(yaml.safe_dump(params_dict["clean"]))
    bad["duplicates"]["rul"] = "keep_last"
    with pytest.raises(ValueError, match="rul"):
        CleanParams.model_validate(bad)


def test_same_upload_twice_keeps_one_copy_of_household_and_children(clean_params):
    t = make_interim()
    sizes = {k: len(v) for k, v in t.items()}
    sid = t["households"].loc[6, "_submission_id"]
    for name, df in t.items():
        copy = df.loc[df["_submission_id"] == sid].copy()
        copy["_row"] = copy["_row"] + 2000  # same submission id and time, later in the file
        t[name] = pd.concat([df, copy], ignore_index=True)
    res = clean_tables(t, clean_params)
    assert {k: len(v) for k, v in res.tables.items()} == sizes
    assert set(res.duplicates["kind"]) == {"duplicate_submission"}
    assert res.duplicates.groupby("table")["group"].nunique().to_dict() == {
        "households": 1,
        "loans": 1,
        "members": 3,
        "migration_episodes": 1,
    }
