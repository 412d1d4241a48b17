"""Survey design and design-based estimation (Taylor linearisation or jackknife).

>>> from ctip_research.survey import SurveyDesign  # doctest: +SKIP
>>> design = SurveyDesign(df, weight="weight_household", strata="stratum_id", psu="psu_id")  # doctest: +SKIP
>>> design.mean("has_migrant", by="province_code")  # doctest: +SKIP
"""

from ctip_research.survey.design import SurveyDesign
from ctip_research.survey.results import TIDY_COLUMNS, Estimate

__all__ = ["TIDY_COLUMNS", "Estimate", "SurveyDesign"]
