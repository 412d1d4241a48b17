"""Econometric models linking MFI debt to (risky) migration.

:mod:`~ctip_research.models.specs` (specs from ``params.yaml``),
:mod:`~ctip_research.models.results` (result objects), :mod:`~ctip_research.models.design_based`
(models 1-2 on the survey design), :mod:`~ctip_research.models.econometric` (fixed effects, IV,
panel), :mod:`~ctip_research.models.programme` (balance, DiD, adjusted estimator),
:mod:`~ctip_research.models.robustness` (alternative measures, multiple testing),
:mod:`~ctip_research.models.tables` (etable-style tables), :mod:`~ctip_research.models.validation`
(estimates against the synthetic truth) and :func:`~ctip_research.models.fitting.fit_model`.
The risk-screening classifier and its evaluation are :mod:`ctip_research.risk`. Submodules are
imported on use, so that importing the package stays cheap.
"""
