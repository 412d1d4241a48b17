"""Stage ``report``: execute and render the report notebooks; write the index page.

Reads: ``notebooks/<name>.ipynb`` (``report.notebooks``) and what they read from
``<processed>/`` (quality report, descriptive estimates, regression tables, risk metrics and model
card, programme balance, validation, figures), ``<processed>/figures/manifest.json``,
``<processed>/brief/``.

Writes to ``<processed>/reports/``: ``<name>.html`` (executed with papermill, rendered with
nbconvert; code hidden when ``report.hide_code``), ``<name>.disclosure.json`` (the check record of
every table in it, listing the page with its sha256), ``provenance.json`` and ``index.html``
(every report, figure and the brief with the stage, parameters hash and data hashes behind it)
with ``index.disclosure.json`` (every exhibit it links passed its check). A notebook that shows a
table around the gate, fails a check or raises stops the stage before anything is written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from babel import Locale

from ctip_research.config import Params, params_hash
from ctip_research.disclosure import DisclosurePolicy, is_record
from ctip_research.errors import DisclosureError, InputFileError
from ctip_research.i18n import LANGUAGES
from ctip_research.identity import data_notices, read_identity
from ctip_research.io import PUBLISHED_DIGITS, file_sha256, read_json, write_json, write_text
from ctip_research.log import get_logger, track
from ctip_research.reporting.index import render_index
from ctip_research.reporting.notebook import collect_disclosure, execute_notebook, render_html
from ctip_research.reporting.provenance import gather_provenance
from ctip_research.stages._publish import combine_records, write_record

log = get_logger("report")

#: Files (relative to the processed layer) each report notebook reads: hashed for the index.
NOTEBOOK_INPUTS: dict[str, tuple[str, ...]] = {
    "data_quality": ("quality/quality_report.json",),
    "descriptive": (
        "models/descriptive.csv",
        "figures/debt_burden_by_province.data.csv",
    ),
    "debt_migration": (
        "models/estimates.csv",
        "models/tables/main.html",
        "models/robustness.csv",
        "figures/effect_estimates.data.csv",
        "figures/migration_by_debt_band.data.csv",
    ),
    "risk_screening": (
        "risk/metrics.json",
        "risk/subgroup_metrics.csv",
        "risk/model_card.md",
        "figures/targeting_curve.data.csv",
    ),
    "programme": (
        "models/balance.csv",
        "models/programme.json",
        "models/estimates.csv",
        "models/tables/programme.html",
        "figures/programme_effect.data.csv",
    ),
    "validation": (
        "validation/validation.csv",
        "monte_carlo/summary.csv",
        "monte_carlo/verdicts.csv",
        "monte_carlo/coverage_by_scenario.png",
    ),
}
#: Inputs read when present (a stage the notebook shows, if it ran): hashed for the index too.
OPTIONAL_INPUTS: dict[str, tuple[str, ...]] = {"programme": ("reach/reach.csv",)}
TITLES: dict[str, str] = {
    "data_quality": "Data quality: what the cleaning found and did",
    "descriptive": "Descriptive statistics by province (design-based)",
    "debt_migration": "Debt and migration: the econometric results",
    "risk_screening": "Risk screening: evaluation and model card",
    "programme": "The livelihood programme: difference in differences and adjustment",
    "validation": "Validation against the synthetic ground truth",
}

#: What each report answers (the index's "Start here" list, in :data:`READING_ORDER`).
DESCRIPTIONS: dict[str, str] = {
    "debt_migration": "does an MFI loan make migration more likely? The regression table, "
    "the effect by estimator and the robustness checks.",
    "descriptive": "how many households borrow, are over-indebted or have a migrant, by province.",
    "risk_screening": "how well a baseline risk score would target support, and its model card.",
    "programme": "what the livelihood programme changed.",
    "validation": "whether each estimator recovers the effect built into the synthetic survey.",
    "data_quality": "what the cleaning found and corrected, before any estimate.",
}
#: The order a first-time reader should open the reports in (others follow in params order).
READING_ORDER = ("debt_migration", "descriptive", "risk_screening", "programme", "validation")


def notebooks_to_render(
    notebooks: list[str], synthetic_only: list[str], processed: Path
) -> list[str]:
    """``notebooks`` without the ``synthetic_only`` ones unless ``ctip validate`` compared the
    estimates with a ground truth (a non-empty ``validation/validation.csv``; on real data it
    writes an empty one).
    """
    validation_csv = processed / "validation" / "validation.csv"
    compared = validation_csv.exists() and not pd.read_csv(validation_csv).empty
    return [n for n in notebooks if compared or n not in synthetic_only]


def _linked_records(processed: Path) -> list[dict[str, Any]]:
    """The check records of the figures and the brief the index links (each must have passed)."""
    out = []
    for folder in ("figures", "brief", "reach"):
        for path in sorted((processed / folder).glob("*")):
            if path.is_file() and is_record(path):
                rec = read_json(path)
                if not rec.get("passed"):
                    raise DisclosureError(
                        f"{folder}/{path.name}: a linked exhibit failed its check"
                    )
                out.append({k: rec[k] for k in ("artefact", "passed") if k in rec})
    return out


def _reach_entry(processed: Path) -> dict[str, Any] | None:
    """The programme-reach exhibit the index links (``<processed>/reach``), or None when the
    reach stage did not run.
    """
    out = processed / "reach"
    if not (out / "reach.csv").exists():
        return None
    figure = read_json(out / "reach_by_province.json")
    return {
        "title": figure["title"],
        "caption": figure["caption"],
        "alt_text": figure["alt_text"],
        "figure": figure["name"],
        "inputs": {
            f"reach/{name}": file_sha256(out / name)
            for name in ("reach.csv", "reach_by_province.data.csv")
        },
    }


@dataclass(frozen=True)
class _Run:
    """What every report notebook is run with: folders, parameters, provenance and the gate."""

    processed: Path
    notebooks_dir: Path
    phash: str
    provenance: dict[str, Any]
    privacy: dict[str, Any]
    policy: DisclosurePolicy


@dataclass(frozen=True)
class _Rendered:
    """One rendered report: its page, its check record and its index entry."""

    page: str
    record: dict[str, Any]
    entry: dict[str, Any]


def _report_privacy(params: Params) -> dict[str, Any]:
    """The disclosure settings the notebooks apply (``privacy`` minimums, thresholds, reason)."""
    return {
        k: v
        for k, v in params.privacy.model_dump().items()
        if k.startswith(("min_", "reliability_", "dominance_"))
        or k in ("trafficking_indicators", "override_reason")
    }


def _notebook_inputs(processed: Path, name: str) -> list[Path]:
    """The files a report notebook reads (each required one must exist; optional when present)."""
    inputs = [processed / rel for rel in NOTEBOOK_INPUTS.get(name, ())]
    for p in inputs:
        if not p.exists():
            raise InputFileError("input of a report notebook is missing", file=p)
    inputs += [
        processed / rel for rel in OPTIONAL_INPUTS.get(name, ()) if (processed / rel).exists()
    ]
    return inputs


def _render_report(params: Params, run: _Run, name: str) -> _Rendered:
    """Execute one report notebook, gate its tables and render it to HTML."""
    rp = params.report
    path = run.notebooks_dir / f"{name}.ipynb"
    if not path.exists():
        raise InputFileError("report notebook not found", file=path)
    inputs = _notebook_inputs(run.processed, name)
    start = time.perf_counter()
    nb = execute_notebook(
        path,
        parameters={
            "processed_dir": os.path.relpath(run.processed, run.notebooks_dir),
            "privacy": run.privacy,
            "provenance": run.provenance,
            "descriptive_wave": params.fit.descriptive.wave,
        },
        kernel_name=rp.kernel_name,
        timeout_s=rp.timeout_s,
        source_date_epoch=rp.source_date_epoch,
        cwd=run.notebooks_dir,
    )
    recs = collect_disclosure(nb, name=name)
    title = TITLES.get(name, name)
    page = render_html(nb, title=title, hide_code=rp.hide_code)
    record = {**combine_records(f"report {name}", recs, run.policy), "tables": recs}
    entry = {
        "name": name,
        "title": title,
        "description": DESCRIPTIONS.get(name, ""),
        "href": f"{name}.html",
        "disclosure": f"{name}.disclosure.json",
        "params_hash": run.phash,
        "inputs": {p.relative_to(run.processed).as_posix(): file_sha256(p) for p in inputs},
        "n_tables": len(recs),
        "n_suppressed": sum(int(r.get("n_suppressed", 0)) for r in recs),
    }
    log.info("report %s: %d gated table(s) in %.1f s", name, len(recs), time.perf_counter() - start)
    return _Rendered(page, record, entry)


def _brief_entry(params: Params, processed: Path) -> dict[str, Any] | None:
    """The brief the index links (PDF, HTML, translations, inputs), or None without one."""
    brief_dir = processed / "brief"
    if not (brief_dir / "brief.json").exists():
        return None
    content = read_json(brief_dir / "brief.json")
    return {
        "pdf": "../brief/brief.pdf",
        "html": "../brief/brief.html",
        "disclosure": "../brief/brief.disclosure.json",
        "pages": content.get("pages", 0),
        "translations": [
            {
                "lang": lang,
                "name": Locale.parse(lang).display_name,
                "pdf": f"../brief/brief.{lang}.pdf",
                "html": f"../brief/brief.{lang}.html",
            }
            for lang in LANGUAGES
            if lang != "en" and (brief_dir / f"brief.{lang}.pdf").exists()
        ],
        "params_hash": params_hash(params, "privacy", "brief", "figures"),
        "inputs": {
            "models/estimates.csv": file_sha256(processed / "models" / "estimates.csv"),
            "figures/manifest.json": file_sha256(processed / "figures" / "manifest.json"),
        },
    }


def _reading_rank(entry: Mapping[str, Any]) -> int:
    """An index entry's place in :data:`READING_ORDER` (reports not in it come last)."""
    name = entry["name"]
    return READING_ORDER.index(name) if name in READING_ORDER else len(READING_ORDER)


def _write_index(
    params: Params, run: _Run, reports: list[_Rendered], identity: dict[str, Any]
) -> None:
    """Write ``provenance.json`` and ``index.html`` with the index's check record."""
    rendered = {r.entry["name"]: r for r in reports}
    processed = run.processed
    out = processed / "reports"
    figures = (
        read_json(processed / "figures" / "manifest.json")["figures"]
        if (processed / "figures" / "manifest.json").exists()
        else []
    )
    brief = _brief_entry(params, processed)
    reach = _reach_entry(processed)
    linked = [r.record for r in rendered.values()] + _linked_records(processed)
    index_files = [
        write_json(out / "provenance.json", run.provenance, digits=PUBLISHED_DIGITS),
        write_text(
            out / "index.html",
            render_index(
                reports=sorted([r.entry for r in reports], key=_reading_rank),
                figures=figures,
                brief=brief,
                reach=reach,
                provenance=run.provenance,
                notice=data_notices(identity, params.brief.data_notice),
                identity=identity,
            ),
        ),
    ]
    write_record(out, "index", combine_records("index", linked, run.policy), index_files)


def run_report(params: Params) -> None:
    """Execute, gate and render every report notebook; write the index (see module docstring)."""
    processed = Path(params.paths.processed).resolve()
    rp = params.report
    notebooks_dir = Path("notebooks").resolve()
    phash = params_hash(params, "privacy", "report")
    identity = read_identity(processed)
    prov = gather_provenance(
        params_hash=params_hash(params),
        identity=identity,
        source_date_epoch=rp.source_date_epoch,
        notebooks=notebooks_dir,
    )
    run = _Run(
        processed=processed,
        notebooks_dir=notebooks_dir,
        phash=phash,
        provenance=prov,
        privacy=_report_privacy(params),
        policy=DisclosurePolicy.from_privacy(params.privacy),
    )
    selected = notebooks_to_render(rp.notebooks, rp.synthetic_only, processed)
    reports = [_render_report(params, run, name) for name in track(selected, "Rendering reports")]
    out = processed / "reports"
    for name, report in {r.entry["name"]: r for r in reports}.items():
        write_record(out, name, report.record, [write_text(out / f"{name}.html", report.page)])
    _write_index(params, run, reports, identity)
    log.info("wrote %d report(s) and index.html to %s", len(reports), out)
