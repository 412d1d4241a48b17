"""A small structural simulator of the analysis tables, with known effects.

Not the embedded default survey (that is :mod:`ctip_research.synth`): a fast, transparent data
generating process with the same column names, used by the unit tests, the Monte Carlo benchmark
and the power calculation. It has the features that make the research question hard: an
unobserved household distress factor that raises both MFI borrowing and migration (confounding),
a commune-level branch-density instrument, and a programme targeted on baseline risk (mean
reversion), on observed variables only (baseline risky migration, landlessness), so that an
estimator adjusting for them is consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["simulate_households", "to_panel"]

_PROVINCES = (1, 2, 3, 9, 12, 14, 17, 18)


@dataclass(frozen=True)
class _SimHouseholds:
    """Village and household characteristics fixed over the waves."""

    village: np.ndarray
    v_prov: np.ndarray
    v_urban: np.ndarray
    v_effect: np.ndarray
    v_weight: np.ndarray
    u: np.ndarray
    landless: np.ndarray
    female: np.ndarray
    head_age: np.ndarray
    head_educ: np.ndarray
    size: np.ndarray
    land: np.ndarray

    @property
    def n_hh(self) -> int:
        """Number of households."""
        return len(self.village)


@dataclass(frozen=True)
class _SimEffects:
    """The effect sizes of :func:`simulate_households`."""

    effect_mfi: float
    effect_programme: float
    confounding: float
    first_stage: float
    direct_instrument_effect: float


def _draw_households(
    rng: np.random.Generator, n_villages: int, households_per_village: int
) -> _SimHouseholds:
    """Draw the villages and the time-invariant household characteristics."""
    n_hh = n_villages * households_per_village
    village = np.repeat(np.arange(n_villages), households_per_village)
    v_prov = rng.choice(_PROVINCES, size=n_villages)
    v_urban = rng.random(n_villages) < np.where(v_prov == 12, 0.95, 0.2)
    v_effect = rng.normal(0, 0.04, n_villages)
    v_weight = rng.uniform(150, 450, n_villages)
    u = rng.normal(size=n_hh)  # unobserved distress, constant over waves
    landless = rng.random(n_hh) < 0.2
    female = rng.random(n_hh) < 0.24
    head_age = rng.integers(20, 75, n_hh)
    head_educ = rng.integers(0, 13, n_hh)
    size = rng.integers(1, 9, n_hh)
    land = np.where(landless, 0.0, rng.lognormal(np.log(0.9), 0.6, n_hh))
    return _SimHouseholds(
        village,
        v_prov,
        v_urban,
        v_effect,
        v_weight,
        u,
        landless,
        female,
        head_age,
        head_educ,
        size,
        land,
    )


def _draw_wave(
    rng: np.random.Generator,
    hh: _SimHouseholds,
    fx: _SimEffects,
    wave: int,
    treated: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Draw one wave's outcomes; return them and the programme assignment after this wave."""
    n_villages, n_hh, village, u, landless = len(hh.v_prov), hh.n_hh, hh.village, hh.u, hh.landless
    z = 1.0 + 0.5 * rng.normal(size=n_villages)  # branches per 1,000 hh (commune level)
    zs = (z - 1.0) / 0.5
    p_loan = np.clip(0.38 + fx.first_stage * zs[village] + 0.10 * u + 0.05 * landless, 0.02, 0.98)
    loan = rng.random(n_hh) < p_loan
    over = loan & (rng.random(n_hh) < np.clip(0.25 + 0.08 * u, 0.02, 0.9))
    p_mig = np.clip(
        0.20
        + fx.effect_mfi * loan
        + fx.confounding * u / 2
        + 0.04 * landless
        + fx.direct_instrument_effect * zs[village]
        + hh.v_effect[village],
        0.01,
        0.99,
    )
    mig = rng.random(n_hh) < p_mig
    transitory = rng.normal(size=n_hh)
    p_risky = np.clip(
        0.15 + 0.06 * u / 2 + 0.05 * over + 0.05 * transitory + hh.v_effect[village], 0.01, 0.99
    )
    if wave == 2:
        p_risky = np.clip(p_risky + fx.effect_programme * treated, 0.0, 1.0)
    risky = rng.random(n_hh) < p_risky
    irregular = mig & (rng.random(n_hh) < 0.3 + 0.1 * over)
    forced = mig & (rng.random(n_hh) < 0.05)
    multiple = loan & (rng.random(n_hh) < 0.28)
    income = rng.lognormal(np.log(4400), 0.7, n_hh)
    if wave == 1:
        score = 0.8 * risky + 0.6 * landless + 0.5 * rng.normal(size=n_hh)
        eligible = ~hh.v_urban[village]
        treated = eligible & (score > np.quantile(score, 0.75))
    dist = np.exp(1.4 - 0.4 * zs + 0.1 * rng.normal(size=n_villages))
    out = {
        "z": z,
        "dist": dist,
        "income": income,
        "irregular": irregular,
        "forced": forced,
        "multiple": multiple,
        "loan": loan,
        "over": over,
        "mig": mig,
        "risky": risky,
    }
    return out, treated


def _wave_frame(
    hh: _SimHouseholds, wave: int, o: dict[str, np.ndarray], treated: np.ndarray
) -> pd.DataFrame:
    """One wave's household table in the analysis column order."""
    village = hh.village
    n_hh = hh.n_hh
    return pd.DataFrame(
        {
            "household_id": [f"h{i:06d}" for i in range(n_hh)],
            "wave": wave,
            "stratum_id": [
                f"{p:02d}-{'U' if urb else 'R'}"
                for p, urb in zip(hh.v_prov[village], hh.v_urban[village], strict=True)
            ],
            "psu_id": [f"v{j:04d}" for j in village],
            "weight_household": hh.v_weight[village],
            "province_code": hh.v_prov[village],
            "is_urban": hh.v_urban[village],
            "head_is_female": hh.female,
            "head_age": hh.head_age,
            "head_educ_years": hh.head_educ,
            "household_size": hh.size,
            "land_agri_ha": hh.land,
            "income_annual_usd": o["income"],
            "has_irregular_migrant": o["irregular"],
            "has_forced_labour_case": o["forced"],
            "has_multiple_mfi_loans": o["multiple"],
            "is_landless": hh.landless,
            "mfi_branches_per_1000hh": o["z"][village],
            "dist_mfi_branch_km": o["dist"][village],
            "has_mfi_loan": o["loan"],
            "is_over_indebted": o["over"],
            "has_international_migrant": o["mig"],
            "has_risky_migration": o["risky"],
            "received_livelihood_grant": treated if wave == 2 else np.zeros(n_hh, bool),
        }
    )


def simulate_households(
    *,
    n_villages: int = 200,
    households_per_village: int = 18,
    effect_mfi: float = 0.09,
    effect_programme: float = -0.08,
    confounding: float = 0.2,
    first_stage: float = 0.09,
    direct_instrument_effect: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a two-wave household panel (long: one row per household and wave).

    Migration is a linear probability model, so ``effect_mfi`` is the true average effect of an MFI
    loan on the probability of an international migrant (both waves) and ``effect_programme`` the
    true effect of the programme on risky migration at wave 2 among treated households.

    Examples
    --------
    >>> df = simulate_households(n_villages=20, households_per_village=5, seed=1)
    >>> df.shape[0], sorted(df["wave"].unique().tolist())
    (200, [1, 2])
    """
    rng = np.random.default_rng(seed)
    hh = _draw_households(rng, n_villages, households_per_village)
    fx = _SimEffects(
        effect_mfi, effect_programme, confounding, first_stage, direct_instrument_effect
    )
    rows = []
    treated = np.zeros(hh.n_hh, dtype=bool)
    for wave in (1, 2):
        outcomes, next_treated = _draw_wave(rng, hh, fx, wave, treated)
        rows.append(_wave_frame(hh, wave, outcomes, treated))
        treated = next_treated
    out = pd.concat(rows, ignore_index=True)
    out["n_psu_stratum"] = 1000
    return out


def to_panel(
    household_wave: pd.DataFrame,
    *,
    design: tuple[str, ...] = (
        "stratum_id",
        "psu_id",
        "weight_household",
        "province_code",
        "is_urban",
    ),
    entity: str = "household_id",
) -> pd.DataFrame:
    """Wide panel (``<name>_w1`` / ``<name>_w2``) of households observed in both waves.

    Design columns are taken from wave 1 and keep their names (docs/CONTRACTS.md).

    Examples
    --------
    >>> df = simulate_households(n_villages=5, households_per_village=4, seed=2)
    >>> to_panel(df).shape[0]
    20
    """
    w1 = household_wave.loc[household_wave["wave"] == 1]
    w2 = household_wave.loc[household_wave["wave"] == 2]
    features = [c for c in household_wave.columns if c not in (*design, entity, "wave")]
    a = w1.set_index(entity)[features].add_suffix("_w1")
    b = w2.set_index(entity)[features].add_suffix("_w2")
    wide = w1.set_index(entity)[list(design)].join(a).join(b, how="inner")
    return wide.reset_index()
