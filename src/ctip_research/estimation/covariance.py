"""Covariance matrices of linear and maximum-likelihood estimators, with named conventions.

Types (``vcov=``), as fixest / pyfixest spell them:

- ``"iid"``: classical, ``s^2 (X'WX)^-1`` with ``s^2 = sum w e^2 / (N - K)``;
- ``"HC0"`` ... ``"HC3"`` (``"hetero"`` = ``"HC1"``): White's sandwich with MacKinnon-White's
  scalings (HC1: ``N / (N - K)``; HC2: ``e^2 / (1 - h)``; HC3: ``e^2 / (1 - h)^2``);
- ``{"CRV1": "g"}``: one-way cluster-robust (Liang-Zeger); ``{"CRV1": "g1 + g2"}``: two-way
  (Cameron, Gelbach & Miller 2011: ``V_1 + V_2 - V_12``, ``V_12`` clustered on the
  intersection).

Small-sample corrections (``ssc=``), each named after the software whose numbers it reproduces:

===========  =====================================================================================
``stata``     Stata ``regress`` / ``xtreg, fe`` / ``ivregress, small`` (the default). K counts every
              estimated coefficient, the constant included; absorbed effects nested in a cluster
              variable are not counted (``xtreg, fe vce(cluster)``), other absorbed effects count
              as their dummies. HC1 ``N/(N-K)``; CRV1 ``G/(G-1) (N-1)/(N-K)``; two-way: each term
              with its own ``G_i/(G_i-1)`` (CGM; Stata ``cluster2``, R ``multiwayvcov``).
``fixest``    R fixest / pyfixest defaults (``ssc(K.adj=TRUE, K.fixef="nonnested", G.adj=TRUE,
              G.df="min")``): K as ``stata``; two-way: every term scaled by
              ``min(G)/(min(G)-1)``.
``reghdfe``   Stata ``reghdfe``: fixest states that its defaults reproduce reghdfe, one- and
              multi-way; the same numbers as ``fixest``.
``regress``   every absorbed effect counted in K even when nested in the clusters, as when the
              effects enter Stata ``regress`` as dummies (R ``lm`` + ``sandwich::vcovCL``,
              fixest ``K.fixef="full"``).
``none``      no correction: HC0, CRV0, ``s^2 = e'e / N``.
===========  =====================================================================================

Maximum-likelihood models (logit, probit) follow Stata's ``_robust``: ``vce(robust)`` scales the
sandwich by ``N/(N-1)``, ``vce(cluster)`` by ``G/(G-1)`` (``none``: no scaling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ctip_research.estimation.results import EstimationError

__all__ = [
    "SSC_CONVENTIONS",
    "ClusterSpec",
    "SmallSample",
    "VcovRequest",
    "parse_vcov",
]

SscName = Literal["stata", "fixest", "reghdfe", "regress", "none"]


@dataclass(frozen=True)
class SmallSample:
    """A named small-sample convention (see the module docstring)."""

    name: str
    k_adj: bool
    absorbed_nested_counted: bool
    g_adj: bool
    g_df: Literal["conventional", "min"]


SSC_CONVENTIONS: dict[str, SmallSample] = {
    "stata": SmallSample("stata", True, False, True, "conventional"),
    "fixest": SmallSample("fixest", True, False, True, "min"),
    "reghdfe": SmallSample("reghdfe", True, False, True, "min"),
    "regress": SmallSample("regress", True, True, True, "conventional"),
    "none": SmallSample("none", False, False, False, "conventional"),
}


@dataclass(frozen=True)
class ClusterSpec:
    """Cluster variables of a cluster-robust covariance (one or two)."""

    columns: tuple[str, ...]


@dataclass(frozen=True)
class VcovRequest:
    """A parsed ``vcov=`` argument: ``kind`` is iid, HC0..HC3 or CRV1."""

    kind: str
    clusters: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Short label: ``iid``, ``HC1``, ``CRV1 by psu_id`` ..."""
        if self.kind == "CRV1":
            return "CRV1 by " + " & ".join(self.clusters)
        return self.kind


def parse_vcov(vcov: Any) -> VcovRequest:
    """Read a ``vcov=`` argument (``"iid"``, ``"hetero"``, ``"HC0"``..``"HC3"``,
    ``{"CRV1": "g"}``, ``{"CRV1": "g1 + g2"}`` or ``{"CRV1": ["g1", "g2"]}``).

    Examples
    --------
    >>> parse_vcov({"CRV1": "firm + year"}).clusters
    ('firm', 'year')
    >>> parse_vcov("hetero").kind
    'HC1'
    """
    if vcov is None:
        return VcovRequest("iid")
    if isinstance(vcov, str):
        kind = {"hetero": "HC1", "robust": "HC1", "classical": "iid"}.get(vcov, vcov)
        if kind not in ("iid", "HC0", "HC1", "HC2", "HC3"):
            raise EstimationError(
                f"vcov {vcov!r} is not one of iid, hetero, HC0, HC1, HC2, HC3 or "
                "{'CRV1': 'cluster column'}"
            )
        return VcovRequest(kind)
    if isinstance(vcov, dict) and len(vcov) == 1:
        ((key, value),) = vcov.items()
        if key not in ("CRV1", "cluster"):
            raise EstimationError(f"vcov {vcov!r}: only CRV1 clustering is available")
        cols = [c.strip() for c in value.split("+")] if isinstance(value, str) else list(value)
        cols = [c for c in cols if c]
        if not 1 <= len(cols) <= 2:
            raise EstimationError("CRV1 takes one or two cluster columns")
        return VcovRequest("CRV1", tuple(cols))
    raise EstimationError(f"cannot read vcov={vcov!r}")


def group_codes(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer codes 0..G-1 of a cluster or effect column."""
    return np.asarray(pd.factorize(np.asarray(values), sort=False)[0], dtype=np.intp)
