"""``clean``: parameters of the ``ctip clean`` stage (data-quality checks and corrections)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat

from ctip_research.config.base import Section
from ctip_research.literals import CheckAction, DuplicateRule, OutlierRule


class DuplicatesParams(Section):
    """Duplicate ids and duplicate submissions (ieduplicates-style resolution)."""

    rule: DuplicateRule = Field(
        description="Which row of a group sharing a table key is kept: keep_last / keep_first by "
        "`order_by` (ties broken by raw row), or drop_all. A household's child rows follow it."
    )
    order_by: str = Field(
        description="Interim meta column ordering the submissions of a group (e.g. "
        "_submission_time); missing values sort first, ties by raw row."
    )


class RangeParams(Section):
    """Values outside the declared bounds / allowed values of ``schemas/tables.py``."""

    action: CheckAction = Field(
        description="flag, set_missing or drop_row. A violation in a non-nullable column always "
        "drops the row (it cannot be set missing)."
    )
    max_amount_usd: PositiveFloat = Field(
        default=1_000_000.0,
        description="Plausibility: a money amount (any *_usd column; a principal with its "
        "dollar value) above this is a typing error, handled with the range action.",
    )
    first_year: int | None = Field(
        default=None,
        description="Plausibility: first interview year of the survey period; null: the first "
        "year of ingest.exchange_rates.",
    )
    last_year: int | None = Field(
        default=None,
        description="Plausibility: last interview year of the survey period (no loan taken or "
        "migrant left after it); null: the last year of ingest.exchange_rates.",
    )


class SkipLogicParams(Section):
    """Answers that the questionnaire's skip logic should have prevented."""

    action: CheckAction = Field(
        description="flag, set_missing (the offending column) or drop_row (the offending row)."
    )


class OutlierParams(Section):
    """Outliers of log money amounts (zeros excluded), per table, column and wave."""

    rule: OutlierRule = Field(description="iqr (Tukey fences), mad (robust z) or zscore.")
    threshold: float = Field(
        gt=0,
        description="iqr: fence multiplier k (q1 - k*IQR, q3 + k*IQR); mad: robust z "
        "(|x - median| / (1.4826 MAD)); zscore: |x - mean| / sd; all on log(amount).",
    )
    tail: Literal["upper", "both"] = Field(
        description="upper: only amounts too large (extra digits, wrong unit); both: also "
        "amounts too small."
    )
    min_n: int = Field(
        ge=3,
        description="A group with fewer positive values is checked within the next coarser "
        "group (its `by` list without the last column); with fewer in the coarsest, not at all.",
    )
    by: dict[str, list[str]] = Field(
        description="Canonical table -> grouping columns, coarsest first (e.g. [wave, "
        "stratum_id]): amounts are compared with others of their group. A table not listed is "
        "grouped by wave."
    )
    columns: dict[str, list[str]] = Field(description="Canonical table -> money columns to check.")
    action: CheckAction = Field(description="flag, set_missing or drop_row.")


class UndocumentedCodeParams(Section):
    """Numbers shaped like special codes that no codebook lists (found at ingest)."""

    action: CheckAction = Field(
        description="flag (report; the number stays), set_missing (the cell) or drop_row."
    )


class CurrencyParams(Section):
    """Riel typed as dollars: a USD amount thousands of times its column's median."""

    min_ratio: float = Field(
        gt=1,
        description="Flag a USD amount at least this many times the median of its column "
        "(per wave); riel typed as dollars is about 4,000 times too large.",
    )
    min_n: int = Field(ge=3, description="Columns with fewer positive values are not checked.")
    columns: dict[str, list[str]] = Field(description="Canonical table -> USD columns to check.")
    action: CheckAction = Field(description="flag, set_missing or drop_row.")


class ConsistencyParams(Section):
    """Amounts inconsistent with the other amounts of their record (an extra digit or two)."""

    max_ratio: float = Field(
        gt=1,
        description="Flag income sources summing to more than this many times the reported "
        "annual income, a principal above this many times instalment x term, an outstanding "
        "balance above this many times the principal.",
    )
    action: CheckAction = Field(
        description="flag, set_missing (the inconsistent amount; repeated until consistent) "
        "or drop_row."
    )


class SubmissionTestParams(Section):
    """Test / training submissions (made before fieldwork or by a test enumerator code)."""

    enumerator_pattern: str | None = Field(
        description="Case-insensitive regular expression on enumerator_id marking test "
        "submissions (null: not used)."
    )
    fieldwork_start: dt.date | None = Field(
        description="Submissions timed before this date are tests (null: not used)."
    )
    action: Literal["flag", "drop_row"] = Field(
        description="flag or drop_row (the household and its child rows)."
    )


class ReferentialParams(Section):
    """Child rows without their household, episodes without their member."""

    action: Literal["flag", "drop_row"] = Field(description="flag or drop_row.")


class CleanParams(Section):
    """Parameters of the ``clean`` stage: one sub-section per data-quality check."""

    corrections_file: Path | None = Field(
        description="Reviewed corrections log (CSV, docs/CONTRACTS.md), relative to the working "
        "directory; null for none."
    )
    duplicates: DuplicatesParams = Field(description="Duplicate ids and submissions.")
    test_submissions: SubmissionTestParams = Field(description="Test submissions.")
    referential_integrity: ReferentialParams = Field(description="Orphan child rows.")
    range: RangeParams = Field(description="Out-of-range values.")
    currency: CurrencyParams = Field(description="Riel typed as dollars.")
    consistency: ConsistencyParams = Field(description="Amounts inconsistent within a record.")
    outliers: OutlierParams = Field(description="Outliers of money amounts.")
    undocumented_codes: UndocumentedCodeParams = Field(
        description="Code-like numbers no codebook lists (ingest's review_values.parquet)."
    )
    skip_logic: SkipLogicParams = Field(description="Skip-logic violations.")
