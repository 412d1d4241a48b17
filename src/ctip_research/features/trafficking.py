"""Trafficking-risk features: ILO forced-labour indicators per episode and per household.

ILO (2012) indicators of forced labour, grouped as in the 20th ICLS (2018) guidelines: involuntary
work (deceptive recruitment, excessive hours) and coercion (documents or wages withheld, debt
bondage, restricted movement, threats or violence). Forced labour needs at least one indicator of
each group. ``paid_below_min_wage`` is a decent-work deficit and never counts. Definitions and
missing-data rules: :mod:`ctip_research.features.definitions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ctip_research.features._logic import (
    HH_KEY,
    any_by,
    as_boolean,
    at_least,
    count_na,
    count_true,
    kleene_and,
    kleene_or,
)
from ctip_research.features.definitions import EPISODE_FEATURES, TRAFFICKING_FEATURES
from ctip_research.features.migration import current_episode

if TYPE_CHECKING:
    from ctip_research.config.features import FeaturesParams

__all__ = ["build_household_trafficking_features", "build_trafficking_features"]


def build_trafficking_features(episodes: pd.DataFrame, *, params: FeaturesParams) -> pd.DataFrame:
    """Episode-level features: the canonical episode columns plus the episode features.

    Parameters
    ----------
    episodes
        Canonical ``migration_episodes`` table.
    params
        The ``features`` params section (ILO groups, the ICLS rule, the risky-migration rule).

    Returns
    -------
    DataFrame
        ``episodes`` (index reset) with the columns of
        :data:`~ctip_research.features.definitions.EPISODE_FEATURES` appended.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> from ctip_research.synth.generate import generate_survey
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> survey = generate_survey(params.synth.model_copy(update={"design": small}))
    >>> ep = build_trafficking_features(survey.migration_episodes, params=params.features)
    >>> round(float(ep.loc[ep["is_international"], "is_forced_labour"].mean()), 2)
    0.04
    """
    ep = episodes.reset_index(drop=True).copy()
    ilo = [*params.ilo_involuntary, *params.ilo_coercion]
    ind = ep.loc[:, ilo]
    ep["is_current"] = current_episode(ep)
    dest = ep["destination_country"]
    ep["is_international"] = (dest != "KH").astype("boolean").mask(dest.isna().to_numpy())
    ep["n_ilo_indicators"] = count_true(ind)
    ep["n_ilo_missing"] = count_na(ind)
    k = params.forced_labour_min_per_group
    ep["has_involuntary_work"] = at_least(ep.loc[:, list(params.ilo_involuntary)], k)
    ep["has_coercion"] = at_least(ep.loc[:, list(params.ilo_coercion)], k)
    ep["is_forced_labour"] = kleene_and(ep["has_involuntary_work"], ep["has_coercion"])
    parts = [at_least(ind, params.risky_min_ilo_indicators)]
    if params.risky_if_irregular:
        parts.append(as_boolean(ep["is_irregular"]))
    if params.risky_if_informal_broker:
        parts.append(as_boolean(ep["used_informal_broker"]))
    ep["is_risky_migration"] = kleene_or(*parts)
    return ep.loc[:, [*episodes.columns, *(f.name for f in EPISODE_FEATURES)]]


def build_household_trafficking_features(
    households: pd.DataFrame, episode_features: pd.DataFrame
) -> pd.DataFrame:
    """Household-level trafficking features from the output of :func:`build_trafficking_features`.

    ``has_forced_labour_case`` looks at every episode of the wave (current or returned);
    ``has_risky_migration`` at current episodes only.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> from ctip_research.synth.generate import generate_survey
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> survey = generate_survey(params.synth.model_copy(update={"design": small}))
    >>> ep = build_trafficking_features(survey.migration_episodes, params=params.features)
    >>> hh = build_household_trafficking_features(survey.households, ep)
    >>> round(float(hh["has_risky_migration"].mean()), 2)
    0.13
    """
    hh = households.loc[:, HH_KEY].reset_index(drop=True)
    ep = episode_features.reset_index(drop=True)
    keys = ep.loc[:, HH_KEY]
    out = hh.copy()
    out["has_forced_labour_case"] = any_by(ep["is_forced_labour"], keys, hh)
    out["has_risky_migration"] = any_by(
        as_boolean(ep["is_current"]) & as_boolean(ep["is_risky_migration"]), keys, hh
    )
    return out.loc[:, [*HH_KEY, *(f.name for f in TRAFFICKING_FEATURES)]]
