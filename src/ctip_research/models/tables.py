"""Regression tables in the fixest ``etable`` / Stata ``esttab`` style.

:func:`regression_table` builds a :class:`maketables.ETable` from result objects (they implement the
maketables plug-in format): coefficients with stars, errors in parentheses, fixed-effects rows,
N, clusters, R² / within R² / pseudo-R², first-stage F, and rows naming the estimator, the
clustering, the weights and the survey design. :func:`render_table` turns it into Markdown, HTML
(great-tables), LaTeX or Word bytes, deterministically (no random ids, fixed zip timestamps), so
the stage can write them atomically.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ctip_research.determinism import normalise_office_zip
from ctip_research.labels import label_map
from ctip_research.models.results import RegressionResult

__all__ = ["etable", "regression_table", "render_table", "table_to_markdown"]

_STATS = ["N", "n_clusters", "r2", "r2_within", "pseudo_r2", "fstat_1st"]
_LABELS = {
    "N": "Observations",
    "n_clusters": "Clusters (PSUs)",
    "r2": "R²",
    "r2_within": "Within R²",
    "pseudo_r2": "Pseudo R²",
    "fstat_1st": "First-stage F (robust)",
    "adj_r2": "Adj. R²",
    "sigma_e": "sigma_e",
    "llf": "Log likelihood",
}
_INFO_ROWS = {
    "estimator": "Estimator",
    "clustering": "Errors clustered by",
    "weights": "Weights",
    "survey": "Survey design",
}


def regression_table(
    results: Sequence[RegressionResult],
    *,
    caption: str,
    label: str,
    keep: list[str] | None = None,
) -> Any:
    """An etable of several results (one column each).

    Statistics a model does not have are shown as ``-``; rows no model has are dropped.

    Examples
    --------
    >>> from ctip_research.models.results import RegressionResult, make_terms
    >>> import numpy as np
    >>> r = RegressionResult("m", "fixed_effects", "y", "x",
    ...     make_terms(["x"], np.array([0.1]), np.array([0.02]), df=None, alpha=0.05),
    ...     n_obs=100, n_psu=10, df_resid=98, design="clustered")
    >>> table = regression_table([r], caption="Example", label="tab_example")
    >>> "x" in table_to_markdown(table)
    True
    """
    import maketables as mt

    results = list(results)
    stats = [k for k in _STATS if any(r.__maketables_stat__(k) is not None for r in results)]
    custom = {
        title: [r.info.get(key, "-") for r in results]
        for key, title in _INFO_ROWS.items()
        if any(key in r.info for r in results)
    }
    fes = sorted({fe for r in results for fe in r.fixed_effects})
    terms = list(dict.fromkeys(t for r in results for t in r.tidy()["term"].astype(str)))
    labels = label_map([*terms, *(r.outcome for r in results)])
    outcomes = list(dict.fromkeys(r.outcome for r in results))
    named = [f"{labels[t]} = {t}" for t in [*outcomes, *terms] if t in labels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mt.ETable(
            results,
            model_stats=stats,
            model_stats_labels=_LABELS,
            custom_model_stats=custom,
            model_heads=[r.label or r.model for r in results],
            caption=caption,
            tab_label=label,
            keep=keep or [],
            labels=labels,
            felabels={fe: f"FE: {label_map([fe]).get(fe, fe)}" for fe in fes},
            notes=(
                "Standard errors in parentheses. * p < 0.10, ** p < 0.05, *** p < 0.01. "
                "Linear probability models: coefficients are changes in probability."
                + (f" Variables: {'; '.join(named)}." if named else "")
            ),
        )


def etable(
    results: Sequence[Any],
    *,
    caption: str | None = None,
    label: str | None = None,
    stats: list[str] | None = None,
    keep: list[str] | None = None,
) -> Any:
    """An etable of any fitted models of the package (``feols``, ``logit``, ``probit``,
    ``SurveyDesign.glm``, pipeline results), one column each, via maketables.

    ``stats`` are ``glance()`` keys (default: N, clusters, R², within R², pseudo-R², log
    likelihood, where a model has them). The result renders in a notebook and exports with
    :func:`render_table` (Markdown, HTML, LaTeX, Word).

    Examples
    --------
    >>> import pandas as pd
    >>> from ctip_research.estimation import feols
    >>> df = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 4.8, 6.1], "x": [0, 1, 2, 3, 4, 5]})
    >>> "x" in table_to_markdown(etable([feols("y ~ x", df)]))
    True
    """
    import maketables as mt

    results = list(results)
    keys = stats or [
        k
        for k in ["N", "n_clusters", "r2", "r2_within", "pseudo_r2", "llf"]
        if any(r.__maketables_stat__(k) is not None for r in results)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mt.ETable(
            results,
            model_stats=keys,
            model_stats_labels=_LABELS,
            caption=caption,
            tab_label=label,
            keep=keep or [],
        )


def table_to_markdown(table: Any) -> str:
    """Pipe-table Markdown of an ETable (coefficient and error on one line)."""
    df: pd.DataFrame = table.df
    columns = [
        tuple(str(p) for p in (col if isinstance(col, tuple) else (col,))) for col in df.columns
    ]
    depvars = {c[0] for c in columns}
    shared_depvar = len(columns) > 1 and len(depvars) == 1 and len(columns[0]) > 1
    if shared_depvar:
        columns = [c[1:] for c in columns]
    heads = [" ".join(p for p in col if p) for col in columns]
    lines = ["| | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
    previous = None
    for (group, row), values in zip(df.index, df.to_numpy(), strict=True):
        if previous is not None and group != previous:
            lines.append("| | " + " | ".join("" for _ in heads) + " |")
        previous = group
        cells = [re.sub(r"\s+", " ", str(v)).strip() for v in values]
        cells = [c.replace("*", "\\*") for c in cells]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    out = []
    if getattr(table, "caption", None):
        out.append(f"**{table.caption}**\n")
    if shared_depvar:
        out.append(f"Dependent variable: `{next(iter(depvars))}`\n")
    out.extend(lines)
    if getattr(table, "notes", None):
        out.append(f"\n{table.notes}")
    return "\n".join(out) + "\n"


def render_table(table: Any, fmt: str) -> bytes:
    """Render an ETable as ``md``, ``html``, ``tex`` or ``docx`` bytes (deterministic)."""
    if fmt == "md":
        return table_to_markdown(table).encode("utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "html":
            html = table.make("gt").as_raw_html()
            ids = re.findall(r'<div id="([a-z]{10})"', html)
            for random_id in set(ids):
                html = html.replace(random_id, table.tab_label or "ctip_table")
            return html.encode("utf-8")
        if fmt == "tex":
            return str(table.make("tex")).encode("utf-8")
        if fmt == "docx":
            buf = io.BytesIO()
            table.make("docx").save(buf)
            return normalise_office_zip(buf.getvalue())
    raise ValueError(f"unknown table format {fmt!r}")
