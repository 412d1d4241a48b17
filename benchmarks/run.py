"""Benchmark suite: pipeline cold / no-op, scaling, and side-by-side with peer packages.

Not a test: prints tables and writes ``benchmarks/results/{pipeline,scale,compare}.csv``.

Parts (``--parts``, default all):

- ``pipeline``: the whole DVC pipeline cold on the default data (``dvc repro -f`` in a temporary
  copy of the repository, without ``data/`` and git), then a no-op ``dvc repro``.
- ``scale``: ``ctip synth`` (Parquet raw files, ``synth.output_format: parquet``; not part of the
  target), then ``ctip ingest``, ``clean``, ``features`` and ``fit`` (the core models of
  ``fit.models``; robustness bootstrap reduced with ``--robustness-reps``) at each size of
  ``--sizes`` households per wave (census size: ``--sizes 1000000``), each stage in its own
  process: wall time and peak resident
  memory (``os.wait4`` rusage ``ru_maxrss``), and the time growth exponent between sizes
  (``log(t2/t1) / log(n2/n1)``; 1 = linear).
- ``compare``: on the same data in the same run, design-based means (our ``SurveyDesign`` vs
  ``svy`` directly) and a fixed-effects LPM with PSU-clustered errors (our
  ``fit_fixed_effects`` vs ``pyfixest.feols``), as a time ratio (ours / theirs).

Run from the repository root::

    python benchmarks/run.py --parts scale,compare --sizes 10000,100000    # quick
    python benchmarks/run.py                                               # everything

Targets (2 cores / 24 GiB) are printed beside the measurements.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
N_PROVINCES = 8
SCALE_STAGES = ("synth", "ingest", "clean", "features", "fit")
TARGET_STAGES = ("ingest", "clean", "features", "fit")  # ingest to fit < 10 min, < 8 GiB


# -- helpers ----------------------------------------------------------------------------------
def run_measured(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; wall seconds, CPU seconds (user + system: what the stage costs, much less
    affected than wall time by other work on a shared machine), peak RSS (MiB) of the process
    tree's largest child, exit code."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
    return {
        "seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024.0,  # Linux: KiB
        "returncode": proc.returncode,
        "error": " | ".join(tail) if proc.returncode else "",
    }


def print_table(df: pd.DataFrame, title: str) -> None:
    """Print ``df`` as a rich table (plain when not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in df.columns:
        table.add_column(str(c), justify="right" if df[c].dtype.kind in "fiu" else "left")
    for row in df.itertuples(index=False):
        table.add_row(
            *[f"{v:,.2f}" if isinstance(v, float) and not math.isnan(v) else str(v) for v in row]
        )
    Console(width=160).print(table)


def timed(fn: Callable[[], Any], repeat: int = 1) -> float:
    """Best wall time of ``repeat`` calls."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def ctip_exe() -> str:
    exe = Path(sys.executable).with_name("ctip")
    return str(exe) if exe.exists() else "ctip"


# -- part (a): whole pipeline ----------------------------------------------------------------
def bench_pipeline(keep: bool) -> pd.DataFrame:
    """``dvc repro -f`` cold in a copy of the repository, then a no-op ``dvc repro``."""
    tmp = Path(tempfile.mkdtemp(prefix="ctip-bench-pipeline-"))
    ignore = shutil.ignore_patterns(
        ".git", "data", "cache", "tmp", "results", "__pycache__", ".*_cache", ".hypothesis"
    )
    try:
        shutil.copytree(ROOT, tmp / "repo", ignore=ignore, symlinks=True)
        repo = tmp / "repo"
        (repo / "data").mkdir()
        dvc = str(Path(sys.executable).with_name("dvc"))
        subprocess.run([dvc, "config", "core.no_scm", "true"], cwd=repo, check=True)
        subprocess.run([dvc, "config", "cache.dir", str(tmp / "cache")], cwd=repo, check=True)
        cold = run_measured([dvc, "repro", "-f"], cwd=repo)
        noop = run_measured([dvc, "repro"], cwd=repo) if cold["returncode"] == 0 else None
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = [{"case": "dvc repro -f (cold, default data)", "target_s": 180.0, **cold}]
    if noop is not None:
        rows.append({"case": "dvc repro (no-op rerun)", "target_s": 5.0, **noop})
    out = pd.DataFrame(rows)
    out["meets_target"] = (out["seconds"] <= out["target_s"]) & (out["returncode"] == 0)
    return out


# -- part (b): scaling ------------------------------------------------------------------------
def write_scale_params(workdir: Path, households_per_wave: int, robustness_reps: int) -> Path:
    """``params.yaml`` for one size: Parquet raw files, paths inside ``workdir``.

    Everything else is the repository's ``params.yaml`` (corrections log applied, finite-population
    correction on): synth numbers Parquet rows as ingest does and grows its sampling frame with
    the sample (``synth.design.FRAME_VILLAGES_PER_PSU``).
    """
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["paths"] = {k: str(workdir / "data" / k) for k in ("raw", "interim", "processed")}
    params["synth"]["output_format"] = "parquet"
    per_province = max(20, round(households_per_wave / N_PROVINCES))
    params["synth"]["design"]["households_per_province"] = per_province
    params["fit"]["robustness"]["bootstrap_reps"] = robustness_reps
    path = workdir / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


def bench_scale(
    sizes: list[int],
    *,
    robustness_reps: int,
    keep: bool,
    stages: tuple[str, ...] = SCALE_STAGES,
) -> pd.DataFrame:
    """Each scale stage (``stages``, in pipeline order) in its own process at each size."""
    rows = []
    ctip = ctip_exe()
    for n in sizes:
        tmp = Path(tempfile.mkdtemp(prefix=f"ctip-bench-{n}-"))
        try:
            params = write_scale_params(tmp, n, robustness_reps)
            for stage in stages:
                res = run_measured([ctip, "-q", stage, "--params", str(params)], cwd=tmp)
                rows.append({"households_per_wave": n, "stage": stage, **res})
                print(
                    f"  {n:>9,} {stage:<9} {res['seconds']:8.1f} s (cpu {res['cpu_seconds']:7.1f} s)"
                    f" {res['peak_mib']:9.0f} MiB"
                    + (f"  FAILED: {res['error']}" if res["returncode"] else ""),
                    flush=True,
                )
                if res["returncode"]:
                    break
        finally:
            if not keep:
                shutil.rmtree(tmp, ignore_errors=True)
    out = pd.DataFrame(rows)
    # growth exponent between consecutive sizes, per stage
    out["growth_exponent"] = np.nan
    for _stage, g in out.groupby("stage", sort=False):
        g = g.sort_values("households_per_wave")
        prev = g.shift(1)
        expo = np.log(g["seconds"] / prev["seconds"]) / np.log(
            g["households_per_wave"] / prev["households_per_wave"]
        )
        out.loc[g.index, "growth_exponent"] = expo
    return out


def scale_summary(scale: pd.DataFrame) -> pd.DataFrame:
    """ingest + clean + features + fit per size against the targets (10 min, 8 GiB)."""
    sub = scale.loc[scale["stage"].isin(TARGET_STAGES)]
    agg = sub.groupby("households_per_wave").agg(
        seconds=("seconds", "sum"),
        cpu_seconds=("cpu_seconds", "sum"),
        peak_mib=("peak_mib", "max"),
        stages_ok=("returncode", lambda r: int((r == 0).sum())),
    )
    agg = agg.reset_index()
    agg["target_s"] = 600.0
    agg["target_mib"] = 8192.0
    agg["growth_exponent"] = np.log(agg["seconds"] / agg["seconds"].shift(1)) / np.log(
        agg["households_per_wave"] / agg["households_per_wave"].shift(1)
    )
    agg["meets_target"] = (
        (agg["seconds"] <= agg["target_s"])
        & (agg["peak_mib"] <= agg["target_mib"])
        & (agg["stages_ok"] == len(TARGET_STAGES))
    )
    return agg


# -- part (c): side by side --------------------------------------------------------------------
def bench_compare(n_households: int, repeat: int) -> pd.DataFrame:
    """Our estimators vs svy / pyfixest on the same simulated household table."""
    import polars as pl
    import pyfixest as pf
    import svy

    from ctip_research.config.fit import ModelSpec
    from ctip_research.models.econometric import fit_fixed_effects
    from ctip_research.models.simulate import simulate_households
    from ctip_research.survey import SurveyDesign

    hpv = 20
    df = simulate_households(
        n_villages=max(n_households // hpv, 20), households_per_village=hpv, seed=20221
    )
    df = df.loc[df["wave"] == 1].reset_index(drop=True)
    df["y"] = df["has_international_migrant"].astype(float)
    rows = []

    def ours_mean() -> Any:
        d = SurveyDesign(df, weight="weight_household", strata="stratum_id", psu="psu_id")
        return d.mean("y"), d.mean("y", by="province_code")

    def svy_mean() -> Any:
        frame = pl.from_pandas(
            df[["y", "weight_household", "stratum_id", "psu_id", "province_code"]]
        )
        design = svy.Design(stratum="stratum_id", psu="psu_id", wgt="weight_household")
        sample = svy.Sample(frame, design)
        return (
            sample.estimation.mean("y", drop_nulls=True),
            sample.estimation.mean("y", by="province_code", drop_nulls=True),
        )

    a, b = ours_mean(), svy_mean()
    ours_est = float(a[0].estimate)
    svy_est = float(b[0].to_polars()["est"][0])
    t_ours, t_svy = timed(ours_mean, repeat), timed(svy_mean, repeat)
    rows.append(
        {
            "case": "design-based mean + 8 domain means",
            "ours": "SurveyDesign",
            "peer": f"svy {svy.__version__}",
            "ours_s": t_ours,
            "peer_s": t_svy,
            "max_abs_diff": abs(ours_est - svy_est),
        }
    )

    controls = ["head_is_female", "head_age", "head_educ_years", "household_size", "land_agri_ha"]
    spec = ModelSpec(
        name="fe_village",
        kind="fixed_effects",
        label="LPM village FE",
        outcome="has_international_migrant",
        exposure="has_mfi_loan",
        controls=controls,
        fixed_effects=["psu_id"],
        cluster="psu_id",
        weights="weight_household",
        wave=1,
        sample=None,
        instruments=[],
        link=None,
        headline=False,
    )
    fe_df = df.copy()
    for c in ["has_international_migrant", "has_mfi_loan", "head_is_female"]:
        fe_df[c] = fe_df[c].astype(float)
    formula = f"has_international_migrant ~ has_mfi_loan + {' + '.join(controls)} | psu_id"

    def ours_fe() -> Any:
        return fit_fixed_effects(df, spec)

    def pyfixest_fe() -> Any:
        return pf.feols(formula, data=fe_df, weights="weight_household", vcov={"CRV1": "psu_id"})

    r_ours, r_pf = ours_fe(), pyfixest_fe()
    diff = abs(r_ours.effect - float(r_pf.coef()["has_mfi_loan"]))
    t_ours, t_pf = timed(ours_fe, repeat), timed(pyfixest_fe, repeat)
    rows.append(
        {
            "case": "FE LPM (village FE, 5 controls, CRV1 by PSU)",
            "ours": "fit_fixed_effects",
            "peer": f"pyfixest {pf.__version__}",
            "ours_s": t_ours,
            "peer_s": t_pf,
            "max_abs_diff": diff,
        }
    )
    out = pd.DataFrame(rows)
    out["max_abs_diff"] = [f"{v:.1e}" for v in out["max_abs_diff"]]
    out.insert(1, "n_households", len(df))
    out["ratio"] = out["ours_s"] / out["peer_s"]
    out["target_ratio"] = 1.5
    out["meets_target"] = out["ratio"] <= out["target_ratio"]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="pipeline,scale,compare")
    ap.add_argument("--sizes", default="10000,100000,1000000", help="households per wave")
    ap.add_argument("--compare-size", type=int, default=1_000_000, help="households (part c)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N (part c)")
    ap.add_argument("--robustness-reps", type=int, default=99, help="fit.robustness bootstrap")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    ap.add_argument(
        "--stages",
        default=",".join(SCALE_STAGES),
        help="scale stages to run, in pipeline order (e.g. synth,ingest for the census ingest)",
    )
    ap.add_argument("--out-dir", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")

    if "pipeline" in parts:
        print("pipeline: dvc repro -f in a temporary copy ...", flush=True)
        pipe = bench_pipeline(args.keep)
        pipe.to_csv(args.out_dir / "pipeline.csv", index=False)
        print_table(pipe.drop(columns=["error"]), "Whole pipeline, default data")
        for e in pipe["error"]:
            if e:
                print(f"  error: {e}")
    if "scale" in parts:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        print(f"scale: sizes {sizes} ...", flush=True)
        stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
        scale = bench_scale(
            sizes, robustness_reps=args.robustness_reps, keep=args.keep, stages=stages
        )
        scale.to_csv(args.out_dir / "scale.csv", index=False)
        print_table(scale.drop(columns=["error"]), "Stages by size (each its own process)")
        summary = scale_summary(scale)
        summary.to_csv(args.out_dir / "scale_summary.csv", index=False)
        print_table(
            summary, "ingest + clean + features + fit (targets: 10 min, 8 GiB, exponent <= 1)"
        )
    if "compare" in parts:
        print(f"compare: {args.compare_size:,} households ...", flush=True)
        comp = bench_compare(args.compare_size, args.repeat)
        comp.to_csv(args.out_dir / "compare.csv", index=False)
        print_table(comp, "Side by side (ratio = ours / peer; target <= 1.5)")


if __name__ == "__main__":
    main()
