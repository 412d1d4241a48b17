"""Migration episodes: attributes as functions of exposures and common random numbers.

An episode's uniform draws are kept (:class:`EpisodeDraws`), so its attributes can be re-evaluated
with an exposure switched (potential outcomes) from exactly the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.synth._random import (
    BoolArray,
    FloatArray,
    IntArray,
    Streams,
    categorical_from_uniform,
    clip01,
    expit,
)
from ctip_research.synth.state import Episodes, Households

__all__ = ["EpisodeDraws", "episode_attributes", "established_episodes"]

_ILO_ORDER = (*L.ILO_INDICATORS, "paid_below_min_wage")
_LOAN_SOURCES = ("moneylender", "relative", "broker", "employer", "savings_group")
_LOAN_SOURCE_P = (0.35, 0.35, 0.15, 0.10, 0.05)


@dataclass(frozen=True)
class EpisodeDraws:
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
    def draw(cls, rng: np.random.Generator, n: int) -> EpisodeDraws:
        """Draw ``n`` episodes' uniforms and normals, in the fixed order of the fields."""
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

    def take(self, idx: IntArray) -> EpisodeDraws:
        """The draws of the episodes ``idx``."""
        return EpisodeDraws(
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


def _pick(codes: dict[str, float], u: FloatArray) -> np.ndarray:
    """The category of each uniform ``u`` under the probabilities ``codes`` (name -> p)."""
    return np.asarray(list(codes), dtype=object)[categorical_from_uniform(u, list(codes.values()))]


def _destination_channel(
    p: SynthParams,
    draws: EpisodeDraws,
    border: BoolArray,
    over_indebted: BoolArray,
    programme: BoolArray,
    domestic: BoolArray,
) -> tuple[np.ndarray, BoolArray, np.ndarray, BoolArray]:
    """Destination, irregular status, channel and informal broker of each episode."""
    m = p.migration
    g = p.programme
    dest = _pick(m.destination_probs, draws.u_dest)
    dest = np.where(domestic, "KH", dest)
    is_th = dest == "TH"
    p_irr = np.where(border, m.irregular_thailand_border, m.irregular_thailand_other)
    other_irr = pd.Series(dest).map(m.irregular_other_destinations).fillna(0.0).to_numpy(float)
    p_irr = np.where(is_th, p_irr, other_irr)
    p_irr = (
        p_irr
        + p.effects.over_indebted_on_irregular * over_indebted
        + g.effect_on_irregular * programme
    )
    irregular = (draws.u_irr < clip01(p_irr)) & ~domestic
    th_channel = _pick(m.regular_thailand_channel_probs, draws.u_channel)
    other_channel = np.where(draws.u_channel < 0.7, "mou", "self_regular")
    channel = np.select(
        [irregular, domestic, dest == "KR", is_th],
        ["irregular", "self_regular", "eps_korea", th_channel],
        default=other_channel,
    ).astype(object)
    p_broker = np.where(irregular, m.broker_irregular, m.broker_regular)
    p_broker = np.where(domestic, 0.05, p_broker) + g.effect_on_broker * programme
    broker = draws.u_broker < clip01(p_broker)
    return dest, irregular, channel, broker


def _route(
    dest: np.ndarray, irregular: BoolArray, channel: np.ndarray, domestic: BoolArray
) -> np.ndarray:
    """The cost route of each episode (the keys of ``migration.cost_median_usd``)."""
    is_th = dest == "TH"
    return np.select(
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


def _financing(
    p: SynthParams, draws: EpisodeDraws, mfi: BoolArray, domestic: BoolArray
) -> tuple[BoolArray, np.ndarray]:
    """Whether the episode's cost is financed by a loan, and the loan's source."""
    m = p.migration
    p_loan = np.where(domestic, 0.10, m.loan_financed_base + m.loan_financed_mfi * mfi)
    loan_fin = draws.u_loan < clip01(p_loan)
    source = np.where(
        mfi & (draws.u_source < 0.45),
        "mfi",
        np.asarray(_LOAN_SOURCES, dtype=object)[
            categorical_from_uniform(draws.u_source, _LOAN_SOURCE_P)
        ],
    )
    return loan_fin, np.where(loan_fin, source, "none")


def _ilo_indicators(
    p: SynthParams,
    draws: EpisodeDraws,
    irregular: BoolArray,
    broker: BoolArray,
    loan_fin: BoolArray,
    programme: BoolArray,
    domestic: BoolArray,
) -> dict[str, BoolArray]:
    """The ILO forced-labour indicators and ``paid_below_min_wage`` of each episode."""
    m = p.migration
    base = (
        m.ilo_irregular * irregular
        + m.ilo_broker * broker
        + m.ilo_latent_sd * draws.latent
        + m.ilo_domestic_shift * domestic
        + p.programme.effect_on_ilo * programme
    )
    ilo: dict[str, BoolArray] = {}
    for j, name in enumerate(_ILO_ORDER):
        lo = m.ilo_intercepts[name] + base
        if name == "debt_to_broker_employer":
            lo = lo + p.effects.loan_financed_on_debt_bondage * loan_fin
        if name == "paid_below_min_wage":
            lo = (
                m.ilo_intercepts[name]
                + m.below_min_wage_irregular * irregular
                + 0.3 * draws.latent
                + m.ilo_domestic_shift * domestic
            )
        ilo[name] = draws.u_ilo[:, j] < expit(lo)
    return ilo


def episode_attributes(
    p: SynthParams,
    draws: EpisodeDraws,
    *,
    border: BoolArray,
    over_indebted: BoolArray,
    programme: BoolArray,
    mfi: BoolArray,
    domestic: BoolArray,
) -> dict[str, Any]:
    """Attributes of migration episodes (international or domestic) given exposures."""
    m = p.migration
    n = len(border)
    dest, irregular, channel, broker = _destination_channel(
        p, draws, border, over_indebted, programme, domestic
    )
    route = _route(dest, irregular, channel, domestic)
    median_cost = pd.Series(route).map(m.cost_median_usd).to_numpy(float)
    cost = np.round(median_cost * np.exp(m.cost_sigma * draws.z_cost) / 5.0) * 5.0
    loan_fin, source = _financing(p, draws, mfi, domestic)
    sector = np.where(
        dest == "TH",
        _pick(m.sector_probs_thailand, draws.u_sector),
        _pick(m.sector_probs_other, draws.u_sector),
    )
    ilo = _ilo_indicators(p, draws, irregular, broker, loan_fin, programme, domestic)
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


def _zeros(n: int) -> BoolArray:
    """``n`` False values."""
    return np.zeros(n, dtype=bool)


def established_episodes(
    p: SynthParams,
    s: Streams,
    hh: Households,
    t: int,
    prev_ep: Episodes | None,
    n_est_intl: IntArray,
    n_dom: IntArray,
    cont: BoolArray,
    programme: BoolArray,
) -> Episodes:
    """Member-level episodes of established migrants (and returned migrants).

    ``prev_ep`` is the previous wave's table (``None`` in wave 1).
    """
    ep = _current_episodes(p, s, hh, t, prev_ep, n_est_intl, n_dom, cont, programme)
    ret = _returned_episodes(p, s, hh, t, prev_ep, n_est_intl, ep["row"])
    return {k: np.concatenate([np.asarray(ep[k]), np.asarray(ret[k])]) for k in ep}


def _current_episodes(
    p: SynthParams,
    s: Streams,
    hh: Households,
    t: int,
    prev_ep: Episodes | None,
    n_est_intl: IntArray,
    n_dom: IntArray,
    cont: BoolArray,
    programme: BoolArray,
) -> Episodes:
    """Episodes of the members away now (established international and domestic migrants)."""
    roster = hh.roster
    rank = roster["mig_rank"].to_numpy(np.int64)
    r_hh = roster["hh"].to_numpy(np.int64)
    is_intl = (rank >= 0) & (rank < n_est_intl[r_hh])
    is_dom = (rank >= 0) & (rank >= n_est_intl[r_hh]) & (rank < (n_est_intl + n_dom)[r_hh])
    rows = np.flatnonzero(is_intl | is_dom)
    draws = EpisodeDraws.draw(s(f"episodes_est_w{t}"), len(roster)).take(rows)
    e_hh = r_hh[rows]
    domestic = is_dom[rows]
    prog = _zeros(len(rows))
    if t == 2:
        prog = programme[e_hh] & ~cont[e_hh]  # left after the programme started
    attrs = episode_attributes(
        p,
        draws,
        border=hh.border[e_hh],
        over_indebted=_zeros(len(rows)),
        programme=prog,
        mfi=_zeros(len(rows)),
        domestic=domestic,
    )
    year = p.design.baseline_year if t == 1 else p.design.endline_year
    year_left = year - s(f"year_left_w{t}").integers(1, 6, len(rows))
    ep: Episodes = {
        "hh": e_hh,
        "row": rows,
        "domestic": domestic,
        **attrs,
        "year_left": year_left,
        "has_returned": _zeros(len(rows)),
    }
    if t == 2 and prev_ep is not None:
        _keep_previous_episodes(ep, prev_ep, cont[e_hh] & ~domestic)
    return ep


def _keep_previous_episodes(ep: Episodes, old: Episodes, continuing: BoolArray) -> None:
    """Continuing migrants keep their wave-1 episode (``ep`` is updated in place)."""
    rows = ep["row"]
    cur_old = np.flatnonzero(~old["has_returned"])
    old_key = pd.Series(cur_old, index=old["row"][cur_old])
    keep = continuing & np.isin(rows, old["row"][cur_old])
    pos = old_key.reindex(rows[keep]).to_numpy()
    for name, val in ep.items():
        if name in ("hh", "row", "has_returned"):
            continue
        arr = np.asarray(val).copy()
        arr[keep] = np.asarray(old[name])[pos]
        ep[name] = arr


def _returned_episodes(
    p: SynthParams,
    s: Streams,
    hh: Households,
    t: int,
    prev_ep: Episodes | None,
    n_est_intl: IntArray,
    current_rows: IntArray,
) -> Episodes:
    """Returned migrants: wave 1 a share of households; wave 2 the wave-1 international
    migrants who are back.
    """
    roster = hh.roster
    rank = roster["mig_rank"].to_numpy(np.int64)
    r_hh = roster["hh"].to_numpy(np.int64)
    year = p.design.baseline_year if t == 1 else p.design.endline_year
    rr = s(f"returned_w{t}")
    if t == 1:
        has_ret = (n_est_intl == 0) & (rr.random(hh.n) < p.migration.returned_rate)
        ret_rows = roster.index[(rank == 0) & has_ret[r_hh]].to_numpy()
        ret_draws = EpisodeDraws.draw(rr, len(roster)).take(ret_rows)
        e_hh = r_hh[ret_rows]
        nr = len(ret_rows)
        ra = episode_attributes(
            p,
            ret_draws,
            border=hh.border[e_hh],
            over_indebted=_zeros(nr),
            programme=_zeros(nr),
            mfi=_zeros(nr),
            domestic=_zeros(nr),
        )
        ret_year = year - rr.integers(2, 9, nr)
    else:
        assert prev_ep is not None
        old = prev_ep
        back = ~old["domestic"] & ~old["has_returned"] & ~np.isin(old["row"], current_rows)
        ret_rows = old["row"][back]
        e_hh = r_hh[ret_rows]
        ra = {
            k: np.asarray(v)[back]
            for k, v in old.items()
            if k not in ("hh", "row", "domestic", "year_left", "has_returned")
        }
        ret_year = old["year_left"][back]
    return {
        "hh": e_hh,
        "row": ret_rows,
        "domestic": _zeros(len(ret_rows)),
        **ra,
        "year_left": ret_year,
        "has_returned": np.ones(len(ret_rows), bool),
    }
