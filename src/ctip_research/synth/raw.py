"""Raw files as field teams hand them over, with planted defects, codebooks and manifest.

Wave 1 is a KoboToolbox-style XLSX export (main sheet plus one sheet per repeat group), wave 2 a set
of Stata files from another survey firm (different names, value labels, extended missing values).
Both carry what real exports carry (names, phone numbers, GPS, device ids, free text), so that
ingest's de-identification is exercised for real. Defects are planted at the rates of
``synth.defects`` and every one is recorded (source, file, sheet, row, column, defect class).

:func:`build_raw_export` is pure (DataFrames and dictionaries); :func:`write_raw_files` writes them
atomically and deterministically (fixed XLSX zip timestamps and document properties, fixed Stata
header timestamp).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.determinism import fix_dta_timestamp_file, write_zip
from ctip_research.identity import EMBEDDED_SURVEY, SYNTH_GENERATOR
from ctip_research.io import (
    atomic_path,
    current_path,
    dumps_json,
    file_sha256,
    raw_fingerprint,
    write_csv,
    write_json,
    write_text,
)
from ctip_research.synth._random import Streams
from ctip_research.synth.generate import SyntheticSurvey

__all__ = ["RawExport", "build_raw_export", "write_raw_files"]

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

_GIVEN = (
    "Sokha",
    "Dara",
    "Vanna",
    "Chenda",
    "Sophea",
    "Bopha",
    "Rith",
    "Sreymom",
    "Pisey",
    "Kosal",
    "Chantha",
    "Sothea",
    "Visal",
    "Malis",
    "Rathana",
    "Sovann",
    "Kanha",
    "Piseth",
    "Sreyneang",
    "Vuthy",
    "Leakhena",
    "Sambath",
    "Thida",
    "Narin",
    "Phalla",
    "Kimsan",
)
_FAMILY = (
    "Sok",
    "Chan",
    "Kim",
    "Heng",
    "Chea",
    "Ly",
    "Meas",
    "Keo",
    "Srey",
    "Prak",
    "Nhem",
    "Touch",
    "Hun",
    "Pen",
    "Sam",
    "Yim",
    "Ouk",
    "Mao",
    "Seng",
    "Long",
)
_NOTES = (
    "Respondent busy, interview in two visits.",
    "Neighbour present for part of the interview.",
    "Husband working in Thailand, wife answered.",
    "Loan papers shown by respondent.",
    "Dog barking, hard to hear.",
    "Respondent asked about the grant programme.",
    "",
)
_EMPLOYER = (
    "construction site Rayong",
    "fishing boat Songkhla",
    "rubber farm",
    "garment factory",
    "restaurant Bangkok",
    "palm plantation",
    "",
)
_MISSPELT = {
    1: ("Banteay Mean Chey", "Banteay Meanchay", "B. Meanchey"),
    2: ("Batambang", "Battambong", "Battambang "),
    3: ("Kompong Cham", "Kampong Chaam", "Kg Cham"),
    9: ("Koh Kong ", "Kaoh Kong", "Kohkong"),
    12: ("Phnom Phen", "Phnompenh", "Phnom  Penh"),
    14: ("Prey Veaeng", "Prey Vaeng", "PreyVeng"),
    17: ("Siemreap", "Siem Reab", "Siem Riep"),
    18: ("Sihanoukville", "Preah Sihanuk", "Kampong Som"),
}
_CENTROIDS = {
    1: (13.75, 102.99),
    2: (13.03, 103.20),
    3: (11.99, 105.46),
    9: (11.62, 103.11),
    12: (11.56, 104.92),
    14: (11.49, 105.33),
    17: (13.36, 103.86),
    18: (10.63, 103.52),
}
_CURRENCY_W1 = {"KHR": "riel", "USD": "usd", "THB": "baht"}
_COUNTRY_W1 = {
    "TH": "Thailand",
    "KR": "South Korea",
    "MY": "Malaysia",
    "JP": "Japan",
    "other": "Other",
    "KH": "Cambodia",
}
_COPE_W1 = {
    "cope_reduce_food": "reduce_food",
    "cope_new_loan_to_repay": "new_loan",
    "cope_migrate_to_repay": "migrate",
    "cope_sold_land": "sold_land",
    "cope_sold_assets": "sold_assets",
    "cope_child_work_or_dropout": "child_work",
}
_SHOCK_W1 = {"shock_climate": "climate", "shock_health": "health", "shock_job_loss": "job_loss"}


def _codes(values: tuple[str, ...], start: int = 1) -> dict[int, str]:
    return {i + start: v for i, v in enumerate(values)}


_W2_LABELS: dict[str, dict[int, str]] = {
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


def _yes(x: pd.Series) -> np.ndarray:
    return np.where(x.astype(bool).to_numpy(), "yes", "no")


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    fam = np.asarray(_FAMILY, dtype=object)[rng.integers(0, len(_FAMILY), n)]
    giv = np.asarray(_GIVEN, dtype=object)[rng.integers(0, len(_GIVEN), n)]
    return fam + " " + giv


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.asarray(["12", "17", "77", "89", "96", "97", "10", "15", "70", "81"], dtype=object)[
        rng.integers(0, 10, n)
    ]
    num = rng.integers(100000, 9999999, n).astype(str).astype(object)
    style = rng.random(n)
    return np.where(
        style < 0.5,
        "0" + prefix + num,
        np.where(style < 0.8, "+855 " + prefix + " " + num, "855" + prefix + num),
    )


def _uuid(rng: np.random.Generator, n: int) -> np.ndarray:
    h = rng.integers(0, 16, (n, 32))
    hexs = np.asarray(list("0123456789abcdef"))[h]
    s = ["".join(r) for r in hexs]
    return np.asarray(
        [f"{x[:8]}-{x[8:12]}-4{x[13:16]}-a{x[17:20]}-{x[20:]}" for x in s], dtype=object
    )


def _money_cur(usd: pd.Series, rate: float, step: float) -> np.ndarray:
    return (np.round(usd.to_numpy(float) * rate / step) * step).astype(np.int64)


def _cur_amount(
    usd: pd.Series, currency: pd.Series, rates: dict[str, float], step: dict[str, float]
) -> np.ndarray:
    r = currency.map(rates).to_numpy(float)
    s = currency.map(step).to_numpy(float)
    return np.round(usd.to_numpy(float) * r / s) * s


def build_raw_export(survey: SyntheticSurvey) -> RawExport:
    """Build the raw tables of both sources with planted defects (pure; no file I/O)."""
    p = survey.params
    s = Streams(p.seed)
    rates = {"USD": 1.0, "KHR": p.khr_per_usd, "THB": p.thb_per_usd}
    keys = survey.household_keys.set_index("household_id")["raw_household_id"]
    export = RawExport({}, {}, {}, {}, {}, pd.DataFrame())
    _build_w1(survey, export, s("raw_w1"), rates, keys)
    _build_w2(survey, export, s("raw_w2"), rates, keys)
    export.codebooks = {
        W1_SOURCE: _codebook_w1(survey, export),
        W2_SOURCE: _codebook_w2(survey, export),
    }
    return export


# --------------------------------------------------------------------------------------------
# Wave 1: Kobo XLSX
# --------------------------------------------------------------------------------------------


def _build_w1(
    survey: SyntheticSurvey,
    ex: RawExport,
    rng: np.random.Generator,
    rates: dict[str, float],
    keys: pd.Series,
) -> None:
    p = survey.params
    khr = p.khr_per_usd
    hh = survey.households[survey.households["wave"] == 1].copy()
    hh["raw_id"] = keys.reindex(hh["household_id"]).to_numpy()
    hh = hh.sort_values("raw_id", kind="stable").reset_index(drop=True)
    n = len(hh)
    index = np.arange(1, n + 1)
    uuid = _uuid(rng, n)
    psu_seq = hh["psu_id"].str[-3:].astype(int).to_numpy()
    day = pd.Timestamp(f"{p.design.baseline_year}-02-01") + pd.to_timedelta(psu_seq % 60, unit="D")
    start = day + pd.to_timedelta(rng.integers(7 * 60, 16 * 60, n), unit="min")
    end = start + pd.to_timedelta(rng.integers(35, 95, n), unit="min")
    sub = end + pd.to_timedelta(rng.integers(60, 3 * 24 * 60, n), unit="min")
    lat0 = hh["province_code"].map(lambda c: _CENTROIDS[c][0]).to_numpy()
    lon0 = hh["province_code"].map(lambda c: _CENTROIDS[c][1]).to_numpy()
    has_loan = survey.loans[survey.loans["wave"] == 1].groupby("household_id").size()
    any_loan = hh["household_id"].isin(has_loan.index).to_numpy()
    main = pd.DataFrame(
        {
            "start": start.strftime("%Y-%m-%dT%H:%M:%S.000+07:00"),
            "end": end.strftime("%Y-%m-%dT%H:%M:%S.000+07:00"),
            "today": start.strftime("%Y-%m-%d"),
            "deviceid": np.asarray([f"collect:{x[:16]}" for x in _uuid(rng, n)], dtype=object),
            "enum/enumerator_code": hh["enumerator_id"].to_numpy(),
            "hh/hhid": hh["raw_id"].to_numpy(),
            "hh/province": hh["province_code"].map(L.PROVINCES).to_numpy(),
            "hh/area": np.where(hh["is_urban"].to_numpy(bool), "urban", "rural"),
            "hh/stratum": hh["stratum_id"].to_numpy(),
            "hh/cluster": hh["psu_id"].to_numpy(),
            "hh/district": hh["district_code"].to_numpy(),
            "hh/commune": hh["commune_code"].astype("int64").to_numpy(),
            "hh/village_name": np.asarray([f"Phum {x}" for x in _names(rng, n)], dtype=object),
            "design/weight": hh["weight_household"].to_numpy(float),
            "design/n_villages_stratum": hh["n_psu_stratum"].to_numpy(),
            "hh/respondent_name": _names(rng, n),
            "hh/respondent_phone": _phones(rng, n),
            "hh_gps": "",
            "_hh_gps_latitude": np.round(lat0 + rng.normal(0, 0.15, n), 6),
            "_hh_gps_longitude": np.round(lon0 + rng.normal(0, 0.15, n), 6),
            "_hh_gps_altitude": np.round(rng.uniform(2, 60, n), 1),
            "_hh_gps_precision": np.round(rng.uniform(3, 25, n), 1),
            "hh/hh_size": hh["household_size"].to_numpy(),
            "hh/n_children": hh["n_children"].to_numpy(),
            "hh/n_working_age": hh["n_working_age"].to_numpy(),
            "hh/head_sex": np.where(hh["head_is_female"].to_numpy(bool), "female", "male"),
            "hh/head_age": hh["head_age"].to_numpy(),
            "hh/head_educ": hh["head_educ_years"].to_numpy(),
            "land/agri_land_m2": np.round(hh["land_agri_ha"].to_numpy(float) * 10000).astype(
                np.int64
            ),
            "land/hard_title": _yes(hh["has_land_title"]),
            "inc/farm_khr": _money_cur(hh["income_farm_usd"], khr, 1.0),
            "inc/wages_khr": _money_cur(hh["income_wages_usd"], khr, 1.0),
            "inc/business_khr": _money_cur(hh["income_business_usd"], khr, 1.0),
            "inc/remittances_khr": _money_cur(hh["income_remittances_usd"], khr, 1.0),
            "inc/other_khr": _money_cur(hh["income_other_usd"], khr, 1.0),
            "inc/total_khr": _money_cur(hh["income_annual_usd"], khr, 1.0),
            "assets/value_khr": _money_cur(hh["asset_value_usd"], khr, 1.0),
            "assets/index": hh["asset_index"].to_numpy(float),
        }
    )
    main["hh_gps"] = (
        main["_hh_gps_latitude"].astype(str)
        + " "
        + main["_hh_gps_longitude"].astype(str)
        + " "
        + main["_hh_gps_altitude"].astype(str)
        + " "
        + main["_hh_gps_precision"].astype(str)
    )
    main["shocks/shocks_12m"] = _multi(hh, _SHOCK_W1)
    for canon, code in _SHOCK_W1.items():
        main[f"shocks/shocks_12m/{code}"] = hh[canon].astype(int).to_numpy()
    main["debt/any_loan"] = np.where(any_loan, "yes", "no")
    main["debt/coping"] = _multi(hh, _COPE_W1)
    for canon, code in _COPE_W1.items():
        main[f"debt/coping/{code}"] = hh[canon].astype(int).to_numpy()
    main["credit/dist_branch_km"] = hh["dist_mfi_branch_km"].to_numpy(float)
    main["credit/branches_per_1000hh"] = hh["mfi_branches_per_1000hh"].to_numpy(float)
    main["hh/notes"] = np.asarray(_NOTES, dtype=object)[rng.integers(0, len(_NOTES), n)]
    main["_id"] = 40_000_000 + index
    main["_uuid"] = uuid
    main["_submission_time"] = sub.strftime("%Y-%m-%dT%H:%M:%S")
    main["_validation_status"] = ""
    main["_status"] = "submitted_via_web"
    main["_submitted_by"] = hh["enumerator_id"].str.lower().to_numpy()
    main["__version__"] = "vQ7tXkB2022"
    main["_index"] = index
    parent_of = pd.Series(index, index=hh["household_id"].to_numpy())
    uuid_of = pd.Series(uuid, index=hh["household_id"].to_numpy())
    # repeat groups
    mem = survey.members[survey.members["wave"] == 1].copy()
    mem["_p"] = parent_of.reindex(mem["household_id"]).to_numpy()
    mem = mem.sort_values(["_p", "member_id"], kind="stable").reset_index(drop=True)
    roster = pd.DataFrame(
        {
            "hh_roster/member_line": mem["member_id"].to_numpy(),
            "hh_roster/member_name": _names(rng, len(mem)),
            "hh_roster/member_sex": mem["sex"].to_numpy(),
            "hh_roster/member_age": mem["age"].to_numpy(),
            "hh_roster/member_relation": mem["relation_to_head"].to_numpy(),
            "hh_roster/member_educ": mem["educ_years"].to_numpy(),
            "hh_roster/member_away": _yes(mem["is_away"]),
            "hh_roster/migrant_type": mem["migrant_type"].to_numpy(),
        }
    )
    _kobo_child_meta(
        roster, mem["_p"].to_numpy(), uuid_of.reindex(mem["household_id"]).to_numpy(), "hh_roster"
    )
    lo = survey.loans[survey.loans["wave"] == 1].copy()
    lo["_p"] = parent_of.reindex(lo["household_id"]).to_numpy()
    lo = lo.sort_values(["_p", "loan_id"], kind="stable").reset_index(drop=True)
    step_i = {"KHR": 1000.0, "USD": 1.0, "THB": 10.0}
    loans = pd.DataFrame(
        {
            "loan/lender": lo["lender_type"].to_numpy(),
            "loan/amount": lo["principal"].to_numpy(float),
            "loan/currency": lo["currency"].map(_CURRENCY_W1).to_numpy(),
            "loan/rate_month_pct": np.round(
                lo["interest_rate_annual"].to_numpy(float) * 100 / 12, 6
            ),
            "loan/term_months": lo["term_months"].to_numpy(),
            "loan/instalment": _cur_amount(
                lo["instalment_monthly_usd"], lo["currency"], rates, step_i
            ),
            "loan/outstanding": _cur_amount(lo["outstanding_usd"], lo["currency"], rates, step_i),
            "loan/purpose": lo["purpose"].to_numpy(),
            "loan/collateral": lo["collateral"].to_numpy(),
            "loan/year_taken": lo["year_taken"].to_numpy(),
            "loan/in_arrears": _yes(lo["is_in_arrears"]),
        }
    )
    _kobo_child_meta(
        loans, lo["_p"].to_numpy(), uuid_of.reindex(lo["household_id"]).to_numpy(), "loan_repeat"
    )
    ep = survey.migration_episodes[survey.migration_episodes["wave"] == 1].copy()
    ep["_p"] = parent_of.reindex(ep["household_id"]).to_numpy()
    ep = ep.sort_values(["_p", "member_id"], kind="stable").reset_index(drop=True)
    mig = pd.DataFrame(
        {
            "mig/member_line": ep["member_id"].to_numpy(),
            "mig/country": ep["destination_country"].map(_COUNTRY_W1).to_numpy(),
            "mig/sector": ep["destination_sector"].to_numpy(),
            "mig/year_left": ep["year_left"].to_numpy(),
            "mig/channel": ep["channel"].to_numpy(),
            "mig/irregular": _yes(ep["is_irregular"]),
            "mig/broker": _yes(ep["used_informal_broker"]),
            "mig/cost_usd": ep["migration_cost_usd"].to_numpy(float),
            "mig/loan_financed": _yes(ep["cost_financed_by_loan"]),
            "mig/loan_source": ep["loan_source"].to_numpy(),
            "mig/problems": _multi(ep, {k: k for k in (*L.ILO_INDICATORS, "paid_below_min_wage")}),
        }
    )
    for k in (*L.ILO_INDICATORS, "paid_below_min_wage"):
        mig[f"mig/problems/{k}"] = ep[k].astype(int).to_numpy()
    mig["mig/returned"] = _yes(ep["has_returned"])
    mig["mig/migrant_phone"] = _phones(rng, len(ep))
    mig["mig/employer"] = np.asarray(_EMPLOYER, dtype=object)[
        rng.integers(0, len(_EMPLOYER), len(ep))
    ]
    _kobo_child_meta(
        mig, ep["_p"].to_numpy(), uuid_of.reindex(ep["household_id"]).to_numpy(), "migration_repeat"
    )
    sheets = {W1_MAIN: main, "hh_roster": roster, "loan_repeat": loans, "migration_repeat": mig}
    _plant_w1(p, sheets, rng, ex, lo, rates)
    ex.w1_sheets = sheets


def _multi(df: pd.DataFrame, mapping: dict[str, str]) -> np.ndarray:
    out = np.full(len(df), "", dtype=object)
    for canon, code in mapping.items():
        flag = df[canon].astype(bool).to_numpy()
        out = np.where(flag, np.where(out == "", code, out + " " + code), out)
    return out


def _kobo_child_meta(df: pd.DataFrame, parent: np.ndarray, uuid: np.ndarray, table: str) -> None:
    df["_index"] = np.arange(1, len(df) + 1)
    df["_parent_table_name"] = W1_MAIN
    df["_parent_index"] = parent
    df["_submission__uuid"] = uuid
    del table


def _record(
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


def _pick(rng: np.random.Generator, candidates: np.ndarray, rate: float) -> np.ndarray:
    k = int(round(rate * len(candidates)))
    if k == 0 or len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=min(k, len(candidates)), replace=False))


def _plant_w1(
    p: SynthParams,
    sheets: dict[str, pd.DataFrame],
    rng: np.random.Generator,
    ex: RawExport,
    lo: pd.DataFrame,
    rates: dict[str, float],
) -> None:
    """Plant the defects of wave 1: wrong values (by stream), then structure (both streams)."""
    if p.defects.stream == "blind":
        _plant_w1_blind(p, sheets, rng, ex)
    else:
        _plant_w1_values(p, sheets, rng, ex, rates)
    _plant_w1_structure(p, sheets, rng, ex)
    del lo


def _plant_w1_values(
    p: SynthParams,
    sheets: dict[str, pd.DataFrame],
    rng: np.random.Generator,
    ex: RawExport,
    rates: dict[str, float],
) -> None:
    """Documented stream: -99/-98 codes, misspelt provinces (written as codebook fixes), x100
    business incomes and principals, riel typed as dollars (some corrected in the log)."""
    dp = p.defects
    main = sheets[W1_MAIN]
    # row of the first record as ingest numbers it (docs/CONTRACTS.md, interim `_row`): the
    # header is row 1 of a spreadsheet; Parquet rows start at 1
    first = 1 if p.output_format == "parquet" else 2
    raw_ids = main["hh/hhid"].to_numpy()
    n = len(main)
    # special codes
    for col in ("hh/head_age", "inc/farm_khr", "inc/wages_khr", "land/agri_land_m2"):
        rows = _pick(rng, np.arange(n), dp.special_code)
        codes = np.where(rng.random(len(rows)) < 0.5, -99, -98)
        main.loc[rows, col] = codes
        for r, c in zip(rows, codes, strict=True):
            _record(
                ex,
                W1_SOURCE,
                W1_FILE,
                W1_MAIN,
                r + first,
                col,
                "special_code_refused" if c == -99 else "special_code_dont_know",
                "households",
                raw_ids[r],
            )
    # misspelt provinces
    rows = _pick(rng, np.arange(n), dp.misspelt_province)
    codes_prov = main["hh/province"].map({v: k for k, v in L.PROVINCES.items()}).to_numpy()
    prov_col = main["hh/province"].to_numpy(object).copy()
    pick_variant = rng.integers(0, 3, len(rows))
    for j, r in enumerate(rows):
        variants = _MISSPELT[int(codes_prov[r])]
        prov_col[r] = variants[int(pick_variant[j]) % len(variants)]
        _record(
            ex,
            W1_SOURCE,
            W1_FILE,
            W1_MAIN,
            r + first,
            "hh/province",
            "misspelt_province",
            "households",
            raw_ids[r],
        )
    main["hh/province"] = prov_col
    # outliers (x100)
    cand = np.flatnonzero(main["inc/business_khr"].to_numpy(float) > 0)
    rows = _pick(rng, cand, dp.outlier * n / max(len(cand), 1))
    arr = main["inc/business_khr"].to_numpy().copy()
    arr[rows] = arr[rows] * 100
    main["inc/business_khr"] = arr
    for r in rows:
        _record(
            ex,
            W1_SOURCE,
            W1_FILE,
            W1_MAIN,
            r + first,
            "inc/business_khr",
            "outlier",
            "households",
            raw_ids[r],
        )
    loans = sheets["loan_repeat"]
    lo_raw = main.set_index("_index")["hh/hhid"]
    rows = _pick(rng, np.arange(len(loans)), dp.outlier)
    arr = loans["loan/amount"].to_numpy().copy()
    arr[rows] = arr[rows] * 100
    loans["loan/amount"] = arr
    parent_idx = loans["_parent_index"].to_numpy()
    for r in rows:
        _record(
            ex,
            W1_SOURCE,
            W1_FILE,
            "loan_repeat",
            r + first,
            "loan/amount",
            "outlier",
            "loans",
            lo_raw.get(parent_idx[r]),
        )
    # riel typed as dollars (and the reviewed corrections of some of them)
    riel = np.flatnonzero(loans["loan/currency"].to_numpy() == "riel")
    corr_rows: list[dict[str, Any]] = []
    picked = _pick(rng, riel, dp.riel_typed_as_dollars)
    cur_col = loans["loan/currency"].to_numpy(object).copy()
    cur_col[picked] = "usd"
    loans["loan/currency"] = cur_col
    for j, r in enumerate(picked):
        _record(
            ex,
            W1_SOURCE,
            W1_FILE,
            "loan_repeat",
            r + first,
            "loan/currency",
            "riel_typed_as_dollars",
            "loans",
            lo_raw.get(parent_idx[r]),
        )
        if j < dp.n_corrections:
            for var, col in (
                ("principal_usd", "loan/amount"),
                ("instalment_monthly_usd", "loan/instalment"),
                ("outstanding_usd", "loan/outstanding"),
            ):
                amount = float(loans[col].to_numpy(float)[r])
                corr_rows.append(
                    {
                        "source": W1_SOURCE,
                        "table": "loans",
                        "row": r + first,
                        "household_id": "",
                        "variable": var,
                        "old_value": amount,
                        "new_value": amount / rates["KHR"],
                        "reason": "riel amount recorded with currency USD; confirmed "
                        "with the loan document by the field supervisor",
                    }
                )
            corr_rows.append(
                {
                    "source": W1_SOURCE,
                    "table": "loans",
                    "row": r + first,
                    "household_id": "",
                    "variable": "currency",
                    "old_value": "USD",
                    "new_value": "KHR",
                    "reason": "riel amount recorded with currency USD",
                }
            )
    ex.corrections = pd.DataFrame(corr_rows, columns=CORRECTION_COLUMNS)


def _plant_w1_structure(
    p: SynthParams, sheets: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Skip-logic violations, duplicate submissions and test submissions (both streams)."""
    dp = p.defects
    main = sheets[W1_MAIN]
    first = 1 if p.output_format == "parquet" else 2
    raw_ids = main["hh/hhid"].to_numpy()
    n = len(main)
    loans = sheets["loan_repeat"]
    lo_raw = main.set_index("_index")["hh/hhid"]
    # skip-logic violations: a loan for a household that said it has no loan
    no_loan = np.flatnonzero(main["debt/any_loan"].to_numpy() == "no")
    picked = _pick(rng, no_loan, dp.skip_logic_loan)
    if len(picked):
        extra = loans.iloc[rng.integers(0, len(loans), len(picked))].copy()
        extra["_parent_index"] = main["_index"].to_numpy()[picked]
        extra["_submission__uuid"] = main["_uuid"].to_numpy()[picked]
        for j, r in enumerate(picked):
            _record(
                ex,
                W1_SOURCE,
                W1_FILE,
                "loan_repeat",
                len(loans) + j + first,
                None,
                "skip_logic_loan_without_loan",
                "loans",
                raw_ids[r],
            )
        loans = pd.concat([loans, extra], ignore_index=True)
    # migration details for a member who is not away
    roster = sheets["hh_roster"]
    mig = sheets["migration_repeat"]
    have = pd.MultiIndex.from_arrays([mig["_parent_index"], mig["mig/member_line"]])
    listed = pd.MultiIndex.from_arrays(
        [roster["_parent_index"], roster["hh_roster/member_line"]]
    ).isin(have)
    home = np.flatnonzero(
        (roster["hh_roster/member_away"].to_numpy() == "no")
        & (roster["hh_roster/member_age"].to_numpy() >= 15)
        & ~listed
    )
    picked = _pick(rng, home, dp.skip_logic_migration)
    if len(picked):
        extra = mig.iloc[rng.integers(0, len(mig), len(picked))].copy()
        extra["_parent_index"] = roster["_parent_index"].to_numpy()[picked]
        extra["_submission__uuid"] = roster["_submission__uuid"].to_numpy()[picked]
        extra["mig/member_line"] = roster["hh_roster/member_line"].to_numpy()[picked]
        extra["mig/returned"] = "no"
        for j, i in enumerate(picked):
            _record(
                ex,
                W1_SOURCE,
                W1_FILE,
                "migration_repeat",
                len(mig) + j + first,
                None,
                "skip_logic_migration_not_away",
                "migration_episodes",
                lo_raw.get(roster["_parent_index"].iat[i]),
            )
        mig = pd.concat([mig, extra], ignore_index=True)
    # duplicate submissions (the same interview uploaded twice; the later copy is identical)
    dups = _pick(rng, np.arange(n), dp.duplicate_submission)
    next_index = int(main["_index"].max()) + 1
    dup_rows = main.loc[dups].copy()
    new_index = np.arange(next_index, next_index + len(dups))
    new_uuid = _uuid(rng, len(dups))
    old_to_new = pd.Series(new_index, index=dup_rows["_index"].to_numpy())
    old_to_uuid = pd.Series(new_uuid, index=dup_rows["_index"].to_numpy())
    dup_rows["_index"] = new_index
    dup_rows["_id"] = 40_000_000 + new_index
    dup_rows["_uuid"] = new_uuid
    dup_rows["_submission_time"] = (
        pd.to_datetime(dup_rows["_submission_time"]) + pd.Timedelta(hours=30)
    ).dt.strftime("%Y-%m-%dT%H:%M:%S")
    new_rows = [dup_rows]
    for j, r in enumerate(dups):
        _record(
            ex,
            W1_SOURCE,
            W1_FILE,
            W1_MAIN,
            n + j + first,
            None,
            "duplicate_submission",
            "households",
            raw_ids[r],
        )
    next_index += len(dups)
    children = {"hh_roster": roster, "loan_repeat": loans, "migration_repeat": mig}
    child_add: dict[str, list[pd.DataFrame]] = {}
    for name, child in children.items():
        c = child[child["_parent_index"].isin(old_to_new.index)].copy()
        c["_submission__uuid"] = old_to_uuid.reindex(c["_parent_index"]).to_numpy()
        c["_parent_index"] = old_to_new.reindex(c["_parent_index"]).to_numpy()
        c = c.sort_values("_parent_index", kind="stable")
        child_add[name] = [c]
    # test submissions
    tests = []
    for k in range(dp.test_submissions):
        row = main.loc[int(rng.integers(0, n))].copy()
        row["hh/hhid"] = f"TEST-{k + 1:03d}"
        row["enum/enumerator_code"] = "test"
        row["_submitted_by"] = "test_user"
        row["_index"] = next_index
        row["_id"] = 40_000_000 + next_index
        row["_uuid"] = _uuid(rng, 1)[0]
        row["start"] = f"{p.design.baseline_year}-01-2{k}T09:00:00.000+07:00"
        row["_submission_time"] = f"{p.design.baseline_year}-01-2{k}T10:00:00"
        row["hh/respondent_name"] = "test test"
        tests.append(row)
        _record(
            ex,
            W1_SOURCE,
            W1_FILE,
            W1_MAIN,
            n + len(dups) + len(tests) - 1 + first,
            None,
            "test_submission",
            "households",
            row["hh/hhid"],
        )
        next_index += 1
    main = pd.concat([main, *new_rows, pd.DataFrame(tests)], ignore_index=True)
    for name in children:
        if child_add[name]:
            add = pd.concat(child_add[name], ignore_index=True)
            base = children[name]
            add["_index"] = np.arange(len(base) + 1, len(base) + len(add) + 1)
            children[name] = pd.concat([base, add], ignore_index=True)
    main["_index"] = main["_index"].astype(np.int64)
    sheets[W1_MAIN] = main
    sheets.update(children)


# --------------------------------------------------------------------------------------------
# Wave 2: Stata files of the survey firm
# --------------------------------------------------------------------------------------------


def _b(x: pd.Series) -> np.ndarray:
    return x.astype(bool).to_numpy().astype(np.int64)


def _inv(labels: dict[int, str]) -> dict[str, int]:
    return {v: k for k, v in labels.items()}


def _build_w2(
    survey: SyntheticSurvey,
    ex: RawExport,
    rng: np.random.Generator,
    rates: dict[str, float],
    keys: pd.Series,
) -> None:
    p = survey.params
    hh = survey.households[survey.households["wave"] == 2].copy()
    hh["raw_id"] = keys.reindex(hh["household_id"]).to_numpy()
    hh = hh.sort_values("raw_id", kind="stable").reset_index(drop=True)
    n = len(hh)
    psu_seq = hh["psu_id"].str[-3:].astype(int).to_numpy()
    date = (
        pd.Timestamp(f"{p.design.endline_year}-03-01")
        + pd.to_timedelta(psu_seq % 75, unit="D")
        + pd.to_timedelta(rng.integers(7 * 60, 17 * 60, n), unit="min")
    )
    lat0 = hh["province_code"].map(lambda c: _CENTROIDS[c][0]).to_numpy()
    lon0 = hh["province_code"].map(lambda c: _CENTROIDS[c][1]).to_numpy()
    rep = hh["representative_is_female"]
    main = pd.DataFrame(
        {
            "hhid": hh["raw_id"].to_numpy(),
            "q000_date": date.strftime("%Y-%m-%d %H:%M:%S"),
            "q001_enum": hh["enumerator_id"].to_numpy(),
            "q101_prov": hh["province_code"].to_numpy(np.int64),
            "q102_area": np.where(hh["is_urban"].to_numpy(bool), 1, 2),
            "q103_cluster": hh["psu_id"].to_numpy(),
            "q104_stratum": hh["stratum_id"].to_numpy(),
            "wgt": hh["weight_household"].to_numpy(float),
            "fpc_n": hh["n_psu_stratum"].to_numpy(np.int64),
            "q105_district": hh["district_code"].to_numpy(np.int64),
            "q106_commune": hh["commune_code"].astype("int64").to_numpy(np.int64),
            "resp_name": _names(rng, n),
            "resp_tel": _phones(rng, n),
            "gps_lat": np.round(lat0 + rng.normal(0, 0.15, n), 6),
            "gps_lon": np.round(lon0 + rng.normal(0, 0.15, n), 6),
            "q201_hhsize": hh["household_size"].to_numpy(np.int64),
            "q202_nchild": hh["n_children"].to_numpy(np.int64),
            "q203_nwork": hh["n_working_age"].to_numpy(np.int64),
            "q204_headsex": np.where(hh["head_is_female"].to_numpy(bool), 2, 1),
            "q205_headage": hh["head_age"].to_numpy(np.int64).astype(float),
            "q206_headedu": hh["head_educ_years"].to_numpy(np.int64),
            "q301_land_ha": hh["land_agri_ha"].to_numpy(float),
            "q302_title": _b(hh["has_land_title"]),
            "q401_farm_usd": hh["income_farm_usd"].to_numpy(float),
            "q402_wage_usd": hh["income_wages_usd"].to_numpy(float),
            "q403_busi_usd": hh["income_business_usd"].to_numpy(float),
            "q404_remit_usd": hh["income_remittances_usd"].to_numpy(float),
            "q405_other_usd": hh["income_other_usd"].to_numpy(float),
            "q406_total_usd": hh["income_annual_usd"].to_numpy(float),
            "q410_assets_usd": hh["asset_value_usd"].to_numpy(float),
            "q411_assetidx": hh["asset_index"].to_numpy(float),
            "q501_climate": _b(hh["shock_climate"]),
            "q502_health": _b(hh["shock_health"]),
            "q503_jobloss": _b(hh["shock_job_loss"]),
            "q600_anyloan": hh["household_id"]
            .isin(survey.loans.loc[survey.loans["wave"] == 2, "household_id"])
            .to_numpy()
            .astype(np.int64),
            **{
                f"q60{i + 1}_{c.removeprefix('cope_')[:8]}": _b(hh[c])
                for i, c in enumerate(L.COPING)
            },
            "q701_grant": _b(hh["received_livelihood_grant"]),
            "q702_rep_female": np.where(
                rep.isna().to_numpy(),
                np.nan,
                rep.fillna(False).astype(bool).to_numpy().astype(float),
            ),
            "q703_ntrained": hh["n_members_trained"].to_numpy(np.int64),
            "q704_tr_tip": hh["n_trained_tip_safe_migration"].to_numpy(np.int64),
            "q705_tr_market": hh["n_trained_market_linkage"].to_numpy(np.int64),
            "q706_tr_liveli": hh["n_trained_livelihood"].to_numpy(np.int64),
            "q801_dist_km": hh["dist_mfi_branch_km"].to_numpy(float),
            "q802_branches": hh["mfi_branches_per_1000hh"].to_numpy(float),
            "comments": np.asarray(_NOTES, dtype=object)[rng.integers(0, len(_NOTES), n)],
        }
    )
    mem = survey.members[survey.members["wave"] == 2].copy()
    mem["raw_id"] = keys.reindex(mem["household_id"]).to_numpy()
    mem = mem.sort_values(["raw_id", "member_id"], kind="stable").reset_index(drop=True)
    members = pd.DataFrame(
        {
            "hhid": mem["raw_id"].to_numpy(),
            "line": mem["member_id"].to_numpy(np.int64),
            "name": _names(rng, len(mem)),
            "sex": np.where(mem["sex"].to_numpy() == "female", 2, 1),
            "age": mem["age"].to_numpy(np.int64),
            "rel": mem["relation_to_head"].map(_inv(_W2_LABELS["rel"])).to_numpy(np.int64),
            "edu": mem["educ_years"].to_numpy(np.int64),
            "away": _b(mem["is_away"]),
            "mtype": mem["migrant_type"].map(_inv(_W2_LABELS["mtype"])).to_numpy(np.int64),
        }
    )
    lo = survey.loans[survey.loans["wave"] == 2].copy()
    lo["raw_id"] = keys.reindex(lo["household_id"]).to_numpy()
    lo = lo.sort_values(["raw_id", "loan_id"], kind="stable").reset_index(drop=True)
    step_i = {"KHR": 1000.0, "USD": 1.0, "THB": 10.0}
    loans = pd.DataFrame(
        {
            "hhid": lo["raw_id"].to_numpy(),
            "lno": lo["loan_id"].to_numpy(np.int64),
            "lender": lo["lender_type"].map(_inv(_W2_LABELS["lender"])).to_numpy(np.int64),
            "amt": lo["principal"].to_numpy(float),
            "cur": lo["currency"].map(_inv(_W2_LABELS["cur"])).to_numpy(np.int64),
            "rate_yr_pct": np.round(lo["interest_rate_annual"].to_numpy(float) * 100, 4),
            "term": lo["term_months"].to_numpy(np.int64),
            "inst": _cur_amount(lo["instalment_monthly_usd"], lo["currency"], rates, step_i),
            "outst": _cur_amount(lo["outstanding_usd"], lo["currency"], rates, step_i),
            "purpose": lo["purpose"].map(_inv(_W2_LABELS["purpose"])).to_numpy(np.int64),
            "collat": lo["collateral"].map(_inv(_W2_LABELS["collat"])).to_numpy(np.int64),
            "yr_taken": lo["year_taken"].to_numpy(np.int64),
            "arrears": _b(lo["is_in_arrears"]),
        }
    )
    ep = survey.migration_episodes[survey.migration_episodes["wave"] == 2].copy()
    ep["raw_id"] = keys.reindex(ep["household_id"]).to_numpy()
    ep = ep.sort_values(["raw_id", "member_id"], kind="stable").reset_index(drop=True)
    mig = pd.DataFrame(
        {
            "hhid": ep["raw_id"].to_numpy(),
            "line": ep["member_id"].to_numpy(np.int64),
            "dest": ep["destination_country"].map(_inv(_W2_LABELS["dest"])).to_numpy(np.int64),
            "sector": ep["destination_sector"].map(_inv(_W2_LABELS["sector"])).to_numpy(np.int64),
            "yr_left": ep["year_left"].to_numpy(np.int64),
            "chan": ep["channel"].map(_inv(_W2_LABELS["chan"])).to_numpy(np.int64),
            "irreg": _b(ep["is_irregular"]),
            "broker": _b(ep["used_informal_broker"]),
            "cost_thb": np.round(ep["migration_cost_usd"].to_numpy(float) * p.thb_per_usd),
            "loan_fin": _b(ep["cost_financed_by_loan"]),
            "loan_src": ep["loan_source"].map(_inv(_W2_LABELS["loan_src"])).to_numpy(np.int64),
            **{f"ilo_{k[:20]}": _b(ep[k]) for k in (*L.ILO_INDICATORS, "paid_below_min_wage")},
            "returned": _b(ep["has_returned"]),
            "mig_tel": _phones(rng, len(ep)),
        }
    )
    files = {"hh": main, "members": members, "loans": loans, "migration": mig}
    _plant_w2(p, files, rng, ex)
    ex.w2_files = files
    ex.w2_labels = {
        "hh": {
            "q101_prov": dict(L.SYNTH_PROVINCES),
            "q102_area": {1: "urban", 2: "rural"},
            "q204_headsex": {1: "male", 2: "female"},
            **{
                c: {0: "no", 1: "yes"}
                for c in main.columns
                if c.startswith(("q30", "q50", "q60", "q701", "q702")) and c != "q301_land_ha"
            },
        },
        "members": {
            "sex": {1: "male", 2: "female"},
            "rel": _W2_LABELS["rel"],
            "away": {0: "no", 1: "yes"},
            "mtype": _W2_LABELS["mtype"],
        },
        "loans": {
            "lender": _W2_LABELS["lender"],
            "cur": _W2_LABELS["cur"],
            "purpose": _W2_LABELS["purpose"],
            "collat": _W2_LABELS["collat"],
            "arrears": {0: "no", 1: "yes"},
        },
        "migration": {
            "dest": _W2_LABELS["dest"],
            "sector": _W2_LABELS["sector"],
            "chan": _W2_LABELS["chan"],
            "loan_src": _W2_LABELS["loan_src"],
            **{
                c: {0: "no", 1: "yes"}
                for c in mig.columns
                if c.startswith("ilo_") or c in ("irreg", "broker", "loan_fin", "returned")
            },
        },
    }
    ex.w2_var_labels = {
        name: {c: _W2_VAR_LABELS.get(c, c) for c in df.columns} for name, df in files.items()
    }


_W2_VAR_LABELS = {
    "hhid": "Household ID (baseline)",
    "q000_date": "Interview date and time",
    "q001_enum": "Enumerator code",
    "q101_prov": "Province",
    "q102_area": "Area (urban/rural)",
    "q103_cluster": "Cluster (village)",
    "q104_stratum": "Stratum",
    "wgt": "Household weight",
    "fpc_n": "Villages in stratum (FPC)",
    "q105_district": "District code",
    "q106_commune": "Commune code",
    "resp_name": "Respondent name",
    "resp_tel": "Respondent telephone",
    "gps_lat": "GPS latitude",
    "gps_lon": "GPS longitude",
    "q201_hhsize": "Household size",
    "q202_nchild": "Children under 15",
    "q203_nwork": "Members aged 15-64",
    "q204_headsex": "Sex of head",
    "q205_headage": "Age of head",
    "q206_headedu": "Years of schooling of head",
    "q301_land_ha": "Agricultural land (ha)",
    "q302_title": "Hard land title",
    "q401_farm_usd": "Farm income, 12 months (USD)",
    "q402_wage_usd": "Wage income (USD)",
    "q403_busi_usd": "Business income (USD)",
    "q404_remit_usd": "Remittances received (USD)",
    "q405_other_usd": "Other income (USD)",
    "q406_total_usd": "Total income (USD)",
    "q410_assets_usd": "Value of assets (USD)",
    "q411_assetidx": "Asset index",
    "q600_anyloan": "Any loan outstanding",
    "q701_grant": "Received livelihood grant",
    "q702_rep_female": "Programme representative female",
    "q703_ntrained": "Members trained",
    "q704_tr_tip": "Members trained: TIP and safe migration",
    "q705_tr_market": "Members trained: market linkage",
    "q706_tr_liveli": "Members trained: livelihood",
    "q801_dist_km": "Distance to MFI branch (km)",
    "q802_branches": "MFI branches per 1000 households",
    "comments": "Enumerator comments",
    "line": "Member line number",
    "name": "Member name",
    "cost_thb": "Migration cost (baht)",
    "mig_tel": "Migrant telephone",
    "amt": "Loan amount",
    "cur": "Currency",
    "rate_yr_pct": "Interest rate (% a year)",
    "inst": "Monthly instalment",
    "outst": "Outstanding",
}


def _plant_w2(
    p: SynthParams, files: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Plant the defects of wave 2: wrong values (by stream), then structure (both streams)."""
    if p.defects.stream == "blind":
        _plant_w2_blind(p, files, rng, ex)
    else:
        _plant_w2_values(p, files, rng, ex)
    _plant_w2_structure(p, files, rng, ex)


def _plant_w2_values(
    p: SynthParams, files: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Documented stream: .a/.b codes, x100 business incomes and principals, riel as dollars."""
    dp = p.defects
    main = files["hh"]
    n = len(main)
    first = 1
    fname = f"{W2_DIR}/hh.dta"
    hhid = main["hhid"].to_numpy(object)
    for col in ("q205_headage", "q401_farm_usd", "q402_wage_usd", "q301_land_ha"):
        rows = _pick(rng, np.arange(n), dp.special_code)
        codes = np.where(rng.random(len(rows)) < 0.5, "a", "b")
        arr = main[col].to_numpy(object).copy()
        arr[rows] = codes
        main[col] = arr
        for r, c in zip(rows, codes, strict=True):
            kind = "special_code_refused" if c == "a" else "special_code_dont_know"
            _record(ex, W2_SOURCE, fname, None, r + first, col, kind, "households", hhid[r])
    cand = np.flatnonzero(main["q403_busi_usd"].to_numpy(float) > 0)
    rows = _pick(rng, cand, dp.outlier * n / max(len(cand), 1))
    busi = main["q403_busi_usd"].to_numpy(float).copy()
    busi[rows] = busi[rows] * 100
    main["q403_busi_usd"] = busi
    for r in rows:
        _record(
            ex, W2_SOURCE, fname, None, r + first, "q403_busi_usd", "outlier", "households", hhid[r]
        )
    loans = files["loans"]
    lname = f"{W2_DIR}/loans.dta"
    l_hhid = loans["hhid"].to_numpy(object)
    rows = _pick(rng, np.arange(len(loans)), dp.outlier)
    amt = loans["amt"].to_numpy(float).copy()
    amt[rows] = amt[rows] * 100
    loans["amt"] = amt
    for r in rows:
        _record(ex, W2_SOURCE, lname, None, r + first, "amt", "outlier", "loans", l_hhid[r])
    riel = np.flatnonzero(loans["cur"].to_numpy() == 1)
    rows = _pick(rng, riel, dp.riel_typed_as_dollars)
    cur = loans["cur"].to_numpy().copy()
    cur[rows] = 2
    loans["cur"] = cur
    for r in rows:
        _record(
            ex,
            W2_SOURCE,
            lname,
            None,
            r + first,
            "cur",
            "riel_typed_as_dollars",
            "loans",
            l_hhid[r],
        )


def _plant_w2_structure(
    p: SynthParams, files: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Skip-logic violations, duplicate submissions and test submissions (both streams)."""
    dp = p.defects
    main = files["hh"]
    n = len(main)
    fname = f"{W2_DIR}/hh.dta"
    loans = files["loans"]
    lname = f"{W2_DIR}/loans.dta"
    no_loan = np.flatnonzero(main["q600_anyloan"].to_numpy() == 0)
    picked = _pick(rng, no_loan, dp.skip_logic_loan)
    if len(picked):
        extra = loans.iloc[rng.integers(0, len(loans), len(picked))].copy()
        extra["hhid"] = main["hhid"].to_numpy()[picked]
        extra["lno"] = 1
        for j, r in enumerate(picked):
            _record(
                ex,
                W2_SOURCE,
                lname,
                None,
                len(loans) + j + 1,
                None,
                "skip_logic_loan_without_loan",
                "loans",
                main["hhid"].iat[r],
            )
        files["loans"] = pd.concat([loans, extra], ignore_index=True)
    members, mig = files["members"], files["migration"]
    have = pd.MultiIndex.from_arrays([mig["hhid"], mig["line"]])
    listed = pd.MultiIndex.from_arrays([members["hhid"], members["line"]]).isin(have)
    home = np.flatnonzero(
        (members["away"].to_numpy() == 0) & (members["age"].to_numpy() >= 15) & ~listed
    )
    picked = _pick(rng, home, dp.skip_logic_migration)
    if len(picked):
        extra = mig.iloc[rng.integers(0, len(mig), len(picked))].copy()
        extra["hhid"] = members["hhid"].to_numpy()[picked]
        extra["line"] = members["line"].to_numpy()[picked]
        extra["returned"] = 0
        for j, i in enumerate(picked):
            _record(
                ex,
                W2_SOURCE,
                f"{W2_DIR}/migration.dta",
                None,
                len(mig) + j + 1,
                None,
                "skip_logic_migration_not_away",
                "migration_episodes",
                members["hhid"].iat[i],
            )
        files["migration"] = pd.concat([mig, extra], ignore_index=True)
    dups = _pick(rng, np.arange(n), dp.duplicate_submission)
    dup_rows = main.loc[dups].copy()
    dup_rows["q000_date"] = (
        pd.to_datetime(dup_rows["q000_date"]) + pd.Timedelta(days=2)
    ).dt.strftime("%Y-%m-%d %H:%M:%S")
    for j, r in enumerate(dups):
        _record(
            ex,
            W2_SOURCE,
            fname,
            None,
            n + j + 1,
            None,
            "duplicate_submission",
            "households",
            main["hhid"].iat[r],
        )
    add = []
    for k in range(dp.test_submissions):
        row = main.loc[int(rng.integers(0, n))].copy()
        row["hhid"] = f"TEST-{k + 1:03d}"
        row["q001_enum"] = "test"
        row["resp_name"] = "test test"
        row["q000_date"] = f"{p.design.endline_year}-02-2{k} 09:00:00"
        add.append(row)
        _record(
            ex,
            W2_SOURCE,
            fname,
            None,
            n + len(dups) + len(add),
            None,
            "test_submission",
            "households",
            row["hhid"],
        )
    files["hh"] = pd.concat([main, dup_rows, pd.DataFrame(add)], ignore_index=True)


# --------------------------------------------------------------------------------------------
# Blind stream: defects whose answers are written nowhere ingest or clean reads
# --------------------------------------------------------------------------------------------

#: Undocumented special codes by (sheet or file, raw column): the codebooks list only -99/-98
#: (Kobo) and .a/.b (Stata). Conventions seen in survey exports: 98/99 for an age not known or
#: refused, -97 "not applicable", -1, runs of nines for an amount not known, an undeclared
#: Stata extended missing value ``.c``.
_BLIND_CODES_W1: dict[tuple[str, str], tuple[int, ...]] = {
    (W1_MAIN, "hh/head_age"): (98, 99),
    (W1_MAIN, "inc/farm_khr"): (-97, 999999),
    (W1_MAIN, "inc/wages_khr"): (-999, 9999999),
    (W1_MAIN, "land/agri_land_m2"): (-97, 99999),
    ("migration_repeat", "mig/cost_usd"): (-97, 9999),
}
_BLIND_CODES_W2: dict[tuple[str, str], tuple[int | str, ...]] = {
    ("hh", "q205_headage"): (98, 99, "c"),
    ("hh", "q401_farm_usd"): (-999, 99999),
    ("hh", "q402_wage_usd"): (-97, 9999),
    ("hh", "q301_land_ha"): (-1, 99),
    ("migration", "cost_thb"): (-97, 99999),
}
#: Blind outliers (an extra zero or two typed) by defect class: totals, income components
#: (one component of the record), loan amounts, migration cost.
_BLIND_FACTORS = (10, 100)
_W1_COMPONENTS = (
    "inc/farm_khr",
    "inc/wages_khr",
    "inc/business_khr",
    "inc/remittances_khr",
    "inc/other_khr",
)
_W2_COMPONENTS = (
    "q401_farm_usd",
    "q402_wage_usd",
    "q403_busi_usd",
    "q404_remit_usd",
    "q405_other_usd",
)
_BLIND_OUTLIERS_W1: dict[str, tuple[tuple[str, str], ...]] = {
    "outlier_total": ((W1_MAIN, "inc/total_khr"), (W1_MAIN, "assets/value_khr")),
    "outlier_loan": (
        ("loan_repeat", "loan/amount"),
        ("loan_repeat", "loan/instalment"),
        ("loan_repeat", "loan/outstanding"),
    ),
    "outlier_migration_cost": (("migration_repeat", "mig/cost_usd"),),
}
_BLIND_OUTLIERS_W2: dict[str, tuple[tuple[str, str], ...]] = {
    "outlier_total": (("hh", "q406_total_usd"), ("hh", "q410_assets_usd")),
    "outlier_loan": (("loans", "amt"), ("loans", "inst"), ("loans", "outst")),
    "outlier_migration_cost": (("migration", "cost_thb"),),
}
#: Category columns of the Kobo export misspelt in the blind stream (rate ``misspelt_label``;
#: provinces at ``misspelt_province``).
_BLIND_LABELS_W1: dict[str, tuple[str, ...]] = {
    W1_MAIN: ("hh/province",),
    "hh_roster": ("hh_roster/member_relation",),
    "loan_repeat": ("loan/lender", "loan/purpose"),
    "migration_repeat": ("mig/country", "mig/sector"),
}
_VOWELS = "aeiou"


def _typo(label: str, rng: np.random.Generator, taken: set[str]) -> str:
    """One keying slip in ``label``: a letter dropped, doubled, swapped with the next, a vowel
    changed, the case changed, or a space or underscore dropped or swapped."""
    for _ in range(50):
        op = int(rng.integers(0, 6))
        letters = [i for i, ch in enumerate(label) if ch.isalpha()]
        i = int(letters[int(rng.integers(0, len(letters)))])
        if op == 0 and len(letters) > 3:
            out = label[:i] + label[i + 1 :]
        elif op == 1:
            out = label[:i] + label[i] + label[i:]
        elif op == 2 and i + 1 < len(label) and label[i + 1].isalpha():
            out = label[:i] + label[i + 1] + label[i] + label[i + 2 :]
        elif op == 3 and label[i].lower() in _VOWELS:
            other = [v for v in _VOWELS if v != label[i].lower()]
            out = label[:i] + other[int(rng.integers(0, len(other)))] + label[i + 1 :]
        elif op == 4:
            out = label.lower() if label != label.lower() else label.capitalize()
        elif op == 5 and (" " in label or "_" in label):
            sep = " " if " " in label else "_"
            out = label.replace(sep, "", 1) if rng.random() < 0.5 else label.replace(sep, "-", 1)
        else:
            continue
        if out != label and out.strip() == out and out not in taken:
            return out
    return label.upper() if label.upper() not in taken else label + label[-1]


def _blind_pick(
    rng: np.random.Generator, values: np.ndarray, rate: float, n: int, used: set[int]
) -> np.ndarray:
    """``rate * n`` rows among the positive values of ``values`` not used by another defect."""
    num = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    cand = np.asarray([i for i in np.flatnonzero(num > 0) if i not in used], dtype=np.int64)
    return _pick(rng, cand, rate * n / max(len(cand), 1))


def _plant_w1_blind(
    p: SynthParams, sheets: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Blind stream, wave 1: outliers (x10/x100) in totals, components, loan amounts and
    migration cost; undocumented special codes; misspelt category labels; riel typed as
    dollars. None of them is written into the codebook or the corrections log."""
    dp = p.defects
    first = 1 if p.output_format == "parquet" else 2
    main = sheets[W1_MAIN]
    raw_ids = main["hh/hhid"].to_numpy()
    by_index = main.set_index("_index")["hh/hhid"]

    def raw_id(sheet: str, r: int) -> Any:
        if sheet == W1_MAIN:
            return raw_ids[r]
        return by_index.get(sheets[sheet]["_parent_index"].iat[r])

    table_of = {
        W1_MAIN: "households",
        "hh_roster": "members",
        "loan_repeat": "loans",
        "migration_repeat": "migration_episodes",
    }
    used: dict[str, set[int]] = {name: set() for name in sheets}

    def record(sheet: str, r: int, col: str, defect: str, truth: Any) -> None:
        used[sheet].add(int(r))
        _record(
            ex,
            W1_SOURCE,
            W1_FILE,
            sheet,
            r + first,
            col,
            defect,
            table_of[sheet],
            raw_id(sheet, r),
            truth,
        )

    for defect, cells in _BLIND_OUTLIERS_W1.items():
        for sheet, col in cells:
            df = sheets[sheet]
            rows = _blind_pick(rng, df[col].to_numpy(), dp.outlier, len(df), used[sheet])
            factors = rng.choice(_BLIND_FACTORS, len(rows))
            arr = df[col].to_numpy().copy()
            arr[rows] = arr[rows] * factors
            df[col] = arr
            for r, f in zip(rows, factors, strict=True):
                record(sheet, r, col, defect, int(f))
    # income components: one positive component of the record
    parts = main.loc[:, list(_W1_COMPONENTS)].to_numpy(float)
    rows = _blind_pick(rng, parts.max(axis=1), dp.outlier, len(main), used[W1_MAIN])
    for r in rows:
        positive = np.flatnonzero(parts[r] > 0)
        col = _W1_COMPONENTS[int(positive[int(rng.integers(0, len(positive)))])]
        f = int(rng.choice(_BLIND_FACTORS))
        main.loc[r, col] = main.loc[r, col] * f
        record(W1_MAIN, r, col, "outlier_component", f)
    for (sheet, col), codes in _BLIND_CODES_W1.items():
        df = sheets[sheet]
        cand = np.asarray([i for i in range(len(df)) if i not in used[sheet]], dtype=np.int64)
        rows = _pick(rng, cand, dp.special_code * len(df) / max(len(cand), 1))
        picked = np.asarray(codes, dtype=object)[rng.integers(0, len(codes), len(rows))]
        arr = df[col].to_numpy(object).copy()
        arr[rows] = picked
        df[col] = pd.to_numeric(pd.Series(arr)).to_numpy()
        for r, c in zip(rows, picked, strict=True):
            record(sheet, r, col, "special_code_undocumented", int(c))
    for sheet, cols in _BLIND_LABELS_W1.items():
        df = sheets[sheet]
        rate = dp.misspelt_province if sheet == W1_MAIN else dp.misspelt_label
        for col in cols:
            values = df[col].to_numpy(object).copy()
            taken = {str(v) for v in pd.unique(values) if isinstance(v, str)}
            cand = np.asarray(
                [
                    i
                    for i in range(len(df))
                    if i not in used[sheet] and isinstance(values[i], str) and values[i]
                ],
                dtype=np.int64,
            )
            rows = _pick(rng, cand, rate * len(df) / max(len(cand), 1))
            for r in rows:
                right = str(values[r])
                code = next((k for k, v in L.PROVINCES.items() if v == right), None)
                known = [v for v in _MISSPELT.get(code or -1, ()) if v.strip() == v and v != right]
                if col == "hh/province" and known and rng.random() < 0.5:
                    values[r] = known[int(rng.integers(0, len(known)))]
                else:
                    values[r] = _typo(right, rng, taken)
                record(sheet, r, col, "misspelt_label", right)
            df[col] = values
    loans = sheets["loan_repeat"]
    riel = np.asarray(
        [
            i
            for i in np.flatnonzero(loans["loan/currency"].to_numpy() == "riel")
            if i not in used["loan_repeat"]
        ],
        dtype=np.int64,
    )
    n_riel = int(np.sum(loans["loan/currency"].to_numpy() == "riel"))
    rows = _pick(rng, riel, dp.riel_typed_as_dollars * n_riel / max(len(riel), 1))
    cur = loans["loan/currency"].to_numpy(object).copy()
    cur[rows] = "usd"
    loans["loan/currency"] = cur
    for r in rows:
        record("loan_repeat", r, "loan/currency", "riel_typed_as_dollars", "riel")
    ex.corrections = pd.DataFrame(columns=CORRECTION_COLUMNS)


def _plant_w2_blind(
    p: SynthParams, files: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Blind stream, wave 2: as wave 1 (no text labels: the firm's files are coded), with
    undeclared negative and repeated-nine codes and an undeclared Stata ``.c``."""
    dp = p.defects
    table_of = {
        "hh": "households",
        "members": "members",
        "loans": "loans",
        "migration": "migration_episodes",
    }
    used: dict[str, set[int]] = {name: set() for name in files}

    def record(name: str, r: int, col: str, defect: str, truth: Any) -> None:
        used[name].add(int(r))
        _record(
            ex,
            W2_SOURCE,
            f"{W2_DIR}/{name}.dta",
            None,
            r + 1,
            col,
            defect,
            table_of[name],
            files[name]["hhid"].iat[r],
            truth,
        )

    for defect, cells in _BLIND_OUTLIERS_W2.items():
        for name, col in cells:
            df = files[name]
            rows = _blind_pick(rng, df[col].to_numpy(), dp.outlier, len(df), used[name])
            factors = rng.choice(_BLIND_FACTORS, len(rows))
            arr = df[col].to_numpy(float).copy()
            arr[rows] = arr[rows] * factors
            df[col] = arr
            for r, f in zip(rows, factors, strict=True):
                record(name, r, col, defect, int(f))
    main = files["hh"]
    parts = main.loc[:, list(_W2_COMPONENTS)].to_numpy(float)
    rows = _blind_pick(rng, parts.max(axis=1), dp.outlier, len(main), used["hh"])
    for r in rows:
        positive = np.flatnonzero(parts[r] > 0)
        col = _W2_COMPONENTS[int(positive[int(rng.integers(0, len(positive)))])]
        f = int(rng.choice(_BLIND_FACTORS))
        main.loc[r, col] = main.loc[r, col] * f
        record("hh", r, col, "outlier_component", f)
    for (name, col), codes in _BLIND_CODES_W2.items():
        df = files[name]
        cand = np.asarray([i for i in range(len(df)) if i not in used[name]], dtype=np.int64)
        rows = _pick(rng, cand, dp.special_code * len(df) / max(len(cand), 1))
        picked = np.asarray(codes, dtype=object)[rng.integers(0, len(codes), len(rows))]
        arr = df[col].to_numpy(object).copy()
        arr[rows] = [c if isinstance(c, str) else float(c) for c in picked]
        has_letter = any(isinstance(c, str) for c in picked)
        df[col] = arr if has_letter else pd.to_numeric(pd.Series(arr)).to_numpy(float)
        for r, c in zip(rows, picked, strict=True):
            record(
                name, r, col, "special_code_undocumented", f".{c}" if isinstance(c, str) else int(c)
            )
    loans = files["loans"]
    is_riel = loans["cur"].to_numpy() == 1
    riel = np.asarray(
        [i for i in np.flatnonzero(is_riel) if i not in used["loans"]], dtype=np.int64
    )
    rows = _pick(rng, riel, dp.riel_typed_as_dollars * int(is_riel.sum()) / max(len(riel), 1))
    cur = loans["cur"].to_numpy().copy()
    cur[rows] = 2
    loans["cur"] = cur
    for r in rows:
        record("loans", r, "cur", "riel_typed_as_dollars", 1)


# --------------------------------------------------------------------------------------------
# Codebooks
# --------------------------------------------------------------------------------------------


def _m(canonical: str, **kw: Any) -> dict[str, Any]:
    return {"action": "map", "canonical": canonical, **kw}


def _pii(reason: str) -> dict[str, Any]:
    return {"action": "pii", "reason": reason}


def _unused(reason: str) -> dict[str, Any]:
    return {"action": "unused", "reason": reason}


_YESNO = {"yes": True, "no": False}


def _codebook_w1(survey: SyntheticSurvey, ex: RawExport) -> dict[str, Any]:
    p = survey.params
    prov_values: dict[str, int] = {v: k for k, v in L.SYNTH_PROVINCES.items()}
    # reviewed fixes of the known misspellings (codebook `fixes`): ingest records every fixed
    # row in value_fixes.parquet, so the quality report can count them
    prov_fixes: dict[str, str] = {
        v.strip(): L.PROVINCES[code]
        for code, variants in _MISSPELT.items()
        for v in variants
        if v.strip() != L.PROVINCES[code]
    }
    main_cols: dict[str, Any] = {
        "start": _unused("Kobo metadata: interview start"),
        "end": _unused("Kobo metadata: interview end"),
        "today": _unused("Kobo metadata: date"),
        "deviceid": _pii("Kobo metadata: device id"),
        "enum/enumerator_code": _m("enumerator_id"),
        "hh/hhid": {"action": "key", "canonical": "household_id"},
        # blind stream: only the labels of the form's choice list, no reviewed fixes
        "hh/province": (
            _m("province_code", values=prov_values, fixes=prov_fixes)
            if p.defects.stream == "documented"
            else _m("province_code", values=prov_values)
        ),
        "hh/area": _m("is_urban", values={"urban": True, "rural": False}),
        "hh/stratum": _m("stratum_id"),
        "hh/cluster": _m("psu_id"),
        "hh/district": _m("district_code"),
        "hh/commune": _m("commune_code"),
        "hh/village_name": _pii("place name (re-identifies with the household list)"),
        "design/weight": _m("weight_household"),
        "design/n_villages_stratum": _m("n_psu_stratum"),
        "hh/respondent_name": _pii("name"),
        "hh/respondent_phone": _pii("phone number"),
        "hh_gps": _pii("GPS"),
        "_hh_gps_latitude": _pii("GPS"),
        "_hh_gps_longitude": _pii("GPS"),
        "_hh_gps_altitude": _pii("GPS"),
        "_hh_gps_precision": _pii("GPS"),
        "hh/hh_size": _m("household_size"),
        "hh/n_children": _m("n_children"),
        "hh/n_working_age": _m("n_working_age"),
        "hh/head_sex": _m("head_is_female", values={"female": True, "male": False}),
        "hh/head_age": _m("head_age"),
        "hh/head_educ": _m("head_educ_years"),
        "land/agri_land_m2": _m("land_agri_ha", scale=0.0001),
        "land/hard_title": _m("has_land_title", values=_YESNO),
        "inc/farm_khr": _m("income_farm_usd", currency="KHR"),
        "inc/wages_khr": _m("income_wages_usd", currency="KHR"),
        "inc/business_khr": _m("income_business_usd", currency="KHR"),
        "inc/remittances_khr": _m("income_remittances_usd", currency="KHR"),
        "inc/other_khr": _m("income_other_usd", currency="KHR"),
        "inc/total_khr": _m("income_annual_usd", currency="KHR"),
        "assets/value_khr": _m("asset_value_usd", currency="KHR"),
        "assets/index": _m("asset_index"),
        "shocks/shocks_12m": _unused("select_multiple as text; the one-hot columns are mapped"),
        **{f"shocks/shocks_12m/{code}": _m(canon) for canon, code in _SHOCK_W1.items()},
        # reliability: the loan filter question feeds clean's skip-logic check
        # (docs/CONTRACTS.md, 'Filter questions'); was _unused.
        "debt/any_loan": {"action": "meta", "canonical": "_has_loan_reported", "values": _YESNO},
        "debt/coping": _unused("select_multiple as text; the one-hot columns are mapped"),
        **{f"debt/coping/{code}": _m(canon) for canon, code in _COPE_W1.items()},
        "credit/dist_branch_km": _m("dist_mfi_branch_km"),
        "credit/branches_per_1000hh": _m("mfi_branches_per_1000hh"),
        "hh/notes": _pii("free text"),
        "_id": _unused("Kobo metadata: record id"),
        "_uuid": {"action": "meta", "canonical": "_submission_id"},
        "_submission_time": {"action": "meta", "canonical": "_submission_time"},
        "_validation_status": _unused("Kobo metadata"),
        "_status": _unused("Kobo metadata"),
        "_submitted_by": _pii("Kobo metadata: user name"),
        "__version__": _unused("Kobo metadata: form version"),
        "_index": {"action": "parent_key"},
    }
    child_meta = {
        "_index": _unused("Kobo metadata: repeat row id"),
        "_parent_table_name": _unused("Kobo metadata"),
        "_parent_index": {"action": "link"},
        "_submission__uuid": _unused("same link as _parent_index"),
    }
    # path (+ sheet for XLSX) of the main table, so the link also works for Parquet modules
    parent = {**_w1_path(p, W1_MAIN), "key": "_parent_index", "parent_key": "_index"}
    roster_cols = {
        "hh_roster/member_line": {"action": "key", "canonical": "member_id"},
        "hh_roster/member_name": _pii("name"),
        "hh_roster/member_sex": _m("sex", values={"male": "male", "female": "female"}),
        "hh_roster/member_age": _m("age"),
        "hh_roster/member_relation": _m("relation_to_head", values={r: r for r in L.RELATIONS}),
        "hh_roster/member_educ": _m("educ_years"),
        "hh_roster/member_away": _m("is_away", values=_YESNO),
        "hh_roster/migrant_type": _m("migrant_type", values={t: t for t in L.MIGRANT_TYPES}),
        **child_meta,
    }
    loan_cols = {
        "loan/lender": _m("lender_type", values={x: x for x in L.LENDER_TYPES}),
        "loan/amount": _m("principal", currency_column="loan/currency"),
        "loan/currency": _m("currency", values={v: k for k, v in _CURRENCY_W1.items()}),
        "loan/rate_month_pct": _m("interest_rate_annual", scale=0.12),
        "loan/term_months": _m("term_months"),
        "loan/instalment": _m("instalment_monthly_usd", currency_column="loan/currency"),
        "loan/outstanding": _m("outstanding_usd", currency_column="loan/currency"),
        "loan/purpose": _m("purpose", values={x: x for x in L.LOAN_PURPOSES}),
        "loan/collateral": _m("collateral", values={x: x for x in L.COLLATERALS}),
        "loan/year_taken": _m("year_taken"),
        "loan/in_arrears": _m("is_in_arrears", values=_YESNO),
        **child_meta,
    }
    ilo_all = (*L.ILO_INDICATORS, "paid_below_min_wage")
    mig_cols = {
        "mig/member_line": {"action": "key", "canonical": "member_id"},
        "mig/country": _m("destination_country", values={v: k for k, v in _COUNTRY_W1.items()}),
        "mig/sector": _m("destination_sector", values={x: x for x in L.DESTINATION_SECTORS}),
        "mig/year_left": _m("year_left"),
        "mig/channel": _m("channel", values={x: x for x in L.CHANNELS}),
        "mig/irregular": _m("is_irregular", values=_YESNO),
        "mig/broker": _m("used_informal_broker", values=_YESNO),
        "mig/cost_usd": _m("migration_cost_usd", currency="USD"),
        "mig/loan_financed": _m("cost_financed_by_loan", values=_YESNO),
        "mig/loan_source": _m("loan_source", values={x: x for x in L.LOAN_SOURCES}),
        "mig/problems": _unused("select_multiple as text; the one-hot columns are mapped"),
        **{f"mig/problems/{k}": _m(k) for k in ilo_all},
        "mig/returned": _m("has_returned", values=_YESNO),
        "mig/migrant_phone": _pii("phone number"),
        "mig/employer": _pii("free text (employer and place)"),
        **child_meta,
    }
    _check_listed(ex.w1_sheets[W1_MAIN], main_cols)
    _check_listed(ex.w1_sheets["hh_roster"], roster_cols)
    _check_listed(ex.w1_sheets["loan_repeat"], loan_cols)
    _check_listed(ex.w1_sheets["migration_repeat"], mig_cols)
    fmt = "parquet" if p.output_format == "parquet" else "kobo_xlsx"
    return {
        "codebook_version": 1,
        "survey": EMBEDDED_SURVEY,
        "source": W1_SOURCE,
        "description": "Baseline household survey (wave 1), KoboToolbox XLSX export. SYNTHETIC "
        "data generated by ctip synth; no real household.",
        "wave": 1,
        "format": fmt,
        "synthetic": True,
        "special_codes": {-99: "refused", -98: "dont_know"},
        "files": [
            {
                **_w1_path(p, W1_MAIN),
                "table": "households",
                "row_key": "_index",
                "constants": {
                    "interview_year": p.design.baseline_year,
                    "received_livelihood_grant": False,
                    "n_members_trained": 0,
                    **{f"n_trained_{m}": 0 for m in L.TRAINING_MODULES},
                },
                "columns": main_cols,
            },
            {
                **_w1_path(p, "hh_roster"),
                "table": "members",
                "parent": parent,
                "columns": roster_cols,
            },
            {
                **_w1_path(p, "loan_repeat"),
                "table": "loans",
                "parent": parent,
                "sequence": "loan_id",
                "columns": loan_cols,
            },
            {
                **_w1_path(p, "migration_repeat"),
                "table": "migration_episodes",
                "parent": parent,
                "columns": mig_cols,
            },
        ],
    }


def _w1_path(p: SynthParams, sheet: str) -> dict[str, Any]:
    if p.output_format == "parquet":
        return {"path": f"wave1_kobo/{sheet}.parquet"}
    return {"path": W1_FILE, "sheet": sheet}


def _check_listed(df: pd.DataFrame, cols: dict[str, Any]) -> None:
    missing = [c for c in df.columns if c not in cols]
    extra = [c for c in cols if c not in df.columns]
    if missing or extra:  # pragma: no cover - a programming error of this module
        raise AssertionError(f"codebook out of step with raw columns: {missing} / {extra}")


def _codebook_w2(survey: SyntheticSurvey, ex: RawExport) -> dict[str, Any]:
    p = survey.params
    f = ex.w2_files
    ext = "parquet" if p.output_format == "parquet" else "dta"

    def codes(name: str) -> dict[int, str]:
        return _W2_LABELS[name]

    yes = {1: True, 0: False}
    hh_cols: dict[str, Any] = {
        "hhid": {"action": "key", "canonical": "household_id"},
        "q000_date": {"action": "meta", "canonical": "_submission_time"},
        "q001_enum": _m("enumerator_id"),
        "q101_prov": _m("province_code"),
        "q102_area": _m("is_urban", values={1: True, 2: False}),
        "q103_cluster": _m("psu_id"),
        "q104_stratum": _m("stratum_id"),
        "wgt": _m("weight_household"),
        "fpc_n": _m("n_psu_stratum"),
        "q105_district": _m("district_code"),
        "q106_commune": _m("commune_code"),
        "resp_name": _pii("name"),
        "resp_tel": _pii("phone number"),
        "gps_lat": _pii("GPS"),
        "gps_lon": _pii("GPS"),
        "q201_hhsize": _m("household_size"),
        "q202_nchild": _m("n_children"),
        "q203_nwork": _m("n_working_age"),
        "q204_headsex": _m("head_is_female", values={2: True, 1: False}),
        "q205_headage": _m("head_age"),
        "q206_headedu": _m("head_educ_years"),
        "q301_land_ha": _m("land_agri_ha"),
        "q302_title": _m("has_land_title", values=yes),
        "q401_farm_usd": _m("income_farm_usd", currency="USD"),
        "q402_wage_usd": _m("income_wages_usd", currency="USD"),
        "q403_busi_usd": _m("income_business_usd", currency="USD"),
        "q404_remit_usd": _m("income_remittances_usd", currency="USD"),
        "q405_other_usd": _m("income_other_usd", currency="USD"),
        "q406_total_usd": _m("income_annual_usd", currency="USD"),
        "q410_assets_usd": _m("asset_value_usd", currency="USD"),
        "q411_assetidx": _m("asset_index"),
        "q501_climate": _m("shock_climate", values=yes),
        "q502_health": _m("shock_health", values=yes),
        "q503_jobloss": _m("shock_job_loss", values=yes),
        # reliability: loan filter question -> clean's skip-logic check (was _unused).
        "q600_anyloan": {"action": "meta", "canonical": "_has_loan_reported", "values": yes},
        **{
            f"q60{i + 1}_{c.removeprefix('cope_')[:8]}": _m(c, values=yes)
            for i, c in enumerate(L.COPING)
        },
        "q701_grant": _m("received_livelihood_grant", values=yes),
        "q702_rep_female": _m("representative_is_female", values=yes),
        "q703_ntrained": _m("n_members_trained"),
        "q704_tr_tip": _m("n_trained_tip_safe_migration"),
        "q705_tr_market": _m("n_trained_market_linkage"),
        "q706_tr_liveli": _m("n_trained_livelihood"),
        "q801_dist_km": _m("dist_mfi_branch_km"),
        "q802_branches": _m("mfi_branches_per_1000hh"),
        "comments": _pii("free text"),
    }
    mem_cols = {
        "hhid": {"action": "key", "canonical": "household_id"},
        "line": {"action": "key", "canonical": "member_id"},
        "name": _pii("name"),
        "sex": _m("sex", values={1: "male", 2: "female"}),
        "age": _m("age"),
        "rel": _m("relation_to_head", values=codes("rel")),
        "edu": _m("educ_years"),
        "away": _m("is_away", values=yes),
        "mtype": _m("migrant_type", values=codes("mtype")),
    }
    loan_cols = {
        "hhid": {"action": "key", "canonical": "household_id"},
        "lno": {"action": "key", "canonical": "loan_id"},
        "lender": _m("lender_type", values=codes("lender")),
        "amt": _m("principal", currency_column="cur"),
        "cur": _m("currency", values=codes("cur")),
        "rate_yr_pct": _m("interest_rate_annual", scale=0.01),
        "term": _m("term_months"),
        "inst": _m("instalment_monthly_usd", currency_column="cur"),
        "outst": _m("outstanding_usd", currency_column="cur"),
        "purpose": _m("purpose", values=codes("purpose")),
        "collat": _m("collateral", values=codes("collat")),
        "yr_taken": _m("year_taken"),
        "arrears": _m("is_in_arrears", values=yes),
    }
    mig_cols = {
        "hhid": {"action": "key", "canonical": "household_id"},
        "line": {"action": "key", "canonical": "member_id"},
        "dest": _m("destination_country", values=codes("dest")),
        "sector": _m("destination_sector", values=codes("sector")),
        "yr_left": _m("year_left"),
        "chan": _m("channel", values=codes("chan")),
        "irreg": _m("is_irregular", values=yes),
        "broker": _m("used_informal_broker", values=yes),
        "cost_thb": _m("migration_cost_usd", currency="THB"),
        "loan_fin": _m("cost_financed_by_loan", values=yes),
        "loan_src": _m("loan_source", values=codes("loan_src")),
        **{f"ilo_{k[:20]}": _m(k, values=yes) for k in (*L.ILO_INDICATORS, "paid_below_min_wage")},
        "returned": _m("has_returned", values=yes),
        "mig_tel": _pii("phone number"),
    }
    for name, cols in (
        ("hh", hh_cols),
        ("members", mem_cols),
        ("loans", loan_cols),
        ("migration", mig_cols),
    ):
        _check_listed(f[name], cols)
    specials: dict[Any, str] = (
        {-99: "refused", -98: "dont_know"}
        if p.output_format == "parquet"
        else {".a": "refused", ".b": "dont_know"}
    )
    return {
        "codebook_version": 1,
        "survey": EMBEDDED_SURVEY,
        "source": W2_SOURCE,
        "description": "Endline household survey (wave 2), Stata files of the survey firm. "
        "SYNTHETIC data generated by ctip synth; no real household.",
        "wave": 2,
        "format": "parquet" if p.output_format == "parquet" else "stata",
        "synthetic": True,
        "exchange_rate_year": p.design.endline_year,
        "special_codes": specials,
        "files": [
            {
                "path": f"{W2_DIR}/hh.{ext}",
                "table": "households",
                "constants": {"interview_year": p.design.endline_year},
                "columns": hh_cols,
            },
            {"path": f"{W2_DIR}/members.{ext}", "table": "members", "columns": mem_cols},
            {"path": f"{W2_DIR}/loans.{ext}", "table": "loans", "columns": loan_cols},
            {
                "path": f"{W2_DIR}/migration.{ext}",
                "table": "migration_episodes",
                "columns": mig_cols,
            },
        ],
    }


# --------------------------------------------------------------------------------------------
# Writing (atomic, deterministic)
# --------------------------------------------------------------------------------------------

_FIXED_ZIP_TIME = (2022, 1, 1, 0, 0, 0)
_FIXED_ISO = "2022-01-01T00:00:00Z"
#: Header timestamp of the synthetic firm's Stata files (their pretend export date).
_DTA_TIMESTAMP = b"01 Jan 2025 00:00"


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _sheet_xml(df: pd.DataFrame) -> str:
    """SpreadsheetML of one sheet: header row, then numbers as numbers, text as inline strings."""
    cols: list[np.ndarray] = []
    n = len(df)
    rownum = np.arange(2, n + 2).astype(str).astype(object)
    for j, name in enumerate(df.columns):
        letter = _col_letter(j)
        s = df[name]
        ref = f'<c r="{letter}' + rownum
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            vals = s.to_numpy()
            ok = ~pd.isna(vals)
            text = np.asarray(
                [
                    repr(float(v))
                    if isinstance(v, float | np.floating) and not float(v).is_integer()
                    else str(int(v))
                    for v in np.where(ok, vals, 0)
                ],
                dtype=object,
            )
            cell = np.where(ok, ref + '"><v>' + text + "</v></c>", "")
        else:
            vals = s.astype(object).to_numpy()
            ok = ~pd.isna(vals)
            out = np.full(n, "", dtype=object)
            for i in np.flatnonzero(ok):
                v = vals[i]
                if isinstance(v, bool | np.bool_):
                    v = int(v)
                if isinstance(v, int | float | np.integer | np.floating):
                    out[i] = (
                        f'{ref[i]}"><v>{v!r}</v></c>'
                        if isinstance(v, float)
                        else f'{ref[i]}"><v>{int(v)}</v></c>'
                    )
                else:
                    out[i] = (
                        f'{ref[i]}" t="inlineStr"><is><t xml:space="preserve">{_esc(str(v))}</t></is></c>'
                    )
            cell = out
        cols.append(cell)
    header = "".join(
        f'<c r="{_col_letter(j)}1" t="inlineStr"><is><t>{_esc(str(c))}</t></is></c>'
        for j, c in enumerate(df.columns)
    )
    body = np.full(n, "", dtype=object)
    for c in cols:
        body = body + c
    rows = "".join(f'<row r="{i + 2}">{b}</row>' for i, b in enumerate(body))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        # the used range, as Excel and Kobo write it; without it openpyxl's read-only reader
        # scans every sheet once more just to size it
        f'<dimension ref="A1:{_col_letter(max(len(df.columns) - 1, 0))}{n + 1}"/>'
        f'<sheetData><row r="1">{header}</row>{rows}</sheetData></worksheet>'
    )


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A minimal, deterministic XLSX (Office Open XML) workbook, one sheet per DataFrame.

    Written directly (inline strings, no styles) because openpyxl needs about 20 s for the
    half-million cells of the default export; the result reads with openpyxl, pandas and Excel.
    """
    ns = "http://schemas.openxmlformats.org"
    names = list(sheets)
    files: dict[str, str] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{ns}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(len(names))
            )
            + '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{ns}/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            "</Relationships>"
        ),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<cp:coreProperties xmlns:cp="{ns}/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:title>CTIP baseline (synthetic)</dc:title><dc:creator>KoboToolbox</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{_FIXED_ISO}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{_FIXED_ISO}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/2006/relationships"><sheets>'
            + "".join(
                f'<sheet name="{_esc(nm)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                for i, nm in enumerate(names)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i + 1}" Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                for i in range(len(names))
            )
            + "</Relationships>"
        ),
    }
    for i, nm in enumerate(names):
        files[f"xl/worksheets/sheet{i + 1}.xml"] = _sheet_xml(sheets[nm])
    return write_zip(
        ((name, text.encode("utf-8")) for name, text in files.items()),
        date_time=_FIXED_ZIP_TIME,
        external_attr=0o644 << 16,
    )


def _write_dta(
    target: Path,
    df: pd.DataFrame,
    labels: dict[str, dict[int, str]],
    var_labels: dict[str, str],
    name: str,
) -> None:
    import pyreadstat

    missing = {
        c: ["a", "b", *(["c"] if df[c].isin(["c"]).any() else [])]
        for c in df.columns
        if df[c].dtype == object and df[c].isin(["a", "b", "c"]).any()
    }
    col_labels: dict[str, str | None] = dict(var_labels)
    value_labels: dict[str, dict[int | float, str]] = {
        k: {float(c) if isinstance(c, float) else int(c): v for c, v in m.items()}
        for k, m in labels.items()
    }
    with atomic_path(target) as tmp:
        pyreadstat.write_dta(
            df,
            str(tmp),
            file_label=f"CTIP endline {name} (synthetic)",
            column_labels=col_labels,
            variable_value_labels=value_labels,
            missing_user_values=missing or None,
        )
        fix_dta_timestamp_file(tmp, _DTA_TIMESTAMP)


def write_raw_files(survey: SyntheticSurvey, outdir: str | Path) -> dict[str, Any]:
    """Write the raw layer of the synthetic survey into ``outdir`` and return the defect record.

    Files (``docs/CONTRACTS.md``): ``wave1_kobo.xlsx`` + ``wave1_kobo.codebook.yaml``,
    ``wave2_firm/*.dta`` + ``wave2_firm.codebook.yaml`` (or Parquet files when
    ``synth.output_format`` is ``parquet``), ``corrections.csv``, ``truth.json``,
    ``planted_defects.json`` and ``manifest.json`` (sha256, bytes and rows of every raw file).
    Every file is written atomically; the same survey gives byte-identical files.
    """
    outdir = Path(outdir)
    p = survey.params
    ex = build_raw_export(survey)
    rows: dict[str, int] = {}
    if p.output_format == "parquet":
        from ctip_research.io import write_parquet

        for sheet, df in ex.w1_sheets.items():
            out = df.copy()
            for c in out.columns:
                if out[c].dtype == object:
                    out[c] = out[c].astype("string")
            write_parquet(outdir / "wave1_kobo" / f"{sheet}.parquet", out)
            rows[f"wave1_kobo/{sheet}.parquet"] = len(df)
        for name, df in ex.w2_files.items():
            out = df.copy()
            for c in out.columns:
                if out[c].dtype == object:
                    special = out[c].isin(["a", "b", "c"])
                    if special.any():  # Stata extended missing -> the numeric special codes
                        out[c] = pd.to_numeric(
                            out[c]
                            .mask(out[c] == "a", -99)
                            .mask(out[c] == "b", -98)
                            .mask(out[c] == "c", -97)  # blind stream: undeclared
                        )
                    else:
                        out[c] = out[c].astype("string")
            write_parquet(outdir / W2_DIR / f"{name}.parquet", out)
            rows[f"{W2_DIR}/{name}.parquet"] = len(df)
    else:
        from ctip_research.io import write_bytes

        write_bytes(outdir / W1_FILE, _xlsx_bytes(ex.w1_sheets))
        rows[W1_FILE] = sum(len(df) for df in ex.w1_sheets.values())
        for name, df in ex.w2_files.items():
            _write_dta(
                outdir / W2_DIR / f"{name}.dta",
                df,
                ex.w2_labels[name],
                ex.w2_var_labels[name],
                name,
            )
            rows[f"{W2_DIR}/{name}.dta"] = len(df)
    for source, cb in ex.codebooks.items():
        write_text(
            outdir / f"{source}.codebook.yaml",
            "# Codebook (docs/codebook.md), written by ctip synth. SYNTHETIC data.\n"
            + yaml.safe_dump(cb, sort_keys=False, allow_unicode=True, width=100),
        )
    write_csv(outdir / "corrections.csv", ex.corrections)
    # the truth describes exactly these raw files: validation compares it with the estimates
    # only when the ingested raw files have the same fingerprint
    # current_path: inside a stage transaction the files are staged until the stage ends
    raw_sha = {name: file_sha256(current_path(outdir / name)) for name in rows}
    write_json(
        outdir / "truth.json",
        {
            **survey.truth,
            "raw_files": raw_sha,
            "raw_fingerprint": raw_fingerprint(raw_sha.values()),
        },
    )
    record = {
        "description": "Every defect planted by ctip synth in the raw files (for tests; no stage "
        "reads it). row: 1-based row as the reader numbers it (XLSX: spreadsheet row, header = 1; "
        "Stata/Parquet: observation number).",
        "rates": p.defects.model_dump(mode="json"),
        "defects": ex.defects,
        "counts": pd.Series([d["defect"] for d in ex.defects], dtype="object")
        .value_counts()
        .sort_index()
        .to_dict(),
    }
    write_json(outdir / "planted_defects.json", record)
    manifest: dict[str, Any] = {
        "description": "Raw files of the synthetic survey (ctip synth).",
        "generator": SYNTH_GENERATOR,
        "synthetic": True,
        "files": {},
    }
    raw_names = [*rows, "wave1_kobo.codebook.yaml", "wave2_firm.codebook.yaml", "corrections.csv"]
    for name in raw_names:
        path = current_path(outdir / name)
        manifest["files"][name] = {
            "sha256": file_sha256(path),
            "bytes": path.stat().st_size,
            "rows": rows.get(name),
        }
    write_text(outdir / "manifest.json", dumps_json(manifest))
    return record
