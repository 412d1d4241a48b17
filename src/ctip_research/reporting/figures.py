"""Figures of the reports and the brief, each built behind the disclosure gate.

Every builder is pure: data frames in, an :class:`Exhibit` out (the matplotlib figure, its caption
with source and sample sizes, its alt text, the gated data behind it and the gate's check record).
The stage (:mod:`ctip_research.stages.figures`) writes them. Confidence intervals are always drawn;
suppressed cells are drawn as a 'suppressed' note at their place, flagged cells (25-49 cases) with
a hollow marker and a dagger; no figure shows individual households.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ctip_research.errors import DisclosureError
from ctip_research.reporting.disclosure import (
    DisclosureThresholds,
    apply_disclosure_control,
    check_artefact,
)
from ctip_research.reporting.style import COLOURS, GREY, MARKERS, figure_style, new_figure
from ctip_research.reporting.tables import summarise_by

__all__ = [
    "Exhibit",
    "build_debt_burden_figure",
    "build_effects_figure",
    "build_migration_by_band_figure",
    "build_targeting_figure",
    "plot_coverage_by_scenario",
    "plot_effects",
    "plot_group_estimates",
    "plot_targeting_curve",
]


@dataclass
class Exhibit:
    """A published figure with everything written beside it.

    Attributes
    ----------
    name
        File stem (``<name>.png``, ``.svg``, ``.caption.md``, ``.alt.txt``, ``.data.csv``,
        ``.disclosure.json``).
    title
        Short title (used by the brief and the index).
    figure
        The matplotlib figure.
    caption
        Caption: what is shown, the interval, the source and the sample sizes.
    alt_text
        Alternative text describing the figure's content for screen readers.
    data
        The gated data behind the figure (publishable; suppressed cells kept and blanked).
    record
        The disclosure check record (``passed`` is True).
    numbers
        Named headline numbers of the figure (used by the brief; all from ``data``).
    """

    name: str
    title: str
    figure: Figure
    caption: str
    alt_text: str
    data: pd.DataFrame
    record: dict[str, Any]
    numbers: dict[str, float] = field(default_factory=dict)


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f}%"


def _design_note(conf_level: float) -> str:
    return (
        f"Bars: {100 * conf_level:.0f}% confidence intervals (Taylor linearisation on the stratified "
        "cluster design, t on PSUs minus strata degrees of freedom)."
    )


def _gate_note(thr: DisclosureThresholds) -> str:
    return (
        f"Disclosure control: cells on fewer than {thr.reliability_suppress_below} households, or "
        f"with fewer than {thr.min_cell_count} in the numerator, are suppressed (with secondary "
        f"suppression); † marks estimates on {thr.reliability_suppress_below}-"
        f"{thr.reliability_flag_below - 1} households (less reliable)."
    )


# ------------------------------------------------------------------------------------------------
# generic plotters
# ------------------------------------------------------------------------------------------------


def plot_group_estimates(
    cells: pd.DataFrame,
    *,
    group: str,
    series: str | None = None,
    series_labels: Mapping[str, str] | None = None,
    order: Sequence[str] | None = None,
    xlabel: str,
    title: str,
    ylabel: str | None = None,
    percent: bool = True,
    height: float | None = None,
) -> Figure:
    """Dot-and-whisker chart of gated estimates by group (one row per group, series dodged).

    ``cells`` is a gated cell table (``status``, ``estimate``, ``conf_low``, ``conf_high``);
    suppressed cells are labelled 'suppressed' at their place, flagged ones are hollow with '†'.

    Examples
    --------
    >>> cells = pd.DataFrame({"g": ["a", "b"], "estimate": [0.2, 0.4], "conf_low": [0.1, 0.3],
    ...                       "conf_high": [0.3, 0.5], "status": ["published", "suppressed"]})
    >>> fig = plot_group_estimates(cells, group="g", xlabel="Share (%)", title="Demo")
    >>> len(fig.axes)
    1
    """
    groups = list(order) if order is not None else list(dict.fromkeys(cells[group].astype(str)))
    series_values = (
        list(dict.fromkeys(cells[series].astype(str))) if series is not None else ["_all"]
    )
    labels = dict(series_labels or {})
    scale = 100.0 if percent else 1.0
    n_series = len(series_values)
    step = 0.7 / max(n_series, 1)
    with figure_style():
        fig = new_figure(6.4, height or max(2.2, 0.42 * len(groups) * max(1, n_series * 0.7) + 1.2))
        ax = fig.axes[0]
        finite = pd.to_numeric(cells["conf_high"], errors="coerce")
        for k, sval in enumerate(series_values):
            sub = cells if series is None else cells[cells[series].astype(str) == sval]
            lookup: dict[str, dict[Any, Any]] = {
                str(r[group]): dict(r) for r in sub.to_dict("records")
            }
            colour, marker = COLOURS[k % len(COLOURS)], MARKERS[k % len(MARKERS)]
            first = True
            for i, g in enumerate(groups):
                if g not in lookup:
                    continue
                row = lookup[g]
                y = i + (k - (n_series - 1) / 2) * step
                if str(row["status"]) == "suppressed":
                    ax.text(
                        0.01,
                        y,
                        f"{labels.get(sval, '') + ': ' if series else ''}suppressed",
                        va="center",
                        ha="left",
                        fontsize=7.5,
                        color=GREY,
                        style="italic",
                        transform=ax.get_yaxis_transform(),
                    )
                    continue
                est = float(row["estimate"]) * scale
                lo = float(row["conf_low"]) * scale
                hi = float(row["conf_high"]) * scale
                flagged = str(row["status"]) == "flagged"
                ax.errorbar(
                    est,
                    y,
                    xerr=[[est - lo], [hi - est]],
                    fmt=marker,
                    color=colour,
                    markerfacecolor="white" if flagged else colour,
                    linestyle="none",
                    label=labels.get(sval, sval) if first and series is not None else None,
                )
                first = False
                if flagged:
                    ax.annotate(
                        "†",
                        (hi, y),
                        xytext=(3, 0),
                        textcoords="offset points",
                        va="center",
                        fontsize=8,
                    )
        ax.set_yticks(range(len(groups)), groups)
        ax.set_ylim(len(groups) - 0.5, -0.5)
        ax.set_xlabel(xlabel)
        if ylabel:
            ax.set_ylabel(ylabel)
        ax.set_title(title)
        if percent:
            ax.set_xlim(
                left=0,
                right=min(100.0, max(10.0, float(np.nanmax(finite)) * scale * 1.1))
                if finite.notna().any()
                else 100.0,
            )
        if series is not None:
            ax.legend(loc="lower right")
    return fig


#: Cell colour and text colour of each Monte Carlo verdict (colour-blind-safe, distinct in grey).
VERDICT_COLOURS: dict[str, tuple[str, str]] = {
    "survives": ("#004488", "white"),
    "uninformative": ("#DDAA33", "black"),
    "possibly_biased": ("#EE99AA", "black"),
    "fails": ("#BB5566", "white"),
    "no_estimate": ("#FFFFFF", "black"),
}
#: Hatching of a verdict's cells (a colour-free channel for grey print).
VERDICT_HATCH: dict[str, str] = {"possibly_biased": "//", "uninformative": ".."}


def plot_coverage_by_scenario(
    summary: pd.DataFrame, *, level: float = 0.95, title: str | None = None
) -> Figure:
    """Coverage of every estimator (columns) in every scenario (rows), coloured by verdict.

    ``summary`` is :func:`ctip_research.models.validation.summarise_draws` output (``scenario,
    model, coverage, verdict``). Each cell prints the coverage; its colour is the verdict
    (survives, uninformative, fails), so a wide interval that covers only because it is wide is
    not mistaken for a good one; hatching repeats the verdict for grey print. Synthetic worlds
    only: no survey data, nothing to gate.

    Examples
    --------
    >>> s = pd.DataFrame({"scenario": ["default", "default", "w"], "model": ["a", "b", "a"],
    ...     "coverage": [0.95, 1.0, 0.5], "verdict": ["survives", "uninformative", "fails"]})
    >>> fig = plot_coverage_by_scenario(s)
    >>> len(fig.axes[0].texts)
    3
    """
    from matplotlib.patches import Patch, Rectangle

    scenarios = list(dict.fromkeys(summary["scenario"].astype(str)))
    models = list(dict.fromkeys(summary["model"].astype(str)))
    cells = {(str(r["scenario"]), str(r["model"])): r for r in summary.to_dict("records")}
    with figure_style():
        fig = new_figure(max(6.4, 0.78 * len(models) + 2.6), 0.42 * len(scenarios) + 2.3)
        ax = fig.axes[0]
        for i, scen in enumerate(scenarios):
            for j, model in enumerate(models):
                r = cells.get((scen, model))
                verdict = str(r["verdict"]) if r is not None else "no_estimate"
                face, ink = VERDICT_COLOURS.get(verdict, VERDICT_COLOURS["no_estimate"])
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        facecolor=face,
                        edgecolor="white",
                        linewidth=1.5,
                        hatch=VERDICT_HATCH.get(verdict),
                    )
                )
                cov = r.get("coverage") if r is not None else None
                text = "n/a" if cov is None or pd.isna(cov) else f"{float(cov):.2f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color=ink)
        ax.set_xlim(-0.5, len(models) - 0.5)
        ax.set_ylim(len(scenarios) - 0.5, -0.5)
        ax.set_xticks(range(len(models)), models, rotation=35, ha="right")
        ax.set_yticks(range(len(scenarios)), scenarios)
        ax.grid(False)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        ax.set_title(
            title
            or f"Coverage of the {100 * level:.0f}% intervals in each synthetic world "
            "(colour: verdict)"
        )
        fig.legend(
            handles=[
                Patch(facecolor=VERDICT_COLOURS[v][0], hatch=VERDICT_HATCH.get(v), label=v)
                for v in ("survives", "uninformative", "possibly_biased", "fails")
            ],
            loc="outside lower center",
            ncols=4,
            frameon=False,
        )
    return fig


def plot_effects(
    effects: pd.DataFrame,
    *,
    xlabel: str,
    title: str,
    truth_label: str = "True effect (synthetic data)",
    percent_points: bool = True,
) -> Figure:
    """Coefficient plot: one row per estimate (``label``) with its interval; truth if given.

    ``effects`` has ``label, estimate, conf_low, conf_high`` and optionally ``truth`` (the true
    value each estimate targets, drawn as a cross).

    Examples
    --------
    >>> e = pd.DataFrame({"label": ["Naive", "IV"], "estimate": [0.12, 0.08],
    ...                   "conf_low": [0.1, 0.02], "conf_high": [0.14, 0.14], "truth": [0.08, 0.08]})
    >>> fig = plot_effects(e, xlabel="Effect (percentage points)", title="Demo")
    >>> len(fig.axes[0].lines) > 0
    True
    """
    scale = 100.0 if percent_points else 1.0
    with figure_style():
        fig = new_figure(6.4, max(2.2, 0.5 * len(effects) + 1.3))
        ax = fig.axes[0]
        ax.axvline(0, color=GREY, linewidth=0.8, zorder=0)
        for i, (_, row) in enumerate(effects.iterrows()):
            est = float(row["estimate"]) * scale
            lo, hi = float(row["conf_low"]) * scale, float(row["conf_high"]) * scale
            ax.errorbar(
                est,
                i,
                xerr=[[est - lo], [hi - est]],
                fmt="o",
                color=COLOURS[1],
                linestyle="none",
                label="Estimate and 95% CI" if i == 0 else None,
            )
        if "truth" in effects.columns and effects["truth"].notna().any():
            tv = pd.to_numeric(effects["truth"], errors="coerce").to_numpy(dtype=float) * scale
            ax.plot(
                tv,
                np.arange(len(effects)),
                linestyle="none",
                marker="x",
                markersize=8,
                color=COLOURS[3],
                markeredgewidth=2,
                label=truth_label,
            )
        ax.set_yticks(range(len(effects)), effects["label"].astype(str).tolist())
        ax.set_ylim(len(effects) - 0.5, -0.5)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.legend(loc="best")
    return fig


def plot_targeting_curve(
    curve: pd.DataFrame,
    *,
    title: str,
    headline: Mapping[str, float] | None = None,
    band_label: str = "95% CI",
) -> Figure:
    """Targeting (cumulative gains) curve with random and perfect targeting for reference.

    ``curve`` has ``share_served``, ``share_reached`` and optionally ``share_reached_perfect``,
    ``conf_low`` / ``conf_high`` (a band, legend ``band_label``) and ``is_suppressed``.
    ``headline`` (``share_served``, ``estimate``, ``conf_low``, ``conf_high``) adds the headline
    point with its interval.

    Examples
    --------
    >>> c = pd.DataFrame({"share_served": [0.1, 0.5, 1.0], "share_reached": [0.3, 0.8, 1.0]})
    >>> fig = plot_targeting_curve(c, title="Demo")
    >>> len(fig.axes)
    1
    """
    c = curve.sort_values("share_served")
    if "is_suppressed" in c.columns:
        c = c[~c["is_suppressed"].astype(bool)]
    x = c["share_served"].to_numpy(dtype=float) * 100
    with figure_style():
        fig = new_figure(5.2, 4.0)
        ax = fig.axes[0]
        ax.grid(True, axis="both")
        ax.plot(
            [0, 100],
            [0, 100],
            color=GREY,
            linestyle="--",
            marker="",
            linewidth=1,
            label="Random targeting",
        )
        if "share_reached_perfect" in c.columns:
            ax.plot(
                np.r_[0, x],
                np.r_[0, c["share_reached_perfect"].to_numpy(float) * 100],
                color=COLOURS[2],
                linestyle=":",
                marker="",
                label="Perfect targeting",
            )
        if {"conf_low", "conf_high"} <= set(c.columns):
            ax.fill_between(  # serving no one reaches no one: the band starts at (0, 0)
                np.r_[0, x],
                np.r_[0, c["conf_low"].to_numpy(float) * 100],
                np.r_[0, c["conf_high"].to_numpy(float) * 100],
                color=COLOURS[1],
                alpha=0.2,
                linewidth=0,
                label=band_label,
            )
        ax.plot(
            np.r_[0, x],
            np.r_[0, c["share_reached"].to_numpy(float) * 100],
            color=COLOURS[1],
            marker="",
            linestyle="-",
            label="Risk model",
        )
        if headline is not None:
            hx = headline["share_served"] * 100
            he = headline["estimate"] * 100
            ax.errorbar(
                hx,
                he,
                yerr=[[he - headline["conf_low"] * 100], [headline["conf_high"] * 100 - he]],
                fmt="o",
                color=COLOURS[0],
                linestyle="none",
                label=f"Top {hx:.0f}% served (95% CI)",
            )
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.set_xlabel("Households served, top-ranked by risk score (% of households)")
        ax.set_ylabel("Risky-migration households reached (%)")
        ax.set_title(title)
        ax.legend(loc="lower right")
    return fig


# ------------------------------------------------------------------------------------------------
# exhibits
# ------------------------------------------------------------------------------------------------


def _series_cells(
    data: pd.DataFrame,
    *,
    group: str,
    indicators: Mapping[str, str],
    conf_level: float,
    total_label: str,
) -> pd.DataFrame:
    parts = []
    for col in indicators:
        cells = summarise_by(
            data, [group], value=col, kind="share", conf_level=conf_level, total_label=total_label
        )
        cells.insert(0, "indicator", col)
        parts.append(cells)
    return pd.concat(parts, ignore_index=True)


def _gate_series(
    cells: pd.DataFrame, thr: DisclosureThresholds, *, name: str, group: str, total_label: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Gate each indicator's cells (each is its own additive table with a Total)."""
    gated, suppressed, flagged = [], [], []
    for ind, part in cells.groupby("indicator", sort=False):
        res = apply_disclosure_control(
            part, thr, name=f"{name}:{ind}", dims=[group], total_label=total_label
        )
        gated.append(res.table)
        suppressed += [{**s, "indicator": ind} for s in res.record["suppressed"]]
        flagged += [{**f, "indicator": ind} for f in res.record["flagged"]]
    table = pd.concat(gated, ignore_index=True)
    record = check_artefact(
        table, thr, name=name, dims=["indicator", group], total_label=total_label
    )
    record["suppressed"] = suppressed
    record["flagged"] = flagged
    return table, record


def _alt_ranges(
    table: pd.DataFrame, *, group: str, indicators: Mapping[str, str], total_label: str
) -> str:
    parts = []
    for col, label in indicators.items():
        sub = table[(table["indicator"] == col) & (table["status"] != "suppressed")]
        inner = sub[sub[group] != total_label]
        tot = sub[sub[group] == total_label]
        if inner.empty:
            parts.append(f"{label}: all groups suppressed.")
            continue
        ranked = inner.sort_values("estimate", kind="stable")
        hi, lo = ranked.iloc[-1], ranked.iloc[0]
        overall = f"overall {_pct(float(tot['estimate'].iloc[0]))}; " if len(tot) else ""
        parts.append(
            f"{label}: {overall}highest in {hi[group]} ({_pct(hi['estimate'])}, 95% CI "
            f"{_pct(hi['conf_low'])} to {_pct(hi['conf_high'])}), lowest in {lo[group]} "
            f"({_pct(lo['estimate'])}, 95% CI {_pct(lo['conf_low'])} to {_pct(lo['conf_high'])})."
        )
    n_sup = int((table["status"] == "suppressed").sum())
    if n_sup:
        parts.append(f"{n_sup} cell(s) suppressed for disclosure control.")
    return " ".join(parts)


def _sample_note(data: pd.DataFrame, psu: str = "psu_id", stratum: str = "stratum_id") -> str:
    n_psu = data[[stratum, psu]].drop_duplicates().shape[0]
    return f"n = {len(data):,} households in {n_psu:,} villages"


def build_debt_burden_figure(
    households: pd.DataFrame,
    *,
    indicators: Mapping[str, str],
    province_names: Mapping[int, str],
    thresholds: DisclosureThresholds,
    source: str,
    wave: int,
    conf_level: float = 0.95,
    total_label: str = "All provinces",
    name: str = "debt_burden_by_province",
) -> Exhibit:
    """Debt burden by province: weighted shares of households (e.g. with an MFI loan,
    over-indebted) with confidence intervals, gated.

    Parameters
    ----------
    households
        ``household_wave`` rows (design columns, ``province_code``, ``wave`` and the indicators).
    indicators
        Indicator column -> legend label (0/1 columns).
    province_names
        NIS code -> province name.
    thresholds
        Disclosure thresholds.
    source
        Source line for the caption.
    wave
        Survey wave shown.
    """
    data = households[households["wave"] == wave].copy()
    data["province"] = data["province_code"].map(lambda c: province_names.get(int(c), str(c)))
    cells = _series_cells(
        data,
        group="province",
        indicators=indicators,
        conf_level=conf_level,
        total_label=total_label,
    )
    table, record = _gate_series(
        cells, thresholds, name=name, group="province", total_label=total_label
    )
    order = sorted(set(data["province"])) + [total_label]
    title = "Debt burden by province"
    fig = plot_group_estimates(
        table,
        group="province",
        series="indicator",
        series_labels=indicators,
        order=order,
        xlabel="Households (% of households, weighted)",
        title=title,
    )
    labels = " and ".join(f"'{v}'" for v in indicators.values())
    caption = (
        f"{title}: weighted share of households, {labels}, by province, wave {wave}. "
        f"{_design_note(conf_level)} Source: {source}; {_sample_note(data)}. "
        f"{_gate_note(thresholds)}"
    )
    alt = (
        f"Dot chart with horizontal confidence-interval bars: share of households by province "
        f"(wave {wave}) for {len(indicators)} indicator(s). "
        + _alt_ranges(table, group="province", indicators=indicators, total_label=total_label)
    )
    numbers = _total_numbers(table, group="province", total_label=total_label)
    return Exhibit(name, title, fig, caption, alt, table, record, numbers)


def _total_numbers(table: pd.DataFrame, *, group: str, total_label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for _, row in table[table[group] == total_label].iterrows():
        for col in ("estimate", "conf_low", "conf_high"):
            out[f"{row['indicator']}.{col}"] = float(row[col])
    return out


def build_migration_by_band_figure(
    households: pd.DataFrame,
    *,
    outcomes: Mapping[str, str],
    band: str,
    band_order: Sequence[str],
    borrower: str,
    no_borrower_label: str,
    thresholds: DisclosureThresholds,
    source: str,
    wave: int,
    conf_level: float = 0.95,
    total_label: str = "All households",
    name: str = "migration_by_debt_band",
) -> Exhibit:
    """Migration and risky migration by debt-service band (households without a loan apart).

    ``band`` holds the debt-service-to-income band labels (``band_order``); households with
    ``borrower`` false are shown as ``no_borrower_label``.
    """
    data = households[households["wave"] == wave].copy()
    is_borrower = data[borrower].astype("boolean").fillna(False).to_numpy(dtype=bool)
    data["debt_band"] = np.where(
        is_borrower, data[band].astype("string").fillna("missing"), no_borrower_label
    )
    data = data[data["debt_band"] != "missing"]
    cells = _series_cells(
        data, group="debt_band", indicators=outcomes, conf_level=conf_level, total_label=total_label
    )
    table, record = _gate_series(
        cells, thresholds, name=name, group="debt_band", total_label=total_label
    )
    order = [
        no_borrower_label,
        *[b for b in band_order if b in set(data["debt_band"])],
        total_label,
    ]
    title = "Migration by debt-service burden"
    fig = plot_group_estimates(
        table,
        group="debt_band",
        series="indicator",
        series_labels=outcomes,
        order=order,
        xlabel="Households (% of households, weighted)",
        title=title,
        ylabel="Debt service / income (monthly, ratio)",
        height=4.2,
    )
    caption = (
        f"{title}: weighted share of households with "
        + " and ".join(f"'{v}'" for v in outcomes.values())
        + f", by monthly debt service as a share of monthly income (bands; income includes "
        f"remittances, as households report it), wave {wave}. "
        f"{_design_note(conf_level)} Source: {source}; {_sample_note(data)}. "
        f"{_gate_note(thresholds)}"
    )
    alt = (
        "Dot chart with horizontal confidence-interval bars: share of households with a migrant "
        "and with a risky migrant, by debt-service-to-income band. "
        + _alt_ranges(table, group="debt_band", indicators=outcomes, total_label=total_label)
    )
    numbers = _total_numbers(table, group="debt_band", total_label=total_label)
    for _, row in table[table["status"] != "suppressed"].iterrows():
        numbers[f"{row['indicator']}[{row['debt_band']}].estimate"] = float(row["estimate"])
    return Exhibit(name, title, fig, caption, alt, table, record, numbers)


def build_effects_figure(
    estimates: pd.DataFrame,
    *,
    models: Mapping[str, str],
    thresholds: DisclosureThresholds,
    source: str,
    title: str,
    xlabel: str,
    name: str,
    truth: Mapping[str, float] | None = None,
    conf_level: float = 0.95,
) -> Exhibit:
    """Effect estimates of several models side by side (the exposure's term of each model).

    Parameters
    ----------
    estimates
        ``estimates.csv`` rows (``model, outcome, exposure, term, estimate, conf_low, conf_high,
        n_obs, n_psu``).
    models
        Model name -> label, in display order.
    truth
        Model name -> the true value the model's estimand has on synthetic data (optional).
    """
    rows = []
    for model, label in models.items():
        sub = estimates[
            (estimates["model"] == model) & (estimates["term"] == estimates["exposure"])
        ]
        if sub.empty:
            raise DisclosureError(
                f"figure {name!r}: model {model!r} has no exposure row in the estimates table"
            )
        row = sub.iloc[0].to_dict()
        row["label"] = label
        row["truth"] = float(truth[model]) if truth and model in truth else np.nan
        rows.append(row)
    effects = pd.DataFrame(rows)
    record = check_artefact(effects, thresholds, name=name, artefact_type="regression")
    has_truth = bool(effects["truth"].notna().any())
    fig = plot_effects(effects, xlabel=xlabel, title=title)
    ns = ", ".join(f"{r['label']} n = {int(r['n_obs']):,}" for _, r in effects.iterrows())
    caption = (
        f"{title}: the same effect estimated by {len(effects)} models (exposure "
        f"{effects['exposure'].iloc[0]}, outcome {effects['outcome'].iloc[0]}; effects in "
        f"percentage points) with {100 * conf_level:.0f}% confidence intervals (errors clustered "
        "by village or design-based, as stated in the regression tables)"
        + ("; crosses mark the true effect built into the synthetic data" if has_truth else "")
        + f". Source: {source}; {ns}."
    )
    alt = (
        "Coefficient plot, one row per model: "
        + "; ".join(
            f"{r['label']} {100 * r['estimate']:.1f} points (95% CI {100 * r['conf_low']:.1f} to "
            f"{100 * r['conf_high']:.1f})"
            + (f", true value {100 * r['truth']:.1f}" if np.isfinite(r["truth"]) else "")
            for _, r in effects.iterrows()
        )
        + "."
    )
    numbers: dict[str, float] = {}
    for _, r in effects.iterrows():
        for col in ("estimate", "conf_low", "conf_high", "truth"):
            numbers[f"{r['model']}.{col}"] = float(r[col])
    keep = [
        c
        for c in (
            "model",
            "label",
            "outcome",
            "exposure",
            "term",
            "estimate",
            "std_error",
            "conf_low",
            "conf_high",
            "p_value",
            "n_obs",
            "n_psu",
            "truth",
        )
        if c in effects.columns
    ]
    return Exhibit(name, title, fig, caption, alt, effects[keep], record, numbers)


def build_targeting_figure(
    curve: pd.DataFrame,
    *,
    thresholds: DisclosureThresholds,
    source: str,
    headline: Mapping[str, float] | None = None,
    n_households: int | None = None,
    upstream_record: Mapping[str, Any] | None = None,
    band_level: float | None = None,
    n_bootstrap: int | None = None,
    name: str = "targeting_curve",
) -> Exhibit:
    """The risk model's targeting curve (aggregates only), gated.

    ``curve`` comes from the risk stage (``share_served, share_reached`` and optionally
    ``share_reached_perfect``, ``conf_low``, ``conf_high``, ``is_suppressed``). With the counts
    ``n_served`` / ``n_reached``, points on fewer than the minimum cell size are suppressed
    here; without them (the risk stage does not publish them) the curve must carry
    ``is_suppressed`` and the risk stage's passed check record (``upstream_record``). The band
    ``conf_low`` / ``conf_high`` is the risk stage's pointwise village-bootstrap percentile band
    at level ``band_level`` from ``n_bootstrap`` replicates (named so in the caption); the band of
    a suppressed point is blanked with the point.

    Examples
    --------
    >>> c = pd.DataFrame({"share_served": [0.2, 1.0], "share_reached": [0.5, 1.0],
    ...                   "conf_low": [0.4, 1.0], "conf_high": [0.6, 1.0],
    ...                   "n_served": [200, 1000], "n_reached": [60, 120]})
    >>> ex = build_targeting_figure(c, thresholds=DisclosureThresholds(), source="demo",
    ...                             band_level=0.95, n_bootstrap=500)
    >>> "95% village-bootstrap band, B = 500" in ex.caption
    True
    """
    c = curve.copy()
    prior = (
        c["is_suppressed"].astype(bool)
        if "is_suppressed" in c.columns
        else pd.Series(False, index=c.index)
    )
    value_cols = [
        k
        for k in ("share_reached", "share_reached_perfect", "precision", "conf_low", "conf_high")
        if k in c.columns
    ]
    if {"n_served", "n_reached"} <= set(c.columns):
        small = (pd.to_numeric(c["n_served"], errors="coerce") < thresholds.min_cell_count) | (
            pd.to_numeric(c["n_reached"], errors="coerce") < thresholds.min_cell_count
        )
        c["is_suppressed"] = small | prior
        c.loc[c["is_suppressed"], value_cols] = np.nan
        cells = pd.DataFrame(
            {
                "estimate": c["share_reached"],
                "kind": "share",
                "n_numerator": c["n_reached"],
                "n_denominator": c["n_served"],
                "status": np.where(c["is_suppressed"], "suppressed", "published"),
            }
        )
        cells.loc[c["is_suppressed"].to_numpy(), ["n_numerator", "n_denominator"]] = np.nan
        # a curve point rests on n_served households: the minimum cell size is the rule here
        thr = DisclosureThresholds(
            **{
                **thresholds.as_dict(),
                "reliability_suppress_below": thresholds.min_cell_count,
                "reliability_flag_below": thresholds.min_cell_count,
            }  # type: ignore[arg-type]
        )
        record = check_artefact(cells, thr, name=name)
        c = c.drop(columns=["n_served", "n_reached"])
    else:
        if "is_suppressed" not in c.columns or upstream_record is None:
            raise DisclosureError(
                f"figure {name!r}: the targeting curve has no counts, no is_suppressed column or "
                "no check record of the risk stage, so it cannot be shown to be safe"
            )
        if not upstream_record.get("passed"):
            raise DisclosureError(f"figure {name!r}: the risk stage's disclosure check failed")
        leaked = c.loc[prior, value_cols].notna().any(axis=1)
        c["is_suppressed"] = prior
        checks = [
            {
                "check": "upstream_gate",
                "passed": True,
                "n_failing": 0,
                "detail": "risk stage's disclosure record passed (counts are not published)",
            },
            {
                "check": "suppressed_blank",
                "passed": not bool(leaked.any()),
                "n_failing": int(leaked.sum()),
                "detail": "suppressed points carry no value",
            },
        ]
        record = {
            "artefact": name,
            "artefact_type": "curve",
            "passed": not leaked.any(),
            "thresholds": thresholds.as_dict(),
            "checks": checks,
        }
        if leaked.any():
            raise DisclosureError(f"figure {name!r}: a suppressed curve point carries a value")
    title = "Targeting support with the risk-screening model"
    has_band = {"conf_low", "conf_high"} <= set(c.columns)
    level = f"{100 * band_level:.0f}% " if band_level is not None else ""
    b_note = f", B = {n_bootstrap:,}" if n_bootstrap else ""
    band_name = f"{level}village-bootstrap band{b_note}"
    fig = plot_targeting_curve(
        c, title=title, headline=headline, band_label=f"{level}village-bootstrap band"
    )
    n_note = f"; n = {n_households:,} households" if n_households else ""
    band_text = (
        f"Shaded: {band_name} (pointwise percentile interval of the share reached; villages "
        "resampled within strata, the fold models held fixed). "
        if has_band
        else ""
    )
    caption = (
        f"{title}: share of the households with a risky migrant at wave 2 that would be reached "
        "if support went to the households ranked highest by the wave-1 risk score, against "
        "random and perfect targeting (out-of-fold predictions, village-grouped cross-validation; "
        f"the marked point's interval from a village bootstrap). {band_text}Aggregates only: no "
        f"individual score is published. Source: {source}{n_note}."
    )
    alt = "Line chart of the share of risky-migration households reached against the share served"
    alt += f", with a shaded {band_name}." if has_band else "."
    numbers: dict[str, float] = {}
    if headline is not None:
        alt += (
            f" Serving the top {100 * headline['share_served']:.0f}% reaches "
            f"{_pct(headline['estimate'])} (95% CI {_pct(headline['conf_low'])} to "
            f"{_pct(headline['conf_high'])}) of them, against {100 * headline['share_served']:.0f}% "
            "for random targeting."
        )
        numbers = {f"headline.{k}": float(v) for k, v in headline.items()}
    return Exhibit(name, title, fig, caption, alt, c, record, numbers)
