"""Stage ``brief``: the policy brief (PDF and HTML) from the published estimates, behind the gate.

Reads (all published artefacts, each with its passing check record): ``<processed>/models/
estimates.csv`` and ``metrics.json`` (fit), ``<processed>/figures/manifest.json``, the figures it
shows and the descriptive figures' ``data.csv`` (figures), ``<processed>/risk/metrics.json``
(risk), ``<processed>/reach/reach.csv`` (reach; the programme's own indicators, when present).

Writes to ``<processed>/brief/``, once per language of ``brief.languages`` (English as
``brief.*``, another language ``<lang>`` as ``brief.<lang>.*``): ``brief.pdf`` (Typst, fixed document date from
``brief.source_date_epoch``), ``brief.html`` (self-contained), ``brief.json`` (the content: every
sentence, the template it came from and the conditions it was chosen on, and every number printed
with its source) and ``brief.disclosure.json`` (the check record: the inputs' records passed and
every number on the page is traced). Fails with :class:`~ctip_research.errors.DisclosureError`
when a check fails, with :class:`~ctip_research.errors.RenderError` when the PDF exceeds
``brief.max_pages`` and with :class:`~ctip_research.errors.TypesetError` when Typst cannot
typeset it.
"""

from __future__ import annotations

import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

from ctip_research.config import Params, params_hash
from ctip_research.disclosure import DisclosurePolicy
from ctip_research.errors import InputFileError, RenderError
from ctip_research.i18n import current_language, translate, use_language
from ctip_research.identity import (
    DEMO_NOTICE,
    IDENTITY_FILE,
    data_notices,
    read_identity,
    survey_description,
)
from ctip_research.io import (
    PUBLISHED_DIGITS,
    file_sha256,
    read_json,
    write_bytes,
    write_json,
    write_text,
)
from ctip_research.log import get_logger
from ctip_research.reporting.brief import (
    BriefInputs,
    check_brief,
    compose_brief,
    pdf_page_count,
    render_html,
    typeset_pdf,
)
from ctip_research.reporting.figures import TOTAL_LABELS
from ctip_research.reporting.trace import Text, Traced, traced_text
from ctip_research.stages._publish import read_record, write_record

log = get_logger("brief")


def _record(path: Path, stage: str) -> dict[str, Any]:
    return read_record(path, stage=stage)


def _input_records(params: Params, processed: Path) -> list[dict[str, Any]]:
    """The check records of the fit and figures outputs the brief always reads."""
    fig_dir = processed / "figures"
    records = [
        _record(processed / "models" / "estimates.disclosure.json", "fit"),
        _record(fig_dir / "manifest.disclosure.json", "figures"),
    ]
    if (processed / "models" / "metrics.json").exists():
        records.append(_record(processed / "models" / "results.disclosure.json", "fit"))
    for name in params.brief.figures:
        records.append(_record(fig_dir / f"{name}.disclosure.json", "figures"))
    return records


def _read_inputs(params: Params, processed: Path) -> BriefInputs:
    """Read every published input with its check record (see the module docstring)."""
    estimates_path = processed / "models" / "estimates.csv"
    sample_path = processed / "models" / "metrics.json"
    fig_dir = processed / "figures"
    manifest_path = fig_dir / "manifest.json"
    for path, stage in ((estimates_path, "fit"), (manifest_path, "figures")):
        if not path.exists():
            raise InputFileError(f"input missing; run `ctip {stage}` first", file=path)
    records = _input_records(params, processed)
    figure_data = {}
    for name in TOTAL_LABELS:
        path = fig_dir / f"{name}.data.csv"
        if path.exists():
            records.append(_record(fig_dir / f"{name}.disclosure.json", "figures"))
            figure_data[name] = pd.read_csv(path, dtype={TOTAL_LABELS[name][0]: str})
    risk_path = processed / params.figures.risk_metrics_file
    risk_metrics = None
    if risk_path.exists():
        records.append(_record(risk_path.parent / "disclosure.json", "risk"))
        risk_metrics = read_json(risk_path)
    reach_path = processed / "reach" / "reach.csv"
    reach = None
    if reach_path.exists():
        records.append(_record(reach_path.parent / "reach.disclosure.json", "reach"))
        reach = pd.read_csv(reach_path, dtype={"level": str})
    return BriefInputs(
        reach=reach,
        estimates=pd.read_csv(estimates_path),
        sample=read_json(sample_path).get("sample", {}) if sample_path.exists() else {},
        figures=read_json(manifest_path)["figures"],
        figure_data=figure_data,
        risk_metrics=risk_metrics,
        records=records,
    )


def _data_notice(identity: dict[str, Any], extra_notice: str | None) -> Text | None:
    """The data notice, traced: the demonstration sentence (on the embedded default only) is
    fixed text without numbers; the extra notice comes from params.yaml.
    """
    notice = data_notices(identity, extra_notice)
    extra = (extra_notice or "").strip()
    return (
        Text(notice, (traced_text(extra, "params.yaml", path="brief.data_notice").entry(),))
        if notice and extra
        else Text(notice, ())
        if notice
        else None
    )


def _provenance(params: Params, estimates_path: Path) -> dict[str, Traced]:
    """The provenance line: package version, estimates checksum and parameters hash, traced."""
    phash = params_hash(params, "privacy", "brief", "figures")
    return {
        "package": traced_text(
            f"ctip_research {version('ctip_research')}",
            "package",
            derivation="installed package version",
        ),
        "checksum": traced_text(
            file_sha256(estimates_path)[:12],
            "models/estimates.csv",
            derivation="sha256 of the file, first 12 hex digits",
        ),
        "params_hash": traced_text(
            phash, "params.yaml", derivation="params hash of privacy, brief, figures"
        ),
    }


def _compose(
    params: Params,
    inputs: BriefInputs,
    *,
    policy: DisclosurePolicy,
    data_notice: Text | None,
    survey: Traced,
    provenance: dict[str, Traced],
) -> dict[str, Any]:
    """The brief's content in the current language."""
    bp = params.brief
    return compose_brief(
        inputs,
        title=bp.title,
        subtitle=bp.subtitle,
        organisation=bp.organisation,
        date_label=bp.date_label,
        headline_model=bp.headline_model,
        naive_model=bp.naive_model,
        comparison_model=bp.comparison_model,
        programme_model=bp.programme_model,
        figure_names=bp.figures,
        model_labels={m.name: m.label for m in params.fit.models},
        instruments={m.name: list(m.instruments) for m in params.fit.models},
        policy=policy,
        data_notice=_translated_notice(data_notice),
        survey=survey,
        provenance=provenance,
        wave=params.figures.wave,
    )


def _write_brief(
    params: Params,
    lang: str,
    content: dict[str, Any],
    record: dict[str, Any],
    *,
    fig_dir: Path,
    pngs: dict[str, bytes],
) -> None:
    """Typeset the brief in ``lang``, check its length and write PDF, HTML, content, record."""
    bp = params.brief
    out = Path(params.paths.processed) / "brief"
    start = time.perf_counter()
    pdf = typeset_pdf(content, figures_root=fig_dir, timestamp=bp.source_date_epoch)
    seconds = time.perf_counter() - start
    pages = pdf_page_count(pdf)
    if pages > bp.max_pages:
        raise RenderError(f"the {lang} brief has {pages} pages; brief.max_pages is {bp.max_pages}")
    stem = brief_stem(lang)
    files = [
        write_bytes(out / f"{stem}.pdf", pdf),
        write_text(out / f"{stem}.html", render_html(content, figure_png=pngs)),
        write_json(out / f"{stem}.json", {**content, "pages": pages}, digits=PUBLISHED_DIGITS),
    ]
    write_record(out, stem, record, files)
    log.info("brief (%s): %d page(s), typeset in %.1f s -> %s", lang, pages, seconds, out)


def run_brief(params: Params) -> None:
    """Compose, check, typeset and write the brief (see the module docstring)."""
    processed = Path(params.paths.processed)
    bp = params.brief
    policy = DisclosurePolicy.from_privacy(params.privacy)
    fig_dir = processed / "figures"
    inputs = _read_inputs(params, processed)
    identity = read_identity(processed)
    data_notice = _data_notice(identity, bp.data_notice)
    survey = traced_text(
        survey_description(identity),
        f"tables/{IDENTITY_FILE}",
        derivation="survey description: name, waves with their interview years, provinces",
    )
    provenance = _provenance(params, processed / "models" / "estimates.csv")
    pngs = {name: (fig_dir / f"{name}.png").read_bytes() for name in bp.figures}
    for lang in bp.languages:
        with use_language(lang):
            content = _compose(
                params,
                inputs,
                policy=policy,
                data_notice=data_notice,
                survey=survey,
                provenance=provenance,
            )
        record = check_brief(content, policy, inputs.records)
        _write_brief(params, lang, content, record, fig_dir=fig_dir, pngs=pngs)


def brief_stem(lang: str) -> str:
    """File stem of the brief in ``lang``: ``brief`` for English, ``brief.<lang>`` otherwise."""
    return "brief" if lang == "en" else f"brief.{lang}"


def _translated_notice(notice: Text | None) -> Text | None:
    """The data notice in the output language (the demonstration sentence is a message; an
    extra notice from params.yaml is printed as written).
    """
    if notice is None or current_language() == "en":
        return notice
    text = notice.text.replace(DEMO_NOTICE, translate(DEMO_NOTICE, context="notice:demonstration"))
    return Text(text, notice.trace)
