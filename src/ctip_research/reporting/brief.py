"""The policy brief: sentences chosen from templates by what the estimates show, typeset as PDF
and HTML.

Evidence-bound: every sentence is one of the whole templates in :data:`TEMPLATES` (named
placeholders, ready for a message catalogue), chosen by conditions checked against
``estimates.csv``:

- an effect is stated with a direction only when its interval excludes zero (the sign of the
  interval), and with the level the estimates carry (``conf_level``);
- each effect is named by the estimand its model estimates (``estimand``, as ``ctip fit``
  records it), followed by that estimand's identifying assumption (:data:`ASSUMPTIONS`);
- estimates are compared only when they have the same estimand, outcome, exposure and
  population; the comparison says larger or smaller only when the intervals do not overlap;
- a mechanism sentence (why a simple comparison differs) appears only when models in the run
  estimate that mechanism: the same cause raising both the exposure and the outcome, each with an
  interval above zero;
- a suppressed estimate is said to be suppressed, with no number.

Every number on the page (digits and spelled-out counts) comes from a traced value
(:mod:`ctip_research.reporting.trace`): ``brief.json`` lists, block by block, each number as
printed with its source artefact and where in it; the disclosure authority checks that every
number printed is covered (:class:`ctip_research.disclosure.Document`). The content carries a
data notice slot (``data_notice``) for the data identity of the run.

:func:`typeset_pdf` lays the content out with Typst (``templates/brief.typ``; fonts: DejaVu Sans
shipped with matplotlib plus Typst's embedded fonts, system fonts ignored, a fixed creation date),
:func:`render_html` as one self-contained HTML page (figures embedded as PNG with their alt text).
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ctip_research.disclosure import DisclosurePolicy, Document, Regressions, disclose
from ctip_research.errors import InputFileError, TypesetError
from ctip_research.i18n import current_language, current_usage, translate, unreviewed_used
from ctip_research.reporting.figures import ESTIMAND_PHRASES, TOTAL_LABELS
from ctip_research.reporting.reach import REACH_TEMPLATES, reach_brief_section
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
    "ASSUMPTIONS",
    "CLAIMS",
    "TEMPLATES",
    "TEMPLATE",
    "BriefInputs",
    "check_brief",
    "compose_brief",
    "direction",
    "effect_row",
    "pdf_page_count",
    "render_html",
    "same_estimand",
    "typeset_pdf",
]

TEMPLATE = Path(__file__).with_name("templates") / "brief.typ"
EST = "models/estimates.csv"
RISK = "risk/metrics.json"
SAMPLE = "models/metrics.json"

#: Every sentence the brief can print (whole templates; ``fill`` refuses a number outside the
#: placeholders). Keys are stable ids (message contexts for a translation).
TEMPLATES: dict[str, str] = {
    # key points (leads) --------------------------------------------------------------------
    "lead.effect.up": "In the preferred estimate, {exposure} makes {topic} more likely.",
    "lead.effect.down": "In the preferred estimate, {exposure} makes {topic} less likely.",
    "lead.effect.unclear": "No clear effect of {exposure} on {topic}.",
    "lead.effect.suppressed": "The preferred estimate is not published (disclosure control).",
    "lead.comparison.larger": "A simple comparison gives a larger estimate of the same effect than "
    "{other_model}.",
    "lead.comparison.smaller": "A simple comparison gives a smaller estimate of the same effect than "
    "{other_model}.",
    "lead.comparison.similar": "A simple comparison and {other_model} give similar estimates of the "
    "same effect.",
    "lead.comparison.other": "The simple comparison measures a different quantity.",
    "lead.descriptive": "{share} of households owe a microfinance institution.",
    "lead.descriptive.other": "Debt burdens and migration by debt-service burden.",
    "lead.targeting.better": "Risk screening can help target support to groups.",
    "lead.targeting.no_better": "Risk screening adds little over random targeting.",
    "lead.programme.down": "The livelihood programme reduced {topic} among participants.",
    "lead.programme.up": "{topic} rose among programme households.",
    "lead.programme.unclear": "The programme's effect on {topic} is not yet clear.",
    "lead.programme.suppressed": "The programme estimate is not published (disclosure control).",
    # the headline effect ---------------------------------------------------------------------
    "effect.up": "Households with {exposure} are {effect} percentage points more likely to have "
    "{member} ({model}; {level} CI {low} to {high}).",
    "effect.down": "Households with {exposure} are {effect} percentage points less likely to "
    "have {member} ({model}; {level} CI {low} to {high}).",
    "effect.unclear": "The preferred estimate ({model}) of the effect of {exposure} on {topic} is "
    "{effect} percentage points ({level} CI {low} to {high}); the interval includes no effect at "
    "all, so the data do not show whether {exposure} changes {topic}.",
    "effect.suppressed": "The preferred estimate ({model}) does not pass the disclosure rules "
    "and is not published.",
    "effect.estimand": "It estimates {estimand}.",
    # comparisons (same estimand only) ---------------------------------------------------------
    "comparison.larger": "A simple comparison of {groups} gives {naive} percentage points "
    "({level} CI {naive_low} to {naive_high}), more than the {other_model} estimate of the same "
    "effect ({other} points; {other_level} CI {other_low} to {other_high}); the intervals do not "
    "overlap, so the simple comparison should not be used to judge the effect.",
    "comparison.smaller": "A simple comparison of {groups} gives {naive} percentage points "
    "({level} CI {naive_low} to {naive_high}), less than the {other_model} estimate of the same "
    "effect ({other} points; {other_level} CI {other_low} to {other_high}); the intervals do not "
    "overlap, so the simple comparison should not be used to judge the effect.",
    "comparison.similar": "A simple comparison of {groups} gives {naive} percentage points "
    "({level} CI {naive_low} to {naive_high}); the {other_model} estimate of the same effect is "
    "{other} points ({other_level} CI {other_low} to {other_high}), and the intervals overlap.",
    "comparison.other": "A simple comparison of {groups} gives {naive} percentage points ({level} "
    "CI {naive_low} to {naive_high}); it estimates {estimand}, not the quantity of the preferred "
    "estimate, so they are not compared.",
    "comparison.suppressed": "The simple comparison does not pass the disclosure rules and is not "
    "published.",
    # mechanism: only where models in the run estimate it ----------------------------------------
    "mechanism.common_cause": "In the same survey, {cause} goes with more {exposure_topic} "
    "({a} points, {a_model}; {a_level} CI {a_low} to {a_high}) and with more {topic} ({b} "
    "points, {b_model}; {b_level} CI {b_low} to {b_high}): a common cause of both, which a "
    "simple comparison counts as an effect of {exposure}.",
    # descriptive ------------------------------------------------------------------------------
    "descriptive.share": "In wave {wave}, {share} of households {phrase} ({level} CI {low} to "
    "{high}).",
    "descriptive.share_more": "{share} of households {phrase} ({level} CI {low} to {high}).",
    "descriptive.by_band": "The figure shows the shares by debt-service burden.",
    # targeting -------------------------------------------------------------------------------
    "targeting": "Serving the {served} of households ranked highest by a risk score built from "
    "baseline answers would reach {reached} of the households that later had a member in risky "
    "migration ({level} CI {low} to {high}), against {served_again} with random selection.",
    # programme -------------------------------------------------------------------------------
    "programme.down": "Among participating households, {topic} fell by {effect} percentage points "
    "with the programme ({model}; {level} CI {low} to {high}).",
    "programme.up": "Among participating households, {topic} rose by {effect} percentage points "
    "with the programme ({model}; {level} CI {low} to {high}).",
    "programme.unclear": "The programme estimate ({model}) is {effect} percentage points ({level} "
    "CI {low} to {high}); the interval includes no effect at all.",
    "programme.suppressed": "The programme estimate ({model}) does not pass the disclosure rules "
    "and is not published.",
    # recommendations (no numbers) --------------------------------------------------------------
    "rec.effect.up": "Pair microcredit with safe-migration information and affordability checks "
    "where borrowing is high: the preferred estimate links {exposure} to more {topic}.",
    "rec.effect.other": "Do not assume that {exposure} drives {topic}; monitor both as the "
    "evidence grows.",
    "rec.sacrifices": "Treat repayment that needs sacrifices (cutting food, selling land or "
    "assets, taking children out of school) as a warning sign and offer rescheduling before "
    "households turn to brokers.",
    "rec.targeting": "Use risk scores only to choose villages and groups for support, never to "
    "label or exclude individual households.",
    "rec.programme.down": "Extend the livelihood programme to comparable at-risk households, with "
    "a phased roll-out that allows a stronger evaluation.",
    "rec.programme.other": "Evaluate the livelihood programme with a phased or randomised "
    "roll-out before scaling it up.",
    # methods ---------------------------------------------------------------------------------
    "method.sample": "{survey}; {n_villages} villages, {n_households} households in wave {wave}; "
    "{n_obs} observations in the preferred model.",
    "method.levels.same": "Design-based and village-clustered standard errors; {level} confidence "
    "intervals throughout.",
    "method.levels": "Design-based and village-clustered standard errors; {level} confidence "
    "intervals for the regression estimates, {desc_level} for the survey shares and "
    "{risk_level} for the risk screening.",
    "method.estimators": "Estimators in this brief: {labels}.",
    "method.income": "The debt-service ratio uses income including remittances, as households "
    "report it.",
    "method.trace": "Every number in this brief is listed, with the file and the value it comes "
    "from, in the brief's data file (brief.json).",
    "method.package": "Package: {package}.",
    "method.checksum": "Estimates checksum: {checksum}.",
    "method.params": "Parameters hash: {params_hash}.",
    # data protection ---------------------------------------------------------------------------
    "protection": "No number in this brief rests on fewer than {minimum} households, counting "
    "those with and those without each attribute ({minimum_trafficking} households with the "
    "attribute for identified trafficking cases); estimates on fewer than {reliability} "
    "households are suppressed, and "
    "regressions are published only with at least {df} residual degrees of freedom. Names, phone "
    "numbers and locations never leave the raw data; no individual risk score is published.",
    "protection.override": "Disclosure thresholds looser than the documented values were used "
    "({keys}): {reason}",
    # page ------------------------------------------------------------------------------------
    "figure.label": "Figure {n}.",
}

# programme reach (the programme's own indicators, from reach/reach.csv) ---------------------
TEMPLATES.update(
    {
        f"reach.{key.removeprefix('brief.')}": msg
        for key, msg in REACH_TEMPLATES.items()
        if key.startswith("brief.")
    }
)
REACH_TABLE_HEADER = ("Indicator", "Estimate", "Confidence interval")

#: What each template claims: ``mechanism`` sentences assert why two quantities move together
#: and may appear only when models in the run estimate that mechanism.
CLAIMS: dict[str, str] = {
    key: (
        "mechanism"
        if key.startswith("mechanism.")
        else "comparison"
        if key.startswith(("comparison.", "lead.comparison."))
        else "effect"
        if key.startswith(("effect.", "lead.effect.", "programme.", "lead.programme."))
        else "assumption"
        if key.startswith("assumption.")
        else "text"
    )
    for key in TEMPLATES
}

#: The identifying assumption of each estimand (one sentence after the estimate it qualifies).
ASSUMPTIONS: dict[str, str] = {
    "ate": "It compares households with and without {exposure} after the controls and area "
    "effects of the model; it measures the effect only if no difference between these households "
    "left out of the model also affects {topic}.",
    "late": "It uses differences in {instrument} between areas; it measures the effect for "
    "households whose borrowing follows {instrument}, and only if {instrument} affects {topic} "
    "through borrowing alone.",
    "within_household": "It compares each household with itself across the survey waves, so "
    "household characteristics that do not change between waves cannot explain it; it measures "
    "the effect for households whose borrowing changed, and only if nothing else that changed at "
    "the same time drives {topic} and borrowing does not change {topic} in a later or earlier wave "
    "(it would not hold if members who left because of a loan stayed abroad after repaying it).",
    "att": "It compares participating households with non-participants, adjusted as the model "
    "states; it is the programme's effect only if, without the programme, participants' {topic} "
    "would have moved like that of comparable non-participants.",
}
CLAIMS.update({f"assumption.{k}": "assumption" for k in ASSUMPTIONS})

#: Words for the columns the brief talks about (a column without an entry is named as is).
EXPOSURES: dict[str, str] = {
    "has_mfi_loan": "an MFI loan",
    "has_multiple_mfi_loans": "several MFI loans",
    "is_over_indebted": "over-indebtedness",
    "received_livelihood_grant_w2": "the livelihood programme",
}
EXPOSURE_GROUPS: dict[str, str] = {
    "has_mfi_loan": "households with and without an MFI loan",
    "received_livelihood_grant_w2": "participating and other households",
}
TOPICS: dict[str, str] = {
    "has_international_migrant": "migration abroad",
    "has_risky_migration": "risky migration",
    "has_irregular_migrant": "irregular migration",
    "has_forced_labour_case": "forced labour",
    "has_mfi_loan": "MFI borrowing",
}
MEMBERS: dict[str, str] = {
    "has_international_migrant": "a member working abroad",
    "has_risky_migration": "a member in risky migration",
    "has_irregular_migrant": "a member in irregular migration",
    "has_forced_labour_case": "a member in forced labour",
}
INSTRUMENTS: dict[str, str] = {
    "mfi_branches_per_1000hh": "MFI branch density",
    "dist_mfi_branch_km": "the distance to an MFI branch",
}
SHARE_PHRASES: dict[str, str] = {
    "has_mfi_loan": "had an MFI loan",
    "is_over_indebted": "were over-indebted",
    "has_international_migrant": "had a member working abroad",
    "has_risky_migration": "had a member in risky migration (irregular, through an informal "
    "broker, or with a sign of forced labour)",
}

#: The phrase tables by name (their entries are messages of context ``<name>:<column>``).
PHRASE_TABLES: dict[str, dict[str, str]] = {
    "exposure": EXPOSURES,
    "exposure_group": EXPOSURE_GROUPS,
    "topic": TOPICS,
    "member": MEMBERS,
    "instrument": INSTRUMENTS,
    "share": SHARE_PHRASES,
}
#: Headings and fixed words of the page (messages of context ``heading:<key>``); ``page_of`` is
#: a Typst numbering pattern (each ``1`` is a page counter; no other counting symbol such as a
#: Latin letter may appear in it).
HEADINGS: dict[str, str] = {
    "key_points": "Key points",
    "findings": "Findings",
    "recommendations": "Recommendations",
    "methods": "Methods and data",
    "protection": "Data protection",
    "page": "page",
    "page_of": "1 of 1",
    "and": " and ",
    "the_instrument": "the instrument",
    "translation": "About this translation",
    "translation.unreviewed": "This brief is translated from the English source. The "
    "translation has not yet been reviewed by a native speaker; the messages not yet reviewed "
    "are, by their catalogue context:",
    "translation.reviewed": "This brief is translated from the English source; every message "
    "was reviewed by a native speaker.",
}


def _word(table: Mapping[str, str], column: str) -> str:
    english = table.get(column, column.replace("_", " "))
    name = next((k for k, v in PHRASE_TABLES.items() if v is table), None)
    return translate(english, context=f"{name}:{column}" if name else None)


def _estimand(estimand: str) -> str:
    return translate(ESTIMAND_PHRASES.get(estimand, estimand), context=f"estimand:{estimand}")


def effect_row(estimates: pd.DataFrame, model: str) -> dict[str, Any]:
    """The exposure's row of ``model`` in the estimates table (as a dict).

    Examples
    --------
    >>> est = pd.DataFrame({"model": ["m"], "term": ["x"], "exposure": ["x"], "estimate": [0.1]})
    >>> effect_row(est, "m")["estimate"]
    0.1
    """
    sub = estimates[(estimates["model"] == model) & (estimates["term"] == estimates["exposure"])]
    if sub.empty:
        raise InputFileError(f"estimates table has no exposure row for model {model!r}")
    return {str(k): v for k, v in sub.iloc[0].to_dict().items()}


def _published(row: Mapping[str, Any]) -> bool:
    return str(row.get("status", "published")) != "suppressed" and pd.notna(row.get("estimate"))


def direction(row: Mapping[str, Any]) -> str:
    """``up`` / ``down`` when the interval excludes zero (its sign), else ``unclear``;
    ``suppressed`` for a suppressed estimate.

    Examples
    --------
    >>> direction({"estimate": 0.1, "conf_low": 0.02, "conf_high": 0.18})
    'up'
    >>> direction({"estimate": 0.1, "conf_low": -0.02, "conf_high": 0.18})
    'unclear'
    """
    if not _published(row):
        return "suppressed"
    if float(row["conf_low"]) > 0:
        return "up"
    if float(row["conf_high"]) < 0:
        return "down"
    return "unclear"


def same_estimand(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two estimates target the same quantity: estimand, outcome, exposure, population.

    Examples
    --------
    >>> r = {"estimand": "ate", "outcome": "y", "exposure": "x", "population": "wave 1"}
    >>> same_estimand(r, r), same_estimand(r, {**r, "estimand": "within_household"})
    (True, False)
    """
    keys = ("estimand", "outcome", "exposure", "population")
    return all(str(a.get(k)) == str(b.get(k)) for k in keys)


@dataclass(frozen=True)
class BriefInputs:
    """What the brief is written from (all read by the stage from published artefacts).

    Attributes
    ----------
    estimates
        ``models/estimates.csv`` (with ``estimand``, ``population``, ``conf_level``, ``status``).
    sample
        ``models/metrics.json`` ``sample`` (waves, households per wave, PSUs, provinces).
    figures
        Manifest entries of the figures shown (name, title, caption, alt_text, trace, width_in).
    figure_data
        Figure name -> its gated ``data.csv`` (the descriptive shares).
    risk_metrics
        ``risk/metrics.json`` (or None when the risk stage did not run).
    records
        Check records of the inputs (they must all have passed).
    reach
        ``reach/reach.csv`` (the programme's own indicators), or None when the reach stage did
        not run.
    """

    estimates: pd.DataFrame
    sample: Mapping[str, Any]
    figures: Sequence[Mapping[str, Any]]
    figure_data: Mapping[str, pd.DataFrame]
    risk_metrics: Mapping[str, Any] | None
    records: Sequence[Mapping[str, Any]]
    reach: pd.DataFrame | None = None


class _Page:
    """Collects the chosen sentences, their conditions and the blocks of the page."""

    def __init__(self) -> None:
        self.sentences: list[dict[str, Any]] = []

    def say(
        self, key: str, conditions: Mapping[str, Any] | None = None, **values: Traced | Text | str
    ) -> Text:
        msgid = (
            ASSUMPTIONS[key.split(".", 1)[1]] if key.startswith("assumption.") else TEMPLATES[key]
        )
        text = fill(msgid, **values)
        self.sentences.append(
            {"template": key, "claim": CLAIMS[key], "conditions": dict(conditions or {})}
        )
        return text


def _num(row: Mapping[str, Any], column: str, *, signed: bool = False) -> Traced:
    return pp(
        row[column],
        EST,
        row={"model": row["model"], "term": row["term"]},
        column=column,
        signed=signed,
    )


def _level(row: Mapping[str, Any]) -> Traced:
    return level(
        row["conf_level"],
        EST,
        row={"model": row["model"], "term": row["term"]},
        column="conf_level",
    )


def _conditions(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {"model": row.get("model"), "status": str(row.get("status", "published"))}
    if _published(row):
        out.update(
            estimate=float(row["estimate"]),
            conf_low=float(row["conf_low"]),
            conf_high=float(row["conf_high"]),
            interval_excludes_zero=direction(row) in ("up", "down"),
            sign="+" if float(row["estimate"]) > 0 else "-" if float(row["estimate"]) < 0 else "0",
        )
    for k in ("estimand", "outcome", "exposure", "population"):
        out[k] = None if pd.isna(row.get(k)) else str(row.get(k))
    return out


def _param(value: Any, path: str, *, context: str | None = None) -> Traced:
    text = translate(str(value), context=context or f"param:{path}") if str(value) else ""
    return traced_text(text, "params.yaml", path=path)


def _label(model: str, labels: Mapping[str, str]) -> Traced:
    return _param(labels.get(model, model), f"fit.models[{model}].label", context=f"model:{model}")


def _column(row: Mapping[str, Any], column: str, table: Mapping[str, str]) -> Traced:
    """A phrase for a column named in the estimates (traced to the row it was read from)."""
    word = _word(table, str(row[column]))
    return Traced(
        word,
        str(row[column]),
        EST,
        {"row": {"model": row["model"], "term": row["term"]}, "column": column},
        "phrase",
    )


def _headline(
    page: _Page,
    head: Mapping[str, Any],
    labels: Mapping[str, str],
    instruments: Mapping[str, Sequence[str]],
) -> tuple[Text, Text, str]:
    d = direction(head)
    exposure = _column(head, "exposure", EXPOSURES)
    topic = _column(head, "outcome", TOPICS)
    model = _label(str(head["model"]), labels)
    cond = _conditions(head)
    lead = page.say(
        f"lead.effect.{d}",
        cond,
        **({} if d == "suppressed" else {"exposure": exposure, "topic": topic}),
    )
    if d == "suppressed":
        return lead, page.say("effect.suppressed", cond, model=model), d
    values: dict[str, Traced | Text | str] = {
        "exposure": exposure,
        "effect": _num(head, "estimate", signed=d == "unclear"),
        "model": model,
        "level": _level(head),
        "low": _num(head, "conf_low", signed=True),
        "high": _num(head, "conf_high", signed=True),
    }
    if d == "unclear":
        values["topic"] = topic
    else:
        values["member"] = _column(head, "outcome", MEMBERS)
    parts = [page.say(f"effect.{d}", cond, **values)]
    estimand = str(head.get("estimand"))
    parts.append(page.say("effect.estimand", cond, estimand=_estimand(estimand)))
    parts += _assumption(page, head, instruments)
    return lead, join(parts), d


def _assumption(
    page: _Page, row: Mapping[str, Any], instruments: Mapping[str, Sequence[str]]
) -> list[Text]:
    estimand = str(row.get("estimand"))
    if estimand not in ASSUMPTIONS:
        return []
    values: dict[str, Traced | Text | str] = {}
    msg = ASSUMPTIONS[estimand]
    if "{exposure}" in msg:
        values["exposure"] = _column(row, "exposure", EXPOSURES)
    if "{topic}" in msg:
        values["topic"] = _column(row, "outcome", TOPICS)
    if "{instrument}" in msg:
        cols = instruments.get(str(row["model"]), [])
        words = translate(" and ", context="heading:and").join(_word(INSTRUMENTS, c) for c in cols)
        values["instrument"] = traced_text(
            words or translate("the instrument", context="heading:the_instrument"),
            "params.yaml",
            path=f"fit.models[{row['model']}].instruments",
        )
    return [page.say(f"assumption.{estimand}", _conditions(row), **values)]


def _comparison(
    page: _Page,
    estimates: pd.DataFrame,
    head: Mapping[str, Any],
    naive: Mapping[str, Any],
    other: Mapping[str, Any] | None,
    labels: Mapping[str, str],
) -> tuple[Text, Text]:
    cond: dict[str, Any] = {
        "naive": _conditions(naive),
        "other": _conditions(other) if other else None,
        "headline": _conditions(head),
    }
    if not _published(naive):
        return page.say("lead.comparison.other", cond), page.say("comparison.suppressed", cond)
    groups = _column(naive, "exposure", EXPOSURE_GROUPS)
    base: dict[str, Traced | Text | str] = {
        "groups": groups,
        "naive": _num(naive, "estimate", signed=True),
        "level": _level(naive),
        "naive_low": _num(naive, "conf_low", signed=True),
        "naive_high": _num(naive, "conf_high", signed=True),
    }
    if other is None or not _published(other) or not same_estimand(naive, other):
        estimand = str(naive.get("estimand"))
        cond["same_estimand"] = False
        return (
            page.say("lead.comparison.other", cond),
            page.say("comparison.other", cond, estimand=_estimand(estimand), **base),
        )
    cond["same_estimand"] = True
    values = {
        **base,
        "other_model": _label(str(other["model"]), labels),
        "other": _num(other, "estimate", signed=True),
        "other_level": _level(other),
        "other_low": _num(other, "conf_low", signed=True),
        "other_high": _num(other, "conf_high", signed=True),
    }
    if float(naive["conf_low"]) > float(other["conf_high"]):
        key = "larger"
    elif float(naive["conf_high"]) < float(other["conf_low"]):
        key = "smaller"
    else:
        key = "similar"
    cond["intervals_overlap"] = key == "similar"
    parts = [page.say(f"comparison.{key}", cond, **values)]
    if key == "larger":
        mech = _mechanism(page, estimates, head, labels)
        if mech is not None:
            parts.append(mech)
    lead = page.say(f"lead.comparison.{key}", cond, other_model=_label(str(other["model"]), labels))
    return lead, join(parts)


def _mechanism(
    page: _Page, estimates: pd.DataFrame, head: Mapping[str, Any], labels: Mapping[str, str]
) -> Text | None:
    """The common-cause sentence, only when the run estimates both of its links.

    A model with exposure C and outcome = the headline's exposure, and a model with the same
    exposure C and outcome = the headline's outcome, both published with intervals above zero.
    """
    rows = estimates[
        (estimates["term"] == estimates["exposure"])
        & (estimates.get("status", pd.Series("published", index=estimates.index)) != "suppressed")
        & (estimates["model"] != "descriptive")
    ]
    to_exposure = rows[rows["outcome"] == head["exposure"]]
    to_outcome = rows[rows["outcome"] == head["outcome"]]
    for _, a in to_exposure.iterrows():
        if a["exposure"] == head["exposure"] or direction(a) != "up":
            continue
        match = to_outcome[to_outcome["exposure"] == a["exposure"]]
        for _, b in match.iterrows():
            if direction(b) != "up":
                continue
            cond = {"cause_to_exposure": _conditions(a), "cause_to_outcome": _conditions(b)}
            return page.say(
                "mechanism.common_cause",
                cond,
                cause=_column(a, "exposure", EXPOSURES),
                exposure_topic=_column(a, "outcome", TOPICS),
                topic=_column(b, "outcome", TOPICS),
                exposure=_column(head, "exposure", EXPOSURES),
                a=_num(a, "estimate"),
                a_model=_label(str(a["model"]), labels),
                a_level=_level(a),
                a_low=_num(a, "conf_low", signed=True),
                a_high=_num(a, "conf_high", signed=True),
                b=_num(b, "estimate"),
                b_model=_label(str(b["model"]), labels),
                b_level=_level(b),
                b_low=_num(b, "conf_low", signed=True),
                b_high=_num(b, "conf_high", signed=True),
            )
    return None


def _total_row(data: pd.DataFrame, name: str, indicator: str) -> tuple[dict[str, Any], str] | None:
    """The published margin row of ``indicator`` in a descriptive figure's data."""
    if name not in TOTAL_LABELS:
        return None
    group, total = TOTAL_LABELS[name]
    rows = data[(data["indicator"] == indicator) & (data[group].astype(str) == total)]
    rows = rows[rows["status"] != "suppressed"]
    if rows.empty:
        return None
    return {str(k): v for k, v in rows.iloc[0].to_dict().items()}, group


def _descriptive(
    page: _Page, figure_data: Mapping[str, pd.DataFrame], wave: Traced
) -> tuple[Text, Text] | None:
    parts: list[Text] = []
    lead: Text | None = None
    for name, indicators in (
        ("debt_burden_by_province", ("has_mfi_loan", "is_over_indebted")),
        ("migration_by_debt_band", ("has_risky_migration",)),
    ):
        data = figure_data.get(name)
        if data is None:
            continue
        src = f"figures/{name}.data.csv"
        for ind in indicators:
            found = _total_row(data, name, ind)
            if found is None:
                continue
            row, group = found
            loc = {"indicator": ind, group: row[group]}
            share = pct(row["estimate"], src, row=loc, column="estimate")
            values: dict[str, Traced | Text | str] = {"wave": wave} if not parts else {}
            text = page.say(
                "descriptive.share_more" if parts else "descriptive.share",
                {"figure": name, "indicator": ind, "estimate": float(row["estimate"])},
                **values,
                share=share,
                phrase=_word(SHARE_PHRASES, ind),
                level=level(row["conf_level"], src, row=loc, column="conf_level"),
                low=pct(row["conf_low"], src, row=loc, column="conf_low"),
                high=pct(row["conf_high"], src, row=loc, column="conf_high"),
            )
            parts.append(text)
            if ind == "has_mfi_loan" and lead is None:
                lead = page.say(
                    "lead.descriptive",
                    {"indicator": ind},
                    share=pct(row["estimate"], src, row=loc, column="estimate"),
                )
        if name == "migration_by_debt_band" and parts:
            parts.append(page.say("descriptive.by_band"))
    if not parts:
        return None
    return lead or page.say("lead.descriptive.other"), join(parts)


def _targeting(page: _Page, risk: Mapping[str, Any] | None) -> tuple[Text, Text] | None:
    if not risk:
        return None
    overall, settings = risk.get("overall", {}), risk.get("settings", {})
    keys = ("top_share_reached", "top_share_reached_low", "top_share_reached_high")
    if any(overall.get(k) is None for k in keys) or settings.get("top_share") is None:
        return None
    served, lo = float(settings["top_share"]), float(overall["top_share_reached_low"])
    cond = {"top_share": served, "reached_low": lo, "better_than_random": lo > served}
    lead = page.say("lead.targeting.better" if lo > served else "lead.targeting.no_better", cond)
    text = page.say(
        "targeting",
        cond,
        served=pct(served, RISK, path="settings.top_share"),
        served_again=pct(served, RISK, path="settings.top_share"),
        reached=pct(overall["top_share_reached"], RISK, path="overall.top_share_reached"),
        level=level(settings["ci_level"], RISK, path="settings.ci_level"),
        low=pct(lo, RISK, path="overall.top_share_reached_low"),
        high=pct(overall["top_share_reached_high"], RISK, path="overall.top_share_reached_high"),
    )
    return lead, text


def _programme(
    page: _Page,
    prog: Mapping[str, Any],
    labels: Mapping[str, str],
    instruments: Mapping[str, Sequence[str]],
) -> tuple[Text, Text, str]:
    d = direction(prog)
    cond = _conditions(prog)
    topic = _column(prog, "outcome", TOPICS)
    model = _label(str(prog["model"]), labels)
    if d == "suppressed":
        return (
            page.say("lead.programme.suppressed", cond),
            page.say("programme.suppressed", cond, model=model),
            d,
        )
    lead = page.say(f"lead.programme.{d}", cond, topic=topic)
    values: dict[str, Traced | Text | str] = {
        "effect": _num(prog, "estimate", signed=d == "unclear"),
        "model": model,
        "level": _level(prog),
        "low": _num(prog, "conf_low", signed=True),
        "high": _num(prog, "conf_high", signed=True),
    }
    if d != "unclear":
        values["topic"] = topic
    parts = [page.say(f"programme.{d}", cond, **values), *_assumption(page, prog, instruments)]
    return lead, join(parts), d


def compose_brief(
    inputs: BriefInputs,
    *,
    title: str,
    subtitle: str,
    organisation: str,
    date_label: str,
    headline_model: str,
    naive_model: str,
    comparison_model: str | None,
    programme_model: str,
    figure_names: Sequence[str],
    model_labels: Mapping[str, str],
    instruments: Mapping[str, Sequence[str]],
    policy: DisclosurePolicy,
    data_notice: Text | str | None,
    provenance: Mapping[str, Traced],
    wave: int,
    survey: Traced | None = None,
) -> dict[str, Any]:
    """Choose and fill the brief's sentences; return its JSON-ready content.

    Parameters
    ----------
    inputs
        The published artefacts the brief is written from (:class:`BriefInputs`).
    headline_model, naive_model, comparison_model, programme_model
        Models of the key finding, of the simple comparison, of the estimate it is compared
        with (the same estimand only; None: no comparison) and of the programme's effect.
    figure_names
        Figures shown, in order (``brief.figures``).
    model_labels, instruments
        Model name -> label (``fit.models[].label``) and -> its instruments' words.
    policy
        Disclosure policy (printed in the data-protection note).
    data_notice
        The notice printed at the top (from the data identity of the run: the demonstration
        notice on the package's synthetic survey, plus ``brief.data_notice``), or None; a
        :class:`~ctip_research.reporting.trace.Text` with the trace of any number in it (a plain
        string is traced to ``brief.data_notice``).
    survey
        The survey in a line (name, waves and years, provinces), traced to the data identity;
        it opens the methods note.
    provenance
        Traced provenance values: ``package``, ``checksum``, ``params_hash``.
    wave
        The survey wave of the descriptive shares (``figures.wave``).

    Returns
    -------
    dict
        ``title``, ``subtitle``, ``organisation``, ``date``, ``data_notice``, ``key_points``,
        ``findings`` (``lead``, ``text``, ``figure``), ``recommendations``, ``methods``,
        ``protection``, ``figures`` (``name``, ``title``, ``caption``, ``alt``, ``label``,
        ``width_in``), ``sentences`` (every template chosen, its claim and the conditions it
        was chosen on) and ``blocks`` (every text as printed with the trace of its numbers).
    """
    est = inputs.estimates
    head = effect_row(est, headline_model)
    naive = effect_row(est, naive_model)
    other = effect_row(est, comparison_model) if comparison_model else None
    prog = effect_row(est, programme_model)
    _disclose_quoted(inputs, (head, naive, other, prog), policy)
    page = _Page()
    found = _findings(page, inputs, (head, naive, other, prog), model_labels, instruments, wave)
    recs = _recommendations(page, head, found)
    methods = _methods(
        page,
        inputs,
        head,
        est,
        model_labels,
        (headline_model, naive_model, comparison_model, programme_model),
        provenance,
        survey,
    )
    protection = _protection(page, policy)
    figs = _figures(page, inputs, figure_names)
    header = _header(title, subtitle, organisation, date_label, data_notice)
    blocks = _Blocks()
    content: dict[str, Any] = {k: blocks.add(k, v) for k, v in header.items()}
    content["key_points"] = [
        blocks.add(f"key_points[{i}]", f["lead"]) for i, f in enumerate(found.findings)
    ]
    content["findings"] = _findings_content(blocks, found.findings)
    content["recommendations"] = [
        blocks.add(f"recommendations[{i}]", r) for i, r in enumerate(recs)
    ]
    content["methods"] = [blocks.add(f"methods[{i}]", m) for i, m in enumerate(methods)]
    content["protection"] = blocks.add("protection", protection)
    content["figures"] = [_figure_content(blocks, f) for f in figs]
    _add_language(content, blocks)
    content["sentences"] = page.sentences
    content["blocks"] = blocks.blocks
    return content


def _header(
    title: str, subtitle: str, organisation: str, date_label: str, data_notice: Text | str | None
) -> dict[str, Traced | Text]:
    """The page's title lines and data notice, traced to their parameters."""
    return {
        "title": _param(title, "brief.title"),
        "subtitle": _param(subtitle, "brief.subtitle"),
        "organisation": _param(organisation, "brief.organisation"),
        "date": _param(date_label, "brief.date_label"),
        "data_notice": data_notice
        if isinstance(data_notice, Text)
        else _param(data_notice or "", "brief.data_notice"),
    }


def _disclose_quoted(
    inputs: BriefInputs,
    rows: Sequence[Mapping[str, Any] | None],
    policy: DisclosurePolicy,
) -> None:
    """Run the disclosure authority over the estimates the brief quotes."""
    quoted = pd.DataFrame([r for r in rows if r is not None])
    if "status" not in quoted.columns:
        quoted["status"] = "published"
    disclose(Regressions(quoted, "brief: quoted estimates", upstream=inputs.records), policy)


@dataclass(frozen=True)
class _Findings:
    """The findings chosen, with the directions and targeting result the later steps need."""

    findings: list[dict[str, Any]]
    d_head: str
    d_prog: str
    has_targeting: bool


def _findings(
    page: _Page,
    inputs: BriefInputs,
    rows: tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None, dict[str, Any]],
    labels: Mapping[str, str],
    instruments: Mapping[str, Sequence[str]],
    wave: int,
) -> _Findings:
    """Choose the findings in page order: headline, comparison, shares, targeting, reach, programme."""
    head, naive, other, prog = rows
    est = inputs.estimates
    findings: list[dict[str, Any]] = []
    lead, text, d_head = _headline(page, head, labels, instruments)
    findings.append({"lead": lead, "text": text, "figure": "effect_estimates"})
    lead, text = _comparison(page, est, head, naive, other, labels)
    findings.append({"lead": lead, "text": text, "figure": ""})
    wave_t = count(wave, "params.yaml", path="figures.wave")
    desc = _descriptive(page, inputs.figure_data, wave_t)
    if desc is not None:
        findings.append({"lead": desc[0], "text": desc[1], "figure": "migration_by_debt_band"})
    tgt = _targeting(page, inputs.risk_metrics)
    if tgt is not None:
        findings.append({"lead": tgt[0], "text": tgt[1], "figure": "targeting_curve"})
    if inputs.reach is not None:
        reach = reach_brief_section(
            inputs.reach,
            say=lambda key, cond, **v: page.say(f"reach.{key.removeprefix('brief.')}", cond, **v),
        )
        if reach is not None:
            findings.append({"lead": reach[0], "text": reach[1], "figure": "", "table": reach[2]})
    lead, text, d_prog = _programme(page, prog, labels, instruments)
    findings.append({"lead": lead, "text": text, "figure": "programme_effect"})
    return _Findings(findings, d_head, d_prog, tgt is not None)


def _recommendations(page: _Page, head: Mapping[str, Any], found: _Findings) -> list[Text]:
    """The recommendations, chosen by the headline, targeting and programme findings."""
    d_head, d_prog = found.d_head, found.d_prog
    exposure = _column(head, "exposure", EXPOSURES)
    topic = _column(head, "outcome", TOPICS)
    recs = [
        page.say("rec.effect.up", {"headline": d_head}, exposure=exposure, topic=topic)
        if d_head == "up"
        else page.say("rec.effect.other", {"headline": d_head}, exposure=exposure, topic=topic),
        page.say("rec.sacrifices"),
    ]
    if found.has_targeting:
        recs.append(page.say("rec.targeting"))
    recs.append(
        page.say(
            "rec.programme.down" if d_prog == "down" else "rec.programme.other",
            {"programme": d_prog},
        )
    )
    return recs


def _figures(page: _Page, inputs: BriefInputs, figure_names: Sequence[str]) -> list[dict[str, Any]]:
    """The figures shown, in order, with their captions in the current language and labels."""
    figs: list[dict[str, Any]] = []
    by_name = {f["name"]: f for f in inputs.figures}
    for i, name in enumerate(figure_names):
        if name not in by_name:
            raise InputFileError(f"figure {name!r} is not in the figures manifest")
        f = by_name[name]
        lang = current_language()
        if lang != "en":  # the figures stage writes the captions in every language
            f = {**f, **dict(f.get("translations", {}).get(lang, {}))}
        trace = f.get("trace", {})
        figs.append(
            {
                "name": name,
                "title": Text(f["title"], ()),
                "caption": Text(f["caption"], tuple(trace.get("caption", []))),
                "alt": Text(f["alt_text"], tuple(trace.get("alt", []))),
                "label": page.say(
                    "figure.label",
                    n=count(
                        i + 1, "params.yaml", path="brief.figures", derivation=f"position of {name}"
                    ),
                ),
                "width_in": float(f.get("width_in", 6.4)),
            }
        )
    return figs


class _Blocks:
    """Collects every printed text with the trace of its numbers, in page order."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []

    def add(self, block_id: str, value: Text | Traced) -> str:
        """Record ``value`` as block ``block_id``; return its text."""
        t = (
            value
            if isinstance(value, Text)
            else Text(value.text, (value.entry(),) if value.text else ())
        )
        self.blocks.append(t.block(block_id))
        return t.text


def _findings_content(blocks: _Blocks, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings as printed (the page prints the lead again before the text)."""
    out: list[dict[str, Any]] = []
    for i, f in enumerate(findings):
        blocks.add(f"findings[{i}]", join([f["lead"], f["text"]]))
        out.append({"lead": f["lead"].text, "text": f["text"].text, "figure": f["figure"]})
        if f.get("table"):
            out[-1]["table"] = {
                "header": list(REACH_TABLE_HEADER),
                "rows": [
                    [
                        blocks.add(f"findings[{i}].table[{r}][{c}]", cell)
                        for c, cell in enumerate(row)
                    ]
                    for r, row in enumerate(f["table"])
                ],
            }
    return out


def _figure_content(blocks: _Blocks, f: Mapping[str, Any]) -> dict[str, Any]:
    """One figure's printed title, caption, alt text and label."""
    return {
        "name": f["name"],
        "title": blocks.add(f"figures[{f['name']}].title", f["title"]),
        "caption": blocks.add(f"figures[{f['name']}].caption", f["caption"]),
        "alt": blocks.add(f"figures[{f['name']}].alt", f["alt"]),
        "label": blocks.add(f"figures[{f['name']}].label", f["label"]),
        "width_in": f["width_in"],
    }


def _add_language(content: dict[str, Any], blocks: _Blocks) -> None:
    """Add the language, translated headings and (not English) the translation colophon."""
    lang = current_language()
    content["lang"] = lang
    content["headings"] = {k: translate(v, context=f"heading:{k}") for k, v in HEADINGS.items()}
    content["translation"] = None
    if lang != "en":
        usage = current_usage()
        keys = unreviewed_used(usage) if usage is not None else []
        intro = content["headings"]["translation.unreviewed" if keys else "translation.reviewed"]
        listed = traced_text(
            ", ".join(keys),
            f"locale/{lang}/LC_MESSAGES/ctip.po",
            derivation="contexts of the printed messages flagged fuzzy (unreviewed) or untranslated",
        )
        colophon = Text(f"{intro} {listed.text}".strip(), (listed.entry(),) if keys else ())
        content["translation"] = {
            "heading": content["headings"]["translation"],
            "text": blocks.add("translation", colophon),
            "unreviewed": keys,
        }


def _methods(
    page: _Page,
    inputs: BriefInputs,
    head: Mapping[str, Any],
    est: pd.DataFrame,
    labels: Mapping[str, str],
    models: Sequence[str | None],
    provenance: Mapping[str, Traced],
    survey: Traced | None,
) -> list[Text]:
    out: list[Text] = []
    s = inputs.sample
    if s and _published(head):
        waves = list(s.get("waves", []))
        first = str(waves[0]) if waves else None
        if first is not None and s.get("n_psu"):
            out.append(
                page.say(
                    "method.sample",
                    survey=survey or "Household survey",
                    n_villages=count(s["n_psu"], SAMPLE, path="sample.n_psu"),
                    n_households=count(
                        s["n_households"][first], SAMPLE, path=f"sample.n_households.{first}"
                    ),
                    wave=count(int(first), SAMPLE, path="sample.waves", derivation="first"),
                    n_obs=count(
                        head["n_obs"],
                        EST,
                        row={"model": head["model"], "term": head["term"]},
                        column="n_obs",
                    ),
                )
            )
    reg_level = _level(head) if _published(head) else None
    desc_levels = [
        (name, d)
        for name, d in inputs.figure_data.items()
        if name in TOTAL_LABELS and "conf_level" in d.columns and len(d)
    ]
    risk = inputs.risk_metrics or {}
    risk_level = risk.get("settings", {}).get("ci_level")
    if reg_level is not None:
        values = [float(reg_level.value)]
        desc_t = None
        if desc_levels:
            name, d = desc_levels[0]
            row = d.iloc[0]
            group = TOTAL_LABELS[name][0]
            desc_t = level(
                row["conf_level"],
                f"figures/{name}.data.csv",
                row={"indicator": row["indicator"], group: row[group]},
                column="conf_level",
            )
            values.append(float(desc_t.value))
        risk_t = level(risk_level, RISK, path="settings.ci_level") if risk_level else None
        if risk_t is not None:
            values.append(float(risk_t.value))
        if len({round(v, 10) for v in values}) == 1:
            out.append(page.say("method.levels.same", level=reg_level))
        else:
            out.append(
                page.say(
                    "method.levels",
                    level=reg_level,
                    desc_level=desc_t or reg_level,
                    risk_level=risk_t or reg_level,
                )
            )
    shown = [m for m in dict.fromkeys(models) if m]
    out.append(
        page.say(
            "method.estimators",
            labels=listing(
                [Text(_label(m, labels).text, (_label(m, labels).entry(),)) for m in shown]
            ),
        )
    )
    out.append(page.say("method.income"))
    out.append(page.say("method.trace"))
    if "package" in provenance:
        out.append(page.say("method.package", package=provenance["package"]))
    if "checksum" in provenance:
        out.append(page.say("method.checksum", checksum=provenance["checksum"]))
    if "params_hash" in provenance:
        out.append(page.say("method.params", params_hash=provenance["params_hash"]))
    return out


def _protection(page: _Page, policy: DisclosurePolicy) -> Text:
    def thr(key: str) -> Traced:
        return count(getattr(policy, key), "params.yaml", path=f"privacy.{key}")

    parts = [
        page.say(
            "protection",
            minimum=thr("min_cell_count"),
            minimum_trafficking=thr("min_cell_count_trafficking"),
            reliability=thr("reliability_suppress_below"),
            df=thr("min_residual_df"),
        )
    ]
    if policy.overridden:
        parts.append(
            page.say(
                "protection.override",
                keys=_param(", ".join(policy.overridden), "privacy"),
                reason=_param(policy.override_reason or "", "privacy.override_reason"),
            )
        )
    return join(parts)


def check_brief(
    content: Mapping[str, Any], policy: DisclosurePolicy, parts: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The brief's check record: its parts passed and every number printed is traced."""
    return disclose(Document("brief", parts=parts, blocks=content["blocks"]), policy).record


def _font_dirs() -> list[str]:
    """DejaVu Sans (shipped with matplotlib) and Noto Sans Khmer (``fontpkg-noto-sans-khmer``)."""
    import fontpkg_noto_sans_khmer
    import matplotlib

    return [
        str(Path(matplotlib.get_data_path()) / "fonts" / "ttf"),
        str(Path(fontpkg_noto_sans_khmer.ROOT) / "files"),
    ]


def _khmer_font_face() -> str:
    """A CSS ``@font-face`` embedding Noto Sans Khmer (the HTML brief reads on any machine)."""
    import fontpkg_noto_sans_khmer

    font = next((Path(fontpkg_noto_sans_khmer.ROOT) / "files").glob("*.ttf")).read_bytes()
    return (
        '@font-face{font-family:"Noto Sans Khmer";font-weight:100 900;'
        "unicode-range:U+1780-17FF,U+19E0-19FF,U+200B-200D,U+25CC;"
        f"src:url(data:font/ttf;base64,{base64.b64encode(font).decode('ascii')}) "
        'format("truetype")}'
    )


def typeset_pdf(
    content: Mapping[str, Any], *, figures_root: Path, timestamp: int, template: Path = TEMPLATE
) -> bytes:
    """Typeset the brief as PDF with Typst; figures are read from ``figures_root``.

    The document date is fixed (``timestamp``, Unix seconds, as SOURCE_DATE_EPOCH) and system fonts
    are ignored, so the same content gives the same bytes on any machine.
    """
    import typst

    data = json.dumps(content, sort_keys=True, ensure_ascii=False)
    try:
        pdf = typst.compile(  # type: ignore[call-overload]
            template.read_bytes(),
            root=str(figures_root),
            font_paths=_font_dirs(),
            ignore_system_fonts=True,
            sys_inputs={"data": data},
            timestamp=timestamp,
            format="pdf",
        )
    except typst.TypstError as exc:
        raise TypesetError(f"typst could not typeset the brief: {exc}") from None
    assert isinstance(pdf, bytes)
    return pdf


def pdf_page_count(pdf: bytes) -> int:
    """Number of pages of a PDF written by Typst (counts its page objects).

    Examples
    --------
    >>> pdf_page_count(b"<< /Type /Page /Parent 1 0 R >> << /Type /Pages >>")
    1
    """
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


_CSS = """
body{font-family:"DejaVu Sans",Verdana,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#111}
header{border-bottom:4px solid #004488;margin-bottom:1rem}
.org{color:#004488;font-weight:bold;text-transform:uppercase;font-size:.85rem;letter-spacing:.05em}
h1{margin:.3rem 0;font-size:1.8rem} .subtitle{font-size:1.1rem;color:#333}
.notice{background:#fff4d6;border-left:4px solid #DDAA33;padding:.5rem .8rem}
.box{background:#eef3f8;padding:.6rem 1rem;margin:1rem 0}
.grey{background:#f2f2f2} figure{margin:1.2rem 0} figure img{max-width:100%}
figcaption{font-size:.85rem;color:#333} h2{color:#004488;font-size:1.2rem;margin-top:1.5rem}
.colophon{font-size:.8rem;color:#333;overflow-wrap:anywhere}
"""


def render_html(content: Mapping[str, Any], *, figure_png: Mapping[str, bytes]) -> str:
    """The brief as one self-contained HTML page (figures embedded as PNG with alt text).

    Examples
    --------
    >>> c = {"title": "T", "subtitle": "S", "organisation": "O", "date": "D", "data_notice": "",
    ...      "key_points": ["k"], "findings": [], "recommendations": [], "methods": [],
    ...      "protection": "p", "figures": []}
    >>> "<h1>T</h1>" in render_html(c, figure_png={})
    True
    """
    e = html.escape
    lang = str(content.get("lang", "en"))
    # the Khmer face first, limited to the Khmer blocks: a browser then sets every Khmer run in
    # it (a fallback font chosen per run may lack some Khmer signs) and Latin in DejaVu Sans
    heads = {**HEADINGS, **dict(content.get("headings", {}))}
    css = (
        _CSS
        if lang == "en"
        else _khmer_font_face() + _CSS.replace('"DejaVu Sans",', '"Noto Sans Khmer","DejaVu Sans",')
    )
    figs = {f["name"]: f for f in content["figures"]}
    shown: set[str] = set()

    def figure(name: str) -> str:
        if name not in figs or name in shown:
            return ""
        shown.add(name)
        f = figs[name]
        src = base64.b64encode(figure_png.get(name, b"")).decode("ascii")
        return (
            f'<figure id="fig-{e(name)}"><img src="data:image/png;base64,{src}" '
            f'alt="{e(f["alt"], quote=True)}"><figcaption><strong>{e(f["label"])}</strong> '
            f"{e(f['caption'])}</figcaption></figure>"
        )

    out = [
        "<!DOCTYPE html>",
        f'<html lang="{e(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(content['title'])}</title><style>{css}</style></head><body>",
        f'<header><div class="org">{e(content["organisation"])} · {e(content["date"])}</div>',
        f"<h1>{e(content['title'])}</h1>",
        f'<p class="subtitle">{e(content["subtitle"])}</p></header>',
    ]
    if content["data_notice"]:
        out.append(f'<p class="notice">{e(content["data_notice"])}</p>')
    out.append(f'<section class="box"><h2>{e(heads["key_points"])}</h2><ul>')
    out += [f"<li>{e(k)}</li>" for k in content["key_points"]]
    out.append(f"</ul></section><h2>{e(heads['findings'])}</h2>")
    for f in content["findings"]:
        out.append(f"<p><strong>{e(f['lead'])}</strong> {e(f['text'])}</p>")
        if f.get("table"):
            head = "".join(f"<th>{e(h)}</th>" for h in f["table"]["header"])
            body = "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                for row in f["table"]["rows"]
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        out.append(figure(f.get("figure", "")))
    out += [figure(f["name"]) for f in content["figures"]]
    out.append(f"<h2>{e(heads['recommendations'])}</h2><ol>")
    out += [f"<li>{e(r)}</li>" for r in content["recommendations"]]
    out.append(f'</ol><section class="box grey"><h2>{e(heads["methods"])}</h2><ul>')
    out += [f"<li>{e(m)}</li>" for m in content["methods"]]
    out.append(f'</ul></section><section class="box grey"><h2>{e(heads["protection"])}</h2>')
    out.append(f"<p>{e(content['protection'])}</p></section>")
    note = content.get("translation")
    if note:
        out.append(
            f'<section class="colophon"><h2>{e(note["heading"])}</h2>'
            f"<p>{e(note['text'])}</p></section>"
        )
    out.append("</body></html>")
    return "\n".join(x for x in out if x) + "\n"
