"""The ground truth: true average effects from the simulated potential outcomes.

For every headline estimand and wave, the effect of each interviewed household is the difference
of its two potential outcomes, evaluated with the same random draws of everything else and only the
exposure switched. Averages are reported unweighted (the sample) and weighted with
``weight_household`` (the population), over all households (ATE), over the exposed (ATT) and, for
the MFI estimand, over instrument compliers (each household weighted by the instrument's effect on
its take-up probability: what 2SLS with branch density identifies under heterogeneity) and over
households whose MFI status changes between the waves (what the household fixed-effects estimator
identifies). ``expected_*`` fields average the individual effects on the probability (the
conditional expectation given everything else), a lower-variance version of the same quantity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.synth._random import FloatArray
from ctip_research.synth.state import Assignment, Households, WaveDraw

__all__ = ["ESTIMANDS", "build_truth", "programme_indicator_truth"]

#: Definitions of the headline estimands (written into truth.json).
ESTIMANDS: dict[str, dict[str, str]] = {
    "mfi_international_migration": {
        "outcome": "has_international_migrant",
        "exposure": "has_mfi_loan",
        "exposure_definition": "at least one outstanding loan with lender_type 'mfi'",
        "population": "all interviewed households of the wave",
        "contrast": "total effect: Y(D=1, O(D=1)) - Y(D=0, O(D=0)), over-indebtedness "
        "re-evaluated under each loan status (same draws of everything else)",
    },
    "over_indebtedness_international_migration": {
        "outcome": "has_international_migrant",
        "exposure": "is_over_indebted",
        "exposure_definition": "debt_service_to_income_ratio > {thr} OR at least {k} of the "
        "sacrifices cope_reduce_food, cope_sold_assets, cope_sold_land, "
        "cope_child_work_or_dropout",
        "population": "all interviewed households of the wave",
        "contrast": "Y(D, O=1) - Y(D, O=0) with MFI status D as observed",
    },
    "over_indebtedness_risky_migration": {
        "outcome": "has_risky_migration",
        "exposure": "is_over_indebted",
        "exposure_definition": "as for over_indebtedness_international_migration",
        "population": "all interviewed households of the wave",
        "contrast": "risky(D, O=1) - risky(D, O=0): through new migration and its channel",
    },
    "programme_risky_migration": {
        "outcome": "has_risky_migration",
        "exposure": "received_livelihood_grant",
        "exposure_definition": "received the livelihood programme between the waves",
        "population": "wave-2 households reached by the programme (effect on the treated)",
        "contrast": "risky(G=1) - risky(G=0) in wave 2",
    },
}


def _avg(x: FloatArray, w: FloatArray) -> float:
    sw = float(np.sum(w))
    return float(np.sum(w * x) / sw) if sw > 0 else float("nan")


def _naive(y: np.ndarray, d: np.ndarray, w: FloatArray) -> float:
    if d.all() or not d.any():
        return float("nan")
    return _avg(y[d].astype(float), w[d]) - _avg(y[~d].astype(float), w[~d])


def _summary(
    eff: FloatArray,
    expected: FloatArray | None,
    y: np.ndarray,
    d: np.ndarray,
    w: FloatArray,
) -> dict[str, Any]:
    one = np.ones_like(w)
    out: dict[str, Any] = {
        "ate_weighted": _avg(eff, w),
        "ate_unweighted": _avg(eff, one),
        "att_weighted": _avg(eff[d], w[d]) if d.any() else float("nan"),
        "att_unweighted": _avg(eff[d], one[d]) if d.any() else float("nan"),
        "naive_difference_weighted": _naive(y, d, w),
        "naive_difference_unweighted": _naive(y, d, one),
        "exposure_share_weighted": _avg(d.astype(float), w),
        "outcome_share_weighted": _avg(y.astype(float), w),
        "n_households": int(len(w)),
        "n_exposed": int(d.sum()),
    }
    if expected is not None:
        out["expected_ate_weighted"] = _avg(expected, w)
        out["expected_ate_unweighted"] = _avg(expected, one)
    return out


def programme_indicator_truth(households: pd.DataFrame, p: SynthParams) -> dict[str, Any]:
    """The programme's own indicators in the synthetic population (wave 2).

    ``households`` is the generator's wave-2 households table, before any defect is planted in
    the raw files; its ``weight_household`` makes each interviewed household stand for the
    households it represents, as for the other estimands. ``expected_*`` entries are what the
    generator draws from (the parameters), the quantity behind the realised values.
    """
    w = households["weight_household"].to_numpy(float)
    treated = households["received_livelihood_grant"].to_numpy(bool)
    female = households["representative_is_female"].astype("boolean").fillna(False).to_numpy(bool)
    trained = households["n_members_trained"].to_numpy(float)
    wt = w[treated]
    total = float(wt.sum())
    prov = households["province_code"].to_numpy()
    out: dict[str, Any] = {
        "description": "Programme indicators of the wave-2 population (interviewed households "
        "weighted by weight_household): households supported (received_livelihood_grant), the "
        "share of them with a female representative, and members trained, in all and by module.",
        "households_supported_total": total,
        "households_supported_share": total / float(w.sum()),
        "households_supported_total_by_province": {
            str(int(k)): float(w[treated & (prov == k)].sum()) for k in sorted(set(prov.tolist()))
        },
        "female_representative_share": _avg(female[treated].astype(float), wt),
        "members_trained_total": float((w * trained).sum()),
        "members_trained_per_supported_household": _avg(trained[treated], wt),
        "members_trained_total_by_module": {
            m: float((w * households[f"n_trained_{m}"].to_numpy(float)).sum())
            for m in L.TRAINING_MODULES
        },
        "n_supported": int(treated.sum()),
        "expected_female_representative_share": p.programme.female_representative_rate,
        "expected_members_trained_per_supported_household": (
            (1 + max(p.programme.max_trained, 1)) / 2
        ),
    }
    return out


_Part = tuple[FloatArray, FloatArray | None, np.ndarray, np.ndarray, FloatArray]

_POOLED = (
    "mfi_international_migration",
    "over_indebtedness_international_migration",
    "over_indebtedness_risky_migration",
)


def _estimand_definitions(p: SynthParams) -> dict[str, dict[str, Any]]:
    """The definitions of :data:`ESTIMANDS`, with the over-indebtedness thresholds filled in."""
    estimands: dict[str, dict[str, Any]] = {}
    for name, meta in ESTIMANDS.items():
        entry: dict[str, Any] = {
            k: v.format(
                thr=p.effects.over_indebted_ratio_threshold,
                k=p.effects.over_indebted_min_sacrifices,
            )
            for k, v in meta.items()
        }
        estimands[name] = entry
    return estimands


def _wave_effects(
    w: WaveDraw,
    obs: np.ndarray,
    wt: FloatArray,
    estimands: dict[str, dict[str, Any]],
    pooled: dict[str, list[_Part]],
) -> None:
    """Add one wave's MFI and over-indebtedness effects to ``estimands`` and ``pooled``."""
    t = w.t
    po = w.po
    d = w.d[obs]
    o = w.over_indebted[obs]
    y = w.intl[obs]
    risky = w.risky[obs]
    # MFI -> international migration
    eff = (po.y_d1.astype(float) - po.y_d0.astype(float))[obs]
    s = _summary(eff, po.ey_d[obs], y, d, wt)
    fs = po.first_stage[obs]
    s["late_complier_weighted"] = _avg(eff, wt * fs)
    s["late_complier_unweighted"] = _avg(eff, fs)
    s["expected_late_complier_weighted"] = _avg(po.ey_d[obs], wt * fs)
    s["expected_late_complier_unweighted"] = _avg(po.ey_d[obs], fs)
    s["first_stage_points_per_sd"] = _avg(fs, np.ones_like(fs))
    s["share_over_indebted_if_mfi"] = _avg(po.o_d1[obs].astype(float), wt)
    s["share_over_indebted_if_no_mfi"] = _avg(po.o_d0[obs].astype(float), wt)
    estimands["mfi_international_migration"][f"wave_{t}"] = s
    pooled["mfi_international_migration"].append((eff, po.ey_d[obs], y, d, wt))
    # over-indebtedness -> international migration
    eff_o = (po.y_o1.astype(float) - po.y_o0.astype(float))[obs]
    estimands["over_indebtedness_international_migration"][f"wave_{t}"] = _summary(
        eff_o, po.ey_o[obs], y, o, wt
    )
    pooled["over_indebtedness_international_migration"].append((eff_o, po.ey_o[obs], y, o, wt))
    # over-indebtedness -> risky migration
    eff_r = (po.risky_o1.astype(float) - po.risky_o0.astype(float))[obs]
    estimands["over_indebtedness_risky_migration"][f"wave_{t}"] = _summary(
        eff_r, None, risky, o, wt
    )
    pooled["over_indebtedness_risky_migration"].append((eff_r, None, risky, o, wt))


def _pooled_summary(parts: list[_Part]) -> dict[str, Any]:
    """The summary of an estimand over both waves (household-waves stacked)."""
    eff = np.concatenate([x[0] for x in parts])
    exp_parts = [x[1] for x in parts]
    expected = (
        None
        if any(e is None for e in exp_parts)
        else np.concatenate([e for e in exp_parts if e is not None])
    )
    return _summary(
        eff,
        expected,
        np.concatenate([x[2] for x in parts]),
        np.concatenate([x[3] for x in parts]),
        np.concatenate([x[4] for x in parts]),
    )


def _within_household(
    w1: WaveDraw, w2: WaveDraw, assign: Assignment, weights: dict[int, np.ndarray]
) -> dict[str, Any]:
    """The panel estimand: household-waves of households whose MFI status changes."""
    both = ~assign.attrited
    switch = both & (w1.d != w2.d)
    e1 = w1.po.y_d1.astype(float) - w1.po.y_d0.astype(float)
    e2 = w2.po.y_d1.astype(float) - w2.po.y_d0.astype(float)
    ex1, ex2 = w1.po.ey_d, w2.po.ey_d
    wsw = weights[1][switch]
    return {
        "population": "households interviewed in both waves whose has_mfi_loan changes",
        "n_switchers": int(switch.sum()),
        "effect_unweighted": float(np.mean((e1[switch] + e2[switch]) / 2))
        if switch.any()
        else float("nan"),
        "effect_weighted": _avg((e1[switch] + e2[switch]) / 2, wsw),
        "expected_effect_unweighted": float(np.mean((ex1[switch] + ex2[switch]) / 2))
        if switch.any()
        else float("nan"),
        "expected_effect_weighted": _avg((ex1[switch] + ex2[switch]) / 2, wsw),
        "ate_panel_households_weighted": _avg((e1[both] + e2[both]) / 2, weights[1][both]),
    }


def _programme_effect(
    p: SynthParams,
    hh: Households,
    w1: WaveDraw,
    w2: WaveDraw,
    assign: Assignment,
    weights: dict[int, np.ndarray],
) -> dict[str, Any]:
    """The programme's effect on risky migration (wave 2, treated) and its baselines."""
    obs2 = ~assign.attrited
    po2 = w2.po
    assert po2.risky_g1 is not None and po2.risky_g0 is not None
    assert po2.intl_g1 is not None and po2.intl_g0 is not None
    treated = assign.programme[obs2]
    wt2 = weights[2][obs2]
    eff_g = (po2.risky_g1.astype(float) - po2.risky_g0.astype(float))[obs2]
    eff_gi = (po2.intl_g1.astype(float) - po2.intl_g0.astype(float))[obs2]
    risky2 = w2.risky[obs2]
    eligible = (np.isin(hh.prov, p.programme.provinces) & ~hh.urban)[obs2]
    s = _summary(eff_g, None, risky2, treated, wt2)
    s["naive_difference_eligible_weighted"] = _naive(
        risky2[eligible], treated[eligible], wt2[eligible]
    )
    s["att_international_migration_weighted"] = (
        _avg(eff_gi[treated], wt2[treated]) if treated.any() else float("nan")
    )
    base1 = w1.risky[obs2]
    s["baseline_risky_treated_weighted"] = (
        _avg(base1[treated].astype(float), wt2[treated]) if treated.any() else float("nan")
    )
    s["baseline_risky_eligible_untreated_weighted"] = _avg(
        base1[eligible & ~treated].astype(float), wt2[eligible & ~treated]
    )
    return s


def _estimands(
    p: SynthParams,
    hh: Households,
    w1: WaveDraw,
    w2: WaveDraw,
    assign: Assignment,
    weights: dict[int, np.ndarray],
) -> dict[str, dict[str, Any]]:
    """Every headline estimand: per wave, pooled, within household and the programme's."""
    observed = {1: np.ones(hh.n, dtype=bool), 2: ~assign.attrited}
    estimands = _estimand_definitions(p)
    pooled: dict[str, list[_Part]] = {k: [] for k in ESTIMANDS}
    for w in (w1, w2):
        obs = observed[w.t]
        _wave_effects(w, obs, weights[w.t][obs], estimands, pooled)
    for name in _POOLED:
        estimands[name]["pooled"] = _pooled_summary(pooled[name])
    estimands["mfi_international_migration"]["within_household"] = _within_household(
        w1, w2, assign, weights
    )
    estimands["programme_risky_migration"]["wave_2"] = _programme_effect(
        p, hh, w1, w2, assign, weights
    )
    estimands["programme_risky_migration"]["headline"] = "att_weighted"
    for name in _POOLED:
        estimands[name]["headline"] = "ate_weighted"
    return estimands


def build_truth(
    p: SynthParams,
    hh: Households,
    w1: WaveDraw,
    w2: WaveDraw,
    assign: Assignment,
    weights: dict[int, np.ndarray],
    households_w2: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Compute the truth dictionary (JSON-serialisable).

    ``households_w2`` (the generator's wave-2 households table) adds the programme indicators
    (:func:`programme_indicator_truth`).
    """
    return {
        "description": "Ground truth of the synthetic survey (ctip synth). Synthetic data: no "
        "real household. Read only by the validation stage.",
        "seed": p.seed,
        "truth_version": 1,
        "estimands": _estimands(p, hh, w1, w2, assign, weights),
        "structural": {
            "mfi_on_migration": p.effects.mfi_on_migration,
            "over_indebted_on_migration": p.effects.over_indebted_on_migration,
            "over_indebted_on_irregular": p.effects.over_indebted_on_irregular,
            "loan_financed_on_debt_bondage_logodds": p.effects.loan_financed_on_debt_bondage,
            "instrument_on_mfi_points_per_sd": p.effects.instrument_on_mfi,
            "instrument_direct_effect": p.effects.instrument_direct_effect,
            "instrument": "mfi_branches_per_1000hh (standardised by synth.credit "
            "branch_density_mean / branch_density_sd); valid when instrument_direct_effect == 0",
            "confounder": "household distress factor, constant over waves, not published",
        },
        "intercepts": {"wave_1": w1.intercepts, "wave_2": w2.intercepts},
        "sample": {
            "n_households_wave_1": int(hh.n),
            "n_households_wave_2": int((~assign.attrited).sum()),
            "n_attrited": int(assign.attrited.sum()),
            "n_programme": int(assign.programme.sum()),
        },
        "params": p.model_dump(mode="json", exclude={"scenarios"}),
        **(
            {"programme_indicators": programme_indicator_truth(households_w2, p)}
            if households_w2 is not None
            else {}
        ),
    }
