"""Stage ``fit``: every econometric model declared in ``params.yaml`` (``fit`` section).

Reads ``<processed>/analysis/household_wave.parquet`` and ``panel.parquet``; writes
``<processed>/models/``:

- ``estimates.csv``: every estimate, one tidy table (docs/CONTRACTS.md columns);
- ``results.json``: every result's serialisable form (``RegressionResult.to_dict``);
- ``descriptive.csv``: design-based indicator means by domain (model 1);
- ``balance.csv``, ``programme.json``: the programme's balance table and the stated conclusion;
- ``robustness.csv``: alternative exposures x outcomes with raw and adjusted p-values;
- ``wild_bootstrap.csv``: wild cluster bootstrap (WCR) p-values and intervals of the
  ``fit.wild_bootstrap`` comparisons (few clusters), beside the CRV1 ones;
- ``tables/<name>.{md,html,tex,docx}``: etable-style regression tables;
- ``metrics.json``: headline estimates for ``dvc metrics show``.

Disclosure control: a regression is published only with at least ``privacy.min_residual_df``
residual degrees of freedom (and as many clusters + 1); descriptive cells need at least
``privacy.min_cell_count`` households. Suppressed items are listed in ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ctip_research.config import Params
from ctip_research.errors import InputFileError
from ctip_research.io import write_bytes, write_csv, write_json
from ctip_research.log import get_logger, track
from ctip_research.runs import require_upstream

log = get_logger("fit")

__all__ = ["run_fit"]


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputFileError(
            "analysis table not found; run `ctip features` (or `dvc repro features`) first",
            file=path,
        )
    return pd.read_parquet(path)


def _publishable(res: Any, min_df: int) -> bool:
    df_ok = res.df_resid >= min_df
    psu_ok = res.n_psu is None or (res.n_psu - 1) >= min_df
    return bool(df_ok and psu_ok)


def _treated(values: pd.Series) -> pd.Series:
    return values.astype("boolean").fillna(False).astype(bool)


def programme_sample(
    panel: pd.DataFrame, *, treatment: str, areas: list[str]
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The programme sample: every household in an area cell with at least one treated one.

    ``areas`` are panel columns (``fit.programme.areas``); their value combinations where the
    ``treatment`` is true for some household are the programme's areas, read from the data
    (no list of codes to keep in step with a survey). Returns the sample (original index) and
    the cells as records.

    Examples
    --------
    >>> panel = pd.DataFrame({"prov": [1, 1, 2, 3], "t": [True, False, False, True]})
    >>> sample, cells = programme_sample(panel, treatment="t", areas=["prov"])
    >>> sample.index.tolist(), cells
    ([0, 1, 3], [{'prov': 1}, {'prov': 3}])
    """
    missing = [c for c in [treatment, *areas] if c not in panel.columns]
    if missing:
        raise InputFileError(
            f"fit.programme: column(s) {missing} not in the panel table (fit.programme.treatment "
            "and fit.programme.areas name panel.parquet columns)"
        )
    treated = _treated(panel[treatment])
    if not areas:
        return panel, []
    cells = panel.loc[treated.to_numpy(), areas].drop_duplicates().sort_values(areas)
    inside = pd.MultiIndex.from_frame(panel[areas]).isin(pd.MultiIndex.from_frame(cells))
    records = [
        {str(k): (v.item() if hasattr(v, "item") else v) for k, v in rec.items()}
        for rec in cells.to_dict("records")
    ]
    return panel.loc[inside], records


def _count(n: int, min_cell: int) -> str:
    """A household count for published text: small non-zero counts are not given exactly."""
    return f"{n:,}" if n == 0 or n >= min_cell else f"fewer than {min_cell}"


def treated_coverage(
    panel: pd.DataFrame,
    sample: pd.DataFrame,
    spec: Any,
    *,
    treatment: str,
    min_cell: int,
) -> dict[str, Any]:
    """Which treated households a programme model leaves out, and why, with a sentence.

    Counts the treated households of the panel outside the programme sample, excluded by the
    model's own ``sample`` query, and dropped for a missing value in a column the model uses.
    """
    treated = _treated(panel[treatment])
    n_treated = int(treated.sum())
    cols = [f"{spec.outcome}_w1", f"{spec.outcome}_w2", spec.exposure, *spec.controls]
    cols += [*spec.fixed_effects, *(c for c in (spec.cluster, spec.weights) if c)]
    cols = [c for c in dict.fromkeys(cols) if c in panel.columns]
    in_area = panel.index.isin(sample.index)
    in_query = pd.Series(in_area, index=panel.index)
    if spec.sample:
        kept = sample.query(spec.sample).index
        in_query = pd.Series(panel.index.isin(kept), index=panel.index)
    complete = panel[cols].notna().all(axis=1)
    t = treated.to_numpy()
    excluded = {
        "outside the programme areas": int((t & ~in_area).sum()),
        f"excluded by its sample restriction `{spec.sample}`": int(
            (t & in_area & ~in_query.to_numpy()).sum()
        ),
        "with a missing value in a column the model uses": int(
            (t & in_query.to_numpy() & ~complete.to_numpy()).sum()
        ),
    }
    n_out = sum(excluded.values())
    if n_out == 0:
        note = (
            f"{spec.name}: all {_count(n_treated, min_cell)} treated households are in the "
            "estimation sample."
        )
    else:
        why = "; ".join(f"{_count(n, min_cell)} {k}" for k, v in excluded.items() if (n := v))
        note = (
            f"{spec.name}: {_count(n_out, min_cell)} of {_count(n_treated, min_cell)} treated "
            f"households are not in the estimation sample ({why}); its estimate describes the "
            "treated households it keeps."
        )
    return {"all_treated_in_sample": n_out == 0, "note": note, "_n_out": n_out}


#: Columns of ``balance.csv`` (``models.programme.balance_table``).
BALANCE_COLUMNS = [
    "covariate",
    "mean_treated",
    "mean_control",
    "difference",
    "norm_diff",
    "n_treated",
    "n_control",
    "imbalanced",
]
#: Columns of ``wild_bootstrap.csv``.
WILD_BOOTSTRAP_COLUMNS = [
    "model",
    "cluster",
    "term",
    "estimate",
    "crv1_std_error",
    "statistic",
    "p_value_crv1",
    "p_value_wild",
    "conf_low",
    "conf_high",
    "n_clusters",
    "reps",
    "weight_type",
    "full_enumeration",
]


def _wild_bootstrap(
    params: Params, hw: pd.DataFrame, published: set[str], suppressed: list[str]
) -> pd.DataFrame:
    """One row per ``fit.wild_bootstrap`` comparison of a published model."""
    from ctip_research.models.wild_bootstrap import bootstrap_spec

    fp = params.fit
    wb = fp.wild_bootstrap
    specs = {s.name: s for s in fp.models}
    rows = []
    for comp in wb.comparisons:
        spec = specs[comp.model]
        cluster = comp.cluster or spec.cluster
        if comp.model not in published:
            log.warning("wild bootstrap of %s skipped: the model is suppressed", comp.model)
            suppressed.append(f"wild_bootstrap:{comp.model}:{cluster}")
            continue
        res = bootstrap_spec(
            hw,
            spec,
            cluster=comp.cluster,
            reps=wb.reps,
            weight_type=wb.weight_type,
            seed=fp.seed,
            alpha=fp.alpha,
        )
        log.info(
            "wild bootstrap %s by %s (G = %d): p CRV1 %.4f, p wild %.4f",
            comp.model,
            cluster,
            res.n_clusters,
            res.p_value_crv1,
            res.p_value,
        )
        rows.append(
            {
                "model": comp.model,
                "cluster": cluster,
                "term": res.term,
                "estimate": res.estimate,
                "crv1_std_error": res.std_error,
                "statistic": res.statistic,
                "p_value_crv1": res.p_value_crv1,
                "p_value_wild": res.p_value,
                "conf_low": res.conf_low,
                "conf_high": res.conf_high,
                "n_clusters": res.n_clusters,
                "reps": res.reps,
                "weight_type": res.weight_type,
                "full_enumeration": res.full_enumeration,
            }
        )
    return pd.DataFrame(rows, columns=WILD_BOOTSTRAP_COLUMNS)


def run_fit(params: Params) -> None:
    """Fit every model of ``params.fit`` and write estimates, tables and metrics."""
    require_upstream("features", params.paths, consumer="fit")
    from ctip_research.models.design_based import estimate_indicators
    from ctip_research.models.fitting import PANEL_KINDS, fit_model
    from ctip_research.models.programme import (
        balance_table,
        mean_reversion,
        programme_conclusion,
    )
    from ctip_research.models.results import ESTIMATE_COLUMNS
    from ctip_research.models.robustness import adjust_pvalues, romano_wolf, spec_variants
    from ctip_research.models.tables import regression_table, render_table

    fp = params.fit
    analysis_dir = params.paths.processed / "analysis"
    out = params.paths.processed / "models"
    hw = _read(analysis_dir / "household_wave.parquet")
    panel = _read(analysis_dir / "panel.parquet")
    min_df = params.privacy.min_residual_df
    suppressed: list[str] = []

    # model 1 -------------------------------------------------------------------------------
    d = fp.descriptive
    desc_data = hw if d.wave is None else hw.loc[hw["wave"] == d.wave]
    descriptive = estimate_indicators(
        desc_data, fp.design, indicators=d.indicators, domains=d.domains, alpha=fp.alpha
    )
    small = descriptive.table["n_obs"] < params.privacy.min_cell_count
    if small.any():
        suppressed += [
            f"descriptive:{r.indicator}:{r.domain}={r.level}"
            for r in descriptive.table.loc[small].itertuples()
        ]
    desc_table = descriptive.table.loc[~small].reset_index(drop=True)
    write_csv(out / "descriptive.csv", desc_table)

    # the programme sample (model 6): areas with a treated household, from the data ------------
    prog = fp.programme
    prog_panel, prog_cells = programme_sample(panel, treatment=prog.treatment, areas=prog.areas)
    no_treated = not _treated(panel[prog.treatment]).any()
    programme_info: dict[str, Any] = {"treatment": prog.treatment, "areas": list(prog.areas)}
    programme_info["area_cells"] = prog_cells
    notes: list[str] = []
    if no_treated:
        note = (
            f"No household received the programme ({prog.treatment} is never true), so the "
            "programme models, the balance table and the mean reversion are not estimated."
        )
        log.warning("fit: %s", note)
        notes.append(note)

    # models 2-6 ------------------------------------------------------------------------------
    results = {}
    coverage: dict[str, Any] = {}
    not_estimated: list[str] = []
    for spec in track(fp.models, "Fitting models"):
        if spec.kind in PANEL_KINDS and no_treated:
            not_estimated.append(spec.name)
            continue
        data = prog_panel if spec.kind in PANEL_KINDS else hw
        if spec.exposure == prog.treatment and spec.kind in PANEL_KINDS:
            cov = treated_coverage(
                panel,
                prog_panel,
                spec,
                treatment=prog.treatment,
                min_cell=params.privacy.min_cell_count,
            )
            if cov.pop("_n_out"):
                log.warning("fit: %s", cov["note"])
            coverage[spec.name] = cov
            notes.append(cov["note"])
        res = fit_model(
            data, spec, design=fp.design, alpha=fp.alpha, programme_method=fp.programme.method
        )
        if not _publishable(res, min_df):
            log.warning(
                "model %s suppressed: fewer than %d residual df or clusters", spec.name, min_df
            )
            suppressed.append(spec.name)
            continue
        log.info(
            "%s: %s = %.4f (%.4f)",
            spec.name,
            spec.exposure,
            res.effect,
            float(res.term()["std_error"]),
        )
        results[spec.name] = res

    # model 6: balance and conclusion ----------------------------------------------------------
    did_spec = next((s for s in fp.models if s.kind == "did"), None)
    prog_sample = prog_panel.query(did_spec.sample) if did_spec and did_spec.sample else prog_panel
    if no_treated:
        balance = pd.DataFrame(columns=BALANCE_COLUMNS)
    else:
        balance = balance_table(
            prog_sample,
            treatment=prog.treatment,
            covariates=prog.balance_covariates,
            weights=fp.design.weight,
            threshold=prog.imbalance_threshold,
        )
    write_csv(out / "balance.csv", balance)
    programme_info.update(
        balance_imbalanced=balance.loc[balance["imbalanced"].astype(bool), "covariate"].tolist(),
        coverage=coverage,
        notes=notes,
    )
    did = next((r for r in results.values() if r.kind == "did"), None)
    adj = next((r for r in results.values() if r.kind == "programme_adjusted"), None)
    if did is not None and adj is not None:
        reversion = mean_reversion(
            prog_sample, outcome=did.outcome, treatment=prog.treatment, weights=fp.design.weight
        )
        programme_info.update(
            mean_reversion=reversion,
            did=did.effect,
            adjusted=adj.effect,
            method=prog.method,
            conclusion=programme_conclusion(
                balance, did, adj, reversion, outcome_covariate=f"{did.outcome}_w1"
            ),
        )
    write_json(out / "programme.json", programme_info)

    # model 7: robustness -------------------------------------------------------------------------
    rb = fp.robustness
    base = next(s for s in fp.models if s.name == rb.base_model)
    rob_rows = []
    rob_results = []
    for exposure in rb.exposures:
        variants = spec_variants(base, outcomes=rb.outcomes, exposures=[exposure])
        fitted = [fit_model(hw, v, design=fp.design, alpha=fp.alpha) for v in variants]
        suppressed += [r.model for r in fitted if not _publishable(r, min_df)]
        fitted = [r for r in fitted if _publishable(r, min_df)]
        if not fitted:
            continue
        rob_results += fitted
        family = pd.DataFrame(
            {
                "model": [r.model for r in fitted],
                "exposure": exposure,
                "outcome": [r.outcome for r in fitted],
                "estimate": [r.effect for r in fitted],
                "std_error": [float(r.term()["std_error"]) for r in fitted],
                "p_value": [float(r.term()["p_value"]) for r in fitted],
            }
        )
        for method in rb.adjustments:
            if method == "romano_wolf":
                rw = romano_wolf(
                    hw,
                    [v for v in variants if v.name in set(family["model"])],
                    reps=rb.bootstrap_reps,
                    seed=fp.seed,
                )
                family["p_romano_wolf"] = rw["p_value_rw"].to_numpy()
            else:
                family[f"p_{method}"] = adjust_pvalues(family["p_value"].tolist(), method)
        rob_rows.append(family)
    robustness = (
        pd.concat(rob_rows, ignore_index=True)
        if rob_rows
        else pd.DataFrame(
            columns=["model", "exposure", "outcome", "estimate", "std_error", "p_value"]
        )
    )
    write_csv(out / "robustness.csv", robustness)

    # few clusters: wild cluster bootstrap ---------------------------------------------------------
    write_csv(
        out / "wild_bootstrap.csv",
        _wild_bootstrap(params, hw, set(results), suppressed),
        float_format="%.10g",
    )

    # estimates, results, tables ------------------------------------------------------------------
    frames = [descriptive.estimates().loc[~small.to_numpy()]]
    frames += [r.estimates() for r in results.values()]
    frames += [r.estimates() for r in rob_results]
    estimates = pd.concat(frames, ignore_index=True).loc[:, ESTIMATE_COLUMNS]
    write_csv(out / "estimates.csv", estimates, float_format="%.10g")
    write_json(
        out / "results.json",
        {
            "models": [r.to_dict() for r in results.values()],
            "robustness": [r.to_dict() for r in rob_results],
            "descriptive": descriptive.to_dict(),
        },
    )

    groups = {
        "main": (
            "Debt and international migration",
            [
                r
                for r in results.values()
                if r.kind in ("fixed_effects", "survey_glm", "iv", "panel")
            ],
        ),
        "programme": (
            "The livelihood programme and risky migration",
            [r for r in results.values() if r.kind in PANEL_KINDS],
        ),
    }
    for exposure in rb.exposures:
        groups[f"robustness_{exposure}"] = (
            f"Robustness: {exposure} and the migration outcomes (base {rb.base_model})",
            [r for r in rob_results if r.exposure == exposure],
        )
    for name, (caption, members) in groups.items():
        if not members:
            continue
        table = regression_table(members, caption=caption, label=f"tab_{name}")
        for fmt in fp.table_formats:
            write_bytes(out / "tables" / f"{name}.{fmt}", render_table(table, fmt))

    # metrics -------------------------------------------------------------------------------------
    headline = {}
    for spec in fp.models:
        hres = results.get(spec.name)
        if spec.headline and hres is not None:
            t = hres.term()
            headline[spec.name] = {
                "estimate": round(float(t["estimate"]), 6),
                "std_error": round(float(t["std_error"]), 6),
                "conf_low": round(float(t["conf_low"]), 6),
                "conf_high": round(float(t["conf_high"]), 6),
            }
    iv_diag = {
        name: {
            "first_stage_f": round(r.stats["first_stage_f"], 3),
            "effective_f": round(r.stats["effective_f"], 3),
            "ar_low": r.stats["ar_low"],
            "ar_high": r.stats["ar_high"],
        }
        for name, r in results.items()
        if r.kind == "iv"
    }
    write_json(
        out / "metrics.json",
        {
            "headline": headline,
            "iv": iv_diag,
            "n_models": len(results),
            "n_estimates": len(estimates),
            "suppressed": suppressed,
            "not_estimated": not_estimated,
            "notes": notes,
        },
    )
    log.info("fit: %d models, %d estimates written to %s", len(results), len(estimates), out)
