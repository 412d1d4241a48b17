"""One wave of the synthetic survey, simulated as a sequence of small named steps.

:func:`simulate_wave` draws shocks, established migrants, income, MFI take-up, loans, the debt
block, new international migration and the migration episodes, then evaluates the potential
outcomes for the truth. Each step reads the fixed household draw (:class:`Households`) and the
results of earlier steps and returns its own small frozen result; the random draws happen in a
fixed order from named streams (``docs/synthetic.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.synth._random import (
    BoolArray,
    FloatArray,
    IntArray,
    Streams,
    categorical_from_uniform,
    clip01,
    ndtr,
    solve_intercepts,
)
from ctip_research.synth.episodes import EpisodeDraws, episode_attributes, established_episodes
from ctip_research.synth.loans import currency, loan_block, rates
from ctip_research.synth.state import Debt, Episodes, Households, PotentialOutcomes, WaveDraw

__all__ = ["simulate_wave"]


# --------------------------------------------------------------------------------------------
# Step results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Established:
    """Established migrants (pre-determined) and domestic migrants of one wave."""

    cont: BoolArray
    est: BoolArray
    n_est_intl: IntArray
    dom: BoolArray
    n_dom: IntArray
    a_s: FloatArray


@dataclass(frozen=True)
class _Income:
    """Income of one wave by source, as reported (USD), and earned income before rounding."""

    earned: FloatArray
    src_usd: FloatArray
    income: FloatArray


@dataclass(frozen=True)
class _Takeup:
    """The instrument and MFI take-up."""

    density: FloatArray
    z: FloatArray
    a_d: FloatArray
    p_mfi: FloatArray
    p_mfi_plus: FloatArray
    d_obs: BoolArray


@dataclass(frozen=True)
class _Loans:
    """Potential loans of every household (MFI loans realised only if it borrows)."""

    loans_mfi: Episodes
    inst_mfi: FloatArray
    bank: BoolArray
    loans_bank: Episodes
    loans_inf: Episodes
    u_inf: FloatArray


@dataclass(frozen=True)
class _MigrationIndex:
    """The index of new international migration beyond the provincial intercept."""

    p: SynthParams
    x_base: FloatArray
    programme: BoolArray
    multiplier: FloatArray

    def at(self, d: BoolArray, o: BoolArray, prog: BoolArray | None = None) -> FloatArray:
        """The index at MFI status ``d``, over-indebtedness ``o`` and programme ``prog``
        (the observed programme by default).
        """
        e = self.p.effects
        g = self.p.programme.effect_on_new_migration
        prog = self.programme if prog is None else prog
        return (
            self.x_base
            - g * self.programme
            + g * prog
            + self.multiplier * (e.mfi_on_migration * d + e.over_indebted_on_migration * o)
        )


@dataclass(frozen=True)
class _NewMigration:
    """New international migration as a function of MFI status, over-indebtedness, programme.

    ``a_y`` are the provincial intercepts (solved at the observed exposures), ``a_yi`` the
    intercept of each household and ``w`` its uniform draw.
    """

    index: _MigrationIndex
    est: BoolArray
    avail_new: BoolArray
    w: FloatArray
    a_y: FloatArray
    a_yi: FloatArray

    def new(self, d: BoolArray, o: BoolArray, prog: BoolArray | None = None) -> BoolArray:
        """Whether a member leaves for abroad in the reference year."""
        return ~self.est & self.avail_new & (self.w < clip01(self.a_yi + self.index.at(d, o, prog)))

    def prob(self, d: BoolArray, o: BoolArray) -> FloatArray:
        """The probability of a new international migrant."""
        return (~self.est & self.avail_new) * clip01(self.a_yi + self.index.at(d, o))


@dataclass(frozen=True)
class _NewEpisodes:
    """The potential episode of a new migrant of every household, from fixed draws."""

    p: SynthParams
    draws: EpisodeDraws
    border: BoolArray
    mfi: BoolArray

    def attrs(self, o: BoolArray, prog: BoolArray) -> dict[str, Any]:
        """Episode attributes at over-indebtedness ``o`` and programme ``prog``."""
        return episode_attributes(
            self.p,
            self.draws,
            border=self.border,
            over_indebted=o,
            programme=prog,
            mfi=self.mfi,
            domestic=np.zeros(len(self.border), dtype=bool),
        )


class _DebtModel:
    """Debt service, coping and over-indebtedness as a function of MFI take-up.

    The coping intercepts are solved at the first evaluation (the observed MFI status) and
    reused for the potential outcomes.
    """

    def __init__(
        self,
        p: SynthParams,
        *,
        income_month: FloatArray,
        loans: _Loans,
        distress: FloatArray,
        v_cope: dict[str, FloatArray],
    ) -> None:
        self.p = p
        self.income_month = income_month
        self.inst_mfi = loans.inst_mfi
        self.bank = loans.bank
        self.inst_bank = loans.loans_bank["instalment_monthly_usd"]
        self.inst_inf = loans.loans_inf["instalment_monthly_usd"]
        self.u_inf = loans.u_inf
        self.distress = distress
        self.v_cope = v_cope
        self.cope_intercepts: dict[str, float] = {}

    def _coping(self, any_debt: BoolArray, x: FloatArray) -> dict[str, BoolArray]:
        """Coping strategies of indebted households (all but migration)."""
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
        return cope

    def evaluate(self, d: BoolArray) -> Debt:
        """The debt block at MFI status ``d``."""
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
        cope = self._coping(any_debt, x)
        n_sacr = np.zeros(len(d), dtype=np.int64)
        for name in L.SACRIFICES:
            n_sacr += cope[name]
        over = burden | (n_sacr >= e.over_indebted_min_sacrifices)
        return Debt(
            informal=informal,
            dsr=dsr,
            any_debt=any_debt,
            cope=cope,
            n_sacrifices=n_sacr,
            over_indebted=over,
        )


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


def _draw_shocks(p: SynthParams, hh: Households, rng: np.random.Generator) -> dict[str, BoolArray]:
    """Climate, health and job-loss shocks of the reference year."""
    h = p.household
    n, dist = hh.n, hh.distress
    return {
        "shock_climate": rng.random(n)
        < clip01(
            np.where(hh.urban, h.shock_climate_urban, h.shock_climate_rural)
            + h.distress_shock_effect * dist
        ),
        "shock_health": rng.random(n) < clip01(h.shock_health + h.distress_shock_effect * dist),
        "shock_job_loss": rng.random(n) < clip01(h.shock_job_loss + h.distress_shock_effect * dist),
    }


def _province_migration_targets(p: SynthParams) -> FloatArray:
    """The international migration rate of each province (sorted codes)."""
    return np.array([p.provinces[k].intl_migration_rate for k in sorted(p.provinces)])


def _draw_continuing(
    p: SynthParams, rng: np.random.Generator, prev: WaveDraw | None, avail: BoolArray, n: int
) -> BoolArray:
    """Households whose established migrants of the previous wave are still abroad.

    Established migrants stay abroad with probability `persistence`; migrants who left in the
    previous wave's reference year (the ones an MFI loan can cause) do not carry over, so current
    borrowing affects current migration only (strict exogeneity, the assumption of the household
    fixed-effects estimator). Time-invariant distress still drives both, which is what household
    fixed effects remove.
    """
    m = p.migration
    if prev is None:
        return np.zeros(n, dtype=bool)
    u_stay = rng.random(n)
    cont = prev.est & (u_stay < m.persistence) & avail
    if m.new_migrant_persistence > 0:
        # scenario persistent_debt_migrants: wave-1 new migrants (whom a loan may have
        # sent) stay abroad too, so past borrowing moves current migration
        cont |= prev.y_new & (u_stay < m.new_migrant_persistence) & avail
    return cont


def _draw_established(
    p: SynthParams, hh: Households, rng: np.random.Generator, prev: WaveDraw | None
) -> _Established:
    """Established international migrants (pre-determined) and domestic migrants."""
    m = p.migration
    n, dist = hh.n, hh.distress
    targets = _province_migration_targets(p)
    avail = hh.n_eligible > 0
    x_s = m.distress_established_effect * dist
    cont = _draw_continuing(p, rng, prev, avail, n)
    cont_f = cont.astype(float)
    avail_f = avail.astype(float)

    def s_transform(q: FloatArray, cont_f: FloatArray = cont_f) -> FloatArray:
        return cont_f + (1 - cont_f) * q * avail_f

    a_s = solve_intercepts(x_s, hh.prov_index, m.established_share * targets, transform=s_transform)
    q_s = clip01(a_s[hh.prov_index] + x_s)
    est_new = ~cont & avail & (rng.random(n) < q_s)
    est = cont | est_new
    n_est_intl = np.where(est, 1 + (rng.random(n) < m.established_two_migrants), 0)
    if prev is not None:
        n_est_intl = np.where(cont, np.maximum(prev.n_est_intl, 1), n_est_intl)
    n_est_intl = np.minimum(n_est_intl, hh.n_eligible)
    p_dom = clip01(np.where(hh.urban, m.domestic_rate_urban, m.domestic_rate_rural) + 0.02 * dist)
    dom = (hh.n_eligible > n_est_intl) & (rng.random(n) < p_dom)
    return _Established(cont, est, n_est_intl, dom, dom.astype(np.int64), a_s)


def _draw_remittances(
    p: SynthParams, rng: np.random.Generator, mig: _Established, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Remittances of established international migrants (per migrant, summed) and domestic."""
    m = p.migration
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
    rem_intl = (mig.n_est_intl >= 1) * rem1 + (mig.n_est_intl >= 2) * rem2
    zd = rng.standard_normal(n)
    rem_dom = mig.dom * np.where(
        rng.random(n) < m.remittance_domestic_zero_rate,
        0.0,
        np.exp(np.log(m.remittance_domestic_median_usd) + 0.7 * zd),
    )
    return rem_intl, rem_dom


def _draw_earned_income(
    p: SynthParams, hh: Households, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Earned income and its split into farm, wages, business and other income (USD)."""
    h = p.household
    n = hh.n
    e_tr = rng.standard_normal(n) * h.income_sigma * np.sqrt(1 - h.income_persistent_share)
    earned = np.exp(
        np.log(h.earned_income_median_usd)
        + np.log(h.urban_income_ratio) * hh.urban
        + hh.e_perm
        + e_tr
        + h.distress_income_effect * hh.distress
    )
    alpha = np.stack(
        [
            np.where(hh.landless, 0.3, 2.0 + 0.5 * np.log1p(hh.land))
            * np.where(hh.urban, 0.3, 1.0),
            np.full(n, 1.5),
            np.where(hh.urban, 1.2, 0.6),
            np.full(n, 0.3),
        ],
        axis=1,
    )
    shares = rng.gamma(alpha)
    shares = shares / shares.sum(axis=1, keepdims=True)
    return earned, earned[:, None] * shares


def _draw_income(
    p: SynthParams, hh: Households, rng: np.random.Generator, t: int, mig: _Established
) -> _Income:
    """Income by source, reported rounded (wave 1 in riel, wave 2 in dollars)."""
    rem_intl, rem_dom = _draw_remittances(p, rng, mig, hh.n)
    earned, parts = _draw_earned_income(p, hh, rng)
    src = np.column_stack([parts, rem_intl + rem_dom])  # farm, wages, business, other, remit
    cur = "KHR" if t == 1 else "USD"
    step = 10_000.0 if t == 1 else 10.0
    rate = rates(p)[cur]
    src_cur = np.round(src * rate / step) * step
    src_usd = src_cur / rate
    income = src_usd.sum(axis=1)
    # guarantee a positive income
    bump = income <= 0
    src_cur[bump, 1] = step * 10
    src_usd = src_cur / rate
    income = src_usd.sum(axis=1)
    return _Income(earned, src_usd, income)


def _draw_mfi_takeup(
    p: SynthParams,
    hh: Households,
    s: Streams,
    t: int,
    inc: _Income,
    shocks: dict[str, BoolArray],
) -> _Takeup:
    """The instrument (branch density) and MFI take-up, calibrated per stratum."""
    c, e = p.credit, p.effects
    any_shock = shocks["shock_climate"] | shocks["shock_health"] | shocks["shock_job_loss"]
    remit = inc.src_usd[:, 4]
    density = hh.frame[f"branch_density_w{t}"].to_numpy(float)
    z = (density - c.branch_density_mean) / c.branch_density_sd
    zdist = (
        np.log(hh.frame["dist_mfi_branch_km"].to_numpy(float)) - np.log(c.distance_median_km)
    ) / c.distance_sigma
    x_d = (
        e.instrument_on_mfi * z
        + e.distance_on_mfi * zdist
        + e.distress_on_mfi * hh.distress
        + e.remittances_on_mfi * (remit > 0)
        + e.shock_on_mfi * any_shock
    )
    mfi_targets = np.array(
        [
            c.mfi_rate_urban if code.endswith("U") else p.provinces[int(code[:2])].mfi_rate_rural
            for code in hh.strata_codes
        ]
    )
    a_d = solve_intercepts(x_d, hh.stratum_index, mfi_targets)
    p_mfi = clip01(a_d[hh.stratum_index] + x_d)
    p_mfi_plus = clip01(a_d[hh.stratum_index] + x_d + e.instrument_on_mfi)
    rho = c.mfi_takeup_persistence
    e_dt = s(f"mfi_noise_w{t}").standard_normal(hh.n)
    v_d = ndtr(rho * hh.e_mfi + np.sqrt(1 - rho**2) * e_dt)
    return _Takeup(density, z, a_d, p_mfi, p_mfi_plus, v_d < p_mfi)


def _earned_ref(p: SynthParams, hh: Households) -> FloatArray:
    """Log median earned income of the household's area (urban or rural)."""
    h = p.household
    return np.log(h.earned_income_median_usd) + np.log(h.urban_income_ratio) * hh.urban


def _draw_mfi_loans(
    p: SynthParams, hh: Households, rl: np.random.Generator, earned: FloatArray, year: int
) -> tuple[Episodes, np.ndarray]:
    """Potential MFI loans of every household; return them and the monthly instalments."""
    c = p.credit
    n = hh.n
    n_mfi = 1 + categorical_from_uniform(rl.random(n), c.mfi_n_loans_probs)
    earned_ref = _earned_ref(p, hh)
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
    cur = currency(p, rl, hh.border[lo_idx])
    loans = loan_block(
        p, rl, hh.title, lo_idx, princ, cur, rate, term.astype(float), year, lender="mfi"
    )
    inst_mfi = np.bincount(lo_idx, weights=loans["instalment_monthly_usd"], minlength=n)
    return loans, inst_mfi


def _draw_bank_loans(
    p: SynthParams, hh: Households, rl: np.random.Generator, earned: FloatArray, year: int
) -> tuple[BoolArray, Episodes]:
    """Whether each household has a bank loan, and its potential bank loan."""
    c = p.credit
    n = hh.n
    bank = rl.random(n) < np.where(hh.urban, c.bank_rate_urban, c.bank_rate_rural)
    b_princ = np.exp(
        np.log(c.bank_principal_median_usd)
        + 0.5 * (np.log(earned) - _earned_ref(p, hh))
        + 0.7 * rl.standard_normal(n)
    )
    loans = loan_block(
        p,
        rl,
        hh.title,
        np.arange(n),
        b_princ,
        currency(p, rl, hh.border),
        np.full(n, c.bank_interest_annual),
        rl.choice([36.0, 48.0, 60.0, 84.0], n),
        year,
        lender="bank",
    )
    return bank, loans


def _draw_informal_loans(
    p: SynthParams, hh: Households, rl: np.random.Generator, year: int
) -> Episodes:
    """The potential informal loan of every household."""
    c = p.credit
    n = hh.n
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
    return loan_block(
        p,
        rl,
        hh.title,
        np.arange(n),
        inf_princ,
        currency(p, rl, hh.border),
        inf_rate_m * 12.0,
        rl.choice([6.0, 12.0, 18.0, 24.0], n),
        year,
        lender=inf_type,
    )


def _draw_loans(
    p: SynthParams, hh: Households, s: Streams, t: int, earned: FloatArray, year: int
) -> _Loans:
    """MFI, bank and informal loans, all from the wave's loan stream in a fixed order."""
    rl = s(f"loans_w{t}")
    loans_mfi, inst_mfi = _draw_mfi_loans(p, hh, rl, earned, year)
    bank, loans_bank = _draw_bank_loans(p, hh, rl, earned, year)
    loans_inf = _draw_informal_loans(p, hh, rl, year)
    return _Loans(loans_mfi, inst_mfi.astype(float), bank, loans_bank, loans_inf, rl.random(hh.n))


def _draw_coping_uniforms(p: SynthParams, s: Streams, t: int, n: int) -> dict[str, FloatArray]:
    """Correlated uniforms of the coping strategies (one common factor)."""
    rc = s(f"coping_w{t}")
    f_cope = rc.standard_normal(n)
    rcorr = p.coping.correlation
    return {
        name: ndtr(np.sqrt(rcorr) * f_cope + np.sqrt(1 - rcorr) * rc.standard_normal(n))
        for name in p.coping.targets
    }


def _calibrate_new_migration(
    p: SynthParams,
    hh: Households,
    s: Streams,
    t: int,
    prev: WaveDraw | None,
    programme: BoolArray,
    mig: _Established,
    shocks: dict[str, BoolArray],
    take: _Takeup,
    o_obs: BoolArray,
) -> _NewMigration:
    """New international migration (left within the 12-month reference period), calibrated."""
    e = p.effects
    n = hh.n
    any_shock = shocks["shock_climate"] | shocks["shock_health"] | shocks["shock_job_loss"]
    w = s(f"migration_w{t}").random(n)
    avail_new = hh.n_eligible > (mig.n_est_intl + mig.n_dom)
    land_sale_prev = prev.cope["cope_sold_land"] if prev is not None else np.zeros(n, bool)
    x_base = (
        e.distress_on_migration * hh.distress
        + e.shock_on_migration * any_shock
        + e.instrument_direct_effect * take.z
        + e.land_sale_on_later_migration * land_sale_prev
        + p.programme.effect_on_new_migration * programme
    )
    index = _MigrationIndex(p, x_base, programme, hh.multiplier)
    x_obs = index.at(take.d_obs, o_obs)
    est_f = mig.est.astype(float)
    avn = avail_new.astype(float)

    def y_transform(q: FloatArray) -> FloatArray:
        return est_f + (1 - est_f) * avn * q

    a_y = solve_intercepts(
        x_obs, hh.prov_index, _province_migration_targets(p), transform=y_transform
    )
    return _NewMigration(index, mig.est, avail_new, w, a_y, a_y[hh.prov_index])


def _has_risky_established(est_ep: Episodes, n: int) -> BoolArray:
    """Households with a current (not returned) risky established episode."""
    return (
        np.bincount(est_ep["hh"], weights=est_ep["risky"] & ~est_ep["has_returned"], minlength=n)
        > 0
    )


def _add_cope_migrate(
    p: SynthParams, obs: Debt, any_mig: BoolArray, v_cope: dict[str, FloatArray]
) -> Debt:
    """Add coping by migration (after migration) to the observed debt block."""
    target_mig = p.coping.targets["cope_migrate_to_repay"]
    sel = obs.any_debt
    share_mig = max(float(any_mig[sel].mean()) if sel.any() else 0.0, 1e-9)
    p_mig_cope = min(target_mig / share_mig, 1.0)
    cope = dict(obs.cope)
    cope["cope_migrate_to_repay"] = sel & any_mig & (v_cope["cope_migrate_to_repay"] < p_mig_cope)
    return replace(obs, cope=cope)


def _evaluate_potential_outcomes(
    debt: _DebtModel,
    model: _NewMigration,
    new_ep: _NewEpisodes,
    take: _Takeup,
    risky_est: BoolArray,
    programme: BoolArray,
) -> PotentialOutcomes:
    """Outcomes with MFI status or over-indebtedness switched (same draws otherwise)."""
    n = len(take.d_obs)
    est, d_obs = model.est, take.d_obs
    ones, zeros = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    debt1, debt0 = debt.evaluate(ones), debt.evaluate(zeros)
    y_d1 = est | model.new(ones, debt1.over_indebted)
    y_d0 = est | model.new(zeros, debt0.over_indebted)
    y_o1 = est | model.new(d_obs, ones)
    y_o0 = est | model.new(d_obs, zeros)
    a1, a0 = new_ep.attrs(ones, programme), new_ep.attrs(zeros, programme)
    risky_o1 = risky_est | (model.new(d_obs, ones) & a1["risky"])
    risky_o0 = risky_est | (model.new(d_obs, zeros) & a0["risky"])
    prob_d1 = model.prob(ones, debt1.over_indebted)
    prob_d0 = model.prob(zeros, debt0.over_indebted)
    prob_o1 = model.prob(d_obs, ones)
    prob_o0 = model.prob(d_obs, zeros)
    return PotentialOutcomes(
        y_d1=y_d1,
        y_d0=y_d0,
        y_o1=y_o1,
        y_o0=y_o0,
        risky_o1=risky_o1,
        risky_o0=risky_o0,
        ey_d=prob_d1 - prob_d0,
        ey_o=prob_o1 - prob_o0,
        first_stage=take.p_mfi_plus - take.p_mfi,
        o_d1=debt1.over_indebted,
        o_d0=debt0.over_indebted,
    )


def _evaluate_programme_outcomes(
    p: SynthParams,
    s: Streams,
    hh: Households,
    prev: WaveDraw | None,
    mig: _Established,
    model: _NewMigration,
    new_ep: _NewEpisodes,
    d_obs: BoolArray,
    o_obs: BoolArray,
    po: PotentialOutcomes,
) -> PotentialOutcomes:
    """Wave 2: add the outcomes with the programme switched on and off for every household."""
    n = hh.n
    prev_ep = prev.est_ep if prev is not None else None
    ones_p = np.ones(n, dtype=bool)
    no_prog = np.zeros(n, dtype=bool)
    est_ep1 = established_episodes(
        p, s, hh, 2, prev_ep, mig.n_est_intl, mig.n_dom, mig.cont, ones_p
    )
    est_ep0 = established_episodes(
        p, s, hh, 2, prev_ep, mig.n_est_intl, mig.n_dom, mig.cont, no_prog
    )
    r_est1 = _has_risky_established(est_ep1, n)
    r_est0 = _has_risky_established(est_ep0, n)
    g1 = model.new(d_obs, o_obs, ones_p)
    g0 = model.new(d_obs, o_obs, no_prog)
    return replace(
        po,
        risky_g1=r_est1 | (g1 & new_ep.attrs(o_obs, ones_p)["risky"]),
        risky_g0=r_est0 | (g0 & new_ep.attrs(o_obs, no_prog)["risky"]),
        intl_g1=model.est | g1,
        intl_g0=model.est | g0,
    )


def simulate_wave(
    p: SynthParams, s: Streams, hh: Households, t: int, prev: WaveDraw | None, programme: BoolArray
) -> WaveDraw:
    """Simulate wave ``t`` (``prev`` is wave 1 when ``t == 2``) under programme ``programme``."""
    n = hh.n
    rng = s(f"wave{t}")
    year = p.design.baseline_year if t == 1 else p.design.endline_year
    shocks = _draw_shocks(p, hh, rng)
    mig = _draw_established(p, hh, rng, prev)
    inc = _draw_income(p, hh, rng, t, mig)
    take = _draw_mfi_takeup(p, hh, s, t, inc, shocks)
    loans = _draw_loans(p, hh, s, t, inc.earned, year)
    v_cope = _draw_coping_uniforms(p, s, t, n)
    debt = _DebtModel(
        p, income_month=inc.income / 12.0, loans=loans, distress=hh.distress, v_cope=v_cope
    )
    obs = debt.evaluate(take.d_obs)
    o_obs = obs.over_indebted
    model = _calibrate_new_migration(p, hh, s, t, prev, programme, mig, shocks, take, o_obs)
    y_new = model.new(take.d_obs, o_obs)
    intl = mig.est | y_new
    new_ep = _NewEpisodes(p, EpisodeDraws.draw(s(f"episodes_new_w{t}"), n), hh.border, take.d_obs)
    attrs_new = new_ep.attrs(o_obs, programme)
    prev_ep = prev.est_ep if prev is not None else None
    est_ep = established_episodes(
        p, s, hh, t, prev_ep, mig.n_est_intl, mig.n_dom, mig.cont, programme
    )
    risky_est = _has_risky_established(est_ep, n)
    obs = _add_cope_migrate(p, obs, intl | mig.dom, v_cope)
    po = _evaluate_potential_outcomes(debt, model, new_ep, take, risky_est, programme)
    if t == 2:
        po = _evaluate_programme_outcomes(p, s, hh, prev, mig, model, new_ep, take.d_obs, o_obs, po)
    return WaveDraw(
        t=t,
        year=year,
        shocks=shocks,
        income_src=inc.src_usd,
        income=inc.income,
        d=take.d_obs,
        p_mfi=take.p_mfi,
        density=take.density,
        z=take.z,
        loans_mfi=loans.loans_mfi,
        bank=loans.bank,
        loans_bank=loans.loans_bank,
        loans_inf=loans.loans_inf,
        obs=obs,
        cope=obs.cope,
        est=mig.est,
        n_est_intl=mig.n_est_intl,
        dom=mig.dom,
        y_new=y_new,
        intl=intl,
        attrs_new=attrs_new,
        est_ep=est_ep,
        risky=risky_est | (y_new & attrs_new["risky"]),
        po=po,
        intercepts={
            "mfi": take.a_d.tolist(),
            "new_migration": model.a_y.tolist(),
            "established": mig.a_s.tolist(),
            "coping": debt.cope_intercepts,
        },
    )
