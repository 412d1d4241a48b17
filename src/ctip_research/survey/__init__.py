"""Survey design and design-based estimation (Taylor linearisation or jackknife).

>>> import pandas as pd
>>> from ctip_research.survey import SurveyDesign
>>> df = pd.DataFrame({"y": [1.0, 0.0, 1.0, 1.0], "w": [1.0, 2.0, 1.0, 2.0],
...     "stratum": [1, 1, 2, 2], "psu": [1, 2, 3, 4]})
>>> design = SurveyDesign(df, weight="w", strata="stratum", psu="psu")
>>> round(float(design.mean("y").tidy()["estimate"].iloc[0]), 4)
0.6667
"""

from ctip_research.survey.design import SurveyDesign
from ctip_research.survey.results import TIDY_COLUMNS, Estimate

__all__ = ["TIDY_COLUMNS", "Estimate", "SurveyDesign"]
