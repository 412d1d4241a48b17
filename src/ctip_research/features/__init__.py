"""Debt-burden, migration and trafficking-risk features (``docs/features.md``).

Pure functions of the canonical tables. The features are declared once, as data, in
:mod:`ctip_research.features.definitions`; the analysis tables' schemas and the feature dictionary
are generated from those declarations.
"""

from ctip_research.features.build import (
    build_analysis_table,
    build_episode_table,
    check_references,
    weighted_shares,
)
from ctip_research.features.debt import build_debt_features
from ctip_research.features.definitions import (
    ALL_FEATURES,
    EPISODE_FEATURES,
    HOUSEHOLD_FEATURES,
    FeatureDef,
    episode_table,
    feature_dictionary,
    household_wave_table,
    panel_table,
    render_feature_dictionary,
)
from ctip_research.features.migration import build_migration_features
from ctip_research.features.panel import build_panel
from ctip_research.features.trafficking import (
    build_household_trafficking_features,
    build_trafficking_features,
)

__all__ = [
    "ALL_FEATURES",
    "EPISODE_FEATURES",
    "HOUSEHOLD_FEATURES",
    "FeatureDef",
    "build_analysis_table",
    "build_debt_features",
    "build_episode_table",
    "build_household_trafficking_features",
    "build_migration_features",
    "build_panel",
    "build_trafficking_features",
    "check_references",
    "episode_table",
    "feature_dictionary",
    "household_wave_table",
    "panel_table",
    "render_feature_dictionary",
    "weighted_shares",
]
