"""``synth``: parameters of the ``ctip synth`` stage (the calibrated synthetic survey).

Every coefficient of the data-generating process is a parameter here; ``docs/synthetic.md`` gives
the equations in which each one appears and the calibration sources (its sampling design,
structural model and calibration sections). Shares are fractions (0-1); effects on probabilities are in probability
points (0.08 = +8 points); money in USD unless the name says otherwise.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from ctip_research import literals as L
from ctip_research.config.base import Section

#: The name of the calibrated world: ``synth`` as written, without any scenario's overrides.
DEFAULT_SCENARIO = "default"


class ProvinceCalibration(Section):
    """Calibration targets and frame size of one province (keyed by NIS code)."""

    census_households: int = Field(
        ge=1,
        description="Households in the province (Census 2019), the post-stratification total.",
    )
    urban_share: float = Field(ge=0, le=1, description="Share of households in urban villages.")
    mfi_rate_rural: float = Field(
        ge=0, le=1, description="Target share of rural households with an outstanding MFI loan."
    )
    intl_migration_rate: float = Field(
        ge=0, le=1, description="Target share of households with a current international migrant."
    )
    land_title_rate: float = Field(
        ge=0, le=1, description="Share holding a hard land title, among households with land."
    )


class DesignParams(Section):
    """Sampling design: frame, PPS draw of villages, waves and attrition."""

    households_per_province: int = Field(
        ge=20, description="Households sampled per province in wave 1 (split by urban share)."
    )
    households_per_village_min: int = Field(ge=1, description="Fewest households per village.")
    households_per_village_max: int = Field(ge=1, description="Most households per village.")
    mean_village_households_rural: float = Field(
        gt=0, description="Mean households per rural village in the frame."
    )
    mean_village_households_urban: float = Field(
        gt=0, description="Mean households per urban village in the frame."
    )
    village_size_sigma: float = Field(
        ge=0, description="Log-sd of village sizes (households) in the frame."
    )
    villages_per_commune: int = Field(ge=1, description="Villages per commune in the frame.")
    communes_per_district: int = Field(ge=1, description="Communes per district in the frame.")
    baseline_year: int = Field(description="Interview year of wave 1.")
    endline_year: int = Field(description="Interview year of wave 2.")
    attrition_rate: float = Field(
        ge=0, lt=1, description="Share of wave-1 households not re-interviewed (not replaced)."
    )
    attrition_migrant_ratio: float = Field(
        gt=0, description="Attrition odds multiplier for households with an international migrant."
    )
    attrition_new_migrant_rate: float = Field(
        ge=0,
        le=1,
        description="P(a household whose member left for abroad in the wave-2 reference year is "
        "lost at wave 2), on top of attrition_rate: attrition that depends on the wave-2 outcome "
        "(0 in the default world; scenario differential_attrition).",
    )
    attrition_programme_ratio: float = Field(
        ge=0,
        description="Multiplier of attrition_new_migrant_rate for programme households (traced "
        "through the programme's lists); 1 = no difference between the arms.",
    )
    enumerators_per_province: int = Field(ge=1, description="Enumerators per province and wave.")


class HouseholdParams(Section):
    """Household composition, land, income, assets and shocks (calibration sheet)."""

    size_poisson_rural: float = Field(
        gt=0, description="Household size = 1 + Poisson(this), rural (mean 4.5)."
    )
    size_poisson_urban: float = Field(gt=0, description="Same, urban (mean 4.2).")
    female_head_rate: float = Field(ge=0, le=1, description="Share of female household heads.")
    landless_rate_rural: float = Field(ge=0, le=1, description="Share landless, rural.")
    landless_rate_urban: float = Field(ge=0, le=1, description="Share landless, urban.")
    land_median_ha: float = Field(gt=0, description="Median agricultural land of landholders.")
    land_sigma: float = Field(ge=0, description="Log-sd of agricultural land.")
    earned_income_median_usd: float = Field(
        gt=0, description="Median annual earned income (without remittances), rural."
    )
    income_sigma: float = Field(ge=0, description="Log-sd of annual earned income.")
    income_persistent_share: float = Field(
        ge=0, le=1, description="Share of the log-income variance that is household-constant."
    )
    urban_income_ratio: float = Field(gt=0, description="Urban / rural income ratio.")
    distress_income_effect: float = Field(
        description="Effect of one sd of distress on log earned income."
    )
    land_value_usd_per_ha: float = Field(gt=0, description="Price of agricultural land.")
    durables_median_usd: float = Field(gt=0, description="Median value of livestock + durables.")
    shock_climate_rural: float = Field(ge=0, le=1, description="Climate shock rate, rural.")
    shock_climate_urban: float = Field(ge=0, le=1, description="Climate shock rate, urban.")
    shock_health: float = Field(ge=0, le=1, description="Health shock rate.")
    shock_job_loss: float = Field(ge=0, le=1, description="Job-loss shock rate.")
    distress_shock_effect: float = Field(
        description="Points added to each shock probability per sd of distress."
    )


class CreditParams(Section):
    """Loans: take-up, lender mix, amounts, prices, terms and the instrument."""

    mfi_rate_urban: float = Field(ge=0, le=1, description="Target MFI take-up, urban strata.")
    mfi_n_loans_probs: list[float] = Field(description="P(1, 2, 3, 4 MFI loans | any MFI loan).")
    mfi_principal_median_usd: float = Field(gt=0, description="Median MFI principal (a loan).")
    mfi_principal_sigma: float = Field(ge=0, description="Log-sd of MFI principal given income.")
    mfi_principal_income_elasticity: float = Field(
        description="Elasticity of the MFI principal with respect to earned income."
    )
    mfi_second_loan_ratio: float = Field(gt=0, description="Size of later MFI loans vs the first.")
    mfi_rate_cap: float = Field(gt=0, description="Interest rate cap (NBC, April 2017), annual.")
    mfi_share_at_cap: float = Field(ge=0, le=1, description="Share of MFI loans at the cap.")
    mfi_rate_below_cap_min: float = Field(gt=0, description="Lowest annual MFI rate below cap.")
    mfi_terms_months: list[int] = Field(description="MFI loan terms (months).")
    mfi_terms_probs: list[float] = Field(description="Probabilities of the terms.")
    bank_rate_rural: float = Field(ge=0, le=1, description="Share with a bank loan, rural.")
    bank_rate_urban: float = Field(ge=0, le=1, description="Share with a bank loan, urban.")
    bank_principal_median_usd: float = Field(gt=0, description="Median bank principal.")
    bank_interest_annual: float = Field(ge=0, description="Bank interest rate, annual.")
    informal_rate: float = Field(ge=0, le=1, description="Share with an informal loan.")
    informal_rate_high_burden: float = Field(
        ge=0, le=1, description="Same, for formal debt service above half of income."
    )
    informal_lender_probs: dict[str, float] = Field(
        description="Informal lender type -> probability."
    )
    informal_principal_median_usd: float = Field(gt=0, description="Median informal principal.")
    informal_monthly_rate_min: float = Field(ge=0, description="Lowest monthly moneylender rate.")
    informal_monthly_rate_max: float = Field(ge=0, description="Highest monthly moneylender rate.")
    currency_probs: dict[str, float] = Field(
        description="Currency of a loan (KHR, USD, THB) outside border provinces."
    )
    currency_probs_border: dict[str, float] = Field(
        description="Currency of a loan in border provinces."
    )
    branch_density_mean: float = Field(
        gt=0, description="Mean MFI branches per 1,000 households (commune, rural, wave 1)."
    )
    branch_density_sd: float = Field(gt=0, description="Sd of branch density (the instrument).")
    branch_density_urban_shift: float = Field(description="Urban minus rural branch density.")
    branch_density_growth_mean: float = Field(description="Mean change of density wave 1 -> 2.")
    branch_density_growth_sd: float = Field(ge=0, description="Sd of that change.")
    distance_median_km: float = Field(gt=0, description="Median distance to the nearest branch.")
    distance_sigma: float = Field(ge=0, description="Log-sd of the distance.")
    mfi_underreport_rate: float = Field(
        ge=0,
        lt=1,
        description="P(an MFI borrower reports none of its MFI loans), each wave: the exposure "
        "is misreported, the truth uses the real loans (0 in the default world; scenario "
        "misreported_debt).",
    )
    mfi_takeup_persistence: float = Field(
        ge=0, lt=1, description="Correlation of the take-up noise across waves (normal copula)."
    )
    arrears_base: float = Field(ge=0, le=1, description="P(in arrears) of a loan.")
    arrears_high_burden: float = Field(
        ge=0, le=1, description="Added P(in arrears) when debt service exceeds income."
    )


class CopingParams(Section):
    """Coping with debt in the last 12 months (shares among indebted households)."""

    targets: dict[str, float] = Field(
        description="Coping column -> target share among households with debt."
    )
    burden_effect: float = Field(
        description="Points added when debt service exceeds the over-indebtedness threshold."
    )
    distress_effect: float = Field(description="Points added per sd of distress.")
    correlation: float = Field(
        ge=0, lt=1, description="Correlation of the coping draws within a household."
    )


class MigrationParams(Section):
    """Migration: stocks, destinations, channels, brokers, costs, remittances, ILO indicators."""

    established_share: float = Field(
        gt=0,
        lt=1,
        description="Share of the international-migrant target met by established migrants "
        "(left before the reference year; not affected by current debt).",
    )
    established_two_migrants: float = Field(
        ge=0, le=1, description="P(two established international migrants | any)."
    )
    persistence: float = Field(
        ge=0,
        le=1,
        description="P(a wave-1 established international migrant is still away at wave 2).",
    )
    new_migrant_persistence: float = Field(
        ge=0,
        le=1,
        description="P(a wave-1 new international migrant, who left in the reference year and may "
        "have left because of a loan, is still away at wave 2). 0 in the default world: current "
        "borrowing affects current migration only (strict exogeneity); scenario "
        "persistent_debt_migrants sets it.",
    )
    domestic_rate_rural: float = Field(ge=0, le=1, description="Share with a domestic migrant.")
    domestic_rate_urban: float = Field(ge=0, le=1, description="Same, urban.")
    returned_rate: float = Field(
        ge=0, le=1, description="Share with a returned migrant (no current migrant)."
    )
    distress_established_effect: float = Field(
        description="Points of established migration per sd of distress."
    )
    destination_probs: dict[str, float] = Field(
        description="Destination of an international migrant."
    )
    irregular_thailand_border: float = Field(
        ge=0, le=1, description="P(irregular | Thailand), border provinces."
    )
    irregular_thailand_other: float = Field(ge=0, le=1, description="Same, other provinces.")
    irregular_other_destinations: dict[str, float] = Field(
        description="P(irregular | destination) elsewhere."
    )
    regular_thailand_channel_probs: dict[str, float] = Field(
        description="Channel of a regular migrant to Thailand."
    )
    broker_irregular: float = Field(ge=0, le=1, description="P(informal broker | irregular).")
    broker_regular: float = Field(ge=0, le=1, description="P(informal broker | regular).")
    cost_median_usd: dict[str, float] = Field(
        description="Median cost by route: th_irregular, th_mou, th_border_pass, "
        "th_self_regular, kr, my, jp, other, domestic."
    )
    cost_sigma: float = Field(ge=0, description="Log-sd of migration costs.")
    loan_financed_base: float = Field(
        ge=0, le=1, description="P(cost financed by a loan), international."
    )
    loan_financed_mfi: float = Field(description="Points added for MFI borrowers.")
    remittance_median_usd: float = Field(
        gt=0, description="Median annual remittances of one international migrant who sends."
    )
    remittance_sigma: float = Field(ge=0, description="Log-sd of remittances.")
    remittance_zero_rate: float = Field(
        ge=0, le=1, description="P(an established international migrant sends nothing)."
    )
    remittance_domestic_median_usd: float = Field(gt=0, description="Same, domestic migrant.")
    remittance_domestic_zero_rate: float = Field(ge=0, le=1, description="Same, domestic.")
    sector_probs_thailand: dict[str, float] = Field(description="Sector of work, Thailand.")
    sector_probs_other: dict[str, float] = Field(description="Sector of work, elsewhere.")
    ilo_intercepts: dict[str, float] = Field(
        description="Log-odds of each ILO indicator (and paid_below_min_wage) for a regular "
        "migrant without a broker."
    )
    ilo_irregular: float = Field(description="Log-odds added for an irregular migrant.")
    ilo_broker: float = Field(description="Log-odds added for an informal broker.")
    ilo_latent_sd: float = Field(
        ge=0, description="Sd of the episode's latent exploitation factor (log-odds)."
    )
    ilo_domestic_shift: float = Field(description="Log-odds added for domestic migration.")
    below_min_wage_irregular: float = Field(
        description="Log-odds added to paid_below_min_wage for an irregular migrant."
    )


class EffectParams(Section):
    """Structural (causal) coefficients of ``docs/synthetic.md``, 'The structural model'."""

    distress_on_mfi: float = Field(description="Points of MFI take-up per sd of distress.")
    distress_on_migration: float = Field(
        description="Points of new international migration per sd of distress."
    )
    remittances_on_mfi: float = Field(
        description="Points of MFI take-up for remittance-receiving households (reverse causality)."
    )
    shock_on_mfi: float = Field(description="Points of MFI take-up after any shock.")
    instrument_on_mfi: float = Field(
        description="Points of MFI take-up per sd of branch density (the first stage)."
    )
    distance_on_mfi: float = Field(description="Points of MFI take-up per sd of log distance.")
    instrument_direct_effect: float = Field(
        description="Points of new international migration per sd of branch density (0 = a "
        "valid instrument; non-zero breaks the exclusion restriction)."
    )
    mfi_on_migration: float = Field(
        description="Points of new international migration caused by an MFI loan."
    )
    over_indebted_on_migration: float = Field(
        description="Further points caused by over-indebtedness."
    )
    over_indebted_on_irregular: float = Field(
        description="Points of P(irregular | new migrant) caused by over-indebtedness."
    )
    loan_financed_on_debt_bondage: float = Field(
        description="Log-odds of debt_to_broker_employer added when migration is loan-financed."
    )
    land_sale_on_later_migration: float = Field(
        description="Points of wave-2 new migration after a wave-1 distress land sale."
    )
    shock_on_migration: float = Field(description="Points of new migration after any shock.")
    landless_multiplier: float = Field(
        gt=0, description="Effect multiplier for landless households."
    )
    border_multiplier: float = Field(gt=0, description="Effect multiplier, border provinces.")
    phnom_penh_multiplier: float = Field(gt=0, description="Effect multiplier, Phnom Penh.")
    over_indebted_ratio_threshold: float = Field(
        gt=0,
        description="Debt service / income above which a household is over-indebted (must "
        "equal features.over_indebted_ratio_threshold).",
    )
    over_indebted_min_sacrifices: int = Field(
        ge=1,
        description="Sacrifices that make a household over-indebted (features.min_sacrifices).",
    )


class ProgrammeParams(Section):
    """The livelihood programme between the waves (targeted, not randomised)."""

    provinces: list[int] = Field(description="NIS codes of the six programme provinces.")
    coverage: float = Field(
        ge=0, le=1, description="Share of eligible (rural, programme-province) households reached."
    )
    targeting_weights: dict[str, float] = Field(
        description="Weights of the targeting score: landless, low_income, intl_migrant, "
        "risky_migration, over_indebted (all at baseline)."
    )
    targeting_noise_sd: float = Field(ge=0, description="Sd of the noise of the targeting score.")
    unobserved_targeting_weight: float = Field(
        description="Weight of household distress (never in the survey, and a driver of "
        "migration) in the targeting score: the part of the targeting no survey variable "
        "captures (0 in the default world; scenario unobserved_targeting)."
    )
    effect_on_irregular: float = Field(
        description="Points of P(irregular) of a new episode of a treated household."
    )
    effect_on_broker: float = Field(description="Points of P(informal broker) of such an episode.")
    effect_on_ilo: float = Field(description="Log-odds added to each ILO indicator of it.")
    effect_on_new_migration: float = Field(
        description="Points of new international migration of treated households (wave 2)."
    )
    female_representative_rate: float = Field(
        ge=0, le=1, description="P(the programme representative is female)."
    )
    max_trained: int = Field(ge=0, description="Most members trained per treated household.")
    training_modules: dict[str, float] = Field(
        description="P(a trained member attended the module), per training module "
        "(literals.TRAINING_MODULES); a member who drew none attended the first module."
    )

    @field_validator("training_modules")
    @classmethod
    def _known_modules(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(L.TRAINING_MODULES))
        missing = [m for m in L.TRAINING_MODULES if m not in v]
        if unknown or missing:
            raise ValueError(
                f"training_modules must name exactly {list(L.TRAINING_MODULES)}; "
                f"unknown {unknown}, missing {missing}"
            )
        bad = [m for m, r in v.items() if not 0.0 <= r <= 1.0]
        if bad:
            raise ValueError(f"training_modules: rates must be in [0, 1] ({bad})")
        return {m: float(v[m]) for m in L.TRAINING_MODULES}


class DefectParams(Section):
    """Rates of the defects planted in the raw files (per record of the file concerned)."""

    stream: L.DefectStream = Field(
        description="documented: the generator also writes the reviewed answers a data manager "
        "would have after review (its misspellings as codebook `fixes`, its special codes in the "
        "codebooks, corrections.csv), so ingest and clean apply them; blind: the codebooks list "
        "only what a survey firm documents and the corrections log is empty, and the defects are "
        "undocumented special codes, misspelt category labels and outliers in totals and "
        "components, which the checks must find on their own (docs/data-quality.md)."
    )
    duplicate_submission: float = Field(ge=0, le=1, description="Households submitted twice.")
    special_code: float = Field(ge=0, le=1, description="Numeric answers set to -99/-98.")
    misspelt_province: float = Field(ge=0, le=1, description="Province names misspelt.")
    misspelt_label: float = Field(
        ge=0,
        le=1,
        description="Blind stream: other category labels of the Kobo export misspelt (lender, "
        "loan purpose, destination country and sector, relation to the head).",
    )
    outlier: float = Field(
        ge=0,
        le=1,
        description="Amounts multiplied by 100 (documented stream: business income and loan "
        "principal); blind stream: by 10 or 100, per column of totals (income, assets), income "
        "components, loan amounts and migration cost.",
    )
    riel_typed_as_dollars: float = Field(
        ge=0, le=1, description="Riel loan amounts recorded with currency USD."
    )
    skip_logic_loan: float = Field(
        ge=0, le=1, description="Households without a loan given loan details anyway."
    )
    skip_logic_migration: float = Field(
        ge=0, le=1, description="Members not away given migration details anyway."
    )
    test_submissions: int = Field(ge=0, description="Test submissions per source.")
    n_corrections: int = Field(ge=0, description="Reviewed corrections written to corrections.csv.")


class ScenarioParams(Section):
    """A named departure from the default world (``synth.scenarios.<name>``, docs/synthetic.md).

    A scenario sets a few ``synth`` parameters (dotted paths into this section, e.g.
    ``effects.instrument_on_mfi``) and says which estimator assumption the departure breaks. The
    truth of every estimand is computed from the scenario's own potential outcomes, as in the
    default world.
    """

    description: str = Field(min_length=1, description="What departs from the default world.")
    breaks: str = Field(
        min_length=1, description="The identifying assumption (and estimators) it breaks."
    )
    overrides: dict[str, float | int | bool] = Field(
        min_length=1,
        description="Dotted synth parameter path -> value, e.g. effects.instrument_on_mfi: 0.02.",
    )


class SynthParams(Section):
    """Parameters of the ``synth`` stage: the synthetic two-wave survey and its ground truth."""

    seed: int = Field(ge=0, description="Seed of every random draw (numpy Generator).")
    scenario: str = Field(
        description="The world `ctip synth` draws: 'default' (the calibrated world, as written "
        "here) or the name of one of `scenarios`."
    )
    scenarios: dict[str, ScenarioParams] = Field(
        description="Named, documented departures from the default world (docs/synthetic.md); "
        "the Monte Carlo validation draws each of them."
    )
    output_format: L.SynthOutputFormat = Field(
        description="kobo_stata: wave 1 Kobo XLSX + wave 2 Stata .dta (the default); parquet: "
        "the same raw modules as Parquet, for benchmarks at scale."
    )
    khr_per_usd: float = Field(gt=0, description="Riel per US dollar (reporting conversions).")
    thb_per_usd: float = Field(gt=0, description="Baht per US dollar.")
    provinces: dict[int, ProvinceCalibration] = Field(
        description="Per-province frame sizes and calibration targets, keyed by NIS code."
    )
    design: DesignParams
    household: HouseholdParams
    credit: CreditParams
    coping: CopingParams
    migration: MigrationParams
    effects: EffectParams
    programme: ProgrammeParams
    defects: DefectParams

    @field_validator("provinces")
    @classmethod
    def _all_provinces(
        cls, value: dict[int, ProvinceCalibration]
    ) -> dict[int, ProvinceCalibration]:
        if sorted(value) != sorted(L.SYNTH_PROVINCE_CODES):
            raise ValueError(
                f"provinces must be exactly the NIS codes {list(L.SYNTH_PROVINCE_CODES)}"
            )
        return value

    @model_validator(mode="after")
    def _check_scenarios(self) -> SynthParams:
        if DEFAULT_SCENARIO in self.scenarios:
            raise ValueError(
                f"scenarios.{DEFAULT_SCENARIO}: the name is reserved for the world as written"
            )
        if self.scenario != DEFAULT_SCENARIO and self.scenario not in self.scenarios:
            raise ValueError(
                f"scenario {self.scenario!r} is neither {DEFAULT_SCENARIO!r} nor one of "
                f"scenarios ({sorted(self.scenarios)})"
            )
        for name, sc in self.scenarios.items():
            data = self.model_dump(mode="python")
            data.update(scenario=DEFAULT_SCENARIO, scenarios={})
            for path, value in sc.overrides.items():
                _set_path(data, path, value, where=f"scenarios.{name}.overrides.{path}")
            try:
                SynthParams.model_validate(data)
            except ValidationError as exc:
                where = f"scenarios.{name}.overrides"
                problems = "; ".join(
                    f"{where}.{'.'.join(str(x) for x in e['loc'])}: {e['msg']} "
                    f"(got {e.get('input')!r})"
                    for e in exc.errors()
                )
                raise ValueError(problems) from None
        return self


def _set_path(data: dict[str, Any], path: str, value: Any, *, where: str) -> None:
    """Set ``data[a][b]...`` for the dotted ``path`` (every key must already exist)."""
    parts = path.split(".")
    if parts[0] in ("seed", "scenario", "scenarios"):
        raise ValueError(f"{where}: a scenario cannot set {parts[0]!r}")
    node: Any = data
    for i, key in enumerate(parts):
        if isinstance(node, dict):
            lookup: Any = key
            if key not in node and key.lstrip("-").isdigit() and int(key) in node:
                lookup = int(key)  # provinces are keyed by NIS code
            if lookup not in node:
                here = ".".join(parts[:i]) or "synth"
                raise ValueError(f"{where}: {here} has no parameter {key!r}")
        else:
            raise ValueError(f"{where}: {'.'.join(parts[:i])} is not a section")
        if i == len(parts) - 1:
            if isinstance(node[lookup], dict | list):
                raise ValueError(f"{where}: {path} is not a single value")
            node[lookup] = value
        else:
            node = node[lookup]


def apply_scenario(params: SynthParams, name: str | None = None) -> SynthParams:
    """The parameters of the world ``name`` (default: ``params.scenario``).

    ``'default'`` is ``params`` as written; any other name applies that scenario's overrides to
    them. The result is validated like ``params.yaml`` (a value out of range is an error naming
    the scenario and the key) and records the scenario's name in ``scenario``.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> synth = load_params("params.yaml").synth
    >>> apply_scenario(synth, "weak_instrument").effects.instrument_on_mfi
    0.02
    """
    name = params.scenario if name is None else name
    if name == DEFAULT_SCENARIO:
        return params.model_copy(update={"scenario": DEFAULT_SCENARIO})
    if name not in params.scenarios:
        raise ValueError(
            f"unknown synth scenario {name!r}; known: "
            f"{[DEFAULT_SCENARIO, *sorted(params.scenarios)]}"
        )
    data = params.model_dump(mode="python")
    for path, value in params.scenarios[name].overrides.items():
        _set_path(data, path, value, where=f"scenarios.{name}.overrides.{path}")
    data["scenario"] = name
    return SynthParams.model_validate(data)  # valid: checked when params.yaml was loaded
