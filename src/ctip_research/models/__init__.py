"""Econometric models linking MFI debt to (risky) migration, and the risk-screening models.

Econometric part: :mod:`~ctip_research.models.specs` (specs from ``params.yaml``),
:mod:`~ctip_research.models.results` (result objects), :mod:`~ctip_research.models.design_based`
(models 1-2 on the survey design), :mod:`~ctip_research.models.econometric` (fixed effects, IV,
panel), :mod:`~ctip_research.models.programme` (balance, DiD, adjusted estimator),
:mod:`~ctip_research.models.robustness` (alternative measures, multiple testing),
:mod:`~ctip_research.models.tables` (etable-style tables), :mod:`~ctip_research.models.validation`
(estimates against the synthetic truth) and :func:`~ctip_research.models.fitting.fit_model`.
Risk-screening part: :mod:`~ctip_research.models.classify`, :mod:`~ctip_research.models.evaluate`,
:mod:`~ctip_research.models.model_card`. Submodules are imported on use, so that importing the package stays cheap.
"""
