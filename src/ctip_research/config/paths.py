"""``paths``: where the pipeline reads and writes (relative to the working directory)."""

from __future__ import annotations

from pathlib import Path

from ctip_research.config.base import Section


class PathsParams(Section):
    """Directory layout of the data (cookiecutter-data-science convention)."""

    raw: Path
    """Raw inputs: survey exports, codebooks, corrections log, manifest (read-only for stages
    other than ``synth``)."""
    interim: Path
    """Intermediate tables (de-identified, not yet cleaned)."""
    processed: Path
    """Processed, de-identified, published layer."""
