"""Household rosters: relations, sex, age and schooling of every usual member."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip_research.synth._random import BoolArray, FloatArray, IntArray, categorical_from_uniform

__all__ = ["draw_roster"]

_OTHER_RELATIONS = ("child", "grandchild", "parent", "sibling", "other_relative", "non_relative")
_OTHER_PROBS = (0.76, 0.10, 0.05, 0.04, 0.04, 0.01)


def draw_roster(
    rng: np.random.Generator,
    size: IntArray,
    head_age: IntArray,
    head_female: BoolArray,
    urban: BoolArray,
) -> pd.DataFrame:
    """Draw the members of each household (wave-1 ages).

    Returns one row per member with ``hh`` (household index), ``member_id`` (1 = head),
    ``relation_to_head``, ``sex``, ``age_w1`` and ``educ_years_w1``.
    """
    n_hh = len(size)
    hh = np.repeat(np.arange(n_hh), size)
    start = np.repeat(np.cumsum(size) - size, size)
    member_id = np.arange(len(hh)) - start + 1
    n = len(hh)
    u_rel = rng.random(n)
    u_sp = rng.random(n)
    p_spouse = np.where(head_female[hh], 0.30, 0.92)
    rel_idx = categorical_from_uniform(u_rel, _OTHER_PROBS)
    relation = np.asarray(_OTHER_RELATIONS, dtype=object)[rel_idx]
    relation = np.where((member_id == 2) & (u_sp < p_spouse), "spouse", relation)
    relation = np.where(member_id == 1, "head", relation)
    h_age = head_age[hh].astype(float)
    age_draw: FloatArray = np.select(
        [
            relation == "head",
            relation == "spouse",
            relation == "child",
            relation == "grandchild",
            relation == "parent",
            relation == "sibling",
        ],
        [
            h_age,
            h_age + rng.normal(-3, 4, n),
            h_age - rng.uniform(18, 42, n),
            rng.uniform(0, 14, n),
            h_age + rng.uniform(20, 30, n),
            h_age + rng.normal(0, 6, n),
        ],
        default=rng.uniform(5, 60, n),
    )
    age = np.clip(np.round(age_draw), 0, 98).astype(np.int64)
    female_other = rng.random(n) < 0.5
    sex_female = np.where(
        relation == "head",
        head_female[hh],
        np.where(relation == "spouse", ~head_female[hh], female_other),
    )
    max_educ = np.clip(age - 6, 0, None)
    educ_mean = 4.5 + 3.0 * urban[hh]
    educ = np.minimum(np.clip(np.round(rng.normal(educ_mean, 3.0, n)), 0, 18), max_educ)
    return pd.DataFrame(
        {
            "hh": hh,
            "member_id": member_id,
            "relation_to_head": relation,
            "sex": np.where(sex_female, "female", "male"),
            "age_w1": age,
            "educ_years_w1": educ.astype(np.int64),
        }
    )
