"""Unweighted support of published estimates: the counts the disclosure rules need.

A published estimate is safe only when enough units stand behind it. These functions count them
on the estimation sample, in the same way the estimators select it:

* :func:`estimation_sample`: the rows a model spec uses (its wave, sample query, complete cases;
  balanced households for the panel; the panel table for the programme kinds);
* :func:`dummy_support`: for every 0/1 regressor of a fitted model, the exposed and unexposed
  units that identify its coefficient (within the absorbed fixed-effect groups where it varies),
  and the cases and non-cases of a binary outcome among them;
* :func:`indicator_counts`: numerators and denominators of design-based indicator means by domain
  (the descriptive cells), with the levels :func:`~ctip_research.models.design_based.
  estimate_indicators` reports.

The counts go to :func:`ctip_research.disclosure.disclose`; they are never published themselves
unless they pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ctip_research.config.fit import DesignParams, ModelSpec
from ctip_research.disclosure import SUPPORT_COLUMNS
from ctip_research.models.econometric import regressor_frame
from ctip_research.models.specs import SpecError, select_sample

__all__ = ["dummy_support", "estimation_sample", "indicator_counts", "outcome_columns"]

#: Kinds fitted on the wide panel table (``<name>_w1`` / ``<name>_w2``).
_PANEL_TABLE_KINDS = ("did", "programme_adjusted")


def outcome_columns(spec: ModelSpec) -> list[str]:
    """The outcome column(s) of ``spec`` in its analysis table.

    Examples
    --------
    >>> from ctip_research.config.fit import ModelSpec
    >>> s = ModelSpec(name="d", kind="did", label="DiD", outcome="y", exposure="t", controls=[],
    ...               fixed_effects=[], cluster=None, weights=None, wave=None, sample=None,
    ...               instruments=[], link=None, headline=False)
    >>> outcome_columns(s)
    ['y_w1', 'y_w2']
    """
    if spec.kind in _PANEL_TABLE_KINDS:
        return [f"{spec.outcome}_w1", f"{spec.outcome}_w2"]
    return [spec.outcome]


def estimation_sample(
    data: pd.DataFrame,
    spec: ModelSpec,
    *,
    design: DesignParams | None = None,
    unit: str = "household_id",
    entity: str = "household_id",
    time: str = "wave",
) -> pd.DataFrame:
    """The rows ``spec`` is estimated on, with ``unit`` kept when ``data`` has it.

    The same selection as the estimators: :func:`~ctip_research.models.specs.select_sample`
    (a survey GLM with the design's weight and PSU columns), households observed in every wave
    for kind ``panel``, complete cases of the ``_w1``/``_w2`` columns for the programme kinds.
    """
    extra = [unit] if unit in data.columns else []
    if spec.kind in _PANEL_TABLE_KINDS:
        cols = [*outcome_columns(spec), spec.exposure, *spec.controls, *spec.fixed_effects]
        cols += [c for c in (spec.cluster, spec.weights) if c]
        cols += extra
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise SpecError(f"model {spec.name}: columns not in the panel table: {missing}")
        df = data.query(spec.sample) if spec.sample else data
        return df.loc[:, list(dict.fromkeys(cols))].dropna().reset_index(drop=True)
    if spec.kind == "survey_glm" and design is not None:
        spec = spec.model_copy(update={"cluster": design.psu, "weights": design.weight})
    if spec.kind == "panel":
        df = select_sample(data, spec, extra=list(dict.fromkeys([*extra, entity, time])))
        counts = df.groupby(entity)[time].transform("nunique")
        return df.loc[counts == df[time].nunique()].reset_index(drop=True)
    return select_sample(data, spec, extra=extra)


def _is_binary(s: pd.Series) -> bool:
    v = pd.to_numeric(s, errors="coerce").dropna().unique()
    return len(v) > 0 and set(np.asarray(v, dtype=float).tolist()) <= {0.0, 1.0}


def _varies_within(x: pd.Series, groups: Sequence[pd.Series]) -> np.ndarray:
    """Rows whose every group (of every absorbed effect) holds both values of ``x``."""
    keep = np.ones(len(x), dtype=bool)
    for g in groups:
        spread = x.groupby(g.to_numpy()).transform("nunique").to_numpy()
        keep &= spread > 1
    return keep


def dummy_support(
    sample: pd.DataFrame,
    spec: ModelSpec,
    *,
    terms: Sequence[str],
    outcome_is_trafficking: bool,
    unit: str = "household_id",
    absorbed: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Units behind every 0/1 regressor among ``terms``: one row per (term, cell).

    Cells: ``exposed`` / ``unexposed`` units (value 1 / 0), and for each binary outcome column
    ``<outcome>=1 & exposed`` ... (cases and non-cases among the exposed and the unexposed). Only
    units in absorbed fixed-effect groups where the regressor varies count (the coefficient is
    identified there alone; for the household panel: the households whose exposure changed).
    Case cells are marked ``is_trafficking`` when ``outcome_is_trafficking``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~ctip_research.disclosure.SUPPORT_COLUMNS`.

    Examples
    --------
    >>> from ctip_research.config.fit import ModelSpec
    >>> s = ModelSpec(name="m", kind="fixed_effects", label="m", outcome="y", exposure="x",
    ...               controls=[], fixed_effects=[], cluster=None, weights=None, wave=None,
    ...               sample=None, instruments=[], link=None, headline=False)
    >>> df = pd.DataFrame({"y": [1, 0, 0, 1, 0, 0], "x": [1, 1, 0, 0, 0, 0]})
    >>> dummy_support(df, s, terms=["x"], outcome_is_trafficking=True)["n_units"].tolist()
    [2, 4, 1, 1, 1, 3]
    """
    if absorbed is None:
        absorbed = list(spec.fixed_effects)
        if spec.kind == "panel":
            absorbed = list(dict.fromkeys(["household_id", "wave", *absorbed]))
    absorbed = [a for a in absorbed if a in sample.columns]
    names = [t for t in terms if t in sample.columns]
    x_all = regressor_frame(sample, names) if names else pd.DataFrame(index=sample.index)
    units = sample[unit] if unit in sample.columns else pd.Series(sample.index, index=sample.index)
    outcomes = [c for c in outcome_columns(spec) if c in sample.columns]
    binary_outcomes = {
        c: pd.to_numeric(sample[c].astype("Float64"), errors="coerce") for c in outcomes
    }
    binary_outcomes = {c: v for c, v in binary_outcomes.items() if _is_binary(v)}
    groups = [sample[a] for a in absorbed]
    rows: list[dict[str, object]] = []
    for term in x_all.columns:
        x = x_all[term]
        if not _is_binary(x):
            continue
        contributing = _varies_within(x, groups) if groups else np.ones(len(x), dtype=bool)
        xv = x.to_numpy(dtype=float)

        def n(mask: np.ndarray, keep: np.ndarray = contributing) -> int:
            return int(units[mask & keep].nunique())

        rows.append(
            {"term": term, "cell": "exposed", "n_units": n(xv == 1), "is_trafficking": False}
        )
        rows.append(
            {"term": term, "cell": "unexposed", "n_units": n(xv == 0), "is_trafficking": False}
        )
        for col, y in binary_outcomes.items():
            if col == term:  # the baseline outcome as a regressor: its own cells are structural
                continue
            yv = y.to_numpy(dtype=float, na_value=np.nan)
            for xval, xname in ((1, "exposed"), (0, "unexposed")):
                rows.append(
                    {
                        "term": term,
                        "cell": f"{col}=1 & {xname}",
                        "n_units": n((xv == xval) & (yv == 1)),
                        "is_trafficking": outcome_is_trafficking,
                    }
                )
                rows.append(
                    {
                        "term": term,
                        "cell": f"{col}=0 & {xname}",
                        "n_units": n((xv == xval) & (yv == 0)),
                        "is_trafficking": False,
                    }
                )
    out = pd.DataFrame(rows, columns=[c for c in SUPPORT_COLUMNS if c != "model"])
    out.insert(0, "model", spec.name)
    return out.astype({"n_units": "int64", "is_trafficking": bool})


def indicator_counts(
    data: pd.DataFrame, *, indicators: Sequence[str], domains: Sequence[str]
) -> pd.DataFrame:
    """Unweighted numerator (indicator = 1) and denominator (non-missing) of every descriptive
    cell: overall (``domain = level = "all"``) and by each domain variable's level.

    Indicators are read as floats, as :func:`~ctip_research.models.design_based.
    estimate_indicators` reads them, so the domain levels print the same (``"1.0"`` for a 0/1
    domain that is also an indicator; ``"12"`` for a province code).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1, 0, 1, None], "g": [1, 1, 2, 2]})
    >>> indicator_counts(df, indicators=["y"], domains=["g"])[["level", "n_numerator",
    ...                                                          "n_denominator"]].values.tolist()
    [['all', 2, 3], ['1', 1, 2], ['2', 1, 1]]
    """
    frame = data.copy()
    for col in indicators:
        frame[col] = frame[col].astype("float")
    rows = []
    for ind in indicators:
        y = frame[ind].to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(y)
        rows.append(
            {
                "indicator": ind,
                "domain": "all",
                "level": "all",
                "n_numerator": int((ok & (y == 1)).sum()),
                "n_denominator": int(ok.sum()),
            }
        )
        for dom in domains:
            for level, idx in frame.groupby(
                dom, sort=True, observed=True, dropna=True
            ).indices.items():
                mask = np.zeros(len(frame), dtype=bool)
                mask[idx] = True
                rows.append(
                    {
                        "indicator": ind,
                        "domain": dom,
                        "level": str(level),
                        "n_numerator": int((mask & ok & (y == 1)).sum()),
                        "n_denominator": int((mask & ok).sum()),
                    }
                )
    return pd.DataFrame(rows)
