"""Stage ``monte_carlo``: every estimator, in every synthetic world, over many surveys.

Each draw is one synthetic survey pushed through the same code as real data, at the size
``monte_carlo.households_per_province``: ``ctip synth`` writes the raw files (Kobo XLSX, Stata
.dta, codebooks, corrections, manifest) of the draw's world and seed into a temporary directory,
then ``ctip ingest``, ``ctip clean`` and ``ctip features`` run on them exactly as in the pipeline
(:func:`draw_params` only points ``paths``, the sources and the corrections file at that
directory), and every model of ``fit.validation.estimands`` is fitted as the fit stage fits it
(``fit_model``; the programme models on the fit stage's ``programme_sample``) and compared with
that draw's ``truth.json`` (:func:`~ctip_research.models.
validation.compare_to_truth`, as ``ctip validate`` does). A draw is a pure function of
``(scenario, seed)`` (:func:`simulate_draw`, top level and picklable); the draws are mapped with
joblib on this machine or on a Dask cluster (:func:`run_draws`, :mod:`ctip_research.parallel`). The seeds are spawned from ``monte_carlo.seed`` and are the same in
every scenario, so scenarios differ only by their departure.

Writes ``<processed>/monte_carlo/`` (committed to git, not DVC-cached):

- ``draws.csv``: one row per scenario, draw and model (estimate, interval, truth);
- ``summary.csv``: per scenario and model bias, RMSE, coverage, interval length, power and the
  verdict (survives, uninformative, fails; ``docs/synthetic.md`` gives the rule);
- ``verdicts.csv``: per scenario what departs, the assumption it breaks and which estimators
  survive, are uninformative or fail; ``summary.md`` both tables in Markdown;
- ``coverage/``, ``bias/``, ``rmse/``, ``interval_length/``, ``power/``: one JSON per scenario,
  model -> value (``dvc metrics show data/processed/monte_carlo/coverage``);
- ``coverage_by_scenario.png``: the coverage of every estimator in every scenario (a DVC plot and
  the report's figure); ``metrics.json``: the settings and the verdict counts.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.config import Params
from ctip_research.disclosure import Aggregates, DisclosurePolicy, disclose
from ctip_research.io import (
    PUBLISHED_DIGITS,
    direct_writes,
    discard_output,
    read_json,
    write_bytes,
    write_csv,
    write_json,
    write_text,
)
from ctip_research.log import get_logger, quiet
from ctip_research.stages._publish import combine_records, write_record

log = get_logger("monte_carlo")

__all__ = [
    "METRICS",
    "draw_params",
    "draw_seeds",
    "monte_carlo_markdown",
    "run_draws",
    "run_monte_carlo",
    "simulate_draw",
]

#: Summary columns written as DVC metrics, one directory each (file = scenario, key = model).
METRICS: tuple[str, ...] = ("coverage", "bias", "rmse", "interval_length", "power")
#: Output directory under ``paths.processed``.
OUT_DIR = "monte_carlo"


def draw_seeds(base_seed: int, n_draws: int) -> list[int]:
    """Independent 32-bit seeds for ``n_draws`` draws, spawned from ``base_seed``.

    Examples
    --------
    >>> draw_seeds(1, 3) == draw_seeds(1, 3), len(set(draw_seeds(1, 3)))
    (True, 3)
    """
    children = np.random.SeedSequence(base_seed).spawn(n_draws)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def draw_params(params: Params, scenario: str, seed: int, *, root: Path) -> Params:
    """The parameters of one draw: the pipeline's, in world ``scenario`` with ``seed``.

    Only what places the draw changes: ``synth.scenario``, ``synth.seed``, the survey size
    (``monte_carlo.households_per_province``), ``paths`` (under ``root``), ``ingest.sources``
    (the codebooks ``ctip synth`` writes there), ``clean.corrections_file`` (its corrections
    log) and ``ingest.exchange_rates``: the rates the generator used (``synth.khr_per_usd``,
    ``synth.thb_per_usd``) for its interview years, a fact of the synthetic data, not the rate
    table of the researcher's own survey. Every analysis choice (ingest, clean, features, fit)
    is the pipeline's own.
    """
    from ctip_research.stages.synth import SYNTH_DIR
    from ctip_research.synth.raw import W1_SOURCE, W2_SOURCE

    data = params.model_dump(mode="python")
    raw = root / "raw"
    synth_dir = raw / SYNTH_DIR
    data["paths"] = {"raw": raw, "interim": root / "interim", "processed": root / "processed"}
    data["synth"].update(seed=seed, scenario=scenario)
    data["synth"]["design"]["households_per_province"] = params.monte_carlo.households_per_province
    data["ingest"]["sources"] = [
        str(synth_dir / f"{source}.codebook.yaml") for source in (W1_SOURCE, W2_SOURCE)
    ]
    data["clean"]["corrections_file"] = synth_dir / "corrections.csv"
    sy = params.synth
    data["ingest"]["exchange_rates"] = {
        year: {"USD": 1.0, "KHR": sy.khr_per_usd, "THB": sy.thb_per_usd}
        for year in range(sy.design.baseline_year, sy.design.endline_year + 1)
    }
    return Params.model_validate(data)


def simulate_draw(params: Params, scenario: str, seed: int) -> list[dict[str, Any]]:
    """One draw: the pipeline on one synthetic survey of world ``scenario``; one row per model.

    Runs the ``synth``, ``ingest``, ``clean`` and ``features`` stages in a temporary directory,
    fits every model of ``fit.validation.estimands`` on the analysis tables they wrote and puts
    each estimate beside the draw's truth. A model whose fit raises is kept with a missing
    estimate and the exception's name in ``error``. Pure in ``(params, scenario, seed)``.
    """
    from ctip_research.models.fitting import PANEL_KINDS, fit_model
    from ctip_research.models.validation import compare_to_truth
    from ctip_research.stages.clean import run_clean
    from ctip_research.stages.features import run_features
    from ctip_research.stages.fit import programme_sample
    from ctip_research.stages.ingest import run_ingest
    from ctip_research.stages.synth import run_synth

    v = params.fit.validation
    # The draw's stages write straight into its temporary directory, outside the transaction of
    # the stage run that called it (which holds only the Monte Carlo outputs): the same whether
    # the draw runs in this process or in a worker.
    with quiet(), direct_writes(), tempfile.TemporaryDirectory(prefix="ctip-mc-") as tmp:
        p = draw_params(params, scenario, seed, root=Path(tmp))
        run_synth(p)
        run_ingest(p)
        run_clean(p)
        run_features(p)
        analysis = p.paths.processed / "analysis"
        hw = pd.read_parquet(analysis / "household_wave.parquet")
        panel = pd.read_parquet(analysis / "panel.parquet")
        truth = read_json(p.paths.raw / v.truth_file)
        fp = p.fit
        # as the fit stage: the programme models use the areas with a treated household
        prog = fp.programme
        prog_panel, _ = programme_sample(panel, treatment=prog.treatment, areas=prog.areas)
        no_treated = not panel[prog.treatment].astype("boolean").fillna(False).any()
        specs = {s.name: s for s in fp.models}
        frames, errors = [], {}
        for name in v.estimands:
            spec = specs[name]
            if spec.kind in PANEL_KINDS and no_treated:
                errors[name] = "no treated household"
                continue
            try:
                res = fit_model(
                    prog_panel if spec.kind in PANEL_KINDS else hw,
                    spec,
                    design=fp.design,
                    alpha=fp.alpha,
                    programme_method=fp.programme.method,
                )
            except Exception as exc:  # a failed fit is counted in the summary, not fatal
                errors[name] = type(exc).__name__
                continue
            frames.append(res.estimates())
    estimates = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["model", "term", "exposure"])
    )
    table = compare_to_truth(estimates, truth, estimands=v.estimands, naive_model=v.naive_model)
    n_households = int((hw["wave"] == 1).sum())
    rows = []
    for r in table.to_dict(orient="records"):
        rows.append(
            {
                "scenario": scenario,
                "seed": seed,
                "model": r["model"],
                "estimand": r["estimand"],
                "truth": r["truth"],
                "estimate": r["estimate"],
                "std_error": r["std_error"],
                "conf_low": r["conf_low"],
                "conf_high": r["conf_high"],
                "n_households": n_households,
                "error": errors.get(str(r["model"]), ""),
            }
        )
    return rows


def run_draws(
    params: Params,
    tasks: list[tuple[str, int]],
    *,
    n_jobs: int | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Map :func:`simulate_draw` over ``tasks`` (scenario, seed), here or on a Dask cluster.

    ``scheduler`` is ``"local"`` (joblib processes, ``n_jobs`` of them; default
    ``monte_carlo.n_jobs``) or the address of a Dask scheduler (``tcp://host:8786``); ``None``
    reads ``$CTIP_SCHEDULER`` (:mod:`ctip_research.parallel`). The result is the same either way:
    each task carries its seed. Returns the draws table (``models.validation.DRAW_COLUMNS``) in
    task order, with ``draw`` the index of the seed within its scenario. Progress: a bar on a
    terminal and a log line every 10%.
    """
    from ctip_research.models.validation import DRAW_COLUMNS
    from ctip_research.parallel import map_tasks

    jobs = params.monte_carlo.n_jobs if n_jobs is None else n_jobs
    results = map_tasks(
        simulate_draw,
        [(params, scenario, seed) for scenario, seed in tasks],
        scheduler=scheduler,
        n_jobs=jobs,
        prefer="processes",
        description="Monte Carlo draws",
    )
    index: dict[str, dict[int, int]] = {}
    for scenario, seed in tasks:
        index.setdefault(scenario, {})
        index[scenario].setdefault(seed, len(index[scenario]))
    draws = pd.DataFrame([row for rows in results for row in rows])
    draws["draw"] = [index[s][d] for s, d in zip(draws["scenario"], draws["seed"], strict=True)]
    return draws.loc[:, list(DRAW_COLUMNS)]


def _fmt(x: float, digits: int = 3) -> str:
    return "" if pd.isna(x) else f"{x:.{digits}f}"


def monte_carlo_markdown(
    summary: pd.DataFrame, verdicts: pd.DataFrame, *, draws: int, households: float, alpha: float
) -> str:
    """Markdown report: per scenario what departs, what survives, and the full table."""
    lines = [
        "# Monte Carlo validation: the estimators in every synthetic world",
        "",
        f"{draws} draws per scenario, about {households:,.0f} households per wave in each draw "
        f"(the same seeds in every scenario); every draw runs synth (raw files), ingest, clean, "
        f"features and the fit, and compares each estimate with that draw's truth. Coverage of "
        f"the {100 * (1 - alpha):.0f}% intervals, bias (estimate - truth, mean over draws, with "
        "its Monte Carlo standard error), RMSE, median interval length and power (share of "
        "draws whose interval excludes zero); 'change vs default' is the departure's own effect "
        "on the bias (same seeds, so it is precise even with few draws). Verdicts "
        "(docs/synthetic.md): **fails** = bias beyond the estimator's own standard error that "
        "the draws tell from chance, or coverage too low; **possibly_biased** = bias beyond the "
        "standard error that these draws cannot yet tell from chance; **uninformative** = "
        "covers the truth, but its interval is so wide that it rarely excludes zero; "
        "**survives** otherwise.",
        "",
        "## Which estimators survive",
        "",
        "| scenario | what departs | assumption broken | survive | uninformative | possibly "
        "biased | fail | bias moved by the departure (± MC se) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in verdicts.to_dict(orient="records"):
        lines.append(
            f"| {r['scenario']} | {r['description']} | {r['breaks']} | {r['survives'] or '-'} | "
            f"{r['uninformative'] or '-'} | {r['possibly_biased'] or '-'} | {r['fails'] or '-'} | "
            f"{r['bias_moved'] or '-'} |"
        )
    lines += [
        "",
        "## Every estimator in every scenario",
        "",
        "| scenario | model | truth | bias (MC se) | change vs default (MC se) | RMSE | mean SE "
        "| coverage | length | power | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in summary.to_dict(orient="records"):
        failed = f" ({int(r['n_failed'])} failed fits)" if r["n_failed"] else ""
        lines.append(
            f"| {r['scenario']} | {r['model']} | {_fmt(r['mean_truth'])} | "
            f"{_fmt(r['bias'])} ({_fmt(r['bias_mc_se'])}) | "
            f"{_fmt(r['bias_change'])} ({_fmt(r['bias_change_mc_se'])}) | {_fmt(r['rmse'])} | "
            f"{_fmt(r['mean_std_error'])} | {_fmt(r['coverage'], 2)} | "
            f"{_fmt(r['interval_length'])} | {_fmt(r['power'], 2)} | {r['verdict']}{failed} |"
        )
    return "\n".join(lines) + "\n"


def _metric_files(summary: pd.DataFrame, out: Path) -> list[Path]:
    """One JSON file per metric and scenario (DVC metrics); files of scenarios this run does not
    have are removed, so the directory holds exactly this run's results.
    """
    files = []
    for metric in METRICS:
        for stale in sorted((out / metric).glob("*.json")):
            if stale.stem not in set(summary["scenario"].astype(str)):
                discard_output(stale)
        for scenario, g in summary.groupby("scenario", sort=False):
            values = {
                str(r["model"]): (None if pd.isna(r[metric]) else round(float(r[metric]), 6))
                for r in g.to_dict(orient="records")
            }
            files.append(
                write_json(out / metric / f"{scenario}.json", values, digits=PUBLISHED_DIGITS)
            )
    return files


def _summarise(params: Params, draws: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary per scenario and model, and the verdicts per scenario."""
    from ctip_research.models.validation import scenario_verdicts, summarise_draws

    mc = params.monte_carlo
    summary = summarise_draws(
        draws,
        alpha=params.fit.alpha,
        max_bias_over_se=mc.max_bias_over_se,
        mc_alpha=mc.mc_alpha,
        min_power=mc.min_power,
    )
    scenarios = params.synth.scenarios
    verdicts = scenario_verdicts(
        summary,
        descriptions={k: v.description for k, v in scenarios.items()},
        breaks={k: v.breaks for k, v in scenarios.items()},
        mc_alpha=mc.mc_alpha,
    )
    return summary, verdicts


def _write_results(
    params: Params, draws: pd.DataFrame, summary: pd.DataFrame, verdicts: pd.DataFrame
) -> list[Path]:
    """Write the tables, the Markdown summary, the metric files and the coverage figure."""
    from ctip_research.reporting.figures import plot_coverage_by_scenario
    from ctip_research.reporting.style import render_figure

    alpha = params.fit.alpha
    out = params.paths.processed / OUT_DIR
    files = [
        write_csv(out / "draws.csv", draws, digits=PUBLISHED_DIGITS),
        write_csv(out / "summary.csv", summary, digits=PUBLISHED_DIGITS),
        write_csv(out / "verdicts.csv", verdicts, digits=PUBLISHED_DIGITS),
    ]
    files.append(
        write_text(
            out / "summary.md",
            monte_carlo_markdown(
                summary,
                verdicts,
                draws=params.monte_carlo.draws,
                households=float(draws["n_households"].mean()),
                alpha=alpha,
            ),
        )
    )
    files.extend(_metric_files(summary, out))
    fig = plot_coverage_by_scenario(summary, level=1 - alpha)
    files.append(write_bytes(out / "coverage_by_scenario.png", render_figure(fig, "png", dpi=150)))
    return files


def _verdict_counts(verdicts: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per scenario, how many estimators survive, are uninformative, possibly biased or fail."""
    return {
        str(r["scenario"]): {
            v: (len(r[v].split(", ")) if r[v] else 0)
            for v in ("survives", "uninformative", "possibly_biased", "fails")
        }
        for r in verdicts.to_dict(orient="records")
    }


def _write_metrics(params: Params, draws: pd.DataFrame, verdicts: pd.DataFrame) -> Path:
    """Write ``metrics.json``: the settings and the verdict counts."""
    mc = params.monte_carlo
    return write_json(
        params.paths.processed / OUT_DIR / "metrics.json",
        {
            "draws": mc.draws,
            "households_per_province": mc.households_per_province,
            "mean_households_wave_1": round(float(draws["n_households"].mean()), 1),
            "seed": mc.seed,
            "n_failed_fits": int(draws["estimate"].isna().sum()),
            "verdicts": _verdict_counts(verdicts),
        },
        digits=PUBLISHED_DIGITS,
    )


def _publication_record(
    params: Params, draws: pd.DataFrame, summary: pd.DataFrame, verdicts: pd.DataFrame
) -> dict[str, Any]:
    """The check record of the outputs: every row rests on whole simulated surveys.

    Synthetic draws only, but published like every other artefact: every row of the draws and
    of the summaries rests on a whole simulated survey (n_households), never on a record.
    """
    policy = DisclosurePolicy.from_privacy(params.privacy)
    return combine_records(
        "monte carlo",
        [
            disclose(
                Aggregates(draws, "monte carlo: draws", count_columns=["n_households"]), policy
            ).record,
            disclose(
                Aggregates(summary, "monte carlo: summary", count_columns=["n_households"]), policy
            ).record,
            disclose(
                Aggregates(verdicts, "monte carlo: verdicts", count_columns=["n_households"]),
                policy,
            ).record,
        ],
        policy,
    )


def run_monte_carlo(params: Params, *, scheduler: str | None = None) -> None:
    """Run every scenario's draws and write the summary, metrics, report table and figure.

    ``scheduler``: where the draws run, ``"local"`` or a Dask scheduler's address (``None``:
    ``$CTIP_SCHEDULER``, else local); the outputs do not depend on it (:func:`run_draws`).
    """
    mc = params.monte_carlo
    seeds = draw_seeds(mc.seed, mc.draws)
    tasks = [(scenario, seed) for scenario in mc.scenarios for seed in seeds]
    log.info(
        "monte carlo: %d scenarios x %d draws of %d households per province",
        len(mc.scenarios),
        mc.draws,
        mc.households_per_province,
    )
    start = time.perf_counter()
    draws = run_draws(params, tasks, scheduler=scheduler)
    summary, verdicts = _summarise(params, draws)
    out = params.paths.processed / OUT_DIR
    files = _write_results(params, draws, summary, verdicts)
    files.append(_write_metrics(params, draws, verdicts))
    write_record(out, "", _publication_record(params, draws, summary, verdicts), files)
    for r in verdicts.to_dict(orient="records"):
        log.info(
            "%s: survive %s; uninformative %s; possibly biased %s; fail %s",
            r["scenario"],
            r["survives"] or "-",
            r["uninformative"] or "-",
            r["possibly_biased"] or "-",
            r["fails"] or "-",
        )
    log.info("monte carlo: %d draws in %.0f s -> %s", len(tasks), time.perf_counter() - start, out)
