"""The two-wave household panel: wave-1 values beside wave-2 values, and their changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ctip_research.features.definitions import panel_table, panel_variables
from ctip_research.schemas import coerce_dtypes
from ctip_research.schemas.tables import DESIGN_FIELDS

if TYPE_CHECKING:
    from ctip_research.config.features import FeaturesParams

__all__ = ["build_panel"]


def build_panel(analysis: pd.DataFrame, *, params: FeaturesParams) -> pd.DataFrame:
    """One row per household observed in both waves.

    Design columns come from wave 1 (the panel is analysed with the baseline design); every other
    household-wave column appears as ``<name>_w1`` and ``<name>_w2``, and each column listed in
    ``features.panel_change_features`` gets ``d_<name> = <name>_w2 - <name>_w1`` (booleans as 0/1,
    so the change is -1, 0 or 1; missing if either wave is missing). Households seen in one wave
    only (attrition, replacements) are left out.

    Parameters
    ----------
    analysis
        The household-wave analysis table (:func:`~.build.build_analysis_table`).
    params
        The ``features`` params section.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> from ctip_research.synth.generate import generate_survey
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> survey = generate_survey(params.synth.model_copy(update={"design": small}))
    >>> from ctip_research.features.build import build_analysis_table
    >>> tables = {t: getattr(survey, t) for t in ("households", "members", "loans",
    ...     "migration_episodes")}
    >>> panel = build_panel(build_analysis_table(tables, params.features), params=params.features)
    >>> panel[["has_mfi_loan_w1", "has_international_migrant_w2", "d_has_mfi_loan"]].mean().round(2)
    has_mfi_loan_w1                 0.39
    has_international_migrant_w2    0.21
    d_has_mfi_loan                 -0.02
    dtype: Float64
    """
    table = panel_table(params)
    variables = [f.name for f in panel_variables(params)]
    w1 = analysis[analysis["wave"] == 1].set_index("household_id")
    w2 = analysis[analysis["wave"] == 2].set_index("household_id")
    for w, frame in ((1, w1), (2, w2)):
        if not frame.index.is_unique:
            raise ValueError(f"analysis table has duplicate household_id in wave {w}")
    ids = sorted(set(w1.index) & set(w2.index))
    w1 = w1.loc[ids]
    w2 = w2.loc[ids]
    cols: dict[str, pd.Series] = {"household_id": pd.Series(ids, index=w1.index)}
    for f in DESIGN_FIELDS:
        cols[f.name] = w1[f.name]
    for name in variables:
        cols[f"{name}_w1"] = w1[name]
        cols[f"{name}_w2"] = w2[name]
    for name in params.panel_change_features:
        is_float = table.field(f"d_{name}").type == "float"
        kind = pd.Float64Dtype() if is_float else pd.Int64Dtype()
        a = w1[name].astype(pd.Int64Dtype()) if w1[name].dtype == "boolean" else w1[name]
        b = w2[name].astype(pd.Int64Dtype()) if w2[name].dtype == "boolean" else w2[name]
        cols[f"d_{name}"] = b.astype(kind) - a.astype(kind)
    return coerce_dtypes(pd.DataFrame(cols).reset_index(drop=True), table)
