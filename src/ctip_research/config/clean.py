"""``clean``: parameters of the ``ctip clean`` stage."""

from __future__ import annotations

from ctip_research.config.base import Section


class CleanParams(Section):
    """Parameters of the ``clean`` stage."""
