"""``report``: parameters of the ``ctip report`` stage."""

from __future__ import annotations

from ctip_research.config.base import Section


class ReportParams(Section):
    """Parameters of the ``report`` stage."""
