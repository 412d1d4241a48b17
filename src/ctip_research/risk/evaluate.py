"""Survey-aware evaluation of a risk-screening classifier.

What a survey statistician expects from a classification evaluation, and what scikit-learn does not
do by default (its cross-validation scoring ignores sample weights, scikit-learn GitHub issues/4632):

* **Folds grouped by PSU** (villages never split; PSU ids nested within strata), stratified by the
  outcome where possible (:func:`make_psu_folds`), seeded.
* **Weighted metrics**: every metric estimates the population quantity, with the survey weights in
  the fit *and* in the scoring: ROC-AUC (weighted Mann-Whitney), PR-AUC (weighted average
  precision, as sklearn's ``average_precision_score(sample_weight=...)``), Brier score, a
  reliability curve and a targeting curve (share of the population's risky-migration households
  reached when the top ``k`` of households by score are served, against ``k`` for random targeting).
* **Intervals** from a Rao-Wu (rescaling) bootstrap of PSUs within strata (``n_h - 1`` PSUs drawn
  with replacement per stratum, weights rescaled by ``n_h / (n_h - 1)`` times the multiplicity), run
  with joblib (threads: numpy releases the GIL, no process start-up) or on a Dask cluster
  (:mod:`ctip_research.parallel`); each replicate has its own seed, so the result does not
  depend on the number of workers nor on where they run. The intervals are conditional on the fitted fold models (the evaluation sample varies,
  the models are not refitted). The targeting curve gets a pointwise percentile band from the same
  replicates (each replicate's curve on the out-of-fold scores with the replicate's weights).
* **Permutation importance** on the out-of-fold predictions (drop in weighted ROC-AUC).
* **Subgroups** (e.g. province, female-headed households): every metric also per cell. Which
  cells, reliability bins and targeting points may be published is decided by the disclosure
  authority (:func:`ctip_research.disclosure.disclose`): enough households, risky households
  (numerator) and non-risky households (complement) behind each, reliability cut-offs, and
  secondary suppression so that a suppressed cell cannot be recovered from its subgroup and the
  overall cell (or a bin from the other bins of its curve). The check records are kept in
  :attr:`RiskEvaluation.records`.

Nothing here returns an individual score in a published form: the result object holds aggregates
only (the out-of-fold scores stay in memory in :class:`CrossValidation`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.disclosure import Cells, DisclosurePolicy, disclose
from ctip_research.parallel import DISTRIBUTED_CHUNKS, is_local, map_tasks
from ctip_research.risk.bootstrap import _PsuDesign
from ctip_research.risk.folds import CrossValidation
from ctip_research.risk.importance import permutation_importance_weighted
from ctip_research.risk.metrics import (
    METRICS,
    _arrays,
    _rank_levels,
    _Ranked,
    reliability_curve,
    targeting_curve,
)

__all__ = ["RiskEvaluation", "evaluate_classifier"]

FloatArray = np.ndarray


def _metric_set(
    ranked: _Ranked,
    inv: np.ndarray,
    y: FloatArray,
    s: FloatArray,
    w: FloatArray,
    *,
    top_share: float,
    overall_frac: FloatArray,
) -> dict[str, float]:
    tot_w = w.sum()
    tot_p = np.sum(w * y)
    frac = ranked.level_fraction(top_share)[inv]
    served = np.sum(frac * w)
    reached = np.sum(frac * w * y)
    nan = float("nan")
    out = {
        "roc_auc": ranked.roc_auc(),
        "pr_auc": ranked.average_precision(),
        "brier": float(np.sum(w * (s - y) ** 2) / tot_w) if tot_w > 0 else nan,
        "prevalence": float(tot_p / tot_w) if tot_w > 0 else nan,
        "mean_predicted": float(np.sum(w * s) / tot_w) if tot_w > 0 else nan,
        "top_share_reached": float(reached / tot_p) if tot_p > 0 else nan,
        "top_share_precision": float(reached / served) if served > 0 else nan,
        "top_share_reached_overall_rule": float(np.sum(overall_frac * w * y) / tot_p)
        if tot_p > 0
        else nan,
    }
    out["top_share_lift"] = out["top_share_reached"] / top_share
    return out


def _natural_key(label: str) -> tuple[int, float, str]:
    """Sort numbers numerically (province codes 1, 2, ..., 18), then other labels."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


@dataclass(frozen=True)
class _Cells:
    """Positional index of each subgroup cell, with ``("overall", "all")`` first."""

    keys: list[tuple[str, str]]
    index: list[np.ndarray]

    @classmethod
    def build(cls, subgroups: pd.DataFrame | None, n: int) -> _Cells:
        keys: list[tuple[str, str]] = [("overall", "all")]
        index: list[np.ndarray] = [np.arange(n)]
        if subgroups is not None:
            for col in subgroups.columns:
                labels = subgroups[col].astype("string").fillna("missing").to_numpy()
                for value in sorted(set(labels.tolist()), key=_natural_key):
                    keys.append((str(col), str(value)))
                    index.append(np.flatnonzero(labels == value))
        return cls(keys, index)


def _all_cell_metrics(
    cells: _Cells,
    inv: np.ndarray,
    n_levels: int,
    y: FloatArray,
    s: FloatArray,
    w: FloatArray,
    *,
    top_share: float,
    shares: FloatArray,
) -> tuple[np.ndarray, np.ndarray]:
    """Matrices (cells x METRICS) of metric values and (cells x shares) of the targeting curve
    (share reached) for one weight vector.
    """
    overall = _Ranked.build(inv, n_levels, y, w)
    overall_frac = overall.level_fraction(top_share)[inv]
    out = np.full((len(cells.keys), len(METRICS)), np.nan)
    curves = np.full((len(cells.keys), shares.size), np.nan)
    for c, idx in enumerate(cells.index):
        ranked = _Ranked.build(inv[idx], n_levels, y[idx], w[idx])
        curves[c] = ranked.reached_curve(shares)
        values = _metric_set(
            ranked,
            inv[idx],
            y[idx],
            s[idx],
            w[idx],
            top_share=top_share,
            overall_frac=overall_frac[idx],
        )
        out[c] = [values[m] for m in METRICS]
    return out, curves


def _bootstrap_chunk(
    seeds: Sequence[np.random.SeedSequence],
    design: _PsuDesign,
    cells: _Cells,
    inv: np.ndarray,
    n_levels: int,
    y: FloatArray,
    s: FloatArray,
    w: FloatArray,
    top_share: float,
    shares: FloatArray,
) -> tuple[np.ndarray, np.ndarray]:
    """Metrics and targeting curves of the replicates of ``seeds`` (stacked on axis 0)."""
    reps, curves = [], []
    for seed in seeds:
        factors = design.factors(seed)
        metrics, curve = _all_cell_metrics(
            cells, inv, n_levels, y, s, w * factors, top_share=top_share, shares=shares
        )
        reps.append(metrics)
        curves.append(curve)
    return np.stack(reps), np.stack(curves)


def _gate(
    table: pd.DataFrame,
    policy: DisclosurePolicy,
    *,
    name: str,
    n_numerator: str,
    n_denominator: str,
    dims: Sequence[str],
    lines: list[list[int]],
) -> tuple[np.ndarray, dict[str, Any]]:
    """Ask the disclosure authority which rows of ``table`` are suppressed (shares
    ``n_numerator / n_denominator``); return the mask and the check record.
    """
    num = table[n_numerator].to_numpy(dtype=float)
    den = table[n_denominator].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = num / den
    cells = table[list(dims)].astype(str).reset_index(drop=True)
    cells = cells.assign(estimate=share, kind="share", n_numerator=num, n_denominator=den)
    out = disclose(Cells(cells, name, dims=dims, total_label="all", lines=lines), policy)
    assert out.table is not None
    return (out.table["status"] == "suppressed").to_numpy(), out.record


def _group_lines(frame: pd.DataFrame, *, by: Sequence[str], with_overall: bool) -> list[list[int]]:
    """Positional rows of each ``by`` group (one additive line each), plus the overall row."""
    is_overall = (frame["subgroup"] == "overall").to_numpy()
    overall = np.flatnonzero(is_overall).tolist() if with_overall else []
    keys = frame[list(by)].astype(str).agg("|".join, axis=1).to_numpy()
    lines = []
    for key in dict.fromkeys(keys.tolist()):
        rows = np.flatnonzero((keys == key) & ~(is_overall if with_overall else False))
        if rows.size:
            lines.append([*rows.tolist(), *overall])
    return lines


@dataclass
class RiskEvaluation:
    """Aggregate evaluation of a risk-screening classifier (publishable after suppression).

    Attributes
    ----------
    classifier
        Model family.
    design
        Counts of the evaluation sample: households, PSUs, strata, folds, bootstrap replicates.
    cells
        One row per (subgroup, group) cell: ``n_households``, ``is_suppressed`` and, for cells not
        suppressed, every metric of :data:`METRICS` with ``_low``/``_high``/``_se`` columns.
        Suppressed cells hold ``NaN`` metrics. ``n_positive``/``n_negative`` are kept for the
        checks but not published.
    reliability
        Reliability bins (overall and by subgroup) with ``is_suppressed``.
    targeting
        Targeting curves (overall and by subgroup) with ``is_suppressed`` and a pointwise
        percentile band of ``share_reached`` (``conf_low``, ``conf_high``) from the same PSU
        bootstrap replicates as the metrics' intervals; blank where the point is suppressed.
    importance
        Permutation importance (overall and by subgroup; suppressed cells dropped).
    settings
        Top share, interval level, minimum cell size.
    records
        The disclosure authority's check records of the subgroup cells, the reliability bins and
        the targeting points.
    """

    classifier: str
    design: dict[str, int]
    cells: pd.DataFrame
    reliability: pd.DataFrame
    targeting: pd.DataFrame
    importance: pd.DataFrame
    settings: dict[str, float] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        """Long table: ``subgroup, group, metric, estimate, std_error, conf_low, conf_high,
        n_households, is_suppressed``.
        """
        rows = []
        for _, cell in self.cells.iterrows():
            for m in METRICS:
                rows.append(
                    {
                        "subgroup": cell["subgroup"],
                        "group": cell["group"],
                        "metric": m,
                        "estimate": cell[m],
                        "std_error": cell[f"{m}_se"],
                        "conf_low": cell[f"{m}_low"],
                        "conf_high": cell[f"{m}_high"],
                        "n_households": cell["n_households"],
                        "is_suppressed": bool(cell["is_suppressed"]),
                    }
                )
        return pd.DataFrame(rows)

    def glance(self) -> pd.DataFrame:
        """One row: classifier, sample counts and the overall headline metrics."""
        overall = self.cells.iloc[0]
        row: dict[str, Any] = {"classifier": self.classifier, **self.design}
        for m in ("roc_auc", "pr_auc", "brier", "prevalence", "top_share_reached"):
            row[m] = overall[m]
        return pd.DataFrame([row])

    def to_dict(
        self, *, metrics: Sequence[str] = METRICS, intervals: bool = True, digits: int = 6
    ) -> dict[str, Any]:
        """Nested, JSON-ready summary of ``metrics`` with their intervals (rounded; suppressed
        cells say so instead of a number).
        """

        def num(x: Any) -> float | None:
            return None if pd.isna(x) else round(float(x), digits)

        by: dict[str, Any] = {}
        overall: dict[str, Any] = {}
        for _, cell in self.cells.iterrows():
            if cell["is_suppressed"]:
                entry: dict[str, Any] = {
                    "suppressed": (
                        f"fewer than {int(self.settings['min_cell_count'])} households, "
                        "positives or negatives, too few households for a reliable estimate, "
                        "or secondary suppression"
                    )
                }
            else:
                entry = {"n_households": int(cell["n_households"])}
                for m in metrics:
                    entry[m] = num(cell[m])
                    if intervals:
                        entry[f"{m}_low"] = num(cell[f"{m}_low"])
                        entry[f"{m}_high"] = num(cell[f"{m}_high"])
            if cell["subgroup"] == "overall":
                overall = entry
            else:
                by.setdefault(str(cell["subgroup"]), {})[str(cell["group"])] = entry
        return {
            "classifier": self.classifier,
            "design": dict(self.design),
            "settings": {k: num(v) for k, v in self.settings.items()},
            "overall": overall,
            "by_subgroup": by,
        }


def _subgroup_curves(
    cells: _Cells,
    y: FloatArray,
    s: FloatArray,
    w: FloatArray,
    *,
    shares: Sequence[float],
    n_bins: int,
    n_bins_subgroup: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rel_parts, tgt_parts = [], []
    for (sub, grp), idx in zip(cells.keys, cells.index, strict=True):
        bins = n_bins if sub == "overall" else n_bins_subgroup
        rel = reliability_curve(y[idx], s[idx], w[idx], n_bins=bins)
        rel.insert(0, "group", grp)
        rel.insert(0, "subgroup", sub)
        rel_parts.append(rel)
        tgt = targeting_curve(y[idx], s[idx], w[idx], shares=shares)
        tgt.insert(0, "group", grp)
        tgt.insert(0, "subgroup", sub)
        tgt["n_positive"] = int(y[idx].sum())
        tgt_parts.append(tgt)
    return pd.concat(rel_parts, ignore_index=True), pd.concat(tgt_parts, ignore_index=True)


def _gate_curves(
    reliability: pd.DataFrame, targeting: pd.DataFrame, policy: DisclosurePolicy
) -> dict[str, dict[str, Any]]:
    """Suppress reliability bins and targeting points behind the authority (in place)."""
    rel_sup, rel_rec = _gate(
        reliability,
        policy,
        name="risk: reliability bins",
        n_numerator="n_positive",
        n_denominator="n_households",
        dims=["subgroup", "group", "bin"],
        lines=_group_lines(reliability, by=["subgroup", "group"], with_overall=False),
    )
    reliability["is_suppressed"] = rel_sup
    reliability.loc[rel_sup, ["mean_predicted", "observed_rate"]] = np.nan
    # a curve point is two shares: of the risky households reached, and of the served who are
    # risky (precision); cumulative points are not additive, so there is no secondary line
    reach_sup, reach_rec = _gate(
        targeting,
        policy,
        name="risk: targeting points, share reached",
        n_numerator="n_reached",
        n_denominator="n_positive",
        dims=["subgroup", "group", "share_served"],
        lines=[],
    )
    prec_sup, prec_rec = _gate(
        targeting,
        policy,
        name="risk: targeting points, precision",
        n_numerator="n_reached",
        n_denominator="n_served",
        dims=["subgroup", "group", "share_served"],
        lines=[],
    )
    targeting["is_suppressed"] = reach_sup | prec_sup
    targeting.loc[
        targeting["is_suppressed"], ["share_reached", "share_reached_perfect", "precision"]
    ] = np.nan
    return {"reliability": rel_rec, "targeting_reached": reach_rec, "targeting_precision": prec_rec}


def evaluate_classifier(
    cv: CrossValidation,
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray,
    weight: Sequence[float] | np.ndarray,
    *,
    psu: Sequence[Any] | pd.Series,
    stratum: Sequence[Any] | pd.Series,
    subgroups: pd.DataFrame | None,
    classifier: str,
    top_share: float,
    shares: Sequence[float],
    n_bins: int,
    n_bins_subgroup: int,
    n_bootstrap: int,
    ci_level: float,
    policy: DisclosurePolicy | None = None,
    seed: int,
    n_permutation_repeats: int,
    n_jobs: int = 1,
    scheduler: str | None = "local",
) -> RiskEvaluation:
    """Evaluate out-of-fold risk scores as a survey statistician would.

    Parameters
    ----------
    cv
        Out-of-fold scores and fold models (:func:`cross_validate_weighted`).
    X, y, weight
        Design matrix, binary outcome and survey weights, in the row order of ``cv``.
    psu, stratum
        Design columns (PSU ids nested within strata) for the Rao-Wu bootstrap.
    subgroups
        Columns defining subgroup cells (e.g. province, female head), or ``None``.
    top_share
        Headline share served (e.g. 0.2).
    shares
        Grid of the targeting curve.
    n_bins, n_bins_subgroup
        Reliability bins overall and per subgroup cell.
    n_bootstrap, ci_level
        Bootstrap replicates and percentile-interval level (metrics and the targeting band).
    policy
        The disclosure policy (thresholds; default: the documented values) the cells, bins and
        curve points are gated by.
    seed
        Seed of the bootstrap and of the permutations.
    n_permutation_repeats
        Repeats of permutation importance (0 skips it).
    n_jobs
        joblib workers for the bootstrap (the result does not depend on it).
    scheduler
        Where the bootstrap runs: ``"local"`` (joblib threads, ``n_jobs`` of them) or the address
        of a Dask scheduler (:mod:`ctip_research.parallel`; ``None`` reads ``$CTIP_SCHEDULER``).
        The result does not depend on it.

    Returns
    -------
    RiskEvaluation

    Examples
    --------
    See ``tests/unit/test_risk_evaluate.py`` and :func:`ctip_research.stages.risk.run_risk`.
    """
    scored = _Scored.build(cv, y, weight, subgroups)
    design = _psu_design(psu, stratum)
    share_arr = np.asarray(shares, dtype=np.float64)
    point = _point_metrics(scored, top_share, share_arr)
    band = _bootstrap_intervals(
        scored,
        design,
        top_share=top_share,
        shares=share_arr,
        seed=seed,
        n_bootstrap=n_bootstrap,
        ci_level=ci_level,
        n_jobs=n_jobs,
        scheduler=scheduler,
    )
    policy = policy or DisclosurePolicy()
    counts, table, cells_record = _cell_table(scored, point, band, policy)
    curves = _gated_curves(
        scored, counts, band, policy, shares=shares, n_bins=n_bins, n_bins_subgroup=n_bins_subgroup
    )
    importance = _cell_importance(
        cv, X, scored, curves.suppressed_keys, n_repeats=n_permutation_repeats, seed=seed
    )
    return RiskEvaluation(
        classifier=classifier,
        design=_design_counts(scored.y, design, cv, n_bootstrap),
        cells=table,
        reliability=curves.reliability,
        targeting=curves.targeting,
        importance=importance,
        settings=_settings(top_share, ci_level, policy),
        records={"subgroup_cells": cells_record, **curves.records},
    )


@dataclass(frozen=True)
class _Scored:
    """Subgroup cells, score ranks, outcome, scores and weights passed between the steps."""

    cells: _Cells
    inv: np.ndarray
    n_levels: int
    y: np.ndarray
    s: np.ndarray
    w: np.ndarray

    @classmethod
    def build(
        cls,
        cv: CrossValidation,
        y: Sequence[int] | np.ndarray,
        weight: Sequence[float] | np.ndarray,
        subgroups: pd.DataFrame | None,
    ) -> _Scored:
        """Check the arrays and index the subgroup cells and the score ranks."""
        y_arr = np.asarray(y, dtype=np.float64)
        w_arr = np.asarray(weight, dtype=np.float64)
        s_arr = cv.scores
        _arrays(y_arr, s_arr, w_arr)
        cells = _Cells.build(
            None if subgroups is None else subgroups.reset_index(drop=True), y_arr.size
        )
        inv, n_levels = _rank_levels(s_arr)
        return cls(cells, inv, n_levels, y_arr, s_arr, w_arr)


def _settings(top_share: float, ci_level: float, policy: DisclosurePolicy) -> dict[str, float]:
    """The evaluation's headline share, interval level and minimum cell count."""
    return {
        "top_share": float(top_share),
        "ci_level": float(ci_level),
        "min_cell_count": float(policy.min_cell_count),
    }


def _psu_design(psu: Sequence[Any] | pd.Series, stratum: Sequence[Any] | pd.Series) -> _PsuDesign:
    """The PSU and stratum keys of each household for the Rao-Wu bootstrap."""
    psu_arr = pd.Series(psu).to_numpy()
    stratum_arr = pd.Series(stratum).to_numpy()
    return _PsuDesign.build(pd.Series(psu_arr), pd.Series(stratum_arr))


def _point_metrics(scored: _Scored, top_share: float, share_arr: np.ndarray) -> np.ndarray:
    """The metrics of every cell on the full sample (no targeting curve)."""
    sc = scored
    point, _ = _all_cell_metrics(
        sc.cells, sc.inv, sc.n_levels, sc.y, sc.s, sc.w, top_share=top_share, shares=share_arr[:0]
    )
    return point


@dataclass(frozen=True)
class _Curves:
    """Gated reliability and targeting curves, their check records and the suppressed cells."""

    reliability: pd.DataFrame
    targeting: pd.DataFrame
    records: dict[str, dict[str, Any]]
    suppressed_keys: set[tuple[Any, Any]]


def _gated_curves(
    scored: _Scored,
    counts: pd.DataFrame,
    band: _Band,
    policy: DisclosurePolicy,
    *,
    shares: Sequence[float],
    n_bins: int,
    n_bins_subgroup: int,
) -> _Curves:
    """Reliability and targeting curves per cell, gated, blanked where a cell is suppressed."""
    reliability, targeting = _subgroup_curves(
        scored.cells,
        scored.y,
        scored.s,
        scored.w,
        shares=shares,
        n_bins=n_bins,
        n_bins_subgroup=n_bins_subgroup,
    )
    records = _gate_curves(reliability, targeting, policy)
    targeting = targeting.drop(columns=["n_positive"])
    suppressed_keys = {(r.subgroup, r.group) for r in counts.itertuples() if bool(r.is_suppressed)}
    _blank_suppressed_cells(reliability, targeting, suppressed_keys)
    _insert_targeting_band(targeting, band)
    return _Curves(reliability, targeting, records, suppressed_keys)


@dataclass(frozen=True)
class _Band:
    """Bootstrap intervals and standard errors of the cell metrics and the targeting curve."""

    low: np.ndarray
    high: np.ndarray
    se: np.ndarray
    curve_low: np.ndarray
    curve_high: np.ndarray


def _bootstrap_intervals(
    scored: _Scored,
    design: _PsuDesign,
    *,
    top_share: float,
    shares: np.ndarray,
    seed: int,
    n_bootstrap: int,
    ci_level: float,
    n_jobs: int,
    scheduler: str | None,
) -> _Band:
    """Run the Rao-Wu bootstrap in chunks and take percentile intervals of its replicates."""
    sc = scored
    seed_seq = np.random.SeedSequence([seed, 1])
    boot_seeds = seed_seq.spawn(n_bootstrap)
    local = is_local(scheduler)
    n_chunks = max(1, min(n_jobs if local else DISTRIBUTED_CHUNKS, n_bootstrap))
    chunks = [boot_seeds[i::n_chunks] for i in range(n_chunks)]
    results = map_tasks(
        _bootstrap_chunk,
        [
            (chunk, design, sc.cells, sc.inv, sc.n_levels, sc.y, sc.s, sc.w, top_share, shares)
            for chunk in chunks
        ],
        scheduler=scheduler,
        n_jobs=n_jobs,
        prefer="threads",
        description="risk bootstrap",
        progress=not local,
    )
    # restore replicate order (chunk i holds replicates i, i + n_chunks, ...)
    reps = np.empty((n_bootstrap, len(sc.cells.keys), len(METRICS)))
    curve_reps = np.empty((n_bootstrap, len(sc.cells.keys), shares.size))
    for i, (res, curve_res) in enumerate(results):
        reps[i::n_chunks] = res
        curve_reps[i::n_chunks] = curve_res
    alpha = (1.0 - ci_level) / 2.0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # a cell without positives in every replicate has an all-NaN slice: its interval is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanquantile(reps, alpha, axis=0)
        high = np.nanquantile(reps, 1.0 - alpha, axis=0)
        se = np.nanstd(reps, axis=0, ddof=1)
        curve_low = np.nanquantile(curve_reps, alpha, axis=0)
        curve_high = np.nanquantile(curve_reps, 1.0 - alpha, axis=0)
    return _Band(low, high, se, curve_low, curve_high)


def _cell_table(
    scored: _Scored, point: np.ndarray, band: _Band, policy: DisclosurePolicy
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Gate the subgroup cells; return their counts, the metrics table and the gate's record."""
    cells, y_arr = scored.cells, scored.y
    counts = pd.DataFrame(
        {
            "subgroup": [k[0] for k in cells.keys],
            "group": [k[1] for k in cells.keys],
            "n_households": [int(i.size) for i in cells.index],
            "n_positive": [int(y_arr[i].sum()) for i in cells.index],
            "n_negative": [int(i.size - y_arr[i].sum()) for i in cells.index],
        }
    )
    cell_sup, cells_record = _gate(
        counts,
        policy,
        name="risk: subgroup cells",
        n_numerator="n_positive",
        n_denominator="n_households",
        dims=["subgroup", "group"],
        lines=_group_lines(counts, by=["subgroup"], with_overall=True),
    )
    counts["is_suppressed"] = cell_sup
    table = counts.copy()
    metric_cols: list[str] = []
    for j, m in enumerate(METRICS):
        for col, values in (
            (m, point),
            (f"{m}_low", band.low),
            (f"{m}_high", band.high),
            (f"{m}_se", band.se),
        ):
            table[col] = values[:, j]
            metric_cols.append(col)
    table.loc[table["is_suppressed"], metric_cols] = np.nan
    return counts, table, cells_record


def _blank_suppressed_cells(
    reliability: pd.DataFrame, targeting: pd.DataFrame, suppressed_keys: set[tuple[Any, Any]]
) -> None:
    """Mark the curves of suppressed cells suppressed and blank their values (in place)."""
    curve_values = {
        "reliability": ["mean_predicted", "observed_rate"],
        "targeting": ["share_reached", "share_reached_perfect", "precision"],
    }
    for kind, frame in (("reliability", reliability), ("targeting", targeting)):
        mask = [
            (a, b) in suppressed_keys
            for a, b in zip(frame["subgroup"], frame["group"], strict=True)
        ]
        frame.loc[mask, "is_suppressed"] = True
        # a suppressed cell (also a complementary one) shows no curve value
        frame.loc[frame["is_suppressed"], curve_values[kind]] = np.nan


def _insert_targeting_band(targeting: pd.DataFrame, band: _Band) -> None:
    """Insert the pointwise percentile band after ``share_reached`` (in place)."""
    # rows: cells in order, then shares
    pos = list(targeting.columns).index("share_reached") + 1
    targeting.insert(pos, "conf_low", band.curve_low.ravel())
    targeting.insert(pos + 1, "conf_high", band.curve_high.ravel())
    targeting.loc[targeting["is_suppressed"], ["conf_low", "conf_high"]] = np.nan


def _cell_importance(
    cv: CrossValidation,
    X: pd.DataFrame,
    scored: _Scored,
    suppressed_keys: set[tuple[Any, Any]],
    *,
    n_repeats: int,
    seed: int,
) -> pd.DataFrame:
    """Permutation importance per published cell (an empty table when ``n_repeats`` is 0)."""
    if n_repeats <= 0:
        return pd.DataFrame(
            columns=["subgroup", "group", "feature", "importance_mean", "importance_sd"]
        )
    cells = scored.cells
    cell_map = {
        k: i for k, i in zip(cells.keys, cells.index, strict=True) if k not in suppressed_keys
    }
    return permutation_importance_weighted(
        cv, X, scored.y, scored.w, n_repeats=n_repeats, seed=seed, cells=cell_map
    )


def _design_counts(
    y_arr: np.ndarray, design: _PsuDesign, cv: CrossValidation, n_bootstrap: int
) -> dict[str, int]:
    """Households, PSUs, strata, folds and replicates of the evaluation."""
    return {
        "n_households": int(y_arr.size),
        "n_psu": design.n_psu,
        "n_strata": len(design.strata),
        "n_single_psu_strata": sum(1 for p in design.strata if p.size < 2),
        "n_folds": len(cv.folds),
        "n_bootstrap": int(n_bootstrap),
    }
