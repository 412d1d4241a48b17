"""Weighted screening metrics: hand computations, sklearn as reference, targeting curves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from ctip_research.risk.metrics import (
    reliability_curve,
    served_fraction,
    share_reached,
    targeting_curve,
    weighted_average_precision,
    weighted_brier,
    weighted_roc_auc,
)


@st.composite
def scored_sample(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary outcome with both classes, scores with ties, positive integer weights."""
    n = draw(st.integers(min_value=2, max_value=40))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y[0], y[1] = 0, 1
    s = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))) / 6.0
    w = np.array(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)), dtype=float)
    return y, s, w


# Hand computations ------------------------------------------------------------------------------


def test_weighted_auc_matches_hand_computation_of_pairs() -> None:
    # positives (0.9, w=1) and (0.4, w=2); negatives (0.5, w=3) and (0.1, w=1).
    # correctly ordered pair weights: 0.9>0.5: 1*3, 0.9>0.1: 1*1, 0.4>0.1: 2*1 -> 6 of 3*4 = 12
    y, s, w = [1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1], [1, 2, 3, 1]
    assert weighted_roc_auc(y, s, w) == pytest.approx(6 / 12)
    # unweighted: 3 of the 4 pairs are ordered correctly
    assert weighted_roc_auc(y, s) == pytest.approx(0.75)


def test_weighted_auc_counts_ties_as_half() -> None:
    assert weighted_roc_auc([1, 0], [0.5, 0.5], [2, 7]) == pytest.approx(0.5)


def test_weighted_average_precision_matches_hand_computation() -> None:
    # thresholds 0.9: P=1, R=0.5; 0.8: R unchanged; 0.3: P=2/(2+3), R=1 -> 0.5*1 + 0.5*0.4
    y, s, w = [1, 0, 1], [0.9, 0.8, 0.3], [1, 3, 1]
    assert weighted_average_precision(y, s, w) == pytest.approx(0.7)
    # unweighted: P at 0.3 is 2/3
    assert weighted_average_precision(y, s) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_weighted_brier_matches_hand_computation() -> None:
    # (3 * 0.2^2 + 1 * 0.4^2) / 4
    assert weighted_brier([0, 1], [0.2, 0.6], [3, 1]) == pytest.approx(0.07)


def test_auc_is_nan_when_a_class_has_no_weight() -> None:
    assert np.isnan(weighted_roc_auc([1, 0, 1], [0.3, 0.2, 0.1], [1, 0, 1]))


def test_metrics_reject_non_binary_outcome() -> None:
    with pytest.raises(ValueError, match="binary"):
        weighted_roc_auc([0, 2], [0.1, 0.2])


# References: sklearn with sample_weight, and weights as replication ------------------------------


@settings(max_examples=60, deadline=None)
@given(scored_sample())
def test_weighted_auc_equals_sklearn_roc_auc_score_with_sample_weight(sample) -> None:
    y, s, w = sample
    assert weighted_roc_auc(y, s, w) == pytest.approx(roc_auc_score(y, s, sample_weight=w))


@settings(max_examples=60, deadline=None)
@given(scored_sample())
def test_weighted_pr_auc_equals_sklearn_average_precision_with_sample_weight(sample) -> None:
    y, s, w = sample
    expected = average_precision_score(y, s, sample_weight=w)
    assert weighted_average_precision(y, s, w) == pytest.approx(expected)


@settings(max_examples=50, deadline=None)
@given(scored_sample(), st.sampled_from([0.1, 0.2, 0.35, 0.5, 0.9]))
def test_integer_weights_equal_replicated_households(sample, share) -> None:
    y, s, w = sample
    reps = w.astype(int)
    y_rep, s_rep = np.repeat(y, reps), np.repeat(s, reps)
    assert weighted_roc_auc(y, s, w) == pytest.approx(weighted_roc_auc(y_rep, s_rep))
    assert weighted_average_precision(y, s, w) == pytest.approx(
        weighted_average_precision(y_rep, s_rep)
    )
    assert weighted_brier(y, s, w) == pytest.approx(weighted_brier(y_rep, s_rep))
    assert share_reached(y, s, w, share) == pytest.approx(share_reached(y_rep, s_rep, None, share))


def test_weighting_up_a_misranked_negative_lowers_auc() -> None:
    y, s = [1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1]
    aucs = [weighted_roc_auc(y, s, [1, 1, k, 1]) for k in (1, 2, 4, 8)]
    assert all(a > b for a, b in zip(aucs, aucs[1:], strict=False))


def test_metrics_do_not_depend_on_the_scale_of_the_weights() -> None:
    rng = np.random.default_rng(3)
    y, s, w = rng.integers(0, 2, 200), rng.random(200), rng.uniform(1, 9, 200)
    for f in (weighted_roc_auc, weighted_average_precision, weighted_brier):
        assert f(y, s, w) == pytest.approx(f(y, s, 4100.0 * w))


# Targeting curve ---------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(scored_sample(), st.floats(min_value=0.01, max_value=1.0))
def test_served_fraction_serves_exactly_the_share_of_weight(sample, share) -> None:
    _, s, w = sample
    frac = served_fraction(s, w, share)
    assert np.all((frac >= 0) & (frac <= 1))
    assert np.sum(frac * w) / np.sum(w) == pytest.approx(share)


@settings(max_examples=50, deadline=None)
@given(scored_sample(), st.floats(min_value=0.01, max_value=1.0))
def test_perfect_score_reaches_share_over_prevalence(sample, share) -> None:
    y, _, w = sample
    prevalence = np.sum(w * y) / np.sum(w)
    assert share_reached(y, y.astype(float), w, share) == pytest.approx(
        min(1.0, share / prevalence)
    )


@settings(max_examples=50, deadline=None)
@given(scored_sample(), st.floats(min_value=0.0, max_value=1.0))
def test_constant_score_reaches_exactly_the_share_served(sample, share) -> None:
    y, _, w = sample
    assert share_reached(y, np.full(y.size, 0.3), w, share) == pytest.approx(share)


def test_random_score_reaches_about_the_share_served() -> None:
    rng = np.random.default_rng(11)
    n = 40_000
    y = rng.binomial(1, 0.15, n)
    w = rng.uniform(100, 1500, n)
    curve = targeting_curve(y, rng.random(n), w, shares=[0.1, 0.2, 0.5, 0.8])
    # sd of the reached share is about sqrt(k(1-k)/n_pos) < 0.007 with 6,000 positives
    np.testing.assert_allclose(curve["share_reached"], curve["share_served"], atol=0.03)
    np.testing.assert_allclose(curve["share_reached_random"], curve["share_served"])


def test_targeting_curve_of_perfect_score_is_the_perfect_column() -> None:
    rng = np.random.default_rng(5)
    y = rng.binomial(1, 0.2, 500)
    w = rng.uniform(1, 5, 500)
    curve = targeting_curve(y, y.astype(float), w, shares=np.linspace(0.05, 1, 20))
    np.testing.assert_allclose(curve["share_reached"], curve["share_reached_perfect"])
    assert curve["share_reached"].iloc[-1] == pytest.approx(1.0)
    assert np.all(np.diff(curve["share_reached"]) >= -1e-12)


def test_targeting_curve_counts_households_served_and_reached() -> None:
    curve = targeting_curve([1, 1, 0, 0, 1], [0.9, 0.8, 0.7, 0.2, 0.1], None, shares=[0.4, 1.0])
    assert curve["n_served"].tolist() == [2, 5]
    assert curve["n_reached"].tolist() == [2, 3]
    assert curve["precision"].tolist() == pytest.approx([1.0, 0.6])


# Reliability curve -------------------------------------------------------------------------------


def test_reliability_curve_uses_equal_count_bins_and_weights() -> None:
    y = [0, 1, 0, 1, 1, 1]
    s = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8]
    w = [3, 1, 1, 1, 1, 2]
    rel = reliability_curve(y, s, w, n_bins=2)
    assert rel["n_households"].tolist() == [3, 3]
    # bin 1: weights 3, 1, 1 on outcomes 0, 1, 0 -> 1/5; predicted (0.3 + 0.2 + 0.3) / 5
    assert rel["observed_rate"].tolist() == pytest.approx([0.2, 1.0])
    assert rel["mean_predicted"].tolist() == pytest.approx([0.16, (0.6 + 0.7 + 1.6) / 4])
