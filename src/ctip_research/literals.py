"""Option sets and code lists, declared once.

Every categorical value the package knows (provinces, lender types, channels, model families, ...) is
listed here. Schemas, the synthetic generator, codebooks and ``params.yaml`` validation all read these
lists; nothing else spells them out.
"""

from __future__ import annotations

from typing import Literal, get_args

#: NIS province codes of Cambodia's 25 provinces (Phnom Penh included) -> official English name.
PROVINCES: dict[int, str] = {
    1: "Banteay Meanchey",
    2: "Battambang",
    3: "Kampong Cham",
    4: "Kampong Chhnang",
    5: "Kampong Speu",
    6: "Kampong Thom",
    7: "Kampot",
    8: "Kandal",
    9: "Koh Kong",
    10: "Kratie",
    11: "Mondul Kiri",
    12: "Phnom Penh",
    13: "Preah Vihear",
    14: "Prey Veng",
    15: "Pursat",
    16: "Ratanak Kiri",
    17: "Siem Reap",
    18: "Preah Sihanouk",
    19: "Stung Treng",
    20: "Svay Rieng",
    21: "Takeo",
    22: "Oddar Meanchey",
    23: "Kep",
    24: "Pailin",
    25: "Tboung Khmum",
}
PROVINCE_CODES: tuple[int, ...] = tuple(PROVINCES)
#: The eight provinces of the calibrated synthetic survey (the embedded default).
SYNTH_PROVINCE_CODES: tuple[int, ...] = (1, 2, 3, 9, 12, 14, 17, 18)
SYNTH_PROVINCES: dict[int, str] = {code: PROVINCES[code] for code in SYNTH_PROVINCE_CODES}
#: Provinces on the Thai border (higher irregular migration).
BORDER_PROVINCES: tuple[int, ...] = (1, 2, 9)

WAVES: tuple[int, ...] = (1, 2)

SEXES = ("female", "male")
RELATIONS = (
    "head",
    "spouse",
    "child",
    "grandchild",
    "parent",
    "sibling",
    "other_relative",
    "non_relative",
)
MIGRANT_TYPES = ("international", "domestic", "none")

# Code lists that are also option sets of params.yaml: each is spelled once, as a ``Literal``
# type (what the config validates against), and its tuple is derived with ``typing.get_args``.
LenderType = Literal[
    "mfi", "bank", "moneylender", "relative", "trader", "broker", "employer", "savings_group"
]
Currency = Literal["KHR", "USD", "THB"]
LoanPurpose = Literal[
    "agriculture",
    "business",
    "consumption",
    "health",
    "education",
    "house",
    "repay_other_loan",
    "migration",
]
Collateral = Literal["land_title", "soft_title", "group_guarantee", "other_asset", "none"]

LENDER_TYPES: tuple[str, ...] = get_args(LenderType)
FORMAL_LENDERS: tuple[str, ...] = ("mfi", "bank")
INFORMAL_LENDERS: tuple[str, ...] = tuple(t for t in LENDER_TYPES if t not in FORMAL_LENDERS)
CURRENCIES: tuple[str, ...] = get_args(Currency)
LOAN_PURPOSES: tuple[str, ...] = get_args(LoanPurpose)
COLLATERALS: tuple[str, ...] = get_args(Collateral)

DESTINATIONS = ("TH", "KR", "MY", "JP", "other", "KH")
DESTINATION_SECTORS = (
    "agriculture",
    "construction",
    "manufacturing",
    "fishing",
    "domestic_work",
    "hospitality",
    "services",
    "other",
)
CHANNELS = ("mou", "border_pass", "eps_korea", "self_regular", "irregular")
LOAN_SOURCES = (*LENDER_TYPES, "none")

#: ILO forced-labour indicators (ICLS 2018), in two groups; a case needs one of each group.
IloInvoluntary = Literal["deceived_recruitment", "excessive_hours"]
IloCoercion = Literal[
    "documents_withheld",
    "wages_withheld",
    "debt_to_broker_employer",
    "movement_restricted",
    "threats_violence",
]
IloIndicator = Literal[IloInvoluntary, IloCoercion]
ILO_INVOLUNTARY: tuple[str, ...] = get_args(IloInvoluntary)
ILO_COERCION: tuple[str, ...] = get_args(IloCoercion)
ILO_INDICATORS: tuple[str, ...] = get_args(IloIndicator)
#: Recorded with the ILO indicators but a decent-work deficit, not a forced-labour indicator.
DECENT_WORK_DEFICITS = ("paid_below_min_wage",)

SHOCKS = ("shock_climate", "shock_health", "shock_job_loss")
CopingColumn = Literal[
    "cope_reduce_food",
    "cope_new_loan_to_repay",
    "cope_migrate_to_repay",
    "cope_sold_land",
    "cope_sold_assets",
    "cope_child_work_or_dropout",
]
COPING: tuple[str, ...] = get_args(CopingColumn)
#: Schicks' sacrifices used in the over-indebtedness exposure (migration deliberately left out).
SACRIFICES = (
    "cope_reduce_food",
    "cope_sold_assets",
    "cope_sold_land",
    "cope_child_work_or_dropout",
)

# Option sets used in params.yaml -------------------------------------------------------------
RawFormat = Literal["csv", "xlsx", "kobo_xlsx", "stata", "spss", "parquet"]
#: Codebook column actions (docs/codebook.md): map, key, link (child -> parent), parent_key (the
#: row key children link to), pii, unused, meta (``_submission_id`` / ``_submission_time``).
CodebookAction = Literal["map", "key", "parent_key", "pii", "unused", "meta", "link"]
GlmFamily = Literal["binomial", "gaussian"]
GlmLink = Literal["logit", "probit", "identity"]
VarianceMethod = Literal["taylor", "jackknife"]
LonelyPsu = Literal["fail", "certainty", "adjust", "remove"]
ModelKind = Literal[
    "descriptive", "survey_glm", "fixed_effects", "iv", "panel", "did", "programme_adjusted"
]
#: What a model's exposure coefficient estimates (recorded per model by ``ctip fit`` in
#: ``estimates.csv``; the brief compares only estimates of the same estimand):
#: ``ate`` average effect in the sampled population; ``late`` local average effect among the
#: households whose exposure follows the instrument (compliers); ``within_household`` effect among
#: households whose exposure changed between waves (identified within household);
#: ``att`` effect on the treated (programme participants); ``population_mean`` a design-based
#: mean or share (descriptive, no causal claim).
Estimand = Literal["ate", "late", "within_household", "att", "population_mean"]
#: The estimand a model kind targets unless its spec says otherwise (``fit.models[].estimand``).
KIND_ESTIMANDS: dict[str, str] = {
    "descriptive": "population_mean",
    "survey_glm": "ate",
    "fixed_effects": "ate",
    "iv": "late",
    "panel": "within_household",
    "did": "att",
    "programme_adjusted": "att",
}
ClassifierKind = Literal["logistic", "gradient_boosting"]
OutlierRule = Literal["iqr", "mad", "zscore"]
DuplicateRule = Literal["keep_last", "keep_first", "drop_all"]

# Option sets of the features section (params.yaml ``features``) ----------------------------
MultipleTesting = Literal["bonferroni", "holm", "bh", "romano_wolf"]
ProgrammeMethod = Literal["ancova", "ipw"]
#: What a data-quality check does to the data it flags (``clean`` stage).
CheckAction = Literal["flag", "set_missing", "drop_row"]

#: What ingest does with a label not in a column's value map: stop (``error``), or set it missing
#: and record it with the documented label it is a near miss of, for review (``propose``).
UnknownLabels = Literal["error", "propose"]

# Option sets of the synth section (params.yaml ``synth``) -----------------------------------
#: Raw output of ``ctip synth``: Kobo XLSX (wave 1) + Stata (wave 2), or Parquet for benchmarks.
SynthOutputFormat = Literal["kobo_stata", "parquet"]
#: Defect stream of ``ctip synth``: ``documented`` writes the reviewed answers (misspellings as
#: codebook ``fixes``, corrections log) beside the raw files; ``blind`` writes none of them.
DefectStream = Literal["documented", "blind"]
#: Variance of average marginal effects: covariates sampled (unconditional) or fixed (delta).
AmeVce = Literal["unconditional", "delta"]
#: Bread of a survey GLM's sandwich: observed Hessian (Stata ``svy: probit``) or expected
#: information (R ``svyglm``); identical for canonical links (logit, gaussian identity).
GlmHessian = Literal["observed", "expected"]

# Option sets of the wild cluster bootstrap (params.yaml ``fit.wild_bootstrap``) -------------
#: Cluster weights of the wild cluster bootstrap: Rademacher (+-1; all 2^G sign vectors are
#: enumerated when 2^G <= reps) or Webb's six-point distribution (more distinct draws with few
#: clusters; Webb 2023, Roodman et al. 2019).
WildWeightType = Literal["rademacher", "webb"]

# Training modules of the livelihood programme ----------------------------------------------------
#: The programme's training modules, in the order its indicators list them: trafficking in persons
#: and safe migration, market linkage, livelihood. The households table counts the members trained
#: in each (``n_trained_<module>``).
TRAINING_MODULES: tuple[str, ...] = ("tip_safe_migration", "market_linkage", "livelihood")
