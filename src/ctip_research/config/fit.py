"""``fit``: parameters of the ``ctip fit`` stage."""

from __future__ import annotations

from ctip_research.config.base import Section


class FitParams(Section):
    """Parameters of the ``fit`` stage."""
