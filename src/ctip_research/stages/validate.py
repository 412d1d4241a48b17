"""Stage ``validate``: the fitted estimates beside the ground truth (synthetic data only).

Reads ``<interim>/ingested/ingest_ledger.json`` (were the ingested sources synthetic?),
``<processed>/models/estimates.csv`` and ``<raw>/<fit.validation.truth_file>`` (the only
reader of ``truth.json``); writes ``<processed>/validation/``:

- ``validation.csv``: model, estimand, truth, estimate, std_error, interval, bias, relative bias,
  whether the interval (at the level ``estimates.csv`` records) covers the truth, and which row
  is the naive estimate (models the disclosure rules suppressed are compared as missing);
- ``validation.md``: the same as a Markdown table with a one-paragraph reading;
- ``metrics.json``: the naive estimate's ratio to the truth and the models that recover it.

On a real survey (any codebook in ``ingest.sources`` without ``synthetic: true``) there is no
truth to compare with: the stage writes an empty ``validation.csv``, a ``validation.md`` that
says so and ``metrics.json`` with ``applicable: false``, and never reads ``truth.json`` (the
synthetic survey's truth must not be set beside real estimates). On synthetic data the truth is
used only when it describes the raw files that were ingested: ``truth.json`` carries the
fingerprint of the raw files ``ctip synth`` wrote (``raw_fingerprint``) and the ingest ledger the
fingerprint of the files read; someone else's simulated survey, or the package's survey after its
raw files changed, is not compared (same empty outputs, with the reason). The figures then carry no
truth markers and the report leaves out its validation notebook.

``validation.disclosure.json`` lists the three files with the check record (the estimates quoted
are the fit stage's published ones; the truth is a parameter of the synthetic survey).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ctip_research.config import Params
from ctip_research.disclosure import DisclosurePolicy, Document, Regressions, disclose
from ctip_research.errors import InputFileError
from ctip_research.io import PUBLISHED_DIGITS, read_json, write_csv, write_json, write_text
from ctip_research.log import get_logger
from ctip_research.stages._publish import write_record

log = get_logger("validate")

__all__ = ["run_validate", "validation_markdown"]


def validation_markdown(table: pd.DataFrame, summary: dict, *, conf_level: float = 0.95) -> str:
    """Markdown rendering of the validation table and its reading (intervals at ``conf_level``)."""
    lev = f"{100 * conf_level:.1f}".rstrip("0").rstrip(".")
    lines = [
        "# Estimates against the synthetic ground truth",
        "",
        f"| model | estimand | truth | estimate | {lev}% CI | bias | covers truth |",
        "|---|---|---:|---:|---|---:|:---:|",
    ]
    for r in table.to_dict(orient="records"):
        name = f"{r['model']} (naive)" if r["is_naive"] else str(r["model"])
        lines.append(
            f"| {name} | `{r['estimand']}` | {r['truth']:.4f} | {r['estimate']:.4f} | "
            f"[{r['conf_low']:.4f}, {r['conf_high']:.4f}] | {r['bias']:+.4f} | "
            f"{'yes' if r['covers_truth'] else 'no'} |"
        )
    lines.append("")
    if "naive_ratio" in summary and summary["naive_ratio"] is not None:
        lines.append(
            f"The naive estimate ({summary['naive_model']}) is {summary['naive_ratio']:.2f} times "
            f"the true effect (bias {summary['naive_bias']:+.4f}); its interval "
            f"{'covers' if summary['naive_covers_truth'] else 'does not cover'} the truth."
        )
    lines.append(
        f"Intervals covering the truth: {', '.join(summary['recovering']) or 'none'}; "
        f"not covering: {', '.join(summary['not_recovering']) or 'none'}."
    )
    return "\n".join(lines) + "\n"


def _ingest_ledger(params: Params) -> dict:
    path = params.paths.interim / "ingested" / "ingest_ledger.json"
    if not path.exists():
        raise InputFileError("ingest ledger not found; run `ctip ingest` first", file=path)
    ledger = read_json(path)
    return ledger if isinstance(ledger, dict) else {}


def data_are_synthetic(params: Params) -> bool:
    """Whether the ingested data came only from synthetic sources (from the ingest ledger)."""
    return _ingest_ledger(params).get("synthetic") is True


def _write_not_applicable(
    out: Path, reason: str, sentence: str, policy: DisclosurePolicy | None = None
) -> None:
    from ctip_research.models.validation import VALIDATION_COLUMNS

    files = [
        write_csv(
            out / "validation.csv",
            pd.DataFrame(columns=list(VALIDATION_COLUMNS)),
            digits=PUBLISHED_DIGITS,
        ),
        write_text(
            out / "validation.md",
            f"# Estimates against the synthetic ground truth\n\nNot applicable: {sentence}\n",
        ),
        write_json(
            out / "metrics.json", {"applicable": False, "reason": reason}, digits=PUBLISHED_DIGITS
        ),
    ]
    # nothing is compared, so nothing from the data is printed: a document without parts
    record = disclose(Document("validation (not applicable)"), policy).record
    write_record(out, "validation", record, files)


def run_validate(params: Params) -> None:
    """Compare the estimates of ``ctip fit`` with ``truth.json`` (synthetic data only)."""
    from ctip_research.models.validation import compare_to_truth, validation_summary

    v = params.fit.validation
    out = params.paths.processed / "validation"
    ledger = _ingest_ledger(params)
    if ledger.get("synthetic") is not True:
        log.info("validate: the data are not synthetic, so there is no truth to compare with")
        _write_not_applicable(
            out,
            "data are not synthetic",
            "the ingested sources are not all synthetic (`synthetic: true` in their codebooks), "
            "so there is no known truth. Validation runs on the package's synthetic survey only.",
            DisclosurePolicy.from_privacy(params.privacy),
        )
        return
    truth_path = params.paths.raw / v.truth_file
    est_path = params.paths.processed / "models" / "estimates.csv"
    if not truth_path.exists():
        raise InputFileError(
            "no ground truth: `ctip validate` runs on the synthetic survey only (ctip synth)",
            file=truth_path,
        )
    if not est_path.exists():
        raise InputFileError("estimates not found; run `ctip fit` first", file=est_path)
    truth = read_json(truth_path)
    described = truth.get("raw_fingerprint") if isinstance(truth, dict) else None
    ingested = ledger.get("raw_fingerprint")
    if described is None or described != ingested:
        log.warning(
            "validate: %s describes other raw files than those ingested (fingerprint %s, "
            "ingested %s): no comparison",
            truth_path,
            str(described)[:12],
            str(ingested)[:12],
        )
        _write_not_applicable(
            out,
            "the ground truth describes other raw files",
            f"`{truth_path.as_posix()}` describes other raw files than the ones ingested (raw-file "
            f"fingerprint `{str(described)[:12]}`, ingested `{str(ingested)[:12]}`), so it is "
            "not the truth of these data. Regenerate the survey with `ctip synth` and ingest "
            "it, or compare with the truth of the simulation that made these files.",
            DisclosurePolicy.from_privacy(params.privacy),
        )
        return
    estimates = pd.read_csv(est_path)
    if "status" in estimates.columns:
        estimates = estimates.loc[estimates["status"] != "suppressed"]
    table = compare_to_truth(estimates, truth, estimands=v.estimands, naive_model=v.naive_model)
    summary = {"applicable": True, **validation_summary(table)}
    rec_path = est_path.with_name("estimates.disclosure.json")
    upstream = [read_json(rec_path)] if rec_path.exists() else []
    sizes = estimates.groupby("model")[["n_obs"]].max()
    record = disclose(
        Regressions(
            table.assign(
                n_obs=table["model"].map(sizes["n_obs"]),
                status=["published" if pd.notna(e) else "suppressed" for e in table["estimate"]],
            ),
            "validation",
            upstream=upstream,
        ),
        DisclosurePolicy.from_privacy(params.privacy),
    ).record
    levels = estimates.get("conf_level", pd.Series([1 - params.fit.alpha])).dropna()
    files = [
        write_csv(out / "validation.csv", table, digits=PUBLISHED_DIGITS),
        write_text(
            out / "validation.md",
            validation_markdown(table, summary, conf_level=float(levels.iloc[0])),
        ),
        write_json(out / "metrics.json", summary, digits=PUBLISHED_DIGITS),
    ]
    write_record(out, "validation", record, files)
    for r in table.itertuples(index=False):
        log.info(
            "%s: estimate %.4f, truth %.4f, covers=%s", r.model, r.estimate, r.truth, r.covers_truth
        )
