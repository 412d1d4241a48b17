"""Rules for cell tables: minimum counts, complements, reliability, dominance, secondary."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.disclosure._common import (
    AUX_COLUMNS,
    BLANKED_COLUMNS,
    CELL_KINDS,
    check,
    header,
)
from ctip_research.disclosure._frames import record_level_problems
from ctip_research.disclosure._policy import DisclosurePolicy
from ctip_research.errors import DisclosureError


def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def validate_cells(table: pd.DataFrame) -> None:
    """Raise when a cell table lacks what the rules need."""
    missing = [c for c in ("estimate", "kind", "n_denominator") if c not in table.columns]
    if missing:
        raise DisclosureError(f"cell table lacks the column(s) {missing} the rules need")
    bad = sorted(set(table["kind"].astype(str)) - set(CELL_KINDS))
    if bad:
        raise DisclosureError(f"unknown cell kind(s) {bad}; expected one of {list(CELL_KINDS)}")
    needs_num = table["kind"].isin(["count", "share"])
    if needs_num.any() and (
        "n_numerator" not in table.columns or table.loc[needs_num, "n_numerator"].isna().any()
    ):
        raise DisclosureError("count and share cells need n_numerator (unweighted numerator)")


def _trafficking(table: pd.DataFrame) -> np.ndarray:
    if "is_trafficking" in table.columns:
        return table["is_trafficking"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return np.zeros(len(table), dtype=bool)


def small_counts(table: pd.DataFrame, policy: DisclosurePolicy) -> np.ndarray:
    """True where the numerator or the denominator is under its minimum (11 for trafficking)."""
    minimum = np.where(
        _trafficking(table), policy.min_cell_count_trafficking, policy.min_cell_count
    )
    den = _num(table["n_denominator"])
    small = ~(den >= minimum)  # NaN counts as small
    if "n_numerator" in table.columns:
        num = _num(table["n_numerator"])
        has_num = table["kind"].isin(["count", "share"]).to_numpy() | ~np.isnan(num)
        small |= has_num & ~(num >= minimum)
    return small


def complements(table: pd.DataFrame) -> np.ndarray:
    """Units in a cell's base without its attribute: ``n_complement`` when the table gives it
    (blank: the cell has no attribute, e.g. the total of a ledger), else denominator - numerator
    for shares and counts (NaN for other kinds).
    """
    kinds = table["kind"].isin(["count", "share"]).to_numpy()
    if "n_complement" in table.columns:
        comp = _num(table["n_complement"])
    elif "n_numerator" in table.columns:
        comp = _num(table["n_denominator"]) - _num(table["n_numerator"])
    else:
        return np.full(len(table), np.nan)
    return np.where(kinds, comp, np.nan)


def small_complements(table: pd.DataFrame, policy: DisclosurePolicy) -> np.ndarray:
    """True where a share's or count's complement is under the minimum.

    A share of 96% of 50 households tells that 2 households lack the attribute: the complement is
    a count like any other (the general minimum applies, also for trafficking cells).
    """
    comp = complements(table)
    return ~np.isnan(comp) & ~(comp >= policy.min_cell_count)


def unreliable(table: pd.DataFrame, policy: DisclosurePolicy) -> tuple[np.ndarray, np.ndarray]:
    """(suppress, flag): denominators under the reliability cut-offs."""
    den = _num(table["n_denominator"])
    suppress = ~(den >= policy.reliability_suppress_below)
    flag = ~suppress & (den < policy.reliability_flag_below)
    return suppress, flag


def dominance_violations(table: pd.DataFrame, policy: DisclosurePolicy) -> np.ndarray:
    """Money cells whose largest contributor exceeds k1 % of the total, or two largest k2 %."""
    money = (
        (table["kind"] == "money").to_numpy()
        if "kind" in table.columns
        else np.ones(len(table), dtype=bool)
    )
    if not all(c in table.columns for c in AUX_COLUMNS):
        return money.copy()
    top1 = np.abs(_num(table["top1_value"]))
    top2 = np.abs(_num(table["top2_value"]))
    total = np.abs(_num(table["total_value"]))
    with np.errstate(invalid="ignore", divide="ignore"):
        share1 = 100.0 * top1 / total
        share2 = 100.0 * (top1 + np.nan_to_num(top2)) / total
    sensitive = ~(share1 <= policy.dominance_n1_pct) | ~(share2 <= policy.dominance_n2_pct)
    sensitive &= ~((total == 0) & (top1 == 0))  # nobody owes anything: no dominant contributor
    return money & sensitive


def derive_lines(table: pd.DataFrame, dims: Sequence[str], total_label: str) -> list[np.ndarray]:
    """Additive lines: for each dim, the members of a group and its margin (``total_label``)."""
    lines: list[np.ndarray] = []
    if not dims:
        return lines
    pos = np.arange(len(table))
    labels = table[list(dims)].astype(str).reset_index(drop=True)
    for d in dims:
        others = [o for o in dims if o != d]
        groups: Iterable[np.ndarray]
        if others:
            groups = (
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


def _margins(table: pd.DataFrame, dims: Sequence[str], total_label: str) -> np.ndarray:
    if not dims:
        return np.zeros(len(table), dtype=bool)
    return (table[list(dims)].astype(str).to_numpy() == total_label).any(axis=1)


def secondary(
    suppressed: np.ndarray, lines: list[np.ndarray], den: np.ndarray, is_margin: np.ndarray
) -> np.ndarray:
    """Suppress more cells until no line has exactly one suppressed entry.

    The smallest interior cell of the line goes first, a margin only when no interior cell is left
    (the order is deterministic). Returns the cells added.
    """
    out = suppressed.copy()
    den = np.nan_to_num(den, nan=-1.0)
    changed = True
    while changed:
        changed = False
        for idx in lines:
            if int(out[idx].sum()) != 1:
                continue
            candidates = [int(i) for i in idx if not out[i]]
            if not candidates:
                continue
            candidates.sort(key=lambda i: (bool(is_margin[i]), den[i], i))
            out[candidates[0]] = True
            changed = True
    return out & ~suppressed


def _label(row: pd.Series, dims: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in dims:
        v = row[d]
        out[d] = v.item() if hasattr(v, "item") else v
    return out


def _lines_of(
    table: pd.DataFrame,
    dims: Sequence[str],
    total_label: str,
    lines: Sequence[Sequence[int]] | Sequence[np.ndarray] | None,
) -> list[np.ndarray]:
    if lines is not None:
        return [np.asarray(sorted(set(int(i) for i in line)), dtype=int) for line in lines]
    return derive_lines(table, dims, total_label)


def gate_cells(
    table: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    name: str,
    dims: Sequence[str],
    total_label: str,
    lines: Sequence[Sequence[int]] | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Suppress and flag the cells; return the safe table and its (verified) record."""
    validate_cells(table)
    missing = [d for d in dims if d not in table.columns]
    if missing:
        raise DisclosureError(f"table {name!r} lacks its dim column(s) {missing}")
    work = table.reset_index(drop=True).copy()
    small = small_counts(work, policy)
    complement = small_complements(work, policy) & ~small
    unrel, flag = unreliable(work, policy)
    dominant = dominance_violations(work, policy)
    primary = small | complement | unrel | dominant
    all_lines = _lines_of(work, dims, total_label, lines)
    added = secondary(
        primary, all_lines, _num(work["n_denominator"]), _margins(work, dims, total_label)
    )
    suppressed = primary | added

    reason = np.full(len(work), "", dtype=object)
    reason[added] = "secondary"
    reason[dominant] = "dominance"
    reason[unrel] = "reliability"
    reason[complement] = "complement"
    reason[small] = "min_cell_count"
    status = np.where(suppressed, "suppressed", np.where(flag, "flagged", "published"))
    work["status"] = pd.Series(status, dtype="string")
    work["suppression_reason"] = pd.Series(reason, dtype="string").replace("", pd.NA)
    work["is_flagged"] = status == "flagged"
    for col in BLANKED_COLUMNS:
        if col in work.columns:
            work[col] = pd.to_numeric(work[col], errors="coerce").astype("float64")
            work.loc[suppressed, col] = np.nan

    record = verify_cells(
        work, policy, name=name, dims=dims, total_label=total_label, lines=all_lines
    )
    if not record["passed"]:  # pragma: no cover - the gate's output must pass its own check
        raise DisclosureError(f"internal error: gated table {name!r} fails its own check")
    record["suppressed"] = [
        {"cell": _label(work.iloc[i], dims), "reason": str(reason[i])}
        for i in np.flatnonzero(suppressed)
    ]
    record["flagged"] = [_label(work.iloc[i], dims) for i in np.flatnonzero(status == "flagged")]
    record["n_suppressed_by_reason"] = {
        r: int((reason[suppressed] == r).sum())
        for r in ("min_cell_count", "complement", "reliability", "dominance", "secondary")
    }
    return work.drop(columns=[c for c in AUX_COLUMNS if c in work.columns]), record


@dataclass(frozen=True)
class _CellFindings:
    """What the verification of a cell table found, rule by rule."""

    small: np.ndarray
    complement: np.ndarray
    unrel: np.ndarray
    flag_missing: int
    dominant: np.ndarray
    dom_detail: str
    recoverable: list[np.ndarray]
    not_blank: np.ndarray
    problems: list[str]


def _published_dominance(
    work: pd.DataFrame, policy: DisclosurePolicy, published: np.ndarray
) -> tuple[np.ndarray, str]:
    """Published money cells breaking a dominance rule, and a note when only gating verified it."""
    has_aux = all(c in work.columns for c in AUX_COLUMNS)
    any_money = bool((work["kind"].astype(str).to_numpy()[published] == "money").any())
    if has_aux or "status" not in work.columns or not any_money:
        return dominance_violations(work, policy) & published, ""
    return (
        np.zeros(len(work), dtype=bool),
        " (verified at gating; contribution columns are not published)",
    )


def _cell_checks(p: DisclosurePolicy, f: _CellFindings) -> list[dict[str, Any]]:
    """The record's checks, one per rule."""
    return [
        check(
            "min_cell_count",
            int(f.small.sum()),
            f"published numerators and denominators >= {p.min_cell_count} "
            f"({p.min_cell_count_trafficking} for identified trafficking cases)",
        ),
        check(
            "complement",
            int(f.complement.sum()),
            f"published shares and counts leave >= {p.min_cell_count} units without the attribute",
        ),
        check(
            "reliability",
            int(f.unrel.sum()),
            f"published estimates rest on >= {p.reliability_suppress_below} cases",
        ),
        check(
            "reliability_flag",
            f.flag_missing,
            f"estimates on {p.reliability_suppress_below}-{p.reliability_flag_below - 1} "
            "cases are flagged",
        ),
        check(
            "dominance",
            int(f.dominant.sum()),
            f"money cells pass the (1,{p.dominance_n1_pct:g}) and (2,{p.dominance_n2_pct:g}) "
            "dominance rules" + f.dom_detail,
        ),
        check(
            "secondary_suppression",
            len(f.recoverable),
            "no additive line (cells and their margin) has exactly one suppressed entry",
        ),
        check(
            "suppressed_blank",
            int(f.not_blank.sum()),
            "suppressed cells are kept, marked 'suppressed', with estimate and counts blanked",
        ),
        check(
            "record_level",
            len(f.problems),
            "aggregate rows only: " + ("; ".join(f.problems) if f.problems else "ok"),
        ),
    ]


def verify_cells(
    table: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    name: str,
    dims: Sequence[str],
    total_label: str,
    lines: Sequence[Sequence[int]] | Sequence[np.ndarray] | None = None,
) -> dict[str, Any]:
    """Check a cell table about to be published; return its record (``passed`` says if safe).

    Rows with ``status == "suppressed"`` must be blank; every other row is published and must
    satisfy every rule. A table without ``status`` is all-published. Dominance is verified from
    the contribution columns when present; a gated table whose contribution columns were
    stripped relies on the verdict recorded at gating.
    """
    work = table.reset_index(drop=True)
    if "status" in work.columns:
        suppressed = (work["status"].astype(str) == "suppressed").to_numpy()
    else:
        suppressed = np.zeros(len(work), dtype=bool)
    published = ~suppressed
    validate_cells(work.loc[published])
    small = small_counts(work, policy) & published
    complement = small_complements(work, policy) & published
    unrel, flag = unreliable(work, policy)
    unrel &= published
    flag &= published
    dominant, dom_detail = _published_dominance(work, policy, published)
    all_lines = _lines_of(work, dims, total_label, lines)
    recoverable = [idx for idx in all_lines if int(suppressed[idx].sum()) == 1]
    blank_cols = [c for c in ("estimate", *BLANKED_COLUMNS) if c in work.columns]
    not_blank = suppressed & work[blank_cols].notna().any(axis=1).to_numpy()
    flag_missing = 0
    if "status" in work.columns:
        flag_missing = int((flag & (work["status"].astype(str) != "flagged").to_numpy()).sum())
    problems = record_level_problems(
        work.drop(columns=[c for c in AUX_COLUMNS if c in work.columns]),
        policy,
        count_columns=("n_denominator",),
        ignore_rows=suppressed,
    )
    findings = _CellFindings(
        small=small,
        complement=complement,
        unrel=unrel,
        flag_missing=flag_missing,
        dominant=dominant,
        dom_detail=dom_detail,
        recoverable=recoverable,
        not_blank=not_blank,
        problems=problems,
    )
    checks = _cell_checks(policy, findings)
    return {
        **header(policy, name, "cells"),
        "passed": all(c["passed"] for c in checks),
        "n_cells": len(work),
        "n_suppressed": int(suppressed.sum()),
        "n_flagged": int(flag.sum()),
        "checks": checks,
    }
