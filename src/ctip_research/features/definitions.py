"""The features declared once, as data (``docs/features.md``).

Each :class:`FeatureDef` carries the name, the definition in words, the formula, the unit, the
``params.yaml`` keys that set its thresholds, the source and the missing-data rule. The analysis
tables' schemas (:func:`household_wave_table`, :func:`episode_table`, :func:`panel_table`) and the
published feature dictionary (:func:`feature_dictionary`, :func:`render_feature_dictionary`) are
generated from these declarations, like the canonical tables from ``schemas/fields.py``.

Missing-data rule shared by every indicator (three-valued logic): an indicator is true as soon as
the observed values make it true, false only when everything it depends on is observed and makes it
false, and missing when the missing values could decide it either way. A sum or count is missing
when any of its terms is missing. Special codes (refused, don't know) reach this layer as missing
(ingest), so they follow the same rule and never enter a sum as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from ctip_research.schemas.fields import Field, FieldType, Table, make_table
from ctip_research.schemas.tables import DESIGN_FIELDS, HOUSEHOLDS, MIGRATION_EPISODES

if TYPE_CHECKING:
    from ctip_research.config.features import FeaturesParams

Level = Literal["household", "episode"]
Group = Literal["debt", "migration", "trafficking"]

_LIV = "Liv (2013), Study on the Drivers of Over-Indebtedness of Microfinance Borrowers in Cambodia"
_SCHICKS = "Schicks (2013), sacrifice-based measure of over-indebtedness"
_ILO = (
    "ILO (2012) indicators of forced labour; 20th ICLS (2018) guidelines on measuring forced labour"
)
_SPEC = "ctip_research indicator definition (this document)"

_ANY_RULE = (
    "Three-valued: true if any qualifying row is true; false if none (households with no rows are "
    "false); missing if no row is true and some are missing."
)
_SUM_RULE = "Missing if any term is missing; 0 for households with no qualifying rows."
_REMITTANCE_NOTE = (
    " Income includes remittances, as households report it: this ties the ratio to past "
    "migration, so a migrant household's ratio is lower than its ratio without migration."
)


@dataclass(frozen=True)
class FeatureDef:
    """Declaration of one derived feature.

    Parameters
    ----------
    name
        Column name (exactly as named in ``docs/features.md``).
    type
        ``int``, ``float``, ``bool`` or ``str``; stored with pandas nullable dtypes.
    label
        Short label (at most 80 characters).
    definition
        Definition in words.
    formula
        The computation, in terms of canonical columns and ``features`` parameters.
    unit
        Unit, or ``None``.
    params
        Keys of the ``features`` params section that set its thresholds or groupings.
    source
        Where the definition comes from.
    missing
        The missing-data rule.
    level
        ``household`` (household_wave table) or ``episode`` (episodes table).
    group
        ``debt``, ``migration`` or ``trafficking``.
    minimum, maximum
        Inclusive bounds for numeric features (checked by the schema).
    """

    name: str
    type: FieldType
    label: str
    definition: str
    formula: str
    unit: str | None
    params: tuple[str, ...]
    source: str
    missing: str
    level: Level
    group: Group
    minimum: float | None = None
    maximum: float | None = None

    def to_field(self, *, allowed: tuple[str | int, ...] | None = None) -> Field:
        """The schema :class:`~ctip_research.schemas.fields.Field` of this feature."""
        return Field(
            self.name,
            self.type,
            self.label,
            self.definition,
            unit=self.unit,
            allowed=allowed,
            minimum=self.minimum,
            maximum=self.maximum,
            nullable=True,
        )


def _hh(
    name: str,
    type_: FieldType,
    label: str,
    definition: str,
    formula: str,
    *,
    group: Group,
    unit: str | None = None,
    params: tuple[str, ...] = (),
    source: str = _SPEC,
    missing: str = _ANY_RULE,
    minimum: float | None = None,
    maximum: float | None = None,
) -> FeatureDef:
    return FeatureDef(
        name,
        type_,
        label,
        definition,
        formula,
        unit,
        params,
        source,
        missing,
        "household",
        group,
        minimum,
        maximum,
    )


_CURRENT = (
    "A loan is current debt if its outstanding_usd is above features.outstanding_min_usd or is "
    "missing (loans repaid in the last 12 months are left out)."
)

DEBT_FEATURES: tuple[FeatureDef, ...] = (
    _hh(
        "has_mfi_loan",
        "bool",
        "Has an outstanding MFI loan",
        "The household has at least one current loan from a microfinance institution. " + _CURRENT,
        "any(current loan with lender_type in mfi_lenders)",
        group="debt",
        params=("mfi_lenders", "outstanding_min_usd"),
        missing=_ANY_RULE + " A loan with missing lender_type is missing for this test.",
    ),
    _hh(
        "has_bank_loan",
        "bool",
        "Has an outstanding bank loan",
        "The household has at least one current loan from a bank.",
        "any(current loan with lender_type in bank_lenders)",
        group="debt",
        params=("bank_lenders", "outstanding_min_usd"),
    ),
    _hh(
        "has_formal_loan",
        "bool",
        "Has an outstanding formal (MFI or bank) loan",
        "The household has at least one current loan from an MFI or a bank.",
        "any(current loan with lender_type in mfi_lenders + bank_lenders)",
        group="debt",
        params=("mfi_lenders", "bank_lenders", "outstanding_min_usd"),
    ),
    _hh(
        "n_loans",
        "int",
        "Number of outstanding loans",
        "Number of current loans of any lender type.",
        "count(current loans)",
        group="debt",
        unit="loans",
        params=("outstanding_min_usd",),
        missing="Never missing; 0 without loans.",
        minimum=0,
    ),
    _hh(
        "n_mfi_loans",
        "int",
        "Number of outstanding MFI loans",
        "Number of current loans from microfinance institutions.",
        "count(current loans with lender_type in mfi_lenders)",
        group="debt",
        unit="loans",
        params=("mfi_lenders", "outstanding_min_usd"),
        missing="Missing if a current loan has a missing lender_type; 0 without loans.",
        minimum=0,
    ),
    _hh(
        "n_lenders",
        "int",
        "Number of lenders",
        "Number of lenders of the current loans: each MFI or bank loan counts as a separate "
        "institution (one line per loan in the roster; a formal lender rarely holds two loans of "
        "one household), informal loans count once per lender type.",
        "count(current formal loans) + n_distinct(lender_type of current informal loans)",
        group="debt",
        unit="lenders",
        params=("mfi_lenders", "bank_lenders", "outstanding_min_usd"),
        missing="Missing if a current loan has a missing lender_type; 0 without loans.",
        minimum=0,
    ),
    _hh(
        "has_multiple_mfi_loans",
        "bool",
        "Has 2+ MFI loans (multiple MFI lenders)",
        "The household has at least features.multiple_mfi_min_loans current MFI loans "
        "(multiple borrowing from MFIs).",
        "n_mfi_loans >= multiple_mfi_min_loans",
        group="debt",
        params=("multiple_mfi_min_loans", "mfi_lenders"),
        missing="True if the known MFI loans reach the threshold; false if they cannot reach it "
        "even if every loan of unknown lender were an MFI loan; missing otherwise.",
    ),
    _hh(
        "total_debt_usd",
        "float",
        "Total outstanding debt",
        "Sum of the outstanding balances of the current loans.",
        "sum(outstanding_usd of current loans)",
        group="debt",
        unit="USD",
        params=("outstanding_min_usd",),
        missing=_SUM_RULE,
        minimum=0,
    ),
    _hh(
        "mfi_debt_usd",
        "float",
        "Outstanding MFI debt",
        "Sum of the outstanding balances of the current MFI loans.",
        "sum(outstanding_usd of current loans with lender_type in mfi_lenders)",
        group="debt",
        unit="USD",
        params=("mfi_lenders", "outstanding_min_usd"),
        missing=_SUM_RULE + " A loan of missing lender_type is a missing term.",
        minimum=0,
    ),
    _hh(
        "informal_debt_usd",
        "float",
        "Outstanding informal debt",
        "Sum of the outstanding balances of the current loans from informal lenders "
        "(moneylenders, relatives, traders, brokers, employers, savings groups).",
        "sum(outstanding_usd of current loans with lender_type in informal_lenders)",
        group="debt",
        unit="USD",
        params=("informal_lenders", "outstanding_min_usd"),
        missing=_SUM_RULE + " A loan of missing lender_type is a missing term.",
        minimum=0,
    ),
    _hh(
        "debt_service_monthly_usd",
        "float",
        "Monthly debt service",
        "Sum of the monthly instalments of the current loans. A loan with a recorded instalment "
        "of 0 (no fixed schedule) adds 0. A missing instalment is replaced, if "
        "features.impute_missing_instalment, by the annuity payment on principal_usd at "
        "interest_rate_annual / 12 over term_months (principal / term at zero interest).",
        "sum(instalment_monthly_usd, or principal_usd * r / (1 - (1 + r)^-term_months) with "
        "r = interest_rate_annual / 12)",
        group="debt",
        unit="USD per month",
        params=("impute_missing_instalment", "outstanding_min_usd"),
        missing=_SUM_RULE + " An instalment that is missing and cannot be imputed (no principal, "
        "rate or term, or term 0) is a missing term.",
        minimum=0,
    ),
    _hh(
        "debt_service_to_income_ratio",
        "float",
        "Debt service to income ratio",
        "Monthly debt service divided by monthly household income (income_annual_usd / 12)."
        + _REMITTANCE_NOTE,
        "debt_service_monthly_usd / (income_annual_usd / 12)",
        group="debt",
        unit="ratio",
        source=_LIV,
        missing="Missing (never infinite) if income is missing, zero or negative, or debt service "
        "is missing. Households without debt and with positive income have 0.",
        minimum=0,
    ),
    _hh(
        "debt_service_to_income_band",
        "str",
        "Debt service to income band",
        "Band of debt_service_to_income_ratio with right-closed upper edges "
        "features.debt_service_bands (default '<=0.50', '0.50-0.75', '0.75-1.00', '>1.00'; Liv "
        "2013: above 0.75 'at risk', above 1.0 'insolvent')." + _REMITTANCE_NOTE,
        "cut(debt_service_to_income_ratio, debt_service_bands, right-closed)",
        group="debt",
        params=("debt_service_bands",),
        source=_LIV,
        missing="Missing where the ratio is missing.",
    ),
    _hh(
        "is_over_indebted_by_ratio",
        "bool",
        "Over-indebted by the debt-service ratio",
        "Debt service is above features.over_indebted_ratio_threshold of income."
        + _REMITTANCE_NOTE,
        "debt_service_to_income_ratio > over_indebted_ratio_threshold",
        group="debt",
        params=("over_indebted_ratio_threshold",),
        source=_LIV,
        missing="Missing where the ratio is missing (zero or missing income).",
    ),
    _hh(
        "n_sacrifices",
        "int",
        "Number of sacrifices made to repay debt",
        "Number of the sacrifices (features.sacrifices: reduced food, sold assets, sold land, "
        "child work or school dropout) made in the last 12 months to repay debt.",
        "sum(sacrifices)",
        group="debt",
        unit="sacrifices",
        params=("sacrifices",),
        source=_SCHICKS,
        missing="Missing if any of the sacrifice columns is missing.",
        minimum=0,
    ),
    _hh(
        "is_over_indebted_by_sacrifices",
        "bool",
        "Over-indebted by sacrifices (Schicks)",
        "At least features.min_sacrifices sacrifices to repay debt in the last 12 months. "
        "cope_migrate_to_repay is left out on purpose: migration is the outcome.",
        "n_sacrifices >= min_sacrifices",
        group="debt",
        params=("sacrifices", "min_sacrifices"),
        source=_SCHICKS,
        missing="True if the observed sacrifices reach the threshold; false if they cannot reach "
        "it even if every missing one were true; missing otherwise.",
    ),
    _hh(
        "is_over_indebted",
        "bool",
        "Over-indebted (ratio or sacrifices)",
        "Over-indebted by the debt-service ratio OR by sacrifices." + _REMITTANCE_NOTE,
        "is_over_indebted_by_ratio OR is_over_indebted_by_sacrifices",
        group="debt",
        params=("over_indebted_ratio_threshold", "sacrifices", "min_sacrifices"),
        source=f"{_LIV}; {_SCHICKS}",
        missing="Kleene OR: true if either part is true (so a household with zero or missing "
        "income is still over-indebted when it made enough sacrifices); false if both are false; "
        "missing otherwise (e.g. zero income and too few sacrifices).",
    ),
    _hh(
        "debt_to_asset_ratio",
        "float",
        "Debt to asset ratio",
        "Total outstanding debt divided by the value of land, livestock and durables "
        "(can exceed 1).",
        "total_debt_usd / asset_value_usd",
        group="debt",
        unit="ratio",
        missing="Missing if asset_value_usd is missing or zero, or total debt is missing.",
        minimum=0,
    ),
    _hh(
        "has_land_collateral",
        "bool",
        "A current loan is secured on land",
        "At least one current loan is secured on a land title (hard or soft title).",
        "any(current loan with collateral in land_collateral)",
        group="debt",
        params=("land_collateral", "outstanding_min_usd"),
        source="LICADHO & STT (2019)",
    ),
    _hh(
        "is_recycling_debt",
        "bool",
        "Recycles debt",
        "The household took a new loan to repay a loan in the last 12 months, or any loan "
        "reported for the wave (current or repaid in the last 12 months) was taken to repay "
        "another loan.",
        "any(recycling_coping) OR any(loan purpose in recycling_purposes)",
        group="debt",
        params=("recycling_coping", "recycling_purposes"),
        missing="Kleene OR of the coping answers and the loan purposes.",
    ),
)

_CURRENT_MIG = (
    " Current migrants only: members away now (members.migrant_type international or domestic); "
    "returned migrants count in has_returned_migrant."
)
_CURRENT_EP = (
    " Current episodes only (has_returned false); an episode with missing has_returned is "
    "undecided."
)

MIGRATION_FEATURES: tuple[FeatureDef, ...] = (
    _hh(
        "has_migrant",
        "bool",
        "Has a current migrant",
        "At least one member is a current migrant (international or domestic)." + _CURRENT_MIG,
        "any(members.migrant_type in {international, domestic})",
        group="migration",
    ),
    _hh(
        "n_migrants",
        "int",
        "Number of current migrants",
        "Number of members who are current migrants." + _CURRENT_MIG,
        "count(members.migrant_type in {international, domestic})",
        group="migration",
        unit="persons",
        missing="Missing if a member's migrant_type is missing.",
        minimum=0,
    ),
    _hh(
        "has_international_migrant",
        "bool",
        "Has a current international migrant",
        "At least one member is a current international migrant." + _CURRENT_MIG,
        "any(members.migrant_type == international)",
        group="migration",
    ),
    _hh(
        "n_international_migrants",
        "int",
        "Number of current international migrants",
        "Number of members who are current international migrants." + _CURRENT_MIG,
        "count(members.migrant_type == international)",
        group="migration",
        unit="persons",
        missing="Missing if a member's migrant_type is missing.",
        minimum=0,
    ),
    _hh(
        "has_irregular_migrant",
        "bool",
        "Has a current irregular migrant",
        "At least one current migration episode is irregular (without the documents required "
        "to work)." + _CURRENT_EP,
        "any(is_current AND is_irregular)",
        group="migration",
    ),
    _hh(
        "used_broker",
        "bool",
        "A current migrant used an informal broker",
        "At least one current migration episode used an informal broker." + _CURRENT_EP,
        "any(is_current AND used_informal_broker)",
        group="migration",
    ),
    _hh(
        "migration_loan_financed",
        "bool",
        "A current migration was financed by a loan",
        "The cost of at least one current migration episode was financed by a loan." + _CURRENT_EP,
        "any(is_current AND cost_financed_by_loan)",
        group="migration",
    ),
    _hh(
        "remittances_annual_usd",
        "float",
        "Remittances received (12 months)",
        "Remittances received by the household in the last 12 months (income_remittances_usd).",
        "income_remittances_usd",
        group="migration",
        unit="USD per year",
        missing="Missing where income_remittances_usd is missing.",
        minimum=0,
    ),
    _hh(
        "has_returned_migrant",
        "bool",
        "Has a returned migrant",
        "At least one migration episode of the wave is of a member who has returned.",
        "any(has_returned)",
        group="migration",
    ),
)

_EP_RULE = (
    "Three-valued: true if the observed indicators already satisfy the rule, false only if "
    "they cannot satisfy it even if every missing indicator were true, missing otherwise."
)


def _ep(
    name: str,
    type_: FieldType,
    label: str,
    definition: str,
    formula: str,
    *,
    unit: str | None = None,
    params: tuple[str, ...] = (),
    source: str = _ILO,
    missing: str = _EP_RULE,
    minimum: float | None = None,
    maximum: float | None = None,
    group: Group = "trafficking",
) -> FeatureDef:
    return FeatureDef(
        name,
        type_,
        label,
        definition,
        formula,
        unit,
        params,
        source,
        missing,
        "episode",
        group,
        minimum,
        maximum,
    )


EPISODE_FEATURES: tuple[FeatureDef, ...] = (
    _ep(
        "is_current",
        "bool",
        "Current episode (migrant still away)",
        "The migrant has not returned.",
        "NOT has_returned",
        group="migration",
        source=_SPEC,
        missing="Missing where has_returned is missing.",
    ),
    _ep(
        "is_international",
        "bool",
        "International episode",
        "The destination is outside Cambodia.",
        "destination_country != 'KH'",
        group="migration",
        source=_SPEC,
        missing="Missing where destination_country is missing.",
    ),
    _ep(
        "n_ilo_indicators",
        "int",
        "Number of ILO forced-labour indicators",
        "Number of the seven ILO indicators present in the episode (involuntary work: "
        "deceived_recruitment, excessive_hours; coercion: documents_withheld, wages_withheld, "
        "debt_to_broker_employer, movement_restricted, threats_violence). "
        "paid_below_min_wage is a decent-work deficit and is not counted.",
        "sum(ilo_involuntary + ilo_coercion)",
        unit="indicators",
        params=("ilo_involuntary", "ilo_coercion"),
        missing="Missing if any of the indicators is missing (see n_ilo_missing).",
        minimum=0,
        maximum=7,
    ),
    _ep(
        "n_ilo_missing",
        "int",
        "Number of ILO indicators not observed",
        "Number of the seven ILO indicators that are missing for the episode.",
        "count_missing(ilo_involuntary + ilo_coercion)",
        unit="indicators",
        params=("ilo_involuntary", "ilo_coercion"),
        missing="Never missing.",
        minimum=0,
        maximum=7,
    ),
    _ep(
        "has_involuntary_work",
        "bool",
        "ILO dimension: involuntary work",
        "At least features.forced_labour_min_per_group indicators of involuntary work.",
        "sum(ilo_involuntary) >= forced_labour_min_per_group",
        params=("ilo_involuntary", "forced_labour_min_per_group"),
    ),
    _ep(
        "has_coercion",
        "bool",
        "ILO dimension: coercion (menace of penalty)",
        "At least features.forced_labour_min_per_group indicators of coercion.",
        "sum(ilo_coercion) >= forced_labour_min_per_group",
        params=("ilo_coercion", "forced_labour_min_per_group"),
    ),
    _ep(
        "is_forced_labour",
        "bool",
        "Forced labour (ICLS 2018 rule)",
        "Forced labour by the ICLS 2018 statistical definition: at least one indicator of "
        "involuntary work AND at least one of coercion.",
        "has_involuntary_work AND has_coercion",
        params=("ilo_involuntary", "ilo_coercion", "forced_labour_min_per_group"),
    ),
    _ep(
        "is_risky_migration",
        "bool",
        "Risky migration episode",
        "The episode is irregular OR used an informal broker OR has at least "
        "features.risky_min_ilo_indicators of the seven ILO indicators.",
        "is_irregular OR used_informal_broker OR n_ilo >= risky_min_ilo_indicators",
        params=(
            "risky_if_irregular",
            "risky_if_informal_broker",
            "risky_min_ilo_indicators",
            "ilo_involuntary",
            "ilo_coercion",
        ),
        source=f"{_SPEC}; {_ILO}",
        missing="Kleene OR of the three parts; the ILO part follows the three-valued rule.",
    ),
)

TRAFFICKING_FEATURES: tuple[FeatureDef, ...] = (
    _hh(
        "has_forced_labour_case",
        "bool",
        "A member's episode is forced labour",
        "At least one migration episode of the wave (current or returned) is forced labour by the "
        "ICLS 2018 rule.",
        "any(is_forced_labour)",
        group="trafficking",
        params=("ilo_involuntary", "ilo_coercion", "forced_labour_min_per_group"),
        source=_ILO,
    ),
    _hh(
        "has_risky_migration",
        "bool",
        "Has a current risky migration episode",
        "At least one current migration episode is risky (irregular OR informal broker OR at "
        "least one ILO indicator)." + _CURRENT_EP,
        "any(is_current AND is_risky_migration)",
        group="trafficking",
        params=("risky_if_irregular", "risky_if_informal_broker", "risky_min_ilo_indicators"),
        source=f"{_SPEC}; {_ILO}",
    ),
)

HOUSEHOLD_FEATURES: tuple[FeatureDef, ...] = (
    DEBT_FEATURES + MIGRATION_FEATURES + TRAFFICKING_FEATURES
)
ALL_FEATURES: tuple[FeatureDef, ...] = HOUSEHOLD_FEATURES + EPISODE_FEATURES


def get_feature(name: str) -> FeatureDef:
    """Return the declaration of a feature by name (``KeyError`` if unknown)."""
    for f in ALL_FEATURES:
        if f.name == name:
            return f
    raise KeyError(f"unknown feature {name!r}")


def band_labels(edges: Sequence[float]) -> tuple[str, ...]:
    """Labels of the right-closed bands with upper ``edges``.

    Examples
    --------
    >>> band_labels([0.5, 0.75, 1.0])
    ('<=0.50', '0.50-0.75', '0.75-1.00', '>1.00')
    """
    labels = [f"<={edges[0]:.2f}"]
    labels += [f"{a:.2f}-{b:.2f}" for a, b in zip(edges, edges[1:], strict=False)]
    labels.append(f">{edges[-1]:.2f}")
    return tuple(labels)


def _feature_fields(defs: Sequence[FeatureDef], params: FeaturesParams) -> list[Field]:
    fields = []
    for f in defs:
        allowed = band_labels(params.debt_service_bands) if f.name.endswith("_band") else None
        fields.append(f.to_field(allowed=allowed))
    return fields


def household_wave_table(params: FeaturesParams) -> Table:
    """Declaration of ``household_wave``: every canonical households column + household features."""
    return make_table(
        "household_wave",
        "One row per household and wave: the canonical households table and the debt, migration "
        "and trafficking-risk features.",
        key=HOUSEHOLDS.key,
        fields=(*HOUSEHOLDS.fields, *_feature_fields(HOUSEHOLD_FEATURES, params)),
    )


def episode_table(params: FeaturesParams) -> Table:
    """Declaration of ``episodes``: the canonical episodes, design columns and episode features."""
    return make_table(
        "episodes",
        "One row per migration episode and wave, with the household's survey design columns and "
        "the ILO forced-labour and risky-migration features.",
        key=MIGRATION_EPISODES.key,
        fields=(
            *MIGRATION_EPISODES.fields,
            *DESIGN_FIELDS,
            *_feature_fields(EPISODE_FEATURES, params),
        ),
    )


#: households columns that are not carried into the panel as <name>_w1 / <name>_w2.
_PANEL_FIXED = ("household_id", "wave", *(f.name for f in DESIGN_FIELDS))


def panel_variables(params: FeaturesParams) -> list[Field]:
    """The household-wave fields carried into the panel as ``_w1`` / ``_w2`` pairs."""
    table = household_wave_table(params)
    return [f for f in table.fields if f.name not in _PANEL_FIXED]


def _change_field(f: Field) -> Field:
    kind: FieldType = "float" if f.type == "float" else "int"
    what = "-1, 0 or 1" if f.type == "bool" else f.unit or "units of the variable"
    return Field(
        f"d_{f.name}",
        kind,
        f"Change in {f.label}"[:80],
        f"{f.name}_w2 - {f.name}_w1 ({what}); missing if either wave is missing.",
        unit=f.unit if f.type != "bool" else None,
    )


def panel_table(params: FeaturesParams) -> Table:
    """Declaration of ``panel``: households seen in both waves, wave-1 design, wave pairs, changes."""
    variables = panel_variables(params)
    by_name = {f.name: f for f in variables}
    unknown = [n for n in params.panel_change_features if n not in by_name]
    if unknown:
        raise ValueError(f"features.panel_change_features names unknown column(s) {unknown}")
    bad = [n for n in params.panel_change_features if by_name[n].type == "str"]
    if bad:
        raise ValueError(f"features.panel_change_features has text column(s) {bad}")
    fields: list[Field] = [HOUSEHOLDS.field("household_id")]
    fields += [
        Field(
            f.name,
            f.type,
            f.label,
            f.description + " (wave 1)",
            unit=f.unit,
            allowed=f.allowed,
            minimum=f.minimum,
            maximum=f.maximum,
            nullable=f.nullable,
            value_labels=f.value_labels,
        )
        for f in DESIGN_FIELDS
    ]
    for f in variables:
        for w in (1, 2):
            fields.append(
                Field(
                    f"{f.name}_w{w}",
                    f.type,
                    f"{f.label} (wave {w})"[:80],
                    f"{f.description} Wave {w} value.",
                    unit=f.unit,
                    allowed=f.allowed,
                    minimum=f.minimum,
                    maximum=f.maximum,
                    nullable=True,
                    value_labels=f.value_labels,
                )
            )
    fields += [_change_field(by_name[n]) for n in params.panel_change_features]
    return make_table(
        "panel",
        "One row per household observed in both waves: design columns from wave 1, each "
        "household variable and feature as <name>_w1 and <name>_w2, and change columns d_<name>.",
        key=("household_id",),
        fields=fields,
    )


def _param_text(f: FeatureDef, params: FeaturesParams) -> str:
    parts = []
    for key in f.params:
        value = getattr(params, key)
        if isinstance(value, tuple):
            value = "[" + ", ".join(str(v) for v in value) + "]"
        parts.append(f"features.{key} = {value}")
    return "; ".join(parts)


def feature_dictionary(params: FeaturesParams) -> pd.DataFrame:
    """The feature dictionary as a table (one row per feature), with the threshold values used.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> d = feature_dictionary(load_params("params.yaml").features)
    >>> list(d.columns)[:3]
    ['name', 'level', 'group']
    """
    rows = [
        {
            "name": f.name,
            "level": f.level,
            "group": f.group,
            "type": f.type,
            "unit": f.unit or "",
            "label": f.label,
            "definition": f.definition,
            "formula": f.formula,
            "threshold_params": _param_text(f, params),
            "source": f.source,
            "missing_rule": f.missing,
        }
        for f in ALL_FEATURES
    ]
    return pd.DataFrame(rows)


def render_feature_dictionary(params: FeaturesParams, *, heading_level: int = 1) -> str:
    """The feature dictionary as Markdown (published with the processed data).

    ``heading_level`` is the level of its title (2 when it is embedded in ``docs/features.md``).
    """
    d = feature_dictionary(params)
    out = [
        "# Feature dictionary",
        "",
        "Generated by `ctip features` from `src/ctip_research/features/definitions.py` and the "
        "`features` section of `params.yaml`; do not edit by hand.",
        "",
        "Tables: `household_wave.parquet` (canonical households columns + household features), "
        "`episodes.parquet` (canonical migration episodes + design columns + episode features), "
        "`panel.parquet` (households in both waves: wave-1 design, `<name>_w1`, `<name>_w2`, "
        "`d_<name>` = wave 2 minus wave 1).",
        "",
        "**Income in the debt-service ratio includes remittances, as households report it.** This "
        "ties the exposure to past migration: remittances lower a migrant household's ratio.",
        "",
        "Missing-data rule of every indicator (three-valued logic): true as soon as the observed "
        "values make it true, false only when everything it depends on is observed and makes it "
        "false, missing otherwise. Sums and counts are missing when a term is missing. Special "
        "codes (refused, don't know) arrive as missing and follow the same rule.",
        "",
    ]
    titles = {"debt": "Debt burden", "migration": "Migration", "trafficking": "Trafficking risk"}
    for level in ("household", "episode"):
        out.append(f"## {level.capitalize()}-level features")
        out.append("")
        for group, title in titles.items():
            sub = d[(d["level"] == level) & (d["group"] == group)]
            if sub.empty:
                continue
            out.append(f"### {title}")
            out.append("")
            for _, r in sub.iterrows():
                unit = f", {r['unit']}" if r["unit"] else ""
                out.append(f"#### `{r['name']}` ({r['type']}{unit})")
                out.append("")
                out.append(f"- Definition: {r['definition']}")
                out.append(f"- Formula: `{r['formula']}`")
                if r["threshold_params"]:
                    out.append(f"- Parameters: {r['threshold_params']}")
                out.append(f"- Source: {r['source']}")
                out.append(f"- Missing data: {r['missing_rule']}")
                out.append("")
    shift = "#" * (heading_level - 1)
    return "\n".join(shift + line if line.startswith("#") else line for line in out)
