"""Design-based cell tables for figures and reports (input of the disclosure gate).

:func:`summarise_by` turns a household-level frame into a *cell table* (see
:class:`ctip_research.disclosure.Cells`): weighted shares or means by group, with margins,
Taylor-linearised standard errors under the stratified cluster design (PSU ids nested within
strata, domain estimation on the full design), t-intervals on the design degrees of freedom
(PSUs - strata), the unweighted counts the gate needs, and, for money, the two largest
contributions for the dominance rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ctip_research.disclosure import BLANKED_COLUMNS, Cells, DisclosurePolicy, disclose
from ctip_research.errors import DisclosureError

__all__ = ["SummaryKind", "domain_mean", "risk_metric_cells", "summarise_by"]

SummaryKind = Literal["share", "mean", "money"]


def domain_mean(
    y: np.ndarray,
    in_domain: np.ndarray,
    weight: np.ndarray,
    stratum: np.ndarray,
    psu: np.ndarray,
) -> tuple[float, float]:
    """Weighted domain mean and its Taylor-linearised standard error on the full design.

    Strata with a single PSU contribute no variance (treated as certainty units).

    Examples
    --------
    >>> y = np.array([1.0, 0.0, 1.0, 1.0]); one = np.ones(4, dtype=bool)
    >>> est, se = domain_mean(y, one, np.ones(4), np.zeros(4), np.array([0, 0, 1, 1]))
    >>> round(est, 2), round(se, 2)
    (0.75, 0.25)
    """
    d = in_domain & ~np.isnan(y)
    wd = np.where(d, weight, 0.0)
    total_w = wd.sum()
    if total_w <= 0:
        return float("nan"), float("nan")
    yy = np.where(d, y, 0.0)
    est = float((wd * yy).sum() / total_w)
    z = wd * (yy - est) / total_w
    frame = pd.DataFrame({"h": stratum, "j": psu, "z": z})
    psu_tot = frame.groupby(["h", "j"], sort=True)["z"].sum().reset_index()
    grp = psu_tot.groupby("h", sort=True)["z"]
    n_h = grp.transform("size").to_numpy(dtype=float)
    dev = psu_tot["z"].to_numpy() - grp.transform("mean").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        contrib = np.where(n_h > 1, n_h / (n_h - 1) * dev**2, 0.0)
    return est, float(np.sqrt(contrib.sum()))


def summarise_by(
    data: pd.DataFrame,
    by: Sequence[str],
    *,
    value: str,
    kind: SummaryKind,
    weight: str = "weight_household",
    stratum: str = "stratum_id",
    psu: str = "psu_id",
    total_label: str = "Total",
    conf_level: float = 0.95,
    margins: bool = True,
    is_trafficking: bool = False,
) -> pd.DataFrame:
    """Weighted shares or means of ``value`` by the groups ``by``, as a gate-ready cell table.

    Parameters
    ----------
    data
        One row per household (or household-wave) with the design columns.
    by
        Grouping columns (the table's dims); their values become strings in the output.
    value
        The column summarised: boolean for ``share``, numeric for ``mean`` / ``money``.
        Missing values are left out of the cell (and counted nowhere).
    kind
        ``share`` (numerator = households with ``value`` true), ``mean``, or ``money`` (a mean of
        an amount; numerator = households with a non-zero amount, and the dominance inputs).
    weight, stratum, psu
        Design columns.
    total_label
        Label of the margins added for every dim (and the grand total) when ``margins``.
    conf_level
        Confidence level of ``conf_low`` / ``conf_high`` (t on PSUs - strata df).
    is_trafficking
        Mark every cell as about identified trafficking cases (stricter minimum).

    Returns
    -------
    pandas.DataFrame
        Columns ``*by, estimate, std_error, conf_low, conf_high, conf_level, kind, n_numerator,
        n_denominator, n_psu, is_trafficking`` (+ ``top1_value, top2_value, total_value`` for
        money); ``n_psu`` counts the PSUs (villages) with a household in the cell.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a"] * 4, "x": [True, False, True, True],
    ...                    "weight_household": 1.0, "stratum_id": 0, "psu_id": [0, 0, 1, 1]})
    >>> summarise_by(df, ["g"], value="x", kind="share", margins=False)["estimate"].tolist()
    [0.75]
    """
    needed = [*by, value, weight, stratum, psu]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise DisclosureError(f"summarise_by: missing column(s) {missing}")
    des = _SummaryDesign.build(
        data, by, value=value, kind=kind, weight=weight, stratum=stratum, psu=psu
    )
    n_psu = len(np.unique(des.j))
    n_strata = len(np.unique(des.h))
    dfree = max(n_psu - n_strata, 1)
    tcrit = float(stats.t.ppf(0.5 + conf_level / 2, dfree))

    levels = {d: sorted(pd.unique(des.labels[d])) for d in by}
    options = [[*levels[d], total_label] if margins else levels[d] for d in by]
    rows = []
    for combo in itertools.product(*options):
        mask = np.ones(len(data), dtype=bool)
        for d, lab in zip(by, combo, strict=True):
            if lab != total_label:
                mask &= des.labels[d] == lab
        row: dict[str, object] = dict(zip(by, combo, strict=True))
        row.update(
            _cell_values(
                des, mask, tcrit, conf_level=conf_level, kind=kind, is_trafficking=is_trafficking
            )
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    out["n_numerator"] = out["n_numerator"].astype("float64")
    return out


@dataclass(frozen=True)
class _SummaryDesign:
    """The summarised value, weights, strata, PSU keys and group labels as arrays."""

    y: np.ndarray
    w: np.ndarray
    h: np.ndarray
    j: np.ndarray
    labels: dict[str, np.ndarray]

    @classmethod
    def build(
        cls,
        data: pd.DataFrame,
        by: Sequence[str],
        *,
        value: str,
        kind: SummaryKind,
        weight: str,
        stratum: str,
        psu: str,
    ) -> _SummaryDesign:
        """Read the arrays from ``data`` (a share's value as 0/1 with missing as NaN)."""
        y_raw = data[value]
        if kind == "share":
            y = pd.to_numeric(y_raw.astype("Float64"), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
        else:
            y = pd.to_numeric(y_raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
        h = data[stratum].astype(str).to_numpy()
        j = (data[stratum].astype(str) + "|" + data[psu].astype(str)).to_numpy()
        labels = {d: data[d].astype(str).to_numpy() for d in by}
        return cls(y, w, h, j, labels)


def _cell_values(
    des: _SummaryDesign,
    mask: np.ndarray,
    tcrit: float,
    *,
    conf_level: float,
    kind: SummaryKind,
    is_trafficking: bool,
) -> dict[str, object]:
    """Estimate, interval, counts (and for money the dominance inputs) of one cell."""
    y, j = des.y, des.j
    valid = mask & ~np.isnan(y)
    est, se = domain_mean(y, mask, des.w, des.h, j)
    row: dict[str, object] = {
        "estimate": est,
        "std_error": se,
        "conf_low": est - tcrit * se,
        "conf_high": est + tcrit * se,
        "conf_level": conf_level,
        "kind": kind,
        "n_denominator": int(valid.sum()),
        "n_psu": len(np.unique(j[valid])),
        "is_trafficking": is_trafficking,
    }
    if kind == "share":
        row["n_numerator"] = int((valid & (y > 0)).sum())
    elif kind == "money":
        amounts = np.sort(np.abs(y[valid]))[::-1]
        row["n_numerator"] = int((amounts > 0).sum())
        row["top1_value"] = float(amounts[0]) if len(amounts) else 0.0
        row["top2_value"] = float(amounts[1]) if len(amounts) > 1 else 0.0
        row["total_value"] = float(amounts.sum())
    else:
        row["n_numerator"] = np.nan
    return row


def risk_metric_cells(
    subgroup_metrics: pd.DataFrame,
    policy: DisclosurePolicy | None = None,
    *,
    metrics: Sequence[str] | None = None,
    name: str = "risk metrics",
) -> pd.DataFrame:
    """The risk stage's subgroup metrics as a gated cell table for a report.

    ``subgroup_metrics`` is ``risk/subgroup_metrics.csv`` (``subgroup``, ``group``, ``metric``,
    ``estimate``, ``std_error``, ``conf_low``, ``conf_high``, ``n_households``,
    ``is_suppressed``). Each metric is a cell of kind ``mean`` over its ``n_households``. Cells the
    risk stage suppressed (fewer than the minimum number of households, positives or negatives, or
    complementary suppression) stay suppressed; the others pass
    :func:`~ctip_research.disclosure.disclose` (minimum counts,
    suppressed below ``reliability_suppress_below`` households, flagged below
    ``reliability_flag_below``). Suppressed cells keep their row with the estimate, interval and
    count blanked.

    Examples
    --------
    >>> m = pd.DataFrame({"subgroup": ["overall", "province_code", "province_code"],
    ...                   "group": ["all", "1", "2"], "metric": "roc_auc",
    ...                   "estimate": [0.78, 0.80, 0.75], "std_error": 0.02,
    ...                   "conf_low": [0.74, 0.76, 0.70], "conf_high": [0.82, 0.84, 0.80],
    ...                   "n_households": [600, 40, 560], "is_suppressed": [False, False, False]})
    >>> risk_metric_cells(m)["status"].tolist()
    ['published', 'flagged', 'published']
    """
    sub = subgroup_metrics.reset_index(drop=True)
    if metrics is not None:
        sub = sub.loc[sub["metric"].isin(list(metrics))].reset_index(drop=True)
    cells = sub.drop(columns=["n_households", "is_suppressed"]).assign(
        kind="mean", n_denominator=sub["n_households"].astype("float64")
    )
    prior = sub["is_suppressed"].astype(bool).to_numpy()
    gated = disclose(Cells(cells.loc[~prior], name), policy).table
    assert gated is not None
    held = cells.loc[prior].copy()
    for col in BLANKED_COLUMNS:
        if col in held.columns:
            held[col] = np.nan
    held["status"] = pd.Series("suppressed", index=held.index, dtype="string")
    held["suppression_reason"] = pd.Series("risk stage", index=held.index, dtype="string")
    held["is_flagged"] = False
    gated.index = cells.index[~prior]
    return pd.concat([gated, held]).sort_index().reset_index(drop=True)
