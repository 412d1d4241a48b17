"""Debt features on small hand-computed households, each edge case of the definitions."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip_research.features._logic import at_least
from ctip_research.features.debt import annuity_payment, band_ratio, build_debt_features
from features_factory import features_params, make, scalars

P = features_params()


def debt(hh: list[dict] | None = None, loans: list[dict] | None = None, params=P) -> pd.DataFrame:
    return build_debt_features(
        make("households", *(hh or [{}])), make("loans", *(loans or [])), params=params
    )


def row(hh: list[dict] | None = None, loans: list[dict] | None = None, params=P) -> dict:
    return scalars(debt(hh, loans, params).iloc[0])


def test_no_loans_gives_zero_debt_and_no_mfi_loan() -> None:
    r = row()
    assert r["has_mfi_loan"] is False and r["has_formal_loan"] is False
    assert r["n_loans"] == 0 and r["n_mfi_loans"] == 0 and r["n_lenders"] == 0
    assert r["total_debt_usd"] == 0 and r["mfi_debt_usd"] == 0 and r["informal_debt_usd"] == 0
    assert r["debt_service_monthly_usd"] == 0 and r["debt_service_to_income_ratio"] == 0
    assert r["debt_service_to_income_band"] == "<=0.50"
    assert r["is_over_indebted"] is False and r["has_land_collateral"] is False


def test_single_mfi_loan_ratio_is_instalment_over_monthly_income() -> None:
    # 120 USD a month against 4,800 USD a year (400 a month) -> 0.30
    r = row(loans=[{}])
    assert r["has_mfi_loan"] and r["has_formal_loan"] and not r["has_bank_loan"]
    assert r["n_mfi_loans"] == 1 and not r["has_multiple_mfi_loans"]
    assert r["total_debt_usd"] == 2000 and r["mfi_debt_usd"] == 2000
    assert r["debt_service_to_income_ratio"] == pytest.approx(0.30)
    assert r["debt_to_asset_ratio"] == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("instalment", "band", "by_ratio"),
    [
        (200.0, "<=0.50", False),  # ratio 0.50 exactly: lowest band (right-closed)
        (300.0, "0.50-0.75", False),  # 0.75 exactly: not above the threshold
        (304.0, "0.75-1.00", True),  # 0.76
        (400.0, "0.75-1.00", True),  # 1.00 exactly
        (480.0, ">1.00", True),  # 1.20
    ],
)
def test_ratio_band_and_threshold_at_boundaries(instalment, band, by_ratio) -> None:
    r = row(loans=[{"instalment_monthly_usd": instalment}])
    assert r["debt_service_to_income_band"] == band
    assert r["is_over_indebted_by_ratio"] is by_ratio
    assert r["is_over_indebted"] is by_ratio


@pytest.mark.parametrize("income", [0.0, None])
def test_zero_or_missing_income_gives_missing_ratio_not_inf(income) -> None:
    r = row(hh=[{"income_annual_usd": income}], loans=[{}])
    assert pd.isna(r["debt_service_to_income_ratio"])
    assert pd.isna(r["debt_service_to_income_band"])
    assert pd.isna(r["is_over_indebted_by_ratio"])
    assert pd.isna(r["is_over_indebted"])  # ratio unknown, sacrifices 0 < 2: undecidable


def test_zero_income_without_debt_is_missing_ratio() -> None:
    assert pd.isna(row(hh=[{"income_annual_usd": 0.0}])["debt_service_to_income_ratio"])


def test_zero_income_with_two_sacrifices_is_over_indebted() -> None:
    hh = {"income_annual_usd": 0.0, "cope_reduce_food": True, "cope_sold_assets": True}
    r = row(hh=[hh], loans=[{}])
    assert r["is_over_indebted_by_sacrifices"] and r["is_over_indebted"]


def test_migration_to_repay_is_not_a_sacrifice() -> None:
    r = row(hh=[{"cope_reduce_food": True, "cope_migrate_to_repay": True}])
    assert r["n_sacrifices"] == 1 and r["is_over_indebted_by_sacrifices"] is False


def test_missing_sacrifice_is_undecidable_only_when_it_matters() -> None:
    one_na = {"cope_reduce_food": True, "cope_sold_land": None}
    r = row(hh=[one_na])
    assert pd.isna(r["n_sacrifices"]) and pd.isna(r["is_over_indebted_by_sacrifices"])
    two_true_one_na = {**one_na, "cope_sold_assets": True}
    assert row(hh=[two_true_one_na])["is_over_indebted_by_sacrifices"] is True
    none_true_one_na = {"cope_sold_land": None}
    assert row(hh=[none_true_one_na])["is_over_indebted_by_sacrifices"] is False


def test_min_sacrifices_parameter_is_used() -> None:
    hh = {"cope_reduce_food": True}
    assert row(hh=[hh], params=features_params(min_sacrifices=1))["is_over_indebted"] is True


def test_threshold_parameter_is_used() -> None:
    loans = [{"instalment_monthly_usd": 300.0}]  # ratio 0.75
    p = features_params(over_indebted_ratio_threshold=0.5)
    assert row(loans=loans, params=p)["is_over_indebted_by_ratio"] is True


def test_repaid_loan_is_not_current_debt_but_counts_for_recycling() -> None:
    loans = [{"outstanding_usd": 0.0, "purpose": "repay_other_loan"}]
    r = row(loans=loans)
    assert r["has_mfi_loan"] is False and r["n_loans"] == 0 and r["total_debt_usd"] == 0
    assert r["debt_service_monthly_usd"] == 0
    assert r["is_recycling_debt"] is True


def test_missing_balance_counts_as_current_and_makes_total_missing() -> None:
    r = row(loans=[{"outstanding_usd": None}])
    assert r["has_mfi_loan"] is True and pd.isna(r["total_debt_usd"])
    assert pd.isna(r["debt_to_asset_ratio"])


def test_lender_mix_counts_loans_lenders_and_debt_by_type() -> None:
    loans = [
        {"loan_id": 1, "lender_type": "mfi", "outstanding_usd": 1000.0},
        {"loan_id": 2, "lender_type": "mfi", "outstanding_usd": 500.0},
        {"loan_id": 3, "lender_type": "bank", "outstanding_usd": 3000.0},
        {"loan_id": 4, "lender_type": "relative", "outstanding_usd": 100.0},
        {"loan_id": 5, "lender_type": "relative", "outstanding_usd": 50.0},
        {"loan_id": 6, "lender_type": "moneylender", "outstanding_usd": 200.0},
    ]
    r = row(loans=loans)
    assert r["n_loans"] == 6 and r["n_mfi_loans"] == 2 and r["has_multiple_mfi_loans"]
    assert r["n_lenders"] == 3 + 2  # three formal loans, two informal lender types
    assert r["has_bank_loan"] and r["has_formal_loan"]
    assert r["total_debt_usd"] == 4850 and r["mfi_debt_usd"] == 1500
    assert r["informal_debt_usd"] == 350


def test_missing_lender_type_decides_only_what_it_can() -> None:
    loans = [{"loan_id": 1}, {"loan_id": 2, "lender_type": None}]
    r = row(loans=loans)
    assert r["has_mfi_loan"] is True  # a known MFI loan
    assert pd.isna(r["n_mfi_loans"]) and pd.isna(r["has_multiple_mfi_loans"])
    assert pd.isna(r["mfi_debt_usd"]) and pd.isna(r["n_lenders"])
    assert r["total_debt_usd"] == 4000
    only_unknown = row(loans=[{"lender_type": None}])
    assert pd.isna(only_unknown["has_mfi_loan"])
    two_known = row(loans=[{"loan_id": 1}, {"loan_id": 2}, {"loan_id": 3, "lender_type": None}])
    assert two_known["has_multiple_mfi_loans"] is True


def test_zero_instalment_adds_nothing() -> None:
    loans = [
        {"loan_id": 1},
        {"loan_id": 2, "lender_type": "relative", "instalment_monthly_usd": 0.0},
    ]
    assert row(loans=loans)["debt_service_monthly_usd"] == 120


def test_missing_instalment_is_imputed_as_annuity() -> None:
    loans = [
        {
            "instalment_monthly_usd": None,
            "principal_usd": 1200.0,
            "interest_rate_annual": 0.0,
            "term_months": 12,
        }
    ]
    assert row(loans=loans)["debt_service_monthly_usd"] == pytest.approx(100.0)


def test_missing_instalment_without_term_or_imputation_is_missing() -> None:
    no_term = [{"instalment_monthly_usd": None, "term_months": None}]
    r = row(loans=no_term)
    assert pd.isna(r["debt_service_monthly_usd"]) and pd.isna(r["is_over_indebted_by_ratio"])
    p = features_params(impute_missing_instalment=False)
    assert pd.isna(
        row(loans=[{"instalment_monthly_usd": None}], params=p)["debt_service_monthly_usd"]
    )


def test_annuity_payments_discount_back_to_the_principal() -> None:
    pay = annuity_payment(pd.Series([2400.0]), pd.Series([0.18]), pd.Series([24]))[0]
    r = 0.18 / 12
    pv = sum(pay / (1 + r) ** t for t in range(1, 25))
    assert pv == pytest.approx(2400.0)


def test_zero_assets_gives_missing_debt_to_asset_ratio() -> None:
    assert pd.isna(row(hh=[{"asset_value_usd": 0.0}], loans=[{}])["debt_to_asset_ratio"])


def test_land_collateral_includes_soft_title_and_respects_missing() -> None:
    assert row(loans=[{"collateral": "soft_title"}])["has_land_collateral"] is True
    assert row(loans=[{"collateral": "group_guarantee"}])["has_land_collateral"] is False
    assert pd.isna(row(loans=[{"collateral": None}])["has_land_collateral"])


def test_recycling_from_coping_or_purpose() -> None:
    assert row(hh=[{"cope_new_loan_to_repay": True}])["is_recycling_debt"] is True
    assert row(loans=[{"purpose": "repay_other_loan"}])["is_recycling_debt"] is True
    assert row(loans=[{}])["is_recycling_debt"] is False
    assert pd.isna(row(hh=[{"cope_new_loan_to_repay": None}])["is_recycling_debt"])


def test_rows_follow_household_order_across_waves() -> None:
    hh = [{"household_id": "b", "wave": 2}, {"household_id": "a", "wave": 1}]
    loans = [{"household_id": "b", "wave": 2, "outstanding_usd": 10.0}]
    out = debt(hh, loans)
    assert out["household_id"].tolist() == ["b", "a"]
    assert out["total_debt_usd"].tolist() == [10.0, 0.0]


def test_band_labels_follow_params() -> None:
    out = band_ratio(pd.Series([0.1, 0.3, 2.0]), [0.2, 0.4])
    assert out.tolist() == ["<=0.20", "0.20-0.40", ">0.40"]


_tri = st.sampled_from([True, False, None])


@settings(max_examples=60, deadline=None)
@given(st.lists(_tri, min_size=1, max_size=5), st.integers(min_value=1, max_value=5))
def test_at_least_is_true_or_false_only_when_every_completion_agrees(values, k) -> None:
    frame = pd.DataFrame([values], columns=[f"c{i}" for i in range(len(values))]).astype("boolean")
    got = at_least(frame, k).iloc[0]
    got = got.item() if hasattr(got, "item") else got
    missing = [i for i, v in enumerate(values) if v is None]
    outcomes = set()
    for fill in itertools.product([True, False], repeat=len(missing)):
        full = list(values)
        for i, f in zip(missing, fill, strict=True):
            full[i] = f
        outcomes.add(sum(bool(v) for v in full) >= k)
    if outcomes == {True}:
        assert got is True
    elif outcomes == {False}:
        assert got is False
    else:
        assert pd.isna(got)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=5000, allow_nan=False), min_size=1, max_size=4),
    st.one_of(st.none(), st.just(0.0), st.floats(min_value=1.0, max_value=1e5)),
)
def test_ratio_is_never_infinite_and_band_matches_ratio(instalments, income) -> None:
    loans = [{"loan_id": i + 1, "instalment_monthly_usd": x} for i, x in enumerate(instalments)]
    r = row(hh=[{"income_annual_usd": income}], loans=loans)
    ratio = r["debt_service_to_income_ratio"]
    if income is None or income == 0:
        assert pd.isna(ratio)
    else:
        assert np.isfinite(ratio)
        assert ratio == pytest.approx(sum(instalments) / (income / 12))
        assert (r["debt_service_to_income_band"] == ">1.00") == (ratio > 1.0)
        assert r["is_over_indebted_by_ratio"] == (ratio > 0.75)
