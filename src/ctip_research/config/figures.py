"""``figures``: parameters of the ``ctip figures`` stage (what each published figure shows)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ctip_research.config.base import Section


class FiguresParams(Section):
    """Parameters of the ``figures`` stage (``docs/reporting.md``)."""

    wave: int = Field(ge=1, description="Survey wave of the descriptive figures.")
    source_label: str | None = Field(
        description="Data source named in every caption; null (the default) names the survey "
        "from the data identity (codebook `survey`, number of provinces)."
    )
    conf_level: float = Field(gt=0, lt=1, description="Level of the descriptive intervals.")
    formats: list[Literal["png", "svg"]] = Field(min_length=1, description="Image formats written.")
    dpi: int = Field(ge=72, description="Resolution of the PNG files (dots per inch).")
    debt_indicators: dict[str, str] = Field(
        min_length=1,
        description="Debt-burden figure: 0/1 household_wave column -> legend label (in order).",
    )
    migration_outcomes: dict[str, str] = Field(
        min_length=1,
        description="Migration-by-debt-band figure: 0/1 outcome column -> legend label.",
    )
    debt_band_column: str = Field(description="Debt-service-to-income band column.")
    borrower_column: str = Field(
        description="0/1 column; households where it is false form their own group."
    )
    no_borrower_label: str = Field(description="Label of the households without a loan.")
    effect_models: list[str] = Field(
        min_length=1,
        description="estimates.csv models shown side by side (naive / FE / IV / panel), in order; "
        "labels come from fit.models[].label.",
    )
    effect_title: str = Field(description="Title of the effect-estimates figure.")
    programme_models: list[str] = Field(
        min_length=1, description="estimates.csv models of the programme's effect, in order."
    )
    programme_title: str = Field(description="Title of the programme-effect figure.")
    truth_file: str | None = Field(
        description="Truth comparison (validate stage), relative to paths.processed: CSV with "
        "columns model and truth; null on real data."
    )
    targeting_file: str = Field(
        description="Targeting curve (risk stage), relative to paths.processed: CSV with "
        "subgroup, share_served, share_reached, n_served, n_reached."
    )
    risk_metrics_file: str = Field(
        description="Risk metrics JSON (risk stage), relative to paths.processed; its "
        "overall.top_share_reached(_low/_high) and settings.top_share give the headline point."
    )
