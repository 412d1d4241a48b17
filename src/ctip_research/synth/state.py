"""Typed state of the synthetic-survey generator, passed between its steps.

:class:`Households` is the fixed household draw (time-invariant characteristics, roster, ids),
:class:`WaveDraw` one wave's simulated arrays, :class:`Debt` the debt block evaluated at one MFI
status and :class:`PotentialOutcomes` the outcomes with an exposure switched (for the truth).
:class:`Assignment` holds what is decided between the waves (programme, attrition). The tables
(``synth/tables.py``) and the truth (``synth/truth.py``) read these, never the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.synth._random import BoolArray, FloatArray, IntArray

__all__ = ["Assignment", "Debt", "Episodes", "Households", "PotentialOutcomes", "WaveDraw"]

#: Columnar table of migration episodes or loans: column name -> array (one entry per row).
Episodes = dict[str, Any]


@dataclass(frozen=True)
class Households:
    """The fixed household draw: sample frame, time-invariant characteristics, roster and ids."""

    frame: pd.DataFrame
    n: int
    urban: BoolArray
    prov: IntArray
    border: BoolArray
    pp: BoolArray
    prov_index: IntArray
    strata_codes: np.ndarray
    stratum_index: IntArray
    distress: FloatArray
    head_female: BoolArray
    size: IntArray
    head_age_w1: IntArray
    landless: BoolArray
    land: FloatArray
    title: BoolArray
    e_perm: FloatArray
    durables: FloatArray
    multiplier: FloatArray
    roster: pd.DataFrame
    n_eligible: IntArray
    raw_id: np.ndarray
    hid: np.ndarray
    enum_seq: np.ndarray
    e_mfi: FloatArray


@dataclass(frozen=True)
class Debt:
    """Debt service, coping and over-indebtedness of every household at one MFI status."""

    informal: BoolArray
    dsr: FloatArray
    any_debt: BoolArray
    cope: dict[str, BoolArray]
    n_sacrifices: IntArray
    over_indebted: BoolArray


@dataclass(frozen=True)
class PotentialOutcomes:
    """Outcomes of one wave with an exposure switched, the same draws of everything else.

    ``*_d1``/``*_d0``: MFI loan or not (over-indebtedness re-evaluated); ``*_o1``/``*_o0``:
    over-indebted or not (MFI status as observed); ``*_g1``/``*_g0``: programme or not (wave 2
    only, else ``None``); ``ey_*``: effects on the probability; ``first_stage``: the instrument's
    effect (one sd) on the take-up probability.
    """

    y_d1: BoolArray
    y_d0: BoolArray
    y_o1: BoolArray
    y_o0: BoolArray
    risky_o1: BoolArray
    risky_o0: BoolArray
    ey_d: FloatArray
    ey_o: FloatArray
    first_stage: FloatArray
    o_d1: BoolArray
    o_d0: BoolArray
    risky_g1: BoolArray | None = None
    risky_g0: BoolArray | None = None
    intl_g1: BoolArray | None = None
    intl_g0: BoolArray | None = None


@dataclass(frozen=True)
class WaveDraw:
    """One wave's simulated arrays (one entry per household unless noted)."""

    t: int
    year: int
    shocks: dict[str, BoolArray]
    income_src: FloatArray  # (n, 5): farm, wages, business, other, remittances (USD)
    income: FloatArray
    d: BoolArray
    p_mfi: FloatArray
    density: FloatArray
    z: FloatArray
    loans_mfi: Episodes
    bank: BoolArray
    loans_bank: Episodes
    loans_inf: Episodes
    obs: Debt
    cope: dict[str, BoolArray]
    est: BoolArray
    n_est_intl: IntArray
    dom: BoolArray
    y_new: BoolArray
    intl: BoolArray
    attrs_new: dict[str, Any]
    est_ep: Episodes
    risky: BoolArray
    po: PotentialOutcomes
    intercepts: dict[str, Any]

    @property
    def over_indebted(self) -> BoolArray:
        """Observed over-indebtedness."""
        return self.obs.over_indebted


@dataclass(frozen=True)
class Assignment:
    """What is decided between the waves: the programme and wave-2 attrition."""

    programme: BoolArray
    attrited: BoolArray
