"""The survey-aware evaluation: suppression of small cells (by the disclosure authority),
intervals, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from risk_factory import SPEC, simulate_panel

from ctip_research.disclosure import DisclosurePolicy
from ctip_research.risk.classifier import build_classifier, make_design_matrix
from ctip_research.risk.evaluate import RiskEvaluation, evaluate_classifier
from ctip_research.risk.folds import cross_validate_weighted, make_psu_folds
from ctip_research.risk.metrics import METRICS, weighted_roc_auc

POLICY = DisclosurePolicy()


def _evaluate(
    panel: pd.DataFrame, *, seed: int = 5, n_jobs: int = 1, repeats: int = 2, n_bootstrap: int = 60
) -> RiskEvaluation:
    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    w = panel["weight_household"].to_numpy()
    X = make_design_matrix(panel, SPEC)
    folds = make_psu_folds(y, panel["psu_id"], panel["stratum_id"], n_splits=4, seed=seed)
    cv = cross_validate_weighted(build_classifier(SPEC), X, y, w, folds)
    return evaluate_classifier(
        cv,
        X,
        y,
        w,
        psu=panel["psu_id"],
        stratum=panel["stratum_id"],
        subgroups=panel[["province_code", "head_is_female_w1"]],
        classifier="logistic",
        top_share=0.2,
        shares=[0.1, 0.2, 0.5, 1.0],
        n_bins=5,
        n_bins_subgroup=2,
        n_bootstrap=n_bootstrap,
        ci_level=0.9,
        policy=POLICY,
        seed=seed,
        n_permutation_repeats=repeats,
        n_jobs=n_jobs,
    )


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    # 7 households with head_is_female missing: a "missing" cell too small to publish
    return simulate_panel(seed=2, n_tiny_group=7)


@pytest.fixture(scope="module")
def evaluation(panel) -> RiskEvaluation:
    return _evaluate(panel)


# Suppression -------------------------------------------------------------------------------------


def test_every_subgroup_line_has_zero_or_at_least_two_suppressed_cells(evaluation) -> None:
    cells = evaluation.cells
    for sub, line in cells[cells["subgroup"] != "overall"].groupby("subgroup"):
        # each subgroup's cells and the overall cell (the margin) form an additive line
        n_sup = int(line["is_suppressed"].sum()) + int(cells["is_suppressed"].iloc[0])
        assert n_sup != 1, sub


def test_the_evaluation_keeps_the_authority_records(evaluation) -> None:
    assert set(evaluation.records) == {
        "subgroup_cells",
        "reliability",
        "targeting_reached",
        "targeting_precision",
    }
    assert all(r["passed"] and r["override_reason"] is None for r in evaluation.records.values())
    assert evaluation.records["subgroup_cells"]["n_suppressed"] == int(
        evaluation.cells["is_suppressed"].sum()
    )


def test_small_subgroup_cell_is_suppressed_in_every_output(evaluation) -> None:
    cells = evaluation.cells.set_index(["subgroup", "group"])
    assert cells.loc[("head_is_female_w1", "missing"), "is_suppressed"]
    # complementary suppression: the smaller of the two remaining cells goes too
    assert cells.loc[("head_is_female_w1", "True"), "is_suppressed"]
    assert not cells.loc[("head_is_female_w1", "False"), "is_suppressed"]
    assert cells.loc[("head_is_female_w1", "missing"), list(METRICS)].isna().all()
    for frame in (evaluation.reliability, evaluation.targeting):
        sub = frame[(frame["subgroup"] == "head_is_female_w1") & (frame["group"] == "missing")]
        assert len(sub) and sub["is_suppressed"].all()
    imp = evaluation.importance
    assert not ((imp["subgroup"] == "head_is_female_w1") & (imp["group"] == "missing")).any()
    summary = evaluation.to_dict()["by_subgroup"]["head_is_female_w1"]["missing"]
    assert set(summary) == {"suppressed"}


def test_no_published_cell_rests_on_fewer_than_the_minimum(evaluation) -> None:
    shown = evaluation.cells[~evaluation.cells["is_suppressed"]]
    assert (shown[["n_households", "n_positive", "n_negative"]].min(axis=1) >= 10).all()
    assert (shown["n_households"] >= POLICY.reliability_suppress_below).all()
    rel = evaluation.reliability[~evaluation.reliability["is_suppressed"]]
    assert (rel[["n_households", "n_positive", "n_negative"]].min(axis=1) >= 10).all()
    assert rel["observed_rate"].notna().all()
    tgt = evaluation.targeting[~evaluation.targeting["is_suppressed"]]
    assert ((tgt["n_served"] >= 10) & (tgt["n_reached"] >= 10)).all()
    # complements: served but not risky, and risky but not reached
    assert (tgt["n_served"] - tgt["n_reached"] >= 10).all()


# Point estimates and intervals -------------------------------------------------------------------


def test_overall_metrics_are_the_weighted_metrics_of_the_out_of_fold_scores(panel) -> None:
    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    w = panel["weight_household"].to_numpy()
    X = make_design_matrix(panel, SPEC)
    folds = make_psu_folds(y, panel["psu_id"], panel["stratum_id"], n_splits=4, seed=5)
    cv = cross_validate_weighted(build_classifier(SPEC), X, y, w, folds)
    overall = _evaluate(panel, repeats=0, n_bootstrap=20).cells.iloc[0]
    assert overall["roc_auc"] == pytest.approx(weighted_roc_auc(y, cv.scores, w))
    assert overall["prevalence"] == pytest.approx(np.sum(w * y) / w.sum())
    assert overall["top_share_lift"] == pytest.approx(overall["top_share_reached"] / 0.2)


def test_intervals_bracket_the_estimates_and_the_model_beats_chance(evaluation) -> None:
    shown = evaluation.cells[~evaluation.cells["is_suppressed"]]
    for m in ("roc_auc", "brier", "top_share_reached"):
        assert (shown[f"{m}_low"] <= shown[f"{m}_high"]).all()
    overall = evaluation.cells.iloc[0]
    assert overall["roc_auc_low"] <= overall["roc_auc"] <= overall["roc_auc_high"]
    assert overall["roc_auc_low"] > 0.5
    assert overall["top_share_reached"] > 0.2


def test_permutation_importance_ranks_the_informative_predictor_first(evaluation) -> None:
    imp = evaluation.importance.query("subgroup == 'overall'").set_index("feature")
    # the simulated outcome depends on migration and MFI debt, not on household size
    assert imp["importance_mean"].idxmax() in {"has_migrant_w1", "has_mfi_loan_w1"}
    assert (
        imp.loc["has_migrant_w1", "importance_mean"]
        > imp.loc["household_size_w1", "importance_mean"]
    )


def test_tidy_has_one_row_per_cell_and_metric(evaluation) -> None:
    tidy = evaluation.tidy()
    assert len(tidy) == len(evaluation.cells) * len(METRICS)
    assert list(tidy.columns) == [
        "subgroup",
        "group",
        "metric",
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
        "n_households",
        "is_suppressed",
    ]
    assert evaluation.glance().loc[0, "n_psu"] == 96


# Determinism -------------------------------------------------------------------------------------


def test_same_seed_gives_identical_results_whatever_the_number_of_workers(
    panel, evaluation
) -> None:
    again = _evaluate(panel, n_jobs=2)
    assert again.to_dict() == evaluation.to_dict()
    pd.testing.assert_frame_equal(again.importance, evaluation.importance)


def test_another_seed_changes_the_intervals(panel, evaluation) -> None:
    other = _evaluate(panel, seed=6, repeats=0)
    assert other.cells.iloc[0]["roc_auc_low"] != evaluation.cells.iloc[0]["roc_auc_low"]
