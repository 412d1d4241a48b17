"""Figures: gated, deterministic, with captions and alt text (built on small synthetic frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip_research.disclosure import DisclosurePolicy
from ctip_research.errors import DisclosureError
from ctip_research.reporting.figures import (
    build_debt_burden_figure,
    build_effects_figure,
    build_migration_by_band_figure,
    build_targeting_figure,
)
from ctip_research.reporting.style import render_figure

THR = DisclosurePolicy()
BANDS = ["<=0.50", "0.50-0.75", "0.75-1.00", ">1.00"]


def _households(n: int = 1500, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    province = rng.choice([1, 2, 12], n, p=[0.45, 0.45, 0.10])
    has_mfi = rng.random(n) < 0.4
    return pd.DataFrame(
        {
            "household_id": [f"h{i}" for i in range(n)],
            "wave": 1,
            "province_code": province,
            "stratum_id": province * 10 + rng.integers(0, 2, n),
            "psu_id": rng.integers(0, 30, n),
            "weight_household": rng.uniform(80, 120, n),
            "has_mfi_loan": has_mfi,
            "is_over_indebted": has_mfi & (rng.random(n) < 0.3),
            "has_formal_loan": has_mfi,
            "debt_service_to_income_band": rng.choice(BANDS, n, p=[0.6, 0.2, 0.15, 0.05]),
            "has_international_migrant": rng.random(n) < 0.3,
            "has_risky_migration": rng.random(n) < 0.12,
        }
    )


def _debt_figure(data: pd.DataFrame):  # type: ignore[no-untyped-def]
    return build_debt_burden_figure(
        data,
        indicators={"has_mfi_loan": "MFI loan", "is_over_indebted": "Over-indebted"},
        province_names={1: "Banteay Meanchey", 2: "Battambang", 12: "Phnom Penh"},
        policy=THR,
        source="test frame",
        wave=1,
    )


def test_debt_burden_figure_is_gated_and_captioned() -> None:
    ex = _debt_figure(_households())
    assert ex.record["passed"]
    assert "household_id" not in ex.data.columns
    assert "95% confidence intervals" in ex.caption and "n = 1,500 households" in ex.caption
    assert "Battambang" in ex.alt_text
    published = ex.data[ex.data["status"] != "suppressed"]
    assert (published["n_numerator"] >= THR.min_cell_count).all()


def test_debt_burden_figure_suppresses_a_small_province() -> None:
    data = _households()
    # keep only 15 households in Phnom Penh: under the reliability threshold of 25
    pp = data.index[data["province_code"] == 12]
    data = data.drop(pp[15:])
    ex = _debt_figure(data)
    sup = ex.data[ex.data["status"] == "suppressed"]
    assert "Phnom Penh" in set(sup["province"])
    assert sup["estimate"].isna().all()
    assert any(s["cell"]["province"] == "Phnom Penh" for s in ex.record["suppressed"])


def test_figure_files_are_byte_identical_when_rendered_twice() -> None:
    data = _households()
    first = _debt_figure(data)
    second = _debt_figure(data)
    for fmt in ("png", "svg"):
        assert render_figure(first.figure, fmt) == render_figure(second.figure, fmt)  # type: ignore[arg-type]
    svg = render_figure(first.figure, "svg").decode()
    assert "<dc:date>" not in svg


def test_migration_by_band_figure_has_no_loan_group() -> None:
    ex = build_migration_by_band_figure(
        _households(),
        outcomes={
            "has_international_migrant": "International migrant",
            "has_risky_migration": "Risky migration",
        },
        band="debt_service_to_income_band",
        band_order=BANDS,
        borrower="has_formal_loan",
        no_borrower_label="No formal loan",
        policy=THR,
        source="test frame",
        wave=1,
    )
    assert "No formal loan" in set(ex.data["debt_band"])
    assert ex.record["passed"]
    assert "has_risky_migration.estimate" in ex.numbers


def _estimates(n_obs: int = 4000) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["naive", "fe", "iv", "panel"],
            "outcome": "has_international_migrant",
            "exposure": "has_mfi_loan",
            "term": "has_mfi_loan",
            "estimate": [0.13, 0.11, 0.09, 0.08],
            "std_error": [0.01, 0.012, 0.03, 0.02],
            "conf_low": [0.11, 0.087, 0.03, 0.04],
            "conf_high": [0.15, 0.133, 0.15, 0.12],
            "p_value": [0.0, 0.0, 0.003, 0.0],
            "n_obs": n_obs,
            "n_psu": 240,
            "estimand": ["ate", "ate", "late", "within_household"],
            "conf_level": 0.9,
        }
    )


def test_effects_figure_shows_truth_and_passes_the_gate() -> None:
    models = {"naive": "Naive", "fe": "Fixed effects", "iv": "IV", "panel": "Panel"}
    ex = build_effects_figure(
        _estimates(),
        models=models,
        policy=THR,
        source="test",
        title="Effects",
        xlabel="Effect (percentage points)",
        name="effects",
        truth=dict.fromkeys(models, 0.08),
    )
    assert ex.record["passed"]
    assert ex.numbers["iv.estimate"] == pytest.approx(0.09)
    assert "true value 8.0" in ex.alt_text


def test_effects_figure_fails_the_gate_with_too_few_observations() -> None:
    with pytest.raises(DisclosureError, match="residual_df"):
        build_effects_figure(
            _estimates(n_obs=5),
            models={"naive": "Naive"},
            policy=THR,
            source="test",
            title="Effects",
            xlabel="pp",
            name="effects",
        )


def test_targeting_figure_suppresses_points_on_few_households() -> None:
    curve = pd.DataFrame(
        {
            "share_served": [0.01, 0.1, 0.2, 0.5, 1.0],
            "share_reached": [0.05, 0.3, 0.5, 0.85, 1.0],
            "n_served": [8, 150, 300, 750, 1500],
            "n_reached": [3, 50, 90, 150, 180],
        }
    )
    ex = build_targeting_figure(
        curve,
        policy=THR,
        source="test",
        headline={"share_served": 0.2, "estimate": 0.5, "conf_low": 0.44, "conf_high": 0.56},
    )
    assert bool(ex.data["is_suppressed"].iloc[0]) and np.isnan(ex.data["share_reached"].iloc[0])
    assert ex.record["passed"]
    assert "50%" in ex.alt_text


def test_captions_print_the_level_of_the_data_and_trace_every_number() -> None:
    from ctip_research.disclosure import Document, disclose

    ex = build_debt_burden_figure(
        _households(),
        indicators={"has_mfi_loan": "MFI loan", "is_over_indebted": "Over-indebted"},
        province_names={1: "Banteay Meanchey", 2: "Battambang", 12: "Phnom Penh"},
        policy=THR,
        source="test frame",
        wave=1,
        conf_level=0.9,
    )
    effects = build_effects_figure(
        _estimates(),
        models={"naive": "Naive", "iv": "IV"},
        policy=THR,
        source="test",
        title="Effects",
        xlabel="pp",
        name="effects",
    )
    for exhibit in (ex, effects):
        text = exhibit.caption + " " + exhibit.alt_text
        assert "90%" in text and "95%" not in text
        blocks = [
            {"id": "caption", "text": exhibit.caption, "trace": exhibit.trace["caption"]},
            {"id": "alt", "text": exhibit.alt_text, "trace": exhibit.trace["alt"]},
        ]
        assert disclose(Document(exhibit.name, blocks=blocks), THR).record["passed"]
    assert "90% confidence intervals" in ex.caption
    assert "IV estimates the effect among households whose borrowing follows" in effects.caption
