"""The structural data-generating process of the synthetic survey and its ground truth.

:func:`generate_survey` draws the whole two-wave survey from ``params.synth`` and returns the clean
canonical tables (exactly what ingest + clean should produce from the raw files) plus the ground
truth. The equations are documented in ``docs/synthetic.md``; in short, for household i in wave t:

- distress ``U_i ~ N(0, 1)``, household-constant and never published;
- MFI take-up ``D_it = 1[V_it < a_s + b_z z_ct + b_dist zd_v + b_U U_i + b_R R_it + b_S shock_it]``
  (``z`` = branch density in sd, the instrument; ``R`` = the household receives remittances from
  established migrants: reverse causality);
- over-indebtedness ``O_it = 1[DSR_it > 0.75 or sacrifices_it >= 2]``, where DSR and the coping
  sacrifices follow from the loans, hence from ``D_it``;
- international migration ``Y_it = S_it or 1[W_it < a_p + m_i (tau_D D + tau_O O) + g_U U_i + ...]``
  (``S`` = established migrants, pre-determined; ``m_i`` = heterogeneity multiplier);
- every intercept ``a`` is solved in-sample so the calibration targets are met exactly in
  expectation, whatever the effect sizes.

Potential outcomes are evaluated with the same random draws and the exposure switched, which gives
the true effects written to ``truth``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams, apply_scenario
from ctip_research.ingest.pseudonymise import pseudonymise
from ctip_research.schemas import coerce_dtypes, get_table, validate_table
from ctip_research.synth._random import (
    BoolArray,
    FloatArray,
    IntArray,
    Streams,
    annuity,
    balance_after,
    categorical_from_uniform,
    clip01,
    expit,
    ndtr,
    solve_intercepts,
    within_group_rank,
)
from ctip_research.synth.design import draw_sample
from ctip_research.synth.roster import draw_roster

__all__ = ["SyntheticSurvey", "generate_survey"]

_MFI_PURPOSES = (
    "agriculture",
    "business",
    "house",
    "consumption",
    "health",
    "education",
    "repay_other_loan",
    "migration",
)
_MFI_PURPOSE_P = (0.34, 0.25, 0.12, 0.10, 0.05, 0.04, 0.05, 0.05)
_INF_PURPOSES = (
    "consumption",
    "health",
    "agriculture",
    "education",
    "repay_other_loan",
    "migration",
    "business",
)
_INF_PURPOSE_P = (0.30, 0.20, 0.15, 0.08, 0.12, 0.10, 0.05)
_ROUND_PRINCIPAL = {"KHR": 10_000.0, "USD": 10.0, "THB": 100.0}
_ROUND_INSTALMENT = {"KHR": 1_000.0, "USD": 1.0, "THB": 10.0}


@dataclass(frozen=True)
class SyntheticSurvey:
    """A synthetic two-wave survey: clean canonical tables, internal state and ground truth.

    Attributes
    ----------
    households, members, loans, migration_episodes
        The canonical tables of ``schemas/tables.py`` (declared columns, order and dtypes;
        validated), as ingest + clean should produce them from the raw files.
    truth
        Parameters, seed, solved intercepts and the true effects (see ``docs/synthetic.md``).
    household_keys
        One row per household: ``household_id`` (pseudonym) and ``raw_household_id`` (the id
        the field teams write), ``attrited`` (not interviewed in wave 2), ``hh`` (internal index).
    latent
        One row per household and wave interviewed: the latent variables kept out of the
        canonical tables (``distress``, ``established_migrant``, ``new_migrant``,
        ``is_over_indebted``, ``debt_service_ratio``, ``programme``, ...), keyed like households.
    params
        The parameters used.
    """

    households: pd.DataFrame
    members: pd.DataFrame
    loans: pd.DataFrame
    migration_episodes: pd.DataFrame
    truth: dict[str, Any]
    household_keys: pd.DataFrame
    latent: pd.DataFrame
    params: SynthParams = field(repr=False)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _report(
    usd: FloatArray, currency: NDArrayObj, rates: dict[str, float], unit: dict[str, float]
) -> tuple[FloatArray, FloatArray]:
    """Round USD amounts in their reporting currency; return (amount in currency, exact USD)."""
    cur = pd.Series(currency, dtype=object)
    rate = cur.map(rates).to_numpy(float)
    step = cur.map(unit).to_numpy(float)
    amount: FloatArray = np.maximum(np.round(usd * rate / step), 1.0) * step
    exact: FloatArray = amount / rate
    return amount, exact


NDArrayObj = np.ndarray


def _bisect_logit(x: FloatArray, target: float) -> float:
    lo, hi = -12.0, 12.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if expit(mid + x).mean() > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def _wmean(x: FloatArray, w: FloatArray | None = None) -> float:
    if len(x) == 0:
        return float("nan")
    if w is None:
        return float(np.mean(x))
    return float(np.sum(w * x) / np.sum(w))


# --------------------------------------------------------------------------------------------
# Migration episodes: attributes as functions of exposures and common random numbers
# --------------------------------------------------------------------------------------------


@dataclass
class _EpisodeDraws:
    """Uniform draws of episodes, so attributes can be re-evaluated with exposures switched."""

    u_dest: FloatArray
    u_irr: FloatArray
    u_channel: FloatArray
    u_broker: FloatArray
    u_loan: FloatArray
    u_source: FloatArray
    u_sector: FloatArray
    z_cost: FloatArray
    latent: FloatArray
    u_ilo: FloatArray  # (n, 8)

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> _EpisodeDraws:
        return cls(
            rng.random(n),
            rng.random(n),
            rng.random(n),
            rng.random(n),
            rng.random(n),
            rng.random(n),
            rng.random(n),
            rng.standard_normal(n),
            rng.standard_normal(n),
            rng.random((n, 8)),
        )

    def take(self, idx: IntArray) -> _EpisodeDraws:
        return _EpisodeDraws(
            self.u_dest[idx],
            self.u_irr[idx],
            self.u_channel[idx],
            self.u_broker[idx],
            self.u_loan[idx],
            self.u_source[idx],
            self.u_sector[idx],
            self.z_cost[idx],
            self.latent[idx],
            self.u_ilo[idx],
        )


_ILO_ORDER = (*L.ILO_INDICATORS, "paid_below_min_wage")


def _episode_attributes(
    p: SynthParams,
    draws: _EpisodeDraws,
    *,
    border: BoolArray,
    over_indebted: BoolArray,
    programme: BoolArray,
    mfi: BoolArray,
    domestic: BoolArray,
) -> dict[str, Any]:
    """Attributes of migration episodes (international or domestic) given exposures."""
    m = p.migration
    e = p.effects
    g = p.programme
    n = len(border)
    dest_codes = list(m.destination_probs)
    dest = np.asarray(dest_codes, dtype=object)[
        categorical_from_uniform(draws.u_dest, list(m.destination_probs.values()))
    ]
    dest = np.where(domestic, "KH", dest)
    is_th = dest == "TH"
    p_irr = np.where(border, m.irregular_thailand_border, m.irregular_thailand_other)
    other_irr = pd.Series(dest).map(m.irregular_other_destinations).fillna(0.0).to_numpy(float)
    p_irr = np.where(is_th, p_irr, other_irr)
    p_irr = p_irr + e.over_indebted_on_irregular * over_indebted + g.effect_on_irregular * programme
    irregular = (draws.u_irr < clip01(p_irr)) & ~domestic
    reg_channels = list(m.regular_thailand_channel_probs)
    th_channel = np.asarray(reg_channels, dtype=object)[
        categorical_from_uniform(draws.u_channel, list(m.regular_thailand_channel_probs.values()))
    ]
    other_channel = np.where(draws.u_channel < 0.7, "mou", "self_regular")
    channel = np.select(
        [irregular, domestic, dest == "KR", is_th],
        ["irregular", "self_regular", "eps_korea", th_channel],
        default=other_channel,
    ).astype(object)
    p_broker = np.where(irregular, m.broker_irregular, m.broker_regular)
    p_broker = np.where(domestic, 0.05, p_broker) + g.effect_on_broker * programme
    broker = draws.u_broker < clip01(p_broker)
    route = np.select(
        [
            domestic,
            is_th & irregular,
            is_th & (channel == "mou"),
            is_th & (channel == "border_pass"),
            is_th,
            dest == "KR",
            dest == "MY",
            dest == "JP",
        ],
        [
            "domestic",
            "th_irregular",
            "th_mou",
            "th_border_pass",
            "th_self_regular",
            "kr",
            "my",
            "jp",
        ],
        default="other",
    )
    median_cost = pd.Series(route).map(m.cost_median_usd).to_numpy(float)
    cost = np.round(median_cost * np.exp(m.cost_sigma * draws.z_cost) / 5.0) * 5.0
    p_loan = np.where(domestic, 0.10, m.loan_financed_base + m.loan_financed_mfi * mfi)
    loan_fin = draws.u_loan < clip01(p_loan)
    source = np.where(
        mfi & (draws.u_source < 0.45),
        "mfi",
        np.asarray(
            ["moneylender", "relative", "broker", "employer", "savings_group"], dtype=object
        )[categorical_from_uniform(draws.u_source, (0.35, 0.35, 0.15, 0.10, 0.05))],
    )
    source = np.where(loan_fin, source, "none")
    sectors_th = list(m.sector_probs_thailand)
    sectors_ot = list(m.sector_probs_other)
    sector = np.where(
        is_th,
        np.asarray(sectors_th, dtype=object)[
            categorical_from_uniform(draws.u_sector, list(m.sector_probs_thailand.values()))
        ],
        np.asarray(sectors_ot, dtype=object)[
            categorical_from_uniform(draws.u_sector, list(m.sector_probs_other.values()))
        ],
    )
    base = (
        m.ilo_irregular * irregular
        + m.ilo_broker * broker
        + m.ilo_latent_sd * draws.latent
        + m.ilo_domestic_shift * domestic
        + g.effect_on_ilo * programme
    )
    ilo: dict[str, BoolArray] = {}
    for j, name in enumerate(_ILO_ORDER):
        lo = m.ilo_intercepts[name] + base
        if name == "debt_to_broker_employer":
            lo = lo + e.loan_financed_on_debt_bondage * loan_fin
        if name == "paid_below_min_wage":
            lo = (
                m.ilo_intercepts[name]
                + m.below_min_wage_irregular * irregular
                + 0.3 * draws.latent
                + m.ilo_domestic_shift * domestic
            )
        ilo[name] = draws.u_ilo[:, j] < expit(lo)
    any_ilo = np.zeros(n, dtype=bool)
    for name in L.ILO_INDICATORS:
        any_ilo |= ilo[name]
    risky = irregular | broker | any_ilo
    return {
        "destination_country": dest,
        "destination_sector": sector,
        "channel": channel,
        "is_irregular": irregular,
        "used_informal_broker": broker,
        "migration_cost_usd": cost,
        "cost_financed_by_loan": loan_fin,
        "loan_source": source,
        **ilo,
        "risky": risky,
    }


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class _Debt:
    """Debt service, coping and over-indebtedness as a function of MFI take-up."""

    def __init__(
        self,
        p: SynthParams,
        *,
        income_month: FloatArray,
        inst_mfi: FloatArray,
        bank: BoolArray,
        inst_bank: FloatArray,
        inst_inf: FloatArray,
        u_inf: FloatArray,
        distress: FloatArray,
        v_cope: dict[str, FloatArray],
    ) -> None:
        self.p = p
        self.income_month = income_month
        self.inst_mfi = inst_mfi
        self.bank = bank
        self.inst_bank = inst_bank
        self.inst_inf = inst_inf
        self.u_inf = u_inf
        self.distress = distress
        self.v_cope = v_cope
        self.cope_intercepts: dict[str, float] = {}

    def evaluate(self, d: BoolArray) -> dict[str, Any]:
        c = self.p.credit
        e = self.p.effects
        formal = d * self.inst_mfi + self.bank * self.inst_bank
        dsr_formal = formal / self.income_month
        p_inf = np.where(dsr_formal > 0.5, c.informal_rate_high_burden, c.informal_rate)
        informal = self.u_inf < clip01(p_inf + 0.02 * self.distress)
        inst = formal + informal * self.inst_inf
        dsr = inst / self.income_month
        any_debt = d | self.bank | informal
        burden = dsr > e.over_indebted_ratio_threshold
        x = self.p.coping.burden_effect * burden + self.p.coping.distress_effect * self.distress
        cope: dict[str, BoolArray] = {}
        for name, target in self.p.coping.targets.items():
            if name == "cope_migrate_to_repay":
                continue
            if name not in self.cope_intercepts:
                sel = any_debt
                a = solve_intercepts(
                    x[sel], np.zeros(int(sel.sum()), dtype=np.int64), np.array([target])
                )
                self.cope_intercepts[name] = float(a[0])
            cope[name] = any_debt & (self.v_cope[name] < clip01(self.cope_intercepts[name] + x))
        n_sacr = np.zeros(len(d), dtype=np.int64)
        for name in L.SACRIFICES:
            n_sacr += cope[name]
        over = burden | (n_sacr >= e.over_indebted_min_sacrifices)
        return {
            "informal": informal,
            "dsr": dsr,
            "any_debt": any_debt,
            "cope": cope,
            "n_sacrifices": n_sacr,
            "over_indebted": over,
        }


def generate_survey(params: SynthParams, *, hmac_key: str | None = None) -> SyntheticSurvey:
    """Draw the synthetic two-wave survey and its ground truth.

    Parameters
    ----------
    params
        The ``synth`` section of ``params.yaml``.
    hmac_key
        Key of the household pseudonyms; ``None`` uses :data:`DEMO_HMAC_KEY`, the public
        demo key of ``params.yaml`` (``privacy.demo_key``), as ingest does for synthetic data.

    Returns
    -------
    SyntheticSurvey
        Canonical tables (validated), internal state and the ground truth.

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> survey = generate_survey(params.synth.model_copy(update={"design": small}))
    >>> truth = survey.truth["estimands"]["mfi_international_migration"]["wave_1"]
    >>> round(truth["ate_weighted"], 3), truth["n_households"]
    (0.055, 300)
    """
    world = apply_scenario(params)
    return _Generator(world, DEMO_HMAC_KEY if hmac_key is None else hmac_key).run()


#: The public demo key of ``params.yaml`` (``privacy.demo_key``); synthetic data only.
DEMO_HMAC_KEY = "ctip-public-demo-key-synthetic-data-only"


class _Generator:
    def __init__(self, params: SynthParams, key: str) -> None:
        self.p = params
        self.key = key
        self.s = Streams(params.seed)
        self.rates = {"USD": 1.0, "KHR": params.khr_per_usd, "THB": params.thb_per_usd}

    # -- time-invariant household characteristics ------------------------------------------
    def _households(self) -> None:
        p = self.p
        h = p.household
        frame = draw_sample(p, self.s)
        self.frame = frame
        n = len(frame)
        self.n = n
        rng = self.s("household")
        urban = frame["is_urban"].to_numpy(bool)
        prov = frame["province_code"].to_numpy(np.int64)
        self.urban = urban
        self.prov = prov
        self.border = np.isin(prov, L.BORDER_PROVINCES)
        self.pp = prov == 12
        self.prov_index = np.searchsorted(np.array(sorted(p.provinces)), prov)
        strata = frame["stratum_id"].to_numpy(object)
        self.strata_codes, self.stratum_index = np.unique(strata, return_inverse=True)
        self.distress = rng.standard_normal(n)
        self.head_female = rng.random(n) < h.female_head_rate
        lam = np.where(urban, h.size_poisson_urban, h.size_poisson_rural)
        self.size = np.minimum(1 + rng.poisson(lam), 14).astype(np.int64)
        self.head_age_w1 = np.clip(np.round(rng.normal(46, 12, n)), 20, 85).astype(np.int64)
        self.landless = rng.random(n) < np.where(
            urban, h.landless_rate_urban, h.landless_rate_rural
        )
        land = np.round(np.exp(np.log(h.land_median_ha) + h.land_sigma * rng.standard_normal(n)), 2)
        self.land = np.where(self.landless, 0.0, np.maximum(land, 0.05))
        title_rate = (
            pd.Series(prov)
            .map({k: v.land_title_rate for k, v in p.provinces.items()})
            .to_numpy(float)
        )
        self.title = ~self.landless & (rng.random(n) < title_rate)
        self.e_perm = rng.standard_normal(n) * h.income_sigma * np.sqrt(h.income_persistent_share)
        self.durables = np.exp(
            np.log(h.durables_median_usd) + 0.6 * self.e_perm + 0.6 * rng.standard_normal(n)
        )
        self.multiplier = (
            np.where(self.landless, p.effects.landless_multiplier, 1.0)
            * np.where(self.border, p.effects.border_multiplier, 1.0)
            * np.where(self.pp, p.effects.phnom_penh_multiplier, 1.0)
        )
        roster = draw_roster(self.s("roster"), self.size, self.head_age_w1, self.head_female, urban)
        key = self.s("migrant_order").random(len(roster))
        eligible = (roster["relation_to_head"].to_numpy() != "head") & roster["age_w1"].between(
            15, 50
        ).to_numpy()
        roster["eligible"] = eligible
        # rank among eligible members (fixed over waves): eligible first, then by key
        rank = within_group_rank(
            roster["hh"].to_numpy(np.int64), np.where(eligible, key, 2.0 + key)
        )
        roster["mig_rank"] = np.where(eligible, rank, -1)
        self.roster = roster
        self.n_eligible = np.bincount(roster["hh"], weights=eligible, minlength=n).astype(np.int64)
        # ids
        self.raw_id = (frame["psu_id"] + "-" + frame["hh_in_psu"].map("{:02d}".format)).to_numpy(
            object
        )
        self.hid = np.array([pseudonymise(r, self.key) for r in self.raw_id], dtype=object)
        n_enum = p.design.enumerators_per_province
        self.enum_seq = (frame["psu_seq"].to_numpy() - 1) % n_enum + 1

    # -- one wave ------------------------------------------------------------------------------
    def _wave(self, t: int, prev: dict[str, Any] | None, programme: BoolArray) -> dict[str, Any]:
        p = self.p
        h, c, m, e = p.household, p.credit, p.migration, p.effects
        n = self.n
        rng = self.s(f"wave{t}")
        year = p.design.baseline_year if t == 1 else p.design.endline_year
        dist = self.distress
        # shocks
        shocks = {
            "shock_climate": rng.random(n)
            < clip01(
                np.where(self.urban, h.shock_climate_urban, h.shock_climate_rural)
                + h.distress_shock_effect * dist
            ),
            "shock_health": rng.random(n) < clip01(h.shock_health + h.distress_shock_effect * dist),
            "shock_job_loss": rng.random(n)
            < clip01(h.shock_job_loss + h.distress_shock_effect * dist),
        }
        any_shock = shocks["shock_climate"] | shocks["shock_health"] | shocks["shock_job_loss"]
        # established international migrants (pre-determined)
        targets = np.array([p.provinces[k].intl_migration_rate for k in sorted(p.provinces)])
        avail = self.n_eligible > 0
        x_s = m.distress_established_effect * dist
        if prev is None:
            cont = np.zeros(n, dtype=bool)
        else:
            # Established migrants stay abroad with probability `persistence`; migrants who left
            # in the previous wave's reference year (the ones an MFI loan can cause) do not carry
            # over, so current borrowing affects current migration only (strict exogeneity, the
            # assumption of the household fixed-effects estimator). Time-invariant distress still
            # drives both, which is what household fixed effects remove.
            u_stay = rng.random(n)
            cont = prev["est"] & (u_stay < m.persistence) & avail
            if m.new_migrant_persistence > 0:
                # scenario persistent_debt_migrants: wave-1 new migrants (whom a loan may have
                # sent) stay abroad too, so past borrowing moves current migration
                cont |= prev["y_new"] & (u_stay < m.new_migrant_persistence) & avail
        cont_f = cont.astype(float)
        avail_f = avail.astype(float)

        def s_transform(q: FloatArray, cont_f: FloatArray = cont_f) -> FloatArray:
            return cont_f + (1 - cont_f) * q * avail_f

        a_s = solve_intercepts(
            x_s, self.prov_index, m.established_share * targets, transform=s_transform
        )
        q_s = clip01(a_s[self.prov_index] + x_s)
        est_new = ~cont & avail & (rng.random(n) < q_s)
        est = cont | est_new
        n_est_intl = np.where(est, 1 + (rng.random(n) < m.established_two_migrants), 0)
        if prev is not None:
            n_est_intl = np.where(cont, np.maximum(prev["n_est_intl"], 1), n_est_intl)
        n_est_intl = np.minimum(n_est_intl, self.n_eligible)
        p_dom = clip01(
            np.where(self.urban, m.domestic_rate_urban, m.domestic_rate_rural) + 0.02 * dist
        )
        dom = (self.n_eligible > n_est_intl) & (rng.random(n) < p_dom)
        n_dom = dom.astype(np.int64)
        # remittances of established migrants (per migrant, then summed)
        z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
        u1, u2 = rng.random(n), rng.random(n)
        rem1 = np.where(
            u1 < m.remittance_zero_rate,
            0.0,
            np.exp(np.log(m.remittance_median_usd) + m.remittance_sigma * z1),
        )
        rem2 = np.where(
            u2 < m.remittance_zero_rate,
            0.0,
            np.exp(np.log(m.remittance_median_usd) + m.remittance_sigma * z2),
        )
        rem_intl = (n_est_intl >= 1) * rem1 + (n_est_intl >= 2) * rem2
        zd = rng.standard_normal(n)
        rem_dom = dom * np.where(
            rng.random(n) < m.remittance_domestic_zero_rate,
            0.0,
            np.exp(np.log(m.remittance_domestic_median_usd) + 0.7 * zd),
        )
        # earned income by source, reported rounded (wave 1 in riel, wave 2 in dollars)
        e_tr = rng.standard_normal(n) * h.income_sigma * np.sqrt(1 - h.income_persistent_share)
        earned = np.exp(
            np.log(h.earned_income_median_usd)
            + np.log(h.urban_income_ratio) * self.urban
            + self.e_perm
            + e_tr
            + h.distress_income_effect * dist
        )
        alpha = np.stack(
            [
                np.where(self.landless, 0.3, 2.0 + 0.5 * np.log1p(self.land))
                * np.where(self.urban, 0.3, 1.0),
                np.full(n, 1.5),
                np.where(self.urban, 1.2, 0.6),
                np.full(n, 0.3),
            ],
            axis=1,
        )
        shares = rng.gamma(alpha)
        shares = shares / shares.sum(axis=1, keepdims=True)
        parts = earned[:, None] * shares
        src = np.column_stack([parts, rem_intl + rem_dom])  # farm, wages, business, other, remit
        cur = "KHR" if t == 1 else "USD"
        step = 10_000.0 if t == 1 else 10.0
        src_cur = np.round(src * self.rates[cur] / step) * step
        src_usd = src_cur / self.rates[cur]
        income = src_usd.sum(axis=1)
        # guarantee a positive income
        bump = income <= 0
        src_cur[bump, 1] = step * 10
        src_usd = src_cur / self.rates[cur]
        income = src_usd.sum(axis=1)
        remit = src_usd[:, 4]
        income_month = income / 12.0
        # the instrument and MFI take-up
        density = self.frame[f"branch_density_w{t}"].to_numpy(float)
        z = (density - c.branch_density_mean) / c.branch_density_sd
        zdist = (
            np.log(self.frame["dist_mfi_branch_km"].to_numpy(float)) - np.log(c.distance_median_km)
        ) / c.distance_sigma
        x_d = (
            e.instrument_on_mfi * z
            + e.distance_on_mfi * zdist
            + e.distress_on_mfi * dist
            + e.remittances_on_mfi * (remit > 0)
            + e.shock_on_mfi * any_shock
        )
        mfi_targets = np.array(
            [
                c.mfi_rate_urban
                if code.endswith("U")
                else p.provinces[int(code[:2])].mfi_rate_rural
                for code in self.strata_codes
            ]
        )
        a_d = solve_intercepts(x_d, self.stratum_index, mfi_targets)
        p_mfi = clip01(a_d[self.stratum_index] + x_d)
        p_mfi_plus = clip01(a_d[self.stratum_index] + x_d + e.instrument_on_mfi)
        rho = c.mfi_takeup_persistence
        e_dt = self.s(f"mfi_noise_w{t}").standard_normal(n)
        v_d = ndtr(rho * self.e_mfi + np.sqrt(1 - rho**2) * e_dt)
        d_obs = v_d < p_mfi
        # potential MFI loans (realised only if D = 1)
        rl = self.s(f"loans_w{t}")
        n_mfi = 1 + categorical_from_uniform(rl.random(n), c.mfi_n_loans_probs)
        earned_ref = np.log(h.earned_income_median_usd) + np.log(h.urban_income_ratio) * self.urban
        lo_idx = np.repeat(np.arange(n), n_mfi)
        k = np.arange(len(lo_idx)) - np.repeat(np.cumsum(n_mfi) - n_mfi, n_mfi)
        n_lo = len(lo_idx)
        princ = np.exp(
            np.log(c.mfi_principal_median_usd)
            + c.mfi_principal_income_elasticity * (np.log(earned) - earned_ref)[lo_idx]
            + c.mfi_principal_sigma * rl.standard_normal(n_lo)
        )
        princ = princ * np.where(k > 0, c.mfi_second_loan_ratio, 1.0)
        rate = np.where(
            rl.random(n_lo) < c.mfi_share_at_cap,
            c.mfi_rate_cap,
            np.round(rl.uniform(c.mfi_rate_below_cap_min, c.mfi_rate_cap, n_lo) / 0.005) * 0.005,
        )
        term = np.asarray(c.mfi_terms_months)[
            categorical_from_uniform(rl.random(n_lo), c.mfi_terms_probs)
        ]
        currency = self._currency(rl, self.border[lo_idx])
        loans_mfi = self._loan_block(
            rl, lo_idx, princ, currency, rate, term.astype(float), year, lender="mfi"
        )
        inst_mfi = np.bincount(lo_idx, weights=loans_mfi["instalment_monthly_usd"], minlength=n)
        # bank loan
        bank = rl.random(n) < np.where(self.urban, c.bank_rate_urban, c.bank_rate_rural)
        b_idx = np.arange(n)
        b_princ = np.exp(
            np.log(c.bank_principal_median_usd)
            + 0.5 * (np.log(earned) - earned_ref)
            + 0.7 * rl.standard_normal(n)
        )
        loans_bank = self._loan_block(
            rl,
            b_idx,
            b_princ,
            self._currency(rl, self.border),
            np.full(n, c.bank_interest_annual),
            rl.choice([36.0, 48.0, 60.0, 84.0], n),
            year,
            lender="bank",
        )
        inst_bank = loans_bank["instalment_monthly_usd"]
        # informal loan (potential)
        lenders = list(c.informal_lender_probs)
        inf_type = np.asarray(lenders, dtype=object)[
            categorical_from_uniform(rl.random(n), list(c.informal_lender_probs.values()))
        ]
        inf_rate_m = np.select(
            [inf_type == "relative", inf_type == "savings_group"],
            [np.where(rl.random(n) < 0.6, 0.0, 0.01), np.full(n, 0.02)],
            default=np.round(
                rl.uniform(c.informal_monthly_rate_min, c.informal_monthly_rate_max, n), 3
            ),
        )
        inf_princ = np.exp(np.log(c.informal_principal_median_usd) + 0.9 * rl.standard_normal(n))
        loans_inf = self._loan_block(
            rl,
            b_idx,
            inf_princ,
            self._currency(rl, self.border),
            inf_rate_m * 12.0,
            rl.choice([6.0, 12.0, 18.0, 24.0], n),
            year,
            lender=inf_type,
        )
        inst_inf = loans_inf["instalment_monthly_usd"]
        # debt block (a function of D)
        rc = self.s(f"coping_w{t}")
        f_cope = rc.standard_normal(n)
        rcorr = p.coping.correlation
        v_cope = {
            name: ndtr(np.sqrt(rcorr) * f_cope + np.sqrt(1 - rcorr) * rc.standard_normal(n))
            for name in p.coping.targets
        }
        debt = _Debt(
            p,
            income_month=income_month,
            inst_mfi=inst_mfi.astype(float),
            bank=bank,
            inst_bank=inst_bank,
            inst_inf=inst_inf,
            u_inf=rl.random(n),
            distress=dist,
            v_cope=v_cope,
        )
        obs = debt.evaluate(d_obs)
        o_obs = obs["over_indebted"]
        # new international migration (left within the 12-month reference period)
        rm = self.s(f"migration_w{t}")
        w = rm.random(n)
        avail_new = self.n_eligible > (n_est_intl + n_dom)
        land_sale_prev = prev["cope"]["cope_sold_land"] if prev is not None else np.zeros(n, bool)
        x_base = (
            e.distress_on_migration * dist
            + e.shock_on_migration * any_shock
            + e.instrument_direct_effect * z
            + e.land_sale_on_later_migration * land_sale_prev
            + p.programme.effect_on_new_migration * programme
        )

        def q_new(d: BoolArray, o: BoolArray, prog: BoolArray = programme) -> FloatArray:
            x = (
                x_base
                - p.programme.effect_on_new_migration * programme
                + p.programme.effect_on_new_migration * prog
                + self.multiplier * (e.mfi_on_migration * d + e.over_indebted_on_migration * o)
            )
            return x

        x_obs = q_new(d_obs, o_obs)
        est_f = est.astype(float)
        avn = avail_new.astype(float)

        def y_transform(q: FloatArray) -> FloatArray:
            return est_f + (1 - est_f) * avn * q

        a_y = solve_intercepts(x_obs, self.prov_index, targets, transform=y_transform)
        a_yi = a_y[self.prov_index]

        def new_mig(d: BoolArray, o: BoolArray, prog: BoolArray = programme) -> BoolArray:
            return ~est & avail_new & (w < clip01(a_yi + q_new(d, o, prog)))

        y_new = new_mig(d_obs, o_obs)
        intl = est | y_new
        # episodes: potential new-migrant episode for every household
        draws_new = _EpisodeDraws.draw(self.s(f"episodes_new_w{t}"), n)
        no_prog = np.zeros(n, dtype=bool)

        def new_attrs(o: BoolArray, prog: BoolArray) -> dict[str, Any]:
            return _episode_attributes(
                p,
                draws_new,
                border=self.border,
                over_indebted=o,
                programme=prog,
                mfi=d_obs,
                domestic=no_prog,
            )

        attrs_new = new_attrs(o_obs, programme)
        # established episodes (member level)
        est_ep = self._established_episodes(t, prev, n_est_intl, n_dom, cont, programme)
        risky_est = (
            np.bincount(
                est_ep["hh"], weights=est_ep["risky"] & ~est_ep["has_returned"], minlength=n
            )
            > 0
        )
        risky_hh = risky_est | (y_new & attrs_new["risky"])
        # coping by migration (after migration)
        any_mig = intl | dom
        target_mig = p.coping.targets["cope_migrate_to_repay"]
        sel = obs["any_debt"]
        share_mig = max(float(any_mig[sel].mean()) if sel.any() else 0.0, 1e-9)
        p_mig_cope = min(target_mig / share_mig, 1.0)
        obs["cope"]["cope_migrate_to_repay"] = (
            sel & any_mig & (v_cope["cope_migrate_to_repay"] < p_mig_cope)
        )
        # --- potential outcomes for the truth -------------------------------------------------
        ones, zeros = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        debt1, debt0 = debt.evaluate(ones), debt.evaluate(zeros)
        y_d1 = est | new_mig(ones, debt1["over_indebted"])
        y_d0 = est | new_mig(zeros, debt0["over_indebted"])
        y_o1 = est | new_mig(d_obs, ones)
        y_o0 = est | new_mig(d_obs, zeros)
        a1, a0 = new_attrs(ones, programme), new_attrs(zeros, programme)
        risky_o1 = risky_est | (new_mig(d_obs, ones) & a1["risky"])
        risky_o0 = risky_est | (new_mig(d_obs, zeros) & a0["risky"])
        prob_d1 = (~est & avail_new) * clip01(a_yi + q_new(ones, debt1["over_indebted"]))
        prob_d0 = (~est & avail_new) * clip01(a_yi + q_new(zeros, debt0["over_indebted"]))
        prob_o1 = (~est & avail_new) * clip01(a_yi + q_new(d_obs, ones))
        prob_o0 = (~est & avail_new) * clip01(a_yi + q_new(d_obs, zeros))
        po: dict[str, Any] = {
            "y_d1": y_d1,
            "y_d0": y_d0,
            "y_o1": y_o1,
            "y_o0": y_o0,
            "risky_o1": risky_o1,
            "risky_o0": risky_o0,
            "ey_d": prob_d1 - prob_d0,
            "ey_o": prob_o1 - prob_o0,
            "first_stage": p_mfi_plus - p_mfi,
            "o_d1": debt1["over_indebted"],
            "o_d0": debt0["over_indebted"],
        }
        if t == 2:
            ones_p = np.ones(n, dtype=bool)
            est_ep1 = self._established_episodes(t, prev, n_est_intl, n_dom, cont, ones_p)
            est_ep0 = self._established_episodes(t, prev, n_est_intl, n_dom, cont, no_prog)
            r_est1 = (
                np.bincount(
                    est_ep1["hh"], weights=est_ep1["risky"] & ~est_ep1["has_returned"], minlength=n
                )
                > 0
            )
            r_est0 = (
                np.bincount(
                    est_ep0["hh"], weights=est_ep0["risky"] & ~est_ep0["has_returned"], minlength=n
                )
                > 0
            )
            g1 = new_mig(d_obs, o_obs, ones_p)
            g0 = new_mig(d_obs, o_obs, no_prog)
            po["risky_g1"] = r_est1 | (g1 & new_attrs(o_obs, ones_p)["risky"])
            po["risky_g0"] = r_est0 | (g0 & new_attrs(o_obs, no_prog)["risky"])
            po["intl_g1"] = est | g1
            po["intl_g0"] = est | g0
        return {
            "t": t,
            "year": year,
            "shocks": shocks,
            "income_src": src_usd,
            "income": income,
            "income_cur": cur,
            "d": d_obs,
            "p_mfi": p_mfi,
            "density": density,
            "z": z,
            "loans_mfi": loans_mfi,
            "n_mfi": n_mfi,
            "mfi_idx": lo_idx,
            "bank": bank,
            "loans_bank": loans_bank,
            "loans_inf": loans_inf,
            "obs": obs,
            "cope": obs["cope"],
            "over_indebted": o_obs,
            "est": est,
            "cont": cont,
            "n_est_intl": n_est_intl,
            "dom": dom,
            "y_new": y_new,
            "intl": intl,
            "attrs_new": attrs_new,
            "est_ep": est_ep,
            "risky": risky_hh,
            "po": po,
            "avail_new": avail_new,
            "intercepts": {
                "mfi": a_d.tolist(),
                "new_migration": a_y.tolist(),
                "established": a_s.tolist(),
                "coping": debt.cope_intercepts,
            },
        }

    def _currency(self, rng: np.random.Generator, border: BoolArray) -> NDArrayObj:
        c = self.p.credit
        u = rng.random(len(border))
        cur_n = np.asarray(list(c.currency_probs), dtype=object)[
            categorical_from_uniform(u, list(c.currency_probs.values()))
        ]
        cur_b = np.asarray(list(c.currency_probs_border), dtype=object)[
            categorical_from_uniform(u, list(c.currency_probs_border.values()))
        ]
        return np.where(border, cur_b, cur_n)

    def _loan_block(
        self,
        rng: np.random.Generator,
        idx: IntArray,
        principal_usd: FloatArray,
        currency: NDArrayObj,
        rate: FloatArray,
        term: FloatArray,
        year: int,
        *,
        lender: str | NDArrayObj,
    ) -> dict[str, Any]:
        n = len(idx)
        amount, p_usd = _report(principal_usd, currency, self.rates, _ROUND_PRINCIPAL)
        inst_exact = annuity(p_usd, rate, term)
        inst_amount, inst_usd = _report(inst_exact, currency, self.rates, _ROUND_INSTALMENT)
        elapsed = np.floor(rng.random(n) * term)
        bal = balance_after(p_usd, rate, inst_exact, elapsed)
        out_amount, out_usd = _report(np.maximum(bal, 1.0), currency, self.rates, _ROUND_INSTALMENT)
        lender_arr = np.full(n, lender, dtype=object) if isinstance(lender, str) else lender
        is_mfi = lender_arr == "mfi"
        is_formal = is_mfi | (lender_arr == "bank")
        purpose = np.where(
            is_formal,
            np.asarray(_MFI_PURPOSES, dtype=object)[
                categorical_from_uniform(rng.random(n), _MFI_PURPOSE_P)
            ],
            np.asarray(_INF_PURPOSES, dtype=object)[
                categorical_from_uniform(rng.random(n), _INF_PURPOSE_P)
            ],
        )
        title = self.title[idx]
        u_col = rng.random(n)
        collateral = np.where(
            is_formal,
            np.select(
                [title & (u_col < 0.55), u_col < 0.75, u_col < 0.90, u_col < 0.96],
                ["land_title", "soft_title", "group_guarantee", "other_asset"],
                "none",
            ),
            np.where(u_col < 0.85, "none", "other_asset"),
        )
        collateral = np.where(
            ~is_formal & (lender_arr == "savings_group"), "group_guarantee", collateral
        )
        return {
            "hh": idx,
            "lender_type": lender_arr,
            "principal": amount,
            "currency": currency,
            "principal_usd": p_usd,
            "interest_rate_annual": np.round(rate, 4),
            "term_months": term.astype(np.int64),
            "instalment_monthly_usd": inst_usd,
            "instalment_amount": inst_amount,
            "outstanding_usd": out_usd,
            "outstanding_amount": out_amount,
            "purpose": purpose,
            "collateral": collateral,
            "year_taken": (year - np.ceil(elapsed / 12.0)).astype(np.int64),
            "u_arrears": rng.random(n),
        }

    def _established_episodes(
        self,
        t: int,
        prev: dict[str, Any] | None,
        n_est_intl: IntArray,
        n_dom: IntArray,
        cont: BoolArray,
        programme: BoolArray,
    ) -> dict[str, Any]:
        """Member-level episodes of established migrants (and returned migrants)."""
        p = self.p
        n = self.n
        roster = self.roster
        rank = roster["mig_rank"].to_numpy(np.int64)
        hh = roster["hh"].to_numpy(np.int64)
        is_intl = (rank >= 0) & (rank < n_est_intl[hh])
        is_dom = (rank >= 0) & (rank >= n_est_intl[hh]) & (rank < (n_est_intl + n_dom)[hh])
        rows = np.flatnonzero(is_intl | is_dom)
        draws = _EpisodeDraws.draw(self.s(f"episodes_est_w{t}"), len(roster)).take(rows)
        e_hh = hh[rows]
        domestic = is_dom[rows]
        prog = np.zeros(len(rows), dtype=bool)
        if t == 2:
            prog = programme[e_hh] & ~cont[e_hh]  # left after the programme started
        attrs = _episode_attributes(
            p,
            draws,
            border=self.border[e_hh],
            over_indebted=np.zeros(len(rows), dtype=bool),
            programme=prog,
            mfi=np.zeros(len(rows), dtype=bool),
            domestic=domestic,
        )
        year = p.design.baseline_year if t == 1 else p.design.endline_year
        ry = self.s(f"year_left_w{t}")
        year_left = year - ry.integers(1, 6, len(rows))
        ep: dict[str, Any] = {
            "hh": e_hh,
            "row": rows,
            "domestic": domestic,
            **attrs,
            "year_left": year_left,
            "has_returned": np.zeros(len(rows), bool),
        }
        if t == 2 and prev is not None:
            # continuing migrants keep their wave-1 episode
            old = prev["est_ep"]
            cur_old = np.flatnonzero(~old["has_returned"])
            old_key = pd.Series(cur_old, index=old["row"][cur_old])
            keep = cont[e_hh] & ~domestic & np.isin(rows, old["row"][cur_old])
            pos = old_key.reindex(rows[keep]).to_numpy()
            for name, val in ep.items():
                if name in ("hh", "row", "has_returned"):
                    continue
                arr = np.asarray(val).copy()
                arr[keep] = np.asarray(old[name])[pos]
                ep[name] = arr
        # returned migrants: wave 1 a share of households; wave 2 the wave-1 international
        # migrants who are back
        rr = self.s(f"returned_w{t}")
        if t == 1:
            has_ret = (n_est_intl == 0) & (rr.random(n) < p.migration.returned_rate)
            ret_rows = roster.index[(rank == 0) & has_ret[hh]].to_numpy()
            ret_draws = _EpisodeDraws.draw(rr, len(roster)).take(ret_rows)
            r_hh = hh[ret_rows]
            ra = _episode_attributes(
                p,
                ret_draws,
                border=self.border[r_hh],
                over_indebted=np.zeros(len(ret_rows), bool),
                programme=np.zeros(len(ret_rows), bool),
                mfi=np.zeros(len(ret_rows), bool),
                domestic=np.zeros(len(ret_rows), bool),
            )
            ret_year = year - rr.integers(2, 9, len(ret_rows))
        else:
            assert prev is not None
            old = prev["est_ep"]
            back = ~old["domestic"] & ~old["has_returned"] & ~np.isin(old["row"], rows)
            ret_rows = old["row"][back]
            r_hh = hh[ret_rows]
            ra = {
                k: np.asarray(v)[back]
                for k, v in old.items()
                if k not in ("hh", "row", "domestic", "year_left", "has_returned")
            }
            ret_year = old["year_left"][back]
        ret = {
            "hh": r_hh,
            "row": ret_rows,
            "domestic": np.zeros(len(ret_rows), bool),
            **ra,
            "year_left": ret_year,
            "has_returned": np.ones(len(ret_rows), bool),
        }
        return {k: np.concatenate([np.asarray(ep[k]), np.asarray(ret[k])]) for k in ep}

    # -- programme and attrition -------------------------------------------------------------
    def _programme(self, w1: dict[str, Any], responding: BoolArray) -> BoolArray:
        g = self.p.programme
        rng = self.s("programme")
        eligible = np.isin(self.prov, g.provinces) & ~self.urban & responding
        low_income = w1["income"] < np.median(w1["income"])
        wts = g.targeting_weights
        score = (
            wts["landless"] * self.landless
            + wts["low_income"] * low_income
            + wts["intl_migrant"] * w1["intl"]
            + wts["risky_migration"] * w1["risky"]
            + wts["over_indebted"] * w1["over_indebted"]
            + g.targeting_noise_sd * rng.standard_normal(self.n)
        )
        if g.unobserved_targeting_weight != 0:
            # scenario unobserved_targeting: local knowledge of hardship the survey never records
            score = score + g.unobserved_targeting_weight * self.distress
        treated = np.zeros(self.n, dtype=bool)
        idx = np.flatnonzero(eligible)
        n_treat = int(round(g.coverage * len(idx)))
        if n_treat:
            top = idx[np.argsort(-score[idx], kind="stable")[:n_treat]]
            treated[top] = True
        return treated

    def _attrition(self, w1: dict[str, Any]) -> BoolArray:
        d = self.p.design
        x = np.log(d.attrition_migrant_ratio) * w1["intl"]
        a = _bisect_logit(x, d.attrition_rate)
        return self.s("attrition").random(self.n) < expit(a + x)

    def _attrition_on_outcome(self, w2: dict[str, Any], programme: BoolArray) -> BoolArray:
        """Households lost at wave 2 because of the wave-2 outcome (none in the default world).

        A household whose member left for abroad in the wave-2 reference year is not found with
        probability ``attrition_new_migrant_rate``, times ``attrition_programme_ratio`` for
        programme households (traced through the programme's lists).
        """
        d = self.p.design
        if d.attrition_new_migrant_rate == 0:
            return np.zeros(self.n, dtype=bool)
        rate = d.attrition_new_migrant_rate * np.where(programme, d.attrition_programme_ratio, 1.0)
        return w2["y_new"] & (self.s("attrition_outcome").random(self.n) < clip01(rate))

    # -- run -----------------------------------------------------------------------------------
    def run(self) -> SyntheticSurvey:
        self._households()
        self.e_mfi = self.s("mfi_noise").standard_normal(self.n)
        no_prog = np.zeros(self.n, dtype=bool)
        w1 = self._wave(1, None, no_prog)
        attrited = self._attrition(w1)
        programme = self._programme(w1, ~attrited)
        w2 = self._wave(2, w1, programme)
        attrited = attrited | self._attrition_on_outcome(w2, programme)
        self.attrited = attrited
        self.programme = programme
        from ctip_research.synth.tables import build_tables
        from ctip_research.synth.truth import build_truth

        tables, latent, weights = build_tables(self, w1, w2)
        hh = tables["households"]
        truth = build_truth(self, w1, w2, weights, hh[hh["wave"] == 2])
        keys = pd.DataFrame(
            {
                "hh": np.arange(self.n),
                "household_id": self.hid,
                "raw_household_id": self.raw_id,
                "attrited": attrited,
            }
        )
        out = {}
        for name, df in tables.items():
            table = get_table(name)
            out[name] = validate_table(coerce_dtypes(df[table.columns], table), table)
        return SyntheticSurvey(
            households=out["households"],
            members=out["members"],
            loans=out["loans"],
            migration_episodes=out["migration_episodes"],
            truth=truth,
            household_keys=keys,
            latent=latent,
            params=self.p,
        )


Transform = Callable[[FloatArray], FloatArray]
