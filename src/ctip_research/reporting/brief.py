"""The policy brief: plain-language findings generated from the estimates, typeset as PDF and HTML.

No number in the brief is typed by hand. :func:`compose_brief` reads the estimates table and the
figures' headline numbers and writes every sentence with its numbers and their uncertainty
(95% intervals); the recommendations are chosen by what the evidence shows (an interval that
excludes zero or not). The result is one JSON-ready dict (``numbers`` holds every value printed, as
read from the inputs; ``text_numbers`` the same values as printed). :func:`typeset_pdf` lays it
out with Typst (``templates/brief.typ``; fonts: DejaVu Sans shipped with matplotlib plus Typst's
embedded fonts, system fonts ignored, a fixed creation date), :func:`render_html` as one
self-contained HTML page (figures embedded as PNG with their alt text).
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.errors import DisclosureError, InputFileError
from ctip_research.reporting.disclosure import DisclosureThresholds, check_artefact

__all__ = [
    "ASSUMPTION",
    "TEMPLATE",
    "compose_brief",
    "effect_row",
    "fmt_pct",
    "fmt_pp",
    "pdf_page_count",
    "render_html",
    "typeset_pdf",
]

TEMPLATE = Path(__file__).with_name("templates") / "brief.typ"


#: How each kind of headline model separates the effect of credit from households' circumstances.
IDENTIFICATION: dict[str, str] = {
    "iv": (
        "This estimate compares households that differ in their access to MFI branches, which "
        "separates the effect of credit from households' own circumstances."
    ),
    "panel": (
        "This estimate follows the same households across the two survey waves, comparing each "
        "household with itself before and after it took or repaid an MFI loan, which removes "
        "its lasting circumstances (such as long-standing hardship) from the comparison."
    ),
    "fixed_effects": (
        "This estimate compares households within the same area; it does not remove differences "
        "between households in the same village."
    ),
}


#: The assumption each kind of headline model needs, said right after its identification
#: sentence (docs/synthetic.md "Scenarios" shows each estimator in a world where it fails).
ASSUMPTION: dict[str, str] = {
    "iv": (
        "It assumes that branch access changes migration only through borrowing, and changes "
        "borrowing enough to measure."
    ),
    "panel": (
        "It assumes that borrowing in one wave does not change migration in the other: it would "
        "be biased if migrants who left because of a loan stayed abroad after it was repaid."
    ),
    "fixed_effects": (
        "It assumes that borrowers and non-borrowers in the same area would have migrated alike "
        "without the loan."
    ),
    "survey_glm": (
        "It assumes that borrowers and non-borrowers with the same characteristics would have "
        "migrated alike without the loan."
    ),
}


def fmt_pp(x: float) -> str:
    """A difference in shares as percentage points with one decimal (``0.0853 -> '8.5'``).

    Examples
    --------
    >>> fmt_pp(0.0853), fmt_pp(-0.02)
    ('8.5', '-2.0')
    """
    return f"{100 * x:.1f}".replace("-0.0", "0.0")


def fmt_pct(x: float) -> str:
    """A share as a whole percentage (``0.364 -> '36%'``).

    Examples
    --------
    >>> fmt_pct(0.364)
    '36%'
    """
    return f"{100 * x:.0f}%"


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


def _interval(row: Mapping[str, Any]) -> str:
    return f"95% CI {fmt_pp(row['conf_low'])} to {fmt_pp(row['conf_high'])}"


def _direction(row: Mapping[str, Any]) -> str:
    """'up' / 'down' if the 95% interval excludes zero, else 'unclear'."""
    if row["conf_low"] > 0:
        return "up"
    if row["conf_high"] < 0:
        return "down"
    return "unclear"


def _figure_number(figures: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, float | None]:
    for f in figures:
        if f["name"] == name:
            return f.get("numbers", {})
    return {}


def compose_brief(
    estimates: pd.DataFrame,
    figures: Sequence[Mapping[str, Any]],
    *,
    title: str,
    subtitle: str,
    organisation: str,
    date_label: str,
    headline_model: str,
    naive_model: str,
    programme_model: str,
    figure_names: Sequence[str],
    model_labels: Mapping[str, str],
    thresholds: DisclosureThresholds,
    data_notice: str | None,
    provenance: Mapping[str, str],
    model_kinds: Mapping[str, str] | None = None,
    data_source: str | None = None,
) -> dict[str, Any]:
    """Write the brief's content from the estimates and the figures' manifest entries.

    Parameters
    ----------
    estimates
        ``estimates.csv`` (models engineer's columns).
    figures
        Entries of the figures stage's ``manifest.json`` (name, title, caption, alt_text,
        numbers).
    headline_model, naive_model, programme_model
        Models of the key finding, of the naive comparison and of the programme's effect.
    figure_names
        Figures shown, in order (3-4).
    model_labels
        Model name -> label (``fit.models[].label``).
    model_kinds
        Model name -> kind (``fit.models[].kind``); the headline finding explains how its
        model separates the effect of credit from households' own circumstances.
    thresholds
        Disclosure thresholds (printed in the data-protection note; the regressions are checked).
    data_notice
        A notice printed at the top (e.g. that the data are synthetic), or None.
    data_source
        The data in one line for the methods note (survey, waves, provinces;
        :func:`ctip_research.identity.survey_description`).
    provenance
        Short provenance strings printed in the methods box (package version, commit, hashes).

    Returns
    -------
    dict
        JSON-ready content (see the module docstring).
    """
    head = effect_row(estimates, headline_model)
    naive = effect_row(estimates, naive_model)
    prog = effect_row(estimates, programme_model)
    check_artefact(
        pd.DataFrame([head, naive, prog]),
        thresholds,
        name="brief estimates",
        artefact_type="regression",
    )
    label = {m: model_labels.get(m, m) for m in (headline_model, naive_model, programme_model)}
    numbers: dict[str, float | None] = {}
    text: dict[str, str] = {}
    for key, row in (("headline", head), ("naive", naive), ("programme", prog)):
        for col in ("estimate", "conf_low", "conf_high"):
            numbers[f"{key}.{col}"] = float(row[col])
            text[f"{key}.{col}"] = fmt_pp(float(row[col]))
        numbers[f"{key}.n_obs"] = float(row["n_obs"])
        text[f"{key}.n_obs"] = f"{int(row['n_obs']):,}"

    findings: list[dict[str, str]] = []
    # 1. the headline effect
    d = _direction(head)
    kind = (model_kinds or {}).get(headline_model, "")
    exposure_txt = "having a microfinance (MFI) loan"
    if d == "unclear":
        lead = "No clear effect of MFI debt on migration."
        body = (
            f"Our preferred estimate ({label[headline_model]}) of the effect of {exposure_txt} on "
            f"international migration is {text['headline.estimate']} percentage points "
            f"({_interval(head)}); the interval includes zero, so the data do not show whether "
            "MFI debt pushes households into migration."
        )
    else:
        word = "more" if d == "up" else "less"
        lead = f"MFI debt makes migration {word} likely."
        body = (
            f"Households with an MFI loan are {fmt_pp(abs(head['estimate']))} percentage points "
            f"{word} likely to have a member working abroad ({label[headline_model]} estimate, "
            f"{_interval(head)}). "
            + " ".join(x for x in (IDENTIFICATION.get(kind), ASSUMPTION.get(kind)) if x)
        ).rstrip()
    findings.append({"lead": lead, "text": body, "figure": "effect_estimates"})
    # 2. naive comparison
    ratio = naive["estimate"] / head["estimate"] if head["estimate"] else np.nan
    numbers["naive_to_headline_ratio"] = float(ratio) if np.isfinite(ratio) else None
    text["naive_to_headline_ratio"] = f"{ratio:.1f}" if np.isfinite(ratio) else "n/a"
    if np.isfinite(ratio) and ratio > 1.1:
        lead = "Simple comparisons overstate the effect."
        body = (
            f"A simple comparison of borrowers and non-borrowers gives "
            f"{text['naive.estimate']} percentage points ({_interval(naive)}), "
            f"{text['naive_to_headline_ratio']} times the preferred estimate: households in "
            "distress both borrow more and migrate more, and a naive comparison counts that as "
            "an effect of credit."
        )
    else:
        lead = "Simple comparisons give a similar answer."
        body = (
            f"A simple comparison of borrowers and non-borrowers gives "
            f"{text['naive.estimate']} percentage points ({_interval(naive)})."
        )
    findings.append({"lead": lead, "text": body, "figure": ""})
    # 3. debt burden and risky migration (descriptive, from the gated figure data)
    band = _figure_number(figures, "migration_by_debt_band")
    burden = _figure_number(figures, "debt_burden_by_province")
    parts = []
    for key, phrase in (
        ("has_mfi_loan", "had an MFI loan"),
        ("is_over_indebted", "were over-indebted"),
    ):
        v = burden.get(f"{key}.estimate")
        lo, hi = burden.get(f"{key}.conf_low"), burden.get(f"{key}.conf_high")
        if v is not None and lo is not None and hi is not None:
            numbers[f"burden.{key}"] = v
            text[f"burden.{key}"] = fmt_pct(v)
            parts.append(
                f"{fmt_pct(v)} of households {phrase} (95% CI {fmt_pct(lo)} to {fmt_pct(hi)})"
            )
    risky = band.get("has_risky_migration.estimate")
    if parts:
        body = "In the survey's first wave, " + " and ".join(parts) + "."
        if risky is not None:
            numbers["risky.overall"] = risky
            text["risky.overall"] = fmt_pct(risky)
            body += (
                f" {fmt_pct(risky)} of households had a member in risky migration (irregular, "
                "through an informal broker, or with a sign of forced labour); the share is shown "
                "by debt-service burden in the figure."
            )
        share = numbers.get("burden.has_mfi_loan")
        lead = (
            f"{fmt_pct(share)} of households owe a microfinance institution."
            if share is not None
            else "Debt burdens by debt-service band."
        )
        findings.append({"lead": lead, "text": body, "figure": "migration_by_debt_band"})
    # 4. targeting
    tgt = _figure_number(figures, "targeting_curve")
    if tgt.get("headline.estimate") is not None:
        served = float(tgt["headline.share_served"] or 0)
        reached = float(tgt["headline.estimate"] or 0)
        lo, hi = float(tgt["headline.conf_low"] or 0), float(tgt["headline.conf_high"] or 0)
        numbers.update(
            {
                "targeting.share_served": served,
                "targeting.reached": reached,
                "targeting.conf_low": lo,
                "targeting.conf_high": hi,
            }
        )
        text.update(
            {"targeting.share_served": fmt_pct(served), "targeting.reached": fmt_pct(reached)}
        )
        better = lo > served
        findings.append(
            {
                "lead": "Risk screening can help target support to groups."
                if better
                else "Risk screening adds little over random targeting.",
                "text": (
                    f"Serving the {fmt_pct(served)} of households ranked highest by a risk score "
                    f"built from first-wave answers would reach {fmt_pct(reached)} of the households "
                    f"that later had a member in risky migration (95% CI {fmt_pct(lo)} to "
                    f"{fmt_pct(hi)}), against {fmt_pct(served)} with random selection."
                ),
                "figure": "targeting_curve",
            }
        )
    # 5. programme
    dp = _direction(prog)
    if dp == "down":
        lead = "The livelihood programme reduced risky migration."
        body = (
            f"Among participating households, risky migration fell by "
            f"{fmt_pp(-prog['estimate'])} percentage points ({label[programme_model]}, "
            f"{_interval(prog)}), after adjusting for how the programme chose them."
        )
    elif dp == "up":
        lead = "Risky migration rose among programme households."
        body = (
            f"The estimate is +{text['programme.estimate']} percentage points "
            f"({label[programme_model]}, {_interval(prog)})."
        )
    else:
        lead = "The programme's effect on risky migration is not yet clear."
        body = (
            f"The estimate is {text['programme.estimate']} percentage points "
            f"({label[programme_model]}, {_interval(prog)}); the interval includes zero."
        )
    findings.append({"lead": lead, "text": body, "figure": "programme_effect"})

    recs = []
    if d == "up":
        recs.append(
            "Pair microcredit with safe-migration information and affordability checks "
            "where MFI borrowing is high: the evidence links MFI debt to more migration."
        )
    else:
        recs.append(
            "Do not assume that MFI debt drives migration; monitor both as the evidence grows."
        )
    recs.append(
        "Treat repayment that needs sacrifices (cutting food, selling land or assets, "
        "taking children out of school) as a warning sign and offer rescheduling before "
        "households turn to brokers."
    )
    if tgt.get("headline.estimate") is not None:
        recs.append(
            "Use risk scores only to choose villages and groups for support, never to "
            "label or exclude individual households."
        )
    if dp == "down":
        recs.append(
            "Extend the livelihood programme to comparable at-risk households, with a "
            "phased roll-out that allows a stronger evaluation."
        )
    else:
        recs.append(
            "Evaluate the livelihood programme with a phased or randomised roll-out "
            "before scaling it up."
        )

    methods = [
        f"{data_source or 'Two-wave household survey'}; {text['headline.n_obs']} observations "
        f"in the preferred model, {int(head['n_psu']):,} villages.",
        "Design-based and village-clustered standard errors; 95% confidence intervals throughout.",
        "Estimators compared: "
        + ", ".join(
            sorted(
                set(model_labels.get(m, m) for m in (naive_model, headline_model, programme_model))
            )
        )
        + ".",
        "The debt-service ratio uses income including remittances, as households report it.",
        *(f"{k}: {v}" for k, v in provenance.items()),
    ]
    protection = (
        "No number in this brief rests on fewer than "
        f"{thresholds.min_cell_count} households ({thresholds.min_cell_count_trafficking} for "
        "trafficking cases); estimates on fewer than "
        f"{thresholds.reliability_suppress_below} are suppressed, and regressions are published "
        f"only with at least {thresholds.min_residual_df} residual degrees of freedom. Names, "
        "phone numbers and locations never leave the raw data; no individual risk score is "
        "published."
    )
    figs = []
    by_name = {f["name"]: f for f in figures}
    for name in figure_names:
        if name not in by_name:
            raise InputFileError(f"figure {name!r} is not in the figures manifest")
        f = by_name[name]
        figs.append(
            {
                "name": name,
                "title": f["title"],
                "caption": f["caption"],
                "alt": f["alt_text"],
                "width_in": float(f.get("width_in", 6.4)),
            }
        )
    key_points = [f["lead"] for f in findings]
    return {
        "title": title,
        "subtitle": subtitle,
        "organisation": organisation,
        "date": date_label,
        "data_notice": data_notice or "",
        "key_points": key_points,
        "findings": findings,
        "recommendations": recs,
        "methods": methods,
        "protection": protection,
        "figures": figs,
        "numbers": numbers,
        "text_numbers": text,
    }


def _font_dirs() -> list[str]:
    import matplotlib

    return [str(Path(matplotlib.get_data_path()) / "fonts" / "ttf")]


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
    except typst.TypstError as exc:  # pragma: no cover - template errors are bugs
        raise DisclosureError(f"typst could not typeset the brief: {exc}") from None
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
    figs = {f["name"]: f for f in content["figures"]}
    fig_no = {f["name"]: i + 1 for i, f in enumerate(content["figures"])}
    shown: set[str] = set()

    def figure(name: str) -> str:
        if name not in figs or name in shown:
            return ""
        shown.add(name)
        f = figs[name]
        src = base64.b64encode(figure_png.get(name, b"")).decode("ascii")
        return (
            f'<figure id="fig-{e(name)}"><img src="data:image/png;base64,{src}" '
            f'alt="{e(f["alt"], quote=True)}"><figcaption><strong>Figure {fig_no[name]}.</strong> '
            f"{e(f['caption'])}</figcaption></figure>"
        )

    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(content['title'])}</title><style>{_CSS}</style></head><body>",
        f'<header><div class="org">{e(content["organisation"])} · {e(content["date"])}</div>',
        f"<h1>{e(content['title'])}</h1>",
        f'<p class="subtitle">{e(content["subtitle"])}</p></header>',
    ]
    if content["data_notice"]:
        out.append(f'<p class="notice">{e(content["data_notice"])}</p>')
    out.append('<section class="box"><h2>Key points</h2><ul>')
    out += [f"<li>{e(k)}</li>" for k in content["key_points"]]
    out.append("</ul></section><h2>Findings</h2>")
    for f in content["findings"]:
        out.append(f"<p><strong>{e(f['lead'])}</strong> {e(f['text'])}</p>")
        out.append(figure(f.get("figure", "")))
    out += [figure(f["name"]) for f in content["figures"]]
    out.append("<h2>Recommendations</h2><ol>")
    out += [f"<li>{e(r)}</li>" for r in content["recommendations"]]
    out.append('</ol><section class="box grey"><h2>Methods and data</h2><ul>')
    out += [f"<li>{e(m)}</li>" for m in content["methods"]]
    out.append('</ul></section><section class="box grey"><h2>Data protection</h2>')
    out.append(f"<p>{e(content['protection'])}</p></section></body></html>")
    return "\n".join(x for x in out if x) + "\n"
