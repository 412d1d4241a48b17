"""Codebooks of the synthetic raw files (``docs/codebook.md``): one per source.

They map every raw column (or mark it PII or unused) exactly as the raw builders wrote it; a
column missing from a codebook is a programming error of this package.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.identity import EMBEDDED_SURVEY
from ctip_research.synth.generate import SyntheticSurvey
from ctip_research.synth.rawlayout import (
    MISSPELT_PROVINCES,
    W1_COPING,
    W1_COUNTRIES,
    W1_CURRENCIES,
    W1_FILE,
    W1_MAIN,
    W1_SHOCKS,
    W1_SOURCE,
    W2_DIR,
    W2_LABELS,
    W2_SOURCE,
    RawExport,
)

__all__ = ["codebook_w1", "codebook_w2"]


def _m(canonical: str, **kw: Any) -> dict[str, Any]:
    return {"action": "map", "canonical": canonical, **kw}


def _pii(reason: str) -> dict[str, Any]:
    return {"action": "pii", "reason": reason}


def _unused(reason: str) -> dict[str, Any]:
    return {"action": "unused", "reason": reason}


_YESNO = {"yes": True, "no": False}


def codebook_w1(survey: SyntheticSurvey, ex: RawExport) -> dict[str, Any]:
    p = survey.params
    prov_values: dict[str, int] = {v: k for k, v in L.SYNTH_PROVINCES.items()}
    # reviewed fixes of the known misspellings (codebook `fixes`): ingest records every fixed
    # row in value_fixes.parquet, so the quality report can count them
    prov_fixes: dict[str, str] = {
        v.strip(): L.PROVINCES[code]
        for code, variants in MISSPELT_PROVINCES.items()
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
        **{f"shocks/shocks_12m/{code}": _m(canon) for canon, code in W1_SHOCKS.items()},
        # reliability: the loan filter question feeds clean's skip-logic check
        # (docs/CONTRACTS.md, 'Filter questions'); was _unused.
        "debt/any_loan": {"action": "meta", "canonical": "_has_loan_reported", "values": _YESNO},
        "debt/coping": _unused("select_multiple as text; the one-hot columns are mapped"),
        **{f"debt/coping/{code}": _m(canon) for canon, code in W1_COPING.items()},
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
        "loan/currency": _m("currency", values={v: k for k, v in W1_CURRENCIES.items()}),
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
        "mig/country": _m("destination_country", values={v: k for k, v in W1_COUNTRIES.items()}),
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


def codebook_w2(survey: SyntheticSurvey, ex: RawExport) -> dict[str, Any]:
    p = survey.params
    f = ex.w2_files
    ext = "parquet" if p.output_format == "parquet" else "dta"

    def codes(name: str) -> dict[int, str]:
        return W2_LABELS[name]

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
