"""Debt-burden features of a household-wave (``docs/features.md``, 'Debt').

Definitions, formulas and missing-data rules: :mod:`ctip_research.features.definitions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ctip_research.features._logic import (
    HH_KEY,
    any_by,
    as_boolean,
    at_least,
    at_least_by,
    count_by,
    count_true,
    isin_or_na,
    kleene_or,
    safe_ratio,
    sum_by,
)
from ctip_research.features.definitions import DEBT_FEATURES, band_labels

if TYPE_CHECKING:
    from ctip_research.config.features import FeaturesParams

__all__ = ["annuity_payment", "band_ratio", "build_debt_features"]


def annuity_payment(
    principal: pd.Series, annual_rate: pd.Series, term_months: pd.Series
) -> pd.Series:
    """Monthly payment of an amortising loan; missing if it cannot be computed.

    ``principal * r / (1 - (1 + r) ** -n)`` with ``r = annual_rate / 12`` and ``n = term_months``;
    ``principal / n`` when ``r == 0``. Missing when any input is missing or ``n <= 0``.

    Examples
    --------
    >>> import pandas as pd
    >>> annuity_payment(pd.Series([1200.0]), pd.Series([0.0]), pd.Series([12])).round(2).tolist()
    [100.0]
    """
    p = pd.Series(principal.to_numpy(), index=principal.index, dtype="Float64")
    r = pd.Series(annual_rate.to_numpy(), index=principal.index, dtype="Float64") / 12
    n = pd.Series(term_months.to_numpy(), index=principal.index, dtype="Float64")
    ok = (p.notna() & r.notna() & n.notna()).to_numpy(dtype=bool)
    ok = ok & (n > 0).fillna(False).to_numpy(dtype=bool)
    out = pd.Series(pd.NA, index=principal.index, dtype="Float64")
    pv = p[ok].to_numpy(dtype=float)
    rv = r[ok].to_numpy(dtype=float)
    nv = n[ok].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pay = np.where(rv > 0, pv * rv / (1 - (1 + rv) ** -nv), pv / nv)
    out[ok] = pay
    return out


def band_ratio(ratio: pd.Series, edges: tuple[float, ...] | list[float]) -> pd.Series:
    """Right-closed bands of a ratio, labelled by :func:`~.definitions.band_labels`.

    Examples
    --------
    >>> import pandas as pd
    >>> band_ratio(pd.Series([0.5, 0.51, 1.0, 1.2, None]), [0.5, 0.75, 1.0]).tolist()
    ['<=0.50', '0.50-0.75', '0.75-1.00', '>1.00', <NA>]
    """
    labels = np.array(band_labels(edges), dtype=object)
    r = pd.Series(ratio.to_numpy(), index=ratio.index, dtype="Float64")
    known = r.notna().to_numpy(dtype=bool)
    out = pd.Series(pd.NA, index=ratio.index, dtype="string")
    idx = np.searchsorted(
        np.asarray(edges, dtype=float), r[known].to_numpy(dtype=float), side="left"
    )
    out[known] = labels[idx]
    return out


def build_debt_features(
    households: pd.DataFrame, loans: pd.DataFrame, *, params: FeaturesParams
) -> pd.DataFrame:
    """Debt-burden features, one row per row of ``households`` (same order).

    Parameters
    ----------
    households
        Canonical ``households`` table (keys ``household_id``, ``wave``).
    loans
        Canonical ``loans`` table of the same household-waves.
    params
        The ``features`` params section.

    Returns
    -------
    DataFrame
        ``household_id``, ``wave`` and the debt features of
        :data:`~ctip_research.features.definitions.DEBT_FEATURES`.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> from ctip_research.synth.generate import generate_survey
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> survey = generate_survey(params.synth.model_copy(update={"design": small}))
    >>> debt = build_debt_features(survey.households, survey.loans, params=params.features)
    >>> round(float(debt["has_mfi_loan"].mean()), 2)
    0.38
    """
    hh = households.loc[:, HH_KEY].reset_index(drop=True)
    all_loans = loans.reset_index(drop=True)
    outstanding = pd.Series(all_loans["outstanding_usd"].to_numpy(), dtype="Float64")
    is_current = (outstanding > params.outstanding_min_usd).fillna(True).to_numpy(dtype=bool)
    cur = all_loans.loc[is_current].reset_index(drop=True)
    keys = cur.loc[:, HH_KEY]
    lender = cur["lender_type"]
    mfi = isin_or_na(lender, params.mfi_lenders)
    bank = isin_or_na(lender, params.bank_lenders)
    formal = isin_or_na(lender, (*params.mfi_lenders, *params.bank_lenders))
    informal = isin_or_na(lender, params.informal_lenders)
    amount = pd.Series(cur["outstanding_usd"].to_numpy(), dtype="Float64")

    out = hh.copy()
    out["has_mfi_loan"] = any_by(mfi, keys, hh)
    out["has_bank_loan"] = any_by(bank, keys, hh)
    out["has_formal_loan"] = any_by(formal, keys, hh)
    out["n_loans"] = count_by(keys, hh)
    out["n_mfi_loans"] = sum_by(mfi.astype("Float64"), keys, hh).astype("Int64")
    n_formal = sum_by(formal.astype("Float64"), keys, hh)
    inf_keys = cur.loc[informal.fillna(False).to_numpy(dtype=bool), [*HH_KEY, "lender_type"]]
    n_inf_types = count_by(inf_keys.drop_duplicates().loc[:, HH_KEY], hh)
    out["n_lenders"] = (n_formal + n_inf_types.astype("Float64")).astype("Int64")
    out["has_multiple_mfi_loans"] = at_least_by(mfi, keys, params.multiple_mfi_min_loans, hh)
    out["total_debt_usd"] = sum_by(amount, keys, hh)
    out["mfi_debt_usd"] = sum_by(_masked_amount(amount, mfi), keys, hh)
    out["informal_debt_usd"] = sum_by(_masked_amount(amount, informal), keys, hh)

    instalment = pd.Series(cur["instalment_monthly_usd"].to_numpy(), dtype="Float64")
    if params.impute_missing_instalment:
        imputed = annuity_payment(
            cur["principal_usd"], cur["interest_rate_annual"], cur["term_months"]
        )
        instalment = instalment.fillna(imputed)
    out["debt_service_monthly_usd"] = sum_by(instalment, keys, hh)
    income = pd.Series(households["income_annual_usd"].to_numpy(), dtype="Float64") / 12
    ratio = safe_ratio(out["debt_service_monthly_usd"], income)
    out["debt_service_to_income_ratio"] = ratio
    out["debt_service_to_income_band"] = band_ratio(ratio, params.debt_service_bands)
    by_ratio = (ratio > params.over_indebted_ratio_threshold).astype("boolean")
    out["is_over_indebted_by_ratio"] = by_ratio
    sacrifices = households.loc[:, list(params.sacrifices)].reset_index(drop=True)
    out["n_sacrifices"] = count_true(sacrifices)
    by_sacrifice = at_least(sacrifices, params.min_sacrifices)
    out["is_over_indebted_by_sacrifices"] = by_sacrifice
    out["is_over_indebted"] = kleene_or(by_ratio, by_sacrifice)
    assets = pd.Series(households["asset_value_usd"].to_numpy(), dtype="Float64")
    out["debt_to_asset_ratio"] = safe_ratio(out["total_debt_usd"], assets)
    out["has_land_collateral"] = any_by(
        isin_or_na(cur["collateral"], params.land_collateral), keys, hh
    )
    recycle_loan = any_by(
        isin_or_na(all_loans["purpose"], params.recycling_purposes), all_loans.loc[:, HH_KEY], hh
    )
    if params.recycling_coping:
        coping = households.loc[:, list(params.recycling_coping)].reset_index(drop=True)
        out["is_recycling_debt"] = kleene_or(recycle_loan, at_least(coping, 1))
    else:
        out["is_recycling_debt"] = recycle_loan
    return out.loc[:, [*HH_KEY, *(f.name for f in DEBT_FEATURES)]]


def _masked_amount(amount: pd.Series, member: pd.Series) -> pd.Series:
    """The amount where ``member`` is true, 0 where false, missing where ``member`` is missing."""
    m = as_boolean(member)
    out = pd.Series(pd.NA, index=amount.index, dtype="Float64")
    out[(m == False).fillna(False).to_numpy(dtype=bool)] = 0.0  # noqa: E712
    yes = (m == True).fillna(False).to_numpy(dtype=bool)  # noqa: E712
    out[yes] = amount[yes]
    return out
