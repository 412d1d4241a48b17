"""Helpers for the models tests: a spec factory and cached simulated analysis tables."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd

from ctip_research.config.fit import DesignParams, ModelSpec
from ctip_research.models.simulate import simulate_households

DESIGN = DesignParams(
    weight="weight_household", strata="stratum_id", psu="psu_id", fpc=None, lonely_psu="adjust"
)


def spec(**kw: Any) -> ModelSpec:
    """A fixed_effects spec of has_international_migrant on has_mfi_loan (controls is_landless,
    clustered by psu_id, weighted); override with kw. Every other field keeps its default."""
    base: dict[str, Any] = dict(
        name="m",
        kind="fixed_effects",
        label="M",
        outcome="has_international_migrant",
        exposure="has_mfi_loan",
        controls=["is_landless"],
        cluster="psu_id",
        weights="weight_household",
    )
    base.update(kw)
    return ModelSpec(**base)


@lru_cache(maxsize=8)
def _sim(n_villages: int, hh: int, seed: int, first_stage: float) -> pd.DataFrame:
    return simulate_households(
        n_villages=n_villages, households_per_village=hh, seed=seed, first_stage=first_stage
    )


def households(
    n_villages: int = 150, hh: int = 12, seed: int = 7, first_stage: float = 0.09
) -> pd.DataFrame:
    """Simulated household-wave table (a copy; cached)."""
    return _sim(n_villages, hh, seed, first_stage).copy()
