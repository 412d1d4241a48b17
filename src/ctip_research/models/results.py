"""Result objects of the econometric models.

Every fitted model is a :class:`RegressionResult` (or a :class:`DescriptiveResult` for design-based
domain estimates) with ``tidy()``, ``glance()``, ``summary()`` and ``to_dict()``, in the manner of
linearmodels' and pyfixest's results. :class:`RegressionResult` also implements the maketables
plug-in format (``__maketables_coef_table__`` ...), so ``maketables.ETable([res1, res2])`` builds
an etable/esttab-style table from it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.estimation.results import ModelResult

__all__ = [
    "ESTIMATE_COLUMNS",
    "TIDY_COLUMNS",
    "DescriptiveResult",
    "RegressionResult",
    "make_terms",
]

#: Columns of ``tidy()`` (house style).
TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
#: Columns of ``data/processed/models/estimates.csv`` (docs/CONTRACTS.md).
ESTIMATE_COLUMNS = [
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
]


def make_terms(
    names: list[str],
    estimate: np.ndarray,
    std_error: np.ndarray,
    *,
    df: float | None,
    alpha: float,
) -> pd.DataFrame:
    """Build a tidy term table with t (``df`` given) or normal reference distribution.

    Examples
    --------
    >>> import numpy as np
    >>> make_terms(["x"], np.array([1.0]), np.array([0.5]), df=None, alpha=0.05).round(3)
      term  estimate  std_error  statistic  p_value  conf_low  conf_high
    0    x       1.0        0.5        2.0    0.046      0.02       1.98
    """
    from scipy import stats

    est = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    if df is None or not np.isfinite(df):
        p = 2 * stats.norm.sf(np.abs(stat))
        crit = stats.norm.ppf(1 - alpha / 2)
    else:
        p = 2 * stats.t.sf(np.abs(stat), df)
        crit = stats.t.ppf(1 - alpha / 2, df)
    return pd.DataFrame(
        {
            "term": list(names),
            "estimate": est,
            "std_error": se,
            "statistic": stat,
            "p_value": p,
            "conf_low": est - crit * se,
            "conf_high": est + crit * se,
        }
    )


def _clean(value: Any) -> Any:
    """Make a value JSON friendly (numpy scalars -> Python, NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


@dataclass(frozen=True, repr=False)
class RegressionResult(ModelResult):
    """A fitted regression: coefficients, fit statistics and how the errors were computed.

    Parameters
    ----------
    model
        Name of the spec (``fit.models[i].name``).
    kind
        Estimator family (``fixed_effects``, ``iv``, ``panel``, ``survey_glm``, ``did``, ...).
    outcome, exposure
        Outcome column and the exposure whose effect is the estimand.
    terms
        Tidy table (:data:`TIDY_COLUMNS`) of the reported coefficients (absorbed effects excluded).
    n_obs, n_psu
        Observations and clusters / PSUs used.
    df_resid
        Residual degrees of freedom (``n_obs`` - parameters, absorbed effects included).
    design
        One-line description of the variance method (clustering, weights, survey design).
    fixed_effects
        Absorbed fixed effects.
    stats
        Fit statistics (``r2``, ``r2_within``, ``pseudo_r2``, ``first_stage_f``, ...).
    extra
        Further diagnostics (first stage, Anderson-Rubin interval, over-identification test, ...).
    label
        Short human label (table column header).
    info
        Table rows describing the model: ``estimator``, ``clustering``, ``weights``, ``survey``.
    """

    model: str
    kind: str
    outcome: str
    exposure: str
    terms: pd.DataFrame
    n_obs: int
    n_psu: int | None
    df_resid: float
    design: str
    fixed_effects: tuple[str, ...] = ()
    stats: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    info: dict[str, str] = field(default_factory=dict)
    """Table rows describing the model: ``estimator``, ``clustering``, ``weights``, ``survey``."""
    covariance: pd.DataFrame | None = None
    """Covariance matrix of the reported terms (None: only their variances are known)."""
    df_t: float | None = None
    """Degrees of freedom of the t reference distribution of ``terms`` (None: normal)."""
    conf_level: float = 0.95

    # -- shared result API (ModelResult) -----------------------------------------------------
    @property
    def params(self) -> pd.Series:  # type: ignore[override]
        """Estimates of the reported terms (the intercept included for linear models)."""
        return pd.Series(
            self.terms["estimate"].to_numpy(dtype=float), index=list(self.terms["term"])
        )

    @property
    def vcov(self) -> pd.DataFrame:  # type: ignore[override]
        """Covariance matrix of the terms (diagonal of squared errors when not kept)."""
        names = list(self.terms["term"])
        if self.covariance is not None:
            return self.covariance.loc[names, names]
        se = self.terms["std_error"].to_numpy(dtype=float)
        return pd.DataFrame(np.diag(se**2), index=names, columns=names)

    @property
    def df_inference(self) -> float | None:
        """T degrees of freedom of the terms (None: normal)."""
        return self.df_t

    @property
    def depvar(self) -> str:
        """Outcome column."""
        return self.outcome

    @property
    def estimator(self) -> str:
        """Model name and kind."""
        return f"{self.model} ({self.kind})"

    @property
    def vcov_type(self) -> str:
        """How the errors were computed."""
        return self.design

    @property
    def fixef(self) -> tuple[str, ...]:
        """Absorbed fixed effects."""
        return tuple(self.fixed_effects)

    # -- accessors -------------------------------------------------------------------------
    def term(self, name: str | None = None) -> pd.Series:
        """Row of ``tidy()`` for ``name`` (default: the exposure)."""
        name = name or self.exposure
        rows = self.terms.loc[self.terms["term"] == name]
        if rows.empty:
            raise KeyError(f"term {name!r} not in model {self.model!r}")
        return rows.iloc[0]

    @property
    def effect(self) -> float:
        """Estimate of the exposure term."""
        return float(self.term()["estimate"])

    # -- house-style result API ----------------------------------------------------------------
    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """Coefficients: ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``."""
        if level is not None and level != self.conf_level:
            return super().tidy(level)
        return self.terms.loc[:, TIDY_COLUMNS].reset_index(drop=True)

    def glance(self) -> pd.DataFrame:
        """One row of model-level statistics."""
        row: dict[str, Any] = {
            "model": self.model,
            "kind": self.kind,
            "outcome": self.outcome,
            "exposure": self.exposure,
            "n_obs": self.n_obs,
            "n_psu": self.n_psu,
            "df_resid": self.df_resid,
            "fixed_effects": "+".join(self.fixed_effects),
            "design": self.design,
        }
        row.update(self.stats)
        return pd.DataFrame([row])

    def estimates(self) -> pd.DataFrame:
        """Rows of the pipeline's ``estimates.csv`` (:data:`ESTIMATE_COLUMNS`)."""
        out = self.tidy()
        out.insert(0, "exposure", self.exposure)
        out.insert(0, "outcome", self.outcome)
        out.insert(0, "model", self.model)
        out["n_obs"] = self.n_obs
        out["n_psu"] = self.n_psu if self.n_psu is not None else pd.NA
        out["design"] = self.design
        return out.loc[:, ESTIMATE_COLUMNS]

    def summary(self) -> str:
        """Plain-text summary: header, coefficient table, diagnostics."""
        lines = [
            f"Model {self.model} ({self.kind}): {self.outcome} on {self.exposure}",
            f"  N = {self.n_obs}"
            + (f", PSUs = {self.n_psu}" if self.n_psu is not None else "")
            + f", residual df = {self.df_resid:g}",
            f"  Fixed effects: {', '.join(self.fixed_effects) or 'none'}",
            f"  Errors: {self.design}",
        ]
        for key, value in self.stats.items():
            lines.append(f"  {key} = {value:.4g}")
        lines.append("")
        lines.append(self.tidy().to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        for key, value in self.extra.items():
            if isinstance(value, dict | list):
                continue
            lines.append(f"  {key}: {value}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (round-trips through :meth:`from_dict`)."""
        return _clean(
            {
                "model": self.model,
                "kind": self.kind,
                "outcome": self.outcome,
                "exposure": self.exposure,
                "terms": self.tidy().to_dict(orient="list"),
                "n_obs": int(self.n_obs),
                "n_psu": None if self.n_psu is None else int(self.n_psu),
                "df_resid": float(self.df_resid),
                "design": self.design,
                "fixed_effects": list(self.fixed_effects),
                "stats": dict(self.stats),
                "extra": dict(self.extra),
                "label": self.label,
                "info": dict(self.info),
                "covariance": None
                if self.covariance is None
                else self.covariance.to_numpy().tolist(),
                "df_t": self.df_t,
                "conf_level": self.conf_level,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegressionResult:
        """Rebuild a result from :meth:`to_dict` output."""
        terms = pd.DataFrame(data["terms"]).astype({c: float for c in TIDY_COLUMNS[1:]})
        return cls(
            model=data["model"],
            kind=data["kind"],
            outcome=data["outcome"],
            exposure=data["exposure"],
            terms=terms,
            n_obs=data["n_obs"],
            n_psu=data["n_psu"],
            df_resid=data["df_resid"],
            design=data["design"],
            fixed_effects=tuple(data["fixed_effects"]),
            stats={k: (np.nan if v is None else v) for k, v in data["stats"].items()},
            extra=data["extra"],
            label=data.get("label", ""),
            info=data.get("info", {}),
            covariance=None
            if data.get("covariance") is None
            else pd.DataFrame(
                data["covariance"], index=list(terms["term"]), columns=list(terms["term"])
            ),
            df_t=data.get("df_t"),
            conf_level=data.get("conf_level", 0.95),
        )

    # -- maketables plug-in format ---------------------------------------------------------------
    @property
    def __maketables_coef_table__(self) -> pd.DataFrame:
        t = self.tidy().set_index("term")
        return pd.DataFrame(
            {
                "b": t["estimate"],
                "se": t["std_error"],
                "t": t["statistic"],
                "p": t["p_value"],
                "ci95l": t["conf_low"],
                "ci95u": t["conf_high"],
            }
        )

    @property
    def __maketables_depvar__(self) -> str:
        return self.outcome

    @property
    def __maketables_fixef_string__(self) -> str | None:
        return "+".join(self.fixed_effects) if self.fixed_effects else None

    @property
    def __maketables_vcov_info__(self) -> dict[str, Any]:
        return {"vcov_type": self.design}

    @property
    def __maketables_default_stat_keys__(self) -> list[str]:
        return ["N", "n_clusters", "r2"]

    def __maketables_stat__(self, key: str) -> Any:
        if key == "N":
            return self.n_obs
        if key == "n_clusters":
            return self.n_psu
        if key == "se_type":
            return self.design
        if key == "df_resid":
            return self.df_resid
        if key == "fstat_1st":
            key = "first_stage_f"
        value = self.stats.get(key)
        return None if value is None or not np.isfinite(value) else value


@dataclass(frozen=True)
class DescriptiveResult:
    """Design-based estimates of indicators by domain (model 1).

    ``table`` has one row per indicator and domain value: ``indicator, domain, level, estimate,
    std_error, conf_low, conf_high, deff, df, n_obs``.
    """

    table: pd.DataFrame
    design: str
    n_psu: int
    model: str = "descriptive"

    def tidy(self) -> pd.DataFrame:
        """The domain table."""
        return self.table.reset_index(drop=True)

    def glance(self) -> pd.DataFrame:
        """One row: number of estimates, PSUs and the design."""
        return pd.DataFrame(
            [
                {
                    "model": self.model,
                    "n_estimates": len(self.table),
                    "n_psu": self.n_psu,
                    "design": self.design,
                }
            ]
        )

    def summary(self) -> str:
        """Plain-text table."""
        return f"Design-based estimates ({self.design})\n" + self.table.to_string(
            index=False, float_format=lambda v: f"{v:.4f}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return _clean(
            {
                "model": self.model,
                "design": self.design,
                "n_psu": self.n_psu,
                "table": self.table.to_dict(orient="list"),
            }
        )

    def estimates(self) -> pd.DataFrame:
        """Rows of ``estimates.csv``: term = ``<domain>=<level>``; exposure = the domain."""
        t = self.table
        return pd.DataFrame(
            {
                "model": self.model,
                "outcome": t["indicator"],
                "exposure": t["domain"],
                "term": t["domain"].astype(str) + "=" + t["level"].astype(str),
                "estimate": t["estimate"],
                "std_error": t["std_error"],
                "conf_low": t["conf_low"],
                "conf_high": t["conf_high"],
                "p_value": np.nan,
                "n_obs": t["n_obs"],
                "n_psu": self.n_psu,
                "design": self.design,
            }
        ).loc[:, ESTIMATE_COLUMNS]
