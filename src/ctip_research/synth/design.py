"""The sampling design of the synthetic survey: frame, PPS draw of villages, base weights.

Strata are province x urban/rural (sampling design, ``docs/synthetic.md``). Each stratum's frame is a
list of villages whose sizes (households) are lognormal and add up to the stratum's Census 2019
household total. Villages (PSUs) are drawn by systematic PPS; a village larger than the sampling
interval can be hit more than once, and each hit is its own PSU (segment), as in the CSES. In each
PSU 16-20 households are drawn by simple random sampling, so the base weight of a household is
``M_s / (n_s * m_v)`` (stratum households / (PSUs drawn x households drawn in the PSU)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ctip_research.config.synth import SynthParams
from ctip_research.synth._random import Streams

__all__ = ["FRAME_VILLAGES_PER_PSU", "draw_sample", "stratum_id"]

#: Smallest ratio of frame villages to PSUs drawn in a stratum.
FRAME_VILLAGES_PER_PSU = 2


def stratum_id(province_code: int, is_urban: bool) -> str:
    """The canonical stratum id, e.g. ``'02-R'``.

    Examples
    --------
    >>> stratum_id(2, False)
    '02-R'
    """
    return f"{province_code:02d}-{'U' if is_urban else 'R'}"


def draw_sample(params: SynthParams, streams: Streams) -> pd.DataFrame:
    """Draw the wave-1 sample: one row per household with its design variables.

    Returns columns ``province_code``, ``is_urban``, ``stratum_id``, ``psu_id``, ``psu_seq``,
    ``n_psu_stratum`` (villages in the stratum frame), ``district_code``, ``commune_code``,
    ``village_code``, ``village_households``, ``hh_in_psu`` (1-based line in the PSU),
    ``m_psu`` (households drawn in the PSU), ``base_weight``, ``commune_key`` (unique commune
    index), ``dist_mfi_branch_km`` and ``branch_density_w1`` / ``branch_density_w2``.
    """
    rng = streams("design")
    rng_inst = streams("instrument")
    rng_frame = streams("design_frame_growth")
    rows: list[pd.DataFrame] = []
    commune_offset = 0
    for prov in sorted(params.provinces):
        cal = params.provinces[prov]
        district_offset = 0
        for is_urban in (True, False):
            share = cal.urban_share if is_urban else 1.0 - cal.urban_share
            hh_total = cal.census_households * share
            n_target = int(round(params.design.households_per_province * share))
            if hh_total < 1 or n_target < 1:
                continue
            pps = _pps_draw(params, rng, rng_frame, is_urban, hh_total, n_target)
            psu, n_districts, n_communes = _stratum_psus(
                params, pps, rng_inst, prov, is_urban, district_offset, commune_offset
            )
            district_offset += n_districts
            commune_offset += n_communes
            hh = psu.loc[psu.index.repeat(psu["m_psu"])].reset_index(drop=True)
            hh["hh_in_psu"] = hh.groupby("psu_id", sort=False).cumcount() + 1
            rows.append(hh)
    out = pd.concat(rows, ignore_index=True)
    out["dist_mfi_branch_km"] = np.maximum(out["dist_mfi_branch_km"], 0.1)
    return out


@dataclass(frozen=True)
class _PpsDraw:
    """One stratum's village frame and its systematic PPS draw of PSUs."""

    sizes: np.ndarray
    n_frame: int
    n_psu: int
    village: np.ndarray
    m_psu: np.ndarray
    m_total: float


def _pps_draw(
    params: SynthParams,
    rng: np.random.Generator,
    rng_frame: np.random.Generator,
    is_urban: bool,
    hh_total: float,
    n_target: int,
) -> _PpsDraw:
    """Draw a stratum's frame of village sizes, its PSUs (systematic PPS) and their takes."""
    d = params.design
    mean_size = d.mean_village_households_urban if is_urban else d.mean_village_households_rural
    mean_take = (d.households_per_village_min + d.households_per_village_max) / 2
    n_psu = max(1, int(round(n_target / mean_take)))
    # The frame grows with the sample (benchmarks at census size): at least
    # FRAME_VILLAGES_PER_PSU villages per PSU drawn, so n_psu_stratum (the FPC) always
    # exceeds the PSUs drawn; the default sizes are far below this bound. The added
    # villages come from their own stream, so the other strata keep their draws.
    n_census = max(1, int(round(hh_total / mean_size)))
    n_frame = max(n_census, FRAME_VILLAGES_PER_PSU * n_psu)
    sizes = rng.lognormal(0.0, d.village_size_sigma, n_census)
    if n_frame > n_census:
        extra = rng_frame.lognormal(0.0, d.village_size_sigma, n_frame - n_census)
        sizes = np.concatenate([sizes, extra])
    sizes = np.maximum(np.round(sizes / sizes.sum() * hh_total), 20.0)
    m_total = float(sizes.sum())
    interval = m_total / n_psu
    points = rng.uniform(0, interval) + interval * np.arange(n_psu)
    village = np.searchsorted(np.cumsum(sizes), points, side="right")
    village = np.minimum(village, n_frame - 1)
    m_psu = rng.integers(d.households_per_village_min, d.households_per_village_max + 1, n_psu)
    return _PpsDraw(sizes, n_frame, n_psu, village, m_psu, m_total)


def _stratum_psus(
    params: SynthParams,
    pps: _PpsDraw,
    rng_inst: np.random.Generator,
    prov: int,
    is_urban: bool,
    district_offset: int,
    commune_offset: int,
) -> tuple[pd.DataFrame, int, int]:
    """One row per PSU drawn, with geography and instrument; also the districts and communes."""
    d = params.design
    c = params.credit
    village, n_frame, n_psu = pps.village, pps.n_frame, pps.n_psu
    # Geography: villages -> communes -> districts (urban districts first).
    commune_local = village // d.villages_per_commune
    district_local = commune_local // d.communes_per_district
    n_districts = int(((n_frame - 1) // d.villages_per_commune) // d.communes_per_district) + 1
    district_code = prov * 100 + district_offset + district_local + 1
    commune_code = district_code * 100 + (commune_local % d.communes_per_district) + 1
    village_code = commune_code * 100 + (village % d.villages_per_commune) + 1
    # The instrument: commune branch density (changes between waves) and village distance.
    n_communes = int(commune_local.max()) + 1
    z_commune = rng_inst.standard_normal(n_communes)
    density_w1 = np.maximum(
        0.05,
        c.branch_density_mean
        + c.branch_density_urban_shift * is_urban
        + c.branch_density_sd * z_commune,
    )
    density_w2 = np.maximum(
        0.05,
        density_w1
        + rng_inst.normal(c.branch_density_growth_mean, c.branch_density_growth_sd, n_communes),
    )
    e_dist = rng_inst.standard_normal(n_psu)
    log_dist = np.log(c.distance_median_km) + c.distance_sigma * (
        -0.4 * z_commune[commune_local] + np.sqrt(1 - 0.16) * e_dist
    )
    psu = pd.DataFrame(
        {
            "province_code": prov,
            "is_urban": is_urban,
            "stratum_id": stratum_id(prov, is_urban),
            "psu_seq": np.arange(1, n_psu + 1),
            "n_psu_stratum": n_frame,
            "district_code": district_code,
            "commune_code": commune_code,
            "village_code": village_code,
            "village_households": pps.sizes[village].astype(np.int64),
            "m_psu": pps.m_psu,
            "base_weight": pps.m_total / (n_psu * pps.m_psu),
            "commune_key": commune_offset + commune_local,
            "dist_mfi_branch_km": np.round(np.exp(log_dist), 1),
            "branch_density_w1": np.round(density_w1[commune_local], 2),
            "branch_density_w2": np.round(density_w2[commune_local], 2),
        }
    )
    psu["psu_id"] = [f"{stratum_id(prov, is_urban)}-{k:03d}" for k in psu["psu_seq"]]
    return psu, n_districts, n_communes
