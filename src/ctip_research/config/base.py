"""Base class of every ``params.yaml`` section model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A frozen params section: unknown keys are errors, values are validated strictly."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False, validate_default=True)
