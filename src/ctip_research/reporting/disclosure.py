"""Disclosure control of published outputs (``design/data-protection.md``, 'Published outputs').

Every table, figure, notebook output and the brief pass through this gate before they are written.
The gate works on a *cell table*: a long DataFrame with one row per published cell and the columns

==================  ==========================================================================
``estimate``        the (weighted) number that is published
``kind``            ``count``, ``share``, ``mean``, ``median`` or ``money`` (see :data:`CELL_KINDS`)
``n_denominator``   unweighted households in the cell's base (required)
``n_numerator``     unweighted households in the numerator (required for ``count`` and ``share``)
``is_trafficking``  optional bool: the cell is about identified trafficking / forced-labour cases
``top1_value``,     optional, required for ``money`` cells: the largest and second-largest
``top2_value``,     household contributions and the cell total of the (absolute) money amounts,
``total_value``     for the dominance rules; they are never published
==================  ==========================================================================

plus any label columns (``dims``) and uncertainty columns (``std_error``, ``conf_low``,
``conf_high``), which are blanked together with the estimate when a cell is suppressed.

:func:`apply_disclosure_control` suppresses (primary: minimum cell size, reliability, dominance;
secondary: no suppressed cell recoverable from a margin) and flags (reliability 25-49), keeps the
suppressed cells in the table with ``status == "suppressed"``, verifies the result with
:func:`check_cells` and returns a :class:`GateResult` (the publishable table and a
machine-readable check record). :func:`check_artefact` verifies any table about to be published
(cells, regression estimates or an arbitrary frame shown in a notebook) and raises
:class:`~ctip_research.errors.DisclosureError` when a check fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ctip_research.errors import DisclosureError

__all__ = [
    "AUX_COLUMNS",
    "CELL_KINDS",
    "IDENTIFIER_COLUMNS",
    "ArtefactType",
    "DisclosureThresholds",
    "GateResult",
    "apply_disclosure_control",
    "check_artefact",
    "check_cells",
    "check_frame",
    "check_regression",
    "dominance_violations",
]

CELL_KINDS: tuple[str, ...] = ("count", "share", "mean", "median", "money")
#: Columns the gate needs but never publishes (dominance inputs).
AUX_COLUMNS: tuple[str, ...] = ("top1_value", "top2_value", "total_value")
#: Columns whose presence makes a table record-level (one row per unit).
IDENTIFIER_COLUMNS: tuple[str, ...] = (
    "household_id",
    "member_id",
    "loan_id",
    "enumerator_id",
    "respondent_id",
    "episode_id",
)
#: Column names that hold individual model scores (never published per record).
SCORE_COLUMNS: tuple[str, ...] = ("risk_score", "score", "predicted_proba", "predicted_probability")
#: Columns blanked with the estimate when a cell is suppressed.
UNCERTAINTY_COLUMNS: tuple[str, ...] = (
    "std_error",
    "conf_low",
    "conf_high",
    "n_numerator",
    "n_denominator",
    "p_value",
    "statistic",
)

ArtefactType = Literal["cells", "regression", "frame"]
Status = Literal["published", "flagged", "suppressed"]


@dataclass(frozen=True)
class DisclosureThresholds:
    """Thresholds of the gate (``params.privacy``).

    Examples
    --------
    >>> DisclosureThresholds().min_cell_count
    10
    """

    min_cell_count: int = 10
    min_cell_count_trafficking: int = 11
    reliability_suppress_below: int = 25
    reliability_flag_below: int = 50
    dominance_n1_pct: float = 50.0
    dominance_n2_pct: float = 67.0
    min_residual_df: int = 10

    @classmethod
    def from_privacy(cls, privacy: Any) -> DisclosureThresholds:
        """Build the thresholds from a :class:`~ctip_research.config.privacy.PrivacyParams`."""
        return cls(
            min_cell_count=privacy.min_cell_count,
            min_cell_count_trafficking=privacy.min_cell_count_trafficking,
            reliability_suppress_below=privacy.reliability_suppress_below,
            reliability_flag_below=privacy.reliability_flag_below,
            dominance_n1_pct=float(privacy.dominance_n1_pct),
            dominance_n2_pct=float(privacy.dominance_n2_pct),
            min_residual_df=privacy.min_residual_df,
        )

    def as_dict(self) -> dict[str, float | int]:
        """The thresholds as a JSON-ready mapping (for the check record)."""
        return {
            "min_cell_count": self.min_cell_count,
            "min_cell_count_trafficking": self.min_cell_count_trafficking,
            "reliability_suppress_below": self.reliability_suppress_below,
            "reliability_flag_below": self.reliability_flag_below,
            "dominance_n1_pct": self.dominance_n1_pct,
            "dominance_n2_pct": self.dominance_n2_pct,
            "min_residual_df": self.min_residual_df,
        }


@dataclass(frozen=True)
class GateResult:
    """What the gate returns: the publishable table and its check record.

    Attributes
    ----------
    table
        The safe table: every input cell, in input order, with ``status`` (``published``,
        ``flagged``, ``suppressed``) and ``suppression_reason``; suppressed cells have their
        estimate, uncertainty and counts blanked (NaN); the dominance inputs are dropped.
    record
        The machine-readable check record (JSON-ready dict); ``record["passed"]`` is True.
    """

    table: pd.DataFrame
    record: dict[str, Any] = field(repr=False)

    @property
    def n_suppressed(self) -> int:
        """Number of suppressed cells."""
        return int((self.table["status"] == "suppressed").sum())


# --------------------------------------------------------------------------------------------
# primary suppression
# --------------------------------------------------------------------------------------------


def _as_int_array(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def _validate_cells(table: pd.DataFrame) -> None:
    missing = [c for c in ("estimate", "kind", "n_denominator") if c not in table.columns]
    if missing:
        raise DisclosureError(f"cell table lacks the column(s) {missing} the gate needs")
    bad = sorted(set(table["kind"].astype(str)) - set(CELL_KINDS))
    if bad:
        raise DisclosureError(f"unknown cell kind(s) {bad}; expected one of {list(CELL_KINDS)}")
    needs_num = table["kind"].isin(["count", "share"])
    if needs_num.any() and (
        "n_numerator" not in table.columns or table.loc[needs_num, "n_numerator"].isna().any()
    ):
        raise DisclosureError("count and share cells need n_numerator (unweighted numerator)")


def _min_counts(table: pd.DataFrame, thr: DisclosureThresholds) -> np.ndarray:
    if "is_trafficking" in table.columns:
        traf = table["is_trafficking"].fillna(False).astype(bool).to_numpy()
    else:
        traf = np.zeros(len(table), dtype=bool)
    return np.where(traf, thr.min_cell_count_trafficking, thr.min_cell_count)


def _small_cells(table: pd.DataFrame, thr: DisclosureThresholds) -> np.ndarray:
    """True where the numerator or the denominator is under the minimum cell size."""
    minimum = _min_counts(table, thr)
    den = _as_int_array(table["n_denominator"])
    small = ~(den >= minimum)  # NaN counts as small
    if "n_numerator" in table.columns:
        num = _as_int_array(table["n_numerator"])
        has_num = table["kind"].isin(["count", "share"]).to_numpy() | ~np.isnan(num)
        small |= has_num & ~(num >= minimum)
    return small


def _unreliable(table: pd.DataFrame, thr: DisclosureThresholds) -> tuple[np.ndarray, np.ndarray]:
    den = _as_int_array(table["n_denominator"])
    suppress = ~(den >= thr.reliability_suppress_below)
    flag = ~suppress & (den < thr.reliability_flag_below)
    return suppress, flag


def dominance_violations(
    table: pd.DataFrame, thresholds: DisclosureThresholds | None = None
) -> np.ndarray:
    """Cells of a money table that break the (1, k1) or (2, k2) dominance rule.

    A cell is sensitive when its largest contributor exceeds ``k1`` % of the cell total, or its
    two largest together exceed ``k2`` % [ABS]. Non-money cells never violate; money cells
    without the contribution columns violate (their safety cannot be shown).

    Examples
    --------
    >>> t = pd.DataFrame({"kind": ["money", "money"], "top1_value": [60.0, 10.0],
    ...                   "top2_value": [5.0, 9.0], "total_value": [100.0, 100.0]})
    >>> dominance_violations(t).tolist()
    [True, False]
    """
    thr = thresholds or DisclosureThresholds()
    money = (
        (table["kind"] == "money").to_numpy()
        if "kind" in table.columns
        else np.ones(len(table), dtype=bool)
    )
    if not all(c in table.columns for c in AUX_COLUMNS):
        return money.copy()
    top1 = np.abs(_as_int_array(table["top1_value"]))
    top2 = np.abs(_as_int_array(table["top2_value"]))
    total = np.abs(_as_int_array(table["total_value"]))
    with np.errstate(invalid="ignore", divide="ignore"):
        share1 = 100.0 * top1 / total
        share2 = 100.0 * (top1 + np.nan_to_num(top2)) / total
    sensitive = ~(share1 <= thr.dominance_n1_pct) | ~(share2 <= thr.dominance_n2_pct)
    # a zero total (everyone owes nothing) has no dominant contributor
    sensitive &= ~((total == 0) & (top1 == 0))
    return money & sensitive


# --------------------------------------------------------------------------------------------
# secondary suppression
# --------------------------------------------------------------------------------------------


def _lines(table: pd.DataFrame, dims: Sequence[str], total_label: str) -> list[np.ndarray]:
    """Additive lines of the table: for each dim, the members of a group and its margin.

    Each line is an array of positional row indices; the margin (``total_label`` in that dim)
    is part of the line. Lines without a margin impose no additivity and are left out.
    """
    lines: list[np.ndarray] = []
    if not dims:
        return lines
    pos = np.arange(len(table))
    labels = table[list(dims)].astype(str).reset_index(drop=True)
    for d in dims:
        others = [o for o in dims if o != d]
        if others:
            groups: Iterable[np.ndarray] = (
                np.asarray(idx)
                for idx in labels.groupby(others, sort=True, dropna=False).indices.values()
            )
        else:
            groups = [pos]
        for idx in groups:
            is_margin = labels[d].to_numpy()[idx] == total_label
            if is_margin.any() and (~is_margin).any():
                lines.append(np.sort(idx))
    return lines


def _secondary(
    suppressed: np.ndarray, table: pd.DataFrame, dims: Sequence[str], total_label: str
) -> np.ndarray:
    """Suppress more cells until no line has exactly one suppressed entry."""
    out = suppressed.copy()
    lines = _lines(table, dims, total_label)
    if not lines:
        return np.zeros(len(table), dtype=bool)
    den = np.nan_to_num(_as_int_array(table["n_denominator"]), nan=-1.0)
    is_margin = np.zeros(len(table), dtype=bool)
    labels = table[list(dims)].astype(str).to_numpy()
    is_margin = (labels == total_label).any(axis=1)
    changed = True
    while changed:
        changed = False
        for idx in lines:
            if int(out[idx].sum()) != 1:
                continue
            candidates = [i for i in idx if not out[i]]
            # prefer the smallest interior cell, then a margin (order is deterministic)
            candidates.sort(key=lambda i: (bool(is_margin[i]), den[i], i))
            out[candidates[0]] = True
            changed = True
    return out & ~suppressed


def _recoverable_lines(
    suppressed: np.ndarray, table: pd.DataFrame, dims: Sequence[str], total_label: str
) -> list[np.ndarray]:
    return [idx for idx in _lines(table, dims, total_label) if int(suppressed[idx].sum()) == 1]


# --------------------------------------------------------------------------------------------
# the gate
# --------------------------------------------------------------------------------------------


def _cell_label(row: pd.Series, dims: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in dims:
        v = row[d]
        out[d] = v.item() if hasattr(v, "item") else v
    return out


def apply_disclosure_control(
    table: pd.DataFrame,
    thresholds: DisclosureThresholds | None = None,
    *,
    name: str,
    dims: Sequence[str] = (),
    total_label: str = "Total",
) -> GateResult:
    """Suppress and flag the cells of a published table; return the safe table and its record.

    Parameters
    ----------
    table
        Cell table (see the module docstring), one row per published cell.
    thresholds
        The gate's thresholds (default: the design values; pass
        ``DisclosureThresholds.from_privacy(params.privacy)`` in a stage).
    name
        Name of the artefact (written into the check record).
    dims
        Label columns that define the table's layout; a value ``total_label`` in a dim marks a
        margin (the sum over that dim), and margins make cells recoverable by subtraction, which
        secondary suppression prevents.
    total_label
        The label of margins in ``dims``.

    Returns
    -------
    GateResult
        ``table`` keeps every cell in input order with ``status`` and ``suppression_reason``;
        suppressed cells are blanked, not dropped.

    Examples
    --------
    >>> t = pd.DataFrame({"province": ["A", "B", "Total"], "estimate": [0.3, 0.5, 0.45],
    ...                   "kind": "share", "n_numerator": [30, 3, 33],
    ...                   "n_denominator": [100, 6, 106]})
    >>> res = apply_disclosure_control(t, name="demo", dims=["province"])
    >>> res.table["status"].tolist()
    ['suppressed', 'suppressed', 'published']
    """
    thr = thresholds or DisclosureThresholds()
    _validate_cells(table)
    missing_dims = [d for d in dims if d not in table.columns]
    if missing_dims:
        raise DisclosureError(f"table {name!r} lacks its dim column(s) {missing_dims}")
    work = table.reset_index(drop=True).copy()
    small = _small_cells(work, thr)
    unreliable, flag = _unreliable(work, thr)
    dominant = dominance_violations(work, thr)
    primary = small | unreliable | dominant
    secondary = _secondary(primary, work, dims, total_label)
    suppressed = primary | secondary

    reason = np.full(len(work), "", dtype=object)
    reason[secondary] = "secondary"
    reason[dominant] = "dominance"
    reason[unreliable] = "reliability"
    reason[small] = "min_cell_count"
    status = np.where(suppressed, "suppressed", np.where(flag, "flagged", "published"))

    work["status"] = pd.Series(status, dtype="string")
    work["suppression_reason"] = pd.Series(reason, dtype="string").replace("", pd.NA)
    work["is_flagged"] = status == "flagged"
    for col in ("estimate", *UNCERTAINTY_COLUMNS):
        if col in work.columns:
            work[col] = pd.to_numeric(work[col], errors="coerce").astype("float64")
            work.loc[suppressed, col] = np.nan

    record = check_cells(
        work, thr, name=name, dims=dims, total_label=total_label, suppressed=suppressed
    )
    if not record["passed"]:  # pragma: no cover - the gate's own output must pass its check
        raise DisclosureError(f"internal error: gated table {name!r} fails its own check")
    record["suppressed"] = [
        {"cell": _cell_label(work.iloc[i], dims), "reason": str(reason[i])}
        for i in np.flatnonzero(suppressed)
    ]
    record["flagged"] = [
        _cell_label(work.iloc[i], dims) for i in np.flatnonzero(status == "flagged")
    ]
    safe = work.drop(columns=[c for c in AUX_COLUMNS if c in work.columns])
    return GateResult(table=safe, record=record)


def _check(name: str, failing: int, detail: str) -> dict[str, Any]:
    return {"check": name, "passed": failing == 0, "n_failing": int(failing), "detail": detail}


def check_cells(
    table: pd.DataFrame,
    thresholds: DisclosureThresholds | None = None,
    *,
    name: str,
    dims: Sequence[str] = (),
    total_label: str = "Total",
    suppressed: np.ndarray | None = None,
) -> dict[str, Any]:
    """Verify a cell table about to be published; return its check record.

    Cells with ``status == "suppressed"`` are treated as suppressed and must be blank (no
    estimate, no interval, no count); every other cell is published and must satisfy every rule.
    A table without a ``status`` column is treated as all-published. Dominance is verified from
    the contribution columns when present; a gated table (with ``status``) whose contribution
    columns were stripped relies on the verdict recorded at gating. The record's ``passed`` says
    whether every check passed.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [0.2], "kind": ["share"], "n_numerator": [4],
    ...                   "n_denominator": [80]})
    >>> check_cells(t, name="demo")["passed"]
    False
    """
    thr = thresholds or DisclosureThresholds()
    work = table.reset_index(drop=True)
    if suppressed is None:
        if "status" in work.columns:
            suppressed = (work["status"].astype(str) == "suppressed").to_numpy()
        else:
            suppressed = np.zeros(len(work), dtype=bool)
    published = ~suppressed
    _validate_cells(work.loc[published])
    small = _small_cells(work, thr) & published
    unreliable, flag = _unreliable(work, thr)
    unreliable &= published
    flag &= published
    has_aux = all(c in work.columns for c in AUX_COLUMNS)
    any_money = bool((work["kind"].astype(str).to_numpy()[published] == "money").any())
    if has_aux or "status" not in work.columns or not any_money:
        dominant = dominance_violations(work, thr) & published
        dom_detail = ""
    else:
        dominant = np.zeros(len(work), dtype=bool)
        dom_detail = " (verified at gating; contribution columns are not published)"
    recoverable = _recoverable_lines(suppressed, work, dims, total_label)
    blank_cols = [c for c in ("estimate", *UNCERTAINTY_COLUMNS) if c in work.columns]
    not_blank = suppressed & work[blank_cols].notna().any(axis=1).to_numpy()
    flag_missing = 0
    if "status" in work.columns:
        flag_missing = int((flag & (work["status"].astype(str) != "flagged").to_numpy()).sum())
    frame = check_frame(
        work.drop(columns=[c for c in AUX_COLUMNS if c in work.columns]),
        thr,
        name=name,
        count_columns=("n_denominator",),
        ignore_rows=suppressed,
    )
    checks = [
        _check(
            "min_cell_count",
            int(small.sum()),
            f"published counts >= {thr.min_cell_count} ({thr.min_cell_count_trafficking} for "
            "trafficking cases), numerator and denominator",
        ),
        _check(
            "reliability",
            int(unreliable.sum()),
            f"published estimates rest on >= {thr.reliability_suppress_below} cases",
        ),
        _check(
            "reliability_flag",
            flag_missing,
            f"estimates on {thr.reliability_suppress_below}-{thr.reliability_flag_below - 1} "
            "cases are flagged",
        ),
        _check(
            "dominance",
            int(dominant.sum()),
            f"money cells pass the (1,{thr.dominance_n1_pct:g}) and (2,{thr.dominance_n2_pct:g}) "
            "dominance rules" + dom_detail,
        ),
        _check(
            "secondary_suppression",
            len(recoverable),
            "no additive line (cells and their margin) has exactly one suppressed entry",
        ),
        _check(
            "suppressed_blank",
            int(not_blank.sum()),
            "suppressed cells are kept, marked 'suppressed', with estimate and counts blanked",
        ),
        *frame["checks"],
    ]
    return {
        "artefact": name,
        "artefact_type": "cells",
        "passed": all(c["passed"] for c in checks),
        "thresholds": thr.as_dict(),
        "n_cells": len(work),
        "n_suppressed": int(suppressed.sum()),
        "n_flagged": int(flag.sum()),
        "checks": checks,
    }


def check_frame(
    frame: pd.DataFrame,
    thresholds: DisclosureThresholds | None = None,
    *,
    name: str,
    count_columns: Sequence[str] | None = None,
    ignore_rows: np.ndarray | None = None,
) -> dict[str, Any]:
    """Check that a frame shown in a report is an aggregate, not a record-level table.

    A frame fails when it has an identifier column (:data:`IDENTIFIER_COLUMNS`), an individual
    score column without a count, no unweighted count column at all (``n_*`` columns, or the
    given ``count_columns``), or a row whose count is under the minimum cell size.

    Examples
    --------
    >>> check_frame(pd.DataFrame({"household_id": ["a"], "total_debt_usd": [10.0]}),
    ...             name="x")["passed"]
    False
    """
    thr = thresholds or DisclosureThresholds()
    cols = [str(c) for c in frame.columns]
    ids = [c for c in cols if c in IDENTIFIER_COLUMNS]
    if count_columns is None:
        count_columns = [c for c in cols if c.startswith("n_")]
    count_columns = [c for c in count_columns if c in cols]
    problems: list[str] = []
    if ids:
        problems.append(f"identifier column(s) {ids}")
    if not count_columns:
        problems.append("no unweighted count column (n_*): cannot show rows are aggregates")
    n_small = 0
    if count_columns:
        counts = frame[list(count_columns)].apply(pd.to_numeric, errors="coerce")
        lowest = counts.min(axis=1).to_numpy(dtype=float)
        keep = np.ones(len(frame), dtype=bool) if ignore_rows is None else ~ignore_rows
        n_small = int((keep & ~(lowest >= thr.min_cell_count)).sum())
        if n_small:
            problems.append(f"{n_small} row(s) rest on fewer than {thr.min_cell_count} units")
    scores = [c for c in cols if c in SCORE_COLUMNS]
    if scores and not count_columns:
        problems.append(f"individual score column(s) {scores}")
    checks = [
        _check(
            "record_level",
            len(problems),
            "aggregate rows only: " + ("; ".join(problems) if problems else "ok"),
        ),
    ]
    return {
        "artefact": name,
        "artefact_type": "frame",
        "passed": not problems,
        "thresholds": thr.as_dict(),
        "n_rows": len(frame),
        "checks": checks,
    }


def check_regression(
    estimates: pd.DataFrame,
    thresholds: DisclosureThresholds | None = None,
    *,
    name: str,
    model_columns: Sequence[str] = ("model", "outcome", "exposure"),
) -> dict[str, Any]:
    """Check a table of regression estimates (``estimates.csv`` columns) before publication.

    Every model (rows sharing ``model_columns``) needs residual degrees of freedom
    ``n_obs - n_terms >= min_residual_df`` (``df_resid`` is used when present; ``n_terms`` is
    the number of the model's rows), ``n_psu - 1 >= min_residual_df`` when ``n_psu`` is given,
    and ``n_obs`` of at least the minimum cell size.

    Examples
    --------
    >>> est = pd.DataFrame({"model": ["m"], "outcome": ["y"], "exposure": ["x"],
    ...                     "term": ["x"], "estimate": [0.1], "n_obs": [8]})
    >>> check_regression(est, name="demo")["passed"]
    False
    """
    thr = thresholds or DisclosureThresholds()
    if "n_obs" not in estimates.columns:
        raise DisclosureError(f"regression table {name!r} has no n_obs column")
    keys = [c for c in model_columns if c in estimates.columns]
    failing_df: list[str] = []
    failing_psu: list[str] = []
    failing_n: list[str] = []
    n_models = 0
    grouped = estimates.groupby(keys, sort=True, dropna=False) if keys else [("all", estimates)]
    for key, g in grouped:
        n_models += 1
        label = "/".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        n_obs = float(pd.to_numeric(g["n_obs"], errors="coerce").min())
        if "df_resid" in g.columns:
            df_resid = float(pd.to_numeric(g["df_resid"], errors="coerce").min())
        else:
            df_resid = n_obs - len(g)
        if not df_resid >= thr.min_residual_df:
            failing_df.append(label)
        if not n_obs >= thr.min_cell_count:
            failing_n.append(label)
        if "n_psu" in g.columns:
            n_psu = float(pd.to_numeric(g["n_psu"], errors="coerce").min())
            if not math.isnan(n_psu) and not n_psu - 1 >= thr.min_residual_df:
                failing_psu.append(label)
    checks = [
        _check(
            "residual_df",
            len(failing_df),
            f"residual df >= {thr.min_residual_df}"
            + (f"; failing {failing_df}" if failing_df else ""),
        ),
        _check(
            "cluster_df",
            len(failing_psu),
            f"PSUs - 1 >= {thr.min_residual_df}"
            + (f"; failing {failing_psu}" if failing_psu else ""),
        ),
        _check(
            "min_obs",
            len(failing_n),
            f"n_obs >= {thr.min_cell_count}" + (f"; failing {failing_n}" if failing_n else ""),
        ),
    ]
    frame = check_frame(estimates, thr, name=name, count_columns=("n_obs",))
    checks += frame["checks"]
    return {
        "artefact": name,
        "artefact_type": "regression",
        "passed": all(c["passed"] for c in checks),
        "thresholds": thr.as_dict(),
        "n_models": n_models,
        "checks": checks,
    }


def check_artefact(
    table: pd.DataFrame,
    thresholds: DisclosureThresholds | None = None,
    *,
    name: str,
    artefact_type: ArtefactType = "cells",
    dims: Sequence[str] = (),
    total_label: str = "Total",
) -> dict[str, Any]:
    """Verify a table about to be published; raise :class:`DisclosureError` if a check fails.

    Parameters
    ----------
    table
        The table behind the artefact: a gated cell table (``"cells"``), regression estimates
        (``"regression"``) or any frame shown in a report (``"frame"``).
    thresholds, name, dims, total_label
        As in :func:`apply_disclosure_control`.
    artefact_type
        Which checks to run.

    Returns
    -------
    dict
        The check record (``passed`` is True), to write beside the artefact.

    Raises
    ------
    DisclosureError
        Naming the artefact and every failing check (never a cell value).

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [3.0], "kind": ["count"], "n_numerator": [3],
    ...                   "n_denominator": [3]})
    >>> check_artefact(t, name="tiny")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ctip_research.errors.DisclosureError: artefact 'tiny' fails disclosure check(s): ...
    """
    if artefact_type == "cells":
        record = check_cells(table, thresholds, name=name, dims=dims, total_label=total_label)
    elif artefact_type == "regression":
        record = check_regression(table, thresholds, name=name)
    elif artefact_type == "frame":
        record = check_frame(table, thresholds, name=name)
    else:  # pragma: no cover - guarded by the Literal type
        raise DisclosureError(f"unknown artefact type {artefact_type!r}")
    if not record["passed"]:
        failing = [
            f"{c['check']} ({c['n_failing']}): {c['detail']}"
            for c in record["checks"]
            if not c["passed"]
        ]
        raise DisclosureError(f"artefact {name!r} fails disclosure check(s): " + "; ".join(failing))
    return record
