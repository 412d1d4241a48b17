"""``ctip risk``: train and evaluate the risk-screening classifier.

Reads ``<processed>/analysis/panel.parquet`` (households in both waves; wave-1 features as
``<name>_w1``, the wave-2 outcome as ``<name>_w2``). Writes ``<processed>/risk/``:

* ``metrics.json``: headline metrics with bootstrap intervals, overall and by subgroup (DVC metrics);
* ``subgroup_metrics.csv``: every metric, tidy (``subgroup, group, metric, estimate, std_error,
  conf_low, conf_high, n_households, is_suppressed``);
* ``targeting.csv`` / ``reliability.csv``: the overall curves (DVC plots); the targeting curve
  carries ``conf_low`` / ``conf_high``, a pointwise percentile band of ``share_reached`` at
  ``risk.ci_level`` from the same ``risk.n_bootstrap`` village-bootstrap replicates as the
  metrics' intervals (blank where a point is suppressed);
* ``targeting_by_subgroup.csv`` / ``reliability_by_subgroup.csv``: the same by subgroup;
* ``importance.csv``: permutation importance, overall and by subgroup;
* ``model_card.md``: the model card;
* ``disclosure.json``: the check record of the outputs above (the disclosure authority's records
  of the gated cells, bins and curve points, and of every published frame), listing each file
  with its sha256.

No individual risk score is written to ``<processed>``. With ``risk.save_model`` the model refitted
on all households is saved to ``<interim>/risk/model.joblib`` (not published).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.config import Params, params_hash
from ctip_research.config.risk import RiskParams
from ctip_research.disclosure import Aggregates, Curve, DisclosurePolicy, disclose
from ctip_research.errors import InputFileError
from ctip_research.identity import read_identity, source_label
from ctip_research.io import (
    CURVE_DIGITS,
    PUBLISHED_DIGITS,
    write_csv,
    write_json,
    write_text,
    write_with,
)
from ctip_research.literals import PROVINCES, ClassifierKind
from ctip_research.log import get_logger
from ctip_research.risk.classifier import (
    ClassifierSpec,
    build_classifier,
    fit_classifier,
    make_design_matrix,
    round_fitted,
)
from ctip_research.risk.evaluate import RiskEvaluation, evaluate_classifier
from ctip_research.risk.folds import cross_validate_weighted, make_psu_folds
from ctip_research.risk.metrics import HEADLINE_METRICS, SUBGROUP_METRICS
from ctip_research.risk.model_card import ModelCardInfo, render_model_card
from ctip_research.runs import require_upstream
from ctip_research.stages._publish import combine_records, write_record

__all__ = ["classifier_spec", "run_risk", "targeting_grid"]

log = get_logger("risk")

OUTCOME_DEFINITION = (
    "at wave 2 the household has a current migration episode that is irregular, or used an "
    "informal broker, or shows at least one of the seven ILO forced-labour indicators "
    "(docs/features.md)."
)


def classifier_spec(rp: RiskParams, kind: ClassifierKind) -> ClassifierSpec:
    """The :class:`ClassifierSpec` of model ``kind`` under the ``risk`` params."""
    if kind == "logistic":
        hyper: dict[str, float | int] = {"C": rp.logistic.c, "max_iter": rp.logistic.max_iter}
    else:
        gb = rp.gradient_boosting
        hyper = {
            "learning_rate": gb.learning_rate,
            "max_iter": gb.max_iter,
            "max_leaf_nodes": gb.max_leaf_nodes,
            "min_samples_leaf": gb.min_samples_leaf,
            "l2_regularization": gb.l2_regularization,
        }
    return ClassifierSpec(
        kind=kind,
        numeric=tuple(rp.features),
        categorical=tuple(rp.categorical_features),
        log=tuple(rp.log_features),
        hyper=hyper,
        seed=rp.seed,
    )


def targeting_grid(step: float, top_share: float) -> list[float]:
    """Shares served on the targeting curve: multiples of ``step`` up to 1, plus ``top_share``."""
    n = int(round(1.0 / step))
    grid = {round(min(1.0, i * step), 10) for i in range(1, n + 1)} | {1.0, round(top_share, 10)}
    return sorted(grid)


def _check_columns(panel: pd.DataFrame, rp: RiskParams, path: object) -> None:
    needed = [
        rp.outcome,
        rp.weight,
        rp.psu,
        rp.stratum,
        *rp.features,
        *rp.categorical_features,
        *rp.subgroups,
    ]
    missing = sorted({c for c in needed if c not in panel.columns})
    if missing:
        raise InputFileError(
            f"columns named in params.yaml (risk) are not in the panel table: {missing}",
            file=str(path),
        )


def _publishable(ev: RiskEvaluation) -> dict[str, pd.DataFrame]:
    """The CSV outputs, without unpublished counts (positives / negatives per cell)."""
    rel = ev.reliability.drop(columns=["n_positive", "n_negative"])
    tgt = ev.targeting.drop(columns=["n_served", "n_reached"])
    overall_rel = rel[rel["subgroup"] == "overall"].drop(columns=["subgroup", "group"])
    overall_tgt = tgt[tgt["subgroup"] == "overall"].drop(columns=["subgroup", "group"])
    return {
        "subgroup_metrics.csv": ev.tidy(),
        "reliability.csv": overall_rel,
        "reliability_by_subgroup.csv": rel,
        "targeting.csv": overall_tgt,
        "targeting_by_subgroup.csv": tgt,
        "importance.csv": ev.importance,
    }


def _publication_record(
    ev: RiskEvaluation, frames: dict[str, pd.DataFrame], policy: DisclosurePolicy
) -> dict[str, object]:
    """The check record of every risk output: the authority's records of the gated cells, bins
    and curve points, and a check of each published frame (aggregates only: no identifier, no
    individual score column, every row on enough households or gated upstream).
    """
    gated = list(ev.records.values())
    checks = []
    for name, frame in frames.items():
        if "n_households" in frame.columns:
            art: Aggregates | Curve = Aggregates(frame, f"risk/{name}", upstream=gated)
        elif name.startswith("targeting"):
            art = Curve(
                frame,
                f"risk/{name}",
                value_columns=[
                    "share_reached",
                    "share_reached_perfect",
                    "precision",
                    "conf_low",
                    "conf_high",
                ],
                upstream=gated,
            )
        else:  # permutation importance: per published cell, no counts of its own
            art = Aggregates(frame, f"risk/{name}", upstream=gated)
        checks.append(disclose(art, policy).record)
    return combine_records("risk outputs", [*gated, *checks], policy)


@dataclass(frozen=True)
class _RiskData:
    """The households the classifier is trained and evaluated on, with their folds."""

    panel: pd.DataFrame
    y: np.ndarray
    w: np.ndarray
    folds: Any
    shares: list[float]
    subgroups: pd.DataFrame | None


def _read_panel(params: Params) -> tuple[pd.DataFrame, Path]:
    """The panel table (households in both waves), with the columns ``risk`` names."""
    panel_path = params.paths.processed / "analysis" / "panel.parquet"
    if not panel_path.exists():
        raise InputFileError("panel table not found; run `ctip features` first", file=panel_path)
    panel = pd.read_parquet(panel_path)
    _check_columns(panel, params.risk, panel_path)
    return panel, panel_path


def _with_outcome_and_weight(panel: pd.DataFrame, rp: RiskParams) -> pd.DataFrame:
    """The households with an outcome and a weight (the others are left out, and counted)."""
    keep = panel[rp.outcome].notna() & panel[rp.weight].notna()
    n_dropped = int((~keep).sum())
    if n_dropped:
        log.info("risk: %d households without outcome or weight left out", n_dropped)
    return panel.loc[keep].reset_index(drop=True)


def _without_empty_features(panel: pd.DataFrame, rp: RiskParams) -> tuple[RiskParams, list[str]]:
    """``rp`` without the features no household of this survey has a value for, and those."""
    left_out = [
        c
        for c in dict.fromkeys([*rp.features, *rp.categorical_features])
        if not panel[c].notna().any()
    ]
    if left_out:
        log.warning(
            "risk: %d feature(s) have no value for any household of this survey and are left out "
            "of the model: %s",
            len(left_out),
            ", ".join(left_out),
        )
        rp = rp.model_copy(
            update={
                k: [c for c in getattr(rp, k) if c not in left_out]
                for k in ("features", "log_features", "categorical_features")
            }
        )
    return rp, left_out


def _risk_data(panel: pd.DataFrame, rp: RiskParams, panel_path: Path) -> _RiskData:
    """Outcome, weights, grouped folds, targeting shares and subgroups of the households."""
    y = panel[rp.outcome].astype("Int64").to_numpy(dtype=np.int64)
    w = panel[rp.weight].astype("Float64").to_numpy(dtype=np.float64)
    log.info("risk: %d households, weighted prevalence %.3f", y.size, np.sum(w * y) / w.sum())
    try:
        folds = make_psu_folds(
            y, panel[rp.psu], panel[rp.stratum], n_splits=rp.cv_folds, seed=rp.seed
        )
    except ValueError as exc:
        raise InputFileError(f"cannot build grouped folds: {exc}", file=panel_path) from None
    return _RiskData(
        panel=panel,
        y=y,
        w=w,
        folds=folds,
        shares=targeting_grid(rp.targeting_step, rp.top_share),
        subgroups=panel[list(rp.subgroups)] if rp.subgroups else None,
    )


def _evaluate(
    data: _RiskData,
    rp: RiskParams,
    spec: ClassifierSpec,
    X: pd.DataFrame,
    *,
    policy: DisclosurePolicy,
    scheduler: str | None,
) -> RiskEvaluation:
    """Cross-validate one classifier and evaluate it (permutation importance for the primary)."""
    kind = spec.kind
    log.info("risk: cross-validating %s (%d folds)", kind, len(data.folds))
    cv = cross_validate_weighted(build_classifier(spec), X, data.y, data.w, data.folds)
    primary = kind == rp.classifier
    return evaluate_classifier(
        cv,
        X,
        data.y,
        data.w,
        psu=data.panel[rp.psu],
        stratum=data.panel[rp.stratum],
        subgroups=data.subgroups,
        classifier=kind,
        top_share=rp.top_share,
        shares=data.shares,
        n_bins=rp.reliability_bins,
        n_bins_subgroup=rp.reliability_bins_subgroup,
        n_bootstrap=rp.n_bootstrap,
        ci_level=rp.ci_level,
        policy=policy,
        seed=rp.seed,
        n_permutation_repeats=rp.n_permutation_repeats if primary else 0,
        n_jobs=rp.n_jobs,
        scheduler=scheduler,
    )


def _save_model(params: Params, data: _RiskData, spec: ClassifierSpec, X: pd.DataFrame) -> None:
    """Refit the classifier on all households and save it to ``<interim>`` (not published)."""
    import joblib

    # learned values rounded as published numbers are: the same bytes on any install
    final = round_fitted(
        fit_classifier(build_classifier(spec), X, data.y, sample_weight=data.w), PUBLISHED_DIGITS
    )
    target = params.paths.interim / "risk" / "model.joblib"
    write_with(target, lambda tmp, m=final: joblib.dump(m, tmp))  # type: ignore[misc]
    log.info("risk: model refitted on all households saved to %s (not published)", target)


def _evaluate_all(
    params: Params,
    rp: RiskParams,
    data: _RiskData,
    *,
    policy: DisclosurePolicy,
    scheduler: str | None,
) -> dict[str, RiskEvaluation]:
    """Evaluate the primary classifier and those it is compared with (saving the primary)."""
    evaluations: dict[str, RiskEvaluation] = {}
    for kind in [rp.classifier, *[k for k in rp.compare_classifiers if k != rp.classifier]]:
        spec = classifier_spec(rp, kind)
        X = make_design_matrix(data.panel, spec)
        evaluations[kind] = _evaluate(data, rp, spec, X, policy=policy, scheduler=scheduler)
        if kind == rp.classifier and rp.save_model:
            _save_model(params, data, spec, X)
    return evaluations


def _comparison(
    evaluations: dict[str, RiskEvaluation], primary: str
) -> dict[str, dict[str, object]]:
    """The overall headline metrics of the classifiers compared with the primary one."""
    return {
        kind: e.to_dict(metrics=("roc_auc", "pr_auc", "brier", "top_share_reached"))["overall"]
        for kind, e in evaluations.items()
        if kind != primary
    }


def _group_labels(rp: RiskParams) -> dict[str, dict[str, str]]:
    """Readable labels of the subgroups' values, for the model card."""
    group_labels: dict[str, dict[str, str]] = {
        "province_code": {str(k): f"{v} ({k:02d})" for k, v in PROVINCES.items()}
    }
    for col in rp.subgroups:
        if col.startswith("head_is_female"):
            group_labels[col] = {"True": "female head", "False": "male head"}
    return group_labels


def _model_card_info(
    rp: RiskParams,
    identity: dict[str, Any],
    *,
    left_out: list[str],
    params_hash: str,
    comparison: dict[str, Any],
) -> ModelCardInfo:
    """What the model card says besides the evaluation."""
    return ModelCardInfo(
        outcome=rp.outcome,
        outcome_definition=OUTCOME_DEFINITION,
        features=[*rp.features, *rp.categorical_features],
        hyper=classifier_spec(rp, rp.classifier).hyper,
        data_source=f"{source_label(identity)}: panel table `analysis/panel.parquet` of the "
        "processed layer (households observed in both waves)."
        + (
            f" Left out because no household of this survey has a value: {', '.join(left_out)}."
            if left_out
            else ""
        ),
        params_hash=params_hash,
        group_labels=_group_labels(rp),
        comparison={k: v for k, v in comparison.items()},
        demo_data=bool(identity.get("embedded_default")),
    )


def run_risk(params: Params, *, scheduler: str | None = None) -> None:
    """Train and evaluate the risk-screening model; write metrics, curves and the model card.

    ``scheduler``: where the bootstrap runs, ``"local"`` or a Dask scheduler's address
    (``None``: ``$CTIP_SCHEDULER``, else local; :mod:`ctip_research.parallel`). The outputs do
    not depend on it.
    """
    require_upstream("features", params.paths, consumer="risk")
    policy = DisclosurePolicy.from_privacy(params.privacy)
    out_dir = params.paths.processed / "risk"
    panel, panel_path = _read_panel(params)
    identity = read_identity(params.paths.processed)
    panel = _with_outcome_and_weight(panel, params.risk)
    rp, left_out = _without_empty_features(panel, params.risk)
    data = _risk_data(panel, rp, panel_path)
    evaluations = _evaluate_all(params, rp, data, policy=policy, scheduler=scheduler)

    ev = evaluations[rp.classifier]
    comparison = _comparison(evaluations, rp.classifier)
    hash_ = params_hash(params, "risk", "privacy")
    metrics = {
        **ev.to_dict(metrics=HEADLINE_METRICS),
        "by_subgroup": ev.to_dict(metrics=SUBGROUP_METRICS, intervals=False)["by_subgroup"],
        "comparison": comparison,
        "features_left_out": left_out,
        "params_hash": hash_,
    }

    frames = _publishable(ev)
    disclosure = _publication_record(ev, frames, policy)
    written = [write_json(out_dir / "metrics.json", metrics, digits=PUBLISHED_DIGITS)]
    for name, frame in frames.items():
        written.append(write_csv(out_dir / name, frame, digits=CURVE_DIGITS))
    info = _model_card_info(
        rp, identity, left_out=left_out, params_hash=hash_, comparison=comparison
    )
    written.append(write_text(out_dir / "model_card.md", render_model_card(ev, info)))
    write_record(out_dir, "", disclosure, written)
    o = metrics["overall"]
    log.info(
        "risk: ROC-AUC %.3f, Brier %.3f, top-%.0f%% reached %.3f; outputs in %s",
        o.get("roc_auc") or float("nan"),
        o.get("brier") or float("nan"),
        100 * rp.top_share,
        o.get("top_share_reached") or float("nan"),
        out_dir,
    )
