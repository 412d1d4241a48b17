"""``privacy``: pseudonymisation and disclosure-control settings shared by every stage."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ctip_research.config.base import Section

__all__ = ["THRESHOLD_FLOORS", "PrivacyParams", "looser_than_floor"]

#: The documented value of every disclosure threshold and which way is stricter. A threshold may
#: be made stricter freely; making it looser than this value (a smaller minimum, a larger
#: dominance percentage) needs ``privacy.override_reason``, which every check record then prints.
#: Sources: the ONS/ABS/ACRO rule of 10; 11 for identified trafficking cases (CTDC, CMS); DHS
#: reliability cut-offs 25 and 50; ABS dominance rules (1, 50) and (2, 67); 10 residual degrees of
#: freedom for a regression.
THRESHOLD_FLOORS: dict[str, tuple[float, Literal["min", "max"]]] = {
    "min_cell_count": (10, "min"),
    "min_cell_count_trafficking": (11, "min"),
    "reliability_suppress_below": (25, "min"),
    "reliability_flag_below": (50, "min"),
    "dominance_n1_pct": (50.0, "max"),
    "dominance_n2_pct": (67.0, "max"),
    "min_residual_df": (10, "min"),
}


def looser_than_floor(values: dict[str, float]) -> list[str]:
    """Names of the thresholds in ``values`` that are looser than their documented value.

    Examples
    --------
    >>> looser_than_floor({"min_cell_count": 5, "dominance_n1_pct": 50})
    ['min_cell_count']
    """
    out = []
    for key, (floor, direction) in THRESHOLD_FLOORS.items():
        if key not in values:
            continue
        v = float(values[key])
        if (direction == "min" and v < floor) or (direction == "max" and v > floor):
            out.append(key)
    return out


class PrivacyParams(Section):
    """Pseudonymisation key source and the disclosure-control thresholds.

    The thresholds cannot be set looser than :data:`THRESHOLD_FLOORS` without a written
    ``override_reason`` (printed in every disclosure check record).
    """

    hmac_key_env: str = Field(description="Environment variable holding the HMAC key.")
    hmac_key_file: str | None = Field(
        description="File holding the HMAC key (outside the repository), used if the variable "
        "is unset."
    )
    demo_key: str | None = Field(
        description="Public demo key used when neither is set; only acceptable for synthetic data."
    )
    min_cell_count: int = Field(
        ge=1,
        description="Minimum unweighted households behind a published number (numerator, "
        "denominator and complement of a share).",
    )
    min_cell_count_trafficking: int = Field(
        ge=1, description="Minimum for cells about identified trafficking / forced-labour cases."
    )
    reliability_suppress_below: int = Field(
        ge=1, description="Estimates on fewer unweighted cases are suppressed."
    )
    reliability_flag_below: int = Field(
        ge=1, description="Estimates on fewer unweighted cases are flagged as less reliable."
    )
    dominance_n1_pct: float = Field(gt=0, le=100, description="(1, k) dominance rule: k.")
    dominance_n2_pct: float = Field(gt=0, le=100, description="(2, k) dominance rule: k.")
    min_residual_df: int = Field(
        ge=1, description="Residual degrees of freedom (and clusters - 1) a regression needs."
    )
    trafficking_indicators: list[str] = Field(
        description="Indicators (0/1 columns) about identified trafficking / forced-labour cases: "
        "cells and regressions about them need min_cell_count_trafficking cases."
    )
    override_reason: str | None = Field(
        default=None,
        description="Why a threshold is looser than its documented value (required then; "
        "printed in every disclosure check record). Null when every threshold is at least as "
        "strict as documented.",
    )

    @model_validator(mode="after")
    def _check_floors(self) -> PrivacyParams:
        looser = looser_than_floor(self.model_dump())
        if looser and not (self.override_reason and self.override_reason.strip()):
            parts = [
                f"privacy.{k} = {getattr(self, k):g} is looser than its documented value "
                f"{THRESHOLD_FLOORS[k][0]:g}"
                for k in looser
            ]
            raise ValueError(
                "; ".join(parts) + ": set privacy.override_reason to say why (it is printed in "
                "every disclosure check record), or restore the documented value"
            )
        if self.reliability_flag_below < self.reliability_suppress_below:
            raise ValueError(
                "privacy.reliability_flag_below must be at least privacy.reliability_suppress_below"
            )
        return self
