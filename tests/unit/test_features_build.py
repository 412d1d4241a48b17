"""Analysis tables, panel, generated schemas, feature dictionary and params checks."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from ctip_research.errors import SchemaError
from ctip_research.features import (
    ALL_FEATURES,
    HOUSEHOLD_FEATURES,
    build_analysis_table,
    build_episode_table,
    build_panel,
    episode_table,
    feature_dictionary,
    household_wave_table,
    panel_table,
    render_feature_dictionary,
    weighted_shares,
)
from ctip_research.schemas import get_table, validate_table
from features_factory import features_params, tables

P = features_params()

#: Names given in docs/features.md (the contract).
SPEC_NAMES = (
    "has_mfi_loan has_bank_loan has_formal_loan n_mfi_loans n_lenders has_multiple_mfi_loans "
    "total_debt_usd mfi_debt_usd informal_debt_usd debt_service_monthly_usd "
    "debt_service_to_income_ratio is_over_indebted debt_to_asset_ratio has_land_collateral "
    "is_recycling_debt has_migrant has_international_migrant n_international_migrants "
    "has_irregular_migrant used_broker migration_loan_financed remittances_annual_usd "
    "has_returned_migrant has_forced_labour_case has_risky_migration"
).split()
SPEC_EPISODE_NAMES = ("n_ilo_indicators", "is_forced_labour", "is_risky_migration")


def two_wave_tables() -> dict[str, pd.DataFrame]:
    hh = [
        {"household_id": "a", "wave": 1},
        {"household_id": "a", "wave": 2, "weight_household": 250.0, "psu_id": "v99"},
        {"household_id": "b", "wave": 1},
        {"household_id": "c", "wave": 2},
    ]
    loans = [{"household_id": "a", "wave": 2}]
    members = [{"household_id": "a", "wave": 1}, {"household_id": "a", "wave": 2}]
    episodes = [{"household_id": "a", "wave": 2, "is_irregular": True}]
    return tables(hh, loans, members, episodes)


def test_every_spec_name_is_declared_and_built() -> None:
    names = {f.name for f in HOUSEHOLD_FEATURES}
    assert set(SPEC_NAMES) <= names
    analysis = build_analysis_table(tables(), P)
    assert set(SPEC_NAMES) <= set(analysis.columns)
    episodes = build_episode_table(tables(episodes=[{}]), P)
    assert set(SPEC_EPISODE_NAMES) <= set(episodes.columns)


def test_analysis_table_has_every_households_column_and_validates() -> None:
    analysis = build_analysis_table(two_wave_tables(), P)
    assert (
        analysis.columns[: len(get_table("households").columns)].tolist()
        == get_table("households").columns
    )
    validate_table(analysis, household_wave_table(P))
    assert analysis[["household_id", "wave"]].values.tolist() == [
        ["a", 1],
        ["a", 2],
        ["b", 1],
        ["c", 2],
    ]


def test_analysis_schema_is_strict() -> None:
    analysis = build_analysis_table(tables(), P)
    analysis["surprise"] = 1
    with pytest.raises(SchemaError):
        validate_table(analysis, household_wave_table(P))


def test_episode_table_carries_design_columns_and_validates() -> None:
    ep = build_episode_table(two_wave_tables(), P)
    validate_table(ep, episode_table(P))
    assert ep.loc[0, "weight_household"] == 250.0 and ep.loc[0, "psu_id"] == "v99"


def test_orphan_loan_is_rejected_without_ids_in_the_message() -> None:
    t = tables(loans=[{"household_id": "secret-id"}])
    with pytest.raises(SchemaError, match="loans: 1 row") as info:
        build_analysis_table(t, P)
    assert "secret-id" not in str(info.value)


def test_panel_keeps_households_in_both_waves_with_wave1_design() -> None:
    analysis = build_analysis_table(two_wave_tables(), P)
    panel = build_panel(analysis, params=P)
    validate_table(panel, panel_table(P))
    assert panel["household_id"].tolist() == ["a"]
    r = panel.iloc[0]
    assert r["weight_household"] == 100.0 and r["psu_id"] == "v01"  # wave-1 design
    assert not r["has_mfi_loan_w1"] and r["has_mfi_loan_w2"] and r["d_has_mfi_loan"] == 1
    assert r["d_total_debt_usd"] == 2000.0
    assert not r["has_risky_migration_w1"] and r["has_risky_migration_w2"]
    assert "wave_w1" not in panel.columns and "weight_household_w2" not in panel.columns


def test_panel_change_of_missing_value_is_missing() -> None:
    t = two_wave_tables()
    t["households"].loc[1, "income_annual_usd"] = pd.NA
    panel = build_panel(build_analysis_table(t, P), params=P)
    assert pd.isna(panel.loc[0, "d_debt_service_to_income_ratio"])


def test_unknown_panel_change_feature_is_rejected() -> None:
    p = features_params(panel_change_features=["has_mfi_loan", "no_such_feature"])
    with pytest.raises(ValueError, match="no_such_feature"):
        panel_table(p)


@pytest.mark.parametrize(
    "override",
    [
        {"debt_service_bands": [0.75, 0.5]},
        {"mfi_lenders": ["mfi"], "bank_lenders": ["mfi"]},
        {"informal_lenders": ["mfi", "relative"]},
        {"ilo_coercion": ["deceived_recruitment"]},
        {"min_sacrifices": 5},
        {"sacrifices": ["cope_reduce_food", "not_a_coping_column"]},
        {"unexpected_key": 1},
    ],
)
def test_inconsistent_params_are_rejected(override) -> None:
    with pytest.raises(ValidationError):
        features_params(**override)


def test_dictionary_lists_every_feature_with_threshold_values() -> None:
    d = feature_dictionary(P)
    assert d["name"].tolist() == [f.name for f in ALL_FEATURES]
    assert (d["definition"].str.len() > 20).all() and (d["missing_rule"].str.len() > 10).all()
    row = d.set_index("name").loc["is_over_indebted"]
    assert "features.over_indebted_ratio_threshold = 0.75" in row["threshold_params"]
    assert "features.min_sacrifices = 2" in row["threshold_params"]


def test_dictionary_says_income_includes_remittances() -> None:
    d = feature_dictionary(P).set_index("name")
    for name in ("debt_service_to_income_ratio", "is_over_indebted", "debt_service_to_income_band"):
        assert "remittances" in d.loc[name, "definition"]
    text = render_feature_dictionary(P)
    assert "includes remittances" in text and "`has_risky_migration`" in text


def test_dictionary_follows_params() -> None:
    d = feature_dictionary(features_params(over_indebted_ratio_threshold=1.0)).set_index("name")
    assert "over_indebted_ratio_threshold = 1.0" in d.loc["is_over_indebted", "threshold_params"]


def test_weighted_share_uses_weights_and_skips_missing() -> None:
    df = pd.DataFrame(
        {
            "x": pd.array([True, False, None, True], dtype="boolean"),
            "g": [1, 1, 1, 2],
            "weight_household": [3.0, 1.0, 100.0, 2.0],
        }
    )
    out = weighted_shares(df, ["x"], by=["g"]).set_index("g")
    assert out.loc[1, "share"] == pytest.approx(0.75) and out.loc[1, "n_missing"] == 1
    assert out.loc[2, "share"] == 1.0
