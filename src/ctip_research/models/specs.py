"""Model specifications: declared in ``params.yaml`` (``fit.models``), applied to data here.

:class:`ModelSpec` is the validated params model (defined in :mod:`ctip_research.config.fit`);
this module turns a spec and an analysis table into the estimation sample.
"""

from __future__ import annotations

import pandas as pd

from ctip_research.config.fit import DesignParams, ModelSpec
from ctip_research.errors import CtipError

__all__ = ["DesignParams", "ModelSpec", "SpecError", "select_sample", "spec_columns"]


class SpecError(CtipError):
    """A model spec does not fit the data (unknown column, empty sample, too few residual df)."""

    exit_code = 18


def spec_columns(spec: ModelSpec) -> list[str]:
    """Every column a household-level spec uses (outcome, exposure, controls, FE, cluster, ...).

    Examples
    --------
    >>> from ctip_research.config.fit import ModelSpec
    >>> s = ModelSpec(name="m", kind="fixed_effects", label="FE", outcome="y", exposure="x",
    ...               controls=["c"], fixed_effects=["v"], cluster="v", weights=None, wave=None,
    ...               sample=None, instruments=[], link=None, headline=False)
    >>> spec_columns(s)
    ['y', 'x', 'c', 'v']
    """
    cols = [spec.outcome, spec.exposure, *spec.controls, *spec.fixed_effects, *spec.instruments]
    for extra in (spec.cluster, spec.weights):
        if extra:
            cols.append(extra)
    return list(dict.fromkeys(cols))


def select_sample(
    data: pd.DataFrame, spec: ModelSpec, *, extra: list[str] | None = None
) -> pd.DataFrame:
    """Rows of ``data`` used by ``spec``: its wave, its sample query, complete cases.

    Raises
    ------
    SpecError
        If a column is missing or the sample is empty.
    """
    cols = spec_columns(spec) + list(extra or [])
    cols = list(dict.fromkeys(cols))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise SpecError(f"model {spec.name}: columns not in the analysis table: {missing}")
    df = data
    if spec.wave is not None:
        if "wave" not in df.columns:
            raise SpecError(f"model {spec.name}: wave {spec.wave} requested but no 'wave' column")
        df = df.loc[df["wave"] == spec.wave]
    if spec.sample:
        try:
            df = df.query(spec.sample)
        except Exception as exc:  # pandas raises many types for a bad expression
            raise SpecError(f"model {spec.name}: sample query failed: {exc}") from None
    keep = [c for c in dict.fromkeys([*cols, *(["wave"] if "wave" in df.columns else [])])]
    out = df.loc[:, keep].dropna().reset_index(drop=True)
    if out.empty:
        raise SpecError(f"model {spec.name}: empty estimation sample")
    return out
