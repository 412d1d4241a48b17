"""``brief``: parameters of the ``ctip brief`` stage (the policy brief, PDF and HTML)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ctip_research.config.base import Section


class BriefParams(Section):
    """Parameters of the ``brief`` stage (``docs/reporting.md``)."""

    title: str = Field(description="Title of the brief.")
    subtitle: str = Field(description="Subtitle (one line).")
    organisation: str = Field(description="Publisher line in the header.")
    date_label: str = Field(description="Publication date printed on the brief (fixed text).")
    source_date_epoch: int = Field(
        ge=0, description="Fixed document date (Unix seconds) for byte-identical PDF output."
    )
    data_notice: str | None = Field(
        description="An extra notice printed at the top of the brief and the index (e.g. "
        "'Preliminary: not for citation'); null for none. The demonstration notice is added "
        "automatically when, and only when, the data are the package's synthetic survey."
    )
    headline_model: str = Field(
        description="estimates.csv model whose exposure effect is the key finding."
    )
    naive_model: str = Field(description="estimates.csv model of the naive comparison.")
    comparison_model: str | None = Field(
        description="estimates.csv model the naive comparison is set beside; the brief compares "
        "the two only when their estimand, outcome, exposure and population are the same "
        "(null: no comparison)."
    )
    programme_model: str = Field(description="estimates.csv model of the programme's effect.")
    figures: list[str] = Field(
        min_length=1, max_length=4, description="Figure stems (figures stage) shown, in order."
    )
    max_pages: int = Field(ge=1, description="The stage fails if the PDF is longer.")
    languages: list[Literal["en", "km"]] = Field(
        default=["en"],
        min_length=1,
        description="Languages the brief is written in (English is the source; other languages "
        "come from the message catalogue, ctip_research/locale; docs/translation.md). "
        "`ctip brief --lang` overrides it for one run.",
    )
