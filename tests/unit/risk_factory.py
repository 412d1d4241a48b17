"""Simulated inputs of the risk-screening tests (a small two-wave panel with a known design)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip_research.risk.classifier import ClassifierSpec

PROVINCES = (1, 2, 3, 9, 12, 14, 17, 18)

#: A small logistic risk model on the columns of :func:`simulate_panel`.
SPEC = ClassifierSpec(
    "logistic",
    ("has_mfi_loan_w1", "total_debt_usd_w1", "has_migrant_w1", "household_size_w1"),
    ("province_code",),
    log=("total_debt_usd_w1",),
    hyper={"C": 1.0},
    seed=1,
)


def simulate_panel(
    *, n_psu: int = 96, per_psu: int = 15, seed: int = 0, n_tiny_group: int = 0
) -> pd.DataFrame:
    """A panel frame with the design columns and a few wave-1 features of the real panel.

    Villages (``psu_id``) repeat their code across strata on purpose (ids nested within strata).
    ``n_tiny_group`` households get ``head_is_female_w1`` missing, a subgroup cell too small to
    publish.
    """
    rng = np.random.default_rng(seed)
    n = n_psu * per_psu
    psu_num = np.repeat(np.arange(n_psu), per_psu)
    stratum_num = psu_num % 16
    province = np.array(PROVINCES)[stratum_num % 8]
    village_effect = rng.normal(scale=0.4, size=n_psu)[psu_num]
    debt = rng.lognormal(7.5, 1.0, n) * rng.binomial(1, 0.5, n)
    has_mfi = debt > 0
    migrant = rng.binomial(1, 0.25, n).astype(bool)
    female = rng.binomial(1, 0.25, n).astype(bool)
    lp = -2.3 + 0.9 * has_mfi + 1.1 * migrant + 0.15 * np.log1p(debt) / 3 + village_effect
    y = rng.binomial(1, 1 / (1 + np.exp(-lp))).astype(bool)
    ratio = np.where(has_mfi, rng.gamma(2.0, 0.2, n), 0.0)
    ratio[rng.random(n) < 0.05] = np.nan
    head_female = pd.array(female, dtype="boolean")
    if n_tiny_group:
        head_female[:n_tiny_group] = pd.NA
    return pd.DataFrame(
        {
            "household_id": [f"h{i:05d}" for i in range(n)],
            "stratum_id": [
                f"{p:02d}-{'U' if s >= 8 else 'R'}"
                for p, s in zip(province, stratum_num, strict=True)
            ],
            "psu_id": [f"v{(p % 6):03d}" for p in psu_num // 16],
            "weight_household": rng.uniform(150, 1500, n),
            "province_code": province,
            "is_urban": pd.array(stratum_num >= 8, dtype="boolean"),
            "has_mfi_loan_w1": pd.array(has_mfi, dtype="boolean"),
            "total_debt_usd_w1": debt,
            "debt_service_to_income_ratio_w1": ratio,
            "has_migrant_w1": pd.array(migrant, dtype="boolean"),
            "head_is_female_w1": head_female,
            "household_size_w1": pd.array(rng.integers(1, 9, n), dtype="Int64"),
            "has_risky_migration_w2": pd.array(y, dtype="boolean"),
        }
    )


def psu_key(panel: pd.DataFrame) -> pd.Series:
    """The village key: PSU code within stratum."""
    return panel["stratum_id"] + "/" + panel["psu_id"]
