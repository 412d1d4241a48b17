"""``features``: parameters of the ``ctip features`` stage."""

from __future__ import annotations

from ctip_research.config.base import Section


class FeaturesParams(Section):
    """Parameters of the ``features`` stage."""
