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

Disclosure control (:func:`ctip_research.disclosure.disclose`): descriptive cells need enough
households in the numerator, the denominator and the complement (the trafficking minimum for
``privacy.trafficking_indicators``), with secondary suppression across each domain and the overall
margin; a regression is published only with enough residual degrees of freedom and clusters and
enough exposed and unexposed units (and cases among them) behind every dummy regressor. Suppressed
cells and models stay in ``estimates.csv`` and ``descriptive.csv``, blanked, with ``status`` and
``suppression_reason``; they are listed in ``metrics.json``. Every file gets a check record
(``<stem>.disclosure.json``, ``tables/<name>.disclosure.json``) listing it with its sha256.

``estimates.csv`` records for every row the estimand of its model (``fit.models[].estimand``), the
population it refers to (wave and sample) and the interval's level (``1 - fit.alpha``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.config import Params
from ctip_research.config.fit import ModelSpec
from ctip_research.disclosure import (
    Cells,
    Disclosed,
    DisclosurePolicy,
    Document,
    Regressions,
    disclose,
)
from ctip_research.errors import InputFileError
from ctip_research.io import PUBLISHED_DIGITS, write_bytes, write_csv, write_json
from ctip_research.log import get_logger, track
from ctip_research.runs import require_upstream
from ctip_research.stages._publish import combine_records, write_record

log = get_logger("fit")

__all__ = ["run_fit"]


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputFileError(
            "analysis table not found; run `ctip features` (or `dvc repro features`) first",
            file=path,
        )
    return pd.read_parquet(path)


#: Columns of ``estimates.csv``: the tidy estimate columns, then what the brief and the gate need.
PUBLISHED_ESTIMATE_COLUMNS = [
    "model",
    "outcome",
    "exposure",
    "term",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "p_value",
    "n_obs",
    "n_psu",
    "design",
    "df_resid",
    "n_numerator",
    "estimand",
    "population",
    "conf_level",
    "status",
    "suppression_reason",
]
#: Columns of ``descriptive.csv``.
DESCRIPTIVE_COLUMNS = [
    "indicator",
    "domain",
    "level",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "conf_level",
    "deff",
    "df",
    "n_obs",
    "n_numerator",
    "is_trafficking",
    "status",
    "suppression_reason",
]


def population_of(spec: ModelSpec) -> str:
    """The population a model's estimate refers to: its wave and sample query.

    Examples
    --------
    >>> from ctip_research.config.fit import ModelSpec
    >>> s = ModelSpec(name="m", kind="fixed_effects", label="m", outcome="y", exposure="x",
    ...               controls=[], fixed_effects=[], cluster=None, weights=None, wave=1,
    ...               sample="is_urban == False", instruments=[], link=None, headline=False)
    >>> population_of(s)
    'wave 1; is_urban == False'
    """
    base = f"wave {spec.wave}" if spec.wave is not None else "all waves"
    return f"{base}; {spec.sample}" if spec.sample else base


def _descriptive_lines(cells: pd.DataFrame) -> list[list[int]]:
    """Additive lines of the descriptive table: each domain's levels with the overall cell."""
    lines = []
    pos = pd.Series(np.arange(len(cells)), index=cells.index)
    for _, part in cells.groupby("indicator", sort=False):
        overall = pos[part.index[part["domain"] == "all"]].tolist()
        for _, sub in part[part["domain"] != "all"].groupby("domain", sort=False):
            lines.append([*pos[sub.index].tolist(), *overall])
    return lines


def gate_descriptive(
    table: pd.DataFrame,
    counts: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    conf_level: float,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The descriptive cells behind the disclosure authority: ``descriptive.csv`` and its record.

    ``counts`` are :func:`~ctip_research.models.support.indicator_counts` of the same data.
    """
    keys = ["indicator", "domain", "level"]
    cells = table.astype({"level": str}).merge(
        counts.astype({"level": str}), on=keys, how="left", validate="one_to_one"
    )
    if (cells["n_denominator"] != cells["n_obs"]).any():  # pragma: no cover - same selection
        raise InputFileError("descriptive counts do not match the estimates' sample sizes")
    cells = cells.drop(columns=["n_obs"]).assign(
        kind="share", is_trafficking=cells["indicator"].isin(policy.trafficking_indicators)
    )
    out = disclose(
        Cells(cells, "descriptive estimates", dims=keys, lines=_descriptive_lines(cells)), policy
    )
    assert out.table is not None
    safe = out.table.copy()
    suppressed = (safe["status"] == "suppressed").to_numpy()
    safe["n_obs"] = safe["n_denominator"]
    safe.loc[suppressed, ["deff", "df"]] = np.nan
    safe["conf_level"] = conf_level
    return safe.loc[:, DESCRIPTIVE_COLUMNS], out.record


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


def _estimate_rows(res: Any, spec: ModelSpec, conf_level: float) -> pd.DataFrame:
    """``estimates.csv`` rows of a fitted model (before the gate)."""
    rows = res.estimates()
    return rows.assign(
        df_resid=float(res.df_resid),
        n_numerator=np.nan,
        estimand=spec.estimand,
        population=population_of(spec),
        conf_level=conf_level,
    )


def _without(res: Any, terms: list[str]) -> Any:
    """``res`` without the coefficients of ``terms`` (suppressed by the disclosure rules): not in
    its terms, its covariance, nor in any per-term table of its diagnostics.
    """
    if not terms:
        return res
    keep = ~res.terms["term"].isin(terms)
    names = list(res.terms.loc[keep, "term"])
    covariance = res.covariance
    if covariance is not None:
        covariance = covariance.loc[names, names]
    extra = {}
    for key, value in res.extra.items():
        if isinstance(value, dict) and isinstance(value.get("term"), list):
            rows = [i for i, t in enumerate(value["term"]) if str(t) not in set(terms)]
            value = {
                k: [v[i] for i in rows]
                if isinstance(v, list) and len(v) == len(value["term"])
                else v
                for k, v in value.items()
            }
        extra[key] = value
    extra["suppressed_terms"] = sorted(terms)
    return replace(
        res,
        terms=res.terms.loc[keep].reset_index(drop=True),
        covariance=covariance,
        extra=extra,
    )


def _descriptive_rows(
    table: pd.DataFrame, *, n_psu: int, design: str, population: str
) -> pd.DataFrame:
    """``estimates.csv`` rows of the gated descriptive table."""
    return pd.DataFrame(
        {
            "model": "descriptive",
            "outcome": table["indicator"],
            "exposure": table["domain"],
            "term": table["domain"].astype(str) + "=" + table["level"].astype(str),
            "estimate": table["estimate"],
            "std_error": table["std_error"],
            "conf_low": table["conf_low"],
            "conf_high": table["conf_high"],
            "p_value": np.nan,
            "n_obs": table["n_obs"],
            "n_psu": n_psu,
            "design": design,
            "df_resid": np.nan,
            "n_numerator": table["n_numerator"],
            "estimand": "population_mean",
            "population": population,
            "conf_level": table["conf_level"],
            "status": table["status"],
            "suppression_reason": table["suppression_reason"],
        }
    )


def _balance_cells(sample: pd.DataFrame, balance: pd.DataFrame, *, treatment: str) -> pd.DataFrame:
    """The balance table's group means as cells (counts and, for money, the contributions)."""
    treated = sample[treatment].astype(bool).to_numpy()
    rows = []
    for r in balance.to_dict("records"):
        x = pd.to_numeric(sample[r["covariate"]].astype("Float64"), errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        ok = ~np.isnan(x)
        binary = set(np.unique(x[ok]).tolist()) <= {0.0, 1.0}
        money = str(r["covariate"]).removesuffix("_w1").removesuffix("_w2").endswith("_usd")
        for group, mask, est in (
            ("treated", treated, r["mean_treated"]),
            ("control", ~treated, r["mean_control"]),
        ):
            v = x[mask & ok]
            row: dict[str, Any] = {
                "covariate": r["covariate"],
                "group": group,
                "estimate": float(est),
                "n_denominator": int(v.size),
            }
            if binary:
                row.update(kind="share", n_numerator=int((v == 1).sum()))
            elif money:
                amounts = np.sort(np.abs(v))[::-1]
                row.update(
                    kind="money",
                    n_numerator=int((amounts > 0).sum()),
                    top1_value=float(amounts[0]) if amounts.size else 0.0,
                    top2_value=float(amounts[1]) if amounts.size > 1 else 0.0,
                    total_value=float(amounts.sum()),
                )
            else:
                row.update(kind="mean", n_numerator=np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def gate_balance(
    sample: pd.DataFrame, balance: pd.DataFrame, policy: DisclosurePolicy, *, treatment: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``balance.csv`` behind the gate: a covariate whose treated or control cell is suppressed
    is blanked (its difference would reveal the cell); ``status`` says which.
    """
    cells = _balance_cells(sample, balance, treatment=treatment)
    out = disclose(Cells(cells, "programme balance", dims=["covariate", "group"]), policy)
    assert out.table is not None
    bad = set(out.table.loc[out.table["status"] == "suppressed", "covariate"])
    safe = balance.copy()
    safe["status"] = np.where(safe["covariate"].isin(bad), "suppressed", "published")
    numbers = ["mean_treated", "mean_control", "difference", "norm_diff", "n_treated", "n_control"]
    safe[numbers] = safe[numbers].astype("float64")
    safe.loc[safe["status"] == "suppressed", numbers] = np.nan
    return safe, out.record


@dataclass(frozen=True)
class _Context:
    """What every step of the fit stage reads: the params, the analysis tables and the gate."""

    params: Params
    hw: pd.DataFrame
    panel: pd.DataFrame
    policy: DisclosurePolicy
    conf_level: float
    out: Path


@dataclass(frozen=True)
class _Descriptive:
    """Model 1 behind the gate: the design-based estimates, the gated table and its record."""

    result: Any
    table: pd.DataFrame
    record: dict[str, Any]


@dataclass(frozen=True)
class _Programme:
    """The programme sample (model 6) and what ``programme.json`` and the metrics say of it."""

    panel: pd.DataFrame
    no_treated: bool
    info: dict[str, Any]
    notes: list[str]


@dataclass(frozen=True)
class _Fitted:
    """Every regression fitted (models 2-6, then the robustness variants) with its support."""

    specs: dict[str, ModelSpec]
    fitted: dict[str, Any]
    supports: list[pd.DataFrame]
    coverage: dict[str, Any]
    not_estimated: list[str]


@dataclass(frozen=True)
class _Gated:
    """The regressions behind the gate: the authority's outcome and the published results."""

    reg: Disclosed
    table: pd.DataFrame
    published: set[str]
    results: dict[str, Any]
    rob_fitted: dict[str, Any]


def _context(params: Params) -> _Context:
    """Read the analysis tables and set up the gate."""
    analysis_dir = params.paths.processed / "analysis"
    return _Context(
        params=params,
        hw=_read(analysis_dir / "household_wave.parquet"),
        panel=_read(analysis_dir / "panel.parquet"),
        policy=DisclosurePolicy.from_privacy(params.privacy),
        conf_level=round(1.0 - params.fit.alpha, 10),
        out=params.paths.processed / "models",
    )


def _fit_descriptive(ctx: _Context, suppressed: list[str]) -> _Descriptive:
    """Model 1: design-based indicator means by domain, behind the gate."""
    from ctip_research.models.design_based import estimate_indicators
    from ctip_research.models.support import indicator_counts

    fp = ctx.params.fit
    d = fp.descriptive
    desc_data = ctx.hw if d.wave is None else ctx.hw.loc[ctx.hw["wave"] == d.wave]
    descriptive = estimate_indicators(
        desc_data, fp.design, indicators=d.indicators, domains=d.domains, alpha=fp.alpha
    )
    counts = indicator_counts(desc_data, indicators=d.indicators, domains=d.domains)
    desc_table, desc_record = gate_descriptive(
        descriptive.table, counts, ctx.policy, conf_level=ctx.conf_level
    )
    suppressed += [
        f"descriptive:{r.indicator}:{r.domain}={r.level}"
        for r in desc_table.loc[desc_table["status"] == "suppressed"].itertuples()
    ]
    log.info(
        "descriptive: %d of %d cells suppressed",
        int((desc_table["status"] == "suppressed").sum()),
        len(desc_table),
    )
    return _Descriptive(descriptive, desc_table, desc_record)


def _support_of(ctx: _Context, data: pd.DataFrame, spec: ModelSpec, res: Any) -> pd.DataFrame:
    """The dummy support of a fitted model on its estimation sample (for the gate)."""
    from ctip_research.models.support import dummy_support, estimation_sample

    sample = estimation_sample(data, spec, design=ctx.params.fit.design)
    return dummy_support(
        sample,
        spec,
        terms=list(res.terms["term"]),
        outcome_is_trafficking=ctx.policy.is_trafficking(spec.outcome),
    )


def _programme(ctx: _Context) -> _Programme:
    """The programme sample (model 6): areas with a treated household, from the data."""
    prog = ctx.params.fit.programme
    panel = ctx.panel
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
    return _Programme(prog_panel, no_treated, programme_info, notes)


def _note_coverage(ctx: _Context, prog: _Programme, spec: ModelSpec, fits: _Fitted) -> None:
    """Record which treated households a programme model leaves out (and say so)."""
    cov = treated_coverage(
        ctx.panel,
        prog.panel,
        spec,
        treatment=ctx.params.fit.programme.treatment,
        min_cell=ctx.params.privacy.min_cell_count,
    )
    if cov.pop("_n_out"):
        log.warning("fit: %s", cov["note"])
    fits.coverage[spec.name] = cov
    prog.notes.append(cov["note"])


def _fit_models(ctx: _Context, prog: _Programme) -> _Fitted:
    """Models 2-6: every model of ``fit.models`` (the panel kinds on the programme sample)."""
    from ctip_research.models.fitting import PANEL_KINDS, fit_model

    fp = ctx.params.fit
    fits = _Fitted(specs={}, fitted={}, supports=[], coverage={}, not_estimated=[])
    for spec in track(fp.models, "Fitting models"):
        if spec.kind in PANEL_KINDS and prog.no_treated:
            fits.not_estimated.append(spec.name)
            continue
        data = prog.panel if spec.kind in PANEL_KINDS else ctx.hw
        if spec.exposure == fp.programme.treatment and spec.kind in PANEL_KINDS:
            _note_coverage(ctx, prog, spec, fits)
        res = fit_model(
            data, spec, design=fp.design, alpha=fp.alpha, programme_method=fp.programme.method
        )
        fits.specs[spec.name], fits.fitted[spec.name] = spec, res
        fits.supports.append(_support_of(ctx, data, spec, res))
    return fits


def _fit_robustness(
    ctx: _Context, fits: _Fitted
) -> tuple[dict[str, list[ModelSpec]], dict[str, Any]]:
    """Model 7: the robustness variants by exposure, fitted (gated later with the others); their
    specs and supports are added to ``fits``.
    """
    from ctip_research.models.fitting import fit_model
    from ctip_research.models.robustness import spec_variants

    fp = ctx.params.fit
    rb = fp.robustness
    base = next(s for s in fp.models if s.name == rb.base_model)
    variants = {e: spec_variants(base, outcomes=rb.outcomes, exposures=[e]) for e in rb.exposures}
    rob_fitted: dict[str, Any] = {}
    for exposure_variants in variants.values():
        for v in exposure_variants:
            res = fit_model(ctx.hw, v, design=fp.design, alpha=fp.alpha)
            fits.specs[v.name], rob_fitted[v.name] = v, res
            fits.supports.append(_support_of(ctx, ctx.hw, v, res))
    return variants, rob_fitted


def _gate_regressions(
    ctx: _Context, fits: _Fitted, rob_fitted: dict[str, Any], suppressed: list[str]
) -> _Gated:
    """Every regression behind the gate: suppressed models and terms dropped, and listed."""
    every = {**fits.fitted, **rob_fitted}
    reg = disclose(
        Regressions(
            pd.concat(
                [_estimate_rows(r, fits.specs[n], ctx.conf_level) for n, r in every.items()],
                ignore_index=True,
            ),
            "regression estimates",
            support=pd.concat(fits.supports, ignore_index=True),
        ),
        ctx.policy,
    )
    reg_table = reg.table
    assert reg_table is not None
    is_pub = reg_table["status"] == "published"
    published = set(
        reg_table.loc[is_pub & (reg_table["term"] == reg_table["exposure"]), "model"].astype(str)
    )
    hidden: dict[str, list[str]] = {}
    for item in reg.record["suppressed"]:
        hidden.setdefault(str(item["model"]), []).append(str(item["term"]))
        log.warning(
            "%s, term %s suppressed (disclosure: %s)", item["model"], item["term"], item["reason"]
        )
    suppressed += [m for m in every if m not in published]
    suppressed += [f"{m}:{t}" for m, ts in hidden.items() if m in published for t in ts]
    every = {n: _without(r, hidden.get(n, [])) for n, r in every.items() if n in published}
    results = {n: every[n] for n in fits.fitted if n in every}
    for name, res in results.items():
        log.info(
            "%s: %s = %.4f (%.4f)",
            name,
            res.exposure,
            res.effect,
            float(res.term()["std_error"]),
        )
    return _Gated(
        reg=reg,
        table=reg_table,
        published=published,
        results=results,
        rob_fitted={n: every[n] for n in rob_fitted if n in every},
    )


def _gated_balance(
    ctx: _Context, prog: _Programme, prog_sample: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The programme's balance table behind the gate (empty without a treated household)."""
    from ctip_research.models.programme import balance_table

    fp = ctx.params.fit
    if prog.no_treated:
        empty = pd.DataFrame(columns=[*BALANCE_COLUMNS, "status"])
        return empty, disclose(
            Document("programme balance (no treated household)"), ctx.policy
        ).record
    balance = balance_table(
        prog_sample,
        treatment=fp.programme.treatment,
        covariates=fp.programme.balance_covariates,
        weights=fp.design.weight,
        threshold=fp.programme.imbalance_threshold,
    )
    return gate_balance(prog_sample, balance, ctx.policy, treatment=fp.programme.treatment)


def _programme_conclusion(
    ctx: _Context, prog_sample: pd.DataFrame, balance_safe: pd.DataFrame, results: dict[str, Any]
) -> dict[str, Any]:
    """Mean reversion and the stated conclusion, when both programme models are published."""
    from ctip_research.models.programme import mean_reversion, programme_conclusion

    fp = ctx.params.fit
    did = next((r for r in results.values() if r.kind == "did"), None)
    adj = next((r for r in results.values() if r.kind == "programme_adjusted"), None)
    if did is None or adj is None:
        return {}
    reversion = mean_reversion(
        prog_sample, outcome=did.outcome, treatment=fp.programme.treatment, weights=fp.design.weight
    )
    baseline = balance_safe.loc[balance_safe["covariate"] == f"{did.outcome}_w1", "status"]
    conclusion = (
        programme_conclusion(
            balance_safe, did, adj, reversion, outcome_covariate=f"{did.outcome}_w1"
        )
        if (baseline == "published").all()
        else "The baseline balance of the outcome is suppressed (disclosure control), so no "
        "conclusion on mean reversion is drawn; both estimates are in the table."
    )
    return {
        "mean_reversion": reversion,
        "did": did.effect,
        "adjusted": adj.effect,
        "method": fp.programme.method,
        "conclusion": conclusion,
    }


def _write_programme(
    ctx: _Context, prog: _Programme, fits: _Fitted, gated: _Gated
) -> dict[str, Any]:
    """Model 6: write ``balance.csv`` and ``programme.json``; return the balance's record."""
    fp = ctx.params.fit
    did_spec = next((s for s in fp.models if s.kind == "did"), None)
    prog_sample = prog.panel.query(did_spec.sample) if did_spec and did_spec.sample else prog.panel
    balance_safe, balance_record = _gated_balance(ctx, prog, prog_sample)
    write_csv(ctx.out / "balance.csv", balance_safe, digits=PUBLISHED_DIGITS)
    prog.info.update(
        balance_imbalanced=balance_safe.loc[
            balance_safe["imbalanced"].astype(bool) & (balance_safe["status"] == "published"),
            "covariate",
        ].tolist(),
        coverage=fits.coverage,
        notes=prog.notes,
    )
    prog.info.update(_programme_conclusion(ctx, prog_sample, balance_safe, gated.results))
    write_json(ctx.out / "programme.json", prog.info, digits=PUBLISHED_DIGITS)
    return balance_record


def _robustness_family(
    ctx: _Context, exposure: str, exposure_variants: list[ModelSpec], gated: _Gated
) -> tuple[pd.DataFrame, list[Any]]:
    """One exposure's robustness family: estimates of its published variants and the
    multiplicity-adjusted p-values; returns the rows and the published results.
    """
    from ctip_research.models.robustness import adjust_pvalues, romano_wolf

    fp = ctx.params.fit
    kept = [v for v in exposure_variants if v.name in gated.rob_fitted]
    fitted_kept = [gated.rob_fitted[v.name] for v in kept]
    family = pd.DataFrame(
        {
            "model": [v.name for v in exposure_variants],
            "exposure": exposure,
            "outcome": [v.outcome for v in exposure_variants],
        }
    )
    family["status"] = np.where(family["model"].isin(gated.published), "published", "suppressed")
    pub = family["status"] == "published"
    family.loc[pub, "estimate"] = [r.effect for r in fitted_kept]
    family.loc[pub, "std_error"] = [float(r.term()["std_error"]) for r in fitted_kept]
    family.loc[pub, "p_value"] = [float(r.term()["p_value"]) for r in fitted_kept]
    family.loc[pub, "n_obs"] = [float(r.n_obs) for r in fitted_kept]
    family.loc[pub, "df_resid"] = [float(r.df_resid) for r in fitted_kept]
    for method in fp.robustness.adjustments:
        col = "p_romano_wolf" if method == "romano_wolf" else f"p_{method}"
        family[col] = np.nan
        if not kept:
            continue
        if method == "romano_wolf":
            rw = romano_wolf(ctx.hw, kept, reps=fp.robustness.bootstrap_reps, seed=fp.seed)
            family.loc[pub, col] = rw["p_value_rw"].to_numpy()
        else:
            family.loc[pub, col] = adjust_pvalues(family.loc[pub, "p_value"].tolist(), method)
    return family, fitted_kept


def _write_robustness(
    ctx: _Context, variants: dict[str, list[ModelSpec]], gated: _Gated
) -> tuple[list[Any], dict[str, Any]]:
    """Model 7: write ``robustness.csv``; return the published results and the record."""
    rob_rows = []
    rob_results = []
    for exposure, exposure_variants in variants.items():
        family, fitted_kept = _robustness_family(ctx, exposure, exposure_variants, gated)
        rob_results += fitted_kept
        rob_rows.append(family)
    rob_cols = ["model", "exposure", "outcome", "estimate", "std_error", "p_value"]
    robustness = (
        pd.concat(rob_rows, ignore_index=True)
        if rob_rows
        else pd.DataFrame(columns=[*rob_cols, "n_obs", "df_resid", "status"])
    )
    robustness = robustness.loc[
        :, [*rob_cols, *[c for c in robustness.columns if c not in rob_cols]]
    ]
    rob_record = disclose(
        Regressions(robustness, "robustness", upstream=[gated.reg.record]), ctx.policy
    ).record
    write_csv(ctx.out / "robustness.csv", robustness, digits=PUBLISHED_DIGITS)
    return rob_results, rob_record


def _write_wild_bootstrap(ctx: _Context, gated: _Gated, suppressed: list[str]) -> dict[str, Any]:
    """Few clusters: write ``wild_bootstrap.csv``; return its record."""
    wild = _wild_bootstrap(ctx.params, ctx.hw, gated.published, suppressed)
    model_n = gated.table.groupby("model")[["n_obs", "df_resid"]].max()
    wild_record = disclose(
        Regressions(
            wild.assign(
                n_obs=wild["model"].map(model_n["n_obs"]),
                df_resid=wild["model"].map(model_n["df_resid"]),
                status="published",
            ),
            "wild_bootstrap",
            upstream=[gated.reg.record],
            model_columns=("model", "cluster"),
        ),
        ctx.policy,
    ).record
    write_csv(ctx.out / "wild_bootstrap.csv", wild, digits=PUBLISHED_DIGITS)
    return wild_record


def _write_estimates(
    ctx: _Context, desc: _Descriptive, gated: _Gated, rob_results: list[Any]
) -> pd.DataFrame:
    """Write ``estimates.csv``, ``descriptive.csv`` and ``results.json``; return the estimates."""
    d = ctx.params.fit.descriptive
    out = ctx.out
    estimates = pd.concat(
        [
            _descriptive_rows(
                desc.table,
                n_psu=desc.result.n_psu,
                design=desc.result.design,
                population=f"wave {d.wave}" if d.wave is not None else "all waves",
            ),
            gated.table,
        ],
        ignore_index=True,
    ).loc[:, PUBLISHED_ESTIMATE_COLUMNS]
    write_csv(out / "estimates.csv", estimates, digits=PUBLISHED_DIGITS)
    write_csv(out / "descriptive.csv", desc.table, digits=PUBLISHED_DIGITS)
    write_json(
        out / "results.json",
        {
            "models": [r.to_dict() for r in gated.results.values()],
            "robustness": [r.to_dict() for r in rob_results],
            "descriptive": {
                "model": "descriptive",
                "design": desc.result.design,
                "n_psu": desc.result.n_psu,
                "table": desc.table.to_dict(orient="list"),
            },
            "suppressed": gated.reg.record["suppressed"],
        },
        digits=PUBLISHED_DIGITS,
    )
    return estimates


def _table_groups(
    ctx: _Context, results: dict[str, Any], rob_results: list[Any]
) -> dict[str, tuple[str, list[Any]]]:
    """The regression tables: name -> (caption, the results it shows)."""
    from ctip_research.models.fitting import PANEL_KINDS

    rb = ctx.params.fit.robustness
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
    return groups


def _write_tables(ctx: _Context, gated: _Gated, rob_results: list[Any]) -> None:
    """Write every regression table in every format, each with its check record."""
    from ctip_research.models.tables import regression_table, render_table

    out = ctx.out
    for name, (caption, members) in _table_groups(ctx, gated.results, rob_results).items():
        if not members:
            continue
        rows = gated.table[gated.table["model"].isin([r.model for r in members])]
        record = disclose(
            Regressions(rows, f"tables/{name}", upstream=[gated.reg.record]), ctx.policy
        ).record
        table = regression_table(members, caption=caption, label=f"tab_{name}")
        files = [
            write_bytes(out / "tables" / f"{name}.{fmt}", render_table(table, fmt))
            for fmt in ctx.params.fit.table_formats
        ]
        write_record(out / "tables", name, record, files)


def _headline_metrics(models: list[ModelSpec], results: dict[str, Any]) -> dict[str, Any]:
    """The headline models' estimates and intervals, rounded for ``metrics.json``."""
    headline = {}
    for spec in models:
        hres = results.get(spec.name)
        if spec.headline and hres is not None:
            t = hres.term()
            headline[spec.name] = {
                "estimate": round(float(t["estimate"]), 6),
                "std_error": round(float(t["std_error"]), 6),
                "conf_low": round(float(t["conf_low"]), 6),
                "conf_high": round(float(t["conf_high"]), 6),
            }
    return headline


def _iv_diagnostics(results: dict[str, Any]) -> dict[str, Any]:
    """The instrument diagnostics of every IV model, for ``metrics.json``."""
    return {
        name: {
            "first_stage_f": round(r.stats["first_stage_f"], 3),
            "effective_f": round(r.stats["effective_f"], 3),
            "ar_low": r.stats["ar_low"],
            "ar_high": r.stats["ar_high"],
        }
        for name, r in results.items()
        if r.kind == "iv"
    }


def _sample_metrics(ctx: _Context) -> dict[str, Any]:
    """The sample behind the estimates: waves, households per wave, PSUs and provinces."""
    hw = ctx.hw
    psu = ctx.params.fit.design.psu
    waves = sorted(int(w) for w in hw["wave"].dropna().unique())
    return {
        "waves": waves,
        "n_households": {str(w): int((hw["wave"] == w).sum()) for w in waves},
        "n_psu": int(hw[psu].nunique()) if psu else None,
        "n_provinces": int(hw["province_code"].nunique()) if "province_code" in hw else None,
    }


def _write_metrics(
    ctx: _Context,
    gated: _Gated,
    estimates: pd.DataFrame,
    suppressed: list[str],
    not_estimated: list[str],
    notes: list[str],
) -> None:
    """Write ``metrics.json``: headline estimates, IV diagnostics, the sample, what is missing."""
    write_json(
        ctx.out / "metrics.json",
        {
            "headline": _headline_metrics(ctx.params.fit.models, gated.results),
            "iv": _iv_diagnostics(gated.results),
            "n_models": len(gated.results),
            "n_estimates": len(estimates),
            "conf_level": ctx.conf_level,
            "sample": _sample_metrics(ctx),
            "suppressed": suppressed,
            "not_estimated": not_estimated,
            "notes": notes,
        },
        digits=PUBLISHED_DIGITS,
    )


def _write_records(
    ctx: _Context,
    desc_record: dict[str, Any],
    reg_record: dict[str, Any],
    balance_record: dict[str, Any],
    rob_record: dict[str, Any],
    wild_record: dict[str, Any],
) -> None:
    """Write the check record of every output file."""
    out, policy = ctx.out, ctx.policy
    write_record(
        out,
        "estimates",
        combine_records("estimates.csv", [desc_record, reg_record], policy),
        [out / "estimates.csv"],
    )
    write_record(out, "descriptive", desc_record, [out / "descriptive.csv"])
    write_record(
        out,
        "results",
        combine_records("results.json and metrics.json", [desc_record, reg_record], policy),
        [out / "results.json", out / "metrics.json"],
    )
    write_record(
        out,
        "programme",
        combine_records("balance.csv and programme.json", [balance_record, reg_record], policy),
        [out / "balance.csv", out / "programme.json"],
    )
    write_record(out, "robustness", rob_record, [out / "robustness.csv"])
    write_record(out, "wild_bootstrap", wild_record, [out / "wild_bootstrap.csv"])


def run_fit(params: Params) -> None:
    """Fit every model of ``params.fit`` and write estimates, tables and metrics, behind the
    disclosure authority (see the module docstring).
    """
    require_upstream("features", params.paths, consumer="fit")
    ctx = _context(params)
    suppressed: list[str] = []
    desc = _fit_descriptive(ctx, suppressed)
    prog = _programme(ctx)
    fits = _fit_models(ctx, prog)
    variants, rob_fitted = _fit_robustness(ctx, fits)
    gated = _gate_regressions(ctx, fits, rob_fitted, suppressed)
    balance_record = _write_programme(ctx, prog, fits, gated)
    rob_results, rob_record = _write_robustness(ctx, variants, gated)
    wild_record = _write_wild_bootstrap(ctx, gated, suppressed)
    estimates = _write_estimates(ctx, desc, gated, rob_results)
    _write_tables(ctx, gated, rob_results)
    _write_metrics(ctx, gated, estimates, suppressed, fits.not_estimated, prog.notes)
    _write_records(ctx, desc.record, gated.reg.record, balance_record, rob_record, wild_record)
    log.info(
        "fit: %d models published (%d suppressed), %d estimates written to %s",
        len(gated.results),
        len(fits.fitted) - len(gated.results),
        len(estimates),
        ctx.out,
    )
