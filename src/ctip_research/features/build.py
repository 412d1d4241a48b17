"""Assemble the analysis tables from the canonical tables.

:func:`build_analysis_table` (household-wave), :func:`build_episode_table` (episode level),
:func:`~ctip_research.features.panel.build_panel` (two-wave panel) and
:func:`weighted_shares` (survey-weighted shares of the indicators, for the stage's metrics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ctip_research.errors import SchemaError
from ctip_research.features._logic import HH_KEY
from ctip_research.features.debt import build_debt_features
from ctip_research.features.definitions import episode_table, household_wave_table
from ctip_research.features.migration import build_migration_features
from ctip_research.features.trafficking import (
    build_household_trafficking_features,
    build_trafficking_features,
)
from ctip_research.schemas import coerce_dtypes
from ctip_research.schemas.tables import DESIGN_FIELDS

if TYPE_CHECKING:
    from ctip_research.config.features import FeaturesParams

__all__ = ["build_analysis_table", "build_episode_table", "check_references", "weighted_shares"]

TABLE_NAMES = ("households", "members", "loans", "migration_episodes")


def _get(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    try:
        return tables[name]
    except KeyError:
        raise SchemaError(
            f"canonical table {name!r} is missing (need {list(TABLE_NAMES)})"
        ) from None


def check_references(tables: Mapping[str, pd.DataFrame]) -> None:
    """Raise :class:`~ctip_research.errors.SchemaError` if a member, loan or episode row has no
    household-wave in ``households`` (counts only, no ids in the message).
    """
    hh = _get(tables, "households")
    if hh.duplicated(HH_KEY).any():
        raise SchemaError("households has duplicate (household_id, wave) keys")
    known = pd.MultiIndex.from_frame(hh.loc[:, HH_KEY].astype(object))
    problems = []
    for name in ("members", "loans", "migration_episodes"):
        child = _get(tables, name)
        child_keys = pd.MultiIndex.from_frame(child.loc[:, HH_KEY].astype(object))
        n_orphan = int((~child_keys.isin(known)).sum())
        if n_orphan:
            problems.append(f"{name}: {n_orphan} row(s) without a household-wave in households")
    if problems:
        raise SchemaError("referential integrity fails:\n  - " + "\n  - ".join(problems))


def build_analysis_table(
    tables: Mapping[str, pd.DataFrame], params: FeaturesParams
) -> pd.DataFrame:
    """The household-wave analysis table: every canonical households column and every household
    feature (debt, migration, trafficking), sorted by ``household_id``, ``wave``.

    Parameters
    ----------
    tables
        The canonical tables by name (``households``, ``members``, ``loans``,
        ``migration_episodes``).
    params
        The ``features`` params section.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> from ctip_research.synth.generate import generate_survey
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> survey = generate_survey(params.synth.model_copy(update={"design": small}))
    >>> tables = {t: getattr(survey, t) for t in ("households", "members", "loans",
    ...     "migration_episodes")}
    >>> analysis = build_analysis_table(tables, params.features)
    >>> analysis.groupby("wave")["has_mfi_loan"].mean().round(2).tolist()
    [0.39, 0.38]
    """
    check_references(tables)
    hh = _get(tables, "households").sort_values(HH_KEY, kind="mergesort").reset_index(drop=True)
    episodes = _get(tables, "migration_episodes")
    debt = build_debt_features(hh, _get(tables, "loans"), params=params)
    migration = build_migration_features(hh, _get(tables, "members"), episodes, params=params)
    ep = build_trafficking_features(episodes, params=params)
    trafficking = build_household_trafficking_features(hh, ep)
    parts = [hh] + [p.drop(columns=HH_KEY) for p in (debt, migration, trafficking)]
    out = pd.concat(parts, axis=1)
    return coerce_dtypes(out, household_wave_table(params))


def build_episode_table(tables: Mapping[str, pd.DataFrame], params: FeaturesParams) -> pd.DataFrame:
    """The episode table: canonical episode columns, the household's design columns and the
    episode features, sorted by ``household_id``, ``wave``, ``member_id``.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> from ctip_research.synth.generate import generate_survey
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> survey = generate_survey(params.synth.model_copy(update={"design": small}))
    >>> tables = {t: getattr(survey, t) for t in ("households", "members", "loans",
    ...     "migration_episodes")}
    >>> ep = build_episode_table(tables, params.features)
    >>> round(float(ep.loc[ep["is_international"], "is_forced_labour"].mean()), 2)
    0.04
    """
    check_references(tables)
    episodes = _get(tables, "migration_episodes")
    ep = build_trafficking_features(episodes, params=params)
    design = _get(tables, "households").loc[:, [*HH_KEY, *(f.name for f in DESIGN_FIELDS)]]
    out = ep.merge(design, on=HH_KEY, how="left", validate="many_to_one")
    out = out.sort_values([*HH_KEY, "member_id"], kind="mergesort").reset_index(drop=True)
    return coerce_dtypes(out, episode_table(params))


def weighted_shares(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    weight: str = "weight_household",
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Survey-weighted share (mean) of each boolean or numeric column, over non-missing rows.

    A point estimate only (no design-based errors: those belong to the survey module). Returns one
    row per group and column with ``n`` (non-missing rows), ``n_missing`` and ``share``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [True, False, None], "weight_household": [3.0, 1.0, 5.0]})
    >>> df["x"] = df["x"].astype("boolean")
    >>> weighted_shares(df, ["x"])[["variable", "n", "share"]].to_dict("records")
    [{'variable': 'x', 'n': 2, 'share': 0.75}]
    """
    rows = []
    groups = [((), df)] if not by else df.groupby(list(by), sort=True, observed=True)
    for key, g in groups:
        key_t = key if isinstance(key, tuple) else (key,)
        w = g[weight].to_numpy(dtype=float)
        for col in columns:
            x = pd.Series(g[col].to_numpy(), dtype="Float64")
            ok = x.notna().to_numpy(dtype=bool)
            denom = float(w[ok].sum())
            share = float(np.dot(w[ok], x[ok].to_numpy(dtype=float)) / denom) if denom else np.nan
            row = dict(zip(by, key_t, strict=False))
            row.update(variable=col, n=int(ok.sum()), n_missing=int((~ok).sum()), share=share)
            rows.append(row)
    return pd.DataFrame(rows)
