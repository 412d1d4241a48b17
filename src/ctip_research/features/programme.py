"""The livelihood programme's own indicators, declared once as data.

The programme reports a short list of indicators to its funder and to the government: households
supported, the share of them represented by a woman, and household members trained (in all and by
training module). Each :class:`ProgrammeIndicator` says what is estimated, from which canonical
column of the households table, in which unit, over which households, and what happens to missing
values; :func:`ctip_research.models.reach.estimate_reach` estimates every declared indicator with
the survey design, and :func:`programme_indicator_dictionary` publishes the declarations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

from ctip_research import literals as L

__all__ = [
    "PROGRAMME_INDICATORS",
    "ProgrammeIndicator",
    "get_programme_indicator",
    "programme_indicator_dictionary",
]

#: ``total``: design-based population total; ``share``: share of the base households with the
#: attribute (logit interval); ``per_household``: mean over the base households.
Statistic = Literal["total", "share", "per_household"]
#: The households an indicator is computed over.
Base = Literal["all", "supported"]

_SUPPORTED_COLUMN = "received_livelihood_grant"
_MISSING_FLAG = (
    "A household whose received_livelihood_grant is missing is left out (numerator and base)."
)
_MISSING_COUNT = (
    "A household whose count is missing is left out; a survey that does not record the column "
    "at all reports the indicator as not recorded."
)


@dataclass(frozen=True)
class ProgrammeIndicator:
    """Declaration of one programme indicator.

    Parameters
    ----------
    name
        Stable id (the ``indicator`` column of ``reach.csv``; keys of ``reach.admin_counts``).
    label
        Short label for tables and figures.
    definition
        What is estimated, in words.
    statistic
        ``total``, ``share`` or ``per_household`` (:data:`Statistic`).
    unit
        ``households``, ``persons``, ``share`` or ``persons per household``.
    source
        Canonical households column the indicator is computed from.
    base
        ``all`` (every interviewed household of the wave) or ``supported`` (households with
        ``received_livelihood_grant`` true).
    missing
        The missing-data rule.
    by_domain
        Whether the indicator is also estimated by each ``reach.domains`` column.
    module
        The training module (``literals.TRAINING_MODULES``) of a by-module indicator, else None.
    """

    name: str
    label: str
    definition: str
    statistic: Statistic
    unit: str
    source: str
    base: Base
    missing: str
    by_domain: bool = False
    module: str | None = None

    @property
    def cell_kind(self) -> str:
        """The disclosure cell kind: ``count`` (totals), ``share`` or ``mean``."""
        return {"total": "count", "share": "share", "per_household": "mean"}[self.statistic]


_MODULE_WORDS = {
    "tip_safe_migration": "trafficking in persons and safe migration",
    "market_linkage": "market linkage",
    "livelihood": "livelihood",
}

PROGRAMME_INDICATORS: tuple[ProgrammeIndicator, ...] = (
    ProgrammeIndicator(
        "households_supported",
        "Households supported",
        "Households that received the programme's in-kind grant between the waves (population "
        "total).",
        "total",
        "households",
        _SUPPORTED_COLUMN,
        "all",
        _MISSING_FLAG,
        by_domain=True,
    ),
    ProgrammeIndicator(
        "households_supported_share",
        "Share of households supported",
        "Share of all households that received the programme's in-kind grant.",
        "share",
        "share",
        _SUPPORTED_COLUMN,
        "all",
        _MISSING_FLAG,
        by_domain=True,
    ),
    ProgrammeIndicator(
        "female_representative_share",
        "Supported households with a female representative",
        "Share of supported households whose representative to the programme is a woman.",
        "share",
        "share",
        "representative_is_female",
        "supported",
        "A supported household whose representative's sex is missing is left out (numerator and "
        "base).",
    ),
    ProgrammeIndicator(
        "members_trained",
        "Members trained",
        "Household members given the programme's training (population total).",
        "total",
        "persons",
        "n_members_trained",
        "all",
        _MISSING_COUNT,
    ),
    ProgrammeIndicator(
        "members_trained_per_supported_household",
        "Members trained per supported household",
        "Mean number of members trained per supported household.",
        "per_household",
        "persons per household",
        "n_members_trained",
        "supported",
        _MISSING_COUNT,
    ),
    *(
        ProgrammeIndicator(
            f"members_trained_{module}",
            f"Members trained: {_MODULE_WORDS[module]}",
            f"Household members given the programme's {_MODULE_WORDS[module]} training "
            "(population total; a member may attend several modules).",
            "total",
            "persons",
            f"n_trained_{module}",
            "all",
            _MISSING_COUNT,
            module=module,
        )
        for module in L.TRAINING_MODULES
    ),
)


def get_programme_indicator(name: str) -> ProgrammeIndicator:
    """The declaration named ``name``.

    Examples
    --------
    >>> get_programme_indicator("households_supported").unit
    'households'
    """
    for ind in PROGRAMME_INDICATORS:
        if ind.name == name:
            return ind
    raise KeyError(f"unknown programme indicator {name!r}")


def programme_indicator_dictionary() -> pd.DataFrame:
    """The declarations as a table (one row per indicator), for the published dictionary.

    Examples
    --------
    >>> programme_indicator_dictionary().loc[0, "name"]
    'households_supported'
    """
    return pd.DataFrame([asdict(ind) for ind in PROGRAMME_INDICATORS])
