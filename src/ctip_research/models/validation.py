"""Estimates against the ground truth of the synthetic survey (``ctip validate``, ``ctip
monte-carlo``).

The truth (``truth.json``, written by ``ctip synth``) is a nested mapping; ``fit.validation.
estimands`` names, for each model, the dotted path of the estimand it targets (e.g.
``effects.mfi_international_migration.wave_1.ate_weighted``). :func:`compare_to_truth` puts every
such estimate beside its truth: bias, relative bias, whether the 95% interval covers the truth,
and how far the naive estimate is from it. Over Monte Carlo draws (one survey per draw, in several
worlds), :func:`summarise_draws` gives each estimator's bias, RMSE, coverage, interval length,
power and a verdict (survives, uninformative, fails), and :func:`scenario_verdicts` says per world
which estimators survive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.errors import CtipError

__all__ = [
    "DRAW_COLUMNS",
    "SUMMARY_COLUMNS",
    "VERDICTS",
    "TruthError",
    "compare_to_truth",
    "lookup_truth",
    "scenario_verdicts",
    "summarise_draws",
    "validation_summary",
]


class TruthError(CtipError):
    """``truth.json`` lacks an estimand that ``fit.validation`` refers to."""

    exit_code = 19


def lookup_truth(truth: dict[str, Any], path: str) -> float:
    """The number at a dotted ``path`` of the truth mapping.

    Examples
    --------
    >>> lookup_truth({"effects": {"a": {"ate": 0.09}}}, "effects.a.ate")
    0.09
    """
    node: Any = truth
    for i, key in enumerate(path.split(".")):
        if not isinstance(node, dict) or key not in node:
            here = ".".join(path.split(".")[:i]) or "<top>"
            options = sorted(node) if isinstance(node, dict) else []
            raise TruthError(
                f"truth.json has no estimand {path!r}: {key!r} not found under {here} "
                f"(available: {options[:20]})"
            )
        node = node[key]
    if isinstance(node, dict) and "value" in node:
        node = node["value"]
    try:
        return float(node)
    except (TypeError, ValueError):
        raise TruthError(f"truth.json estimand {path!r} is not a number") from None


#: Columns of the validation table (``validation.csv``).
VALIDATION_COLUMNS: tuple[str, ...] = (
    "model",
    "estimand",
    "truth",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "bias",
    "relative_bias",
    "covers_truth",
    "is_naive",
)


def compare_to_truth(
    estimates: pd.DataFrame,
    truth: dict[str, Any],
    *,
    estimands: dict[str, str],
    naive_model: str,
) -> pd.DataFrame:
    """Every validated estimate beside its truth.

    Parameters
    ----------
    estimates
        The tidy estimates (``estimates.csv``): the row of each model whose ``term`` equals its
        ``exposure`` is used.
    truth
        The parsed ``truth.json``.
    estimands
        Model name -> dotted truth path.
    naive_model
        The confounded benchmark (listed too, with ``is_naive`` True).

    Returns
    -------
    DataFrame
        ``model, estimand, truth, estimate, std_error, conf_low, conf_high, bias,
        relative_bias, covers_truth, is_naive``.

    Examples
    --------
    >>> import pandas as pd
    >>> est = pd.DataFrame({"model": ["naive", "iv"], "exposure": ["d", "d"], "term": ["d", "d"],
    ...     "estimate": [0.15, 0.08], "std_error": [0.01, 0.03], "conf_low": [0.13, 0.02],
    ...     "conf_high": [0.17, 0.14]})
    >>> out = compare_to_truth(est, {"ate": 0.09}, estimands={"naive": "ate", "iv": "ate"},
    ...                        naive_model="naive")
    >>> out["covers_truth"].tolist()
    [False, True]
    """
    models = dict(estimands)
    rows = []
    for model, path in models.items():
        sel = estimates.loc[
            (estimates["model"] == model) & (estimates["term"] == estimates["exposure"])
        ]
        value = lookup_truth(truth, path)
        if sel.empty:
            rows.append(
                {
                    "model": model,
                    "estimand": path,
                    "truth": value,
                    "estimate": np.nan,
                    "std_error": np.nan,
                    "conf_low": np.nan,
                    "conf_high": np.nan,
                }
            )
            continue
        r = sel.iloc[0]
        rows.append(
            {
                "model": model,
                "estimand": path,
                "truth": value,
                "estimate": float(r["estimate"]),
                "std_error": float(r["std_error"]),
                "conf_low": float(r["conf_low"]),
                "conf_high": float(r["conf_high"]),
            }
        )
    out = pd.DataFrame(rows)
    out["bias"] = out["estimate"] - out["truth"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative_bias"] = out["bias"] / out["truth"].abs()
    out["covers_truth"] = (out["conf_low"] <= out["truth"]) & (out["truth"] <= out["conf_high"])
    out["is_naive"] = out["model"] == naive_model
    return out


def validation_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Headline facts of a validation table (for ``metrics.json`` and the report).

    ``naive_ratio`` is the naive estimate over its truth (the design says 1.4-1.6);
    ``recovering`` lists the non-naive models whose interval covers the truth.
    """
    naive = table.loc[table["is_naive"]]
    others = table.loc[~table["is_naive"]]
    summary: dict[str, Any] = {
        "recovering": sorted(others.loc[others["covers_truth"], "model"].tolist()),
        "not_recovering": sorted(others.loc[~others["covers_truth"], "model"].tolist()),
    }
    if not naive.empty:
        n = naive.iloc[0]
        summary.update(
            naive_model=str(n["model"]),
            naive_ratio=float(n["estimate"] / n["truth"]) if n["truth"] else None,
            naive_bias=float(n["bias"]),
            naive_covers_truth=bool(n["covers_truth"]),
        )
    return summary


# ------------------------------------------------------------------------------------------------
# Monte Carlo: many draws, several worlds
# ------------------------------------------------------------------------------------------------

#: Columns of a Monte Carlo draws table (one row per scenario, draw and model).
DRAW_COLUMNS: tuple[str, ...] = (
    "scenario",
    "draw",
    "seed",
    "model",
    "estimand",
    "truth",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "n_households",
    "error",
)

#: Columns of :func:`summarise_draws` (one row per scenario and model).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "scenario",
    "model",
    "estimand",
    "n_draws",
    "n_failed",
    "n_households",
    "mean_truth",
    "mean_estimate",
    "bias",
    "bias_mc_se",
    "bias_change",
    "bias_change_mc_se",
    "relative_bias",
    "rmse",
    "sd_estimate",
    "mean_std_error",
    "conf_level",
    "coverage",
    "coverage_mc_se",
    "interval_length",
    "power",
    "verdict",
)

#: Verdicts, worst first: ``fails`` (biased beyond its standard error, or intervals that cover
#: too rarely), ``possibly_biased`` (a mean bias beyond its standard error that these few draws
#: cannot yet tell from chance), ``uninformative`` (covers, but its interval is so wide that it
#: rarely excludes zero), ``survives``; ``no_estimate`` when no draw could be fitted.
VERDICTS: tuple[str, ...] = (
    "fails",
    "possibly_biased",
    "uninformative",
    "survives",
    "no_estimate",
)


@dataclass(frozen=True)
class _VerdictRule:
    """Thresholds of the verdict of :func:`summarise_draws`."""

    max_bias_over_se: float
    mc_alpha: float
    min_power: float
    nominal: float


def _default_errors(errors: pd.DataFrame) -> pd.Series:
    """Error of each (model, seed) in the default world (empty without a ``seed`` column)."""
    return (
        errors.loc[errors["scenario"] == "default"].set_index(["model", "seed"])["error_"]
        if "seed" in errors.columns
        else pd.Series(dtype=float)
    )


def _draw_statistics(ok: pd.DataFrame, nominal: float) -> dict[str, Any]:
    """Bias, RMSE, coverage, interval length and power of the successful draws."""
    n = len(ok)
    err = ok["estimate"] - ok["truth"]
    covers = (ok["conf_low"] <= ok["truth"]) & (ok["truth"] <= ok["conf_high"])
    rejects = (ok["conf_low"] > 0) | (ok["conf_high"] < 0)
    bias = float(err.mean())
    bias_mc_se = float(err.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    mean_truth = float(ok["truth"].mean())
    return dict(
        mean_truth=mean_truth,
        mean_estimate=float(ok["estimate"].mean()),
        bias=bias,
        bias_mc_se=bias_mc_se,
        relative_bias=bias / abs(mean_truth) if mean_truth else np.nan,
        rmse=float(np.sqrt((err**2).mean())),
        sd_estimate=float(ok["estimate"].std(ddof=1)) if n > 1 else np.nan,
        mean_std_error=float(ok["std_error"].mean()),
        conf_level=nominal,
        coverage=float(covers.mean()),
        coverage_mc_se=float(np.sqrt(nominal * (1 - nominal) / n)),
        interval_length=float((ok["conf_high"] - ok["conf_low"]).median()),
        power=float(rejects.mean()),
    )


def _bias_change(ok: pd.DataFrame, reference: pd.Series) -> dict[str, float]:
    """The departure's own effect on the bias: paired with the default world's draws by seed."""
    paired = (
        ok.set_index(["model", "seed"])["estimate"]
        - ok.set_index(["model", "seed"])["truth"]
        - reference.reindex(pd.MultiIndex.from_arrays([ok["model"], ok["seed"]]))
    ).dropna()
    if not len(paired):
        return {}
    return {
        "bias_change": float(paired.mean()),
        "bias_change_mc_se": (
            float(paired.std(ddof=1) / np.sqrt(len(paired))) if len(paired) > 1 else np.nan
        ),
    }


def _verdict(ok: pd.DataFrame, row: dict[str, Any], rule: _VerdictRule) -> str:
    """``fails``, ``possibly_biased``, ``uninformative`` or ``survives`` (:func:`summarise_draws`)."""
    from scipy import stats

    n = len(ok)
    err = ok["estimate"] - ok["truth"]
    covers = (ok["conf_low"] <= ok["truth"]) & (ok["truth"] <= ok["conf_high"])
    bias = row["bias"]
    beyond_se = abs(bias) > rule.max_bias_over_se * row["mean_std_error"]
    scale = max(float(err.std(ddof=1)), row["mean_std_error"]) / np.sqrt(n) if n > 1 else 0.0
    clear = scale > 0 and abs(bias) > float(stats.t.ppf(1 - rule.mc_alpha / 2, n - 1)) * scale
    undercovers = float(stats.binom.cdf(int(covers.sum()), n, rule.nominal)) < rule.mc_alpha
    if (beyond_se and clear) or undercovers:
        return "fails"
    if beyond_se:
        return "possibly_biased"
    if row["power"] < rule.min_power:
        return "uninformative"
    return "survives"


def summarise_draws(
    draws: pd.DataFrame,
    *,
    alpha: float = 0.05,
    max_bias_over_se: float = 1.0,
    mc_alpha: float = 0.05,
    min_power: float = 0.5,
) -> pd.DataFrame:
    """Bias, RMSE, coverage, interval length, power and a verdict per scenario and model.

    Parameters
    ----------
    draws
        One row per draw and model (:data:`DRAW_COLUMNS`; a draw without ``scenario`` counts as
        one scenario ``default``); failed fits have a missing ``estimate``.
    alpha
        1 - the nominal level of the intervals.
    max_bias_over_se, mc_alpha, min_power
        The verdict rule. A model **fails** when its mean bias is beyond its standard error
        (``|bias| > max_bias_over_se * mean_std_error``: with a correct standard error its
        intervals then cover the truth in fewer than about 83% of surveys at 1 SE) and the draws
        tell that bias from chance (two-sided t-test of zero bias at level ``mc_alpha`` on
        ``n - 1`` degrees of freedom, scaled by the larger of the draws' standard deviation and
        the mean standard error, so that a few draws that happen to agree do not pass for
        precision), or when its intervals cover the truth too rarely (exact binomial test of
        coverage >= 1 - ``alpha``, one-sided, level ``mc_alpha``: standard errors too small). A
        bias beyond the standard error that the draws cannot yet tell from chance is
        **possibly_biased** (more draws decide). A model that does neither is **uninformative**
        when its intervals exclude zero in fewer than ``min_power`` of the draws (it covers the
        truth because its interval is wide), else it **survives**.

    Returns
    -------
    DataFrame
        :data:`SUMMARY_COLUMNS`, in first-seen scenario and model order. ``n_households`` is the
        mean number of wave-1 households of a draw (when ``draws`` has it). ``bias`` is the mean of
        estimate - truth (each draw against its own truth), ``bias_mc_se`` its Monte Carlo
        standard error (sd / sqrt(n)); ``bias_change`` is the departure's own effect on the bias:
        the mean over seeds of this world's error minus the default world's error for the same
        seed (``seed`` column; the draws share their seeds, so this difference is much more
        precise than either bias: ``bias_change_mc_se``); ``relative_bias`` bias / |mean truth|,
        ``rmse`` the root
        mean squared error, ``coverage`` the share of intervals containing the truth
        (``coverage_mc_se`` its binomial standard error at the nominal level),
        ``interval_length`` the median of ``conf_high - conf_low``, ``power`` the share of
        intervals excluding zero (rejections of H0: no effect at level ``alpha``).

    Examples
    --------
    >>> d = pd.DataFrame({"model": ["a"] * 4, "estimand": ["ate"] * 4, "truth": [0.1] * 4,
    ...     "estimate": [0.3, 0.32, 0.28, 0.3], "std_error": [0.05] * 4,
    ...     "conf_low": [0.2, 0.22, 0.18, 0.2], "conf_high": [0.4, 0.42, 0.38, 0.4]})
    >>> s = summarise_draws(d)
    >>> round(float(s.loc[0, "bias"]), 6), float(s.loc[0, "coverage"]), s.loc[0, "verdict"]
    (0.2, 0.0, 'fails')
    """
    if "scenario" not in draws.columns:
        draws = draws.assign(scenario="default")
    nominal = 1.0 - alpha
    rule = _VerdictRule(max_bias_over_se, mc_alpha, min_power, nominal)
    reference = _default_errors(draws.assign(error_=draws["estimate"] - draws["truth"]))
    rows = []
    for (scenario, model), g in draws.groupby(["scenario", "model"], sort=False):
        ok = g.dropna(subset=["estimate"])
        n = len(ok)
        row: dict[str, Any] = {
            "scenario": scenario,
            "model": model,
            "estimand": g["estimand"].iloc[0],
            "n_draws": n,
            "n_failed": len(g) - n,
            "n_households": float(g["n_households"].mean()) if "n_households" in g else np.nan,
        }
        if n == 0:
            rows.append({**row, "verdict": "no_estimate"})
            continue
        row.update(_draw_statistics(ok, nominal))
        if not reference.empty:  # same seeds in the default world: the departure's effect
            row.update(_bias_change(ok, reference))
        row["verdict"] = _verdict(ok, row, rule)
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=list(SUMMARY_COLUMNS))


def scenario_verdicts(
    summary: pd.DataFrame,
    *,
    descriptions: dict[str, str] | None = None,
    breaks: dict[str, str] | None = None,
    mc_alpha: float = 0.05,
) -> pd.DataFrame:
    """Per scenario, the models that survive, are uninformative, fail (or were never fitted).

    ``descriptions`` and ``breaks`` (scenario -> text; ``synth.scenarios``) add what departs from
    the default world and which assumption that breaks. ``bias_moved`` lists the models whose
    bias the departure itself moves (``bias_change`` with its Monte Carlo standard error, where a
    paired t-test over the shared seeds rejects no change at level ``mc_alpha``).

    Examples
    --------
    >>> s = pd.DataFrame({"scenario": ["w", "w", "w"], "model": ["a", "b", "c"],
    ...     "verdict": ["survives", "fails", "survives"]})
    >>> scenario_verdicts(s).loc[0, "survives"]
    'a, c'
    """
    from scipy import stats

    rows = []
    for scenario, g in summary.groupby("scenario", sort=False):
        row: dict[str, Any] = {
            "scenario": scenario,
            "description": (descriptions or {}).get(str(scenario), "the calibrated world"),
            "breaks": (breaks or {}).get(str(scenario), "none"),
        }
        for verdict in VERDICTS:
            row[verdict] = ", ".join(g.loc[g["verdict"] == verdict, "model"].astype(str))
        moved = []
        if "bias_change" in g and scenario != "default":
            for r in g.to_dict(orient="records"):
                change, se, n = r.get("bias_change"), r.get("bias_change_mc_se"), r["n_draws"]
                if pd.isna(change) or pd.isna(se) or n < 2:
                    continue
                if abs(change) > float(stats.t.ppf(1 - mc_alpha / 2, n - 1)) * se:
                    moved.append(f"{r['model']} {change:+.3f} (±{se:.3f})")
        row["bias_moved"] = "; ".join(moved)
        row["n_households"] = (
            float(g["n_households"].mean()) if "n_households" in g else float("nan")
        )
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=["scenario", "description", "breaks", *VERDICTS, "bias_moved", "n_households"],
    )
