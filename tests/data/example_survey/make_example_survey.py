"""Build the example survey: a small, made-up two-wave household survey shaped like a firm's export.

This is NOT the package's synthetic survey and does not use its generator or its ground truth.
It is a second, differently shaped survey, written by this script only, for the end-to-end test
of bringing one's own data (``tests/integration/test_own_survey.py``) and for the tutorial
``docs/your-own-survey.md``:

* four provinces the synthetic survey does not have (Kampong Thom 6, Kratie 10, Svay Rieng 20,
  Takeo 21), 7 villages each (5 rural, 2 urban), 11 households per village: 308 households;
* wave 1 (2021): four CSV files, one per table, with the firm's own column names, text labels,
  money in riel or dollars with a currency column, names, phones, GPS and notes to drop;
* wave 2 (2024): four Stata ``.dta`` files with numeric codes and value labels, money in dollars;
  92% of the households re-interviewed;
* a livelihood programme between the waves in the rural villages of Kampong Thom, Svay Rieng and
  Takeo only;
* no asset values at all (a feature missing for the whole survey);
* clean data: no duplicates, special codes, misspellings or outliers (the quality report finds
  nothing), and one reviewed correction in ``corrections.csv``.

Every household, name and number is invented. Run from the repository root::

    python tests/data/example_survey/make_example_survey.py

The output is deterministic (same bytes on every run); the codebooks
(``wave1_csv.codebook.yaml``, ``wave2_dta.codebook.yaml``) are written by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from ctip_research.determinism import fix_dta_timestamp_file

OUT = Path(__file__).resolve().parent
SEED = 20240611
KHR_PER_USD = 4100.0

PROVINCES = {6: "Kampong Thom", 10: "Kratie", 20: "Svay Rieng", 21: "Takeo"}
INTL_BASE = {6: 0.14, 10: 0.08, 20: 0.26, 21: 0.18}  # share with an international migrant
PROGRAMME_PROVINCES = (6, 20, 21)  # rural villages only
RURAL_VILLAGES, URBAN_VILLAGES, HH_PER_VILLAGE = 5, 2, 11
SYLLABLES = (
    "sok",
    "dara",
    "chan",
    "srey",
    "mom",
    "keo",
    "vanna",
    "lim",
    "bopha",
    "heng",
    "rath",
    "nary",
    "pisey",
    "vuthy",
    "sophal",
    "kimsan",
    "thida",
    "ratha",
)
LENDERS_W1 = {
    "mfi": "MFI",
    "bank": "Bank",
    "moneylender": "Moneylender",
    "relative": "Relative/friend",
    "savings_group": "Savings group",
}
PURPOSES = (
    "agriculture",
    "business",
    "consumption",
    "health",
    "education",
    "house",
    "repay_other_loan",
    "migration",
)
COLLATERAL = ("land_title", "soft_title", "group_guarantee", "other_asset", "none")
DESTINATIONS = {
    "TH": "Thailand",
    "KR": "South Korea",
    "MY": "Malaysia",
    "JP": "Japan",
    "KH": "Cambodia",
}
SECTORS = (
    "agriculture",
    "construction",
    "manufacturing",
    "fishing",
    "domestic_work",
    "hospitality",
    "services",
    "other",
)
CHANNELS = {
    "mou": "MOU",
    "border_pass": "Border pass",
    "eps_korea": "EPS Korea",
    "self_regular": "Own arrangement",
    "irregular": "Irregular",
}
ILO = (
    "deceived_recruitment",
    "documents_withheld",
    "wages_withheld",
    "paid_below_min_wage",
    "debt_to_broker_employer",
    "movement_restricted",
    "threats_violence",
    "excessive_hours",
)
RELATIONS_W1 = {
    "head": "Head",
    "spouse": "Spouse",
    "child": "Son/daughter",
    "grandchild": "Grandchild",
    "parent": "Parent",
    "sibling": "Brother/sister",
}


def _name(rng: np.random.Generator) -> str:
    a, b = rng.choice(len(SYLLABLES), size=2, replace=False)
    return f"{SYLLABLES[a].title()} {SYLLABLES[b].title()}"


def _phone(rng: np.random.Generator) -> str:
    return (
        f"0{rng.choice([12, 15, 16, 77, 92, 97])} {rng.integers(100, 999)} {rng.integers(100, 999)}"
    )


def _money(rng: np.random.Generator, median_usd: float, sigma: float = 0.45) -> float:
    """A positive amount without a heavy tail (log-normal cut at +-2.2 sd)."""
    z = float(np.clip(rng.normal(), -2.2, 2.2))
    return round(median_usd * float(np.exp(sigma * z)))


def build_frame(rng: np.random.Generator) -> dict[str, list[dict]]:
    """The survey as records (both waves), before it is shaped into the two exports."""
    households, members, loans, episodes = [], [], [], []
    hh_state: dict[str, dict] = {}
    for prov in PROVINCES:
        for v in range(RURAL_VILLAGES + URBAN_VILLAGES):
            urban = v >= RURAL_VILLAGES
            district = prov * 100 + 1 + v // 3
            commune = district * 100 + 1 + v // 2
            village = commune * 100 + 1 + v
            branches = round(float(rng.uniform(0.2, 2.2)), 2)
            dist_km = round(
                float(np.clip(12.0 / (0.5 + branches) + rng.normal(0, 1.5), 0.5, 40)), 1
            )
            frame_villages = 60 if urban else 180
            village_hh = int(rng.integers(120, 420))
            weight = round(
                village_hh
                / HH_PER_VILLAGE
                * frame_villages
                / (URBAN_VILLAGES if urban else RURAL_VILLAGES),
                3,
            )
            for h in range(HH_PER_VILLAGE):
                hid = f"{PROVINCES[prov][:2].upper()}-{v + 1:02d}-{h + 1:03d}"
                u = float(rng.normal())  # unobserved: drives both MFI borrowing and migration
                land = (
                    0.0
                    if (urban and rng.random() < 0.7) or rng.random() < 0.15
                    else round(float(np.clip(rng.lognormal(0.0, 0.6), 0.1, 8.0)), 2)
                )
                hh_state[hid] = {
                    "prov": prov,
                    "urban": urban,
                    "district": district,
                    "commune": commune,
                    "village": village,
                    "branches": branches,
                    "dist_km": dist_km,
                    "weight": weight,
                    "n_psu": frame_villages,
                    "u": u,
                    "land": land,
                    "eligible": (not urban) and prov in PROGRAMME_PROVINCES,
                    "enum": f"E{prov:02d}{1 + v % 3}",
                }
    for wave in (1, 2):
        year = 2021 if wave == 1 else 2024
        for hid, s in hh_state.items():
            if wave == 2 and rng.random() < 0.08:
                continue  # attrition
            rec = _household(rng, hid, s, wave, year)
            households.append(rec["household"])
            members += rec["members"]
            loans += rec["loans"]
            episodes += rec["episodes"]
    return {"households": households, "members": members, "loans": loans, "episodes": episodes}


def _household(rng: np.random.Generator, hid: str, s: dict, wave: int, year: int) -> dict:
    # -- roster -------------------------------------------------------------------------------
    head_female = bool(rng.random() < 0.25)
    head_age = int(rng.integers(24, 72)) + (3 if wave == 2 else 0)
    roster = [{"relation": "head", "sex": "female" if head_female else "male", "age": head_age}]
    if rng.random() < 0.8:
        roster.append(
            {
                "relation": "spouse",
                "sex": "male" if head_female else "female",
                "age": int(np.clip(head_age + rng.integers(-6, 4), 18, 90)),
            }
        )
    for _ in range(int(rng.poisson(1.8))):
        roster.append(
            {
                "relation": "child",
                "sex": str(rng.choice(["female", "male"])),
                "age": int(np.clip(head_age - rng.integers(18, 34), 0, 50)),
            }
        )
    if rng.random() < 0.15:
        roster.append({"relation": "parent", "sex": "female", "age": int(min(head_age + 25, 95))})
    for i, m in enumerate(roster):
        m["line"] = i + 1
        m["educ"] = int(np.clip(rng.normal(6, 3), 0, 16)) if m["age"] >= 7 else 0
        m["migrant"] = "none"
    # -- debt -----------------------------------------------------------------------------------
    z_b = (s["branches"] - 1.2) / 0.6
    p_mfi = 1 / (
        1
        + np.exp(
            -(
                -0.5
                + 0.7 * z_b
                + 0.5 * s["u"]
                + 0.3 * (s["land"] > 0)
                - 0.4 * s["urban"]
                + (0.25 if wave == 2 else 0)
            )
        )
    )
    has_mfi = bool(rng.random() < p_mfi)
    lenders: list[str] = []
    if has_mfi:
        lenders += ["mfi"] * (1 + int(rng.random() < 0.3))
    if rng.random() < 0.1:
        lenders.append("bank")
    if rng.random() < 0.3:
        lenders.append(str(rng.choice(["moneylender", "relative", "savings_group"])))
    # -- programme (wave 2, eligible villages, targeted on vulnerability) -------------------------
    treated = False
    if wave == 2 and s["eligible"]:
        treated = bool(rng.random() < (0.55 if s.get("risky_w1") or s["land"] < 0.5 else 0.3))
    # -- migration ------------------------------------------------------------------------------
    p_intl = np.clip(
        INTL_BASE[s["prov"]] + 0.07 * has_mfi + 0.05 * s["u"] + 0.04 * (s["land"] < 0.5), 0.01, 0.9
    )
    candidates = [m for m in roster if m["relation"] != "head" and 16 <= m["age"] <= 45]
    eps: list[dict] = []
    if candidates and rng.random() < p_intl:
        m = candidates[int(rng.integers(len(candidates)))]
        m["migrant"] = "international"
        dest = str(rng.choice(["TH", "KR", "MY", "JP"], p=[0.7, 0.14, 0.1, 0.06]))
        if dest == "TH":
            channel = str(rng.choice(["irregular", "border_pass", "mou"], p=[0.45, 0.25, 0.3]))
        elif dest == "KR":
            channel = "eps_korea"
        else:
            channel = str(rng.choice(["mou", "self_regular"]))
        p_ilo = 0.22 - (0.12 if treated else 0.0)
        eps.append(_episode(rng, m, dest, channel, year, p_ilo, returned=False))
    others = [m for m in candidates if m["migrant"] == "none"]
    if others and rng.random() < 0.18:
        m = others[int(rng.integers(len(others)))]
        m["migrant"] = "domestic"
        eps.append(_episode(rng, m, "KH", "self_regular", year, 0.04, returned=False))
    stay = [m for m in roster if m["migrant"] == "none" and 18 <= m["age"] <= 60]
    if stay and rng.random() < 0.06:
        m = stay[int(rng.integers(len(stay)))]
        eps.append(_episode(rng, m, "TH", "border_pass", year - 2, 0.1, returned=True))
    if wave == 1:
        s["risky_w1"] = any(e["risky"] for e in eps if not e["returned"])
    # -- income ---------------------------------------------------------------------------------
    farm = _money(rng, 900 + 500 * s["land"]) if s["land"] > 0 else 0.0
    wages = _money(rng, 1500) if rng.random() < 0.65 or farm == 0 else 0.0
    business = _money(rng, 1100) if rng.random() < 0.3 else 0.0
    remit = _money(rng, 800) if any(m["migrant"] != "none" for m in roster) else 0.0
    other = _money(rng, 250) if rng.random() < 0.3 else 0.0
    total = farm + wages + business + remit + other
    if total == 0:
        other = _money(rng, 250)
        total = other
    loan_recs = []
    for i, lender in enumerate(lenders):
        principal = {
            "mfi": 2200,
            "bank": 4000,
            "moneylender": 450,
            "relative": 300,
            "savings_group": 250,
        }[lender]
        principal = _money(rng, principal, 0.4)
        rate = {
            "mfi": 0.18,
            "bank": 0.12,
            "moneylender": 0.6,
            "relative": 0.0,
            "savings_group": 0.24,
        }[lender]
        term = (
            int(rng.choice([12, 18, 24, 36]))
            if lender in ("mfi", "bank")
            else int(rng.choice([6, 12]))
        )
        r = rate / 12
        instal = principal / term if r == 0 else principal * r / (1 - (1 + r) ** -term)
        elapsed = int(rng.integers(1, term))
        outstanding = max(principal * (1 - elapsed / term), 0.0)
        loan_recs.append(
            {
                "loan": i + 1,
                "lender": lender,
                "principal_usd": float(principal),
                "rate": rate,
                "term": term,
                "instalment_usd": round(instal, 2),
                "outstanding_usd": round(outstanding),
                "purpose": str(
                    rng.choice(PURPOSES, p=[0.3, 0.2, 0.15, 0.1, 0.05, 0.1, 0.05, 0.05])
                ),
                "collateral": str(rng.choice(COLLATERAL, p=[0.35, 0.2, 0.2, 0.05, 0.2]))
                if lender in ("mfi", "bank")
                else "none",
                "year": year - int(rng.integers(0, 2)),
                "arrears": bool(rng.random() < 0.12),
                "usd": bool(lender in ("mfi", "bank") and rng.random() < 0.6),
            }
        )
    service = 12 * sum(loan["instalment_usd"] for loan in loan_recs)
    stressed = total > 0 and service / total > 0.6
    cope = {
        c: bool(rng.random() < (0.35 if stressed else 0.05))
        for c in (
            "cope_reduce_food",
            "cope_new_loan_to_repay",
            "cope_migrate_to_repay",
            "cope_sold_land",
            "cope_sold_assets",
            "cope_child_work_or_dropout",
        )
    }
    kids = sum(m["age"] < 15 for m in roster)
    work = sum(15 <= m["age"] <= 64 for m in roster)
    household = {
        "hid": hid,
        "wave": wave,
        "year": year,
        **{
            k: s[k]
            for k in (
                "prov",
                "urban",
                "district",
                "commune",
                "village",
                "branches",
                "dist_km",
                "weight",
                "n_psu",
                "land",
                "enum",
            )
        },
        "size": len(roster),
        "kids": kids,
        "work": work,
        "head_female": head_female,
        "head_age": head_age,
        "head_educ": roster[0]["educ"],
        "title": bool(s["land"] > 0 and rng.random() < 0.6),
        "farm": farm,
        "wages": wages,
        "business": business,
        "remit": remit,
        "other": other,
        "total": total,
        "shock_climate": bool(rng.random() < 0.25),
        "shock_health": bool(rng.random() < 0.15),
        "shock_job_loss": bool(rng.random() < 0.08),
        **cope,
        "any_loan": bool(loan_recs),
        "grant": treated,
        "rep_female": bool(rng.random() < 0.6) if treated else None,
        "trained": int(rng.integers(1, 3)) if treated else 0,
        "name": _name(rng),
        "phone": _phone(rng),
        "lat": round(float(11.0 + rng.random() * 2), 6),
        "lon": round(float(104.0 + rng.random() * 2), 6),
        "date": f"{year}-{int(rng.integers(2, 5)):02d}-{int(rng.integers(1, 28)):02d}",
    }
    mem = [
        {"hid": hid, "wave": wave, **m, "name": _name(rng), "away": m["migrant"] != "none"}
        for m in roster
    ]
    lo = [{"hid": hid, "wave": wave, **loan} for loan in loan_recs]
    ep = [{"hid": hid, "wave": wave, **e} for e in eps]
    return {"household": household, "members": mem, "loans": lo, "episodes": ep}


def _episode(
    rng: np.random.Generator,
    member: dict,
    dest: str,
    channel: str,
    year: int,
    p_ilo: float,
    *,
    returned: bool,
) -> dict:
    irregular = channel == "irregular"
    broker = bool(rng.random() < (0.5 if irregular else 0.15))
    ilo = {k: bool(rng.random() < p_ilo / 2) for k in ILO}
    financed = bool(dest != "KH" and rng.random() < 0.45)
    cost = _money(rng, 180 if dest == "KH" else 650)
    return {
        "line": member["line"],
        "dest": dest,
        "sector": str(rng.choice(SECTORS)),
        "year_left": year - int(rng.integers(0, 4)),
        "channel": channel,
        "irregular": irregular,
        "broker": broker,
        "cost_usd": float(cost),
        "financed": financed,
        "loan_source": str(rng.choice(["mfi", "moneylender", "relative"])) if financed else "none",
        **ilo,
        "returned": returned,
        "risky": irregular or broker or any(ilo.values()),
    }


def _yn(v: bool) -> str:
    return "yes" if v else "no"


def write_wave1(data: dict[str, list[dict]], root: Path = OUT) -> None:
    """Wave 1 (2021): four CSV files with the firm's names, text labels and riel."""
    out = root / "wave1"
    out.mkdir(exist_ok=True)
    hh = [r for r in data["households"] if r["wave"] == 1]
    rows = []
    for r in hh:
        rows.append(
            {
                "hhid": r["hid"],
                "interview_date": r["date"],
                "enumerator": r["enum"],
                "province": PROVINCES[r["prov"]],
                "district": r["district"],
                "commune": r["commune"],
                "village_code": r["village"],
                "village_name": f"Phum {r['village'] % 1000}",
                "zone": "urban" if r["urban"] else "rural",
                "stratum": f"{r['prov']:02d}-{'U' if r['urban'] else 'R'}",
                "weight": f"{r['weight']:.3f}",
                "villages_in_stratum": r["n_psu"],
                "resp_name": r["name"],
                "resp_phone": r["phone"],
                "gps_lat": r["lat"],
                "gps_lon": r["lon"],
                "hh_size": r["size"],
                "n_child_u15": r["kids"],
                "n_adult_15_64": r["work"],
                "head_sex": "F" if r["head_female"] else "M",
                "head_age": r["head_age"],
                "head_school_yrs": r["head_educ"],
                "farm_land_m2": int(round(r["land"] * 10000)),
                "hard_title": _yn(r["title"]),
                **{
                    f"inc_{k}_khr": int(round(r[v] * KHR_PER_USD / 1000) * 1000)
                    for k, v in (
                        ("farm", "farm"),
                        ("wage", "wages"),
                        ("business", "business"),
                        ("remit", "remit"),
                        ("other", "other"),
                    )
                },
                "shock_flood_drought": int(r["shock_climate"]),
                "shock_illness": int(r["shock_health"]),
                "shock_jobloss": int(r["shock_job_loss"]),
                "cope_less_food": int(r["cope_reduce_food"]),
                "cope_new_loan": int(r["cope_new_loan_to_repay"]),
                "cope_migrate": int(r["cope_migrate_to_repay"]),
                "cope_sell_land": int(r["cope_sold_land"]),
                "cope_sell_assets": int(r["cope_sold_assets"]),
                "cope_child_work": int(r["cope_child_work_or_dropout"]),
                "km_to_mfi": r["dist_km"],
                "mfi_branches_commune": r["branches"],
                "any_loan": _yn(r["any_loan"]),
                "notes": "revisit after harvest" if r["size"] > 6 else "",
            }
        )
    for row in rows:  # total income = the sum of the sources, in riel as the firm reports it
        row["inc_total_khr"] = sum(
            row[f"inc_{k}_khr"] for k in ("farm", "wage", "business", "remit", "other")
        )
    # one typing error (row 42: the header is row 1), fixed by the reviewed corrections log
    typo = rows[40]
    write_corrections(int(typo["head_school_yrs"]), root)
    typo["head_school_yrs"] = 21
    _write_csv(out / "households.csv", rows)
    _write_csv(
        out / "members.csv",
        [
            {
                "hhid": m["hid"],
                "line_no": m["line"],
                "member_name": m["name"],
                "sex": m["sex"],
                "age": m["age"],
                "relation": RELATIONS_W1[m["relation"]],
                "school_yrs": m["educ"],
                "away_3m": _yn(m["away"]),
                "migrant": {"international": "abroad", "domestic": "in Cambodia", "none": "no"}[
                    m["migrant"]
                ],
            }
            for m in data["members"]
            if m["wave"] == 1
        ],
    )
    loans = []
    for loan in (x for x in data["loans"] if x["wave"] == 1):
        cur = "USD" if loan["usd"] else "KHR"
        k = 1.0 if loan["usd"] else KHR_PER_USD
        loans.append(
            {
                "hhid": loan["hid"],
                "loan_no": loan["loan"],
                "lender": LENDERS_W1[loan["lender"]],
                "amount": int(round(loan["principal_usd"] * k)),
                "currency": cur,
                "rate_month_pct": round(loan["rate"] * 100 / 12, 4),
                "months": loan["term"],
                "instalment": round(loan["instalment_usd"] * k, 2),
                "still_owed": int(round(loan["outstanding_usd"] * k)),
                "purpose": loan["purpose"],
                "collateral": loan["collateral"],
                "year_taken": loan["year"],
                "in_arrears": _yn(loan["arrears"]),
            }
        )
    _write_csv(out / "loans.csv", loans)
    _write_csv(
        out / "migration.csv",
        [
            {
                "hhid": e["hid"],
                "line_no": e["line"],
                "country": DESTINATIONS[e["dest"]],
                "sector": e["sector"],
                "year_left": e["year_left"],
                "channel": CHANNELS[e["channel"]],
                "irregular": _yn(e["irregular"]),
                "broker": _yn(e["broker"]),
                "cost_usd": int(e["cost_usd"]),
                "loan_financed": _yn(e["financed"]),
                "loan_from": e["loan_source"],
                **{k: _yn(e[k]) for k in ILO},
                "returned": _yn(e["returned"]),
            }
            for e in data["episodes"]
            if e["wave"] == 1
        ],
    )


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _write_dta(
    path: Path, df: pd.DataFrame, labels: dict[str, dict[int, str]], var_labels: dict[str, str]
) -> None:
    pyreadstat.write_dta(
        df,
        str(path),
        file_label=f"Example survey, wave 2, {path.stem}",
        column_labels=[var_labels.get(c, c) for c in df.columns],
        variable_value_labels=labels,
    )
    fix_dta_timestamp_file(path)


def write_wave2(data: dict[str, list[dict]], root: Path = OUT) -> None:
    """Wave 2 (2024): four Stata files with numeric codes, value labels and dollars."""
    out = root / "wave2"
    out.mkdir(exist_ok=True)
    yes_no = {0: "No", 1: "Yes"}
    hh = pd.DataFrame([r for r in data["households"] if r["wave"] == 2])
    frame = pd.DataFrame(
        {
            "hhid": hh["hid"],
            "int_year": hh["year"],
            "enum": hh["enum"],
            "prov": hh["prov"],
            "dist": hh["district"],
            "comm": hh["commune"],
            "vill": hh["village"],
            "urban": hh["urban"].astype(int),
            "strat": [
                f"{p:02d}-{'U' if u else 'R'}" for p, u in zip(hh["prov"], hh["urban"], strict=True)
            ],
            "wgt": hh["weight"],
            "n_vill_strat": hh["n_psu"],
            "respondent": hh["name"],
            "phone": hh["phone"],
            "hhsize": hh["size"],
            "kids": hh["kids"],
            "adults": hh["work"],
            "head_female": hh["head_female"].astype(int),
            "head_age": hh["head_age"],
            "head_edu": hh["head_educ"],
            "land_ha": hh["land"],
            "title": hh["title"].astype(int),
            "y_farm": hh["farm"],
            "y_wage": hh["wages"],
            "y_bus": hh["business"],
            "y_remit": hh["remit"],
            "y_other": hh["other"],
            "y_total": hh["total"],
            "sh_clim": hh["shock_climate"].astype(int),
            "sh_hlth": hh["shock_health"].astype(int),
            "sh_job": hh["shock_job_loss"].astype(int),
            "cp_food": hh["cope_reduce_food"].astype(int),
            "cp_loan": hh["cope_new_loan_to_repay"].astype(int),
            "cp_migr": hh["cope_migrate_to_repay"].astype(int),
            "cp_land": hh["cope_sold_land"].astype(int),
            "cp_asset": hh["cope_sold_assets"].astype(int),
            "cp_child": hh["cope_child_work_or_dropout"].astype(int),
            "grant": hh["grant"].astype(int),
            "grant_rep_f": hh["rep_female"].map(lambda v: np.nan if v is None else float(v)),
            "trained": hh["trained"],
            "dist_mfi_km": hh["dist_km"],
            "mfi_density": hh["branches"],
            "anyloan": hh["any_loan"].astype(int),
        }
    )
    labels = {
        "prov": dict(PROVINCES),
        "urban": {0: "Rural", 1: "Urban"},
        **{
            c: yes_no
            for c in (
                "head_female",
                "title",
                "sh_clim",
                "sh_hlth",
                "sh_job",
                "cp_food",
                "cp_loan",
                "cp_migr",
                "cp_land",
                "cp_asset",
                "cp_child",
                "grant",
                "grant_rep_f",
                "anyloan",
            )
        },
    }
    var_labels = {
        "hhid": "Household ID (firm)",
        "int_year": "Year of interview",
        "enum": "Interviewer code",
        "prov": "Province",
        "dist": "District code",
        "comm": "Commune code",
        "vill": "Village code",
        "urban": "Urban/rural",
        "strat": "Stratum",
        "wgt": "Sampling weight",
        "n_vill_strat": "Number of villages in stratum frame",
        "respondent": "Respondent name",
        "phone": "Respondent phone",
        "hhsize": "Household size",
        "kids": "Number of children below 15",
        "adults": "Number of members 15-64",
        "head_female": "Head of household is a woman",
        "head_age": "Age of head",
        "head_edu": "Years of school, head",
        "land_ha": "Farm land operated (ha)",
        "title": "Has hard title for land",
        "y_farm": "Farm income past 12 months (USD)",
        "y_wage": "Wage income past 12 months (USD)",
        "y_bus": "Business income past 12 months (USD)",
        "y_remit": "Remittances received past 12 months (USD)",
        "y_other": "Other income past 12 months (USD)",
        "y_total": "Total income past 12 months (USD)",
        "sh_clim": "Flood or drought in past 12 months",
        "sh_hlth": "Serious illness/death in household, past 12 months",
        "sh_job": "Member lost job, past 12 months",
        "cp_food": "Cut food to repay loans",
        "cp_loan": "Borrowed to repay another loan",
        "cp_migr": "Member migrated to repay debt",
        "cp_land": "Sold land to repay",
        "cp_asset": "Sold assets to repay",
        "cp_child": "Child worked/dropped out of school to repay",
        "grant": "Received the livelihood grant",
        "grant_rep_f": "Grant representative is female",
        "trained": "Members trained by the programme",
        "dist_mfi_km": "Distance to MFI branch (km)",
        "mfi_density": "MFI branches per 1000 households in commune",
        "anyloan": "Household has any loan",
    }
    _write_dta(out / "hh.dta", frame, labels, var_labels)
    m = pd.DataFrame([x for x in data["members"] if x["wave"] == 2])
    rel_codes = {"head": 1, "spouse": 2, "child": 3, "grandchild": 4, "parent": 5, "sibling": 6}
    _write_dta(
        out / "roster.dta",
        pd.DataFrame(
            {
                "hhid": m["hid"],
                "mem_line": m["line"],
                "sex": m["sex"].map({"male": 1, "female": 2}),
                "age": m["age"],
                "rel": m["relation"].map(rel_codes),
                "edu": m["educ"],
                "away": m["away"].astype(int),
                "migtype": m["migrant"].map({"none": 0, "domestic": 1, "international": 2}),
            }
        ),
        {
            "sex": {1: "Male", 2: "Female"},
            "rel": {v: k for k, v in rel_codes.items()},
            "away": yes_no,
            "migtype": {0: "Not a migrant", 1: "Domestic", 2: "International"},
        },
        {
            "hhid": "Household ID (firm)",
            "mem_line": "Line number",
            "sex": "Sex",
            "age": "Age in completed years",
            "rel": "Relationship to head",
            "edu": "Years of schooling",
            "away": "Away for 3 months or more",
            "migtype": "Migrant status",
        },
    )
    lo = pd.DataFrame([x for x in data["loans"] if x["wave"] == 2])
    src = {"mfi": 1, "bank": 2, "moneylender": 3, "relative": 4, "savings_group": 5}
    why = {p: i + 1 for i, p in enumerate(PURPOSES)}
    col = {c: i + 1 for i, c in enumerate(COLLATERAL)}
    _write_dta(
        out / "credit.dta",
        pd.DataFrame(
            {
                "hhid": lo["hid"],
                "loan_line": lo["loan"],
                "src": lo["lender"].map(src),
                "amt_usd": lo["principal_usd"],
                "rate_yr_pct": (lo["rate"] * 100).round(2),
                "dur_m": lo["term"],
                "pay_m_usd": lo["instalment_usd"],
                "owed_usd": lo["outstanding_usd"],
                "why": lo["purpose"].map(why),
                "collat": lo["collateral"].map(col),
                "yr": lo["year"],
                "late": lo["arrears"].astype(int),
            }
        ),
        {
            "src": {v: k for k, v in src.items()},
            "why": {v: k for k, v in why.items()},
            "collat": {v: k for k, v in col.items()},
            "late": yes_no,
        },
        {
            "hhid": "Household ID (firm)",
            "loan_line": "Loan number",
            "src": "Source of the loan",
            "amt_usd": "Amount borrowed (USD)",
            "rate_yr_pct": "Interest rate per year (%)",
            "dur_m": "Duration (months)",
            "pay_m_usd": "Monthly repayment (USD)",
            "owed_usd": "Amount still owed (USD)",
            "why": "Main use of the loan",
            "collat": "Collateral given",
            "yr": "Year borrowed",
            "late": "Behind with repayments",
        },
    )
    ep = pd.DataFrame([x for x in data["episodes"] if x["wave"] == 2])
    dest = {d: i + 1 for i, d in enumerate(DESTINATIONS)}
    sect = {c: i + 1 for i, c in enumerate(SECTORS)}
    chan = {c: i + 1 for i, c in enumerate(CHANNELS)}
    lsrc = {"none": 0, "mfi": 1, "moneylender": 3, "relative": 4}
    frame = pd.DataFrame(
        {
            "hhid": ep["hid"],
            "mem_line": ep["line"],
            "dest": ep["dest"].map(dest),
            "sect": ep["sector"].map(sect),
            "yr_left": ep["year_left"],
            "chan": ep["channel"].map(chan),
            "irreg": ep["irregular"].astype(int),
            "broker": ep["broker"].astype(int),
            "cost_usd": ep["cost_usd"],
            "loanfin": ep["financed"].astype(int),
            "lender": ep["loan_source"].map(lsrc),
            **{f"ilo_{i + 1}": ep[k].astype(int) for i, k in enumerate(ILO)},
            "back": ep["returned"].astype(int),
        }
    )
    _write_dta(
        out / "migrants.dta",
        frame,
        {
            "dest": {v: DESTINATIONS[k] for k, v in dest.items()},
            "sect": {v: k for k, v in sect.items()},
            "chan": {v: CHANNELS[k] for k, v in chan.items()},
            "lender": {0: "None", 1: "MFI", 3: "Moneylender", 4: "Relative"},
            **{
                c: yes_no
                for c in (
                    "irreg",
                    "broker",
                    "loanfin",
                    "back",
                    *(f"ilo_{i + 1}" for i in range(len(ILO))),
                )
            },
        },
        {
            "hhid": "Household ID (firm)",
            "mem_line": "Line number of the migrant",
            "dest": "Country of destination",
            "sect": "Sector of work",
            "yr_left": "Year of departure",
            "chan": "How the migrant went",
            "irreg": "Went without regular papers",
            "broker": "Used an unlicensed broker",
            "cost_usd": "Cost of migration (USD)",
            "loanfin": "Cost paid with a loan",
            "lender": "Who lent for the migration",
            **{f"ilo_{i + 1}": k.replace("_", " ") for i, k in enumerate(ILO)},
            "back": "Migrant has come back",
        },
    )


def write_corrections(true_value: int, root: Path = OUT) -> None:
    """The reviewed corrections log: the one typing error planted in wave 1 (row 42)."""
    _write_csv(
        root / "corrections.csv",
        [
            {
                "source": "example_w1",
                "table": "households",
                "row": 42,
                "household_id": "",
                "variable": "head_educ_years",
                "old_value": "21",
                "new_value": str(true_value),
                "reason": "digits swapped on entry; checked against the paper form",
            }
        ],
    )


def main(root: Path = OUT) -> None:
    """Write the raw files and the corrections log into ``root`` (default: beside this script)."""
    rng = np.random.default_rng(SEED)
    data = build_frame(rng)
    write_wave1(data, root)
    write_wave2(data, root)
    n1 = sum(r["wave"] == 1 for r in data["households"])
    n2 = sum(r["wave"] == 2 for r in data["households"])
    print(f"example survey: {n1} households in wave 1, {n2} in wave 2 -> {root}")


if __name__ == "__main__":
    main()
