"""ILO forced-labour indicators (ICLS 2018 rule) and risky migration on hand-built episodes."""

from __future__ import annotations

import pandas as pd
import pytest

from ctip_research.features.trafficking import (
    build_household_trafficking_features,
    build_trafficking_features,
)
from features_factory import features_params, make, scalars

P = features_params()


def episode(params=P, **values) -> dict:
    return scalars(
        build_trafficking_features(make("migration_episodes", values), params=params).iloc[0]
    )


def test_one_indicator_of_each_group_is_forced_labour() -> None:
    r = episode(deceived_recruitment=True, documents_withheld=True)
    assert r["n_ilo_indicators"] == 2 and r["n_ilo_missing"] == 0
    assert r["has_involuntary_work"] and r["has_coercion"] and r["is_forced_labour"]
    assert r["is_risky_migration"]


def test_involuntary_work_without_coercion_is_not_forced_labour_but_risky() -> None:
    r = episode(deceived_recruitment=True, excessive_hours=True)
    assert r["n_ilo_indicators"] == 2 and r["is_forced_labour"] is False
    assert r["is_risky_migration"] is True


def test_below_minimum_wage_is_not_an_ilo_indicator() -> None:
    r = episode(paid_below_min_wage=True)
    assert r["n_ilo_indicators"] == 0 and r["is_forced_labour"] is False
    assert r["is_risky_migration"] is False


@pytest.mark.parametrize("column", ["is_irregular", "used_informal_broker"])
def test_irregular_or_broker_alone_is_risky(column) -> None:
    assert episode(**{column: True})["is_risky_migration"] is True


def test_risky_rule_switches_are_used() -> None:
    p = features_params(risky_if_irregular=False)
    assert episode(p, is_irregular=True)["is_risky_migration"] is False
    p2 = features_params(risky_min_ilo_indicators=2)
    assert episode(p2, threats_violence=True)["is_risky_migration"] is False


def test_min_per_group_parameter_is_used() -> None:
    p = features_params(forced_labour_min_per_group=2)
    r = episode(p, deceived_recruitment=True, excessive_hours=True, wages_withheld=True)
    assert r["is_forced_labour"] is False


def test_partly_missing_indicators_decide_when_the_observed_ones_do() -> None:
    decided = episode(deceived_recruitment=True, documents_withheld=True, threats_violence=None)
    assert decided["is_forced_labour"] is True and pd.isna(decided["n_ilo_indicators"])
    assert decided["n_ilo_missing"] == 1
    undecided = episode(deceived_recruitment=True, documents_withheld=None, wages_withheld=None)
    assert pd.isna(undecided["is_forced_labour"]) and undecided["is_risky_migration"] is True
    no_involuntary = episode(documents_withheld=None, wages_withheld=True)
    assert no_involuntary["is_forced_labour"] is False  # no involuntary-work indicator observed


def test_all_indicators_missing_is_undecidable() -> None:
    ilo = dict.fromkeys(P.ilo_involuntary + P.ilo_coercion)
    r = episode(**ilo)
    assert r["n_ilo_missing"] == 7 and pd.isna(r["is_forced_labour"])
    assert pd.isna(r["is_risky_migration"])
    assert episode(**ilo, is_irregular=True)["is_risky_migration"] is True


def test_current_and_international_flags() -> None:
    r = episode(has_returned=True, destination_country="KH")
    assert r["is_current"] is False and r["is_international"] is False


def test_household_forced_labour_counts_returned_but_risk_only_current() -> None:
    hh = make("households", {"household_id": "a"}, {"household_id": "b"}, {"household_id": "c"})
    eps = make(
        "migration_episodes",
        {
            "household_id": "a",
            "deceived_recruitment": True,
            "wages_withheld": True,
            "has_returned": True,
        },
        {"household_id": "b", "member_id": 2, "is_irregular": True},
        {"household_id": "b", "member_id": 3, "has_returned": True},
    )
    out = build_household_trafficking_features(hh, build_trafficking_features(eps, params=P))
    assert out["has_forced_labour_case"].tolist() == [True, False, False]
    assert out["has_risky_migration"].tolist() == [False, True, False]
