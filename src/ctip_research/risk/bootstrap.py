"""Rao-Wu (rescaling) bootstrap of PSUs within strata, for the intervals of the risk metrics.

In each stratum ``n_h - 1`` PSUs are drawn with replacement and the weights rescaled by
``n_h / (n_h - 1)`` times the multiplicity; each replicate has its own seed, so a result does not
depend on how the replicates are spread over workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.risk.folds import psu_keys

__all__ = ["rao_wu_factors"]

FloatArray = np.ndarray


@dataclass(frozen=True)
class _PsuDesign:
    """PSU key of each household and the PSU keys of each stratum (for fast replicate draws)."""

    keys: np.ndarray
    n_psu: int
    strata: list[np.ndarray]

    @classmethod
    def build(
        cls, psu: Sequence[Any] | pd.Series, stratum: Sequence[Any] | pd.Series
    ) -> _PsuDesign:
        keys = psu_keys(psu, stratum)
        n_psu = int(keys.max()) + 1 if keys.size else 0
        labels = pd.Series(stratum).astype("string").fillna("<NA>").to_numpy()
        first = np.zeros(n_psu, dtype=np.intp)
        first[keys[::-1]] = np.arange(keys.size)[::-1]
        key_stratum = labels[first]
        strata = [np.flatnonzero(key_stratum == h) for h in sorted(set(key_stratum.tolist()))]
        return cls(keys=keys, n_psu=n_psu, strata=strata)

    def factors(self, seed: int | np.random.SeedSequence) -> FloatArray:
        rng = np.random.default_rng(seed)
        factor_by_key = np.ones(self.n_psu)
        for psus in self.strata:
            n_h = psus.size
            if n_h < 2:
                continue
            counts = np.bincount(rng.integers(0, n_h, size=n_h - 1), minlength=n_h)
            factor_by_key[psus] = counts * n_h / (n_h - 1)
        return factor_by_key[self.keys]


def rao_wu_factors(
    psu: Sequence[Any] | pd.Series,
    stratum: Sequence[Any] | pd.Series,
    *,
    seed: int | np.random.SeedSequence,
) -> FloatArray:
    """Weight factors of one Rao-Wu rescaling bootstrap replicate.

    In each stratum with ``n_h >= 2`` PSUs, ``n_h - 1`` PSUs are drawn with replacement and a
    household's factor is ``n_h / (n_h - 1)`` times its PSU's draw count; strata with one PSU keep
    factor 1 (they contribute no between-PSU variance). All households of a PSU share its factor.

    Examples
    --------
    >>> f = rao_wu_factors([1, 1, 2, 2, 3, 3], [1] * 6, seed=0)
    >>> float(f.reshape(3, 2).std(axis=1).max()), float(f.sum())
    (0.0, 6.0)
    """
    return _PsuDesign.build(psu, stratum).factors(seed)
