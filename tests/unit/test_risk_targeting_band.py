"""The village-bootstrap band of the targeting curve (intervals are always shown).

The band is the pointwise percentile interval of the share reached over the same Rao-Wu PSU
bootstrap replicates as the metrics' intervals; the expected curves of a perfect and of a random
score follow from the definition of the curve (``share_reached`` docstring: random targeting
reaches the share served, a perfect score ``min(1, share / prevalence)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_factory import SPEC, simulate_panel

from ctip_research.disclosure import DisclosurePolicy
from ctip_research.errors import DisclosureError
from ctip_research.reporting.figures import build_targeting_figure
from ctip_research.risk.classifier import build_classifier, make_design_matrix
from ctip_research.risk.evaluate import RiskEvaluation, evaluate_classifier
from ctip_research.risk.folds import CrossValidation, cross_validate_weighted, make_psu_folds
from ctip_research.risk.metrics import share_reached, targeting_curve

SHARES = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]


def _evaluate_scores(
    scores: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    design: pd.DataFrame,
    *,
    shares: list[float],
    n_bootstrap: int,
    n_jobs: int = 1,
    subgroups: pd.DataFrame | None = None,
) -> RiskEvaluation:
    """Evaluate given out-of-fold scores (no fold models: permutation importance is skipped)."""
    cv = CrossValidation(
        scores=np.asarray(scores, dtype=float),
        fold=np.zeros(y.size, dtype=np.intp),
        models=[],
        folds=[],
    )
    return evaluate_classifier(
        cv,
        pd.DataFrame(index=range(y.size)),
        y,
        w,
        psu=design["psu_id"],
        stratum=design["stratum_id"],
        subgroups=subgroups,
        classifier="given",
        top_share=0.2,
        shares=shares,
        n_bins=4,
        n_bins_subgroup=2,
        n_bootstrap=n_bootstrap,
        ci_level=0.95,
        policy=BAND_POLICY,
        seed=3,
        n_permutation_repeats=0,
        n_jobs=n_jobs,
    )


#: The band's arithmetic is tested on every point, small ones included: nothing of these
#: evaluations is published (the disclosure rules are tested with the default policy below).
BAND_POLICY = DisclosurePolicy(
    min_cell_count=0,
    min_cell_count_trafficking=0,
    reliability_suppress_below=0,
    reliability_flag_below=0,
    override_reason="tests of the band's arithmetic; nothing here is published",
)


def _fitted(panel: pd.DataFrame, *, n_jobs: int) -> RiskEvaluation:
    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    w = panel["weight_household"].to_numpy()
    X = make_design_matrix(panel, SPEC)
    folds = make_psu_folds(y, panel["psu_id"], panel["stratum_id"], n_splits=4, seed=5)
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
        shares=SHARES,
        n_bins=5,
        n_bins_subgroup=2,
        n_bootstrap=61,  # not a multiple of the workers: chunks of unequal size
        ci_level=0.9,
        policy=DisclosurePolicy(),
        seed=5,
        n_permutation_repeats=0,
        n_jobs=n_jobs,
    )


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    # 7 households with head_is_female missing: a subgroup cell too small to publish
    return simulate_panel(seed=2, n_tiny_group=7)


@pytest.fixture(scope="module")
def evaluation(panel) -> RiskEvaluation:
    return _fitted(panel, n_jobs=1)


def _balanced_design(n_psu: int = 40, per_psu: int = 10, seed: int = 4) -> pd.DataFrame:
    """Villages with 2 risky households out of 10 and one weight per village: every bootstrap
    replicate has a weighted prevalence of exactly 0.2."""
    rng = np.random.default_rng(seed)
    psu = np.repeat(np.arange(n_psu), per_psu)
    y = np.tile(np.r_[np.ones(2), np.zeros(per_psu - 2)], n_psu).astype(int)
    return pd.DataFrame(
        {
            "psu_id": psu,
            "stratum_id": psu % 4,
            "y": y,
            "w": rng.uniform(50, 500, n_psu)[psu],
        }
    )


# The curve the band is built on ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
            st.lists(st.integers(0, 5), min_size=n, max_size=n),
            st.lists(st.integers(1, 5), min_size=n, max_size=n),
        )
    ),
    st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6),
)
def test_curve_equals_the_served_fraction_rule_with_ties(sample, shares) -> None:
    y, s, w = (np.asarray(a) for a in sample)
    y[0] = 1  # at least one risky household
    curve = targeting_curve(y, s / 5.0, w.astype(float), shares=shares)
    expected = [share_reached(y, s / 5.0, w.astype(float), k) for k in shares]
    np.testing.assert_allclose(curve["share_reached"], expected, rtol=0, atol=1e-12)


# The band ----------------------------------------------------------------------------------------


def test_band_contains_the_point_estimate_at_every_share(evaluation) -> None:
    shown = evaluation.targeting[~evaluation.targeting["is_suppressed"]]
    assert len(shown) >= len(SHARES) * 5
    assert shown[["conf_low", "conf_high"]].notna().all(axis=None)
    assert (shown["conf_low"] <= shown["share_reached"] + 1e-12).all()
    assert (shown["share_reached"] <= shown["conf_high"] + 1e-12).all()
    overall = shown[shown["subgroup"] == "overall"]
    assert (overall["conf_high"] - overall["conf_low"]).iloc[:-1].gt(0).all()
    # serving everyone reaches everyone: with no risky household left unreached (a complement
    # under the minimum) the last point is not published; its band is (1, 1) by construction,
    # which the perfect-score tests check on unsuppressed points
    last = evaluation.targeting.query("subgroup == 'overall'").iloc[-1]
    assert last["share_served"] == 1.0 and bool(last["is_suppressed"])


def test_band_at_the_headline_share_is_the_headline_interval(evaluation) -> None:
    # the same replicates give the top-20% metric's interval and the curve's band at 20%
    cell = evaluation.cells.iloc[0]
    row = evaluation.targeting.query("subgroup == 'overall' and share_served == 0.2").iloc[0]
    assert row["conf_low"] == pytest.approx(cell["top_share_reached_low"], abs=1e-12)
    assert row["conf_high"] == pytest.approx(cell["top_share_reached_high"], abs=1e-12)
    assert row["share_reached"] == pytest.approx(cell["top_share_reached"], abs=1e-12)


def test_perfect_score_band_is_degenerate_at_the_perfect_curve_when_prevalence_is_fixed() -> None:
    d = _balanced_design()
    y, w = d["y"].to_numpy(), d["w"].to_numpy()
    rng = np.random.default_rng(0)
    # every risky household ranked above every other one (no ties)
    scores = np.where(y == 1, 0.6 + 0.4 * rng.random(y.size), 0.4 * rng.random(y.size))
    shares = [0.05, 0.1, 0.15, 0.2, 0.3, 0.6, 1.0]
    tgt = _evaluate_scores(scores, y, w, d, shares=shares, n_bootstrap=50).targeting
    perfect = np.minimum(np.asarray(shares) / 0.2, 1.0)
    assert not tgt["is_suppressed"].any()
    np.testing.assert_allclose(tgt["share_reached"], perfect, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tgt["conf_low"], perfect, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tgt["conf_high"], perfect, rtol=0, atol=1e-12)


def test_perfect_score_band_reflects_the_prevalence_below_it(panel) -> None:
    # with village prevalences that differ, the perfect curve k / prevalence varies between
    # replicates below the prevalence, and is 1 in every replicate well above it
    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    w = panel["weight_household"].to_numpy()
    tgt = _evaluate_scores(
        y.astype(float), y, w, panel, shares=[0.05, 0.1, 0.9], n_bootstrap=40
    ).targeting.set_index("share_served")
    prevalence = np.sum(w * y) / w.sum()
    assert 0.1 < prevalence < 0.5
    assert tgt.loc[0.05, "conf_low"] < 0.05 / prevalence < tgt.loc[0.05, "conf_high"]
    assert (tgt.loc[0.9, "conf_low"], tgt.loc[0.9, "conf_high"]) == (1.0, 1.0)


def test_random_score_band_covers_the_diagonal_at_most_shares() -> None:
    d = simulate_panel(seed=8, n_psu=160, per_psu=12)
    y = d["has_risky_migration_w2"].astype(int).to_numpy()
    w = d["weight_household"].to_numpy()
    scores = np.random.default_rng(21).random(y.size)
    shares = [round(0.05 * i, 2) for i in range(1, 21)]
    tgt = _evaluate_scores(scores, y, w, d, shares=shares, n_bootstrap=100).targeting
    covered = (tgt["conf_low"] <= tgt["share_served"]) & (tgt["share_served"] <= tgt["conf_high"])
    # a 95% pointwise band of a score unrelated to the outcome: nearly every share covered
    assert covered.mean() >= 0.8
    assert (tgt["conf_high"] - tgt["conf_low"]).iloc[:-1].gt(0.01).all()


def test_band_does_not_depend_on_the_number_of_workers(panel, evaluation) -> None:
    for n_jobs in (2, 3):
        again = _fitted(panel, n_jobs=n_jobs)
        pd.testing.assert_frame_equal(again.targeting, evaluation.targeting, check_exact=True)


def test_suppressed_points_have_blank_intervals(evaluation) -> None:
    tgt = evaluation.targeting
    hidden = tgt[tgt["is_suppressed"]]
    # the 7-household 'missing' cell, and early points of small cells
    assert (hidden["group"] == "missing").any()
    assert hidden[["share_reached", "conf_low", "conf_high"]].isna().all(axis=None)


def test_a_suppressed_cell_shows_no_curve_value_even_as_a_complement(evaluation) -> None:
    # 'missing' (7 households) is suppressed, and one more female-head cell as its complement
    cells = evaluation.cells
    hidden = set(
        zip(
            cells.loc[cells["is_suppressed"], "subgroup"],
            cells.loc[cells["is_suppressed"], "group"],
            strict=True,
        )
    )
    assert ("head_is_female_w1", "missing") in hidden and len(hidden) >= 2
    for frame, cols in (
        (evaluation.targeting, ["share_reached", "share_reached_perfect", "precision", "conf_low"]),
        (evaluation.reliability, ["mean_predicted", "observed_rate"]),
    ):
        in_hidden = [k in hidden for k in zip(frame["subgroup"], frame["group"], strict=True)]
        rows = frame[in_hidden]
        assert len(rows) > 0 and rows["is_suppressed"].all()
        assert rows[cols].isna().all(axis=None)


# The figure -------------------------------------------------------------------------------------


def test_figure_blanks_the_band_of_a_point_it_suppresses_and_names_the_band() -> None:
    curve = pd.DataFrame(
        {
            "share_served": [0.01, 0.2, 0.5, 1.0],
            "share_reached": [0.05, 0.5, 0.85, 1.0],
            "conf_low": [0.01, 0.42, 0.8, 1.0],
            "conf_high": [0.1, 0.58, 0.9, 1.0],
            "n_served": [8, 300, 750, 1500],
            "n_reached": [3, 90, 150, 180],
        }
    )
    ex = build_targeting_figure(
        curve, policy=DisclosurePolicy(), source="test", band_level=0.95, n_bootstrap=500
    )
    assert ex.record["passed"]
    first = ex.data.iloc[0]
    assert bool(first["is_suppressed"]) and np.isnan([first["conf_low"], first["conf_high"]]).all()
    assert ex.data[["conf_low", "conf_high"]].iloc[1:].notna().all(axis=None)
    assert "95% village-bootstrap band, B = 500" in ex.caption
    assert "village-bootstrap band" in ex.alt_text


def test_figure_refuses_an_upstream_curve_with_an_interval_on_a_suppressed_point() -> None:
    curve = pd.DataFrame(
        {
            "share_served": [0.05, 0.2],
            "share_reached": [np.nan, 0.5],
            "conf_low": [0.01, 0.42],
            "conf_high": [np.nan, 0.58],
            "is_suppressed": [True, False],
        }
    )
    with pytest.raises(DisclosureError, match="suppressed curve point"):
        build_targeting_figure(
            curve,
            policy=DisclosurePolicy(),
            source="test",
            upstream_record={"passed": True},
        )
