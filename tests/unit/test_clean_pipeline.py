"""clean_tables end to end on hand-made tables: actions, ledger, enumerators, idempotence."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from clean_fixtures import make_interim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctip_research.clean import clean_tables
from ctip_research.config.clean import CleanParams
from ctip_research.schemas import CANONICAL_TABLES, validate_table


@pytest.fixture()
def clean_params(params_dict) -> CleanParams:
    return CleanParams.model_validate(params_dict["clean"])


def _with(p: CleanParams, section: str, **update) -> CleanParams:
    return p.model_copy(update={section: getattr(p, section).model_copy(update=update)})


def test_valid_tables_pass_unchanged_and_validate(clean_params):
    t = make_interim()
    res = clean_tables(t, clean_params)
    assert res.issues.empty
    for name, df in res.processed().items():
        validate_table(df, CANONICAL_TABLES[name])
        assert len(df) == len(t[name])


@pytest.mark.parametrize(
    ("action", "n_members", "age_missing"),
    [("flag", 120, 0), ("set_missing", 120, 1), ("drop_row", 119, 0)],
)
def test_range_action_decides_what_happens(clean_params, action, n_members, age_missing):
    t = make_interim()
    t["members"].loc[0, "age"] = 150
    res = clean_tables(t, _with(clean_params, "range", action=action))
    mem = res.tables["members"]
    assert len(mem) == n_members
    assert int(mem["age"].isna().sum()) == age_missing
    assert res.issues.loc[res.issues["check"] == "range", "action"].tolist() == [action]


def test_range_violation_in_required_column_drops_row_even_when_set_missing(clean_params):
    t = make_interim()
    t["households"].loc[0, "province_code"] = 99
    res = clean_tables(t, _with(clean_params, "range", action="set_missing"))
    assert res.ledger["households"]["excluded"] == {"out of range": 1}
    assert res.ledger["members"]["excluded"] == {"out of range (household dropped)": 3}


def test_ledger_balances_with_every_reason(clean_params):
    t = make_interim()
    t["households"].loc[0, "enumerator_id"] = "test"
    t["loans"].loc[4, "household_id"] = "ghost"
    t["households"].loc[5, "weight_household"] = pd.NA
    res = clean_tables(t, clean_params)
    led = res.ledger
    assert all(v["balanced"] for v in led.values())
    assert led["households"]["excluded"] == {"required value missing": 1, "test submission": 1}
    assert led["loans"]["excluded"]["orphan row"] == 1
    assert sum(v["rows_in"] for v in led.values()) == sum(
        v["rows_out"] + v["rows_excluded"] for v in led.values()
    )
    assert len(res.exclusions) == sum(v["rows_excluded"] for v in led.values())


def test_issues_of_child_rows_name_the_enumerator(clean_params):
    t = make_interim()
    t["loans"].loc[0, "lender_type"] = "shark"
    res = clean_tables(t, clean_params)
    iss = res.issues.loc[res.issues["check"] == "range"]
    hh = t["households"].set_index("household_id")
    assert iss["enumerator_id"].tolist() == [
        hh.loc[t["loans"].loc[0, "household_id"], "enumerator_id"]
    ]


def test_currency_set_missing_then_outliers_do_not_reflag(clean_params):
    t = make_interim()
    t["households"].loc[3, "income_annual_usd"] = 4100 * 2000.0
    res = clean_tables(t, clean_params)
    checks_hit = res.issues.loc[res.issues["household_id"] == "h0003", "check"].tolist()
    assert checks_hit == ["currency"]
    assert pd.isna(res.tables["households"].loc[3, "income_annual_usd"])


def _reinterim(res) -> dict[str, pd.DataFrame]:
    return {k: v.reset_index(drop=True) for k, v in res.tables.items()}


def _assert_same(a, b) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


_PARAMS = CleanParams.model_validate(
    yaml.safe_load((Path(__file__).parents[2] / "params.yaml").read_text())["clean"]
)

defects = st.lists(
    st.tuples(
        st.sampled_from(["age", "income", "principal", "orphan", "test", "dup", "skip", "cat"]),
        st.integers(0, 39),
        st.floats(1e-3, 1e9, allow_nan=False),
    ),
    max_size=12,
)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(defects=defects, action=st.sampled_from(["flag", "set_missing", "drop_row"]))
def test_cleaning_twice_equals_cleaning_once(defects, action):
    p = _PARAMS
    for section in ("range", "currency", "outliers", "skip_logic"):
        p = _with(p, section, action=action)
    t = make_interim()
    for kind, i, x in defects:
        if kind == "age":
            t["members"].loc[i, "age"] = int(x) % 300
        elif kind == "income":
            t["households"].loc[i, "income_annual_usd"] = x
        elif kind == "principal":
            t["loans"].loc[i, "principal_usd"] = x
        elif kind == "orphan":
            t["loans"].loc[i, "household_id"] = f"ghost{i}"
        elif kind == "test":
            t["households"].loc[i, "enumerator_id"] = "TEST"
        elif kind == "dup":
            extra = t["households"].iloc[[i]].copy()
            extra["_row"] = 500 + len(t["households"])
            extra["_submission_id"] = f"dup{len(t['households'])}"
            extra["_submission_time"] = "2022-05-01T00:00:00"
            t["households"] = pd.concat([t["households"], extra], ignore_index=True)
        elif kind == "skip":
            t["households"].loc[i, "n_children"] = 3 + int(x) % 5
        else:
            t["members"].loc[i, "relation_to_head"] = "neighbour"
    once = clean_tables(t, p)
    twice = clean_tables(_reinterim(once), p)
    _assert_same(once.processed(), twice.processed())
    assert all(v["balanced"] for v in once.ledger.values())
