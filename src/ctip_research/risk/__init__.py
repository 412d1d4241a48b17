"""Risk screening: a classifier that ranks households by their risk of risky migration, and its
survey-aware evaluation.

- :mod:`~ctip_research.risk.classifier`: the scikit-learn pipeline from wave-1 features to a
  risk score, fitted with survey weights;
- :mod:`~ctip_research.risk.folds`: folds grouped by PSU and stratified by the outcome
  (:class:`~ctip_research.risk.folds.PsuStratifiedGroupKFold`, a scikit-learn cross-validator)
  and the weighted cross-validation loop;
- :mod:`~ctip_research.risk.metrics`: weighted ranking metrics, targeting and reliability curves;
- :mod:`~ctip_research.risk.bootstrap`: the Rao-Wu bootstrap of PSUs within strata;
- :mod:`~ctip_research.risk.importance`: permutation importance on the out-of-fold predictions;
- :mod:`~ctip_research.risk.evaluate`: the evaluation (metrics with intervals overall and per
  subgroup cell, curves, importance), its cells, bins and curve points gated by the disclosure
  authority (:func:`ctip_research.disclosure.disclose`);
- :mod:`~ctip_research.risk.model_card`: the model card rendered from the evaluation.

Submodules are imported on use, so that importing the package stays cheap. The scores are
screening scores for groups of households, never labels for individuals.
"""
