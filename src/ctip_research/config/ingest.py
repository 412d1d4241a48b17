"""``ingest``: parameters of the ``ctip ingest`` stage."""

from __future__ import annotations

from ctip_research.config.base import Section


class IngestParams(Section):
    """Parameters of the ``ingest`` stage."""
