"""The calibrated synthetic two-wave survey (the embedded default data) and its ground truth.

``generate_survey(params.synth)`` returns the canonical tables (``survey.households``,
``survey.members``, ``survey.loans``, ``survey.migration_episodes``) and the ground truth
(``survey.truth["estimands"]["mfi_international_migration"]["wave_1"]["ate_weighted"]``);
:func:`~ctip_research.synth.generate.generate_survey` has a runnable example.

See ``docs/synthetic.md`` for the model, the calibration and the estimands.
"""

from ctip_research.synth.generate import DEMO_HMAC_KEY, SyntheticSurvey, generate_survey

__all__ = ["DEMO_HMAC_KEY", "SyntheticSurvey", "generate_survey"]
