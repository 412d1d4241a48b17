"""The quality report: machine-readable (JSON), readable (HTML), and DVC metrics.

Counts by check, by table, by action and by enumerator; every issue; every duplicate group with
what was kept; every correction applied; special-code counts; the row ledger. Issues carry the
pseudonymous household id and the raw row, never a checked value.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from ctip_research.clean._common import ISSUE_COLUMNS
from ctip_research.clean.pipeline import CleanResult


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.astype(object).to_dict("records"):
        clean: dict[str, Any] = {}
        for k, v in rec.items():
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                clean[str(k)] = None
            elif hasattr(v, "item"):
                clean[str(k)] = v.item()
            else:
                clean[str(k)] = v
        out.append(clean)
    return out


def _counts(s: pd.Series) -> dict[str, int]:
    vc = s.fillna("(none)").astype(str).value_counts()
    return {str(k): int(v) for k, v in sorted(vc.items())}


def build_quality_report(result: CleanResult) -> dict[str, Any]:
    """The quality report as a JSON-serialisable dict.

    ``build_quality_report(clean_tables(...))["summary"]["by_check"]`` counts the issues of each
    check (``ctip clean`` writes it as ``quality_report.json``).
    """
    iss = result.issues
    by_enum: dict[str, dict[str, int]] = {}
    if not iss.empty:
        tab = (
            iss.assign(enumerator_id=iss["enumerator_id"].fillna("(unknown)"))
            .groupby(["enumerator_id", "check"], sort=True)
            .size()
        )
        for key, n in tab.items():
            enum_check: tuple[object, object] = key  # type: ignore[assignment]
            by_enum.setdefault(str(enum_check[0]), {})[str(enum_check[1])] = int(n)
    by_check_table: dict[str, dict[str, int]] = {}
    if not iss.empty:
        for key, n in iss.groupby(["check", "table"], sort=True).size().items():
            check_table: tuple[object, object] = key  # type: ignore[assignment]
            by_check_table.setdefault(str(check_table[0]), {})[str(check_table[1])] = int(n)
    dups = result.duplicates
    n_groups = int(dups.groupby(["table", "group"]).ngroups) if not dups.empty else 0
    return {
        "summary": {
            "n_issues": len(iss),
            "by_check": _counts(iss["check"]) if not iss.empty else {},
            "by_check_and_table": by_check_table,
            "by_action": _counts(iss["action"]) if not iss.empty else {},
            "by_severity": _counts(iss["severity"]) if not iss.empty else {},
            "by_enumerator": by_enum,
            "n_duplicate_groups": n_groups,
            "n_corrections": len(result.corrections),
        },
        "ledger": result.ledger,
        "duplicates": _records(dups),
        "corrections": _records(result.corrections),
        "special_codes": _records(result.special_codes),
        "issues": _records(iss),
    }


def build_metrics(report: dict[str, Any], *, seconds: float | None = None) -> dict[str, Any]:
    """Flat-ish metrics for ``dvc metrics show`` (counts only).

    Examples
    --------
    >>> build_metrics({"summary": {"n_issues": 0, "by_check": {}, "n_duplicate_groups": 0,
    ...                            "n_corrections": 0}, "ledger": {}})["n_issues"]
    0
    """
    s = report["summary"]
    out: dict[str, Any] = {
        "n_issues": s["n_issues"],
        "issues_by_check": dict(s["by_check"]),
        "n_duplicate_groups": s["n_duplicate_groups"],
        "n_corrections": s["n_corrections"],
        "rows_in": {t: v["rows_in"] for t, v in report["ledger"].items()},
        "rows_out": {t: v["rows_out"] for t, v in report["ledger"].items()},
        "rows_excluded": {t: v["rows_excluded"] for t, v in report["ledger"].items()},
        "ledger_balanced": all(v["balanced"] for v in report["ledger"].values()),
    }
    if seconds is not None:
        out["seconds"] = round(seconds, 2)
    return out


def _table(rows: list[list[Any]], header: list[str]) -> str:
    h = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r)
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{h}</tr>{body}</table>"


_DUPLICATE_HEADER = [
    "table",
    "group",
    "kind",
    "household",
    "wave",
    "key",
    "source",
    "row",
    "submitted",
    "decision",
]
#: Columns of the issue tables in the reports (the row label ``index`` is internal).
_ISSUE_COLUMNS = [c for c in ISSUE_COLUMNS if c != "index"]


def _html_head(s: dict[str, Any]) -> list[str]:
    """The document head, the title and the one-line summary."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Data quality report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:95em}table{border-collapse:"
        "collapse;font-size:90%;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 6px;"
        "text-align:left}th{background:#eee}</style></head><body>",
        "<h1>Data quality report</h1>",
        f"<p>{s['n_issues']:,} issue(s); {s['n_duplicate_groups']:,} duplicate group(s); "
        f"{s['n_corrections']:,} correction(s) applied. Issues name the source file, raw row and "
        "pseudonymous household, never a checked value.</p>",
    ]


def _html_issue_counts(s: dict[str, Any], checks: list[str]) -> list[str]:
    """The sections counting issues by check and by enumerator."""
    return [
        "<h2>Issues by check</h2>",
        _table(
            [
                [
                    c,
                    s["by_check"][c],
                    ", ".join(f"{t}: {n}" for t, n in s["by_check_and_table"].get(c, {}).items()),
                ]
                for c in checks
            ],
            ["check", "issues", "by table"],
        ),
        "<h2>Issues by enumerator</h2>",
        _table(
            [
                [e, *[d.get(c, 0) for c in checks], sum(d.values())]
                for e, d in sorted(s["by_enumerator"].items())
            ],
            ["enumerator", *checks, "total"],
        ),
    ]


def _html_ledger(report: dict[str, Any]) -> list[str]:
    """The row-ledger section."""
    return [
        "<h2>Row ledger</h2>",
        _table(
            [
                [
                    t,
                    v["rows_in"],
                    v["rows_out"],
                    v["rows_excluded"],
                    "; ".join(f"{r}: {n}" for r, n in v["excluded"].items()),
                    "yes" if v["balanced"] else "NO",
                ]
                for t, v in report["ledger"].items()
            ],
            ["table", "rows in", "rows out", "rows excluded", "reasons", "balanced"],
        ),
    ]


def _html_duplicates(report: dict[str, Any]) -> list[str]:
    """The duplicate-groups section."""
    return [
        "<h2>Duplicate groups</h2>",
        _table(
            [
                [
                    d["table"],
                    d["group"],
                    d["kind"],
                    d["household_id"],
                    d["wave"],
                    d["key"],
                    d["source"],
                    d["row"],
                    d["order_value"],
                    "kept" if d["is_kept"] else "dropped",
                ]
                for d in report["duplicates"]
            ],
            _DUPLICATE_HEADER,
        ),
    ]


def _html_corrections_and_codes(report: dict[str, Any]) -> list[str]:
    """The sections of applied corrections and of special codes and value fixes."""
    return [
        "<h2>Corrections applied</h2>",
        _table(
            [
                [
                    c["line"],
                    c["source"],
                    c["table"],
                    c["row"],
                    c["variable"],
                    c["status"],
                    c["reason"],
                ]
                for c in report["corrections"]
            ],
            ["line", "source", "table", "row", "variable", "status", "reason"],
        ),
        "<h2>Special codes (kept as missing) and value fixes, from ingest</h2>",
        _table(
            [
                [c["source"], c["table"], c["column"], c["reason"], c["n"]]
                for c in report["special_codes"]
            ],
            ["source", "table", "column", "reason", "n"],
        ),
    ]


def _html_issues(report: dict[str, Any], max_issues: int) -> list[str]:
    """The issue list (without special codes and value fixes), cut at ``max_issues``."""
    listed = [i for i in report["issues"] if i["check"] not in ("special_code", "value_fix")]
    cols = _ISSUE_COLUMNS
    more = (
        f" (first {max_issues:,} of {len(listed):,}; all are in quality_report.json)"
        if len(listed) > max_issues
        else ""
    )
    return [
        f"<h2>Issues{more}</h2>",
        "<p>Special codes and value fixes are counted above and listed in the JSON report.</p>",
        _table([[i[c] for c in cols] for i in listed[:max_issues]], cols),
        "</body></html>",
    ]


def render_quality_html(report: dict[str, Any], *, max_issues: int = 2000) -> str:
    """A readable, self-contained HTML page of the quality report.

    ``ctip clean`` writes ``render_quality_html(build_quality_report(result))`` as
    ``quality_report.html``.
    """
    s = report["summary"]
    checks = sorted(s["by_check"])
    parts = [
        *_html_head(s),
        *_html_issue_counts(s, checks),
        *_html_ledger(report),
        *_html_duplicates(report),
        *_html_corrections_and_codes(report),
        *_html_issues(report, max_issues),
    ]
    return "\n".join(parts) + "\n"
