"""The canonical tables of the processed layer (``docs/CONTRACTS.md``).

These names are the package's public contract: codebooks map raw files onto them, the synthetic
generator produces them, features and models read only them. Add columns freely; never rename one
without keeping the old name working.
"""

from __future__ import annotations

from ctip_research import literals as L
from ctip_research.schemas.fields import Field, Table, make_table


def _bool(name: str, label: str, description: str = "") -> Field:
    return Field(name, "bool", label, description or label)


def _usd(name: str, label: str, description: str = "") -> Field:
    return Field(name, "float", label, description or label, unit="USD", minimum=0)


# Design columns: the same name everywhere ----------------------------------------------------
HOUSEHOLD_ID = Field(
    "household_id",
    "str",
    "Pseudonymous household id",
    "Keyed hash (HMAC-SHA256, first 16 hex characters) of the survey's household id; stable "
    "across waves; cannot be reversed without the key.",
    nullable=False,
)
WAVE = Field(
    "wave",
    "int",
    "Survey wave",
    "1 = baseline, 2 = endline (three years later).",
    allowed=L.WAVES,
    nullable=False,
)
MEMBER_ID = Field(
    "member_id",
    "int",
    "Member line number",
    "Line number of the member in the household roster.",
    minimum=1,
    nullable=False,
)

DESIGN_FIELDS: tuple[Field, ...] = (
    Field(
        "stratum_id",
        "str",
        "Sampling stratum",
        "Province x urban/rural stratum, written '<NIS province code>-<U|R>', e.g. '02-R'.",
        nullable=False,
    ),
    Field(
        "psu_id",
        "str",
        "Primary sampling unit (village)",
        "Village code (pseudonymous); PSU ids are nested within strata.",
        nullable=False,
    ),
    Field(
        "weight_household",
        "float",
        "Household sampling weight",
        "Base weight 1/(P(village) x P(household | village)), post-stratified to province "
        "household totals (Census 2019).",
        unit="households",
        minimum=0,
        nullable=False,
    ),
    Field(
        "n_psu_stratum",
        "int",
        "Villages in the stratum (FPC)",
        "Number of villages in the stratum's sampling frame, for the finite-population correction.",
        minimum=1,
    ),
    Field(
        "province_code",
        "int",
        "Province (NIS code)",
        "Official NIS province code.",
        allowed=L.PROVINCE_CODES,
        nullable=False,
        value_labels=dict(L.PROVINCES),
    ),
    Field("is_urban", "bool", "Urban area", "Village classified urban by NIS.", nullable=False),
)

HOUSEHOLDS = make_table(
    "households",
    "One row per household and wave: composition, land, income, assets, shocks, coping, "
    "programme and access to credit.",
    key=("household_id", "wave"),
    fields=(
        HOUSEHOLD_ID,
        WAVE,
        Field("interview_year", "int", "Year of interview", minimum=2000, maximum=2100),
        Field("enumerator_id", "str", "Enumerator code", "Field team's enumerator code."),
        *DESIGN_FIELDS,
        Field("district_code", "int", "District (NIS code)", minimum=0),
        Field(
            "commune_code",
            "str",
            "Commune (pseudonymous code)",
            "Commune code; below district level it can re-identify households, so real surveys "
            "map it with `pseudonymise: true` (keyed hash).",
        ),
        Field(
            "household_size",
            "int",
            "Household size",
            "Usual members, including those away.",
            unit="persons",
            minimum=1,
            maximum=30,
        ),
        Field("n_children", "int", "Children under 15", unit="persons", minimum=0, maximum=25),
        Field("n_working_age", "int", "Members aged 15-64", unit="persons", minimum=0, maximum=30),
        _bool("head_is_female", "Household head is female"),
        Field("head_age", "int", "Age of household head", unit="years", minimum=15, maximum=110),
        Field(
            "head_educ_years",
            "int",
            "Schooling of household head",
            unit="years",
            minimum=0,
            maximum=25,
        ),
        Field("land_agri_ha", "float", "Agricultural land operated", unit="ha", minimum=0),
        _bool(
            "has_land_title",
            "Holds a hard land title",
            "Holds a hard (cadastral) title to some agricultural or residential land.",
        ),
        _usd(
            "income_annual_usd",
            "Annual household income",
            "Sum of the five income sources over the last 12 months, remittances included.",
        ),
        _usd("income_farm_usd", "Annual farm income"),
        _usd("income_wages_usd", "Annual wage income"),
        _usd("income_business_usd", "Annual non-farm business income"),
        _usd("income_remittances_usd", "Annual remittances received"),
        _usd("income_other_usd", "Other annual income"),
        _usd("asset_value_usd", "Value of land, livestock and durables at local prices"),
        Field(
            "asset_index",
            "float",
            "Asset index",
            "First principal component of durable-asset ownership (mean 0, sd 1 at baseline).",
        ),
        _bool("shock_climate", "Flood/drought shock in last 12 months"),
        _bool("shock_health", "Serious illness or death in last 12 months"),
        _bool("shock_job_loss", "Job loss in last 12 months"),
        _bool("cope_reduce_food", "Reduced food to repay debt (12 months)"),
        _bool("cope_new_loan_to_repay", "Took a new loan to repay a loan (12 months)"),
        _bool("cope_migrate_to_repay", "A member migrated to repay debt (12 months)"),
        _bool("cope_sold_land", "Sold land to repay debt (12 months)"),
        _bool("cope_sold_assets", "Sold other assets to repay debt (12 months)"),
        _bool(
            "cope_child_work_or_dropout", "Child worked or left school to repay debt (12 months)"
        ),
        _bool(
            "received_livelihood_grant",
            "Received the livelihood programme",
            "Household received the programme's in-kind grant between the waves (wave 2 only).",
        ),
        _bool("representative_is_female", "Programme representative is female"),
        Field(
            "n_members_trained",
            "int",
            "Members given skills/safe-migration training",
            unit="persons",
            minimum=0,
            maximum=30,
        ),
        *(
            Field(
                f"n_trained_{module}",
                "int",
                f"Members trained: {label}",
                f"Members given the programme's {label} training (a member may attend several "
                "modules, so the modules can add up to more than n_members_trained). Missing "
                "where the survey does not record the training module.",
                unit="persons",
                minimum=0,
                maximum=30,
            )
            for module, label in zip(
                L.TRAINING_MODULES,
                ("trafficking-in-persons and safe-migration", "market-linkage", "livelihood"),
                strict=True,
            )
        ),
        Field(
            "dist_mfi_branch_km", "float", "Distance to nearest MFI branch", unit="km", minimum=0
        ),
        Field(
            "mfi_branches_per_1000hh",
            "float",
            "MFI branches per 1,000 households (commune)",
            unit="branches per 1,000 households",
            minimum=0,
        ),
    ),
)

MEMBERS = make_table(
    "members",
    "One row per usual household member and wave.",
    key=("household_id", "wave", "member_id"),
    fields=(
        HOUSEHOLD_ID,
        WAVE,
        MEMBER_ID,
        Field("sex", "str", "Sex", allowed=L.SEXES),
        Field("age", "int", "Age", unit="years", minimum=0, maximum=110),
        Field("relation_to_head", "str", "Relation to household head", allowed=L.RELATIONS),
        Field("educ_years", "int", "Years of schooling", unit="years", minimum=0, maximum=25),
        _bool(
            "is_away", "Away 3 months or more", "Absent from the household for 3 months or more."
        ),
        Field(
            "migrant_type",
            "str",
            "Current migrant type",
            "international / domestic for members away now; none otherwise.",
            allowed=L.MIGRANT_TYPES,
        ),
    ),
)

LOANS = make_table(
    "loans",
    "One row per loan taken and still outstanding (or repaid in the last 12 months) at interview.",
    key=("household_id", "wave", "loan_id"),
    fields=(
        HOUSEHOLD_ID,
        WAVE,
        Field("loan_id", "int", "Loan number within household", minimum=1, nullable=False),
        Field("lender_type", "str", "Lender type", allowed=L.LENDER_TYPES),
        Field("principal", "float", "Principal, in the currency reported", minimum=0),
        Field("currency", "str", "Currency of the principal", allowed=L.CURRENCIES),
        _usd("principal_usd", "Principal in USD", "Principal converted with the dated rate table."),
        Field(
            "interest_rate_annual",
            "float",
            "Annual interest rate (fraction)",
            "Nominal annual rate as a fraction (0.18 = 18% a year); monthly rates x 12.",
            unit="per year",
            minimum=0,
            maximum=5,
        ),
        Field("term_months", "int", "Term", unit="months", minimum=0, maximum=360),
        _usd("instalment_monthly_usd", "Monthly instalment in USD"),
        _usd("outstanding_usd", "Outstanding balance in USD"),
        Field("purpose", "str", "Main purpose", allowed=L.LOAN_PURPOSES),
        Field("collateral", "str", "Collateral", allowed=L.COLLATERALS),
        Field("year_taken", "int", "Year taken", minimum=1990, maximum=2100),
        _bool("is_in_arrears", "In arrears", "At least one instalment overdue at interview."),
    ),
)

MIGRATION_EPISODES = make_table(
    "migration_episodes",
    "One row per member who migrated (current or returned) and wave, with the ILO indicators of "
    "the episode (ILO 2012 indicators; ICLS 2018 definition).",
    key=("household_id", "wave", "member_id"),
    fields=(
        HOUSEHOLD_ID,
        WAVE,
        MEMBER_ID,
        Field(
            "destination_country",
            "str",
            "Destination country",
            "ISO code; KH for domestic migration.",
            allowed=L.DESTINATIONS,
        ),
        Field(
            "destination_sector",
            "str",
            "Sector of work at destination",
            allowed=L.DESTINATION_SECTORS,
        ),
        Field("year_left", "int", "Year left", minimum=1980, maximum=2100),
        Field("channel", "str", "Migration channel", allowed=L.CHANNELS),
        _bool("is_irregular", "Irregular migration", "Without the documents required to work."),
        _bool("used_informal_broker", "Used an informal broker"),
        _usd("migration_cost_usd", "Cost of migrating"),
        _bool("cost_financed_by_loan", "Cost financed by a loan"),
        Field("loan_source", "str", "Lender of the migration loan", allowed=L.LOAN_SOURCES),
        _bool("deceived_recruitment", "ILO: deceptive recruitment"),
        _bool("documents_withheld", "ILO: identity documents withheld"),
        _bool("wages_withheld", "ILO: wages withheld"),
        _bool("paid_below_min_wage", "Paid below minimum wage (decent-work deficit)"),
        _bool("debt_to_broker_employer", "ILO: debt bondage to broker/employer"),
        _bool("movement_restricted", "ILO: restricted movement"),
        _bool("threats_violence", "ILO: threats or violence"),
        _bool("excessive_hours", "ILO: excessive overtime"),
        _bool("has_returned", "Migrant has returned"),
    ),
)

CANONICAL_TABLES: dict[str, Table] = {
    t.name: t for t in (HOUSEHOLDS, MEMBERS, LOANS, MIGRATION_EPISODES)
}


def get_table(name: str) -> Table:
    """Return the declaration of a canonical table by name."""
    try:
        return CANONICAL_TABLES[name]
    except KeyError:
        raise KeyError(
            f"unknown table {name!r}; canonical tables are {sorted(CANONICAL_TABLES)}"
        ) from None
