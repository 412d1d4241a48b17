"""``risk``: parameters of the ``ctip risk`` stage (risk-screening classifier and its evaluation)."""

from __future__ import annotations

from pydantic import Field, model_validator

from ctip_research.config.base import Section
from ctip_research.literals import ClassifierKind


class LogisticParams(Section):
    """Ridge (L2) regularised logistic regression."""

    c: float = Field(
        gt=0,
        description="Inverse regularisation strength C of sklearn's LogisticRegression (weights are "
        "normalised to mean 1 before fitting, so C does not depend on the population size).",
    )
    max_iter: int = Field(ge=10, description="Maximum solver iterations (lbfgs).")


class GradientBoostingParams(Section):
    """sklearn HistGradientBoostingClassifier settings (early stopping is always off)."""

    learning_rate: float = Field(gt=0, le=1, description="Shrinkage.")
    max_iter: int = Field(ge=1, description="Number of boosting iterations.")
    max_leaf_nodes: int = Field(ge=2, description="Maximum leaves per tree.")
    min_samples_leaf: int = Field(ge=1, description="Minimum (unweighted) households per leaf.")
    l2_regularization: float = Field(ge=0, description="L2 penalty on leaf values.")


class RiskParams(Section):
    """Parameters of the ``risk`` stage (``docs/risk-model.md``)."""

    outcome: str = Field(description="Binary wave-2 outcome column of the panel table.")
    weight: str = Field(description="Survey weight column (wave-1 design weight).")
    psu: str = Field(description="PSU (village) column; CV folds and bootstrap resample PSUs.")
    stratum: str = Field(description="Stratum column; PSU ids are nested within strata.")
    features: list[str] = Field(
        min_length=1, description="Wave-1 predictor columns of the panel (numeric or boolean)."
    )
    log_features: list[str] = Field(
        description="Subset of `features` transformed with log1p (money, counts with long tails)."
    )
    categorical_features: list[str] = Field(
        description="Categorical predictor columns (one-hot encoded), e.g. province_code."
    )
    classifier: ClassifierKind = Field(description="The model evaluated in full and carded.")
    compare_classifiers: list[ClassifierKind] = Field(
        description="Further models evaluated on the same folds (headline metrics only)."
    )
    logistic: LogisticParams = Field(description="Settings of the logistic model.")
    gradient_boosting: GradientBoostingParams = Field(description="Settings of the boosting model.")
    cv_folds: int = Field(ge=2, description="Number of PSU-grouped, outcome-stratified CV folds.")
    seed: int = Field(ge=0, description="Seed of folds, models, bootstrap and permutations.")
    n_bootstrap: int = Field(ge=10, description="Rao-Wu PSU bootstrap replicates for intervals.")
    ci_level: float = Field(gt=0, lt=1, description="Level of the percentile bootstrap intervals.")
    reliability_bins: int = Field(ge=2, description="Equal-count bins of the reliability curve.")
    reliability_bins_subgroup: int = Field(
        ge=2, description="Equal-count bins of the reliability curve within each subgroup cell."
    )
    targeting_step: float = Field(
        gt=0, le=0.5, description="Grid step of the share of households served (targeting curve)."
    )
    top_share: float = Field(
        gt=0, lt=1, description="Headline share served (top k of households by score), e.g. 0.2."
    )
    n_permutation_repeats: int = Field(ge=1, description="Repeats of permutation importance.")
    subgroups: list[str] = Field(
        description="Columns defining the subgroups every metric is also reported by."
    )
    n_jobs: int = Field(
        ge=1, description="joblib workers of the bootstrap (results do not depend on it)."
    )
    save_model: bool = Field(
        description="Save the model refitted on all households to data/interim/risk/ (never published)."
    )

    @model_validator(mode="after")
    def _check_lists(self) -> RiskParams:
        unknown = sorted(set(self.log_features) - set(self.features))
        if unknown:
            raise ValueError(f"log_features not in features: {unknown}")
        overlap = sorted(set(self.features) & set(self.categorical_features))
        if overlap:
            raise ValueError(f"columns both numeric and categorical: {overlap}")
        return self
