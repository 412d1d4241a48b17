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

The steps pass typed state (``synth/state.py``): the fixed household draw (:class:`Households`),
each wave's simulated arrays (:class:`WaveDraw`, from ``synth/wave.py``) and the programme and
attrition (:class:`Assignment`); ``synth/tables.py`` and ``synth/truth.py`` turn them into the
canonical tables and the ground truth.
"""

from __future__ import annotations

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
    Streams,
    clip01,
    expit,
    within_group_rank,
)
from ctip_research.synth.design import draw_sample
from ctip_research.synth.roster import draw_roster
from ctip_research.synth.state import Assignment, Households, WaveDraw
from ctip_research.synth.tables import build_tables
from ctip_research.synth.truth import build_truth
from ctip_research.synth.wave import simulate_wave

__all__ = ["SyntheticSurvey", "generate_survey"]


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
    return _run(world, DEMO_HMAC_KEY if hmac_key is None else hmac_key)


#: The public demo key of ``params.yaml`` (``privacy.demo_key``); synthetic data only.
DEMO_HMAC_KEY = "ctip-public-demo-key-synthetic-data-only"


def _bisect_logit(x: FloatArray, target: float) -> float:
    """The intercept ``a`` with ``mean(expit(a + x)) == target`` (bisection)."""
    lo, hi = -12.0, 12.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if expit(mid + x).mean() > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


# --------------------------------------------------------------------------------------------
# Time-invariant household characteristics
# --------------------------------------------------------------------------------------------


def _draw_roster(
    s: Streams,
    size: np.ndarray,
    head_age: np.ndarray,
    head_female: np.ndarray,
    urban: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The roster with each member's fixed migration rank; also eligible members per household."""
    roster = draw_roster(s("roster"), size, head_age, head_female, urban)
    key = s("migrant_order").random(len(roster))
    eligible = (roster["relation_to_head"].to_numpy() != "head") & roster["age_w1"].between(
        15, 50
    ).to_numpy()
    roster["eligible"] = eligible
    # rank among eligible members (fixed over waves): eligible first, then by key
    rank = within_group_rank(roster["hh"].to_numpy(np.int64), np.where(eligible, key, 2.0 + key))
    roster["mig_rank"] = np.where(eligible, rank, -1)
    n_eligible = np.bincount(roster["hh"], weights=eligible, minlength=len(size)).astype(np.int64)
    return roster, n_eligible


def _draw_households(p: SynthParams, s: Streams, key: str) -> Households:
    """Draw the sample and every time-invariant household characteristic, roster and ids."""
    h = p.household
    frame = draw_sample(p, s)
    n = len(frame)
    rng = s("household")
    urban = frame["is_urban"].to_numpy(bool)
    prov = frame["province_code"].to_numpy(np.int64)
    border = np.isin(prov, L.BORDER_PROVINCES)
    pp = prov == 12
    strata_codes, stratum_index = np.unique(
        frame["stratum_id"].to_numpy(object), return_inverse=True
    )
    distress = rng.standard_normal(n)
    head_female = rng.random(n) < h.female_head_rate
    lam = np.where(urban, h.size_poisson_urban, h.size_poisson_rural)
    size = np.minimum(1 + rng.poisson(lam), 14).astype(np.int64)
    head_age_w1 = np.clip(np.round(rng.normal(46, 12, n)), 20, 85).astype(np.int64)
    landless = rng.random(n) < np.where(urban, h.landless_rate_urban, h.landless_rate_rural)
    land = np.round(np.exp(np.log(h.land_median_ha) + h.land_sigma * rng.standard_normal(n)), 2)
    title_rate = (
        pd.Series(prov).map({k: v.land_title_rate for k, v in p.provinces.items()}).to_numpy(float)
    )
    title = ~landless & (rng.random(n) < title_rate)
    e_perm = rng.standard_normal(n) * h.income_sigma * np.sqrt(h.income_persistent_share)
    durables = np.exp(np.log(h.durables_median_usd) + 0.6 * e_perm + 0.6 * rng.standard_normal(n))
    multiplier = (
        np.where(landless, p.effects.landless_multiplier, 1.0)
        * np.where(border, p.effects.border_multiplier, 1.0)
        * np.where(pp, p.effects.phnom_penh_multiplier, 1.0)
    )
    roster, n_eligible = _draw_roster(s, size, head_age_w1, head_female, urban)
    raw_id = (frame["psu_id"] + "-" + frame["hh_in_psu"].map("{:02d}".format)).to_numpy(object)
    return Households(
        frame=frame,
        n=n,
        urban=urban,
        prov=prov,
        border=border,
        pp=pp,
        prov_index=np.searchsorted(np.array(sorted(p.provinces)), prov),
        strata_codes=strata_codes,
        stratum_index=stratum_index,
        distress=distress,
        head_female=head_female,
        size=size,
        head_age_w1=head_age_w1,
        landless=landless,
        land=np.where(landless, 0.0, np.maximum(land, 0.05)),
        title=title,
        e_perm=e_perm,
        durables=durables,
        multiplier=multiplier,
        roster=roster,
        n_eligible=n_eligible,
        raw_id=raw_id,
        hid=np.array([pseudonymise(r, key) for r in raw_id], dtype=object),
        enum_seq=(frame["psu_seq"].to_numpy() - 1) % p.design.enumerators_per_province + 1,
        e_mfi=s("mfi_noise").standard_normal(n),
    )


# --------------------------------------------------------------------------------------------
# Programme and attrition
# --------------------------------------------------------------------------------------------


def _programme(
    p: SynthParams, s: Streams, hh: Households, w1: WaveDraw, responding: BoolArray
) -> BoolArray:
    """The livelihood programme: the top-scoring eligible households, up to its coverage."""
    g = p.programme
    rng = s("programme")
    eligible = np.isin(hh.prov, g.provinces) & ~hh.urban & responding
    low_income = w1.income < np.median(w1.income)
    wts = g.targeting_weights
    score = (
        wts["landless"] * hh.landless
        + wts["low_income"] * low_income
        + wts["intl_migrant"] * w1.intl
        + wts["risky_migration"] * w1.risky
        + wts["over_indebted"] * w1.over_indebted
        + g.targeting_noise_sd * rng.standard_normal(hh.n)
    )
    if g.unobserved_targeting_weight != 0:
        # scenario unobserved_targeting: local knowledge of hardship the survey never records
        score = score + g.unobserved_targeting_weight * hh.distress
    treated = np.zeros(hh.n, dtype=bool)
    idx = np.flatnonzero(eligible)
    n_treat = int(round(g.coverage * len(idx)))
    if n_treat:
        top = idx[np.argsort(-score[idx], kind="stable")[:n_treat]]
        treated[top] = True
    return treated


def _attrition(p: SynthParams, s: Streams, hh: Households, w1: WaveDraw) -> BoolArray:
    """Households not interviewed at wave 2 (migrant households more often)."""
    d = p.design
    x = np.log(d.attrition_migrant_ratio) * w1.intl
    a = _bisect_logit(x, d.attrition_rate)
    return s("attrition").random(hh.n) < expit(a + x)


def _attrition_on_outcome(
    p: SynthParams, s: Streams, hh: Households, w2: WaveDraw, programme: BoolArray
) -> BoolArray:
    """Households lost at wave 2 because of the wave-2 outcome (none in the default world).

    A household whose member left for abroad in the wave-2 reference year is not found with
    probability ``attrition_new_migrant_rate``, times ``attrition_programme_ratio`` for
    programme households (traced through the programme's lists).
    """
    d = p.design
    if d.attrition_new_migrant_rate == 0:
        return np.zeros(hh.n, dtype=bool)
    rate = d.attrition_new_migrant_rate * np.where(programme, d.attrition_programme_ratio, 1.0)
    return w2.y_new & (s("attrition_outcome").random(hh.n) < clip01(rate))


# --------------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------------


def _run(p: SynthParams, key: str) -> SyntheticSurvey:
    """Draw households, wave 1, the programme and attrition, wave 2; assemble tables and truth."""
    s = Streams(p.seed)
    hh = _draw_households(p, s, key)
    w1 = simulate_wave(p, s, hh, 1, None, np.zeros(hh.n, dtype=bool))
    attrited = _attrition(p, s, hh, w1)
    programme = _programme(p, s, hh, w1, ~attrited)
    w2 = simulate_wave(p, s, hh, 2, w1, programme)
    attrited = attrited | _attrition_on_outcome(p, s, hh, w2, programme)
    assign = Assignment(programme=programme, attrited=attrited)
    tables, latent, weights = build_tables(p, s, hh, w1, w2, assign)
    households = tables["households"]
    truth = build_truth(p, hh, w1, w2, assign, weights, households[households["wave"] == 2])
    keys = pd.DataFrame(
        {
            "hh": np.arange(hh.n),
            "household_id": hh.hid,
            "raw_household_id": hh.raw_id,
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
        params=p,
    )
