"""Assemble the canonical tables (and the internal latent table) from the simulated waves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ctip_research import literals as L

if TYPE_CHECKING:  # pragma: no cover
    from ctip_research.synth.generate import _Generator

__all__ = ["build_tables"]

_EPISODE_COLUMNS = (
    "destination_country",
    "destination_sector",
    "channel",
    "is_irregular",
    "used_informal_broker",
    "migration_cost_usd",
    "cost_financed_by_loan",
    "loan_source",
    *L.ILO_INDICATORS,
    "paid_below_min_wage",
)


def _weights(g: _Generator, observed: np.ndarray) -> np.ndarray:
    """Base weights post-stratified to the Census 2019 province household totals."""
    base = g.frame["base_weight"].to_numpy(float)
    w = np.zeros(g.n)
    for prov, cal in g.p.provinces.items():
        sel = observed & (g.prov == prov)
        if sel.any():
            w[sel] = base[sel] * cal.census_households / base[sel].sum()
    return w


def build_tables(
    g: _Generator, w1: dict[str, Any], w2: dict[str, Any]
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[int, np.ndarray]]:
    """Return the four canonical tables, the latent table and the weights of each wave."""
    hh_tabs, mem_tabs, loan_tabs, ep_tabs, lat_tabs = [], [], [], [], []
    weights: dict[int, np.ndarray] = {}
    for w in (w1, w2):
        t = w["t"]
        observed = np.ones(g.n, dtype=bool) if t == 1 else ~g.attrited
        weights[t] = _weights(g, observed)
        h, m, lo, ep, lat = _wave_tables(g, w, observed, weights[t])
        hh_tabs.append(h)
        mem_tabs.append(m)
        loan_tabs.append(lo)
        ep_tabs.append(ep)
        lat_tabs.append(lat)
    tables = {
        "households": pd.concat(hh_tabs, ignore_index=True),
        "members": pd.concat(mem_tabs, ignore_index=True),
        "loans": pd.concat(loan_tabs, ignore_index=True),
        "migration_episodes": pd.concat(ep_tabs, ignore_index=True),
    }
    return tables, pd.concat(lat_tabs, ignore_index=True), weights


def _training_modules(
    rng: np.random.Generator, trained: np.ndarray, p: Any
) -> dict[str, np.ndarray]:
    """Members trained in each module: each trained member attends each module with its
    probability (``programme.training_modules``); one who drew none attended the first module.

    Drawn from its own stream, so every other column keeps its draws.
    """
    rates = np.array([p.programme.training_modules[m] for m in L.TRAINING_MODULES])
    width = max(int(trained.max(initial=0)), 1)
    u = rng.random((len(trained), width, len(rates)))
    attends = u < rates
    attends[..., 0] |= ~attends.any(axis=2)
    member = np.arange(width)[None, :] < trained[:, None]
    counts = (attends & member[..., None]).sum(axis=1).astype(np.int64)
    return {f"n_trained_{m}": counts[:, k] for k, m in enumerate(L.TRAINING_MODULES)}


def _wave_tables(
    g: _Generator, w: dict[str, Any], observed: np.ndarray, weight: np.ndarray
) -> tuple[pd.DataFrame, ...]:
    p = g.p
    t = w["t"]
    n = g.n
    year = w["year"]
    age_shift = year - p.design.baseline_year
    roster = g.roster
    r_hh = roster["hh"].to_numpy(np.int64)
    age = roster["age_w1"].to_numpy(np.int64) + age_shift
    # members away now: established (episodes not returned) + the new migrant
    ep = w["est_ep"]
    current_rows = ep["row"][~ep["has_returned"]]
    rank = roster["mig_rank"].to_numpy(np.int64)
    new_rank = (w["n_est_intl"] + w["dom"].astype(np.int64))[r_hh]
    new_member = w["y_new"][r_hh] & (rank == new_rank)
    new_rows = np.flatnonzero(new_member)
    away = np.zeros(len(roster), dtype=bool)
    away[current_rows] = True
    away[new_rows] = True
    mtype = np.full(len(roster), "none", dtype=object)
    cur_intl = current_rows[~ep["domestic"][~ep["has_returned"]]]
    cur_dom = current_rows[ep["domestic"][~ep["has_returned"]]]
    mtype[cur_intl] = "international"
    mtype[cur_dom] = "domestic"
    mtype[new_rows] = "international"
    hid = g.hid
    is_head = roster["relation_to_head"].to_numpy() == "head"
    members = pd.DataFrame(
        {
            "household_id": hid[r_hh],
            "wave": t,
            "member_id": roster["member_id"].to_numpy(),
            "sex": roster["sex"].to_numpy(),
            "age": age,
            "relation_to_head": roster["relation_to_head"].to_numpy(),
            "educ_years": roster["educ_years_w1"].to_numpy(),
            "is_away": away,
            "migrant_type": mtype,
        }
    )[observed[r_hh]]
    # households
    n_children = np.bincount(r_hh, weights=age < 15, minlength=n).astype(np.int64)
    n_working = np.bincount(r_hh, weights=(age >= 15) & (age <= 64), minlength=n).astype(np.int64)
    head_educ = np.zeros(n, dtype=np.int64)
    head_educ[r_hh[is_head]] = roster["educ_years_w1"].to_numpy()[is_head]
    src = w["income_src"]
    land_value = g.land * p.household.land_value_usd_per_ha
    durables = g.durables * (1.0 + 0.1 * (t - 1))
    asset_value = np.round((land_value + durables) / 10.0) * 10.0
    log_dur = np.log(g.durables)
    asset_index = (np.log(durables) - log_dur.mean()) / log_dur.std()
    treated = g.programme if t == 2 else np.zeros(n, dtype=bool)
    rp = g.s(f"programme_details_w{t}")
    rep_female = rp.random(n) < p.programme.female_representative_rate
    trained = rp.integers(1, max(p.programme.max_trained, 1) + 1, n)
    modules = _training_modules(g.s(f"programme_training_w{t}"), np.where(treated, trained, 0), p)
    cope = w["cope"]
    prefix = "KB" if t == 1 else "SF"
    enumerator = (
        prefix + pd.Series(g.prov).map("{:02d}".format) + pd.Series(g.enum_seq).map("{:02d}".format)
    ).to_numpy(object)
    fr = g.frame
    households = pd.DataFrame(
        {
            "household_id": hid,
            "wave": t,
            "interview_year": year,
            "enumerator_id": enumerator,
            "stratum_id": fr["stratum_id"].to_numpy(),
            "psu_id": fr["psu_id"].to_numpy(),
            "weight_household": weight,
            "n_psu_stratum": fr["n_psu_stratum"].to_numpy(),
            "province_code": g.prov,
            "is_urban": g.urban,
            "district_code": fr["district_code"].to_numpy(),
            "commune_code": fr["commune_code"].to_numpy(),
            "household_size": g.size,
            "n_children": n_children,
            "n_working_age": n_working,
            "head_is_female": g.head_female,
            "head_age": g.head_age_w1 + age_shift,
            "head_educ_years": head_educ,
            "land_agri_ha": g.land,
            "has_land_title": g.title,
            "income_annual_usd": src.sum(axis=1),
            "income_farm_usd": src[:, 0],
            "income_wages_usd": src[:, 1],
            "income_business_usd": src[:, 2],
            "income_remittances_usd": src[:, 4],
            "income_other_usd": src[:, 3],
            "asset_value_usd": asset_value,
            "asset_index": np.round(asset_index, 4),
            **{k: v for k, v in w["shocks"].items()},
            **{name: cope[name] for name in L.COPING},
            "received_livelihood_grant": treated,
            "representative_is_female": pd.array(
                np.where(treated, rep_female, False), dtype="boolean"
            ),
            "n_members_trained": np.where(treated, trained, 0),
            **modules,
            "dist_mfi_branch_km": fr["dist_mfi_branch_km"].to_numpy(),
            "mfi_branches_per_1000hh": w["density"],
        }
    )
    households.loc[~treated, "representative_is_female"] = pd.NA
    households = households[observed]
    # loans
    lm = w["loans_mfi"]
    keep_mfi = w["d"][lm["hh"]]
    if p.credit.mfi_underreport_rate > 0:
        # scenario misreported_debt: some borrowers report none of their MFI loans (the latent
        # table and the truth keep the real status)
        hides = g.s(f"mfi_underreport_w{t}").random(n) < p.credit.mfi_underreport_rate
        keep_mfi = keep_mfi & ~hides[lm["hh"]]
    lb, li = w["loans_bank"], w["loans_inf"]
    keep_bank = w["bank"]
    keep_inf = w["obs"]["informal"]
    dsr = w["obs"]["dsr"]
    parts = []
    for block, keep, order in ((lm, keep_mfi, 0), (lb, keep_bank, 1), (li, keep_inf, 2)):
        frame = pd.DataFrame({k: v for k, v in block.items()})[keep]
        frame["_order"] = order
        parts.append(frame)
    loans = pd.concat(parts, ignore_index=True)
    loans = loans[observed[loans["hh"].to_numpy()]]
    loans = loans.sort_values(["hh", "_order"], kind="stable").reset_index(drop=True)
    loans["loan_id"] = loans.groupby("hh").cumcount() + 1
    high = dsr[loans["hh"].to_numpy()] > 1.0
    loans["is_in_arrears"] = loans["u_arrears"].to_numpy() < (
        p.credit.arrears_base + p.credit.arrears_high_burden * high
    )
    loans["household_id"] = hid[loans["hh"].to_numpy()]
    loans["wave"] = t
    # episodes: established/returned + the new migrants
    an = w["attrs_new"]
    new_hh = r_hh[new_rows]
    rnd = g.s(f"new_year_left_w{t}").random(n)
    new_ep = pd.DataFrame(
        {
            "hh": new_hh,
            "row": new_rows,
            **{k: np.asarray(an[k])[new_hh] for k in _EPISODE_COLUMNS},
            "year_left": year - (rnd[new_hh] < 0.4).astype(np.int64),
            "has_returned": False,
        }
    )
    est = pd.DataFrame(
        {k: ep[k] for k in ("hh", "row", *_EPISODE_COLUMNS, "year_left", "has_returned")}
    )
    episodes = pd.concat([est, new_ep], ignore_index=True)
    # a returned episode of a member who is away again now is superseded by the current one
    episodes = episodes[~(episodes["has_returned"] & away[episodes["row"].to_numpy()])]
    episodes = episodes[observed[episodes["hh"].to_numpy()]]
    episodes["household_id"] = hid[episodes["hh"].to_numpy()]
    episodes["member_id"] = roster["member_id"].to_numpy()[episodes["row"].to_numpy()]
    episodes["wave"] = t
    episodes = episodes.sort_values(["hh", "member_id"], kind="stable").reset_index(drop=True)
    latent = pd.DataFrame(
        {
            "hh": np.arange(n),
            "household_id": hid,
            "wave": t,
            "distress": g.distress,
            "established_migrant": w["est"],
            "new_migrant": w["y_new"],
            "has_international_migrant": w["intl"],
            "has_mfi_loan": w["d"],
            "p_mfi": w["p_mfi"],
            "instrument_sd": w["z"],
            "debt_service_ratio": dsr,
            "is_over_indebted": w["over_indebted"],
            "has_risky_migration": w["risky"],
            "programme": treated,
            "effect_multiplier": g.multiplier,
            "is_landless": g.landless,
        }
    )[observed]
    households = households.sort_values("household_id", kind="stable")
    members = members.sort_values(["household_id", "member_id"], kind="stable")
    loans = loans.sort_values(["household_id", "loan_id"], kind="stable")
    episodes = episodes.sort_values(["household_id", "member_id"], kind="stable")
    return households, members, loans, episodes, latent
