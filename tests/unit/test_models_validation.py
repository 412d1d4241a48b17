"""Estimates against the synthetic truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip_research.models.validation import (
    TruthError,
    compare_to_truth,
    lookup_truth,
    scenario_verdicts,
    summarise_draws,
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


# ------------------------------------------------------------------------------------------------
# Monte Carlo summaries
# ------------------------------------------------------------------------------------------------


def _draws(
    errors: np.ndarray,
    *,
    se: float,
    truth: float = 0.1,
    model: str = "m",
    scenario: str = "default",
) -> pd.DataFrame:
    est = truth + np.asarray(errors, dtype=float)
    return pd.DataFrame(
        {
            "scenario": scenario,
            "seed": np.arange(len(est)),
            "model": model,
            "estimand": "ate",
            "truth": truth,
            "estimate": est,
            "std_error": se,
            "conf_low": est - 1.96 * se,
            "conf_high": est + 1.96 * se,
            "n_households": 4000,
        }
    )


def test_summarise_draws_bias_rmse_coverage_and_failed_fits() -> None:
    d = _draws(np.array([-0.1, 0.1, np.nan]), se=0.05)
    s = summarise_draws(d).iloc[0]
    assert (s["n_draws"], s["n_failed"]) == (2, 1)
    assert s["bias"] == pytest.approx(0.0) and s["rmse"] == pytest.approx(0.1)
    assert s["coverage"] == 0.0  # each interval (+-0.098) misses the truth by 0.002
    assert s["interval_length"] == pytest.approx(4 * 1.96 * 0.05 / 2)
    assert s["n_households"] == 4000


def test_unbiased_estimator_with_right_standard_errors_survives() -> None:
    rng = np.random.default_rng(1)
    s = summarise_draws(_draws(rng.normal(0, 0.02, 400), se=0.02)).iloc[0]
    assert s["verdict"] == "survives"
    assert 0.92 < s["coverage"] < 0.98  # nominal 0.95, MC se 0.011
    assert s["power"] > 0.9  # truth 0.1 is 5 SEs from zero


def test_bias_beyond_its_standard_error_fails() -> None:
    rng = np.random.default_rng(2)
    s = summarise_draws(_draws(0.03 + rng.normal(0, 0.02, 40), se=0.02)).iloc[0]
    assert s["verdict"] == "fails"
    assert s["bias"] == pytest.approx(0.03, abs=0.01)
    assert s["coverage"] < 0.8  # bias 1.5 SE: about 68% coverage


def test_few_draws_that_agree_do_not_pass_for_precision() -> None:
    # three draws, each 1.5 SE off: beyond the SE, but three draws cannot tell it from chance
    # (t on 2 df scaled by the reported SE: needs |bias| > 4.30 * 0.02 / sqrt(3) = 0.0497)
    s = summarise_draws(_draws(np.full(3, 0.03), se=0.02)).iloc[0]
    assert s["verdict"] == "possibly_biased"
    s = summarise_draws(_draws(np.full(3, 0.06), se=0.02)).iloc[0]
    assert s["verdict"] == "fails"


def test_standard_errors_too_small_fail_on_coverage() -> None:
    rng = np.random.default_rng(3)
    # sampling sd 0.02 but a reported SE of 0.005: intervals cover ~44%, no bias
    s = summarise_draws(_draws(rng.normal(0, 0.02, 40), se=0.005)).iloc[0]
    assert abs(s["bias"]) < s["mean_std_error"] * 2
    assert s["verdict"] == "fails" and s["coverage"] < 0.7


def test_wide_interval_that_covers_is_uninformative() -> None:
    rng = np.random.default_rng(4)
    s = summarise_draws(_draws(rng.normal(0, 0.2, 40), se=0.2)).iloc[0]
    assert s["coverage"] > 0.85 and s["power"] < 0.5
    assert s["verdict"] == "uninformative"


def test_no_fitted_draw_gives_no_estimate() -> None:
    s = summarise_draws(_draws(np.full(3, np.nan), se=0.02)).iloc[0]
    assert s["verdict"] == "no_estimate" and s["n_failed"] == 3


def test_bias_change_pairs_each_world_with_the_default_world_on_the_same_seed() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(0, 0.02, 6)
    d = pd.concat(
        [
            _draws(base, se=0.02),
            _draws(base + 0.015, se=0.02, scenario="shifted"),
            _draws(base, se=0.02, scenario="same"),
        ]
    )
    s = summarise_draws(d).set_index("scenario")
    assert s.loc["shifted", "bias_change"] == pytest.approx(0.015)
    assert s.loc["shifted", "bias_change_mc_se"] == pytest.approx(0.0, abs=1e-12)
    assert s.loc["same", "bias_change"] == pytest.approx(0.0)
    assert s.loc["default", "bias_change"] == pytest.approx(0.0)
    v = scenario_verdicts(
        summarise_draws(
            pd.concat(
                [_draws(base, se=0.02), _draws(base + 0.015 + base / 10, se=0.02, scenario="w")]
            )
        ),
        descriptions={"w": "a departure"},
        breaks={"w": "an assumption"},
    ).set_index("scenario")
    assert v.loc["w", "bias_moved"].startswith("m +0.015")
    assert v.loc["default", "bias_moved"] == ""
    assert (v.loc["w", "description"], v.loc["default", "breaks"]) == ("a departure", "none")
