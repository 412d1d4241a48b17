"""Small hand-built canonical tables for the features tests (one default row per table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ctip_research.config.features import FeaturesParams
from ctip_research.schemas import coerce_dtypes, get_table

REPO_ROOT = Path(__file__).resolve().parents[1]

HOUSEHOLD: dict[str, Any] = {
    "household_id": "h1",
    "wave": 1,
    "interview_year": 2022,
    "enumerator_id": "e01",
    "stratum_id": "02-R",
    "psu_id": "v01",
    "weight_household": 100.0,
    "n_psu_stratum": 50,
    "province_code": 2,
    "is_urban": False,
    "district_code": 201,
    "commune_code": 20101,
    "household_size": 4,
    "n_children": 1,
    "n_working_age": 3,
    "head_is_female": False,
    "head_age": 45,
    "head_educ_years": 6,
    "land_agri_ha": 1.0,
    "has_land_title": True,
    "income_annual_usd": 4800.0,
    "income_farm_usd": 2400.0,
    "income_wages_usd": 1200.0,
    "income_business_usd": 0.0,
    "income_remittances_usd": 1200.0,
    "income_other_usd": 0.0,
    "asset_value_usd": 10000.0,
    "asset_index": 0.0,
    "shock_climate": False,
    "shock_health": False,
    "shock_job_loss": False,
    "cope_reduce_food": False,
    "cope_new_loan_to_repay": False,
    "cope_migrate_to_repay": False,
    "cope_sold_land": False,
    "cope_sold_assets": False,
    "cope_child_work_or_dropout": False,
    "received_livelihood_grant": False,
    "representative_is_female": False,
    "n_members_trained": 0,
    "n_trained_tip_safe_migration": 0,
    "n_trained_market_linkage": 0,
    "n_trained_livelihood": 0,
    "dist_mfi_branch_km": 4.0,
    "mfi_branches_per_1000hh": 1.0,
}
LOAN: dict[str, Any] = {
    "household_id": "h1",
    "wave": 1,
    "loan_id": 1,
    "lender_type": "mfi",
    "principal": 2400.0,
    "currency": "USD",
    "principal_usd": 2400.0,
    "interest_rate_annual": 0.18,
    "term_months": 24,
    "instalment_monthly_usd": 120.0,
    "outstanding_usd": 2000.0,
    "purpose": "agriculture",
    "collateral": "none",
    "year_taken": 2021,
    "is_in_arrears": False,
}
MEMBER: dict[str, Any] = {
    "household_id": "h1",
    "wave": 1,
    "member_id": 1,
    "sex": "male",
    "age": 45,
    "relation_to_head": "head",
    "educ_years": 6,
    "is_away": False,
    "migrant_type": "none",
}
EPISODE: dict[str, Any] = {
    "household_id": "h1",
    "wave": 1,
    "member_id": 2,
    "destination_country": "TH",
    "destination_sector": "construction",
    "year_left": 2021,
    "channel": "mou",
    "is_irregular": False,
    "used_informal_broker": False,
    "migration_cost_usd": 350.0,
    "cost_financed_by_loan": False,
    "loan_source": "none",
    "deceived_recruitment": False,
    "documents_withheld": False,
    "wages_withheld": False,
    "paid_below_min_wage": False,
    "debt_to_broker_employer": False,
    "movement_restricted": False,
    "threats_violence": False,
    "excessive_hours": False,
    "has_returned": False,
}
_DEFAULTS = {
    "households": HOUSEHOLD,
    "loans": LOAN,
    "members": MEMBER,
    "migration_episodes": EPISODE,
}


def make(table: str, *rows: dict[str, Any]) -> pd.DataFrame:
    """Canonical ``table`` with one row per override dict (defaults fill the rest)."""
    records = [{**_DEFAULTS[table], **r} for r in rows]
    df = pd.DataFrame(records, columns=list(_DEFAULTS[table]))
    return coerce_dtypes(df, get_table(table))


def features_params(**overrides: Any) -> FeaturesParams:
    """The repository's ``features`` params section, with overrides."""
    data = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))["features"]
    data.update(overrides)
    return FeaturesParams.model_validate(data)


def tables(
    households: list[dict[str, Any]] | None = None,
    loans: list[dict[str, Any]] | None = None,
    members: list[dict[str, Any]] | None = None,
    episodes: list[dict[str, Any]] | None = None,
) -> dict[str, pd.DataFrame]:
    """All four canonical tables (empty child tables where ``None``)."""
    hh = households if households is not None else [{}]
    return {
        "households": make("households", *hh),
        "loans": make("loans", *(loans or [])),
        "members": make("members", *(members or [])),
        "migration_episodes": make("migration_episodes", *(episodes or [])),
    }


def scalars(row: pd.Series) -> dict[str, Any]:
    """A row as a dict of Python scalars (``np.True_`` -> ``True``; ``pd.NA`` stays)."""
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
