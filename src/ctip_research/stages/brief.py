"""Stage ``brief``: the policy brief (PDF and HTML) from the estimates, behind the gate.

Reads: ``<processed>/models/estimates.csv`` (fit), ``<processed>/figures/manifest.json`` and the
figures it lists (figures stage).

Writes to ``<processed>/brief/``: ``brief.pdf`` (Typst, fixed document date from
``brief.source_date_epoch``), ``brief.html`` (self-contained), ``brief.json`` (the content: every
sentence and every number printed, with the values read from the inputs) and
``brief.disclosure.json`` (the check record of the regressions quoted and of every figure shown).
Fails with :class:`~ctip_research.errors.DisclosureError` when a check fails and with
:class:`~ctip_research.errors.RenderError` when the PDF exceeds ``brief.max_pages``.
"""

from __future__ import annotations

import time
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from ctip_research.config import Params, params_hash
from ctip_research.errors import DisclosureError, InputFileError, RenderError
from ctip_research.identity import data_notices, read_identity, survey_description
from ctip_research.io import file_sha256, read_json, write_bytes, write_json, write_text
from ctip_research.log import get_logger
from ctip_research.reporting.brief import compose_brief, pdf_page_count, render_html, typeset_pdf
from ctip_research.reporting.disclosure import DisclosureThresholds, check_regression

log = get_logger("brief")


def run_brief(params: Params) -> None:
    """Compose, typeset and write the brief (see the module docstring)."""
    processed = Path(params.paths.processed)
    bp = params.brief
    thr = DisclosureThresholds.from_privacy(params.privacy)
    estimates_path = processed / "models" / "estimates.csv"
    fig_dir = processed / "figures"
    manifest_path = fig_dir / "manifest.json"
    for path, stage in ((estimates_path, "fit"), (manifest_path, "figures")):
        if not path.exists():
            raise InputFileError(f"input missing; run `ctip {stage}` first", file=path)
    estimates = pd.read_csv(estimates_path)
    identity = read_identity(processed)
    manifest = read_json(manifest_path)
    figures = manifest["figures"]
    records = []
    for name in bp.figures:
        rec_path = fig_dir / f"{name}.disclosure.json"
        if not rec_path.exists():
            raise InputFileError("figure has no disclosure record", file=rec_path)
        rec = read_json(rec_path)
        if not rec.get("passed"):
            raise DisclosureError(f"figure {name!r} did not pass the disclosure gate")
        records.append({"artefact": name, "passed": True, "source": rec_path.name})
    provenance = {
        "Package": f"ctip_research {version('ctip_research')}",
        "Estimates (sha256)": file_sha256(estimates_path)[:12],
        "Parameters (hash)": params_hash(params, "privacy", "brief", "figures"),
    }
    content = compose_brief(
        estimates,
        figures,
        title=bp.title,
        subtitle=bp.subtitle,
        organisation=bp.organisation,
        date_label=bp.date_label,
        headline_model=bp.headline_model,
        naive_model=bp.naive_model,
        programme_model=bp.programme_model,
        figure_names=bp.figures,
        model_labels={m.name: m.label for m in params.fit.models},
        model_kinds={m.name: m.kind for m in params.fit.models},
        thresholds=thr,
        data_notice=data_notices(identity, bp.data_notice),
        data_source=survey_description(identity),
        provenance=provenance,
    )
    quoted = estimates[
        estimates["model"].isin([bp.headline_model, bp.naive_model, bp.programme_model])
    ]
    regression = check_regression(quoted, thr, name="brief: quoted regressions")
    if not regression["passed"]:
        raise DisclosureError("the brief quotes a regression that fails the disclosure gate")
    start = time.perf_counter()
    pdf = typeset_pdf(content, figures_root=fig_dir, timestamp=bp.source_date_epoch)
    seconds = time.perf_counter() - start
    pages = pdf_page_count(pdf)
    if pages > bp.max_pages:
        raise RenderError(f"the brief has {pages} pages; brief.max_pages is {bp.max_pages}")
    pngs = {name: (fig_dir / f"{name}.png").read_bytes() for name in bp.figures}
    out = processed / "brief"
    write_bytes(out / "brief.pdf", pdf)
    write_text(out / "brief.html", render_html(content, figure_png=pngs))
    write_json(out / "brief.json", {**content, "pages": pages, "provenance": provenance})
    write_json(
        out / "brief.disclosure.json",
        {"artefact": "brief", "passed": True, "checks": [regression, *records]},
    )
    log.info("brief: %d page(s), typeset in %.1f s -> %s", pages, seconds, out)
