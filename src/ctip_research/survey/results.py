"""Result objects of design-based estimation.

:class:`Estimate` is one descriptive estimate (mean, total, proportion, ratio) with its
design-based standard error, confidence interval, design effect and degrees of freedom. Domain
estimates and multi-level proportions come back as tidy DataFrames with the columns of
:data:`TIDY_COLUMNS` (house tidy columns plus ``deff``, ``df``, ``n_obs``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: Columns of every tidy table of descriptive estimates (domain columns come first).
TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "deff",
    "df",
    "n_obs",
)


def t_interval(
    estimate: float, std_error: float, df: float, conf_level: float
) -> tuple[float, float]:
    """Wald interval ``estimate -/+ t_{df, 1-alpha/2} * std_error``."""
    q = float(stats.t.ppf(0.5 + conf_level / 2.0, df))
    return estimate - q * std_error, estimate + q * std_error


def logit_interval(
    estimate: float, std_error: float, df: float, conf_level: float
) -> tuple[float, float]:
    """Interval for a proportion on the logit scale, back-transformed (R ``svyciprop`` "logit")."""
    if not 0.0 < estimate < 1.0 or not np.isfinite(std_error):
        return float("nan"), float("nan")
    q = float(stats.t.ppf(0.5 + conf_level / 2.0, df))
    centre = math.log(estimate / (1.0 - estimate))
    half = q * std_error / (estimate * (1.0 - estimate))
    return 1.0 / (1.0 + math.exp(-(centre - half))), 1.0 / (1.0 + math.exp(-(centre + half)))


def t_test(estimate: float, std_error: float, df: float) -> tuple[float, float]:
    """T statistic and two-sided p-value of ``estimate = 0`` on ``df`` degrees of freedom."""
    if not std_error > 0:
        return float("nan"), float("nan")
    t = estimate / std_error
    return t, float(2.0 * stats.t.sf(abs(t), df))


@dataclass(frozen=True)
class Estimate:
    """A design-based descriptive estimate.

    Attributes
    ----------
    kind
        ``"mean"``, ``"total"``, ``"proportion"`` or ``"ratio"``.
    term
        What was estimated: the variable (``"api00"``), ``"y/x"`` for a ratio, ``"y=level"`` for
        a proportion.
    estimate, std_error
        Point estimate and its design-based standard error.
    conf_low, conf_high
        Confidence interval: t on ``df`` (logit scale for proportions).
    deff
        Design effect against simple random sampling with replacement (Kish's deft squared; R
        ``deff="replace"``, svy ``deff="wr"``).
    df
        Degrees of freedom of the interval (design PSUs minus strata, of the domain if any).
    n_obs
        Rows that entered the estimate (after dropping missing values).
    conf_level
        Confidence level of the interval.
    variance
        ``"taylor"`` or ``"jackknife"``.
    """

    kind: str
    term: str
    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    deff: float
    df: int
    n_obs: int
    conf_level: float
    variance: str

    @property
    def statistic(self) -> float:
        """T statistic of ``estimate = 0``."""
        return t_test(self.estimate, self.std_error, self.df)[0]

    @property
    def p_value(self) -> float:
        """Two-sided p-value of ``estimate = 0`` on ``df`` degrees of freedom."""
        return t_test(self.estimate, self.std_error, self.df)[1]

    def tidy(self) -> pd.DataFrame:
        """One-row tidy DataFrame with the columns of :data:`TIDY_COLUMNS`.

        Examples
        --------
        >>> e = Estimate("mean", "y", 2.0, 0.5, 1.0, 3.0, 1.2, 10, 50, 0.95, "taylor")
        >>> list(e.tidy().columns)[:3]
        ['term', 'estimate', 'std_error']
        """
        row = {
            "term": self.term,
            "estimate": self.estimate,
            "std_error": self.std_error,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "conf_low": self.conf_low,
            "conf_high": self.conf_high,
            "deff": self.deff,
            "df": self.df,
            "n_obs": self.n_obs,
        }
        return pd.DataFrame([row], columns=list(TIDY_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form (plain floats and strings)."""
        return asdict(self)

    def __str__(self) -> str:
        pct = round(100 * self.conf_level)
        return (
            f"{self.kind} of {self.term}: {self.estimate:.6g} (SE {self.std_error:.6g}; "
            f"{pct}% CI {self.conf_low:.6g} to {self.conf_high:.6g}; deff {self.deff:.4g}; "
            f"df {self.df}; n {self.n_obs}; {self.variance})"
        )
