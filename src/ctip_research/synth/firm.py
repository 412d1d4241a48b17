"""Wave 2: the Stata files of the survey firm (other names, value labels, extended missing values).

Built from the synthetic survey, then its defects are planted at the rates of ``synth.defects``
(documented stream here, blind stream in :mod:`ctip_research.synth.blind`; structure defects in
both streams).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.synth.blind import plant_w2_blind
from ctip_research.synth.generate import SyntheticSurvey
from ctip_research.synth.identities import NOTES, fake_names, fake_phones
from ctip_research.synth.rawlayout import (
    PROVINCE_CENTROIDS,
    W2_DIR,
    W2_LABELS,
    W2_SOURCE,
    RawExport,
    amount_in,
    as_01,
    invert,
    pick_rows,
    record_defect,
)

__all__ = ["build_w2"]


def build_w2(
    survey: SyntheticSurvey,
    ex: RawExport,
    rng: np.random.Generator,
    rates: dict[str, float],
    keys: pd.Series,
) -> None:
    """Build the firm's wave-2 Stata files of ``survey`` into ``ex`` and plant their defects."""
    p = survey.params
    hh = _w2_rows(survey.households, keys, [])
    main = pd.DataFrame({**_w2_hh_head(p, hh, rng), **_w2_hh_answers(hh, survey, rng)})
    members = _w2_members(_w2_rows(survey.members, keys, ["member_id"]), rng)
    loans = _w2_loans(_w2_rows(survey.loans, keys, ["loan_id"]), rates)
    mig = _w2_migration(_w2_rows(survey.migration_episodes, keys, ["member_id"]), p, rng)
    files = {"hh": main, "members": members, "loans": loans, "migration": mig}
    _plant_w2(p, files, rng, ex)
    ex.w2_files = files
    ex.w2_labels = _w2_value_labels(main.columns, mig.columns)
    ex.w2_var_labels = {
        name: {c: _W2_VAR_LABELS.get(c, c) for c in df.columns} for name, df in files.items()
    }


def _w2_rows(df: pd.DataFrame, keys: pd.Series, order: list[str]) -> pd.DataFrame:
    """Wave-2 rows of one table with their raw household id, in the firm's order."""
    out = df[df["wave"] == 2].copy()
    out["raw_id"] = keys.reindex(out["household_id"]).to_numpy()
    return out.sort_values(["raw_id", *order] if order else "raw_id", kind="stable").reset_index(
        drop=True
    )


def _w2_hh_head(p: SynthParams, hh: pd.DataFrame, rng: np.random.Generator) -> dict[str, Any]:
    """Household-file columns from the id to the GPS: date, place, design, respondent."""
    n = len(hh)
    psu_seq = hh["psu_id"].str[-3:].astype(int).to_numpy()
    date = (
        pd.Timestamp(f"{p.design.endline_year}-03-01")
        + pd.to_timedelta(psu_seq % 75, unit="D")
        + pd.to_timedelta(rng.integers(7 * 60, 17 * 60, n), unit="min")
    )
    lat0 = hh["province_code"].map(lambda c: PROVINCE_CENTROIDS[c][0]).to_numpy()
    lon0 = hh["province_code"].map(lambda c: PROVINCE_CENTROIDS[c][1]).to_numpy()
    return {
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
        "resp_name": fake_names(rng, n),
        "resp_tel": fake_phones(rng, n),
        "gps_lat": np.round(lat0 + rng.normal(0, 0.15, n), 6),
        "gps_lon": np.round(lon0 + rng.normal(0, 0.15, n), 6),
    }


def _w2_hh_answers(
    hh: pd.DataFrame, survey: SyntheticSurvey, rng: np.random.Generator
) -> dict[str, Any]:
    """Household-file columns of the answers: size, head, land, income, shocks, loans, programme."""
    n = len(hh)
    rep = hh["representative_is_female"]
    return {
        "q201_hhsize": hh["household_size"].to_numpy(np.int64),
        "q202_nchild": hh["n_children"].to_numpy(np.int64),
        "q203_nwork": hh["n_working_age"].to_numpy(np.int64),
        "q204_headsex": np.where(hh["head_is_female"].to_numpy(bool), 2, 1),
        "q205_headage": hh["head_age"].to_numpy(np.int64).astype(float),
        "q206_headedu": hh["head_educ_years"].to_numpy(np.int64),
        "q301_land_ha": hh["land_agri_ha"].to_numpy(float),
        "q302_title": as_01(hh["has_land_title"]),
        "q401_farm_usd": hh["income_farm_usd"].to_numpy(float),
        "q402_wage_usd": hh["income_wages_usd"].to_numpy(float),
        "q403_busi_usd": hh["income_business_usd"].to_numpy(float),
        "q404_remit_usd": hh["income_remittances_usd"].to_numpy(float),
        "q405_other_usd": hh["income_other_usd"].to_numpy(float),
        "q406_total_usd": hh["income_annual_usd"].to_numpy(float),
        "q410_assets_usd": hh["asset_value_usd"].to_numpy(float),
        "q411_assetidx": hh["asset_index"].to_numpy(float),
        "q501_climate": as_01(hh["shock_climate"]),
        "q502_health": as_01(hh["shock_health"]),
        "q503_jobloss": as_01(hh["shock_job_loss"]),
        "q600_anyloan": hh["household_id"]
        .isin(survey.loans.loc[survey.loans["wave"] == 2, "household_id"])
        .to_numpy()
        .astype(np.int64),
        **{
            f"q60{i + 1}_{c.removeprefix('cope_')[:8]}": as_01(hh[c])
            for i, c in enumerate(L.COPING)
        },
        "q701_grant": as_01(hh["received_livelihood_grant"]),
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
        "comments": np.asarray(NOTES, dtype=object)[rng.integers(0, len(NOTES), n)],
    }


def _w2_members(mem: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The member file."""
    return pd.DataFrame(
        {
            "hhid": mem["raw_id"].to_numpy(),
            "line": mem["member_id"].to_numpy(np.int64),
            "name": fake_names(rng, len(mem)),
            "sex": np.where(mem["sex"].to_numpy() == "female", 2, 1),
            "age": mem["age"].to_numpy(np.int64),
            "rel": mem["relation_to_head"].map(invert(W2_LABELS["rel"])).to_numpy(np.int64),
            "edu": mem["educ_years"].to_numpy(np.int64),
            "away": as_01(mem["is_away"]),
            "mtype": mem["migrant_type"].map(invert(W2_LABELS["mtype"])).to_numpy(np.int64),
        }
    )


def _w2_loans(lo: pd.DataFrame, rates: dict[str, float]) -> pd.DataFrame:
    """The loan file (amounts in the loan's currency)."""
    step_i = {"KHR": 1000.0, "USD": 1.0, "THB": 10.0}
    return pd.DataFrame(
        {
            "hhid": lo["raw_id"].to_numpy(),
            "lno": lo["loan_id"].to_numpy(np.int64),
            "lender": lo["lender_type"].map(invert(W2_LABELS["lender"])).to_numpy(np.int64),
            "amt": lo["principal"].to_numpy(float),
            "cur": lo["currency"].map(invert(W2_LABELS["cur"])).to_numpy(np.int64),
            "rate_yr_pct": np.round(lo["interest_rate_annual"].to_numpy(float) * 100, 4),
            "term": lo["term_months"].to_numpy(np.int64),
            "inst": amount_in(lo["instalment_monthly_usd"], lo["currency"], rates, step_i),
            "outst": amount_in(lo["outstanding_usd"], lo["currency"], rates, step_i),
            "purpose": lo["purpose"].map(invert(W2_LABELS["purpose"])).to_numpy(np.int64),
            "collat": lo["collateral"].map(invert(W2_LABELS["collat"])).to_numpy(np.int64),
            "yr_taken": lo["year_taken"].to_numpy(np.int64),
            "arrears": as_01(lo["is_in_arrears"]),
        }
    )


def _w2_migration(ep: pd.DataFrame, p: SynthParams, rng: np.random.Generator) -> pd.DataFrame:
    """The migration file (cost in baht, ILO indicators, migrant phone)."""
    return pd.DataFrame(
        {
            "hhid": ep["raw_id"].to_numpy(),
            "line": ep["member_id"].to_numpy(np.int64),
            "dest": ep["destination_country"].map(invert(W2_LABELS["dest"])).to_numpy(np.int64),
            "sector": ep["destination_sector"].map(invert(W2_LABELS["sector"])).to_numpy(np.int64),
            "yr_left": ep["year_left"].to_numpy(np.int64),
            "chan": ep["channel"].map(invert(W2_LABELS["chan"])).to_numpy(np.int64),
            "irreg": as_01(ep["is_irregular"]),
            "broker": as_01(ep["used_informal_broker"]),
            "cost_thb": np.round(ep["migration_cost_usd"].to_numpy(float) * p.thb_per_usd),
            "loan_fin": as_01(ep["cost_financed_by_loan"]),
            "loan_src": ep["loan_source"].map(invert(W2_LABELS["loan_src"])).to_numpy(np.int64),
            **{f"ilo_{k[:20]}": as_01(ep[k]) for k in (*L.ILO_INDICATORS, "paid_below_min_wage")},
            "returned": as_01(ep["has_returned"]),
            "mig_tel": fake_phones(rng, len(ep)),
        }
    )


def _w2_value_labels(
    main_columns: pd.Index, mig_columns: pd.Index
) -> dict[str, dict[str, dict[int, str]]]:
    """Stata value labels of every coded column, by file."""
    return {
        "hh": {
            "q101_prov": dict(L.SYNTH_PROVINCES),
            "q102_area": {1: "urban", 2: "rural"},
            "q204_headsex": {1: "male", 2: "female"},
            **{
                c: {0: "no", 1: "yes"}
                for c in main_columns
                if c.startswith(("q30", "q50", "q60", "q701", "q702")) and c != "q301_land_ha"
            },
        },
        "members": {
            "sex": {1: "male", 2: "female"},
            "rel": W2_LABELS["rel"],
            "away": {0: "no", 1: "yes"},
            "mtype": W2_LABELS["mtype"],
        },
        "loans": {
            "lender": W2_LABELS["lender"],
            "cur": W2_LABELS["cur"],
            "purpose": W2_LABELS["purpose"],
            "collat": W2_LABELS["collat"],
            "arrears": {0: "no", 1: "yes"},
        },
        "migration": {
            "dest": W2_LABELS["dest"],
            "sector": W2_LABELS["sector"],
            "chan": W2_LABELS["chan"],
            "loan_src": W2_LABELS["loan_src"],
            **{
                c: {0: "no", 1: "yes"}
                for c in mig_columns
                if c.startswith("ilo_") or c in ("irreg", "broker", "loan_fin", "returned")
            },
        },
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
        plant_w2_blind(p, files, rng, ex)
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
        rows = pick_rows(rng, np.arange(n), dp.special_code)
        codes = np.where(rng.random(len(rows)) < 0.5, "a", "b")
        arr = main[col].to_numpy(object).copy()
        arr[rows] = codes
        main[col] = arr
        for r, c in zip(rows, codes, strict=True):
            kind = "special_code_refused" if c == "a" else "special_code_dont_know"
            record_defect(ex, W2_SOURCE, fname, None, r + first, col, kind, "households", hhid[r])
    cand = np.flatnonzero(main["q403_busi_usd"].to_numpy(float) > 0)
    rows = pick_rows(rng, cand, dp.outlier * n / max(len(cand), 1))
    busi = main["q403_busi_usd"].to_numpy(float).copy()
    busi[rows] = busi[rows] * 100
    main["q403_busi_usd"] = busi
    for r in rows:
        record_defect(
            ex, W2_SOURCE, fname, None, r + first, "q403_busi_usd", "outlier", "households", hhid[r]
        )
    loans = files["loans"]
    lname = f"{W2_DIR}/loans.dta"
    l_hhid = loans["hhid"].to_numpy(object)
    rows = pick_rows(rng, np.arange(len(loans)), dp.outlier)
    amt = loans["amt"].to_numpy(float).copy()
    amt[rows] = amt[rows] * 100
    loans["amt"] = amt
    for r in rows:
        record_defect(ex, W2_SOURCE, lname, None, r + first, "amt", "outlier", "loans", l_hhid[r])
    riel = np.flatnonzero(loans["cur"].to_numpy() == 1)
    rows = pick_rows(rng, riel, dp.riel_typed_as_dollars)
    cur = loans["cur"].to_numpy().copy()
    cur[rows] = 2
    loans["cur"] = cur
    for r in rows:
        record_defect(
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
    picked = pick_rows(rng, no_loan, dp.skip_logic_loan)
    if len(picked):
        extra = loans.iloc[rng.integers(0, len(loans), len(picked))].copy()
        extra["hhid"] = main["hhid"].to_numpy()[picked]
        extra["lno"] = 1
        for j, r in enumerate(picked):
            record_defect(
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
    picked = pick_rows(rng, home, dp.skip_logic_migration)
    if len(picked):
        extra = mig.iloc[rng.integers(0, len(mig), len(picked))].copy()
        extra["hhid"] = members["hhid"].to_numpy()[picked]
        extra["line"] = members["line"].to_numpy()[picked]
        extra["returned"] = 0
        for j, i in enumerate(picked):
            record_defect(
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
    dups = pick_rows(rng, np.arange(n), dp.duplicate_submission)
    dup_rows = main.loc[dups].copy()
    dup_rows["q000_date"] = (
        pd.to_datetime(dup_rows["q000_date"]) + pd.Timedelta(days=2)
    ).dt.strftime("%Y-%m-%d %H:%M:%S")
    for j, r in enumerate(dups):
        record_defect(
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
        record_defect(
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
