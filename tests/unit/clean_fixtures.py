"""Hand-made interim tables (canonical + meta columns) for the clean tests: valid by default."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip_research.clean._common import META_COLUMNS
from ctip_research.schemas import CANONICAL_TABLES, coerce_dtypes


def _finish(name: str, data: dict, source: str = "wave1_kobo") -> pd.DataFrame:
    table = CANONICAL_TABLES[name]
    n = len(data["household_id"])
    df = pd.DataFrame({c: data.get(c, [pd.NA] * n) for c in table.columns})
    df = coerce_dtypes(df, table)
    df["_source"] = pd.array([source] * n, dtype="string")
    df["_file"] = pd.array([f"{name}.xlsx"] * n, dtype="string")
    df["_row"] = pd.array(np.arange(2, n + 2), dtype="Int64")
    df["_submission_id"] = pd.array(data["_submission_id"], dtype="string")
    df["_submission_time"] = pd.array(data["_submission_time"], dtype="string")
    assert list(df.columns[-len(META_COLUMNS) :]) == list(META_COLUMNS)
    return df


def make_interim(n_households: int = 40, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Valid interim tables: ``n_households`` wave-1 households, 3 members, 1-2 loans each, and
    one migration episode for each household's away member."""
    rng = np.random.default_rng(seed)
    hid = [f"h{i:04d}" for i in range(n_households)]
    sub = [f"s{i:04d}" for i in range(n_households)]
    times = [f"2022-03-{1 + i % 28:02d}T10:00:00" for i in range(n_households)]
    income = np.round(np.exp(rng.normal(7.5, 0.4, n_households)), 2)
    hh = {
        "household_id": hid,
        "wave": [1] * n_households,
        "interview_year": [2022] * n_households,
        "enumerator_id": [f"E{1 + i % 4:02d}" for i in range(n_households)],
        "stratum_id": ["02-R"] * n_households,
        "psu_id": [f"v{i // 10}" for i in range(n_households)],
        "weight_household": [100.0] * n_households,
        "n_psu_stratum": [50] * n_households,
        "province_code": [2] * n_households,
        "is_urban": [False] * n_households,
        "household_size": [3] * n_households,
        "n_children": [1] * n_households,
        "n_working_age": [2] * n_households,
        "head_age": [40] * n_households,
        "income_annual_usd": income,
        "income_farm_usd": np.round(income * 0.5, 2),
        "asset_value_usd": np.round(np.exp(rng.normal(8, 0.4, n_households)), 2),
        "received_livelihood_grant": [False] * n_households,
        "_submission_id": sub,
        "_submission_time": times,
    }
    members: dict[str, list] = {
        k: []
        for k in (
            "household_id",
            "wave",
            "member_id",
            "sex",
            "age",
            "relation_to_head",
            "is_away",
            "migrant_type",
            "_submission_id",
            "_submission_time",
        )
    }
    loans: dict[str, list] = {
        k: []
        for k in (
            "household_id",
            "wave",
            "loan_id",
            "lender_type",
            "principal",
            "currency",
            "principal_usd",
            "interest_rate_annual",
            "term_months",
            "_submission_id",
            "_submission_time",
        )
    }
    eps: dict[str, list] = {
        k: []
        for k in (
            "household_id",
            "wave",
            "member_id",
            "destination_country",
            "channel",
            "has_returned",
            "migration_cost_usd",
            "cost_financed_by_loan",
            "loan_source",
            "_submission_id",
            "_submission_time",
        )
    }
    for i, h in enumerate(hid):
        for m, (sex, age, rel, away, mt) in enumerate(
            [
                ("male", 42, "head", False, "none"),
                ("female", 38, "spouse", False, "none"),
                ("female", 20, "child", True, "international"),
            ],
            start=1,
        ):
            for k, v in zip(
                (
                    "household_id",
                    "wave",
                    "member_id",
                    "sex",
                    "age",
                    "relation_to_head",
                    "is_away",
                    "migrant_type",
                    "_submission_id",
                    "_submission_time",
                ),
                (h, 1, m, sex, age, rel, away, mt, sub[i], times[i]),
                strict=True,
            ):
                members[k].append(v)
        for ln in range(1, 2 + i % 2):
            amt = float(np.round(np.exp(rng.normal(7, 0.5)), 2))
            for k, v in zip(
                (
                    "household_id",
                    "wave",
                    "loan_id",
                    "lender_type",
                    "principal",
                    "currency",
                    "principal_usd",
                    "interest_rate_annual",
                    "term_months",
                    "_submission_id",
                    "_submission_time",
                ),
                (h, 1, ln, "mfi", amt, "USD", amt, 0.18, 24, sub[i], times[i]),
                strict=True,
            ):
                loans[k].append(v)
        cost = float(np.round(np.exp(rng.normal(6, 0.3)), 2))
        for k, v in zip(
            (
                "household_id",
                "wave",
                "member_id",
                "destination_country",
                "channel",
                "has_returned",
                "migration_cost_usd",
                "cost_financed_by_loan",
                "loan_source",
                "_submission_id",
                "_submission_time",
            ),
            (h, 1, 3, "TH", "mou", False, cost, True, "mfi", sub[i], times[i]),
            strict=True,
        ):
            eps[k].append(v)
    return {
        "households": _finish("households", hh),
        "members": _finish("members", members),
        "loans": _finish("loans", loans),
        "migration_episodes": _finish("migration_episodes", eps),
    }
