"""Migration features of a household-wave (``docs/features.md``, 'Migration').

Current migrants are members away now (``members.migrant_type`` international or domestic);
returned migrants count in ``has_returned_migrant`` only. Definitions and missing-data rules:
:mod:`ctip_research.features.definitions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ctip_research.features._logic import HH_KEY, any_by, as_boolean, isin_or_na, sum_by
from ctip_research.features.definitions import MIGRATION_FEATURES

if TYPE_CHECKING:
    from ctip_research.config.features import FeaturesParams

__all__ = ["build_migration_features", "current_episode"]


def current_episode(episodes: pd.DataFrame) -> pd.Series:
    """``NOT has_returned`` as ``boolean`` (missing where ``has_returned`` is missing)."""
    return ~as_boolean(episodes["has_returned"])


def build_migration_features(
    households: pd.DataFrame,
    members: pd.DataFrame,
    episodes: pd.DataFrame,
    *,
    params: FeaturesParams,
) -> pd.DataFrame:
    """Migration features, one row per row of ``households`` (same order).

    Parameters
    ----------
    households, members, episodes
        Canonical ``households``, ``members`` and ``migration_episodes`` tables.
    params
        The ``features`` params section (no migration feature has a threshold today; the argument
        keeps the builders' signatures alike).

    Returns
    -------
    DataFrame
        ``household_id``, ``wave`` and the features of
        :data:`~ctip_research.features.definitions.MIGRATION_FEATURES`.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> from ctip_research.synth.generate import generate_survey
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> survey = generate_survey(params.synth.model_copy(update={"design": small}))
    >>> m = build_migration_features(
    ...     survey.households, survey.members, survey.migration_episodes, params=params.features
    ... )
    >>> round(float(m["has_migrant"].mean()), 2)
    0.3
    """
    del params  # no thresholds (yet)
    hh = households.loc[:, HH_KEY].reset_index(drop=True)
    mem = members.reset_index(drop=True)
    mkeys = mem.loc[:, HH_KEY]
    is_migrant = isin_or_na(mem["migrant_type"], ("international", "domestic"))
    is_intl = isin_or_na(mem["migrant_type"], ("international",))
    ep = episodes.reset_index(drop=True)
    ekeys = ep.loc[:, HH_KEY]
    current = current_episode(ep)

    out = hh.copy()
    out["has_migrant"] = any_by(is_migrant, mkeys, hh)
    out["n_migrants"] = sum_by(is_migrant.astype("Float64"), mkeys, hh).astype("Int64")
    out["has_international_migrant"] = any_by(is_intl, mkeys, hh)
    out["n_international_migrants"] = sum_by(is_intl.astype("Float64"), mkeys, hh).astype("Int64")
    out["has_irregular_migrant"] = any_by(current & as_boolean(ep["is_irregular"]), ekeys, hh)
    out["used_broker"] = any_by(current & as_boolean(ep["used_informal_broker"]), ekeys, hh)
    out["migration_loan_financed"] = any_by(
        current & as_boolean(ep["cost_financed_by_loan"]), ekeys, hh
    )
    out["remittances_annual_usd"] = pd.Series(
        households["income_remittances_usd"].to_numpy(), dtype="Float64"
    )
    out["has_returned_migrant"] = any_by(as_boolean(ep["has_returned"]), ekeys, hh)
    return out.loc[:, [*HH_KEY, *(f.name for f in MIGRATION_FEATURES)]]
