"""Loans of the synthetic survey: reporting currency, amounts, instalments and balances."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip_research.config.synth import SynthParams
from ctip_research.synth._random import (
    BoolArray,
    FloatArray,
    IntArray,
    annuity,
    balance_after,
    categorical_from_uniform,
)
from ctip_research.synth.state import Episodes

__all__ = ["currency", "loan_block", "rates"]

NDArrayObj = np.ndarray

_MFI_PURPOSES = (
    "agriculture",
    "business",
    "house",
    "consumption",
    "health",
    "education",
    "repay_other_loan",
    "migration",
)
_MFI_PURPOSE_P = (0.34, 0.25, 0.12, 0.10, 0.05, 0.04, 0.05, 0.05)
_INF_PURPOSES = (
    "consumption",
    "health",
    "agriculture",
    "education",
    "repay_other_loan",
    "migration",
    "business",
)
_INF_PURPOSE_P = (0.30, 0.20, 0.15, 0.08, 0.12, 0.10, 0.05)
_ROUND_PRINCIPAL = {"KHR": 10_000.0, "USD": 10.0, "THB": 100.0}
_ROUND_INSTALMENT = {"KHR": 1_000.0, "USD": 1.0, "THB": 10.0}


def rates(p: SynthParams) -> dict[str, float]:
    """Units of each reporting currency per US dollar."""
    return {"USD": 1.0, "KHR": p.khr_per_usd, "THB": p.thb_per_usd}


def _report(
    usd: FloatArray, currency: NDArrayObj, rates: dict[str, float], unit: dict[str, float]
) -> tuple[FloatArray, FloatArray]:
    """Round USD amounts in their reporting currency; return (amount in currency, exact USD)."""
    cur = pd.Series(currency, dtype=object)
    rate = cur.map(rates).to_numpy(float)
    step = cur.map(unit).to_numpy(float)
    amount: FloatArray = np.maximum(np.round(usd * rate / step), 1.0) * step
    exact: FloatArray = amount / rate
    return amount, exact


def currency(p: SynthParams, rng: np.random.Generator, border: BoolArray) -> NDArrayObj:
    """The reporting currency of each loan (border provinces use more baht)."""
    c = p.credit
    u = rng.random(len(border))
    cur_n = np.asarray(list(c.currency_probs), dtype=object)[
        categorical_from_uniform(u, list(c.currency_probs.values()))
    ]
    cur_b = np.asarray(list(c.currency_probs_border), dtype=object)[
        categorical_from_uniform(u, list(c.currency_probs_border.values()))
    ]
    return np.where(border, cur_b, cur_n)


def _purpose_collateral(
    rng: np.random.Generator, lender: NDArrayObj, title: BoolArray
) -> tuple[NDArrayObj, NDArrayObj]:
    """Purpose and collateral of each loan, given its lender and the household's land title."""
    n = len(lender)
    is_formal = (lender == "mfi") | (lender == "bank")
    purpose = np.where(
        is_formal,
        np.asarray(_MFI_PURPOSES, dtype=object)[
            categorical_from_uniform(rng.random(n), _MFI_PURPOSE_P)
        ],
        np.asarray(_INF_PURPOSES, dtype=object)[
            categorical_from_uniform(rng.random(n), _INF_PURPOSE_P)
        ],
    )
    u_col = rng.random(n)
    collateral = np.where(
        is_formal,
        np.select(
            [title & (u_col < 0.55), u_col < 0.75, u_col < 0.90, u_col < 0.96],
            ["land_title", "soft_title", "group_guarantee", "other_asset"],
            "none",
        ),
        np.where(u_col < 0.85, "none", "other_asset"),
    )
    collateral = np.where(~is_formal & (lender == "savings_group"), "group_guarantee", collateral)
    return purpose, collateral


def loan_block(
    p: SynthParams,
    rng: np.random.Generator,
    title: BoolArray,
    idx: IntArray,
    principal_usd: FloatArray,
    currency: NDArrayObj,
    rate: FloatArray,
    term: FloatArray,
    year: int,
    *,
    lender: str | NDArrayObj,
) -> Episodes:
    """A block of loans (one per ``idx`` entry, the household index): amounts as reported."""
    n = len(idx)
    fx = rates(p)
    amount, p_usd = _report(principal_usd, currency, fx, _ROUND_PRINCIPAL)
    inst_exact = annuity(p_usd, rate, term)
    inst_amount, inst_usd = _report(inst_exact, currency, fx, _ROUND_INSTALMENT)
    elapsed = np.floor(rng.random(n) * term)
    bal = balance_after(p_usd, rate, inst_exact, elapsed)
    out_amount, out_usd = _report(np.maximum(bal, 1.0), currency, fx, _ROUND_INSTALMENT)
    lender_arr = np.full(n, lender, dtype=object) if isinstance(lender, str) else lender
    purpose, collateral = _purpose_collateral(rng, lender_arr, title[idx])
    return {
        "hh": idx,
        "lender_type": lender_arr,
        "principal": amount,
        "currency": currency,
        "principal_usd": p_usd,
        "interest_rate_annual": np.round(rate, 4),
        "term_months": term.astype(np.int64),
        "instalment_monthly_usd": inst_usd,
        "instalment_amount": inst_amount,
        "outstanding_usd": out_usd,
        "outstanding_amount": out_amount,
        "purpose": purpose,
        "collateral": collateral,
        "year_taken": (year - np.ceil(elapsed / 12.0)).astype(np.int64),
        "u_arrears": rng.random(n),
    }
