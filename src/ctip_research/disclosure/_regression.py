"""Rules for regression estimates: residual df, clusters, observations, units behind a dummy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.disclosure._common import REGRESSION_BLANKED, check, header
from ctip_research.disclosure._frames import record_level_problems, upstream_check
from ctip_research.disclosure._policy import DisclosurePolicy
from ctip_research.errors import DisclosureError

#: Columns of a support table: units behind each cell of a dummy regressor.
SUPPORT_COLUMNS = ("model", "term", "cell", "n_units", "is_trafficking")


def _model_failures(g: pd.DataFrame, policy: DisclosurePolicy) -> list[str]:
    """The model-level rules one model breaks (names only: a record never prints a count)."""
    failures: list[str] = []
    n_obs = float(pd.to_numeric(g["n_obs"], errors="coerce").min())
    if "df_resid" in g.columns and g["df_resid"].notna().any():
        df_resid = float(pd.to_numeric(g["df_resid"], errors="coerce").min())
    else:
        df_resid = n_obs - len(g)
    if not df_resid >= policy.min_residual_df:
        failures.append("residual_df")
    if "n_psu" in g.columns:
        n_psu = float(pd.to_numeric(g["n_psu"], errors="coerce").min())
        if not math.isnan(n_psu) and not n_psu - 1 >= policy.min_residual_df:
            failures.append("cluster_df")
    if not n_obs >= policy.min_cell_count:
        failures.append("min_obs")
    return failures


def _thin_terms(support: pd.DataFrame | None, policy: DisclosurePolicy) -> set[tuple[str, str]]:
    """(model, term) of every dummy regressor with a cell under its minimum."""
    if support is None or support.empty:
        return set()
    need = np.where(
        support["is_trafficking"].astype(bool).to_numpy(),
        policy.min_cell_count_trafficking,
        policy.min_cell_count,
    )
    thin = support.loc[~(support["n_units"].to_numpy(dtype=float) >= need)]
    return {(str(m), str(t)) for m, t in zip(thin["model"], thin["term"], strict=True)}


@dataclass(frozen=True)
class _Table:
    """A regression table with its model labels, earlier suppressions and thin dummy rows."""

    work: pd.DataFrame
    gated: bool
    label: pd.Series
    already: np.ndarray
    term_of: pd.Series
    model_of: pd.Series
    is_thin: np.ndarray
    models: list[str]


def _check_tables(estimates: pd.DataFrame, name: str, support: pd.DataFrame | None) -> None:
    """The estimates have n_obs and the support table has its columns."""
    if "n_obs" not in estimates.columns:
        raise DisclosureError(f"regression table {name!r} has no n_obs column")
    if support is not None:
        missing = [c for c in SUPPORT_COLUMNS if c not in support.columns]
        if missing:
            raise DisclosureError(f"support table of {name!r} lacks {missing}")


def _prepare_table(
    estimates: pd.DataFrame,
    policy: DisclosurePolicy,
    name: str,
    support: pd.DataFrame | None,
    model_columns: Sequence[str],
) -> _Table:
    """Label every row with its model and flag thin dummies and earlier suppressions."""
    work = estimates.reset_index(drop=True).copy()
    gated = "status" in work.columns
    keys = [c for c in model_columns if c in work.columns]
    if not keys:
        raise DisclosureError(f"regression table {name!r} has none of {list(model_columns)}")
    label = (
        work[keys].astype(str).agg("/".join, axis=1)
        if len(work)
        else pd.Series([], index=work.index, dtype=str)
    )
    already = (
        (work["status"].astype(str) == "suppressed").to_numpy()
        if gated
        else np.zeros(len(work), dtype=bool)
    )
    thin = _thin_terms(support, policy)
    term_of = (
        work["term"].astype(str) if "term" in work.columns else pd.Series("", index=work.index)
    )
    model_of = work["model"].astype(str) if "model" in work.columns else label
    is_thin = np.array([(m, t) in thin for m, t in zip(model_of, term_of, strict=True)], dtype=bool)
    models = list(dict.fromkeys(label))
    return _Table(work, gated, label, already, term_of, model_of, is_thin, models)


def _failing_models(tab: _Table, policy: DisclosurePolicy) -> dict[str, list[str]]:
    """The rules each model (not already suppressed) breaks."""
    failing: dict[str, list[str]] = {}
    for m in tab.models:
        rows = (tab.label == m).to_numpy() & ~tab.already
        if not rows.any():
            continue
        f = _model_failures(tab.work.loc[rows], policy)
        if (tab.is_thin & rows).any():
            f.append("dummy_support")
        if f:
            failing[m] = f
    return failing


def _suppress(tab: _Table, failing: dict[str, list[str]], reasons: pd.Series) -> np.ndarray:
    """Gate the table in place: mark failing models (or thin dummies) suppressed and blank them."""
    work, label, is_thin = tab.work, tab.label, tab.is_thin
    suppressed = tab.already.copy()
    for m, f in failing.items():
        whole = [r for r in f if r != "dummy_support"]
        rows = (label == m).to_numpy()
        if whole:  # a model-level rule: the whole model goes
            suppressed |= rows
            reasons[rows] = "+".join(whole)
        else:  # only thin dummies: their coefficients go, the rest of the model stays
            suppressed |= rows & is_thin
            reasons[rows & is_thin] = "dummy_support"
    work["status"] = pd.Series(np.where(suppressed, "suppressed", "published"), dtype="string")
    work["suppression_reason"] = reasons
    for col in REGRESSION_BLANKED:
        if col in work.columns:
            work[col] = pd.to_numeric(work[col], errors="coerce").astype("float64")
            work.loc[suppressed, col] = np.nan
    return suppressed


def _failing_note(failing: list[str]) -> str:
    """``; failing [...]`` when models fail the rule, else nothing."""
    return f"; failing {failing}" if failing else ""


def _regression_checks(
    p: DisclosurePolicy,
    failing: dict[str, list[str]],
    support: pd.DataFrame | None,
    not_blank: int,
    problems: list[str],
) -> list[dict[str, Any]]:
    """The record's checks, one per rule."""
    by_rule = {
        r: sorted(m for m, f in failing.items() if r in f)
        for r in ("residual_df", "cluster_df", "min_obs", "dummy_support")
    }
    support_detail = (
        "checked on the estimation samples"
        if support is not None
        else "checked when the estimates were gated (see the upstream record)"
    )
    return [
        check(
            "residual_df",
            len(by_rule["residual_df"]),
            f"published models have residual df >= {p.min_residual_df}"
            + _failing_note(by_rule["residual_df"]),
        ),
        check(
            "cluster_df",
            len(by_rule["cluster_df"]),
            f"clusters - 1 >= {p.min_residual_df}" + _failing_note(by_rule["cluster_df"]),
        ),
        check(
            "min_obs",
            len(by_rule["min_obs"]),
            f"n_obs >= {p.min_cell_count}" + _failing_note(by_rule["min_obs"]),
        ),
        check(
            "dummy_support",
            len(by_rule["dummy_support"]),
            f"each dummy regressor has >= {p.min_cell_count} exposed and unexposed units and "
            f"cases / non-cases of a binary outcome among them ({p.min_cell_count_trafficking} "
            f"cases for trafficking outcomes); {support_detail}"
            + _failing_note(by_rule["dummy_support"]),
        ),
        check(
            "suppressed_blank",
            not_blank,
            "suppressed models are kept, marked 'suppressed', with every number blanked",
        ),
        check(
            "record_level",
            len(problems),
            "aggregate rows only: " + ("; ".join(problems) if problems else "ok"),
        ),
    ]


def gate_regressions(
    estimates: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    name: str,
    support: pd.DataFrame | None,
    upstream: Sequence[Mapping[str, Any]],
    model_columns: Sequence[str],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Mark every model that breaks a rule as suppressed (blanked), or verify a gated table.

    Without a ``status`` column the table is gated: a model (rows sharing ``model_columns``) is
    published only with residual df and clusters - 1 of at least ``min_residual_df`` and at least
    ``min_cell_count`` observations (else every row of it is suppressed); the coefficient of a
    dummy regressor in ``support`` only with at least the minimum number of units in each of its
    cells (exposed / unexposed units, and the cases and non-cases of a binary outcome among them;
    11 cases where the outcome is a trafficking indicator), else that row is suppressed (the
    rest of the model does not reveal it). With ``status`` the table is only verified.
    """
    _check_tables(estimates, name, support)
    tab = _prepare_table(estimates, policy, name, support, model_columns)
    work, label = tab.work, tab.label
    failing = _failing_models(tab, policy)
    reasons = pd.Series(pd.NA, index=work.index, dtype="string")
    if tab.gated and "suppression_reason" in work.columns:
        reasons = work["suppression_reason"].astype("string")
    if tab.gated:
        suppressed = tab.already.copy()
    else:
        suppressed = _suppress(tab, failing, reasons)
        failing = {}
    blank_cols = [c for c in REGRESSION_BLANKED if c in work.columns]
    not_blank = int((suppressed & work[blank_cols].notna().any(axis=1).to_numpy()).sum())
    problems = record_level_problems(work, policy, count_columns=("n_obs",), ignore_rows=suppressed)
    checks = _regression_checks(policy, failing, support, not_blank, problems)
    if upstream:
        checks.append(upstream_check(upstream))
    sup_rows = [
        {
            "model": str(tab.model_of.iloc[i]),
            "term": str(tab.term_of.iloc[i]),
            "reason": str(reasons.iloc[i]) if pd.notna(reasons.iloc[i]) else "upstream",
        }
        for i in np.flatnonzero(suppressed)
    ]
    whole_models = sorted(m for m in tab.models if bool(suppressed[(label == m).to_numpy()].all()))
    record = {
        **header(policy, name, "regressions"),
        "passed": all(c["passed"] for c in checks),
        "n_models": len(tab.models),
        "n_suppressed": int(suppressed.sum()),
        "checks": checks,
        "suppressed_models": whole_models,
        "suppressed": sup_rows,
    }
    return work, record
