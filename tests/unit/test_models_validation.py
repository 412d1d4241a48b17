"""Estimates against the synthetic truth."""

from __future__ import annotations

import pandas as pd
import pytest

from ctip_research.models.validation import (
    TruthError,
    compare_to_truth,
    lookup_truth,
    validation_summary,
)

TRUTH = {"estimands": {"mfi": {"wave_1": {"ate_weighted": 0.09, "late": 0.1}}}}


def _estimates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["naive", "iv", "iv", "fe"],
            "exposure": ["d", "d", "d", "d"],
            "term": ["d", "d", "c", "d"],
            "estimate": [0.14, 0.07, 9.0, 0.12],
            "std_error": [0.01, 0.04, 1.0, 0.01],
            "conf_low": [0.12, -0.01, 7.0, 0.10],
            "conf_high": [0.16, 0.15, 11.0, 0.14],
        }
    )


def test_lookup_missing_estimand_names_available_keys() -> None:
    with pytest.raises(TruthError, match="ate_weighted"):
        lookup_truth(TRUTH, "estimands.mfi.wave_1.att")


def test_compare_uses_exposure_row_and_flags_coverage() -> None:
    out = compare_to_truth(
        _estimates(),
        TRUTH,
        estimands={
            "naive": "estimands.mfi.wave_1.ate_weighted",
            "iv": "estimands.mfi.wave_1.late",
            "fe": "estimands.mfi.wave_1.ate_weighted",
        },
        naive_model="naive",
    )
    row = out.set_index("model")
    assert row.loc["iv", "estimate"] == 0.07 and row.loc["iv", "truth"] == 0.1
    assert bool(row.loc["iv", "covers_truth"]) and not bool(row.loc["naive", "covers_truth"])
    assert row.loc["naive", "bias"] == pytest.approx(0.05)
    s = validation_summary(out)
    assert s["recovering"] == ["iv"] and s["not_recovering"] == ["fe"]
    assert s["naive_ratio"] == pytest.approx(0.14 / 0.09)
