"""``brief``: parameters of the ``ctip brief`` stage."""

from __future__ import annotations

from ctip_research.config.base import Section


class BriefParams(Section):
    """Parameters of the ``brief`` stage."""
