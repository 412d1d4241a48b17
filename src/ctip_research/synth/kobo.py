"""Wave 1: the KoboToolbox-style XLSX export (main sheet plus one sheet per repeat group).

Built from the synthetic survey, then its defects are planted at the rates of ``synth.defects``
(documented stream here, blind stream in :mod:`ctip_research.synth.blind`; structure defects in
both streams).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.synth.blind import plant_w1_blind
from ctip_research.synth.generate import SyntheticSurvey
from ctip_research.synth.identities import EMPLOYERS, NOTES, fake_names, fake_phones, fake_uuids
from ctip_research.synth.rawlayout import (
    CORRECTION_COLUMNS,
    MISSPELT_PROVINCES,
    PROVINCE_CENTROIDS,
    W1_COPING,
    W1_COUNTRIES,
    W1_CURRENCIES,
    W1_FILE,
    W1_MAIN,
    W1_SHOCKS,
    W1_SOURCE,
    RawExport,
    amount_in,
    money_in,
    pick_rows,
    record_defect,
    select_multiple,
    yes_no,
)

__all__ = ["build_w1"]


def build_w1(
    survey: SyntheticSurvey,
    ex: RawExport,
    rng: np.random.Generator,
    rates: dict[str, float],
    keys: pd.Series,
) -> None:
    """Build the wave-1 Kobo sheets of ``survey`` into ``ex`` and plant their defects."""
    p = survey.params
    hh = survey.households[survey.households["wave"] == 1].copy()
    hh["raw_id"] = keys.reindex(hh["household_id"]).to_numpy()
    hh = hh.sort_values("raw_id", kind="stable").reset_index(drop=True)
    n = len(hh)
    index = np.arange(1, n + 1)
    uuid = fake_uuids(rng, n)
    start, end, sub = _interview_times(p, hh, rng)
    main = pd.DataFrame(
        {**_w1_identity_columns(hh, rng, start, end), **_w1_measure_columns(hh, p.khr_per_usd)}
    )
    _add_w1_answers(main, hh, survey, rng)
    _add_w1_submission_meta(main, hh, uuid, sub, index)
    parent_of = pd.Series(index, index=hh["household_id"].to_numpy())
    uuid_of = pd.Series(uuid, index=hh["household_id"].to_numpy())
    roster = _w1_roster(_w1_repeat(survey.members, parent_of, "member_id"), uuid_of, rng)
    loans = _w1_loans(_w1_repeat(survey.loans, parent_of, "loan_id"), uuid_of, rates)
    mig = _w1_migration(_w1_repeat(survey.migration_episodes, parent_of, "member_id"), uuid_of, rng)
    sheets = {W1_MAIN: main, "hh_roster": roster, "loan_repeat": loans, "migration_repeat": mig}
    _plant_w1(p, sheets, rng, ex, rates)
    ex.w1_sheets = sheets


def _interview_times(
    p: SynthParams, hh: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, pd.DatetimeIndex]:
    """Start, end and upload time of every wave-1 interview."""
    n = len(hh)
    psu_seq = hh["psu_id"].str[-3:].astype(int).to_numpy()
    day = pd.Timestamp(f"{p.design.baseline_year}-02-01") + pd.to_timedelta(psu_seq % 60, unit="D")
    start = day + pd.to_timedelta(rng.integers(7 * 60, 16 * 60, n), unit="min")
    end = start + pd.to_timedelta(rng.integers(35, 95, n), unit="min")
    sub = end + pd.to_timedelta(rng.integers(60, 3 * 24 * 60, n), unit="min")
    return start, end, sub


def _w1_identity_columns(
    hh: pd.DataFrame, rng: np.random.Generator, start: pd.DatetimeIndex, end: pd.DatetimeIndex
) -> dict[str, Any]:
    """Main-sheet columns from the form's start to the GPS: times, ids, place, respondent."""
    n = len(hh)
    lat0 = hh["province_code"].map(lambda c: PROVINCE_CENTROIDS[c][0]).to_numpy()
    lon0 = hh["province_code"].map(lambda c: PROVINCE_CENTROIDS[c][1]).to_numpy()
    return {
        "start": start.strftime("%Y-%m-%dT%H:%M:%S.000+07:00"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%S.000+07:00"),
        "today": start.strftime("%Y-%m-%d"),
        "deviceid": np.asarray([f"collect:{x[:16]}" for x in fake_uuids(rng, n)], dtype=object),
        "enum/enumerator_code": hh["enumerator_id"].to_numpy(),
        "hh/hhid": hh["raw_id"].to_numpy(),
        "hh/province": hh["province_code"].map(L.PROVINCES).to_numpy(),
        "hh/area": np.where(hh["is_urban"].to_numpy(bool), "urban", "rural"),
        "hh/stratum": hh["stratum_id"].to_numpy(),
        "hh/cluster": hh["psu_id"].to_numpy(),
        "hh/district": hh["district_code"].to_numpy(),
        "hh/commune": hh["commune_code"].astype("int64").to_numpy(),
        "hh/village_name": np.asarray([f"Phum {x}" for x in fake_names(rng, n)], dtype=object),
        "design/weight": hh["weight_household"].to_numpy(float),
        "design/n_villages_stratum": hh["n_psu_stratum"].to_numpy(),
        "hh/respondent_name": fake_names(rng, n),
        "hh/respondent_phone": fake_phones(rng, n),
        "hh_gps": "",
        "_hh_gps_latitude": np.round(lat0 + rng.normal(0, 0.15, n), 6),
        "_hh_gps_longitude": np.round(lon0 + rng.normal(0, 0.15, n), 6),
        "_hh_gps_altitude": np.round(rng.uniform(2, 60, n), 1),
        "_hh_gps_precision": np.round(rng.uniform(3, 25, n), 1),
    }


def _w1_measure_columns(hh: pd.DataFrame, khr: float) -> dict[str, Any]:
    """Main-sheet columns of the household's answers: size, head, land, income, assets."""
    return {
        "hh/hh_size": hh["household_size"].to_numpy(),
        "hh/n_children": hh["n_children"].to_numpy(),
        "hh/n_working_age": hh["n_working_age"].to_numpy(),
        "hh/head_sex": np.where(hh["head_is_female"].to_numpy(bool), "female", "male"),
        "hh/head_age": hh["head_age"].to_numpy(),
        "hh/head_educ": hh["head_educ_years"].to_numpy(),
        "land/agri_land_m2": np.round(hh["land_agri_ha"].to_numpy(float) * 10000).astype(np.int64),
        "land/hard_title": yes_no(hh["has_land_title"]),
        "inc/farm_khr": money_in(hh["income_farm_usd"], khr, 1.0),
        "inc/wages_khr": money_in(hh["income_wages_usd"], khr, 1.0),
        "inc/business_khr": money_in(hh["income_business_usd"], khr, 1.0),
        "inc/remittances_khr": money_in(hh["income_remittances_usd"], khr, 1.0),
        "inc/other_khr": money_in(hh["income_other_usd"], khr, 1.0),
        "inc/total_khr": money_in(hh["income_annual_usd"], khr, 1.0),
        "assets/value_khr": money_in(hh["asset_value_usd"], khr, 1.0),
        "assets/index": hh["asset_index"].to_numpy(float),
    }


def _add_w1_answers(
    main: pd.DataFrame, hh: pd.DataFrame, survey: SyntheticSurvey, rng: np.random.Generator
) -> None:
    """Append the GPS string, select_multiple answers, credit access and notes to ``main``."""
    n = len(hh)
    has_loan = survey.loans[survey.loans["wave"] == 1].groupby("household_id").size()
    any_loan = hh["household_id"].isin(has_loan.index).to_numpy()
    main["hh_gps"] = (
        main["_hh_gps_latitude"].astype(str)
        + " "
        + main["_hh_gps_longitude"].astype(str)
        + " "
        + main["_hh_gps_altitude"].astype(str)
        + " "
        + main["_hh_gps_precision"].astype(str)
    )
    main["shocks/shocks_12m"] = select_multiple(hh, W1_SHOCKS)
    for canon, code in W1_SHOCKS.items():
        main[f"shocks/shocks_12m/{code}"] = hh[canon].astype(int).to_numpy()
    main["debt/any_loan"] = np.where(any_loan, "yes", "no")
    main["debt/coping"] = select_multiple(hh, W1_COPING)
    for canon, code in W1_COPING.items():
        main[f"debt/coping/{code}"] = hh[canon].astype(int).to_numpy()
    main["credit/dist_branch_km"] = hh["dist_mfi_branch_km"].to_numpy(float)
    main["credit/branches_per_1000hh"] = hh["mfi_branches_per_1000hh"].to_numpy(float)
    main["hh/notes"] = np.asarray(NOTES, dtype=object)[rng.integers(0, len(NOTES), n)]


def _add_w1_submission_meta(
    main: pd.DataFrame,
    hh: pd.DataFrame,
    uuid: np.ndarray,
    sub: pd.DatetimeIndex,
    index: np.ndarray,
) -> None:
    """Append Kobo's submission metadata (record id, uuid, upload time, user) to ``main``."""
    main["_id"] = 40_000_000 + index
    main["_uuid"] = uuid
    main["_submission_time"] = sub.strftime("%Y-%m-%dT%H:%M:%S")
    main["_validation_status"] = ""
    main["_status"] = "submitted_via_web"
    main["_submitted_by"] = hh["enumerator_id"].str.lower().to_numpy()
    main["__version__"] = "vQ7tXkB2022"
    main["_index"] = index


def _w1_repeat(df: pd.DataFrame, parent_of: pd.Series, key: str) -> pd.DataFrame:
    """Wave-1 rows of one repeat table in export order (parent submission, then ``key``)."""
    out = df[df["wave"] == 1].copy()
    out["_p"] = parent_of.reindex(out["household_id"]).to_numpy()
    return out.sort_values(["_p", key], kind="stable").reset_index(drop=True)


def _w1_roster(mem: pd.DataFrame, uuid_of: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """The ``hh_roster`` repeat sheet."""
    roster = pd.DataFrame(
        {
            "hh_roster/member_line": mem["member_id"].to_numpy(),
            "hh_roster/member_name": fake_names(rng, len(mem)),
            "hh_roster/member_sex": mem["sex"].to_numpy(),
            "hh_roster/member_age": mem["age"].to_numpy(),
            "hh_roster/member_relation": mem["relation_to_head"].to_numpy(),
            "hh_roster/member_educ": mem["educ_years"].to_numpy(),
            "hh_roster/member_away": yes_no(mem["is_away"]),
            "hh_roster/migrant_type": mem["migrant_type"].to_numpy(),
        }
    )
    _kobo_child_meta(roster, mem["_p"].to_numpy(), uuid_of.reindex(mem["household_id"]).to_numpy())
    return roster


def _w1_loans(lo: pd.DataFrame, uuid_of: pd.Series, rates: dict[str, float]) -> pd.DataFrame:
    """The ``loan_repeat`` sheet (amounts in the loan's currency)."""
    step_i = {"KHR": 1000.0, "USD": 1.0, "THB": 10.0}
    loans = pd.DataFrame(
        {
            "loan/lender": lo["lender_type"].to_numpy(),
            "loan/amount": lo["principal"].to_numpy(float),
            "loan/currency": lo["currency"].map(W1_CURRENCIES).to_numpy(),
            "loan/rate_month_pct": np.round(
                lo["interest_rate_annual"].to_numpy(float) * 100 / 12, 6
            ),
            "loan/term_months": lo["term_months"].to_numpy(),
            "loan/instalment": amount_in(
                lo["instalment_monthly_usd"], lo["currency"], rates, step_i
            ),
            "loan/outstanding": amount_in(lo["outstanding_usd"], lo["currency"], rates, step_i),
            "loan/purpose": lo["purpose"].to_numpy(),
            "loan/collateral": lo["collateral"].to_numpy(),
            "loan/year_taken": lo["year_taken"].to_numpy(),
            "loan/in_arrears": yes_no(lo["is_in_arrears"]),
        }
    )
    _kobo_child_meta(loans, lo["_p"].to_numpy(), uuid_of.reindex(lo["household_id"]).to_numpy())
    return loans


def _w1_migration(ep: pd.DataFrame, uuid_of: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """The ``migration_repeat`` sheet (problems as select_multiple, migrant phone, employer)."""
    mig = pd.DataFrame(
        {
            "mig/member_line": ep["member_id"].to_numpy(),
            "mig/country": ep["destination_country"].map(W1_COUNTRIES).to_numpy(),
            "mig/sector": ep["destination_sector"].to_numpy(),
            "mig/year_left": ep["year_left"].to_numpy(),
            "mig/channel": ep["channel"].to_numpy(),
            "mig/irregular": yes_no(ep["is_irregular"]),
            "mig/broker": yes_no(ep["used_informal_broker"]),
            "mig/cost_usd": ep["migration_cost_usd"].to_numpy(float),
            "mig/loan_financed": yes_no(ep["cost_financed_by_loan"]),
            "mig/loan_source": ep["loan_source"].to_numpy(),
            "mig/problems": select_multiple(
                ep, {k: k for k in (*L.ILO_INDICATORS, "paid_below_min_wage")}
            ),
        }
    )
    for k in (*L.ILO_INDICATORS, "paid_below_min_wage"):
        mig[f"mig/problems/{k}"] = ep[k].astype(int).to_numpy()
    mig["mig/returned"] = yes_no(ep["has_returned"])
    mig["mig/migrant_phone"] = fake_phones(rng, len(ep))
    mig["mig/employer"] = np.asarray(EMPLOYERS, dtype=object)[
        rng.integers(0, len(EMPLOYERS), len(ep))
    ]
    _kobo_child_meta(mig, ep["_p"].to_numpy(), uuid_of.reindex(ep["household_id"]).to_numpy())
    return mig


def _kobo_child_meta(df: pd.DataFrame, parent: np.ndarray, uuid: np.ndarray) -> None:
    """Append Kobo's repeat-group metadata (row id, parent table, parent index, uuid) to ``df``."""
    df["_index"] = np.arange(1, len(df) + 1)
    df["_parent_table_name"] = W1_MAIN
    df["_parent_index"] = parent
    df["_submission__uuid"] = uuid


def _plant_w1(
    p: SynthParams,
    sheets: dict[str, pd.DataFrame],
    rng: np.random.Generator,
    ex: RawExport,
    rates: dict[str, float],
) -> None:
    """Plant the defects of wave 1: wrong values (by stream), then structure (both streams)."""
    if p.defects.stream == "blind":
        plant_w1_blind(p, sheets, rng, ex)
    else:
        _plant_w1_values(p, sheets, rng, ex, rates)
    _plant_w1_structure(p, sheets, rng, ex)


@dataclass(frozen=True)
class _W1Planting:
    """What the wave-1 planting steps share: the export, the first data row and the raw ids."""

    ex: RawExport
    first: int
    raw_ids: np.ndarray
    raw_of_index: pd.Series

    def record(
        self, sheet: str, r: int, column: str | None, defect: str, table: str, raw_id: Any
    ) -> None:
        """Record one planted defect at data row ``r`` (0-based) of ``sheet``."""
        record_defect(
            self.ex, W1_SOURCE, W1_FILE, sheet, r + self.first, column, defect, table, raw_id
        )


def _w1_planting(p: SynthParams, ex: RawExport, main: pd.DataFrame) -> _W1Planting:
    """The shared state of the planting steps, from the main sheet as it is now."""
    # row of the first record as ingest numbers it (docs/CONTRACTS.md, interim `_row`): the
    # header is row 1 of a spreadsheet; Parquet rows start at 1
    first = 1 if p.output_format == "parquet" else 2
    return _W1Planting(ex, first, main["hh/hhid"].to_numpy(), main.set_index("_index")["hh/hhid"])


def _plant_w1_values(
    p: SynthParams,
    sheets: dict[str, pd.DataFrame],
    rng: np.random.Generator,
    ex: RawExport,
    rates: dict[str, float],
) -> None:
    """Documented stream: -99/-98 codes, misspelt provinces (written as codebook fixes), x100
    business incomes and principals, riel typed as dollars (some corrected in the log).
    """
    dp = p.defects
    main = sheets[W1_MAIN]
    at = _w1_planting(p, ex, main)
    _plant_w1_special_codes(main, rng, at, dp.special_code)
    _plant_w1_provinces(main, rng, at, dp.misspelt_province)
    _plant_w1_outliers(main, sheets["loan_repeat"], rng, at, dp.outlier)
    ex.corrections = _plant_w1_riel(
        sheets["loan_repeat"], rng, at, dp.riel_typed_as_dollars, dp.n_corrections, rates["KHR"]
    )


def _plant_w1_special_codes(
    main: pd.DataFrame, rng: np.random.Generator, at: _W1Planting, rate: float
) -> None:
    """-99 (refused) and -98 (don't know) in age, farm and wage income and land."""
    n = len(main)
    for col in ("hh/head_age", "inc/farm_khr", "inc/wages_khr", "land/agri_land_m2"):
        rows = pick_rows(rng, np.arange(n), rate)
        codes = np.where(rng.random(len(rows)) < 0.5, -99, -98)
        main.loc[rows, col] = codes
        for r, c in zip(rows, codes, strict=True):
            kind = "special_code_refused" if c == -99 else "special_code_dont_know"
            at.record(W1_MAIN, r, col, kind, "households", at.raw_ids[r])


def _plant_w1_provinces(
    main: pd.DataFrame, rng: np.random.Generator, at: _W1Planting, rate: float
) -> None:
    """Province names in one of their known misspellings."""
    rows = pick_rows(rng, np.arange(len(main)), rate)
    codes_prov = main["hh/province"].map({v: k for k, v in L.PROVINCES.items()}).to_numpy()
    prov_col = main["hh/province"].to_numpy(object).copy()
    pick_variant = rng.integers(0, 3, len(rows))
    for j, r in enumerate(rows):
        variants = MISSPELT_PROVINCES[int(codes_prov[r])]
        prov_col[r] = variants[int(pick_variant[j]) % len(variants)]
        at.record(W1_MAIN, r, "hh/province", "misspelt_province", "households", at.raw_ids[r])
    main["hh/province"] = prov_col


def _plant_w1_outliers(
    main: pd.DataFrame,
    loans: pd.DataFrame,
    rng: np.random.Generator,
    at: _W1Planting,
    rate: float,
) -> None:
    """Business incomes and loan principals multiplied by 100."""
    n = len(main)
    cand = np.flatnonzero(main["inc/business_khr"].to_numpy(float) > 0)
    rows = pick_rows(rng, cand, rate * n / max(len(cand), 1))
    arr = main["inc/business_khr"].to_numpy().copy()
    arr[rows] = arr[rows] * 100
    main["inc/business_khr"] = arr
    for r in rows:
        at.record(W1_MAIN, r, "inc/business_khr", "outlier", "households", at.raw_ids[r])
    rows = pick_rows(rng, np.arange(len(loans)), rate)
    arr = loans["loan/amount"].to_numpy().copy()
    arr[rows] = arr[rows] * 100
    loans["loan/amount"] = arr
    parent_idx = loans["_parent_index"].to_numpy()
    for r in rows:
        raw_id = at.raw_of_index.get(parent_idx[r])
        at.record("loan_repeat", r, "loan/amount", "outlier", "loans", raw_id)


def _plant_w1_riel(
    loans: pd.DataFrame,
    rng: np.random.Generator,
    at: _W1Planting,
    rate: float,
    n_corrections: int,
    khr_per_usd: float,
) -> pd.DataFrame:
    """Riel loans recorded as dollars; the first ``n_corrections`` reviewed in the log."""
    parent_idx = loans["_parent_index"].to_numpy()
    riel = np.flatnonzero(loans["loan/currency"].to_numpy() == "riel")
    corr_rows: list[dict[str, Any]] = []
    picked = pick_rows(rng, riel, rate)
    cur_col = loans["loan/currency"].to_numpy(object).copy()
    cur_col[picked] = "usd"
    loans["loan/currency"] = cur_col
    for j, r in enumerate(picked):
        raw_id = at.raw_of_index.get(parent_idx[r])
        at.record("loan_repeat", r, "loan/currency", "riel_typed_as_dollars", "loans", raw_id)
        if j < n_corrections:
            corr_rows.extend(_riel_corrections(loans, r, r + at.first, khr_per_usd))
    return pd.DataFrame(corr_rows, columns=CORRECTION_COLUMNS)


def _riel_corrections(
    loans: pd.DataFrame, r: int, row: int, khr_per_usd: float
) -> list[dict[str, Any]]:
    """The corrections-log rows of one riel loan recorded as dollars (amounts, then currency)."""
    out: list[dict[str, Any]] = []
    for var, col in (
        ("principal_usd", "loan/amount"),
        ("instalment_monthly_usd", "loan/instalment"),
        ("outstanding_usd", "loan/outstanding"),
    ):
        amount = float(loans[col].to_numpy(float)[r])
        out.append(
            {
                "source": W1_SOURCE,
                "table": "loans",
                "row": row,
                "household_id": "",
                "variable": var,
                "old_value": amount,
                "new_value": amount / khr_per_usd,
                "reason": "riel amount recorded with currency USD; confirmed "
                "with the loan document by the field supervisor",
            }
        )
    out.append(
        {
            "source": W1_SOURCE,
            "table": "loans",
            "row": row,
            "household_id": "",
            "variable": "currency",
            "old_value": "USD",
            "new_value": "KHR",
            "reason": "riel amount recorded with currency USD",
        }
    )
    return out


@dataclass(frozen=True)
class _Duplicates:
    """Duplicate submissions of the main sheet and how their repeat rows are re-linked."""

    rows: pd.DataFrame
    old_to_new: pd.Series
    old_to_uuid: pd.Series
    next_index: int


def _plant_w1_structure(
    p: SynthParams, sheets: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Skip-logic violations, duplicate submissions and test submissions (both streams)."""
    dp = p.defects
    main = sheets[W1_MAIN]
    at = _w1_planting(p, ex, main)
    loans = _plant_w1_skip_loan(main, sheets["loan_repeat"], rng, at, dp.skip_logic_loan)
    roster = sheets["hh_roster"]
    mig = _plant_w1_skip_migration(
        roster, sheets["migration_repeat"], rng, at, dp.skip_logic_migration
    )
    dup = _plant_w1_duplicates(main, rng, at, dp.duplicate_submission)
    children = {"hh_roster": roster, "loan_repeat": loans, "migration_repeat": mig}
    child_add = {name: _duplicate_children(child, dup) for name, child in children.items()}
    tests = _plant_w1_tests(p, main, rng, at, len(dup.rows), dup.next_index)
    main = pd.concat([main, dup.rows, pd.DataFrame(tests)], ignore_index=True)
    for name in children:
        add = pd.concat([child_add[name]], ignore_index=True)
        base = children[name]
        add["_index"] = np.arange(len(base) + 1, len(base) + len(add) + 1)
        children[name] = pd.concat([base, add], ignore_index=True)
    main["_index"] = main["_index"].astype(np.int64)
    sheets[W1_MAIN] = main
    sheets.update(children)


def _plant_w1_skip_loan(
    main: pd.DataFrame,
    loans: pd.DataFrame,
    rng: np.random.Generator,
    at: _W1Planting,
    rate: float,
) -> pd.DataFrame:
    """Skip-logic violations: a loan for a household that said it has no loan."""
    no_loan = np.flatnonzero(main["debt/any_loan"].to_numpy() == "no")
    picked = pick_rows(rng, no_loan, rate)
    if len(picked):
        extra = loans.iloc[rng.integers(0, len(loans), len(picked))].copy()
        extra["_parent_index"] = main["_index"].to_numpy()[picked]
        extra["_submission__uuid"] = main["_uuid"].to_numpy()[picked]
        for j, r in enumerate(picked):
            at.record(
                "loan_repeat",
                len(loans) + j,
                None,
                "skip_logic_loan_without_loan",
                "loans",
                at.raw_ids[r],
            )
        loans = pd.concat([loans, extra], ignore_index=True)
    return loans


def _plant_w1_skip_migration(
    roster: pd.DataFrame,
    mig: pd.DataFrame,
    rng: np.random.Generator,
    at: _W1Planting,
    rate: float,
) -> pd.DataFrame:
    """Skip-logic violations: migration details for a member who is not away."""
    have = pd.MultiIndex.from_arrays([mig["_parent_index"], mig["mig/member_line"]])
    listed = pd.MultiIndex.from_arrays(
        [roster["_parent_index"], roster["hh_roster/member_line"]]
    ).isin(have)
    home = np.flatnonzero(
        (roster["hh_roster/member_away"].to_numpy() == "no")
        & (roster["hh_roster/member_age"].to_numpy() >= 15)
        & ~listed
    )
    picked = pick_rows(rng, home, rate)
    if len(picked):
        extra = mig.iloc[rng.integers(0, len(mig), len(picked))].copy()
        extra["_parent_index"] = roster["_parent_index"].to_numpy()[picked]
        extra["_submission__uuid"] = roster["_submission__uuid"].to_numpy()[picked]
        extra["mig/member_line"] = roster["hh_roster/member_line"].to_numpy()[picked]
        extra["mig/returned"] = "no"
        for j, i in enumerate(picked):
            at.record(
                "migration_repeat",
                len(mig) + j,
                None,
                "skip_logic_migration_not_away",
                "migration_episodes",
                at.raw_of_index.get(roster["_parent_index"].iat[i]),
            )
        mig = pd.concat([mig, extra], ignore_index=True)
    return mig


def _plant_w1_duplicates(
    main: pd.DataFrame, rng: np.random.Generator, at: _W1Planting, rate: float
) -> _Duplicates:
    """Duplicate submissions (the same interview uploaded twice; the later copy is identical)."""
    n = len(main)
    dups = pick_rows(rng, np.arange(n), rate)
    next_index = int(main["_index"].max()) + 1
    dup_rows = main.loc[dups].copy()
    new_index = np.arange(next_index, next_index + len(dups))
    new_uuid = fake_uuids(rng, len(dups))
    old_to_new = pd.Series(new_index, index=dup_rows["_index"].to_numpy())
    old_to_uuid = pd.Series(new_uuid, index=dup_rows["_index"].to_numpy())
    dup_rows["_index"] = new_index
    dup_rows["_id"] = 40_000_000 + new_index
    dup_rows["_uuid"] = new_uuid
    dup_rows["_submission_time"] = (
        pd.to_datetime(dup_rows["_submission_time"]) + pd.Timedelta(hours=30)
    ).dt.strftime("%Y-%m-%dT%H:%M:%S")
    for j, r in enumerate(dups):
        at.record(W1_MAIN, n + j, None, "duplicate_submission", "households", at.raw_ids[r])
    return _Duplicates(dup_rows, old_to_new, old_to_uuid, next_index + len(dups))


def _duplicate_children(child: pd.DataFrame, dup: _Duplicates) -> pd.DataFrame:
    """The repeat rows of the duplicated submissions, linked to the duplicates."""
    c = child[child["_parent_index"].isin(dup.old_to_new.index)].copy()
    c["_submission__uuid"] = dup.old_to_uuid.reindex(c["_parent_index"]).to_numpy()
    c["_parent_index"] = dup.old_to_new.reindex(c["_parent_index"]).to_numpy()
    return c.sort_values("_parent_index", kind="stable")


def _plant_w1_tests(
    p: SynthParams,
    main: pd.DataFrame,
    rng: np.random.Generator,
    at: _W1Planting,
    n_dups: int,
    next_index: int,
) -> list[Any]:
    """Test submissions of the field team (copies of a random interview, test user)."""
    n = len(main)
    tests: list[Any] = []
    for k in range(p.defects.test_submissions):
        row = main.loc[int(rng.integers(0, n))].copy()
        row["hh/hhid"] = f"TEST-{k + 1:03d}"
        row["enum/enumerator_code"] = "test"
        row["_submitted_by"] = "test_user"
        row["_index"] = next_index
        row["_id"] = 40_000_000 + next_index
        row["_uuid"] = fake_uuids(rng, 1)[0]
        row["start"] = f"{p.design.baseline_year}-01-2{k}T09:00:00.000+07:00"
        row["_submission_time"] = f"{p.design.baseline_year}-01-2{k}T10:00:00"
        row["hh/respondent_name"] = "test test"
        tests.append(row)
        at.record(
            W1_MAIN,
            n + n_dups + len(tests) - 1,
            None,
            "test_submission",
            "households",
            row["hh/hhid"],
        )
        next_index += 1
    return tests
