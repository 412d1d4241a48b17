"""``risk``: parameters of the ``ctip risk`` stage."""

from __future__ import annotations

from ctip_research.config.base import Section


class RiskParams(Section):
    """Parameters of the ``risk`` stage."""
