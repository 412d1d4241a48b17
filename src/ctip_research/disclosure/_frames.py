"""Rules for aggregate frames, curves and the records they depend on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.disclosure._common import IDENTIFIER_COLUMNS, SCORE_COLUMNS, check, header
from ctip_research.disclosure._policy import DisclosurePolicy


def suppressed_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows marked suppressed (``status == "suppressed"`` or ``is_suppressed``)."""
    out = np.zeros(len(frame), dtype=bool)
    if "status" in frame.columns:
        out |= (frame["status"].astype(str) == "suppressed").to_numpy()
    if "is_suppressed" in frame.columns:
        out |= frame["is_suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return out


def record_level_problems(
    frame: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    count_columns: Sequence[str] | None = None,
    ignore_rows: np.ndarray | None = None,
    require_counts: bool = True,
) -> list[str]:
    """Why ``frame`` is not a publishable aggregate (empty when it is).

    A frame fails with an identifier column, an individual score column, no unweighted count
    column (``n_*`` or ``count_columns``) when ``require_counts``, or a row (not suppressed)
    whose count is under the minimum cell size.
    """
    cols = [str(c) for c in frame.columns]
    problems: list[str] = []
    ids = [c for c in cols if c in IDENTIFIER_COLUMNS]
    if ids:
        problems.append(f"identifier column(s) {ids}")
    scores = [c for c in cols if c in SCORE_COLUMNS]
    if scores:
        problems.append(f"individual score column(s) {scores}")
    if count_columns is None:
        count_columns = [c for c in cols if c.startswith("n_")]
    count_columns = [c for c in count_columns if c in cols]
    if not count_columns:
        if require_counts:
            problems.append("no unweighted count column (n_*): cannot show rows are aggregates")
        return problems
    counts = frame[list(count_columns)].apply(pd.to_numeric, errors="coerce")
    lowest = counts.min(axis=1).to_numpy(dtype=float)
    keep = np.ones(len(frame), dtype=bool) if ignore_rows is None else ~ignore_rows
    n_small = int((keep & ~(lowest >= policy.min_cell_count)).sum())
    if n_small:
        problems.append(f"{n_small} row(s) rest on fewer than {policy.min_cell_count} units")
    return problems


def upstream_check(upstream: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every record this artefact depends on passed."""
    failing = [str(r.get("artefact", "?")) for r in upstream if not r.get("passed")]
    return check(
        "upstream_records",
        len(failing),
        f"{len(upstream)} record(s) of the inputs passed"
        + (f"; failing: {failing}" if failing else ""),
    )


def verify_aggregates(
    frame: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    name: str,
    count_columns: Sequence[str] | None,
    upstream: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Check a frame of aggregates (one row per group, with unweighted counts)."""
    suppressed = suppressed_rows(frame)
    problems = record_level_problems(
        frame,
        policy,
        count_columns=count_columns,
        ignore_rows=suppressed,
        require_counts=not upstream or count_columns is not None,
    )
    checks = [
        check(
            "record_level",
            len(problems),
            "aggregate rows only: " + ("; ".join(problems) if problems else "ok"),
        )
    ]
    if upstream:
        checks.append(upstream_check(upstream))
    return {
        **header(policy, name, "aggregates"),
        "passed": all(c["passed"] for c in checks),
        "n_rows": len(frame),
        "n_suppressed": int(suppressed.sum()),
        "checks": checks,
    }


def verify_curve(
    table: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    name: str,
    value_columns: Sequence[str],
    upstream: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Check a curve published without its counts: its points were gated upstream.

    Every point the upstream gate suppressed (``is_suppressed``) must carry no value, the frame
    must not be record-level (identifier or score columns), and the upstream records must pass.
    """
    suppressed = suppressed_rows(table)
    cols = [c for c in value_columns if c in table.columns]
    leaked = int(table.loc[suppressed, cols].notna().any(axis=1).sum()) if cols else 0
    problems = record_level_problems(table, policy, require_counts=False)
    checks = [
        check(
            "suppressed_blank",
            leaked,
            "points suppressed upstream carry no value",
        ),
        check(
            "record_level",
            len(problems),
            "aggregate points only: " + ("; ".join(problems) if problems else "ok"),
        ),
        upstream_check(upstream)
        if upstream
        else check("upstream_records", 1, "a curve without counts needs the record that gated it"),
    ]
    return {
        **header(policy, name, "curve"),
        "passed": all(c["passed"] for c in checks),
        "n_points": len(table),
        "n_suppressed": int(suppressed.sum()),
        "checks": checks,
    }
