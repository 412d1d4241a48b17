"""Migration features on small hand-built households: current vs returned, missing answers."""

from __future__ import annotations

import pandas as pd

from ctip_research.features.migration import build_migration_features
from features_factory import features_params, make, scalars

P = features_params()
HEAD = {"member_id": 1}
INTL = {
    "member_id": 2,
    "relation_to_head": "child",
    "age": 22,
    "is_away": True,
    "migrant_type": "international",
}
DOM = {
    "member_id": 3,
    "relation_to_head": "child",
    "age": 19,
    "is_away": True,
    "migrant_type": "domestic",
}


def row(members=None, episodes=None, hh=None) -> dict:
    out = build_migration_features(
        make("households", *(hh or [{}])),
        make("members", *(members if members is not None else [HEAD])),
        make("migration_episodes", *(episodes or [])),
        params=P,
    )
    return scalars(out.iloc[0])


def test_no_member_away_gives_no_migration() -> None:
    r = row()
    assert r["has_migrant"] is False and r["n_migrants"] == 0
    assert r["has_international_migrant"] is False and r["n_international_migrants"] == 0
    assert r["has_irregular_migrant"] is False and r["used_broker"] is False
    assert r["migration_loan_financed"] is False and r["has_returned_migrant"] is False


def test_household_without_member_rows_gives_no_migration() -> None:
    r = row(members=[])
    assert r["has_migrant"] is False and r["n_migrants"] == 0


def test_counts_international_and_domestic_migrants() -> None:
    r = row(members=[HEAD, INTL, DOM])
    assert r["has_migrant"] and r["n_migrants"] == 2
    assert r["has_international_migrant"] and r["n_international_migrants"] == 1


def test_missing_migrant_type_is_undecidable_without_a_known_migrant() -> None:
    unknown = {**INTL, "migrant_type": None}
    r = row(members=[HEAD, unknown])
    assert pd.isna(r["has_migrant"]) and pd.isna(r["n_migrants"])
    r2 = row(members=[HEAD, unknown, DOM])
    assert r2["has_migrant"] is True and pd.isna(r2["has_international_migrant"])


def test_current_irregular_brokered_loan_financed_episode() -> None:
    ep = {
        "is_irregular": True,
        "used_informal_broker": True,
        "cost_financed_by_loan": True,
        "channel": "irregular",
        "loan_source": "moneylender",
    }
    r = row(members=[HEAD, INTL], episodes=[ep])
    assert r["has_irregular_migrant"] and r["used_broker"] and r["migration_loan_financed"]
    assert r["has_returned_migrant"] is False


def test_returned_episode_counts_only_as_returned_migrant() -> None:
    ep = {"is_irregular": True, "used_informal_broker": True, "has_returned": True}
    r = row(members=[HEAD, {**INTL, "is_away": False, "migrant_type": "none"}], episodes=[ep])
    assert r["has_irregular_migrant"] is False and r["used_broker"] is False
    assert r["has_returned_migrant"] is True and r["has_migrant"] is False


def test_episode_with_unknown_return_status_is_undecided() -> None:
    r = row(members=[HEAD, INTL], episodes=[{"is_irregular": True, "has_returned": None}])
    assert pd.isna(r["has_irregular_migrant"])
    r2 = row(members=[HEAD, INTL], episodes=[{"is_irregular": False, "has_returned": None}])
    assert r2["has_irregular_migrant"] is False


def test_remittances_are_the_reported_remittance_income() -> None:
    assert row(hh=[{"income_remittances_usd": 950.0}])["remittances_annual_usd"] == 950.0
    assert pd.isna(row(hh=[{"income_remittances_usd": None}])["remittances_annual_usd"])
