"""Programme reach: the programme's own indicators estimated with the survey design.

:func:`estimate_reach` estimates every declared indicator
(:data:`ctip_research.features.programme.PROGRAMME_INDICATORS`) on one wave with
:class:`~ctip_research.survey.SurveyDesign`: population totals and shares with their confidence
intervals (t on the design degrees of freedom; logit scale for shares), design effects and the
unweighted counts the disclosure rules need. Indicators over supported households are domain
estimates (the full design, so the variance counts the sampling of the domain). :func:`gate_reach`
passes the table through the disclosure authority; :func:`compare_admin_counts` sets the
programme's own administrative counts beside the survey's totals.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.config.fit import DesignParams
from ctip_research.disclosure import Cells, DisclosurePolicy, disclose
from ctip_research.features.programme import PROGRAMME_INDICATORS, ProgrammeIndicator
from ctip_research.models.design_based import make_design
from ctip_research.models.specs import SpecError

__all__ = [
    "REACH_COLUMNS",
    "ReachResult",
    "compare_admin_counts",
    "estimate_reach",
    "gate_reach",
    "reach_markdown",
    "render_reach_docx",
]

#: Columns of ``reach.csv`` (gated).
REACH_COLUMNS: list[str] = [
    "indicator",
    "label",
    "unit",
    "kind",
    "domain",
    "level",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "conf_level",
    "deff",
    "df",
    "n_obs",
    "n_denominator",
    "n_numerator",
    "admin_count",
    "admin_in_interval",
    "status",
    "suppression_reason",
]

_SUPPORTED = "_supported"


@dataclass(frozen=True)
class ReachResult:
    """What :func:`estimate_reach` returns.

    Attributes
    ----------
    table
        One row per indicator and domain level: ``indicator, label, unit, kind, domain, level,
        estimate, std_error, conf_low, conf_high, conf_level, deff, df, n_obs, n_denominator,
        n_numerator`` (ungated: pass it to :func:`gate_reach`).
    not_recorded
        Indicators whose source column the survey does not record (absent, or missing for every
        household of the base): not estimated.
    design
        The design in words (``SurveyDesign.describe``).
    n_psu
        PSUs of the wave.
    """

    table: pd.DataFrame
    not_recorded: list[str] = field(default_factory=list)
    design: str = ""
    n_psu: int = 0


def _float(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype("Float64"), errors="coerce").astype(float)


def _order(level: Any) -> tuple[int, float, str]:
    """Sort key of a domain level: numbers in numeric order, then text."""
    try:
        return (0, float(level), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(level))


def _design_estimate(svy: Any, ind: ProgrammeIndicator, by: str | None) -> pd.DataFrame:
    """The design-based estimate of ``ind`` (tidy rows), overall or by the column ``by``;
    indicators over supported households are domain estimates on the full design.
    """
    y = f"_y_{ind.name}"
    by_cols = [] if by is None else [by]
    if ind.base == "supported":
        by_cols = ["_base_supported", *by_cols]
    if ind.statistic == "total":
        out = svy.total(y, by=by_cols or None)
    elif ind.statistic == "share":
        out = svy.proportion(y, level=1.0, by=by_cols or None)
    else:
        out = svy.mean(y, by=by_cols or None)
    table = out if isinstance(out, pd.DataFrame) else out.tidy()
    if ind.base == "supported":
        table = table[table["_base_supported"] == "1"]
    return table.reset_index(drop=True)


def _recorded(frame: pd.DataFrame, ind: ProgrammeIndicator) -> bool:
    if ind.source not in frame.columns:
        return False
    base = frame[_SUPPORTED] == 1.0 if ind.base == "supported" else frame[_SUPPORTED].notna()
    return bool(frame.loc[base, ind.source].notna().any())


#: Columns of :attr:`ReachResult.table`, in order (the gate adds the rest of REACH_COLUMNS).
_REACH_COLUMNS = tuple(REACH_COLUMNS[: REACH_COLUMNS.index("n_numerator") + 1])


@dataclass(frozen=True)
class _ReachFrame:
    """The households with the supported base, domain and indicator columns added."""

    frame: pd.DataFrame
    domain_cols: dict[str, str]
    recorded: list[ProgrammeIndicator]
    not_recorded: list[str]


def _reach_frame(
    data: pd.DataFrame,
    treatment: str,
    domains: Sequence[str],
    indicators: Sequence[ProgrammeIndicator],
) -> _ReachFrame:
    """Add the supported flag, the domain columns and one outcome column per recorded indicator."""
    needed = [treatment, *domains]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise SpecError(f"programme reach: columns not in the analysis table: {missing}")
    frame = data.reset_index(drop=True).copy()
    frame[_SUPPORTED] = _float(frame[treatment])
    domain_cols: dict[str, str] = {}
    for dom in domains:
        col = f"_domain_{dom}"
        frame[col] = frame[dom].astype("string")
        domain_cols[dom] = col
    supported = (frame[_SUPPORTED] == 1.0).to_numpy()
    frame["_base_supported"] = np.where(supported, "1", "0")
    recorded = [ind for ind in indicators if _recorded(frame, ind)]
    not_recorded = [ind.name for ind in indicators if ind not in recorded]
    for ind in recorded:
        values = frame[_SUPPORTED] if ind.source == treatment else _float(frame[ind.source])
        frame[f"_y_{ind.name}"] = values.where(supported) if ind.base == "supported" else values
    return _ReachFrame(frame, domain_cols, recorded, not_recorded)


def _indicator_cells(
    rf: _ReachFrame, svy: Any, ind: ProgrammeIndicator
) -> list[tuple[dict[Any, Any], str, str, np.ndarray]]:
    """The indicator's estimates overall and (``by_domain``) per domain level, with row masks."""
    frame = rf.frame
    everyone = np.ones(len(frame), dtype=bool)
    overall = _design_estimate(svy, ind, None)
    cells = [(overall.iloc[0].to_dict(), "all", "all", everyone)]
    if ind.by_domain:
        for dom, col in rf.domain_cols.items():
            found = _design_estimate(svy, ind, col).to_dict("records")
            for r in sorted(found, key=lambda r: _order(r[col])):
                lev = str(r[col])
                mask = (frame[col] == lev).fillna(False).to_numpy(dtype=bool)
                cells.append((r, dom, lev, mask))
    return cells


def _indicator_rows(
    rf: _ReachFrame, svy: Any, ind: ProgrammeIndicator, conf_level: float
) -> list[dict[str, Any]]:
    """Rows of the reach table for one indicator (overall first, then the domain levels)."""
    values = rf.frame[f"_y_{ind.name}"]
    observed = values.notna().to_numpy()
    attribute = (values > 0).to_numpy() & observed
    rows: list[dict[str, Any]] = []
    for est, dom, lev, mask in _indicator_cells(rf, svy, ind):
        n = int((mask & observed).sum())
        rows.append(
            {
                "indicator": ind.name,
                "label": ind.label,
                "unit": ind.unit,
                "kind": ind.cell_kind,
                "domain": dom,
                "level": lev,
                **{k: est[k] for k in ("estimate", "std_error", "conf_low", "conf_high")},
                "conf_level": conf_level,
                "deff": est["deff"],
                "df": est["df"],
                "n_obs": n,
                "n_denominator": n,
                "n_numerator": int((mask & attribute).sum()),
            }
        )
    return rows


def estimate_reach(
    data: pd.DataFrame,
    design: DesignParams,
    *,
    treatment: str = "received_livelihood_grant",
    domains: Sequence[str] = (),
    alpha: float = 0.05,
    indicators: Sequence[ProgrammeIndicator] = PROGRAMME_INDICATORS,
) -> ReachResult:
    """Design-based estimates of the programme indicators on one wave's households.

    Parameters
    ----------
    data
        Household rows of one wave (``household_wave.parquet``), with the design columns.
    design
        The survey design columns (``fit.design``).
    treatment
        The column saying a household was supported (the ``supported`` base).
    domains
        Domain columns of the indicators declared ``by_domain`` (e.g. ``province_code``,
        ``has_returned_migrant``); rows with a missing domain value belong to no level.
    alpha
        1 - the confidence level.
    indicators
        The declarations to estimate.

    Returns
    -------
    ReachResult

    Examples
    --------
    >>> from ctip_research.models.simulate import simulate_households
    >>> df = simulate_households(n_villages=20, households_per_village=10, seed=3)
    >>> df = df.assign(received_livelihood_grant=df["household_id"].str[-1].isin(list("0123")))
    >>> d = DesignParams(weight="weight_household", strata=None, psu="psu_id", fpc=None,
    ...                  lonely_psu="adjust")
    >>> res = estimate_reach(df, d)
    >>> res.table.loc[0, ["indicator", "domain"]].tolist()
    ['households_supported', 'all']
    >>> "members_trained" in res.not_recorded
    True
    """
    rf = _reach_frame(data, treatment, domains, indicators)
    svy = make_design(rf.frame, design, alpha=alpha)
    conf_level = 1.0 - alpha
    rows: list[dict[str, Any]] = []
    for ind in rf.recorded:
        rows.extend(_indicator_rows(rf, svy, ind, conf_level))
    return ReachResult(
        table=pd.DataFrame(rows, columns=list(_REACH_COLUMNS)),
        not_recorded=rf.not_recorded,
        design=svy.describe(),
        n_psu=svy.n_psu,
    )


def _lines(cells: pd.DataFrame) -> list[list[int]]:
    """Additive lines: each domain's levels with the indicator's overall cell."""
    lines = []
    pos = pd.Series(np.arange(len(cells)), index=cells.index)
    for _, part in cells.groupby("indicator", sort=False):
        overall = pos[part.index[part["domain"] == "all"]].tolist()
        for _, sub in part[part["domain"] != "all"].groupby("domain", sort=False):
            lines.append([*pos[sub.index].tolist(), *overall])
    return lines


def compare_admin_counts(table: pd.DataFrame, admin_counts: Mapping[str, float]) -> pd.DataFrame:
    """Set the programme's administrative counts beside the survey's overall estimates.

    Adds ``admin_count`` (the count, on the indicator's overall row) and ``admin_in_interval``
    (whether the survey's confidence interval contains it; missing for a suppressed estimate).

    Examples
    --------
    >>> t = pd.DataFrame({"indicator": ["households_supported"], "domain": ["all"],
    ...                   "conf_low": [900.0], "conf_high": [1200.0]})
    >>> compare_admin_counts(t, {"households_supported": 1250})["admin_in_interval"].tolist()
    [False]
    """
    out = table.copy()
    out["admin_count"] = np.nan
    out["admin_in_interval"] = pd.array([pd.NA] * len(out), dtype="boolean")
    for name, value in admin_counts.items():
        at = (out["indicator"] == name) & (out["domain"] == "all")
        if not at.any():
            continue
        out.loc[at, "admin_count"] = float(value)
        lo = pd.to_numeric(out.loc[at, "conf_low"], errors="coerce")
        hi = pd.to_numeric(out.loc[at, "conf_high"], errors="coerce")
        inside = pd.array(
            [
                pd.NA if np.isnan(a) or np.isnan(b) else bool(a <= value <= b)
                for a, b in zip(lo, hi, strict=True)
            ],
            dtype="boolean",
        )
        out.loc[at, "admin_in_interval"] = inside
    return out


def gate_reach(
    table: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    admin_counts: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The reach table behind the disclosure authority: the publishable table and its record.

    Cells on too few households (or too few without the attribute) are suppressed, with
    secondary suppression along each domain and its overall cell; suppressed cells are kept,
    blanked, with ``status`` and ``suppression_reason``. Administrative counts are added after
    the gate (they are the programme's own published figures, not survey cells).
    """
    out = disclose(
        Cells(table, "programme reach", dims=["indicator", "domain", "level"], lines=_lines(table)),
        policy,
    )
    assert out.table is not None
    safe = out.table.copy()
    suppressed = (safe["status"] == "suppressed").to_numpy()
    safe.loc[suppressed, ["deff", "df"]] = np.nan
    safe = compare_admin_counts(safe, admin_counts or {})
    return safe.loc[:, REACH_COLUMNS], out.record


def _fmt(value: Any, unit: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return ""
    v = float(value)
    if unit == "share":
        return f"{100 * v:.1f}%"
    if unit in ("households", "persons"):
        return f"{v:,.0f}"
    return f"{v:.2f}"


def _display(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    level_pct = ""
    if len(table):
        level_pct = f"{round(100 * float(table['conf_level'].dropna().iloc[0]))}% CI"
    head = ["Indicator", "Domain", "Estimate", level_pct or "CI", "Design effect", "Households"]
    has_admin = "admin_count" in table.columns and table["admin_count"].notna().any()
    if has_admin:
        head += ["Programme's count", "In interval"]
    body = []
    for r in table.to_dict("records"):
        dom = "All" if r["domain"] == "all" else f"{r['domain']} = {r['level']}"
        if r["status"] == "suppressed":
            cells = [r["label"], dom, "suppressed", "", "", ""]
        else:
            ci = f"{_fmt(r['conf_low'], r['unit'])} to {_fmt(r['conf_high'], r['unit'])}"
            flag = " †" if r["status"] == "flagged" else ""
            deff = "" if pd.isna(r["deff"]) else f"{float(r['deff']):.2f}"
            cells = [
                r["label"],
                dom,
                _fmt(r["estimate"], r["unit"]) + flag,
                ci,
                deff,
                f"{int(r['n_obs']):,}",
            ]
        if has_admin:
            inside = r.get("admin_in_interval")
            cells += [
                _fmt(r.get("admin_count"), r["unit"]),
                "" if pd.isna(inside) else ("yes" if inside else "no"),
            ]
        body.append(cells)
    return head, body


def reach_markdown(table: pd.DataFrame, *, notes: Sequence[str] = ()) -> str:
    """The gated reach table as a Markdown pipe table (with notes below).

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["Households supported"], "unit": ["households"],
    ...     "domain": ["all"], "level": ["all"], "estimate": [1234.0], "conf_low": [1000.0],
    ...     "conf_high": [1500.0], "conf_level": [0.95], "deff": [1.5], "n_obs": [400],
    ...     "status": ["published"]})
    >>> print(reach_markdown(t).splitlines()[2])
    | Households supported | All | 1,234 | 1,000 to 1,500 | 1.50 | 400 |
    """
    head, body = _display(table)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def render_reach_docx(table: pd.DataFrame, *, title: str, notes: Sequence[str] = ()) -> bytes:
    """The gated reach table as a Word document (deterministic bytes)."""
    import docx

    from ctip_research.determinism import normalise_office_zip

    head, body = _display(table)
    document = docx.Document()
    document.core_properties.created = datetime.datetime(2020, 1, 1)
    document.add_heading(title, level=2)
    grid = document.add_table(rows=1 + len(body), cols=len(head))
    for j, text in enumerate(head):
        grid.cell(0, j).text = text
    for i, row in enumerate(body, start=1):
        for j, text in enumerate(row):
            grid.cell(i, j).text = text
    for note in notes:
        document.add_paragraph(note)
    buf = io.BytesIO()
    document.save(buf)
    return normalise_office_zip(buf.getvalue())
