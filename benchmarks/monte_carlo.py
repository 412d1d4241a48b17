"""Monte Carlo check of the headline estimators (issue 6): bias, RMSE and 95% interval coverage.

Each draw generates the calibrated synthetic survey IN MEMORY with
``ctip_research.synth.generate_survey`` (the clean canonical tables; no raw files, no ingest, no
clean), builds the analysis and panel tables with ``ctip_research.features``, fits every model
named in ``params.yaml`` ``fit.validation.estimands`` with ``ctip_research.models.fitting.fit_model``
and compares each estimate with the estimand it targets in that draw's truth (ATE for OLS / FE /
survey logit, complier LATE for 2SLS, the within-household effect for the panel FE, the ATT for the
programme models). Draw seeds are spawned from one base seed (``numpy.random.SeedSequence``).

Run (from the repository root)::

    python benchmarks/monte_carlo.py                       # 200 draws, 300 households/province
    python benchmarks/monte_carlo.py --draws 10 --n-jobs 2 --households-per-province 200

Writes ``benchmarks/results/monte_carlo.csv`` (summary) and ``monte_carlo_draws.csv`` (one row
per draw and model). Parallel over draws with joblib (loky backend by default); see
docs/benchmarks.md for running it on a Dask or Ray cluster.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config

from ctip_research.config import Params, load_params
from ctip_research.models.power import summarise_draws

RESULTS = Path(__file__).resolve().parent / "results"
#: Models fitted by default: the headline estimators (fit.validation.estimands minus these).
SKIP_DEFAULT = ("iv_branches_distance",)


def draw_seeds(base_seed: int, n_draws: int) -> list[int]:
    """Independent 32-bit seeds for ``n_draws`` draws, spawned from ``base_seed``."""
    children = np.random.SeedSequence(base_seed).spawn(n_draws)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def run_draw(
    params: Params, seed: int, households_per_province: int, models: list[str]
) -> list[dict[str, Any]]:
    """Generate one synthetic survey, fit ``models`` and return one row per model."""
    from ctip_research.features import build_analysis_table, build_panel
    from ctip_research.models.fitting import PANEL_KINDS, fit_model
    from ctip_research.models.validation import lookup_truth
    from ctip_research.synth import generate_survey

    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    design = params.synth.design.model_copy(
        update={"households_per_province": households_per_province}
    )
    synth = params.synth.model_copy(update={"seed": seed, "design": design})
    survey = generate_survey(synth, hmac_key=params.privacy.demo_key)
    tables = {
        "households": survey.households,
        "members": survey.members,
        "loans": survey.loans,
        "migration_episodes": survey.migration_episodes,
    }
    hw = build_analysis_table(tables, params.features)
    panel = build_panel(hw, params=params.features)
    fp = params.fit
    specs = {s.name: s for s in fp.models}
    rows = []
    for name in models:
        spec = specs[name]
        path = fp.validation.estimands[name]
        row: dict[str, Any] = {
            "seed": seed,
            "model": name,
            "estimand": path,
            "truth": lookup_truth(survey.truth, path),
            "n_households": int((hw["wave"] == 1).sum()),
        }
        t0 = time.perf_counter()
        try:
            res = fit_model(
                panel if spec.kind in PANEL_KINDS else hw,
                spec,
                design=fp.design,
                alpha=fp.alpha,
                programme_method=fp.programme.method,
            )
            term = res.term()
            row.update(
                estimate=float(term["estimate"]),
                std_error=float(term["std_error"]),
                conf_low=float(term["conf_low"]),
                conf_high=float(term["conf_high"]),
                error="",
            )
        except Exception as exc:  # a failed fit is counted, not fatal
            row.update(
                estimate=np.nan,
                std_error=np.nan,
                conf_low=np.nan,
                conf_high=np.nan,
                error=type(exc).__name__,
            )
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
    return rows


def print_table(summary: pd.DataFrame, title: str) -> None:
    """Print the summary with rich (plain text when not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    cols = [
        "model",
        "n_draws",
        "mean_truth",
        "mean_estimate",
        "bias",
        "rmse",
        "sd_estimate",
        "mean_std_error",
        "coverage",
    ]
    for c in cols:
        table.add_column(c, justify="left" if c == "model" else "right")
    for r in summary.itertuples():
        table.add_row(
            *[
                str(getattr(r, c)) if c in ("model", "n_draws") else f"{getattr(r, c):.4f}"
                for c in cols
            ]
        )
    Console(width=140).print(table)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--households-per-province", type=int, default=300)
    ap.add_argument("--base-seed", type=int, default=None, help="default: params synth.seed")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--backend", default="loky", help="joblib backend (loky, dask, ray, ...)")
    ap.add_argument("--models", default=None, help="comma list; default: validated headline")
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--out", type=Path, default=RESULTS / "monte_carlo.csv")
    args = ap.parse_args(argv)

    params = load_params(args.params)
    estimands = params.fit.validation.estimands
    models = (
        [m.strip() for m in args.models.split(",") if m.strip()]
        if args.models
        else [m for m in estimands if m not in SKIP_DEFAULT]
    )
    unknown = [m for m in models if m not in estimands]
    if unknown:
        ap.error(f"models without a validation estimand: {unknown}")
    base = params.synth.seed if args.base_seed is None else args.base_seed
    seeds = draw_seeds(base, args.draws)
    t0 = time.perf_counter()
    with parallel_config(backend=args.backend, n_jobs=args.n_jobs):
        batches = Parallel(verbose=5)(
            delayed(run_draw)(params, s, args.households_per_province, models) for s in seeds
        )
    wall = time.perf_counter() - t0
    draws = pd.DataFrame([row for batch in batches for row in batch])
    draws.insert(0, "draw", np.repeat(np.arange(args.draws), len(models)))
    summary = summarise_draws(draws)
    summary["households_per_province"] = args.households_per_province
    summary["mean_fit_seconds"] = draws.groupby("model", sort=False)["seconds"].mean().to_numpy()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary.to_csv(args.out, index=False)
    draws.to_csv(args.out.with_name(args.out.stem + "_draws.csv"), index=False)
    n_hh = int(draws["n_households"].mean())
    print_table(
        summary,
        f"Monte Carlo: {args.draws} draws, ~{n_hh:,} households/wave "
        f"({args.households_per_province}/province), base seed {base}, "
        f"{args.n_jobs} jobs, {wall:.0f} s",
    )
    print(f"written: {args.out}")
    return summary


if __name__ == "__main__":
    main()
