"""Layout of the synthetic raw layer and what its builders share.

File and sheet names of both sources, the planted-defect record (:class:`RawExport`,
:func:`record_defect`), row picking, and the value tables (province spellings and centroids, the
Kobo choice names, the firm's Stata codes) the builders and codebooks of both waves use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctip_research import literals as L

__all__ = [
    "CORRECTION_COLUMNS",
    "MISSPELT_PROVINCES",
    "PROVINCE_CENTROIDS",
    "W1_COPING",
    "W1_COUNTRIES",
    "W1_CURRENCIES",
    "W1_FILE",
    "W1_MAIN",
    "W1_SHEETS",
    "W1_SHOCKS",
    "W1_SOURCE",
    "W2_DIR",
    "W2_FILES",
    "W2_LABELS",
    "W2_SOURCE",
    "RawExport",
    "amount_in",
    "as_01",
    "invert",
    "money_in",
    "pick_rows",
    "record_defect",
    "select_multiple",
    "yes_no",
]

W1_SOURCE = "wave1_kobo"
W2_SOURCE = "wave2_firm"
W1_FILE = "wave1_kobo.xlsx"
W1_MAIN = "ctip_baseline"
W1_SHEETS = {
    "members": "hh_roster",
    "loans": "loan_repeat",
    "migration_episodes": "migration_repeat",
}
W2_DIR = "wave2_firm"
#: Columns of corrections.csv (docs/CONTRACTS.md).
CORRECTION_COLUMNS = [
    "source",
    "table",
    "row",
    "household_id",
    "variable",
    "old_value",
    "new_value",
    "reason",
]
W2_FILES = {
    "households": "hh",
    "members": "members",
    "loans": "loans",
    "migration_episodes": "migration",
}

MISSPELT_PROVINCES = {
    1: ("Banteay Mean Chey", "Banteay Meanchay", "B. Meanchey"),
    2: ("Batambang", "Battambong", "Battambang "),
    3: ("Kompong Cham", "Kampong Chaam", "Kg Cham"),
    9: ("Koh Kong ", "Kaoh Kong", "Kohkong"),
    12: ("Phnom Phen", "Phnompenh", "Phnom  Penh"),
    14: ("Prey Veaeng", "Prey Vaeng", "PreyVeng"),
    17: ("Siemreap", "Siem Reab", "Siem Riep"),
    18: ("Sihanoukville", "Preah Sihanuk", "Kampong Som"),
}
PROVINCE_CENTROIDS = {
    1: (13.75, 102.99),
    2: (13.03, 103.20),
    3: (11.99, 105.46),
    9: (11.62, 103.11),
    12: (11.56, 104.92),
    14: (11.49, 105.33),
    17: (13.36, 103.86),
    18: (10.63, 103.52),
}
W1_CURRENCIES = {"KHR": "riel", "USD": "usd", "THB": "baht"}
W1_COUNTRIES = {
    "TH": "Thailand",
    "KR": "South Korea",
    "MY": "Malaysia",
    "JP": "Japan",
    "other": "Other",
    "KH": "Cambodia",
}
W1_COPING = {
    "cope_reduce_food": "reduce_food",
    "cope_new_loan_to_repay": "new_loan",
    "cope_migrate_to_repay": "migrate",
    "cope_sold_land": "sold_land",
    "cope_sold_assets": "sold_assets",
    "cope_child_work_or_dropout": "child_work",
}
W1_SHOCKS = {"shock_climate": "climate", "shock_health": "health", "shock_job_loss": "job_loss"}


def _codes(values: tuple[str, ...], start: int = 1) -> dict[int, str]:
    """Number the labels ``values`` from ``start``."""
    return {i + start: v for i, v in enumerate(values)}


W2_LABELS: dict[str, dict[int, str]] = {
    "lender": _codes(L.LENDER_TYPES),
    "purpose": _codes(L.LOAN_PURPOSES),
    "collat": _codes(L.COLLATERALS),
    "dest": _codes(L.DESTINATIONS),
    "sector": _codes(L.DESTINATION_SECTORS),
    "chan": _codes(L.CHANNELS),
    "loan_src": {0: "none", **_codes(L.LENDER_TYPES)},
    "rel": _codes(L.RELATIONS),
    "cur": {1: "KHR", 2: "USD", 3: "THB"},
    "mtype": {0: "none", 1: "international", 2: "domestic"},
}


@dataclass
class RawExport:
    """Raw tables of both sources (pure data), their codebooks and the planted-defect record."""

    w1_sheets: dict[str, pd.DataFrame]
    w2_files: dict[str, pd.DataFrame]
    w2_labels: dict[str, dict[str, dict[int, str]]]
    w2_var_labels: dict[str, dict[str, str]]
    codebooks: dict[str, dict[str, Any]]
    corrections: pd.DataFrame
    defects: list[dict[str, Any]] = field(default_factory=list)


def yes_no(x: pd.Series) -> np.ndarray:
    """A boolean column as Kobo's ``yes``/``no``."""
    return np.where(x.astype(bool).to_numpy(), "yes", "no")


def money_in(usd: pd.Series, rate: float, step: float) -> np.ndarray:
    """Dollar amounts in another currency at ``rate``, rounded to whole ``step``."""
    return (np.round(usd.to_numpy(float) * rate / step) * step).astype(np.int64)


def amount_in(
    usd: pd.Series, currency: pd.Series, rates: dict[str, float], step: dict[str, float]
) -> np.ndarray:
    """Dollar amounts in each row's ``currency``, rounded to that currency's step."""
    r = currency.map(rates).to_numpy(float)
    s = currency.map(step).to_numpy(float)
    return np.round(usd.to_numpy(float) * r / s) * s


def select_multiple(df: pd.DataFrame, mapping: dict[str, str]) -> np.ndarray:
    """A select_multiple answer as Kobo writes it: the codes of the true flags, space-separated."""
    out = np.full(len(df), "", dtype=object)
    for canon, code in mapping.items():
        flag = df[canon].astype(bool).to_numpy()
        out = np.where(flag, np.where(out == "", code, out + " " + code), out)
    return out


def record_defect(
    ex: RawExport,
    source: str,
    file: str,
    sheet: str | None,
    row: int,
    column: str | None,
    defect: str,
    table: str,
    raw_id: Any,
    truth: Any = None,
) -> None:
    """Append one planted defect to ``ex.defects`` (blind stream: with its right value)."""
    rec = {
        "source": source,
        "file": file,
        "sheet": sheet,
        "row": int(row),
        "column": column,
        "defect": defect,
        "table": table,
        "raw_household_id": None if raw_id is None else str(raw_id),
    }
    if truth is not None:  # blind stream: the right value (label, factor or code), for tests
        rec["truth"] = truth
    ex.defects.append(rec)


def pick_rows(rng: np.random.Generator, candidates: np.ndarray, rate: float) -> np.ndarray:
    """``rate * len(candidates)`` candidates drawn without replacement, sorted."""
    k = int(round(rate * len(candidates)))
    if k == 0 or len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=min(k, len(candidates)), replace=False))


def as_01(x: pd.Series) -> np.ndarray:
    """A boolean column as the firm's 0/1 integers."""
    return x.astype(bool).to_numpy().astype(np.int64)


def invert(labels: dict[int, str]) -> dict[str, int]:
    """A value-label mapping turned round: label -> code."""
    return {v: k for k, v in labels.items()}
