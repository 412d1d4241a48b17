"""Assemble the canonical tables (and the internal latent table) from the simulated waves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.synth._random import Streams
from ctip_research.synth.state import Assignment, Households, WaveDraw

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


def _weights(p: SynthParams, hh: Households, observed: np.ndarray) -> np.ndarray:
    """Base weights post-stratified to the Census 2019 province household totals."""
    base = hh.frame["base_weight"].to_numpy(float)
    w = np.zeros(hh.n)
    for prov, cal in p.provinces.items():
        sel = observed & (hh.prov == prov)
        if sel.any():
            w[sel] = base[sel] * cal.census_households / base[sel].sum()
    return w


def build_tables(
    p: SynthParams,
    s: Streams,
    hh: Households,
    w1: WaveDraw,
    w2: WaveDraw,
    assign: Assignment,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[int, np.ndarray]]:
    """Return the four canonical tables, the latent table and the weights of each wave."""
    hh_tabs, mem_tabs, loan_tabs, ep_tabs, lat_tabs = [], [], [], [], []
    weights: dict[int, np.ndarray] = {}
    for w in (w1, w2):
        t = w.t
        observed = np.ones(hh.n, dtype=bool) if t == 1 else ~assign.attrited
        weights[t] = _weights(p, hh, observed)
        h, m, lo, ep, lat = _wave_tables(p, s, hh, w, assign, observed, weights[t])
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


@dataclass(frozen=True)
class _Away:
    """Members away in the wave: established (episodes not returned) and the new migrants."""

    away: np.ndarray  # per roster row
    migrant_type: np.ndarray  # per roster row: none, international or domestic
    new_rows: np.ndarray  # roster rows of the new migrants


def _away_members(hh: Households, w: WaveDraw) -> _Away:
    """Which roster members are away now, and as what kind of migrant."""
    roster = hh.roster
    r_hh = roster["hh"].to_numpy(np.int64)
    ep = w.est_ep
    current_rows = ep["row"][~ep["has_returned"]]
    rank = roster["mig_rank"].to_numpy(np.int64)
    new_rank = (w.n_est_intl + w.dom.astype(np.int64))[r_hh]
    new_member = w.y_new[r_hh] & (rank == new_rank)
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
    return _Away(away, mtype, new_rows)


def _members_table(
    hh: Households, w: WaveDraw, away: _Away, age: np.ndarray, observed: np.ndarray
) -> pd.DataFrame:
    """The members table of one wave (interviewed households only)."""
    roster = hh.roster
    r_hh = roster["hh"].to_numpy(np.int64)
    return pd.DataFrame(
        {
            "household_id": hh.hid[r_hh],
            "wave": w.t,
            "member_id": roster["member_id"].to_numpy(),
            "sex": roster["sex"].to_numpy(),
            "age": age,
            "relation_to_head": roster["relation_to_head"].to_numpy(),
            "educ_years": roster["educ_years_w1"].to_numpy(),
            "is_away": away.away,
            "migrant_type": away.migrant_type,
        }
    )[observed[r_hh]]


def _demography(hh: Households, age: np.ndarray) -> dict[str, np.ndarray]:
    """Children, working-age members and the head's schooling of each household."""
    roster = hh.roster
    r_hh = roster["hh"].to_numpy(np.int64)
    n = hh.n
    is_head = roster["relation_to_head"].to_numpy() == "head"
    head_educ = np.zeros(n, dtype=np.int64)
    head_educ[r_hh[is_head]] = roster["educ_years_w1"].to_numpy()[is_head]
    return {
        "n_children": np.bincount(r_hh, weights=age < 15, minlength=n).astype(np.int64),
        "n_working_age": np.bincount(r_hh, weights=(age >= 15) & (age <= 64), minlength=n).astype(
            np.int64
        ),
        "head_educ_years": head_educ,
    }


def _assets(p: SynthParams, hh: Households, t: int) -> dict[str, np.ndarray]:
    """Asset value (land and durables) and the standardised asset index."""
    land_value = hh.land * p.household.land_value_usd_per_ha
    durables = hh.durables * (1.0 + 0.1 * (t - 1))
    asset_value = np.round((land_value + durables) / 10.0) * 10.0
    log_dur = np.log(hh.durables)
    asset_index = (np.log(durables) - log_dur.mean()) / log_dur.std()
    return {"asset_value_usd": asset_value, "asset_index": np.round(asset_index, 4)}


def _programme_columns(
    p: SynthParams, s: Streams, hh: Households, t: int, treated: np.ndarray
) -> dict[str, Any]:
    """The programme columns: grant, representative's sex, members trained (by module)."""
    rp = s(f"programme_details_w{t}")
    rep_female = rp.random(hh.n) < p.programme.female_representative_rate
    trained = rp.integers(1, max(p.programme.max_trained, 1) + 1, hh.n)
    modules = _training_modules(s(f"programme_training_w{t}"), np.where(treated, trained, 0), p)
    return {
        "received_livelihood_grant": treated,
        "representative_is_female": pd.array(np.where(treated, rep_female, False), dtype="boolean"),
        "n_members_trained": np.where(treated, trained, 0),
        **modules,
    }


def _households_table(
    p: SynthParams,
    s: Streams,
    hh: Households,
    w: WaveDraw,
    treated: np.ndarray,
    age: np.ndarray,
    weight: np.ndarray,
) -> pd.DataFrame:
    """The households table of one wave (all sampled households; filtered by the caller)."""
    t = w.t
    age_shift = w.year - p.design.baseline_year
    demo = _demography(hh, age)
    src = w.income_src
    prefix = "KB" if t == 1 else "SF"
    enumerator = (
        prefix
        + pd.Series(hh.prov).map("{:02d}".format)
        + pd.Series(hh.enum_seq).map("{:02d}".format)
    ).to_numpy(object)
    fr = hh.frame
    households = pd.DataFrame(
        {
            "household_id": hh.hid,
            "wave": t,
            "interview_year": w.year,
            "enumerator_id": enumerator,
            "stratum_id": fr["stratum_id"].to_numpy(),
            "psu_id": fr["psu_id"].to_numpy(),
            "weight_household": weight,
            "n_psu_stratum": fr["n_psu_stratum"].to_numpy(),
            "province_code": hh.prov,
            "is_urban": hh.urban,
            "district_code": fr["district_code"].to_numpy(),
            "commune_code": fr["commune_code"].to_numpy(),
            "household_size": hh.size,
            "n_children": demo["n_children"],
            "n_working_age": demo["n_working_age"],
            "head_is_female": hh.head_female,
            "head_age": hh.head_age_w1 + age_shift,
            "head_educ_years": demo["head_educ_years"],
            "land_agri_ha": hh.land,
            "has_land_title": hh.title,
            "income_annual_usd": src.sum(axis=1),
            "income_farm_usd": src[:, 0],
            "income_wages_usd": src[:, 1],
            "income_business_usd": src[:, 2],
            "income_remittances_usd": src[:, 4],
            "income_other_usd": src[:, 3],
            **_assets(p, hh, t),
            **{k: v for k, v in w.shocks.items()},
            **{name: w.cope[name] for name in L.COPING},
            **_programme_columns(p, s, hh, t, treated),
            "dist_mfi_branch_km": fr["dist_mfi_branch_km"].to_numpy(),
            "mfi_branches_per_1000hh": w.density,
        }
    )
    households.loc[~treated, "representative_is_female"] = pd.NA
    return households


def _loans_table(
    p: SynthParams, s: Streams, hh: Households, w: WaveDraw, observed: np.ndarray
) -> pd.DataFrame:
    """The loans table of one wave: realised MFI, bank and informal loans."""
    t = w.t
    lm = w.loans_mfi
    keep_mfi = w.d[lm["hh"]]
    if p.credit.mfi_underreport_rate > 0:
        # scenario misreported_debt: some borrowers report none of their MFI loans (the latent
        # table and the truth keep the real status)
        hides = s(f"mfi_underreport_w{t}").random(hh.n) < p.credit.mfi_underreport_rate
        keep_mfi = keep_mfi & ~hides[lm["hh"]]
    parts = []
    blocks = ((lm, keep_mfi, 0), (w.loans_bank, w.bank, 1), (w.loans_inf, w.obs.informal, 2))
    for block, keep, order in blocks:
        frame = pd.DataFrame({k: v for k, v in block.items()})[keep]
        frame["_order"] = order
        parts.append(frame)
    loans = pd.concat(parts, ignore_index=True)
    loans = loans[observed[loans["hh"].to_numpy()]]
    loans = loans.sort_values(["hh", "_order"], kind="stable").reset_index(drop=True)
    loans["loan_id"] = loans.groupby("hh").cumcount() + 1
    high = w.obs.dsr[loans["hh"].to_numpy()] > 1.0
    loans["is_in_arrears"] = loans["u_arrears"].to_numpy() < (
        p.credit.arrears_base + p.credit.arrears_high_burden * high
    )
    loans["household_id"] = hh.hid[loans["hh"].to_numpy()]
    loans["wave"] = t
    return loans


def _episodes_table(
    s: Streams, hh: Households, w: WaveDraw, away: _Away, observed: np.ndarray
) -> pd.DataFrame:
    """The migration episodes of one wave: established/returned and the new migrants."""
    t = w.t
    roster = hh.roster
    r_hh = roster["hh"].to_numpy(np.int64)
    an = w.attrs_new
    new_rows = away.new_rows
    new_hh = r_hh[new_rows]
    rnd = s(f"new_year_left_w{t}").random(hh.n)
    new_ep = pd.DataFrame(
        {
            "hh": new_hh,
            "row": new_rows,
            **{k: np.asarray(an[k])[new_hh] for k in _EPISODE_COLUMNS},
            "year_left": w.year - (rnd[new_hh] < 0.4).astype(np.int64),
            "has_returned": False,
        }
    )
    ep = w.est_ep
    est = pd.DataFrame(
        {k: ep[k] for k in ("hh", "row", *_EPISODE_COLUMNS, "year_left", "has_returned")}
    )
    episodes = pd.concat([est, new_ep], ignore_index=True)
    # a returned episode of a member who is away again now is superseded by the current one
    episodes = episodes[~(episodes["has_returned"] & away.away[episodes["row"].to_numpy()])]
    episodes = episodes[observed[episodes["hh"].to_numpy()]]
    episodes["household_id"] = hh.hid[episodes["hh"].to_numpy()]
    episodes["member_id"] = roster["member_id"].to_numpy()[episodes["row"].to_numpy()]
    episodes["wave"] = t
    return episodes.sort_values(["hh", "member_id"], kind="stable").reset_index(drop=True)


def _latent_table(
    hh: Households, w: WaveDraw, treated: np.ndarray, observed: np.ndarray
) -> pd.DataFrame:
    """The latent variables of one wave, kept out of the canonical tables."""
    return pd.DataFrame(
        {
            "hh": np.arange(hh.n),
            "household_id": hh.hid,
            "wave": w.t,
            "distress": hh.distress,
            "established_migrant": w.est,
            "new_migrant": w.y_new,
            "has_international_migrant": w.intl,
            "has_mfi_loan": w.d,
            "p_mfi": w.p_mfi,
            "instrument_sd": w.z,
            "debt_service_ratio": w.obs.dsr,
            "is_over_indebted": w.over_indebted,
            "has_risky_migration": w.risky,
            "programme": treated,
            "effect_multiplier": hh.multiplier,
            "is_landless": hh.landless,
        }
    )[observed]


def _wave_tables(
    p: SynthParams,
    s: Streams,
    hh: Households,
    w: WaveDraw,
    assign: Assignment,
    observed: np.ndarray,
    weight: np.ndarray,
) -> tuple[pd.DataFrame, ...]:
    """The households, members, loans, episodes and latent tables of one wave."""
    age_shift = w.year - p.design.baseline_year
    age = hh.roster["age_w1"].to_numpy(np.int64) + age_shift
    away = _away_members(hh, w)
    treated = assign.programme if w.t == 2 else np.zeros(hh.n, dtype=bool)
    members = _members_table(hh, w, away, age, observed)
    households = _households_table(p, s, hh, w, treated, age, weight)[observed]
    loans = _loans_table(p, s, hh, w, observed)
    episodes = _episodes_table(s, hh, w, away, observed)
    latent = _latent_table(hh, w, treated, observed)
    households = households.sort_values("household_id", kind="stable")
    members = members.sort_values(["household_id", "member_id"], kind="stable")
    loans = loans.sort_values(["household_id", "loan_id"], kind="stable")
    episodes = episodes.sort_values(["household_id", "member_id"], kind="stable")
    return households, members, loans, episodes, latent
