"""Estimates against the ground truth of the synthetic survey (``ctip validate``).

The truth (``truth.json``, written by ``ctip synth``) is a nested mapping; ``fit.validation.
estimands`` names, for each model, the dotted path of the estimand it targets (e.g.
``effects.mfi_international_migration.wave_1.ate_weighted``). :func:`compare_to_truth` puts every
such estimate beside its truth: bias, relative bias, whether the 95% interval covers the truth,
and how far the naive estimate is from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ctip_research.errors import CtipError

__all__ = ["TruthError", "compare_to_truth", "lookup_truth", "validation_summary"]


class TruthError(CtipError):
    """``truth.json`` lacks an estimand that ``fit.validation`` refers to."""

    exit_code = 10


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
