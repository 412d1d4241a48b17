"""``privacy``: pseudonymisation and disclosure-control settings shared by every stage."""

from __future__ import annotations

from pydantic import Field

from ctip_research.config.base import Section


class PrivacyParams(Section):
    """Pseudonymisation key source and the disclosure-control thresholds
    (``design/data-protection.md``)."""

    hmac_key_env: str = Field(description="Environment variable holding the HMAC key.")
    hmac_key_file: str | None = Field(
        description="File holding the HMAC key (outside the repository), used if the variable "
        "is unset."
    )
    demo_key: str | None = Field(
        description="Public demo key used when neither is set; only acceptable for synthetic data."
    )
    min_cell_count: int = Field(ge=1, description="Minimum unweighted households in a cell.")
    min_cell_count_trafficking: int = Field(ge=1, description="Minimum for trafficking cases.")
    reliability_suppress_below: int = Field(ge=1)
    reliability_flag_below: int = Field(ge=1)
    dominance_n1_pct: float = Field(gt=0, le=100, description="(1, k) dominance rule: k.")
    dominance_n2_pct: float = Field(gt=0, le=100, description="(2, k) dominance rule: k.")
    min_residual_df: int = Field(ge=1)
