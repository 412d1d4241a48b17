"""Named, independent random streams and small vectorised helpers of the generator."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, ndtr

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class Streams:
    """One numpy Generator per named component, all derived from the seed.

    A component's draws depend only on the seed and the component's name, so adding draws to
    one component does not change the draws of another (stable generation while the model
    grows).

    Examples
    --------
    >>> s = Streams(1)
    >>> float(s("a").random()) == float(Streams(1)("a").random())
    True
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def __call__(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode("utf-8"))])


def clip01(p: FloatArray) -> FloatArray:
    """Clip probabilities to [0, 1]."""
    return np.clip(p, 0.0, 1.0)


def solve_intercepts(
    x: FloatArray,
    groups: IntArray,
    targets: FloatArray,
    *,
    transform: Callable[[FloatArray], FloatArray] | None = None,
    iterations: int = 60,
) -> FloatArray:
    """Per group g, find ``a_g`` with ``mean(transform(clip01(a_g + x)))`` over the group = target.

    Bisection on [-1.5, 1.5], vectorised over groups (``groups`` are codes 0..G-1). ``transform``
    maps the clipped probability to the quantity whose mean is targeted (identity by default).
    """
    n_groups = len(targets)
    lo = np.full(n_groups, -1.5)
    hi = np.full(n_groups, 1.5)
    counts = np.bincount(groups, minlength=n_groups).astype(float)
    counts[counts == 0] = 1.0
    for _ in range(iterations):
        mid = (lo + hi) / 2
        p = clip01(mid[groups] + x)
        if transform is not None:
            p = transform(p)
        mean = np.bincount(groups, weights=p, minlength=n_groups) / counts
        too_high = mean > targets
        hi = np.where(too_high, mid, hi)
        lo = np.where(too_high, lo, mid)
    out: FloatArray = (lo + hi) / 2
    return out


def choice(
    rng: np.random.Generator, options: Sequence[str], probs: Sequence[float], n: int
) -> NDArray[np.object_]:
    """Draw ``n`` labels with the given probabilities (renormalised)."""
    p = np.asarray(probs, dtype=float)
    idx = rng.choice(len(options), size=n, p=p / p.sum())
    return np.asarray(options, dtype=object)[idx]


def categorical_from_uniform(u: FloatArray, probs: Sequence[float]) -> IntArray:
    """Category index of uniform draws ``u`` under the (renormalised) probabilities."""
    p = np.asarray(probs, dtype=float)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0 + 1e-12
    out: IntArray = np.searchsorted(cum, u, side="right").astype(np.int64)
    return out


def within_group_rank(groups: IntArray, key: FloatArray) -> IntArray:
    """0-based rank of ``key`` within each group (groups need not be sorted)."""
    order = np.lexsort((key, groups))
    g_sorted = groups[order]
    start = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    first = np.repeat(start, np.diff(np.r_[start, len(g_sorted)]))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups)) - first
    return rank


def annuity(principal: FloatArray, annual_rate: FloatArray, term_months: FloatArray) -> FloatArray:
    """Monthly instalment of an amortising loan (zero rate: principal / term)."""
    r = annual_rate / 12.0
    term = np.maximum(term_months, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pay = np.where(r > 0, principal * r / (1.0 - (1.0 + r) ** (-term)), principal / term)
    out: FloatArray = pay
    return out


def balance_after(
    principal: FloatArray, annual_rate: FloatArray, instalment: FloatArray, months: FloatArray
) -> FloatArray:
    """Outstanding balance of an annuity loan after ``months`` payments."""
    r = annual_rate / 12.0
    grow = (1.0 + r) ** months
    with np.errstate(divide="ignore", invalid="ignore"):
        bal = np.where(
            r > 0, principal * grow - instalment * (grow - 1.0) / r, principal - instalment * months
        )
    out: FloatArray = np.maximum(bal, 0.0)
    return out


__all__ = [
    "BoolArray",
    "FloatArray",
    "IntArray",
    "Streams",
    "annuity",
    "balance_after",
    "categorical_from_uniform",
    "choice",
    "clip01",
    "expit",
    "ndtr",
    "solve_intercepts",
    "within_group_rank",
]
