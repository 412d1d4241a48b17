"""Figures of the reports and the brief, each built behind the disclosure authority.

Every builder is pure: data frames in, an :class:`Exhibit` out (the matplotlib figure, its caption
with source and sample sizes, its alt text, the gated data behind it, the check record, and the
trace of every number in the caption and the alt text). The stage
(:mod:`ctip_research.stages.figures`) writes them. Confidence intervals are always drawn, at the
level the data carry; suppressed cells are drawn as a 'suppressed' note at their place, flagged
cells with a hollow marker and a dagger; no figure shows individual households.

Captions and alt texts are written only from whole templates (:data:`CAPTIONS`) filled with traced
values (:mod:`ctip_research.reporting.trace`): levels come from the data (``conf_level``),
thresholds from the check record, counts from the gated data, labels from the parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ctip_research.disclosure import Cells, Curve, DisclosurePolicy, Regressions, disclose
from ctip_research.errors import DisclosureError
from ctip_research.i18n import translate
from ctip_research.labels import variable_label
from ctip_research.reporting.style import COLOURS, GREY, MARKERS, figure_style, new_figure
from ctip_research.reporting.tables import summarise_by
from ctip_research.reporting.trace import (
    Text,
    Traced,
    count,
    fill,
    join,
    level,
    listing,
    pct,
    pp,
    traced_text,
)

__all__ = [
    "CAPTIONS",
    "ESTIMAND_PHRASES",
    "TOTAL_LABELS",
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

#: Every sentence of the captions and alt texts (whole templates; placeholders are filled with
#: traced values or plain words).
CAPTIONS: dict[str, str] = {
    "design": "Bars: {level} confidence intervals (Taylor linearisation on the stratified cluster "
    "design, t on PSUs minus strata degrees of freedom).",
    "gate": "Disclosure control: cells on fewer than {reliability} households, or with fewer than "
    "{minimum} households in the numerator or without the attribute ({minimum_trafficking} for "
    "identified trafficking cases), are suppressed, with secondary suppression; † marks estimates "
    "on fewer than {flag} households (less reliable).",
    "sample": "Source: {source}; n = {n} households in {villages} villages.",
    "debt.head": "{title}: weighted share of households, {labels}, by province, wave {wave}.",
    "band.head": "{title}: weighted share of households with {labels}, by monthly debt service as "
    "a share of monthly income (bands; income includes remittances, as households report it), "
    "wave {wave}.",
    "alt.debt": "Dot chart with horizontal confidence-interval bars: share of households by "
    "province (wave {wave}) for the indicators {labels}.",
    "alt.band": "Dot chart with horizontal confidence-interval bars: share of households with a "
    "migrant and with a risky migrant, by debt-service-to-income band.",
    "alt.range": "{label}: overall {overall}; highest in {hi_group} ({hi}, {level} CI {hi_low} to "
    "{hi_high}), lowest in {lo_group} ({lo}, {level} CI {lo_low} to {lo_high}).",
    "alt.range_no_total": "{label}: highest in {hi_group} ({hi}, {level} CI {hi_low} to "
    "{hi_high}), lowest in {lo_group} ({lo}, {level} CI {lo_low} to {lo_high}).",
    "alt.all_suppressed": "{label}: all groups suppressed.",
    "alt.n_suppressed": "Cells suppressed for disclosure control: {n}.",
    "effects.head": "{title}: the coefficient of {exposure} on {outcome} in each model (effects "
    "in percentage points), with {level} confidence intervals (errors clustered by village or "
    "design-based, as stated in the regression tables).",
    "effects.estimand": "{model} estimates {estimand}.",
    "effects.suppressed": "{model}: suppressed (disclosure control).",
    "effects.truth": "Crosses mark the true effect built into the synthetic data.",
    "effects.source": "Source: {source}; {sizes}.",
    "effects.size": "{model} n = {n}",
    "alt.effects": "Coefficient plot, a row per model: {items}.",
    "alt.effect": "{model} {estimate} points ({level} CI {low} to {high})",
    "alt.effect_truth": "{model} {estimate} points ({level} CI {low} to {high}), true value "
    "{truth}",
    "alt.effect_suppressed": "{model} suppressed",
    "targeting.head": "{title}: share of the households with a risky migrant at the later wave "
    "that would be reached if support went to the households ranked highest by the baseline risk "
    "score, against random and perfect targeting (out-of-fold predictions, village-grouped "
    "cross-validation; the marked point's interval from a village bootstrap).",
    "targeting.band": "Shaded: {level} village-bootstrap band, B = {b} (pointwise percentile "
    "interval of the share reached; villages resampled within strata, the fold models held "
    "fixed).",
    "targeting.source": "Aggregates only: no individual score is published. Source: {source}; "
    "n = {n} households.",
    "targeting.source_no_n": "Aggregates only: no individual score is published. Source: {source}.",
    "alt.targeting": "Line chart of the share of risky-migration households reached against the "
    "share served.",
    "alt.targeting_band": "Line chart of the share of risky-migration households reached against "
    "the share served, with a shaded {level} village-bootstrap band, B = {b}.",
    "alt.targeting_headline": "Serving the top {served} reaches {reached} ({level} CI {low} to "
    "{high}) of them, against {served} for random targeting.",
    "alt.targeting_headline_no_level": "Serving the top {served} reaches {reached} (interval "
    "{low} to {high}) of them, against {served} for random targeting.",
}

#: What each estimand is, in words (captions and the brief).
ESTIMAND_PHRASES: dict[str, str] = {
    "ate": "the average effect among all households",
    "late": "the effect among households whose borrowing follows the instrument",
    "within_household": "the effect among households whose borrowing changed between waves",
    "att": "the effect on the participating households",
    "population_mean": "a population share",
}

#: Group column and margin label of the descriptive figures' gated data (``<name>.data.csv``).
TOTAL_LABELS: dict[str, tuple[str, str]] = {
    "debt_burden_by_province": ("province", "All provinces"),
    "migration_by_debt_band": ("debt_band", "All households"),
}

#: Where the builders' parameters live in params.yaml (the trace of a printed parameter).
PARAM_PATHS: dict[str, str] = {
    "wave": "figures.wave",
    "source": "figures.source_label",
    "model_label": "fit.models[{model}].label",
}


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
        Named headline numbers of the figure (all from ``data``).
    trace
        ``caption`` and ``alt``: the trace entries of every number printed in them.
    """

    name: str
    title: str
    figure: Figure
    caption: str
    alt_text: str
    data: pd.DataFrame
    record: dict[str, Any]
    numbers: dict[str, float] = field(default_factory=dict)
    trace: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def from_texts(
        cls,
        name: str,
        title: str,
        fig: Figure,
        caption: Text,
        alt: Text,
        data: pd.DataFrame,
        record: dict[str, Any],
        numbers: dict[str, float],
    ) -> Exhibit:
        """An exhibit whose caption and alt text are traced texts (their traces kept)."""
        return cls(
            name,
            title,
            fig,
            caption.text,
            alt.text,
            data,
            record,
            numbers,
            {"caption": list(caption.trace), "alt": list(alt.trace)},
        )


def _data_src(name: str) -> str:
    return f"figures/{name}.data.csv"


def _record_src(name: str) -> str:
    return f"figures/{name}.disclosure.json"


def _param(value: Any, key: str, **fmt: str) -> Traced:
    if isinstance(value, Traced):  # already traced (e.g. the source named by the data identity)
        return value
    return traced_text(str(value), "params.yaml", path=PARAM_PATHS[key].format(**fmt))


def _wave(wave: int) -> Traced:
    return count(wave, "params.yaml", path=PARAM_PATHS["wave"])


def _gate_note(policy: DisclosurePolicy, name: str) -> Text:
    src = _record_src(name)

    def thr(key: str) -> Traced:
        return count(getattr(policy, key), src, path=f"policy.thresholds.{key}")

    return fill(
        CAPTIONS["gate"],
        reliability=thr("reliability_suppress_below"),
        minimum=thr("min_cell_count"),
        minimum_trafficking=thr("min_cell_count_trafficking"),
        flag=thr("reliability_flag_below"),
    )


def _named(column: str) -> str:
    """A column as a reader sees it: its label, with the variable name in parentheses."""
    label = variable_label(column)
    return f"“{label}” ({column})" if label != column else column


def _words(values: Sequence[str]) -> str:
    return " and ".join(f"'{v}'" for v in values)


# ------------------------------------------------------------------------------------------------
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
            _plot_series_points(
                ax,
                sub,
                _SeriesStyle(
                    group=group,
                    groups=groups,
                    k=k,
                    offset=(k - (n_series - 1) / 2) * step,
                    scale=scale,
                    prefix=labels.get(sval, "") + ": " if series else "",
                    legend=labels.get(sval, sval) if series is not None else None,
                ),
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


@dataclass(frozen=True)
class _SeriesStyle:
    """Where and how one series of :func:`plot_group_estimates` is drawn."""

    group: str
    groups: list[str]
    k: int
    offset: float
    scale: float
    prefix: str
    legend: str | None


def _plot_series_points(ax: Axes, sub: pd.DataFrame, st: _SeriesStyle) -> None:
    """Draw one series: a dot and whisker per group, 'suppressed' text, '†' when flagged."""
    lookup: dict[str, dict[Any, Any]] = {str(r[st.group]): dict(r) for r in sub.to_dict("records")}
    colour, marker = COLOURS[st.k % len(COLOURS)], MARKERS[st.k % len(MARKERS)]
    first = True
    for i, g in enumerate(st.groups):
        if g not in lookup:
            continue
        row = lookup[g]
        y = i + st.offset
        if str(row["status"]) == "suppressed":
            ax.text(
                0.01,
                y,
                f"{st.prefix}suppressed",
                va="center",
                ha="left",
                fontsize=7.5,
                color=GREY,
                style="italic",
                transform=ax.get_yaxis_transform(),
            )
            continue
        est = float(row["estimate"]) * st.scale
        lo = float(row["conf_low"]) * st.scale
        hi = float(row["conf_high"]) * st.scale
        flagged = str(row["status"]) == "flagged"
        ax.errorbar(
            est,
            y,
            xerr=[[est - lo], [hi - est]],
            fmt=marker,
            color=colour,
            markerfacecolor="white" if flagged else colour,
            linestyle="none",
            label=st.legend if first else None,
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
    >>> [t.get_text() for t in fig.axes[0].texts]  # a cell per scenario and model
    ['0.95', '1.00', '0.50', 'n/a']
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
    interval_label: str = "Estimate and interval",
    percent_points: bool = True,
) -> Figure:
    """Coefficient plot: one row per estimate (``label``) with its interval; truth if given.

    ``effects`` has ``label, estimate, conf_low, conf_high`` and optionally ``truth`` (the true
    value each estimate targets, drawn as a cross). A row without an estimate (suppressed) is
    labelled 'suppressed' in place. ``interval_label`` names the interval (with its level).

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
        first = True
        for i, (_, row) in enumerate(effects.iterrows()):
            if pd.isna(row["estimate"]):
                ax.text(
                    0.01,
                    i,
                    "suppressed",
                    va="center",
                    ha="left",
                    fontsize=7.5,
                    color=GREY,
                    style="italic",
                    transform=ax.get_yaxis_transform(),
                )
                continue
            est = float(row["estimate"]) * scale
            lo, hi = float(row["conf_low"]) * scale, float(row["conf_high"]) * scale
            ax.errorbar(
                est,
                i,
                xerr=[[est - lo], [hi - est]],
                fmt="o",
                color=COLOURS[1],
                linestyle="none",
                label=interval_label if first else None,
            )
            first = False
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
    band_label: str = "Interval",
    headline_label: str | None = None,
) -> Figure:
    """Targeting (cumulative gains) curve with random and perfect targeting for reference.

    ``curve`` has ``share_served``, ``share_reached`` and optionally ``share_reached_perfect``,
    ``conf_low`` / ``conf_high`` (a band, legend ``band_label``) and ``is_suppressed``.
    ``headline`` (``share_served``, ``estimate``, ``conf_low``, ``conf_high``) adds the headline
    point with its interval (legend ``headline_label``).

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
                label=headline_label or f"Top {hx:.0f}% served",
            )
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.set_xlabel("Households served, top-ranked by risk score (% of households)")
        ax.set_ylabel("Risky-migration households reached (%)")
        ax.set_title(title)
        ax.legend(loc="lower right")
    return fig


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
    cells: pd.DataFrame, policy: DisclosurePolicy, *, name: str, group: str, total_label: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Gate each indicator's cells (each is its own additive table with a Total)."""
    gated, suppressed, flagged = [], [], []
    for ind, part in cells.groupby("indicator", sort=False):
        res = disclose(Cells(part, f"{name}:{ind}", dims=[group], total_label=total_label), policy)
        assert res.table is not None
        gated.append(res.table)
        suppressed += [{**s, "indicator": ind} for s in res.record["suppressed"]]
        flagged += [{**f, "indicator": ind} for f in res.record["flagged"]]
    table = pd.concat(gated, ignore_index=True)
    record = disclose(
        Cells(table, name, dims=["indicator", group], total_label=total_label), policy
    ).record
    record["suppressed"] = suppressed
    record["flagged"] = flagged
    return table, record


def _cell(row: Any, group: str, column: str) -> dict[str, Any]:
    return {"row": {"indicator": row["indicator"], group: row[group]}, "column": column}


def _alt_ranges(
    table: pd.DataFrame,
    *,
    name: str,
    group: str,
    indicators: Mapping[str, str],
    total_label: str,
    label_path: str,
) -> Text:
    src = _data_src(name)
    parts: list[Text] = []
    for col, label in indicators.items():
        lab = traced_text(label, "params.yaml", path=f"{label_path}.{col}")
        sub = table[(table["indicator"] == col) & (table["status"] != "suppressed")]
        inner = sub[sub[group] != total_label]
        tot = sub[sub[group] == total_label]
        if inner.empty:
            parts.append(fill(CAPTIONS["alt.all_suppressed"], label=lab))
            continue
        ranked = inner.sort_values("estimate", kind="stable")
        hi, lo = ranked.iloc[-1], ranked.iloc[0]

        def share(row: pd.Series, column: str) -> Traced:
            return pct(row[column], src, **_cell(row, group, column))

        def grp(row: pd.Series) -> Traced:
            return Traced(str(row[group]), str(row[group]), src, _cell(row, group, group), "text")

        values: dict[str, Traced | Text | str] = {
            "label": lab,
            "hi_group": grp(hi),
            "hi": share(hi, "estimate"),
            "hi_low": share(hi, "conf_low"),
            "hi_high": share(hi, "conf_high"),
            "lo_group": grp(lo),
            "lo": share(lo, "estimate"),
            "lo_low": share(lo, "conf_low"),
            "lo_high": share(lo, "conf_high"),
            "level": level(hi["conf_level"], src, **_cell(hi, group, "conf_level")),
        }
        if len(tot):
            values["overall"] = share(tot.iloc[0], "estimate")
            parts.append(fill(CAPTIONS["alt.range"], **values))
        else:
            parts.append(fill(CAPTIONS["alt.range_no_total"], **values))
    n_sup = int((table["status"] == "suppressed").sum())
    if n_sup:
        parts.append(
            fill(
                CAPTIONS["alt.n_suppressed"],
                n=count(n_sup, src, derivation="rows with status suppressed"),
            )
        )
    return join(parts)


def _sample_note(
    table: pd.DataFrame, *, name: str, group: str, total_label: str, source: Traced
) -> Text:
    """'Source: ...; n = ... households in ... villages', from the gated data's largest margin."""
    src = _data_src(name)
    tot = table[(table[group] == total_label) & (table["status"] != "suppressed")]
    if tot.empty:
        return fill("Source: {source}.", source=source)
    row = tot.sort_values("n_denominator", kind="stable").iloc[-1]
    return fill(
        CAPTIONS["sample"],
        source=source,
        n=count(row["n_denominator"], src, **_cell(row, group, "n_denominator")),
        villages=count(row["n_psu"], src, **_cell(row, group, "n_psu")),
    )


def _design_note(table: pd.DataFrame, *, name: str, group: str) -> Text:
    row = table.iloc[0]
    return fill(
        CAPTIONS["design"],
        level=level(row["conf_level"], _data_src(name), **_cell(row, group, "conf_level")),
    )


def build_debt_burden_figure(
    households: pd.DataFrame,
    *,
    indicators: Mapping[str, str],
    province_names: Mapping[int, str],
    policy: DisclosurePolicy,
    source: str | Traced,
    wave: int,
    conf_level: float = 0.95,
    total_label: str = TOTAL_LABELS["debt_burden_by_province"][1],
    name: str = "debt_burden_by_province",
) -> Exhibit:
    """Debt burden by province: weighted shares of households (e.g. with an MFI loan,
    over-indebted) with confidence intervals, gated.

    Parameters
    ----------
    households
        ``household_wave`` rows (design columns, ``province_code``, ``wave`` and the indicators).
    indicators
        Indicator column -> legend label (0/1 columns; ``figures.debt_indicators``).
    province_names
        NIS code -> province name.
    policy
        Disclosure policy.
    source
        Source line for the caption (``figures.source_label``).
    wave
        Survey wave shown (``figures.wave``).
    conf_level
        Level of the intervals (``figures.conf_level``; written into the data and the caption).
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
        cells, policy, name=name, group="province", total_label=total_label
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
    labels = traced_text(
        _words(list(indicators.values())), "params.yaml", path="figures.debt_indicators"
    )
    caption = join(
        [
            fill(CAPTIONS["debt.head"], title=title, labels=labels, wave=_wave(wave)),
            _design_note(table, name=name, group="province"),
            _sample_note(
                table,
                name=name,
                group="province",
                total_label=total_label,
                source=_param(source, "source"),
            ),
            _gate_note(policy, name),
        ]
    )
    alt = join(
        [
            fill(CAPTIONS["alt.debt"], wave=_wave(wave), labels=labels),
            _alt_ranges(
                table,
                name=name,
                group="province",
                indicators=indicators,
                total_label=total_label,
                label_path="figures.debt_indicators",
            ),
        ]
    )
    numbers = _total_numbers(table, group="province", total_label=total_label)
    return Exhibit.from_texts(name, title, fig, caption, alt, table, record, numbers)


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
    policy: DisclosurePolicy,
    source: str | Traced,
    wave: int,
    conf_level: float = 0.95,
    total_label: str = TOTAL_LABELS["migration_by_debt_band"][1],
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
        cells, policy, name=name, group="debt_band", total_label=total_label
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
    labels = traced_text(
        _words(list(outcomes.values())), "params.yaml", path="figures.migration_outcomes"
    )
    caption = join(
        [
            fill(CAPTIONS["band.head"], title=title, labels=labels, wave=_wave(wave)),
            _design_note(table, name=name, group="debt_band"),
            _sample_note(
                table,
                name=name,
                group="debt_band",
                total_label=total_label,
                source=_param(source, "source"),
            ),
            _gate_note(policy, name),
        ]
    )
    alt = join(
        [
            fill(CAPTIONS["alt.band"]),
            _alt_ranges(
                table,
                name=name,
                group="debt_band",
                indicators=outcomes,
                total_label=total_label,
                label_path="figures.migration_outcomes",
            ),
        ]
    )
    numbers = _total_numbers(table, group="debt_band", total_label=total_label)
    for _, row in table[table["status"] != "suppressed"].iterrows():
        numbers[f"{row['indicator']}[{row['debt_band']}].estimate"] = float(row["estimate"])
    return Exhibit.from_texts(name, title, fig, caption, alt, table, record, numbers)


def _pp_entry(row: Any, column: str, *, signed: bool = True) -> Traced:
    return pp(
        row[column],
        "models/estimates.csv",
        row={"model": row["model"], "term": row["term"]},
        column=column,
        signed=signed,
    )


def build_effects_figure(
    estimates: pd.DataFrame,
    *,
    models: Mapping[str, str],
    policy: DisclosurePolicy,
    source: str | Traced,
    title: str,
    xlabel: str,
    name: str,
    truth: Mapping[str, float] | None = None,
    upstream: Sequence[Mapping[str, Any]] = (),
    title_path: str = "figures.effect_title",
) -> Exhibit:
    """Effect estimates of several models side by side (the exposure's term of each model).

    Parameters
    ----------
    estimates
        ``estimates.csv`` rows (``model, outcome, exposure, term, estimate, conf_low, conf_high,
        n_obs, n_psu, estimand, conf_level, status``).
    models
        Model name -> label, in display order (labels from ``fit.models[].label``).
    truth
        Model name -> the true value the model's estimand has on synthetic data (optional; from
        ``validation/validation.csv``).
    upstream
        The check record of ``estimates.csv`` (the fit stage gated the rows).
    """
    effects = _effect_rows(estimates, models, truth, name)
    record = disclose(Regressions(effects, name, upstream=upstream), policy).record
    shown = effects[effects["status"] != "suppressed"]
    has_truth = bool(shown["truth"].notna().any())
    lev = shown.iloc[0] if len(shown) else None
    level_txt = (
        level(
            lev["conf_level"],
            "models/estimates.csv",
            row={"model": lev["model"], "term": lev["term"]},
            column="conf_level",
        )
        if lev is not None
        else None
    )
    fig = plot_effects(
        effects,
        xlabel=xlabel,
        title=title,
        interval_label=f"Estimate and {level_txt.text} CI" if level_txt else "Estimate",
    )
    head_values = _effects_head_values(effects.iloc[0], title, title_path)
    parts: list[Text | None] = []
    if level_txt is not None:
        parts.append(fill(CAPTIONS["effects.head"], level=level_txt, **head_values))
    parts += [_effect_estimand_note(r) for _, r in effects.iterrows()]
    if has_truth:
        parts.append(fill(CAPTIONS["effects.truth"]))
    sizes = listing(
        [
            fill(
                CAPTIONS["effects.size"],
                model=_model_label(r),
                n=count(
                    r["n_obs"],
                    "models/estimates.csv",
                    row={"model": r["model"], "term": r["term"]},
                    column="n_obs",
                ),
            )
            for _, r in shown.iterrows()
        ]
    )
    parts.append(fill(CAPTIONS["effects.source"], source=_param(source, "source"), sizes=sizes))
    caption = join(parts)
    items = [_effect_alt_item(r) for _, r in effects.iterrows()]
    alt = fill(CAPTIONS["alt.effects"], items=listing(items, "; "))
    numbers: dict[str, float] = {}
    for _, r in effects.iterrows():
        for col in ("estimate", "conf_low", "conf_high", "truth"):
            numbers[f"{r['model']}.{col}"] = float(r[col])
    keep = [c for c in _EFFECT_COLUMNS if c in effects.columns]
    return Exhibit.from_texts(name, title, fig, caption, alt, effects[keep], record, numbers)


#: Columns of an effects figure's data, in order (those present are kept).
_EFFECT_COLUMNS = (
    "model",
    "label",
    "outcome",
    "exposure",
    "term",
    "estimand",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "conf_level",
    "p_value",
    "n_obs",
    "n_psu",
    "truth",
    "status",
)


def _effect_rows(
    estimates: pd.DataFrame,
    models: Mapping[str, str],
    truth: Mapping[str, float] | None,
    name: str,
) -> pd.DataFrame:
    """The exposure row of each model, in display order, with its label and true value."""
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
    if "status" not in effects.columns:
        effects["status"] = "published"
    for col in ("conf_level", "estimand"):
        if col not in effects.columns:
            raise DisclosureError(f"figure {name!r}: the estimates table has no {col} column")
    return effects


def _model_label(r: Any) -> Traced:
    """A model's display label, traced to its parameter."""
    return _param(r["label"], "model_label", model=r["model"])


def _effects_head_values(first: Any, title: str, title_path: str) -> dict[str, Traced | Text | str]:
    """Title, exposure and outcome phrases of the caption's head (read from the first row)."""
    at_first = {"row": {"model": first["model"], "term": first["term"]}}
    return {
        "title": traced_text(title, "params.yaml", path=title_path),
        "exposure": Traced(
            _named(str(first["exposure"])),
            str(first["exposure"]),
            "models/estimates.csv",
            {**at_first, "column": "exposure"},
            "phrase",  # the column's declared label, named after the column it was read from
        ),
        "outcome": Traced(
            _named(str(first["outcome"])),
            str(first["outcome"]),
            "models/estimates.csv",
            {**at_first, "column": "outcome"},
            "phrase",  # the column's declared label, named after the column it was read from
        ),
    }


def _effect_estimand_note(r: Any) -> Text:
    """The caption's note on one model: its estimand, or that it is suppressed."""
    if r["status"] == "suppressed":
        return fill(CAPTIONS["effects.suppressed"], model=_model_label(r))
    return fill(
        CAPTIONS["effects.estimand"],
        model=_model_label(r),
        estimand=translate(
            ESTIMAND_PHRASES.get(str(r["estimand"]), str(r["estimand"])),
            context=f"estimand:{r['estimand']}",
        ),
    )


def _effect_alt_item(r: Any) -> Text:
    """One model's estimate and interval (and true value) in the alt text."""
    if r["status"] == "suppressed":
        return fill(CAPTIONS["alt.effect_suppressed"], model=_model_label(r))
    vals: dict[str, Traced | Text | str] = {
        "model": _model_label(r),
        "estimate": _pp_entry(r, "estimate"),
        "low": _pp_entry(r, "conf_low"),
        "high": _pp_entry(r, "conf_high"),
        "level": level(
            r["conf_level"],
            "models/estimates.csv",
            row={"model": r["model"], "term": r["term"]},
            column="conf_level",
        ),
    }
    if np.isfinite(r["truth"]):
        vals["truth"] = pp(
            r["truth"],
            "validation/validation.csv",
            row={"model": r["model"]},
            column="truth",
            signed=True,
        )
        return fill(CAPTIONS["alt.effect_truth"], **vals)
    return fill(CAPTIONS["alt.effect"], **vals)


def build_targeting_figure(
    curve: pd.DataFrame,
    *,
    policy: DisclosurePolicy,
    source: str | Traced,
    headline: Mapping[str, float] | None = None,
    n_households: int | None = None,
    upstream_record: Mapping[str, Any] | None = None,
    band_level: float | None = None,
    n_bootstrap: int | None = None,
    name: str = "targeting_curve",
    metrics_source: str = "risk/metrics.json",
) -> Exhibit:
    """The risk model's targeting curve (aggregates only), gated.

    ``curve`` comes from the risk stage (``share_served, share_reached`` and optionally
    ``share_reached_perfect``, ``conf_low``, ``conf_high``, ``is_suppressed``). With the counts
    ``n_served`` / ``n_reached``, the points are gated here (as shares reached among the served);
    without them (the risk stage does not publish them) the curve must carry ``is_suppressed``
    and the risk stage's passed check record (``upstream_record``). The band ``conf_low`` /
    ``conf_high`` is the risk stage's pointwise village-bootstrap percentile band at level
    ``band_level`` from ``n_bootstrap`` replicates (named so in the caption); the band of a
    suppressed point is blanked with the point. ``headline`` (``share_served``, ``estimate``,
    ``conf_low``, ``conf_high``), ``n_households``, ``band_level`` and ``n_bootstrap`` are read
    from ``metrics_source`` (the risk stage's ``metrics.json``: ``settings.top_share``,
    ``overall.top_share_reached(_low/_high)``, ``design.n_households``, ``settings.ci_level``,
    ``design.n_bootstrap``) and traced there.

    Examples
    --------
    >>> c = pd.DataFrame({"share_served": [0.2, 0.5], "share_reached": [0.5, 0.8],
    ...                   "conf_low": [0.4, 0.7], "conf_high": [0.6, 0.9],
    ...                   "n_served": [200, 500], "n_reached": [60, 96]})
    >>> ex = build_targeting_figure(c, policy=DisclosurePolicy(), source="demo",
    ...                             band_level=0.95, n_bootstrap=500)
    >>> "95% village-bootstrap band, B = 500" in ex.caption
    True
    """
    c, record = _gate_targeting_curve(curve, policy, name=name, upstream_record=upstream_record)
    title = "Targeting support with the risk-screening model"
    has_band = {"conf_low", "conf_high"} <= set(c.columns) and band_level is not None
    src = metrics_source
    band_lev = level(band_level, src, path="settings.ci_level") if band_level is not None else None
    b = count(n_bootstrap, src, path="design.n_bootstrap") if n_bootstrap else None
    head_lev = band_lev
    fig = plot_targeting_curve(
        c,
        title=title,
        headline=headline,
        band_label=f"{band_lev.text} village-bootstrap band" if band_lev else "Band",
        headline_label=(
            f"Top {pct(headline['share_served'], src).text} served"
            + (f" ({head_lev.text} CI)" if head_lev else "")
        )
        if headline is not None
        else None,
    )
    band = (band_lev, b) if has_band and band_lev is not None and b is not None else None
    parts: list[Text | None] = [fill(CAPTIONS["targeting.head"], title=title)]
    if band is not None:
        parts.append(fill(CAPTIONS["targeting.band"], level=band[0], b=band[1]))
    if n_households:
        parts.append(
            fill(
                CAPTIONS["targeting.source"],
                source=_param(source, "source"),
                n=count(n_households, src, path="design.n_households"),
            )
        )
    else:
        parts.append(fill(CAPTIONS["targeting.source_no_n"], source=_param(source, "source")))
    caption = join(parts)
    alt = _targeting_alt(band, headline, head_lev, src)
    numbers: dict[str, float] = {}
    if headline is not None:
        numbers = {f"headline.{k}": float(v) for k, v in headline.items()}
    return Exhibit.from_texts(name, title, fig, caption, alt, c, record, numbers)


def _gate_targeting_curve(
    curve: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    name: str,
    upstream_record: Mapping[str, Any] | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Gate the curve's points on their counts, or check the risk stage's suppression."""
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
        cells = pd.DataFrame(
            {
                "share_served": c["share_served"].astype(str),
                "estimate": c["share_reached"],
                "kind": "share",
                "n_numerator": c["n_reached"],
                "n_denominator": c["n_served"],
            }
        )
        gated = disclose(Cells(cells, name, dims=["share_served"], lines=[]), policy)
        assert gated.table is not None
        c["is_suppressed"] = (gated.table["status"] == "suppressed").to_numpy() | prior.to_numpy()
        c.loc[c["is_suppressed"], value_cols] = np.nan
        return c.drop(columns=["n_served", "n_reached"]), gated.record
    if "is_suppressed" not in c.columns or upstream_record is None:
        raise DisclosureError(
            f"figure {name!r}: the targeting curve has no counts, no is_suppressed column or "
            "no check record of the risk stage, so it cannot be shown to be safe"
        )
    leaked = c.loc[prior, value_cols].notna().any(axis=1)
    if leaked.any():
        raise DisclosureError(f"figure {name!r}: a suppressed curve point carries a value")
    record = disclose(
        Curve(c, name, value_columns=value_cols, upstream=[upstream_record]), policy
    ).record
    return c, record


def _targeting_alt(
    band: tuple[Traced, Traced] | None,
    headline: Mapping[str, float] | None,
    head_lev: Traced | None,
    src: str,
) -> Text:
    """The targeting figure's alt text: the curve (with its band) and the headline point."""
    alt_parts: list[Text | None] = [
        fill(CAPTIONS["alt.targeting_band"], level=band[0], b=band[1])
        if band is not None
        else fill(CAPTIONS["alt.targeting"])
    ]
    if headline is not None:
        values: dict[str, Traced | Text | str] = {
            "served": pct(headline["share_served"], src, path="settings.top_share"),
            "reached": pct(headline["estimate"], src, path="overall.top_share_reached"),
            "low": pct(headline["conf_low"], src, path="overall.top_share_reached_low"),
            "high": pct(headline["conf_high"], src, path="overall.top_share_reached_high"),
        }
        if head_lev is not None:
            alt_parts.append(fill(CAPTIONS["alt.targeting_headline"], level=head_lev, **values))
        else:
            alt_parts.append(fill(CAPTIONS["alt.targeting_headline_no_level"], **values))
    return join(alt_parts)
