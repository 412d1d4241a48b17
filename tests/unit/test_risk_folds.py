"""PSU-grouped folds, the Rao-Wu bootstrap factors and the weighted classifier pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from risk_factory import psu_key, simulate_panel

from ctip_research.risk.bootstrap import rao_wu_factors
from ctip_research.risk.classifier import (
    ClassifierSpec,
    build_classifier,
    fit_classifier,
    make_design_matrix,
    predict_risk,
    transformed_columns,
)
from ctip_research.risk.folds import PsuStratifiedGroupKFold, make_psu_folds, psu_keys

FEATURES = (
    "has_mfi_loan_w1",
    "total_debt_usd_w1",
    "debt_service_to_income_ratio_w1",
    "has_migrant_w1",
    "household_size_w1",
)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(seed=1)


def _folds(panel: pd.DataFrame, seed: int = 7, n_splits: int = 5):
    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    return make_psu_folds(y, panel["psu_id"], panel["stratum_id"], n_splits=n_splits, seed=seed)


def test_folds_never_split_a_village(panel) -> None:
    village = psu_key(panel).to_numpy()
    folds = _folds(panel)
    for train, test in folds:
        assert not set(village[train]) & set(village[test])
    test_idx = np.concatenate([t for _, t in folds])
    assert np.array_equal(np.sort(test_idx), np.arange(len(panel)))


def test_folds_treat_a_village_code_repeated_across_strata_as_different_villages(panel) -> None:
    # psu codes repeat across strata in the simulated design; a code alone would give 6 groups
    assert panel["psu_id"].nunique() < 10 < psu_key(panel).nunique()
    folds = _folds(panel, n_splits=10)
    assert len(folds) == 10


def test_folds_are_stratified_by_the_outcome(panel) -> None:
    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    rates = [y[test].mean() for _, test in _folds(panel)]
    assert max(rates) - min(rates) < 0.06


def test_folds_are_reproducible_from_the_seed(panel) -> None:
    a, b, c = _folds(panel, seed=3), _folds(panel, seed=3), _folds(panel, seed=4)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, c, strict=True))


def test_splitter_folds_are_sklearns_stratified_group_kfold_on_psu_keys(panel) -> None:
    # reference: scikit-learn's StratifiedGroupKFold itself, on the PSU keys nested in strata
    from sklearn.model_selection import StratifiedGroupKFold

    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    groups = psu_keys(panel["psu_id"], panel["stratum_id"])
    assert np.array_equal(groups, pd.factorize(psu_key(panel), sort=True)[0])
    ref = StratifiedGroupKFold(5, shuffle=True, random_state=7).split(
        np.zeros((len(y), 1)), y, groups
    )
    ours = PsuStratifiedGroupKFold(5, random_state=7).split(panel, y, groups)
    for (tr, te), (rtr, rte), (mtr, mte) in zip(ours, ref, _folds(panel), strict=True):
        assert np.array_equal(tr, rtr) and np.array_equal(te, rte)
        assert np.array_equal(tr, mtr) and np.array_equal(te, mte)


def test_splitter_serves_as_cv_of_sklearn_model_selection(panel) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    X = panel[["household_size_w1"]].fillna(0.0).to_numpy()
    cv = PsuStratifiedGroupKFold(4, random_state=3)
    groups = psu_keys(panel["psu_id"], panel["stratum_id"])
    scores = cross_val_score(LogisticRegression(), X, y, groups=groups, cv=cv, scoring="roc_auc")
    assert scores.shape == (4,) and cv.get_n_splits() == 4
    assert "PsuStratifiedGroupKFold(n_splits=4, random_state=3)" == repr(cv)
    with pytest.raises(ValueError, match="PSU groups"):
        next(cv.split(X, y))


def test_too_few_villages_for_the_folds_is_an_error() -> None:
    with pytest.raises(ValueError, match="3 PSUs cannot be split into 5"):
        make_psu_folds([0, 1, 0, 1, 0, 1], [1, 1, 2, 2, 3, 3], [1] * 6, n_splits=5, seed=0)


def test_rao_wu_factors_are_constant_within_a_village_and_sum_to_n_psu_per_stratum(panel) -> None:
    f = rao_wu_factors(panel["psu_id"], panel["stratum_id"], seed=9)
    by_village = pd.Series(f).groupby(psu_key(panel).to_numpy())
    assert (by_village.nunique() == 1).all()
    per_psu = by_village.first()
    stratum = per_psu.index.str.split("/").str[0]
    n_h = per_psu.groupby(stratum).size()
    # m_h = n_h - 1 draws, each worth n_h / (n_h - 1): the factors of a stratum sum to n_h
    np.testing.assert_allclose(per_psu.groupby(stratum).sum(), n_h)
    assert (per_psu == 0).any()


def test_rao_wu_keeps_single_village_strata_at_factor_one() -> None:
    f = rao_wu_factors(["a", "a", "b", "c"], ["s1", "s1", "s2", "s2"], seed=0)
    assert f[:2].tolist() == [1.0, 1.0]
    assert sorted(f[2:].tolist()) == [0.0, 2.0]


# Pipeline ----------------------------------------------------------------------------------------


def _spec(kind: str = "logistic") -> ClassifierSpec:
    hyper = {"C": 1.0} if kind == "logistic" else {"max_iter": 20}
    return ClassifierSpec(
        kind, FEATURES, ("province_code",), log=("total_debt_usd_w1",), hyper=hyper, seed=2
    )  # type: ignore[arg-type]


def test_pipeline_prepares_a_pandas_frame_with_indicators_and_one_hot(panel) -> None:
    X = make_design_matrix(panel, _spec())
    y = panel["has_risky_migration_w2"].astype(int)
    model = fit_classifier(build_classifier(_spec()), X, y)
    Z = model.named_steps["prepare"].transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert "num__missingindicator_debt_service_to_income_ratio_w1" in Z.columns
    assert transformed_columns(model, "province_code") == [
        f"cat__province_code_{p}" for p in sorted(map(str, panel["province_code"].unique()))
    ]
    assert not Z.isna().any().any()


@pytest.mark.parametrize("kind", ["logistic", "gradient_boosting"])
def test_survey_weights_reach_the_model_step(panel, kind) -> None:
    X = make_design_matrix(panel, _spec(kind))
    y = panel["has_risky_migration_w2"].astype(int)
    w = panel["weight_household"].to_numpy()
    unweighted = predict_risk(fit_classifier(build_classifier(_spec(kind)), X, y), X)
    weighted = predict_risk(fit_classifier(build_classifier(_spec(kind)), X, y, sample_weight=w), X)
    rescaled = predict_risk(
        fit_classifier(build_classifier(_spec(kind)), X, y, sample_weight=1000 * w), X
    )
    assert np.abs(weighted - unweighted).max() > 1e-3
    # weights are normalised to mean 1: the population total does not change the fit
    np.testing.assert_allclose(weighted, rescaled, rtol=1e-6, atol=1e-9)


def test_design_matrix_turns_nullable_booleans_into_floats_with_nan() -> None:
    df = pd.DataFrame({"b": pd.array([True, None, False], dtype="boolean"), "p": [1, 2, 1]})
    X = make_design_matrix(df, ClassifierSpec("logistic", ("b",), ("p",)))
    assert X["b"].tolist()[0] == 1.0 and np.isnan(X["b"].tolist()[1])
    assert X["p"].tolist() == ["1", "2", "1"]


def test_design_matrix_names_missing_predictors() -> None:
    with pytest.raises(KeyError, match="not_there"):
        make_design_matrix(pd.DataFrame({"x": [1.0]}), ClassifierSpec("logistic", ("not_there",)))
