"""Multiple-testing adjustments: Benjamini-Hochberg, Holm and Romano-Wolf."""

from __future__ import annotations

import numpy as np
import pytest

from ctip_research.models.robustness import (
    adjust_pvalues,
    exposure_influence,
    romano_wolf,
    spec_variants,
)
from models_factory import households, spec


def test_bh_matches_hand_computation() -> None:
    p = [0.01, 0.04, 0.03, 0.20]
    # sorted 0.01, 0.03, 0.04, 0.20 -> 0.04, 0.0533, 0.0533, 0.20 (step-up minimum)
    assert adjust_pvalues(p, "bh") == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])


def test_spec_variants_cover_every_pair() -> None:
    out = spec_variants(spec(), outcomes=["a", "b"], exposures=["x", "y"])
    assert [(s.exposure, s.outcome) for s in out] == [
        ("x", "a"),
        ("x", "b"),
        ("y", "a"),
        ("y", "b"),
    ]
    assert len({s.name for s in out}) == 4


def test_influence_sum_gives_crv0_standard_error_of_linearmodels() -> None:
    from linearmodels.iv.absorbing import AbsorbingLS

    df = households(n_villages=60, hh=10, seed=3)
    df = df.loc[df["wave"] == 1].reset_index(drop=True)
    s = spec(fixed_effects=["psu_id"], controls=["is_landless"])
    beta, psi = exposure_influence(df, s)
    ref = AbsorbingLS(
        df["has_international_migrant"].astype(float),
        df[["has_mfi_loan", "is_landless"]].astype(float),
        absorb=df[["psu_id"]].astype("category"),
        weights=df["weight_household"],
    ).fit(cov_type="clustered", clusters=df["psu_id"].astype("category").cat.codes, debiased=False)
    assert beta == pytest.approx(float(ref.params["has_mfi_loan"]), rel=1e-8)
    assert np.sqrt((psi**2).sum()) == pytest.approx(float(ref.std_errors["has_mfi_loan"]), rel=1e-6)


def test_romano_wolf_adjusted_p_at_least_single_test_and_monotone() -> None:
    df = households(n_villages=80, hh=10, seed=4)
    specs = spec_variants(
        spec(wave=1, fixed_effects=["psu_id"]),
        outcomes=["has_international_migrant", "has_risky_migration", "has_forced_labour_case"],
        exposures=["has_mfi_loan"],
    )
    out = romano_wolf(df, specs, reps=499, seed=1)
    again = romano_wolf(df, specs, reps=499, seed=1)
    assert out.equals(again)  # seeded
    order = np.argsort(-np.abs(out["t_stat"].to_numpy()))
    assert np.all(np.diff(out["p_value_rw"].to_numpy()[order]) >= 0)
    from scipy import stats

    single = 2 * stats.norm.sf(np.abs(out["t_stat"]))
    assert np.all(out["p_value_rw"].to_numpy() >= single - 0.02)


def test_romano_wolf_rejects_rarely_under_global_null() -> None:
    df = households(n_villages=80, hh=10, seed=6)
    rng = np.random.default_rng(0)
    for k in range(3):
        df[f"noise_{k}"] = rng.random(len(df)) < 0.3
    specs = spec_variants(
        spec(wave=1), outcomes=[f"noise_{k}" for k in range(3)], exposures=["has_mfi_loan"]
    )
    out = romano_wolf(df, specs, reps=499, seed=2)
    assert (out["p_value_rw"] > 0.05).all()
