"""Estimation library: the formula API researchers use from a notebook.

``feols`` (OLS, WLS, absorbed fixed effects, 2SLS), ``logit`` / ``probit`` (model-based maximum
likelihood) and the shared result class :class:`~ctip_research.estimation.results.ModelResult`;
the design-based counterpart is :class:`ctip_research.survey.SurveyDesign` (``.glm``,
``.calibrate``, ``.poststratify``, ``.rake``). Everything is importable from ``ctip_research``.
"""

from ctip_research.estimation.binary import BinaryResult, MarginalEffects, logit, probit
from ctip_research.estimation.covariance import SSC_CONVENTIONS
from ctip_research.estimation.linear import LinearResult, feols
from ctip_research.estimation.results import TIDY_COLUMNS, EstimationError, ModelResult

__all__ = [
    "SSC_CONVENTIONS",
    "TIDY_COLUMNS",
    "BinaryResult",
    "EstimationError",
    "LinearResult",
    "MarginalEffects",
    "ModelResult",
    "feols",
    "logit",
    "probit",
]
