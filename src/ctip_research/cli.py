"""The ``ctip`` command-line interface: one sub-command per pipeline stage.

Each sub-command reads ``--params PATH`` (default ``params.yaml``), calls one stage function of
:mod:`ctip_research.stages` and exits 0 on success. A user error (bad params, bad input, a failed
disclosure check) prints one paragraph and exits non-zero; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ctip_research.errors import CtipError

app = typer.Typer(
    name="ctip",
    help=(
        "Reproducible pipeline: does microfinance indebtedness push Cambodian rural households "
        "into (risky) migration?\n\nStages run in this order (dvc repro runs them for you): "
        "synth (the synthetic survey only) -> ingest -> clean -> features -> fit, risk -> "
        "figures -> brief -> report -> audit; monte-carlo runs the whole chain on many synthetic "
        "surveys. For your own survey: `ctip codebook draft`, list the codebooks in params.yaml "
        "ingest.sources, `ctip sources sync`, `dvc repro` (docs/your-own-survey.md)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
codebook_app = typer.Typer(
    help="Work with codebooks (raw file -> canonical tables).", no_args_is_help=True
)
app.add_typer(codebook_app, name="codebook")
sources_app = typer.Typer(
    help="The registered data sources (params.yaml ingest.sources) and dvc.yaml.",
    no_args_is_help=True,
)
app.add_typer(sources_app, name="sources")
translations_app = typer.Typer(
    help="The message catalogue of the brief, captions and labels (docs/translation.md).",
    no_args_is_help=True,
)
app.add_typer(translations_app, name="translations")

_state = {"verbose": False}

ParamsOpt = Annotated[
    Path, typer.Option("--params", "-p", help="Parameters file.", show_default=True)
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Where the draws run: 'local' (this machine, joblib) or the address of a Dask "
        "scheduler, e.g. tcp://10.0.0.5:8786 (docs/benchmarks.md). Default: $CTIP_SCHEDULER, "
        "else local. The outputs do not depend on it.",
        show_default=False,
    ),
]


@app.callback()
def _main_options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logging and tracebacks.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Warnings and errors only; no progress bars.")
    ] = False,
) -> None:
    from ctip_research.log import configure_logging

    _state["verbose"] = verbose
    configure_logging(verbose=verbose, quiet=quiet)


def _fail(exc: BaseException, code: int) -> None:
    if _state["verbose"]:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    typer.echo(f"ctip: error: {exc}", err=True)
    raise typer.Exit(code)


def _run_stage(
    stage: str,
    params_path: Path,
    *,
    check_pipeline: bool = False,
    override: dict[str, dict[str, Any]] | None = None,
    **options: object,
) -> None:
    from ctip_research.config import load_params

    try:
        params = load_params(params_path)
        for section, values in (override or {}).items():  # a command-line option, one run
            updated = getattr(params, section).model_copy(update=values)
            params = params.model_copy(update={section: updated})
        dvc_yaml = params_path.parent / "dvc.yaml"
        if check_pipeline and dvc_yaml.is_file():
            from ctip_research.stages.sources import check_dvc_yaml

            check_dvc_yaml(params, dvc_yaml)
        from ctip_research.stages.runner import run_stage

        run_stage(stage, params, **options)  # locked, recovered, one transaction
    except CtipError as exc:
        _fail(exc, exc.exit_code)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        typer.echo(
            "ctip: interrupted; outputs already written are complete, none is partial.", err=True
        )
        raise typer.Exit(130) from None


@app.command()
def synth(params: ParamsOpt = Path("params.yaml")) -> None:
    """Generate the calibrated synthetic survey (the embedded default data).

    Reads: params.yaml (synth, privacy.demo_key). Writes: data/raw/synthetic/ (wave-1 Kobo XLSX
    export, wave-2 Stata .dta files, their codebooks, corrections.csv, manifest.json,
    planted_defects.json and truth.json, the ground truth read only by the validation stage).
    """
    _run_stage("synth", params)


@app.command()
def ingest(params: ParamsOpt = Path("params.yaml")) -> None:
    """Read raw exports through their codebooks into de-identified canonical tables.

    Reads: the codebooks in params.yaml ingest.sources and the raw files they list (with
    manifest.json where there is one). Writes: data/interim/ (canonical tables, pseudonymous ids,
    special codes kept as missing with their reason), the ingest ledger (every file read, with
    its sha256) and the run record. Refuses to run while dvc.yaml beside params.yaml does not
    list the registered sources (run `ctip sources sync`).
    """
    _run_stage("ingest", params, check_pipeline=True)


@app.command()
def clean(params: ParamsOpt = Path("params.yaml")) -> None:
    """Run the data-quality checks, apply reviewed corrections and write the processed tables.

    Reads: data/interim/, data/raw/corrections.csv. Writes: data/processed/ (canonical tables as
    Parquet and Stata .dta, data dictionary, quality report JSON/HTML, row/column ledger).
    """
    _run_stage("clean", params)


@app.command()
def features(params: ParamsOpt = Path("params.yaml")) -> None:
    """Build debt-burden, migration and trafficking-risk indicators.

    Reads: data/processed/ canonical tables. Writes: data/processed/analysis/ (household-wave
    analysis table, episode table, panel table, feature dictionary).
    """
    _run_stage("features", params)


@app.command()
def fit(params: ParamsOpt = Path("params.yaml")) -> None:
    """Fit the econometric models declared in params.yaml (fit section).

    Reads: data/processed/analysis/. Writes: data/processed/models/ (estimates.csv, regression
    tables in Markdown/HTML/LaTeX/Word, fitted results, metrics).
    """
    _run_stage("fit", params)


@app.command()
def validate(params: ParamsOpt = Path("params.yaml")) -> None:
    """Compare the fitted estimates with the synthetic survey's ground truth (synthetic data only).

    Reads: data/processed/models/estimates.csv, data/raw/synthetic/truth.json (its only reader).
    Writes: data/processed/validation/ (validation.csv, validation.md, metrics.json).
    """
    _run_stage("validate", params)


@app.command("monte-carlo")
def monte_carlo(params: ParamsOpt = Path("params.yaml"), scheduler: SchedulerOpt = None) -> None:
    """Monte Carlo validation: every estimator in every synthetic world (scenario), many draws.

    Each draw runs synth (raw files), ingest, clean, features and the fit of the validated models
    in a temporary directory and compares the estimates with that draw's truth. Reads:
    params.yaml (monte_carlo, synth, ingest, clean, features, fit). Writes:
    data/processed/monte_carlo/ (draws.csv, summary.csv/.md, coverage/bias/rmse/interval_length/
    power metrics per scenario, coverage_by_scenario.png, metrics.json).
    """
    _run_stage("monte_carlo", params, scheduler=scheduler)


@app.command()
def risk(params: ParamsOpt = Path("params.yaml"), scheduler: SchedulerOpt = None) -> None:
    """Train and evaluate the risk-screening classifier (wave-1 features -> wave-2 risky migration).

    Reads: data/processed/analysis/. Writes: data/processed/risk/ (metrics.json, curves for DVC
    plots, model card; aggregates only, no individual scores).
    """
    _run_stage("risk", params, scheduler=scheduler)


@app.command()
def figures(params: ParamsOpt = Path("params.yaml")) -> None:
    """Draw the published figures behind the disclosure gate.

    Reads: data/processed/analysis/, data/processed/models/estimates.csv, data/processed/risk/,
    data/processed/validation/ (synthetic only). Writes: data/processed/figures/ (PNG and SVG,
    caption, alt text, gated data and disclosure record per figure; manifest.json).
    """
    _run_stage("figures", params)


@app.command()
def power(params: ParamsOpt = Path("params.yaml")) -> None:
    """Power and minimum detectable effect of the MFI -> migration effect for the next round.

    Reads: data/processed/analysis/household_wave.parquet (calibration of the design-effect
    formula). Writes: data/processed/power/ (power.csv, power.md, power.png, calibration.json).
    """
    _run_stage("power", params)


@app.command()
def reach(params: ParamsOpt = Path("params.yaml")) -> None:
    """Estimate the programme's own indicators (reach, women's representation, training).

    Reads: data/processed/analysis/household_wave.parquet. Writes: data/processed/reach/
    (reach.csv/.md/.docx/.json with totals, shares, intervals and design effects behind the
    disclosure gate; the figure of households supported by province).
    """
    _run_stage("reach", params)


@app.command()
def report(params: ParamsOpt = Path("params.yaml")) -> None:
    """Execute and render the report notebooks behind the disclosure gate; write the index page.

    Reads: data/processed/ (quality report, analysis tables, estimates, risk metrics, figures,
    brief). Writes: data/processed/reports/ (HTML notebooks, their disclosure records,
    provenance.json, index.html linking every report, figure and the brief).
    """
    _run_stage("report", params)


@app.command()
def brief(
    params: ParamsOpt = Path("params.yaml"),
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="km, en or both (default: brief.languages in params.yaml).",
        ),
    ] = None,
) -> None:
    """Typeset the policy brief (PDF and HTML) from the estimates, behind the disclosure gate.

    Reads: data/processed/models/estimates.csv, data/processed/figures/. Writes:
    data/processed/brief/ (brief.pdf, brief.html, brief.json, brief.disclosure.json; in Khmer
    brief.km.pdf, .html, .json and brief.km.disclosure.json).
    """
    choices = {"en": ["en"], "km": ["km"], "both": ["en", "km"]}
    if lang is not None and lang not in choices:
        raise typer.BadParameter(f"one of {', '.join(choices)}, not {lang!r}", param_hint="--lang")
    _run_stage(
        "brief",
        params,
        override={"brief": {"languages": choices[lang]}} if lang is not None else None,
    )


@app.command()
def audit(params: ParamsOpt = Path("params.yaml")) -> None:
    """Check that every published file has a passing disclosure check record.

    Reads: data/processed/ (the published directories and their *.disclosure.json records).
    Writes: data/interim/audit/publication.json. Fails when a published file is listed by no
    passing record, changed after it was checked, or sits in an undeclared directory.
    """
    _run_stage("audit", params)


@codebook_app.command("draft")
def codebook_draft(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Raw export(s) of ONE source (one wave): a Kobo workbook, or one CSV / .dta / "
            ".sav / .parquet file per table."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Codebook to write (default: FILE stem + .codebook.yaml for one file, "
            "<directory>/<source>.codebook.yaml for several).",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Source id (default: from the file names).")
    ] = None,
    wave: Annotated[
        int | None,
        typer.Option("--wave", help="Wave of every row (default: from the names, else 1)."),
    ] = None,
) -> None:
    """Draft one codebook for the raw files of one source: obvious mappings made, each marked
    `review:`, strong identifiers pre-marked pii; prints how many columns it mapped.
    """
    try:
        from ctip_research.stages.codebook import run_codebook_draft

        target, counts = run_codebook_draft(files, output, source=source, wave=wave)
    except CtipError as exc:
        _fail(exc, exc.exit_code)
        return
    share = counts["mapped"] / counts["columns"] if counts["columns"] else 0.0
    typer.echo(
        f"wrote {target}: {counts['columns']} column(s), {counts['mapped']} pre-mapped "
        f"({share:.0%}; each with a `review:` marker), {counts['pii']} pre-marked pii, "
        f"{counts['todo']} left to decide."
    )


@sources_app.command("sync")
def sources_sync(
    params: ParamsOpt = Path("params.yaml"),
    check: Annotated[
        bool, typer.Option("--check", help="Only report; exit 1 if dvc.yaml is out of step.")
    ] = False,
) -> None:
    """Write the registered sources into dvc.yaml (beside params.yaml).

    Every codebook of ingest.sources, every raw file it lists and its manifest become
    dependencies of the ingest stage, the corrections log of clean; the synth stage (and the
    ground truth of validate) stay only while the package's synthetic survey is registered. Run it
    after changing ingest.sources or clean.corrections_file, then `dvc repro`.
    """
    from ctip_research.config import load_params
    from ctip_research.stages.sources import sync_dvc_yaml

    try:
        loaded = load_params(params)
        changes = sync_dvc_yaml(loaded, params.parent / "dvc.yaml", write=not check)
    except CtipError as exc:
        _fail(exc, exc.exit_code)
        return
    target = params.parent / "dvc.yaml"
    if not changes:
        typer.echo(f"{target} lists every registered source; nothing to change.")
        return
    verb = "would change" if check else "updated"
    typer.echo(f"{target} {verb}:\n" + "\n".join(f"  {c}" for c in changes))
    if check:
        raise typer.Exit(1)


@sources_app.command("list")
def sources_list(params: ParamsOpt = Path("params.yaml")) -> None:
    """List the registered codebooks, the raw files they read and the corrections log."""
    from ctip_research.config import load_params
    from ctip_research.stages.sources import registered_sources

    try:
        reg = registered_sources(load_params(params), root=params.parent)
    except CtipError as exc:
        _fail(exc, exc.exit_code)
        return
    if reg.synthetic_dir:
        typer.echo(f"synthetic survey (ctip synth): {reg.synthetic_dir}")
    for label, items in (
        ("codebook", reg.codebooks),
        ("raw file", reg.raw_files),
        ("manifest", reg.manifests),
    ):
        for item in items:
            typer.echo(f"{label}: {item}")
    typer.echo(f"corrections log: {reg.corrections or '(none)'}")


@translations_app.command("extract")
def translations_extract(params: ParamsOpt = Path("params.yaml")) -> None:
    """Write the catalogue template (locale/ctip.pot) from the package's messages and the
    params.yaml texts, and merge it into every language's .po file (new messages untranslated,
    translations kept).
    """
    from ctip_research.config import load_params
    from ctip_research.reporting.catalog import write_catalogs

    try:
        for path in write_catalogs(load_params(params)):
            typer.echo(f"wrote {path}")
    except CtipError as exc:
        _fail(exc, exc.exit_code)


@translations_app.command("status")
def translations_status() -> None:
    """Messages per language: reviewed, unreviewed (fuzzy drafts) and untranslated."""
    from ctip_research.i18n import LANGUAGES
    from ctip_research.reporting.catalog import translation_status

    for lang in LANGUAGES:
        status = translation_status(lang)
        typer.echo(
            f"{lang}: {len(status['reviewed'])} reviewed, {len(status['unreviewed'])} "
            f"unreviewed, {len(status['untranslated'])} untranslated"
        )


def main() -> None:
    """Entry point of the ``ctip`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
