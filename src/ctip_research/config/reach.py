"""``reach``: parameters of the ``ctip reach`` stage (the programme's own indicators)."""

from __future__ import annotations

from pydantic import Field, field_validator

from ctip_research.config.base import Section


class ReachParams(Section):
    """The programme's own indicators, estimated from the survey (``ctip reach``).

    The indicators are declared in ``ctip_research.features.programme``; the survey design is
    ``fit.design``.
    """

    wave: int = Field(ge=1, description="Wave whose households the indicators describe.")
    treatment: str = Field(description="Column saying a household was supported (0/1).")
    domains: list[str] = Field(
        description="Domain columns of the households-supported indicators (household_wave)."
    )
    conf_level: float = Field(gt=0, lt=1, description="Level of the confidence intervals.")
    admin_counts: dict[str, float] = Field(
        description="The programme's own counts (indicator -> count), shown beside the survey "
        "total with whether its interval contains them; empty when none is known."
    )
    dpi: int = Field(ge=72, description="Resolution of the PNG figure.")

    @field_validator("admin_counts")
    @classmethod
    def _known_totals(cls, v: dict[str, float]) -> dict[str, float]:
        from ctip_research.features.programme import PROGRAMME_INDICATORS

        totals = [i.name for i in PROGRAMME_INDICATORS if i.statistic == "total"]
        unknown = sorted(set(v) - set(totals))
        if unknown:
            raise ValueError(
                f"unknown indicator(s) {unknown}: administrative counts are for the totals {totals}"
            )
        negative = sorted(k for k, x in v.items() if not x >= 0)
        if negative:
            raise ValueError(f"administrative counts must be >= 0 ({negative})")
        return v
