"""The calibrated synthetic two-wave survey (the embedded default data) and its ground truth.

>>> from ctip_research.synth import generate_survey  # doctest: +SKIP
>>> survey = generate_survey(params.synth)  # doctest: +SKIP
>>> survey.households, survey.members, survey.loans, survey.migration_episodes  # doctest: +SKIP
>>> survey.truth["estimands"]["mfi_international_migration"]["wave_1"]["ate_weighted"]  # doctest: +SKIP

See ``docs/synthetic.md`` for the model, the calibration and the estimands.
"""

from ctip_research.synth.generate import DEMO_HMAC_KEY, SyntheticSurvey, generate_survey

__all__ = ["DEMO_HMAC_KEY", "SyntheticSurvey", "generate_survey"]
