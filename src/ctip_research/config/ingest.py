"""``ingest``: parameters of the ``ctip ingest`` stage."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveFloat

from ctip_research.config.base import Section
from ctip_research.literals import Currency, UnknownLabels


class CodeLikeParams(Section):
    """Numbers shaped like special codes that no codebook lists (``ingest.review``)."""

    min_count: int = Field(
        ge=1, description="A code-like number is heaped when at least this many rows hold it..."
    )
    heaping_ratio: float = Field(
        gt=1,
        description="...and at least this many times as many as the average value within 10% of "
        "it. A negative code-like number in a column that cannot be negative is always recorded.",
    )


class IngestParams(Section):
    """Parameters of the ``ingest`` stage (raw exports -> ``data/interim/ingested/``)."""

    sources: list[Path] = Field(
        min_length=1,
        description="Codebook files, one per source; raw file paths in a codebook are relative "
        "to the codebook's directory (docs/codebook.md).",
    )
    exchange_rates: dict[int, dict[Currency, PositiveFloat]] = Field(
        description="Dated rate table: year -> currency -> units per USD (USD = 1). Money "
        "columns are converted to USD with the rate of the row's interview year.",
    )
    check_manifest: bool = Field(
        description="Compare every raw file with manifest.json of its directory (sha256, bytes) "
        "before parsing; a changed file stops the stage.",
    )
    pii_unique_share: float = Field(
        gt=0, le=1, description="PII scan: a text column more unique than this share is a hit."
    )
    pii_pattern_share: float = Field(
        gt=0,
        le=1,
        description="PII scan: a text column with more than this share of phone / e-mail / date "
        "values is a hit.",
    )
    allowed_raw_dirs: list[Path] = Field(
        default_factory=list,
        description="Directories outside a codebook's own directory from which its raw files "
        "may be read (a path in a codebook that leaves its directory, e.g. '../../x', is "
        "refused unless it lands in one of these).",
    )
    pii_min_values: int = Field(
        ge=1, description="PII scan: the uniqueness rule needs at least this many values."
    )
    unknown_labels: UnknownLabels = Field(
        description="A label not in a column's value map: error stops ingest (naming the "
        "documented labels it is a near miss of); propose sets it missing and records it with "
        "its proposal in review_values.parquet and codebook_proposals.yaml (never applied)."
    )
    code_like: CodeLikeParams = Field(
        description="Code-like numbers (-97, 99, 999999) no special_codes list: recorded in "
        "review_values.parquet (the value is kept) for clean's undocumented_code check."
    )
