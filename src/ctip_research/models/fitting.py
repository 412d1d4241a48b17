"""One entry point for every regression kind: :func:`fit_model` dispatches a spec to its estimator."""

from __future__ import annotations

import pandas as pd

from ctip_research.config.fit import DesignParams
from ctip_research.models.results import RegressionResult
from ctip_research.models.specs import ModelSpec, SpecError

__all__ = ["PANEL_KINDS", "fit_model"]

#: Kinds fitted on the wide ``panel.parquet`` table; the others use ``household_wave.parquet``.
PANEL_KINDS = ("did", "programme_adjusted")


def fit_model(
    data: pd.DataFrame,
    spec: ModelSpec,
    *,
    design: DesignParams,
    alpha: float = 0.05,
    programme_method: str = "ancova",
) -> RegressionResult:
    """Fit ``spec`` on ``data`` (household-wave table, or the panel table for :data:`PANEL_KINDS`).

    Examples
    --------
    >>> from ctip_research.models.simulate import simulate_households
    >>> from ctip_research.config.fit import DesignParams, ModelSpec
    >>> df = simulate_households(n_villages=30, households_per_village=6, seed=1)
    >>> spec = ModelSpec(name="ols", kind="fixed_effects", label="OLS",
    ...     outcome="has_international_migrant", exposure="has_mfi_loan", controls=[],
    ...     fixed_effects=[], cluster="psu_id", weights=None, wave=1, sample=None,
    ...     instruments=[], link=None, headline=True)
    >>> d = DesignParams(weight="weight_household", strata=None, psu="psu_id", fpc=None,
    ...                  lonely_psu="adjust")
    >>> fit_model(df, spec, design=d).n_obs
    180
    """
    from ctip_research.models import econometric, programme

    if spec.kind == "fixed_effects":
        return econometric.fit_fixed_effects(data, spec, alpha=alpha)
    if spec.kind == "iv":
        return econometric.fit_iv(data, spec, alpha=alpha)
    if spec.kind == "panel":
        return econometric.fit_panel(data, spec, alpha=alpha)
    if spec.kind == "survey_glm":
        from ctip_research.models.design_based import fit_survey_glm_model

        return fit_survey_glm_model(data, spec, design, alpha=alpha)
    if spec.kind == "did":
        return programme.fit_did(data, spec, alpha=alpha)
    if spec.kind == "programme_adjusted":
        return programme.fit_programme_adjusted(data, spec, method=programme_method, alpha=alpha)
    raise SpecError(f"model {spec.name}: kind {spec.kind} is not a regression")
