"""The ``ctip`` command-line interface: one sub-command per pipeline stage.

Each sub-command reads ``--params PATH`` (default ``params.yaml``), calls one stage function of
:mod:`ctip_research.stages` and exits 0 on success. A user error (bad params, bad input, a failed
disclosure check) prints one paragraph and exits non-zero; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from ctip_research.errors import CtipError

app = typer.Typer(
    name="ctip",
    help=(
        "Reproducible pipeline: does microfinance indebtedness push Cambodian rural households "
        "into (risky) migration?\n\nStages run in this order (dvc repro runs them for you): "
        "synth -> ingest -> clean -> features -> fit, risk -> figures -> brief -> report."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
codebook_app = typer.Typer(
    help="Work with codebooks (raw file -> canonical tables).", no_args_is_help=True
)
app.add_typer(codebook_app, name="codebook")

_state = {"verbose": False}

ParamsOpt = Annotated[
    Path, typer.Option("--params", "-p", help="Parameters file.", show_default=True)
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


def _run_stage(stage: str, params_path: Path) -> None:
    from ctip_research.config import load_params

    try:
        params = load_params(params_path)
        module = importlib.import_module(f"ctip_research.stages.{stage}")
        getattr(module, f"run_{stage}")(params)
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

    Reads: data/raw/ (exports, codebooks, manifest). Writes: data/interim/ (canonical tables,
    pseudonymous ids, special codes kept as missing with their reason) and the ingest ledger.
    """
    _run_stage("ingest", params)


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


@app.command()
def risk(params: ParamsOpt = Path("params.yaml")) -> None:
    """Train and evaluate the risk-screening classifier (wave-1 features -> wave-2 risky migration).

    Reads: data/processed/analysis/. Writes: data/processed/risk/ (metrics.json, curves for DVC
    plots, model card; aggregates only, no individual scores).
    """
    _run_stage("risk", params)


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
def report(params: ParamsOpt = Path("params.yaml")) -> None:
    """Execute and render the report notebooks behind the disclosure gate; write the index page.

    Reads: data/processed/ (quality report, analysis tables, estimates, risk metrics, figures,
    brief). Writes: data/processed/reports/ (HTML notebooks, their disclosure records,
    provenance.json, index.html linking every report, figure and the brief).
    """
    _run_stage("report", params)


@app.command()
def brief(params: ParamsOpt = Path("params.yaml")) -> None:
    """Typeset the policy brief (PDF and HTML) from the estimates, behind the disclosure gate.

    Reads: data/processed/models/estimates.csv, data/processed/figures/. Writes:
    data/processed/brief/ (brief.pdf, brief.html, brief.json, brief.disclosure.json).
    """
    _run_stage("brief", params)


@codebook_app.command("draft")
def codebook_draft(
    file: Annotated[Path, typer.Argument(help="Raw export (.xlsx, .dta, .sav, .csv).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Codebook to write (default: FILE stem + .codebook.yaml)."
        ),
    ] = None,
) -> None:
    """Write a codebook template from a raw file's variables and labels, to fill in by hand."""
    try:
        from ctip_research.stages.codebook import run_codebook_draft

        run_codebook_draft(file, output)
    except CtipError as exc:
        _fail(exc, exc.exit_code)


def main() -> None:
    """Entry point of the ``ctip`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
