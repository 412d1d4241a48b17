"""One result base class for every estimator of the package.

:class:`ModelResult` gives every fitted model -- :func:`~ctip_research.estimation.feols` (OLS,
absorbed fixed effects, IV), :func:`~ctip_research.estimation.logit` /
:func:`~ctip_research.estimation.probit` (model-based), ``SurveyDesign.glm`` (design-based) and the
pipeline's :class:`~ctip_research.models.results.RegressionResult` -- the same surface:

- ``params``, ``vcov`` (the full covariance matrix, intercept included), ``std_errors``;
- ``tidy()`` with the columns ``term, estimate, std_error, statistic, p_value, conf_low,
  conf_high`` (:data:`TIDY_COLUMNS`), the intercept included;
- ``glance()`` (one row of model statistics), ``conf_int(level)``, ``wald_test(...)``,
  ``summary()``, ``_repr_html_`` (a notebook shows the table), ``to_dict()``;
- the maketables plug-in (``maketables.ETable([res1, res2])`` builds an etable-style table).

Inference uses a t distribution on :attr:`ModelResult.df_inference` degrees of freedom, or the
normal distribution when it is ``None`` (maximum likelihood, as Stata's ``z``).
"""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctip_research.errors import CtipError

__all__ = ["TIDY_COLUMNS", "EstimationError", "ModelResult", "parse_hypotheses", "tidy_table"]

#: Columns of every ``tidy()`` table (house style), for every estimator.
TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


class EstimationError(CtipError):
    """A model cannot be fitted as asked (bad formula, unknown column, no degrees of freedom...)."""

    exit_code = 20


def tidy_table(
    terms: list[str],
    estimate: np.ndarray,
    std_error: np.ndarray,
    *,
    df: float | None,
    level: float = 0.95,
) -> pd.DataFrame:
    """A tidy coefficient table with a t(``df``) or normal (``df=None``) reference distribution.

    Examples
    --------
    >>> import numpy as np
    >>> tidy_table(["x"], np.array([1.0]), np.array([0.5]), df=None).round(3)
      term  estimate  std_error  statistic  p_value  conf_low  conf_high
    0    x       1.0        0.5        2.0    0.046      0.02       1.98
    """
    est = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    alpha = 1.0 - level
    if df is None or not np.isfinite(df):
        p = 2 * stats.norm.sf(np.abs(stat))
        crit = stats.norm.ppf(1 - alpha / 2)
    else:
        p = 2 * stats.t.sf(np.abs(stat), df)
        crit = stats.t.ppf(1 - alpha / 2, df)
    return pd.DataFrame(
        {
            "term": list(terms),
            "estimate": est,
            "std_error": se,
            "statistic": stat,
            "p_value": p,
            "conf_low": est - crit * se,
            "conf_high": est + crit * se,
        }
    )


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _split_terms(side: str) -> list[tuple[float, str | None]]:
    """``"2*a - b + 3"`` -> [(2, "a"), (-1, "b"), (3, None)] (names may hold brackets, dots)."""
    tokens: list[tuple[float, str | None]] = []
    depth = 0
    current = ""
    sign = 1.0
    parts: list[tuple[float, str]] = []
    for ch in side.strip():
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if (
            ch in "+-"
            and depth == 0
            and current.strip()
            and not re.fullmatch(r".*[eE]", current.strip())
        ):
            parts.append((sign, current))
            current = ""
            sign = 1.0 if ch == "+" else -1.0
            continue
        if ch in "+-" and depth == 0 and not current.strip():
            sign *= 1.0 if ch == "+" else -1.0
            continue
        current += ch
    if current.strip():
        parts.append((sign, current))
    for s, text in parts:
        text = text.strip()
        if re.fullmatch(_NUM, text):
            tokens.append((s * float(text), None))
            continue
        m = re.fullmatch(rf"({_NUM})\s*\*\s*(.+)", text)
        if m:
            tokens.append((s * float(m.group(1)), m.group(2).strip()))
        else:
            tokens.append((s, text))
    return tokens


def parse_hypotheses(hypotheses: list[str], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Linear restrictions ``R b = q`` from strings such as ``"x1 = x2"`` or ``"2*x1 + x2 = 1"``.

    A string without ``=`` means ``... = 0``.

    Examples
    --------
    >>> r, q = parse_hypotheses(["a = b", "b = 1"], ["a", "b"])
    >>> r.tolist(), q.tolist()
    ([[1.0, -1.0], [0.0, 1.0]], [0.0, 1.0])
    """
    index = {n: i for i, n in enumerate(names)}
    rows, rhs = [], []
    for h in hypotheses:
        left, _, right = h.partition("=")
        row = np.zeros(len(names))
        q = 0.0
        for side, sgn in ((left, 1.0), (right or "0", -1.0)):
            for coef, name in _split_terms(side):
                if name is None:
                    q -= sgn * coef
                elif name in index:
                    row[index[name]] += sgn * coef
                else:
                    raise EstimationError(
                        f"hypothesis {h!r}: {name!r} is not a coefficient ({', '.join(names)})"
                    )
        rows.append(row)
        rhs.append(q)
    return np.vstack(rows), np.asarray(rhs, dtype=float)


class ModelResult:
    """Base class of every fitted model (see the module docstring).

    Subclasses provide ``params`` (Series), ``vcov`` (DataFrame), ``n_obs``, ``conf_level`` and
    may override :attr:`df_inference`, :meth:`_glance_row`, :meth:`_header_lines` and
    :meth:`_footer_lines`.
    """

    params: pd.Series
    vcov: pd.DataFrame
    n_obs: int
    conf_level: float

    # ------------------------------------------------------------------ to override
    @property
    def df_inference(self) -> float | None:
        """Degrees of freedom of the t reference distribution (``None``: normal)."""
        return None

    @property
    def depvar(self) -> str:
        """Name of the dependent variable."""
        return ""

    @property
    def estimator(self) -> str:
        """Short name of the estimator (header of ``summary()``)."""
        return type(self).__name__

    @property
    def vcov_type(self) -> str:
        """How the covariance matrix was computed, in words."""
        return ""

    @property
    def fixef(self) -> tuple[str, ...]:
        """Absorbed fixed effects (empty when none)."""
        return ()

    def _glance_row(self) -> dict[str, Any]:
        return {}

    def _header_lines(self) -> list[str]:
        return []

    def _footer_lines(self) -> list[str]:
        return []

    # ------------------------------------------------------------------ accessors
    @property
    def std_errors(self) -> pd.Series:
        """Standard errors (square roots of the diagonal of :attr:`vcov`)."""
        return pd.Series(
            np.sqrt(np.clip(np.diag(self.vcov.to_numpy(dtype=float)), 0, None)),
            index=self.params.index,
            name="std_error",
        )

    def coef(self) -> pd.Series:
        """The coefficients (pyfixest-style accessor)."""
        return self.params

    def se(self) -> pd.Series:
        """The standard errors (pyfixest-style accessor)."""
        return self.std_errors

    # ------------------------------------------------------------------ tables and tests
    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """Coefficients: ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``.

        Every estimated coefficient is a row, the intercept included; ``level`` (default: the
        fit's ``conf_level``) sets the interval.
        """
        return tidy_table(
            [str(t) for t in self.params.index],
            self.params.to_numpy(dtype=float),
            self.std_errors.to_numpy(),
            df=self.df_inference,
            level=self.conf_level if level is None else level,
        )

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals at ``level``: columns ``conf_low`` and ``conf_high`` by term."""
        if not 0.0 < level < 1.0:
            raise EstimationError(f"level must be in (0, 1), got {level!r}")
        return self.tidy(level).set_index("term")[["conf_low", "conf_high"]]

    def glance(self) -> pd.DataFrame:
        """One row of model-level statistics (``n_obs``, fit statistics, errors...)."""
        row: dict[str, Any] = {
            "estimator": self.estimator,
            "depvar": self.depvar,
            "n_obs": self.n_obs,
            "df_inference": self.df_inference,
            "vcov_type": self.vcov_type,
            "fixef": "+".join(self.fixef),
        }
        row.update(self._glance_row())
        return pd.DataFrame([row])

    def wald_test(
        self,
        hypotheses: str | list[str] | None = None,
        *,
        terms: list[str] | None = None,
        r_matrix: np.ndarray | None = None,
        q: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Joint Wald test of linear restrictions ``R b = q`` with this fit's covariance matrix.

        Give either ``hypotheses`` (strings: ``"x1 = 0"``, ``"x1 = x2"``, ``"2*x1 + x2 = 1"``),
        ``terms`` (all equal to zero) or ``r_matrix`` and ``q``. With a t reference distribution
        the statistic is ``W / J`` against F(J, df) (Stata ``test``); otherwise ``W`` against
        chi2(J).

        Returns
        -------
        dict
            ``statistic``, ``df_num``, ``df_denom`` (NaN for chi2), ``p_value``, ``distribution``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from ctip_research.estimation import feols
        >>> df = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 4.8], "x": [0.0, 1.0, 2.0, 3.0, 4.0]})
        >>> round(float(feols("y ~ x", df).wald_test("x = 0")["statistic"]), 1)
        310.2
        """
        names = [str(t) for t in self.params.index]
        if r_matrix is not None:
            r = np.atleast_2d(np.asarray(r_matrix, dtype=float))
            qv = np.zeros(r.shape[0]) if q is None else np.asarray(q, dtype=float).ravel()
        elif terms is not None:
            missing = [t for t in terms if t not in names]
            if missing:
                raise EstimationError(f"not coefficients of this model: {missing}")
            r = np.vstack([np.eye(len(names))[names.index(t)] for t in terms])
            qv = np.zeros(len(terms))
        elif hypotheses is not None:
            hyp = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
            r, qv = parse_hypotheses(hyp, names)
        else:
            raise EstimationError("give hypotheses, terms or r_matrix")
        if r.shape[1] != len(names):
            raise EstimationError(f"R must have {len(names)} columns")
        b = self.params.to_numpy(dtype=float)
        v = self.vcov.to_numpy(dtype=float)
        diff = r @ b - qv
        middle = r @ v @ r.T
        wald = float(diff @ np.linalg.pinv(middle) @ diff)
        j = int(np.linalg.matrix_rank(middle))
        df = self.df_inference
        if df is None or not np.isfinite(df):
            return {
                "statistic": wald,
                "df_num": float(j),
                "df_denom": float("nan"),
                "p_value": float(stats.chi2.sf(wald, j)),
                "distribution": "chi2",  # type: ignore[dict-item]
            }
        f = wald / j
        return {
            "statistic": f,
            "df_num": float(j),
            "df_denom": float(df),
            "p_value": float(stats.f.sf(f, j, df)),
            "distribution": "F",  # type: ignore[dict-item]
        }

    # ------------------------------------------------------------------ display
    def summary(self) -> str:
        """Plain-text summary: header, coefficient table, fit statistics."""
        tab = self.tidy()
        stat_name = "z" if self.df_inference is None else "t"
        lines = [f"{self.estimator}: {self.depvar}", *self._header_lines()]
        lines.append(f"Observations: {self.n_obs}   Errors: {self.vcov_type}")
        if self.fixef:
            lines.append(f"Fixed effects: {', '.join(self.fixef)}")
        lines.append("")
        pct = round(100 * self.conf_level)
        lines.append(
            f"{'term':<28}{'estimate':>12}{'std_error':>12}{stat_name:>9}{'p_value':>10}"
            f"{f'[{pct}% conf.':>14}{'interval]':>12}"
        )
        for r in tab.itertuples(index=False):
            lines.append(
                f"{str(r.term)[:27]:<28}{r.estimate:>12.6g}{r.std_error:>12.6g}"
                f"{r.statistic:>9.3f}{r.p_value:>10.4f}{r.conf_low:>14.6g}{r.conf_high:>12.6g}"
            )
        footer = self._footer_lines()
        if footer:
            lines += ["", *footer]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """HTML table for notebooks: header lines, the tidy table, footer lines."""
        head = "".join(
            f"<div>{html.escape(x)}</div>"
            for x in [f"{self.estimator}: {self.depvar}", *self._header_lines()]
        )
        meta = f"<div>Observations: {self.n_obs}; errors: {html.escape(self.vcov_type)}</div>"
        table = self.tidy().to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
        foot = "".join(f"<div>{html.escape(x)}</div>" for x in self._footer_lines())
        return f'<div class="ctip-result">{head}{meta}{table}{foot}</div>'

    # ------------------------------------------------------------------ maketables plug-in
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
        return self.depvar

    @property
    def __maketables_fixef_string__(self) -> str | None:
        return "+".join(self.fixef) if self.fixef else None

    @property
    def __maketables_vcov_info__(self) -> dict[str, Any]:
        return {"vcov_type": self.vcov_type}

    @property
    def __maketables_default_stat_keys__(self) -> list[str]:
        return ["N", "r2"]

    def __maketables_stat__(self, key: str) -> Any:
        if key == "N":
            return self.n_obs
        if key == "se_type":
            return self.vcov_type
        row = self._glance_row()
        value = row.get(key)
        if isinstance(value, float | int | np.floating | np.integer) and np.isfinite(value):
            return value
        return None
