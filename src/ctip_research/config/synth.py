"""``synth``: parameters of the ``ctip synth`` stage."""

from __future__ import annotations

from ctip_research.config.base import Section


class SynthParams(Section):
    """Parameters of the ``synth`` stage."""
