"""``fit``: parameters of the ``ctip fit`` and ``ctip validate`` stages.

Every model the pipeline fits is declared here as data (:class:`ModelSpec`): its kind, outcome,
exposure, controls, fixed effects, clustering, weights, sample and instruments. ``ctip fit`` fits
each spec in order; nothing about a model is decided in code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ctip_research.config.base import Section
from ctip_research.literals import (
    KIND_ESTIMANDS,
    Estimand,
    GlmLink,
    LonelyPsu,
    ModelKind,
    MultipleTesting,
    ProgrammeMethod,
    WildWeightType,
)

_NAME = r"^[a-z][a-z0-9_]*$"


class DesignParams(Section):
    """The survey design columns (sampling design, ``docs/synthetic.md``)."""

    weight: str = Field(description="Household sampling weight column.")
    strata: str | None = Field(None, description="Stratum column (null: unstratified).")
    psu: str | None = Field(
        None, description="Primary sampling unit (village) column; nested in strata."
    )
    fpc: str | None = Field(
        None, description="Column with the number of PSUs in the stratum frame (null: no FPC)."
    )
    lonely_psu: LonelyPsu = Field(
        "fail", description="Rule for a stratum with a single sampled PSU."
    )


class DescriptiveParams(Section):
    """Model 1: design-based indicator means by domain (full design, domain indicator)."""

    indicators: list[str] = Field(min_length=1, description="0/1 indicators to estimate.")
    domains: list[str] = Field(description="Domain columns (one table per domain variable).")
    wave: int | None = Field(description="Wave to use (null: every wave, by wave).")


class ModelSpec(Section):
    """One regression declared in ``params.yaml`` (``fit.models[i]``).

    Column names refer to ``household_wave.parquet`` for kinds ``survey_glm``, ``fixed_effects``,
    ``iv`` and ``panel``, and to ``panel.parquet`` (``<name>_w1`` / ``<name>_w2``) for ``did`` and
    ``programme_adjusted``, where ``outcome`` is the base name and exposure/controls are full
    column names.
    """

    name: str = Field(pattern=_NAME, description="Unique model name (rows of estimates.csv).")
    kind: ModelKind = Field(description="Estimator family.")
    outcome: str = Field(description="Outcome column (base name for panel kinds).")
    exposure: str = Field(description="Exposure (treatment / endogenous regressor) column.")
    label: str = Field("", description="Short human label used as the table column header.")
    controls: list[str] = Field([], description="Control columns (exogenous regressors).")
    fixed_effects: list[str] = Field([], description="Columns absorbed as fixed effects.")
    cluster: str | None = Field(None, description="Cluster column for the errors (null: robust).")
    weights: str | None = Field(None, description="Weight column (null: unweighted).")
    wave: int | None = Field(None, description="Wave to keep (null: all rows).")
    sample: str | None = Field(
        None,
        description="Optional pandas query restricting the sample, e.g. 'is_urban == False'.",
    )
    instruments: list[str] = Field([], description="Excluded instruments (kind iv only).")
    link: GlmLink | None = Field(None, description="Link of a survey_glm (logit or probit).")
    headline: bool = Field(False, description="Report the exposure effect in metrics.json.")
    estimand: Estimand = Field(
        description="What the exposure coefficient estimates (ate, late, within_household, att); "
        "recorded in estimates.csv. Omitted: the kind's usual estimand (literals.KIND_ESTIMANDS)."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_estimand(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("estimand") is None and "kind" in data:
            return {**data, "estimand": KIND_ESTIMANDS.get(str(data["kind"]), "ate")}
        return data

    def formula(self) -> str:
        """The fixest-style formula this spec stands for (``feols`` / ``SurveyDesign.glm``).

        Examples
        --------
        >>> ModelSpec(name="iv", kind="iv", outcome="y", exposure="d", controls=["x"],
        ...           fixed_effects=["province"], instruments=["z"]).formula()
        'y ~ x | province | d ~ z'
        >>> ModelSpec(name="fe", kind="fixed_effects", outcome="y", exposure="d",
        ...           fixed_effects=["village"]).formula()
        'y ~ d | village'
        """
        if self.kind == "iv":
            rhs = " + ".join(self.controls) or "1"
            fe = " + ".join(self.fixed_effects) or "0"
            return (
                f"{self.outcome} ~ {rhs} | {fe} | {self.exposure} ~ {' + '.join(self.instruments)}"
            )
        rhs = " + ".join([self.exposure, *self.controls])
        fe = f" | {' + '.join(self.fixed_effects)}" if self.fixed_effects else ""
        return f"{self.outcome} ~ {rhs}{fe}"

    @model_validator(mode="after")
    def _check_kind(self) -> ModelSpec:
        if self.kind == "iv" and not self.instruments:
            raise ValueError("an iv model needs at least one instrument")
        if self.kind != "iv" and self.instruments:
            raise ValueError(f"instruments are only used by kind iv, not {self.kind}")
        if self.kind == "survey_glm" and self.link not in ("logit", "probit"):
            raise ValueError("a survey_glm needs link logit or probit")
        if self.kind == "descriptive":
            raise ValueError("descriptive estimates are declared in fit.descriptive")
        return self


class ProgrammeParams(Section):
    """Model 6: the livelihood programme (balance table on ``panel.parquet``)."""

    treatment: str = Field(description="Programme indicator column in panel.parquet.")
    areas: list[str] = Field(
        description="Columns of panel.parquet whose cells define the programme's areas: the "
        "programme sample (of the balance table, mean reversion and every model of kind did or "
        "programme_adjusted) is every household in a cell where at least one household was "
        "treated, e.g. [province_code, is_urban] = the rural or urban parts of the provinces the "
        "programme worked in, read from the data; [] = every household."
    )
    balance_covariates: list[str] = Field(
        min_length=1, description="Baseline columns of the balance table (normalised differences)."
    )
    imbalance_threshold: float = Field(
        gt=0,
        description="|normalised difference| above which a covariate is flagged (Imbens-Rubin 0.25).",
    )
    method: ProgrammeMethod = Field(description="Adjusted estimator: ancova or ipw.")


class RobustnessParams(Section):
    """Model 7: alternative exposures and outcomes refitted with a base spec; multiple testing."""

    base_model: str = Field(description="Name of the fit.models spec refitted for every pair.")
    exposures: list[str] = Field(min_length=1, description="Alternative debt measures.")
    outcomes: list[str] = Field(
        min_length=1, description="Outcomes of the multiple-testing family."
    )
    adjustments: list[MultipleTesting] = Field(
        min_length=1, description="Multiple-testing adjustments reported beside the raw p."
    )
    bootstrap_reps: int = Field(ge=99, description="Romano-Wolf multiplier bootstrap draws.")


class WildComparison(Section):
    """One comparison of ``fit.wild_bootstrap.comparisons``: a model's exposure effect, H0: 0."""

    model: str = Field(description="Name of a fit.models spec of kind fixed_effects.")
    cluster: str | None = Field(
        description="Bootstrap (and CRV1) cluster column, e.g. province_code (8 clusters); "
        "null: the model's own cluster. The estimate is the model's; only the clusters change."
    )


class WildBootstrapParams(Section):
    """Wild cluster bootstrap (WCR, boottest) for comparisons resting on few clusters."""

    comparisons: list[WildComparison] = Field(
        description="Comparisons tested (empty: none); written to wild_bootstrap.csv."
    )
    reps: int = Field(
        ge=99,
        description="Bootstrap draws; Rademacher weights enumerate all 2^G sign vectors instead "
        "when 2^G <= reps.",
    )
    weight_type: WildWeightType = Field(
        description="Cluster weights: webb (six-point; recommended below ~12 clusters) or "
        "rademacher (+-1)."
    )


class ValidationParams(Section):
    """``ctip validate``: which fitted models estimate which truth.json estimand."""

    truth_file: str = Field(description="Truth file, relative to paths.raw.")
    estimands: dict[str, str] = Field(
        description="Model name -> truth.json estimand key (dotted path) it targets."
    )
    naive_model: str = Field(description="Model name of the naive (confounded) estimate.")


class FitParams(Section):
    """Parameters of the ``fit`` and ``validate`` stages."""

    seed: int = Field(ge=0, description="Seed of every random draw of the stage (bootstrap).")
    alpha: float = Field(gt=0, lt=1, description="Level of the confidence intervals (1 - alpha).")
    design: DesignParams
    descriptive: DescriptiveParams
    models: list[ModelSpec] = Field(min_length=1)
    programme: ProgrammeParams
    robustness: RobustnessParams
    validation: ValidationParams
    wild_bootstrap: WildBootstrapParams
    table_formats: list[Literal["md", "html", "tex", "docx"]] = Field(
        min_length=1, description="Formats of the regression tables."
    )

    @model_validator(mode="after")
    def _check_names(self) -> FitParams:
        names = [m.name for m in self.models]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"model names must be unique; repeated: {dupes}")
        if self.robustness.base_model not in names:
            raise ValueError(f"robustness.base_model {self.robustness.base_model!r} is not a model")
        for model in [*self.validation.estimands, self.validation.naive_model]:
            if model not in names:
                raise ValueError(f"validation refers to unknown model {model!r}")
        kinds = {m.name: m.kind for m in self.models}
        seen = set()
        for c in self.wild_bootstrap.comparisons:
            if c.model not in kinds:
                raise ValueError(f"wild_bootstrap refers to unknown model {c.model!r}")
            if kinds[c.model] != "fixed_effects":
                raise ValueError(
                    f"wild_bootstrap: model {c.model!r} is {kinds[c.model]}; only kind "
                    "fixed_effects is supported"
                )
            if (c.model, c.cluster) in seen:
                raise ValueError(f"wild_bootstrap: repeated comparison {c.model!r}, {c.cluster!r}")
            seen.add((c.model, c.cluster))
        return self
