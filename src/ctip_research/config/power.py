"""``power``: parameters of the ``ctip power`` stage (power and MDE for the next survey round)."""

from __future__ import annotations

from pydantic import Field

from ctip_research.config.base import Section


class PowerParams(Section):
    """Grid and inputs of the power / minimum-detectable-effect calculation.

    The MDE formula (``ctip_research.models.power``) is calibrated on the household-wave analysis
    table: exposed share, outcome variance, intra-village correlations and the instrument's
    first-stage R-squared are measured there.
    """

    wave: int = Field(ge=1, description="Wave of the analysis table used for the calibration.")
    outcome: str = Field(description="0/1 outcome column (household_wave).")
    exposure: str = Field(description="0/1 exposure column whose effect is to be detected.")
    instrument: str = Field(description="Village-level instrument column (2SLS rows of the table).")
    psu: str = Field(description="Cluster (village) column for the intra-cluster correlations.")
    weight: str | None = Field(
        description="Weight column of the weighted estimators (Kish weighting effect); null: none."
    )
    absorb: str | None = Field(
        description="Fixed-effect column (e.g. province) demeaned out before calibrating; null: none."
    )
    villages: list[int] = Field(min_length=1, description="Grid: numbers of villages (PSUs).")
    households_per_village: list[int] = Field(
        min_length=1, description="Grid: households interviewed per village."
    )
    effect: float = Field(
        gt=0, description="Planning effect (probability points) whose power is tabulated."
    )
    alpha: float = Field(gt=0, lt=1, description="Size of the two-sided test.")
    power: float = Field(gt=0, lt=1, description="Target power of the MDE (1 - kappa).")
    dpi: int = Field(ge=72, description="Resolution of power.png.")
