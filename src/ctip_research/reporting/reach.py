"""Programme reach in reports: the figure, the brief's sentences and table, the notebook view.

Everything here reads the gated reach table (``reach/reach.csv``, written by ``ctip reach``) and
prints only traced numbers (:mod:`ctip_research.reporting.trace`): a caption, alt text or brief
sentence is a whole template filled with values read from the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ctip_research import literals as L
from ctip_research.disclosure import Cells, DisclosurePolicy, disclose
from ctip_research.features.programme import PROGRAMME_INDICATORS
from ctip_research.reporting.figures import Exhibit, plot_group_estimates
from ctip_research.reporting.trace import Text, Traced, count, fill, join, level, pct

__all__ = [
    "REACH_FIGURE",
    "REACH_SOURCE",
    "REACH_TEMPLATES",
    "build_reach_figure",
    "reach_brief_section",
    "reach_notes",
    "read_reach",
    "show_reach",
]

#: The gated table every number below is read from (relative to the processed layer).
REACH_SOURCE = "reach/reach.csv"
#: File stem of the reach figure.
REACH_FIGURE = "reach_by_province"

#: Every sentence printed about programme reach (whole templates).
REACH_TEMPLATES: dict[str, str] = {
    "figure.title": "Households supported by the livelihood programme",
    "figure.head": "{title}: design-based estimate of the households supported in each "
    "province, wave {wave}, with {level} confidence intervals (Taylor linearisation on the "
    "stratified cluster design). All provinces: {total} households ({level} CI {low} to {high}).",
    "figure.suppressed": "Provinces suppressed for disclosure control (too few supported "
    "households in the sample): {n}.",
    "figure.source": "Source: {source}; n = {n} households.",
    "alt": "Dot chart with horizontal confidence-interval bars: households supported by the "
    "programme in each province; {total} in all ({level} CI {low} to {high}).",
    "brief.lead": "The survey puts the programme's reach at {total} households.",
    "brief.reach": "The survey estimates that the livelihood programme supported {total} "
    "households ({level} CI {low} to {high}), {share} of all households.",
    "brief.female": "In {female} of supported households the programme's representative is a "
    "woman ({level} CI {low} to {high}).",
    "brief.trained": "The programme trained {trained} household members ({level} CI {low} to "
    "{high}).",
    "brief.suppressed": "The survey estimate of the programme's reach does not pass the "
    "disclosure rules and is not published.",
    "brief.admin.inside": "The programme's own count, {admin} households, lies inside the survey "
    "interval.",
    "brief.admin.outside": "The programme's own count, {admin} households, lies outside the "
    "survey interval: the monitoring data and the survey disagree.",
    "note.not_recorded": "The survey does not record the training module, so members trained "
    "by module are not reported.",
    "note.deff": "Design effect: the variance against a simple random sample of the same size.",
}

_MODULE_INDICATORS = [i.name for i in PROGRAMME_INDICATORS if i.module is not None]


def read_reach(processed: Path | str) -> pd.DataFrame:
    """The gated reach table (``<processed>/reach/reach.csv``)."""
    return pd.read_csv(Path(processed) / "reach" / "reach.csv", dtype={"level": str})


def _overall(table: pd.DataFrame, indicator: str) -> dict[str, Any] | None:
    rows = table[(table["indicator"] == indicator) & (table["domain"] == "all")]
    if rows.empty or str(rows.iloc[0]["status"]) == "suppressed":
        return None
    return {str(k): v for k, v in rows.iloc[0].to_dict().items()}


def _loc(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"indicator": row["indicator"], "domain": row["domain"], "level": row["level"]}


def _count(row: Mapping[str, Any], column: str, src: str = REACH_SOURCE) -> Traced:
    return count(row[column], src, row=_loc(row), column=column)


def _pct(row: Mapping[str, Any], column: str, src: str = REACH_SOURCE) -> Traced:
    return pct(row[column], src, row=_loc(row), column=column)


def _level(row: Mapping[str, Any], src: str = REACH_SOURCE) -> Traced:
    return level(row["conf_level"], src, row=_loc(row), column="conf_level")


def _text(t: Traced) -> Text:
    return Text(t.text, (t.entry(),))


def reach_notes(not_recorded: Sequence[str]) -> list[str]:
    """Notes under the reach table: what the survey does not record, what a design effect is."""
    notes = [REACH_TEMPLATES["note.deff"]]
    if any(n in _MODULE_INDICATORS for n in not_recorded):
        notes.insert(0, REACH_TEMPLATES["note.not_recorded"])
    return notes


def build_reach_figure(
    table: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    wave: int,
    source: Traced | str,
) -> Exhibit:
    """The households supported by province, with intervals, from the gated reach table.

    The figure's data (``<name>.data.csv``) are the gated province rows and the overall row of
    ``households_supported``; the disclosure authority verifies them again (already gated).
    """
    name = REACH_FIGURE
    src = f"reach/{name}.data.csv"
    data = table[
        (table["indicator"] == "households_supported")
        & table["domain"].isin(["all", "province_code"])
    ].reset_index(drop=True)
    record = disclose(Cells(data, f"{name}", dims=["indicator", "domain", "level"]), policy).record
    labels = []
    for r in data.to_dict("records"):
        if r["domain"] == "all":
            labels.append("All provinces")
        else:
            code = int(float(r["level"]))
            labels.append(L.PROVINCES.get(code, str(code)))
    shown = data.assign(
        group=labels, **{c: data[c] / 1000.0 for c in ("estimate", "conf_low", "conf_high")}
    )
    title = REACH_TEMPLATES["figure.title"]
    fig = plot_group_estimates(
        shown,
        group="group",
        xlabel="Households supported (thousands)",
        title=title,
        percent=False,
    )
    overall = {str(k): v for k, v in data[data["domain"] == "all"].iloc[0].to_dict().items()}
    wave_t = count(wave, "params.yaml", path="reach.wave")
    published = str(overall["status"]) != "suppressed"
    parts: list[Text] = []
    if published:
        parts.append(
            fill(
                REACH_TEMPLATES["figure.head"],
                title=title,
                wave=wave_t,
                level=_level(overall, src),
                total=_count(overall, "estimate", src),
                low=_count(overall, "conf_low", src),
                high=_count(overall, "conf_high", src),
            )
        )
    n_sup = int((data["status"] == "suppressed").sum())
    if n_sup:
        parts.append(
            fill(
                REACH_TEMPLATES["figure.suppressed"],
                n=count(n_sup, src, derivation="rows with status suppressed"),
            )
        )
    parts.append(
        fill(
            REACH_TEMPLATES["figure.source"],
            source=source,
            n=count(overall["n_obs"], src, row=_loc(overall), column="n_obs"),
        )
    )
    caption = join(parts)
    alt = (
        fill(
            REACH_TEMPLATES["alt"],
            total=_count(overall, "estimate", src),
            level=_level(overall, src),
            low=_count(overall, "conf_low", src),
            high=_count(overall, "conf_high", src),
        )
        if published
        else Text(
            "Dot chart of households supported by province; the overall estimate is suppressed."
        )
    )
    numbers = {
        "households_supported": float(overall["estimate"]) if published else float("nan"),
    }
    return Exhibit.from_texts(name, title, fig, caption, alt, data, record, numbers)


def reach_brief_section(
    table: pd.DataFrame, *, say: Any = None
) -> tuple[Text, Text, list[list[Text]]] | None:
    """The brief's programme-reach finding: a lead, two or three sentences and a small table.

    ``say`` (the brief's sentence collector, ``say(key, conditions, **values)`` returning
    :class:`Text`) records every template chosen; without it the templates are filled directly.
    Returns None when the reach table has no households-supported row.
    """

    def _say(key: str, cond: Mapping[str, Any] | None = None, **values: Any) -> Text:
        if say is not None:
            return say(key, cond or {}, **values)
        return fill(REACH_TEMPLATES[key], **values)

    if table.empty or not (table["indicator"] == "households_supported").any():
        return None
    reach = _overall(table, "households_supported")
    share = _overall(table, "households_supported_share")
    if reach is None or share is None:
        text = _say("brief.suppressed", {"status": "suppressed"})
        return text, text, []
    cond = {"estimate": float(reach["estimate"])}
    lead = _say("brief.lead", cond, total=_count(reach, "estimate"))
    parts = [
        _say(
            "brief.reach",
            cond,
            total=_count(reach, "estimate"),
            level=_level(reach),
            low=_count(reach, "conf_low"),
            high=_count(reach, "conf_high"),
            share=_pct(share, "estimate"),
        )
    ]
    admin = reach.get("admin_count")
    if admin is not None and not pd.isna(admin):
        inside = bool(reach.get("admin_in_interval"))
        parts.append(
            _say(
                "brief.admin.inside" if inside else "brief.admin.outside",
                {"admin_count": float(admin), "inside": inside},
                admin=_count(reach, "admin_count"),
            )
        )
    female = _overall(table, "female_representative_share")
    if female is not None:
        parts.append(
            _say(
                "brief.female",
                {"estimate": float(female["estimate"])},
                female=_pct(female, "estimate"),
                level=_level(female),
                low=_pct(female, "conf_low"),
                high=_pct(female, "conf_high"),
            )
        )
    trained = _overall(table, "members_trained")
    if trained is not None:
        parts.append(
            _say(
                "brief.trained",
                {"estimate": float(trained["estimate"])},
                trained=_count(trained, "estimate"),
                level=_level(trained),
                low=_count(trained, "conf_low"),
                high=_count(trained, "conf_high"),
            )
        )
    rows: list[list[Text]] = []
    for name in ("households_supported", "female_representative_share", "members_trained"):
        r = _overall(table, name)
        if r is None:
            continue
        value = _pct if r["unit"] == "share" else _count
        label = Text(str(r["label"]), ())
        interval = join([_text(value(r, "conf_low")), Text("to"), _text(value(r, "conf_high"))])
        rows.append([label, _text(value(r, "estimate")), interval])
    return lead, join(parts), rows


def show_reach(processed: Path | str, *, policy: DisclosurePolicy | None = None) -> None:
    """The "Programme reach" section of a report notebook: the gated table (checked again by the
    disclosure authority as it is shown), the figure with its caption, and the notes (what the
    survey does not record; the programme's own counts beside the survey's intervals).
    """
    import json

    from IPython.display import Image, display

    from ctip_research.reporting.notebook import show_markdown, show_table

    out = Path(processed) / "reach"
    if not (out / "reach.csv").exists():
        show_markdown("*Programme reach: `ctip reach` has not run on this data.*")
        return
    table = read_reach(processed)
    meta = json.loads((out / "reach.json").read_text(encoding="utf-8"))
    shown = table.assign(domain=table["domain"].where(table["domain"] != "all", "all households"))
    show_table(
        shown,
        name="programme reach",
        policy=policy,
        dims=["indicator", "domain", "level"],
        caption="The programme's indicators estimated from the survey (wave "
        f"{int(meta['wave'])}): design-based totals and shares with their confidence intervals "
        "and design effects; households = unweighted households behind each estimate.",
        hide=(
            "kind",
            "is_flagged",
            "indicator",
            "n_denominator",
            "suppression_reason",
            "conf_level",
            *(() if table["admin_count"].notna().any() else ("admin_count", "admin_in_interval")),
        ),
        rename={"label": "indicator", "n_obs": "households", "n_numerator": "with attribute"},
        digits=6,
    )
    for note in meta.get("notes", []):
        show_markdown("*" + note + "*")
    admin = table[table["admin_count"].notna()] if "admin_count" in table.columns else table[:0]
    for r in admin.to_dict("records"):
        verdict = (
            "not compared (the survey estimate is suppressed)"
            if pd.isna(r["admin_in_interval"])
            else "inside the survey interval"
            if str(r["admin_in_interval"]).lower() == "true"
            else "outside the survey interval: the monitoring data and the survey disagree"
        )
        show_markdown(f"*{r['label']}: the programme's own count is {verdict}.*")
    figure = out / f"{REACH_FIGURE}.png"
    if figure.exists():
        display(Image(filename=str(figure), width=640))
        caption = (out / f"{REACH_FIGURE}.caption.md").read_text(encoding="utf-8").strip()
        show_markdown("*" + caption + "*")
