"""``features``: parameters of the ``ctip features`` stage.

Every threshold and every grouping behind the debt, migration and trafficking-risk indicators of
``docs/features.md`` is a key here; the feature dictionary prints the values used.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ctip_research.config.base import Section
from ctip_research.literals import (
    Collateral,
    CopingColumn,
    IloIndicator,
    LenderType,
    LoanPurpose,
)


def _dupes(values: tuple[str, ...]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


class FeaturesParams(Section):
    """Parameters of the ``features`` stage (thresholds and groupings of the indicators)."""

    mfi_lenders: tuple[LenderType, ...] = Field(
        description="Lender types that count as a microfinance institution (has_mfi_loan, "
        "n_mfi_loans, mfi_debt_usd)."
    )
    bank_lenders: tuple[LenderType, ...] = Field(
        description="Lender types that count as a bank (has_bank_loan). MFI and bank lenders "
        "together are the formal lenders (has_formal_loan)."
    )
    informal_lenders: tuple[LenderType, ...] = Field(
        description="Lender types whose outstanding balances make up informal_debt_usd."
    )
    outstanding_min_usd: float = Field(
        ge=0,
        description="A loan counts as outstanding (current debt) when outstanding_usd is above "
        "this amount; loans repaid in the last 12 months (balance 0) are left out of every debt "
        "feature. A loan with a missing balance counts as outstanding.",
    )
    impute_missing_instalment: bool = Field(
        description="If true, a missing monthly instalment is replaced by the annuity payment on "
        "the outstanding balance (interest_rate_annual / 12, term_months); if that cannot be "
        "computed the household's debt service is missing."
    )
    debt_service_bands: tuple[float, ...] = Field(
        min_length=1,
        description="Upper edges of the debt-service-to-income bands (right-closed), strictly "
        "increasing; Liv (2013): 0.5, 0.75 ('at risk'), 1.0 ('insolvent').",
    )
    over_indebted_ratio_threshold: float = Field(
        gt=0,
        description="is_over_indebted is true when debt_service_to_income_ratio is above this "
        "value (Liv 2013: 0.75 'at risk', 1.0 'insolvent').",
    )
    sacrifices: tuple[CopingColumn, ...] = Field(
        min_length=1,
        description="Coping actions (12 months) that count as sacrifices to repay debt in "
        "Schicks' measure; cope_migrate_to_repay is left out on purpose (migration is the outcome).",
    )
    min_sacrifices: int = Field(
        ge=1,
        description="is_over_indebted is true with at least this many sacrifices (Schicks: 2).",
    )
    multiple_mfi_min_loans: int = Field(
        ge=2, description="has_multiple_mfi_loans is true with at least this many MFI loans."
    )
    land_collateral: tuple[Collateral, ...] = Field(
        min_length=1,
        description="Collateral types that count as land collateral (has_land_collateral).",
    )
    recycling_purposes: tuple[LoanPurpose, ...] = Field(
        description="Loan purposes that mark debt recycling (is_recycling_debt)."
    )
    recycling_coping: tuple[CopingColumn, ...] = Field(
        description="Coping actions that mark debt recycling (is_recycling_debt)."
    )
    ilo_involuntary: tuple[IloIndicator, ...] = Field(
        min_length=1,
        description="ILO indicators of involuntary work (ICLS 2018 group 1).",
    )
    ilo_coercion: tuple[IloIndicator, ...] = Field(
        min_length=1,
        description="ILO indicators of coercion / menace of penalty (ICLS 2018 group 2).",
    )
    forced_labour_min_per_group: int = Field(
        ge=1,
        description="is_forced_labour needs at least this many indicators in each of the two "
        "groups (ICLS 2018: 1).",
    )
    risky_min_ilo_indicators: int = Field(
        ge=1,
        description="An episode is risky if it has at least this many of the ILO indicators.",
    )
    risky_if_irregular: bool = Field(
        description="An irregular episode (is_irregular) counts as risky migration."
    )
    risky_if_informal_broker: bool = Field(
        description="An episode that used an informal broker counts as risky migration."
    )
    panel_change_features: tuple[str, ...] = Field(
        description="Household features (or households columns) that get a change column "
        "d_<name> = <name>_w2 - <name>_w1 in the panel table."
    )

    @model_validator(mode="after")
    def _check_consistency(self) -> FeaturesParams:
        edges = self.debt_service_bands
        if any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or edges[0] <= 0:
            raise ValueError("debt_service_bands must be positive and strictly increasing")
        formal = set(self.mfi_lenders) | set(self.bank_lenders)
        if set(self.mfi_lenders) & set(self.bank_lenders):
            raise ValueError("mfi_lenders and bank_lenders must not overlap")
        if formal & set(self.informal_lenders):
            raise ValueError("informal_lenders must not contain an MFI or bank lender type")
        if not self.mfi_lenders:
            raise ValueError("mfi_lenders must name at least one lender type")
        if set(self.ilo_involuntary) & set(self.ilo_coercion):
            raise ValueError("ilo_involuntary and ilo_coercion must not overlap")
        for name in ("sacrifices", "ilo_involuntary", "ilo_coercion", "panel_change_features"):
            d = _dupes(tuple(getattr(self, name)))
            if d:
                raise ValueError(f"{name} lists {d} more than once")
        if self.min_sacrifices > len(self.sacrifices):
            raise ValueError("min_sacrifices exceeds the number of sacrifices listed")
        n_ilo = len(self.ilo_involuntary) + len(self.ilo_coercion)
        if self.risky_min_ilo_indicators > n_ilo:
            raise ValueError("risky_min_ilo_indicators exceeds the number of ILO indicators")
        if self.forced_labour_min_per_group > min(
            len(self.ilo_involuntary), len(self.ilo_coercion)
        ):
            raise ValueError("forced_labour_min_per_group exceeds the size of an ILO group")
        return self
