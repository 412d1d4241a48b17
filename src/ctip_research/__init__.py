"""ctip_research: does microfinance indebtedness push Cambodian rural households into (risky) migration?

The package is a library first: pure functions on pandas DataFrames (``schemas``, ``synth``, ``ingest``,
``clean``, ``features``, ``survey``, ``estimation``, ``models``, ``reporting``). Thin pipeline stages
(``ctip_research.stages``) read files, call the library and write outputs atomically; the CLI (``ctip``),
``dvc.yaml`` and the notebooks call the stages.

The estimation API is importable from the top level, lazily (``import ctip_research`` stays cheap)::

    import ctip_research as ct
    ct.feols("y ~ x | village", df, vcov={"CRV1": "village"})
    ct.logit("y ~ x", df).marginal_effects(at="mean")
    ct.SurveyDesign(df, weight="w", strata="s", psu="v").glm("y ~ x", family="binomial")
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("ctip_research")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

#: Public name -> module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    "feols": "ctip_research.estimation.linear",
    "logit": "ctip_research.estimation.binary",
    "probit": "ctip_research.estimation.binary",
    "ModelResult": "ctip_research.estimation.results",
    "LinearResult": "ctip_research.estimation.linear",
    "BinaryResult": "ctip_research.estimation.binary",
    "MarginalEffects": "ctip_research.estimation.binary",
    "EstimationError": "ctip_research.estimation.results",
    "SSC_CONVENTIONS": "ctip_research.estimation.covariance",
    "SurveyDesign": "ctip_research.survey.design",
    "ModelSpec": "ctip_research.config.fit",
    "DesignParams": "ctip_research.config.fit",
    "fit_model": "ctip_research.models.fitting",
    "etable": "ctip_research.models.tables",
}

if TYPE_CHECKING:  # pragma: no cover
    from ctip_research.config.fit import DesignParams, ModelSpec
    from ctip_research.estimation.binary import BinaryResult, MarginalEffects, logit, probit
    from ctip_research.estimation.covariance import SSC_CONVENTIONS
    from ctip_research.estimation.linear import LinearResult, feols
    from ctip_research.estimation.results import EstimationError, ModelResult
    from ctip_research.models.fitting import fit_model
    from ctip_research.models.tables import etable
    from ctip_research.survey.design import SurveyDesign


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ctip_research' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "SSC_CONVENTIONS",
    "BinaryResult",
    "DesignParams",
    "EstimationError",
    "LinearResult",
    "MarginalEffects",
    "ModelResult",
    "ModelSpec",
    "SurveyDesign",
    "__version__",
    "etable",
    "feols",
    "fit_model",
    "logit",
    "probit",
]
