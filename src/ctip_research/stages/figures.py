"""Stage ``figures``: the published figures, each behind the disclosure gate.

Reads: ``<processed>/analysis/household_wave.parquet`` (features), ``<processed>/models/estimates.csv``
(fit), the truth comparison of ``ctip validate`` (``figures.truth_file``, synthetic data only), the
targeting curve and metrics of ``ctip risk`` (``figures.targeting_file``,
``figures.risk_metrics_file``).

Writes to ``<processed>/figures/``: for every figure ``<name>.png`` and ``<name>.svg``
(deterministic: no dates, fixed SVG ids), ``<name>.caption.md``, ``<name>.alt.txt``,
``<name>.data.csv`` (the gated numbers behind it) and ``<name>.disclosure.json`` (the check
record, listing those files with their sha256), plus ``manifest.json`` (every figure with its
title, caption, alt text, the trace of every number in them, headline numbers, files and their
sha256, inputs and their sha256, and the params hash) and ``manifest.disclosure.json``. The stage
fails with :class:`~ctip_research.errors.DisclosureError` when a figure fails a check, before
writing it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ctip_research.config import Params, params_hash
from ctip_research.disclosure import DisclosurePolicy
from ctip_research.errors import InputFileError
from ctip_research.features.definitions import band_labels
from ctip_research.i18n import LANGUAGES, translate, use_language
from ctip_research.identity import IDENTITY_FILE, read_identity, source_label
from ctip_research.io import (
    CURVE_DIGITS,
    PUBLISHED_DIGITS,
    file_sha256,
    write_bytes,
    write_csv,
    write_json,
    write_text,
)
from ctip_research.literals import PROVINCES
from ctip_research.log import get_logger, track
from ctip_research.reporting.figures import (
    Exhibit,
    build_debt_burden_figure,
    build_effects_figure,
    build_migration_by_band_figure,
    build_targeting_figure,
)
from ctip_research.reporting.style import render_figure
from ctip_research.reporting.trace import Traced, traced_text
from ctip_research.stages._publish import combine_records, read_record, write_record

log = get_logger("figures")

#: Figure stems written by this stage (the brief and the index refer to them).
FIGURE_NAMES: tuple[str, ...] = (
    "debt_burden_by_province",
    "migration_by_debt_band",
    "effect_estimates",
    "targeting_curve",
    "programme_effect",
)


def _require(path: Path, stage: str) -> Path:
    if not path.exists():
        raise InputFileError(f"input missing; run `ctip {stage}` first (or `dvc repro`)", file=path)
    return path


def _model_labels(params: Params) -> dict[str, str]:
    return {m.name: m.label for m in params.fit.models}


def _read_truth(params: Params, processed: Path) -> tuple[dict[str, float] | None, Path | None]:
    rel = params.figures.truth_file
    if rel is None:
        return None, None
    path = processed / rel
    if not path.exists():
        log.warning("truth comparison %s not found: effect figures drawn without the truth", path)
        return None, None
    table = pd.read_csv(path)
    if not {"model", "truth"} <= set(table.columns):
        raise InputFileError("truth comparison needs columns model and truth", file=path)
    table = table.dropna(subset=["truth"]).drop_duplicates("model")
    if table.empty:  # real data: ctip validate wrote no comparison
        log.info("no truth to compare with (%s is empty): effect figures without it", path)
        return None, None
    return dict(zip(table["model"].astype(str), table["truth"].astype(float), strict=True)), path


def _require_estimated(params: Params, estimates: pd.DataFrame, processed: Path) -> None:
    """Say which figure models ``ctip fit`` did not publish, and why, before drawing anything."""
    fp = params.figures
    present = set(estimates.loc[estimates["term"] == estimates["exposure"], "model"].astype(str))
    absent = [m for m in [*fp.effect_models, *fp.programme_models] if m not in present]
    if not absent:
        return
    metrics_path = processed / "models" / "metrics.json"
    metrics = json.loads(metrics_path.read_text("utf-8")) if metrics_path.exists() else {}
    why = {
        m: "suppressed (too few residual degrees of freedom or clusters)"
        for m in metrics.get("suppressed", [])
    }
    why.update({m: "not estimated" for m in metrics.get("not_estimated", [])})
    notes = " ".join(metrics.get("notes", []))
    listed = "; ".join(f"{m}: {why.get(m, 'not in estimates.csv')}" for m in absent)
    raise InputFileError(
        f"the figures need models that `ctip fit` did not publish ({listed}). "
        + (f"{notes} " if notes else "")
        + "Name published models in figures.effect_models / figures.programme_models and in "
        "brief.headline_model / naive_model / programme_model."
    )


def _headline(metrics_path: Path) -> dict[str, float] | None:
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    overall = metrics.get("overall", {})
    top = metrics.get("settings", {}).get("top_share")
    keys = ("top_share_reached", "top_share_reached_low", "top_share_reached_high")
    if top is None or any(overall.get(k) is None for k in keys):
        return None
    return {
        "share_served": float(top),
        "estimate": float(overall["top_share_reached"]),
        "conf_low": float(overall["top_share_reached_low"]),
        "conf_high": float(overall["top_share_reached_high"]),
    }


def _band(metrics_path: Path) -> tuple[float | None, int | None, int | None]:
    """Level and replicates of the risk stage's village-bootstrap band, and the households it
    evaluated (``metrics.json``).
    """
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    level = metrics.get("settings", {}).get("ci_level")
    n_boot = metrics.get("design", {}).get("n_bootstrap")
    n_hh = metrics.get("design", {}).get("n_households")
    return (
        None if level is None else float(level),
        None if n_boot is None else int(n_boot),
        None if n_hh is None else int(n_hh),
    )


def _estimates_record(processed: Path) -> dict[str, Any]:
    """The fit stage's check record of ``estimates.csv`` (the effect figures rest on it)."""
    return read_record(processed / "models" / "estimates.disclosure.json", stage="fit")


def _source(params: Params, processed: Path) -> Traced:
    """The figures' source line: ``figures.source_label``, else the survey's own label."""
    fp = params.figures
    return (
        traced_text(fp.source_label, "params.yaml", path="figures.source_label")
        if fp.source_label
        else traced_text(
            source_label(read_identity(processed)),
            f"tables/{IDENTITY_FILE}",
            derivation="survey name and number of provinces",
        )
    )


def _descriptive_exhibits(
    params: Params, households: pd.DataFrame, *, policy: DisclosurePolicy, source: Traced
) -> list[Exhibit]:
    """The descriptive figures: debt burden by province and migration by debt band."""
    fp = params.figures
    return [
        build_debt_burden_figure(
            households,
            indicators=fp.debt_indicators,
            province_names=PROVINCES,
            policy=policy,
            source=source,
            wave=fp.wave,
            conf_level=fp.conf_level,
            name="debt_burden_by_province",
        ),
        build_migration_by_band_figure(
            households,
            outcomes=fp.migration_outcomes,
            band=fp.debt_band_column,
            band_order=band_labels(params.features.debt_service_bands),
            borrower=fp.borrower_column,
            no_borrower_label=fp.no_borrower_label,
            policy=policy,
            source=source,
            wave=fp.wave,
            conf_level=fp.conf_level,
            name="migration_by_debt_band",
        ),
    ]


def _effect_exhibits(
    params: Params,
    estimates: pd.DataFrame,
    *,
    policy: DisclosurePolicy,
    source: Traced,
    truth: dict[str, float] | None,
    estimates_record: dict[str, Any],
) -> list[Exhibit]:
    """The effect figures: the effect estimates and the programme effect."""
    fp = params.figures
    labels = _model_labels(params)
    return [
        build_effects_figure(
            estimates,
            models={m: translate(labels.get(m, m), context=f"model:{m}") for m in models},
            policy=policy,
            source=source,
            title=translate(title, context=f"param:{title_path}"),
            xlabel="Effect (percentage points)",
            name=name,
            truth=truth,
            upstream=[estimates_record],
            title_path=title_path,
        )
        for name, models, title, title_path in (
            ("effect_estimates", fp.effect_models, fp.effect_title, "figures.effect_title"),
            (
                "programme_effect",
                fp.programme_models,
                fp.programme_title,
                "figures.programme_title",
            ),
        )
    ]


def _targeting_exhibit(
    targeting_path: Path, metrics_path: Path, *, policy: DisclosurePolicy, source: Traced
) -> tuple[Exhibit, list[Path]]:
    """The targeting curve (overall) with the risk stage's band; the figure and its inputs."""
    curve = pd.read_csv(targeting_path)
    if "subgroup" in curve.columns:
        curve = curve[curve["subgroup"].astype(str) == "overall"]
    headline = _headline(metrics_path)
    band_level, n_bootstrap, n_evaluated = _band(metrics_path)
    risk_record_path = targeting_path.parent / "disclosure.json"
    risk_record = (
        json.loads(risk_record_path.read_text(encoding="utf-8"))
        if risk_record_path.exists()
        else None
    )
    exhibit = build_targeting_figure(
        curve,
        policy=policy,
        source=source,
        headline=headline,
        n_households=n_evaluated,
        upstream_record=risk_record,
        band_level=band_level,
        n_bootstrap=n_bootstrap,
        name="targeting_curve",
    )
    inputs = [targeting_path, metrics_path]
    if risk_record is not None:
        inputs.append(risk_record_path)
    return exhibit, inputs


def build_exhibits(params: Params) -> tuple[list[Exhibit], dict[str, list[Path]]]:
    """Read the inputs and build every figure (gated); return them and each one's input files."""
    processed = Path(params.paths.processed)
    fp = params.figures
    policy = DisclosurePolicy.from_privacy(params.privacy)
    analysis = _require(processed / "analysis" / "household_wave.parquet", "features")
    estimates_path = _require(processed / "models" / "estimates.csv", "fit")
    targeting_path = _require(processed / fp.targeting_file, "risk")
    metrics_path = _require(processed / fp.risk_metrics_file, "risk")

    households = pd.read_parquet(analysis)
    source = _source(params, processed)
    estimates = pd.read_csv(estimates_path)
    truth, truth_path = _read_truth(params, processed)
    estimates_record = _estimates_record(processed)
    exhibits = _descriptive_exhibits(params, households, policy=policy, source=source)
    inputs: dict[str, list[Path]] = {e.name: [analysis] for e in exhibits}
    truth_inputs = [truth_path] if truth_path is not None else []
    _require_estimated(params, estimates, processed)
    effects = _effect_exhibits(
        params,
        estimates,
        policy=policy,
        source=source,
        truth=truth,
        estimates_record=estimates_record,
    )
    exhibits += effects
    inputs.update({e.name: [estimates_path, *truth_inputs] for e in effects})
    targeting, inputs["targeting_curve"] = _targeting_exhibit(
        targeting_path, metrics_path, policy=policy, source=source
    )
    exhibits.append(targeting)
    order = {n: i for i, n in enumerate(FIGURE_NAMES)}
    exhibits.sort(key=lambda e: order.get(e.name, len(order)))
    return exhibits, inputs


def _clean_numbers(numbers: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if not np.isfinite(v) else round(float(v), 6)) for k, v in numbers.items()}


def write_exhibit(exhibit: Exhibit, out: Path, *, formats: list[str], dpi: int) -> dict[str, str]:
    """Write one exhibit's files and its check record into ``out``; return file name -> sha256."""
    files: dict[str, Path] = {}
    for fmt in formats:
        files[fmt] = write_bytes(
            out / f"{exhibit.name}.{fmt}",
            render_figure(exhibit.figure, fmt, dpi=dpi),  # type: ignore[arg-type]
        )
    files["caption"] = write_text(out / f"{exhibit.name}.caption.md", exhibit.caption + "\n")
    files["alt"] = write_text(out / f"{exhibit.name}.alt.txt", exhibit.alt_text + "\n")
    files["data"] = write_csv(out / f"{exhibit.name}.data.csv", exhibit.data, digits=CURVE_DIGITS)
    files["disclosure"] = write_record(out, exhibit.name, exhibit.record, files.values())
    return {p.name: file_sha256(p) for p in files.values()}


def _translations(params: Params) -> dict[str, dict[str, dict[str, Any]]]:
    """Title, caption, alt text and their traces of every figure in every language besides
    English (the figures are built again with the captions written in that language; the
    plots themselves keep English text).
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for lang in LANGUAGES:
        if lang == "en":
            continue
        with use_language(lang):
            exhibits, _ = build_exhibits(params)
        for ex in exhibits:
            plt.close(ex.figure)
            out.setdefault(ex.name, {})[lang] = {
                "title": ex.title,
                "caption": ex.caption,
                "alt_text": ex.alt_text,
                "trace": ex.trace,
            }
    return out


def run_figures(params: Params) -> None:
    """Build, gate and write every figure (see the module docstring)."""
    out = Path(params.paths.processed) / "figures"
    exhibits, inputs = build_exhibits(params)
    translations = _translations(params)
    phash = params_hash(params, "privacy", "figures", "features")
    manifest: dict[str, Any] = {"params_hash": phash, "figures": []}
    policy = DisclosurePolicy.from_privacy(params.privacy)
    for ex in track(exhibits, "Writing figures"):
        hashes = write_exhibit(
            ex, out, formats=list(params.figures.formats), dpi=params.figures.dpi
        )
        manifest["figures"].append(
            {
                "name": ex.name,
                "title": ex.title,
                "caption": ex.caption,
                "alt_text": ex.alt_text,
                "trace": ex.trace,
                "numbers": _clean_numbers(ex.numbers),
                "width_in": round(float(ex.figure.get_size_inches()[0]), 3),
                "height_in": round(float(ex.figure.get_size_inches()[1]), 3),
                "n_suppressed": len(ex.record.get("suppressed", [])),
                "n_flagged": len(ex.record.get("flagged", [])),
                "files": hashes,
                "inputs": {p.as_posix(): file_sha256(p) for p in inputs.get(ex.name, [])},
                "stage": "figures",
                "params_hash": phash,
                "translations": translations.get(ex.name, {}),
            }
        )
        log.info("figure %s: %d cell(s) suppressed", ex.name, len(ex.record.get("suppressed", [])))
    path = write_json(out / "manifest.json", manifest, digits=PUBLISHED_DIGITS)
    write_record(
        out,
        "manifest",
        combine_records("figures manifest", [ex.record for ex in exhibits], policy),
        [path],
    )
    log.info("wrote %d figures to %s", len(exhibits), out)
