"""``report``: parameters of the ``ctip report`` stage (notebooks and the index page)."""

from __future__ import annotations

from pydantic import Field

from ctip_research.config.base import Section


class ReportParams(Section):
    """Parameters of the ``report`` stage (``docs/reporting.md``)."""

    notebooks: list[str] = Field(
        description="Report notebooks in notebooks/ (stems, in index order), executed with "
        "papermill and rendered to HTML."
    )
    synthetic_only: list[str] = Field(
        description="Notebooks run only on the synthetic default (read the ground truth)."
    )
    kernel_name: str = Field(description="Jupyter kernel that executes the notebooks.")
    timeout_s: int = Field(ge=10, description="Per-cell execution timeout (seconds).")
    hide_code: bool = Field(description="Render the reviewer version without code cells.")
    source_date_epoch: int = Field(
        ge=0, description="Fixed run date (Unix seconds) stamped in provenance blocks and outputs."
    )
