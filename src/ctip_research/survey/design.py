"""The survey design object: design-based means, totals, proportions, ratios and GLMs.

:class:`SurveyDesign` binds a pandas DataFrame to its sampling design (weights, strata, PSUs nested
in strata, first-stage FPC) and estimates with Taylor linearisation (default) or the delete-one-PSU
jackknife. Taylor estimates of means, totals, ratios and proportions are computed by ``svy``
(polars + Rust; checked against R ``survey`` in ``tests/reference``); design effects, the jackknife,
lonely-PSU rules and GLMs with average marginal effects are computed here with numpy on the
influence functions (:mod:`ctip_research.survey._engine`).

Rules stated once (see ``docs/survey-design.md``):

- PSU ids are nested in strata (Stata; R ``nest=TRUE``).
- ``fpc``: values above 1 are the number of PSUs in the stratum population, values in (0, 1] the
  first-stage sampling fraction (R ``svydesign(fpc=)``).
- Degrees of freedom: PSUs minus strata; for a domain, PSUs minus strata holding domain members
  (R ``degf`` of the subset design, svy). With the jackknife: the full design's.
- Missing values in an analysis variable: those rows leave the estimate (domain indicator = 0) but
  stay in the design, so the PSU structure and the errors are those of the full design.
- Domains (``by=``) always use the full design with a domain indicator, never a subset.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from ctip_research.errors import SurveyDesignError
from ctip_research.literals import GlmFamily, GlmHessian, GlmLink, LonelyPsu, VarianceMethod
from ctip_research.survey._engine import (
    DesignArrays,
    FloatArray,
    build_design_arrays,
    domain_df,
    linearized_vcov,
)
from ctip_research.survey.calibration import Calibration
from ctip_research.survey.replicate import (
    jackknife_ratio_se,
    jackknife_vcov,
    replicate_weight_factors,
)
from ctip_research.survey.results import TIDY_COLUMNS, Estimate, logit_interval, t_interval

if TYPE_CHECKING:
    from ctip_research.survey.glm import SurveyGLMResults

_SVY_SINGLETON: dict[str, Literal["skip", "center"] | None] = {
    "fail": None,
    "certainty": "skip",
    "remove": "skip",
    "adjust": "center",
}
_W, _S, _P, _F = "__ctip_w", "__ctip_s", "__ctip_psu", "__ctip_fpc"
DeffKind = Literal["replace", "srswor"]


def _names(cols: str | Sequence[str] | None) -> str | None:
    if cols is None:
        return None
    return cols if isinstance(cols, str) else "+".join(cols)


#: Key of the level column of a proportion table (internal).
_LEVEL = "__ctip_level"


class SurveyDesign:
    """A DataFrame bound to its sampling design.

    Parameters
    ----------
    data
        One row per sampled unit.
    weight
        Sampling-weight column (``None``: all weights 1).
    strata
        Stratum column (``None``: one stratum).
    psu
        PSU (cluster) column, nested in strata (``None``: every row is its own PSU).
    fpc
        First-stage finite-population correction: number of PSUs in the stratum population
        (values > 1) or sampling fraction (values in (0, 1]); constant within a stratum.
    lonely_psu
        Rule for a stratum with one PSU, as R's ``options(survey.lonely.psu)``: ``"fail"`` raises,
        ``"certainty"`` and ``"remove"`` let it add nothing to the variance, ``"adjust"`` centres
        it at the grand mean of PSU totals.
    variance
        ``"taylor"`` (linearisation) or ``"jackknife"`` (delete-one-PSU, JK1/JKn, with FPC).
    conf_level
        Confidence level of the intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "w": [1.0] * 6,
    ...                    "s": [1, 1, 1, 2, 2, 2], "v": [1, 1, 2, 1, 2, 2]})
    >>> design = SurveyDesign(df, weight="w", strata="s", psu="v")
    >>> round(design.mean("y").estimate, 3)
    3.5
    >>> design.df
    2
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weight: str | None = None,
        strata: str | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        *,
        lonely_psu: LonelyPsu = "fail",
        variance: VarianceMethod = "taylor",
        conf_level: float = 0.95,
        deff: DeffKind = "replace",
        mse: bool = False,
    ) -> None:
        if variance not in ("taylor", "jackknife"):
            raise SurveyDesignError(f"variance must be 'taylor' or 'jackknife', got {variance!r}")
        if lonely_psu not in _SVY_SINGLETON:
            raise SurveyDesignError(
                f"lonely_psu must be one of {sorted(_SVY_SINGLETON)}, got {lonely_psu!r}"
            )
        if not 0.0 < conf_level < 1.0:
            raise SurveyDesignError(f"conf_level must be in (0, 1), got {conf_level!r}")
        if deff not in ("replace", "srswor"):
            raise SurveyDesignError(f"deff must be 'replace' or 'srswor', got {deff!r}")
        self.data = data.reset_index(drop=True)
        self.deff: DeffKind = deff
        self.mse = bool(mse)
        self.weight, self.strata, self.psu, self.fpc = weight, strata, psu, fpc
        self.lonely_psu: LonelyPsu = lonely_psu
        self.variance: VarianceMethod = variance
        self.conf_level = conf_level
        self.arrays: DesignArrays = build_design_arrays(
            self.data, weight=weight, strata=strata, psu=psu, fpc=fpc, lonely_psu=lonely_psu
        )
        self._svy_cache: Any = None
        self._svy_columns: tuple[str, ...] = ()
        #: calibration steps applied to the sampling weights, in order
        self.calibration: tuple[Calibration, ...] = ()
        self._base_weights = self.arrays.weights

    # ------------------------------------------------------------------ description
    @property
    def n_obs(self) -> int:
        """Number of rows."""
        return self.arrays.n_obs

    @property
    def n_psu(self) -> int:
        """Number of PSUs (nested in strata)."""
        return self.arrays.n_psu

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return self.arrays.n_strata

    @property
    def df(self) -> int:
        """Design degrees of freedom: PSUs minus strata."""
        return self.arrays.df

    def describe(self) -> str:
        """One line naming the design, for table footers (``design`` column of estimates.csv)."""
        parts = [
            f"weights={self.weight or 'none'}",
            f"strata={self.strata or 'none'} ({self.n_strata})",
            f"psu={_names(self.psu) or 'rows'} ({self.n_psu})",
            f"fpc={_names(self.fpc) or 'none'}",
            f"variance={self.variance}"
            + (" (mse)" if self.mse and self.variance == "jackknife" else ""),
            f"lonely_psu={self.lonely_psu}",
        ]
        if self.weight is None and self.fpc is not None:
            parts[0] = "weights=from fpc"
        parts += [c.label for c in self.calibration]
        return "survey: " + ", ".join(parts)

    def __repr__(self) -> str:
        return f"SurveyDesign(n_obs={self.n_obs}, {self.describe()}, df={self.df})"

    def with_variance(self, variance: VarianceMethod, *, mse: bool | None = None) -> SurveyDesign:
        """The same design (calibration included) with another variance method.

        ``mse=True`` centres the jackknife at the full-sample estimate instead of the mean of
        the replicates (R ``svrepdesign(mse=TRUE)`` / ``options(survey.replicates.mse=TRUE)``).
        """
        if variance not in ("taylor", "jackknife"):
            raise SurveyDesignError(f"variance must be 'taylor' or 'jackknife', got {variance!r}")
        out = copy.copy(self)
        out.variance = variance
        if mse is not None:
            out.mse = bool(mse)
        return out

    def _with_weights(self, weights: FloatArray, step: Calibration) -> SurveyDesign:
        out = copy.copy(self)
        out.arrays = dataclasses.replace(self.arrays, weights=np.asarray(weights, dtype=float))
        out.calibration = (*self.calibration, step)
        out._svy_cache = None
        out._svy_columns = ()
        return out

    # ------------------------------------------------------------------ calibration
    def poststratify(self, by: str | Sequence[str], population: Any) -> SurveyDesign:
        """Post-stratify the weights to known population counts (R ``postStratify``).

        Parameters
        ----------
        by
            Post-stratum column(s); with several columns the cells are their combinations.
        population
            Population count per cell: a dict ``{level: count}`` (tuples of levels for several
            columns), a Series, or a DataFrame with the ``by`` columns and one count column.

        Returns
        -------
        SurveyDesign
            The design with calibrated weights; variances use the post-stratified influence
            values (the within-cell residuals).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": ["a", "a", "b", "b"],
        ...                    "w": [1.0, 1.0, 1.0, 1.0]})
        >>> d = SurveyDesign(df, weight="w").poststratify("g", {"a": 30, "b": 10})
        >>> d.total("y").estimate
        80.0
        """
        from ctip_research.survey.calibration import PostStratification

        cols = [by] if isinstance(by, str) else list(by)
        step = PostStratification.fit(self.data, self.arrays.weights, cols, population)
        return self._with_weights(step.new_weights, step)

    def rake(self, margins: dict[str, Any]) -> SurveyDesign:
        """Rake the weights to known population margins (R ``rake``), to convergence.

        ``margins`` maps a column to its population counts (``{level: count}`` or a Series).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "a": ["x", "x", "z", "z"],
        ...                    "b": ["p", "q", "p", "q"], "w": [1.0] * 4})
        >>> d = SurveyDesign(df, weight="w").rake({"a": {"x": 6, "z": 4}, "b": {"p": 5, "q": 5}})
        >>> round(d.total("y").estimate, 6)
        23.0
        """
        from ctip_research.survey.calibration import Raking

        step = Raking.fit(self.data, self.arrays.weights, margins)
        return self._with_weights(step.new_weights, step)

    def calibrate(
        self,
        formula: str,
        totals: dict[str, float] | pd.Series,
        *,
        calfun: Literal["linear", "raking"] = "linear",
    ) -> SurveyDesign:
        """Calibrate the weights to population totals of a model matrix (R ``calibrate``).

        ``calfun="linear"`` is GREG / linear calibration (chi-square distance; weights may turn
        negative), ``"raking"`` the multiplicative (raking-ratio) distance. ``totals`` names the
        columns of the model matrix of ``formula`` (formulaic names: ``Intercept``,
        ``stype[T.H]``, ``api99`` ...).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": [1.0, 2.0, 2.0, 3.0],
        ...                    "w": [2.0] * 4})
        >>> d = SurveyDesign(df, weight="w").calibrate("~ x", {"Intercept": 10, "x": 22})
        >>> round(float(d.arrays.weights.sum()), 6)
        10.0
        """
        from ctip_research.survey.calibration import GregCalibration

        step = GregCalibration.fit(self.data, self.arrays.weights, formula, totals, calfun)
        return self._with_weights(step.new_weights, step)

    # ------------------------------------------------------------------ variance core
    def vcov_of(self, z: FloatArray) -> FloatArray:
        """Taylor covariance of the totals of influence values ``z`` (already weighted):
        calibration residuals first, then strata, PSUs, FPC and the second stage.
        """
        zz = z.reshape(self.arrays.n_obs, -1)
        for step in reversed(self.calibration):
            zz = step.residualise(zz)
        return linearized_vcov(self.arrays, zz)

    def replicate_weights(self) -> Any:
        """Yield ``(psu, weights)`` for every delete-one-PSU jackknife replicate, calibrated
        again when the design is calibrated.
        """
        for p, factor in replicate_weight_factors(self.arrays):
            w = self._base_weights * factor
            for step in self.calibration:
                w = step.weights(w)
            yield p, w

    def jackknife(self, statistic: Any, full: FloatArray) -> FloatArray:
        """Jackknife covariance of ``statistic(weights)`` (a vector) over the replicates."""
        full = np.atleast_1d(np.asarray(full, dtype=float))
        thetas = np.tile(full, (self.arrays.n_psu, 1))
        for p, w in self.replicate_weights():
            thetas[p] = statistic(w)
        return jackknife_vcov(self.arrays, thetas, centre=full if self.mse else None)

    @property
    def _plain(self) -> bool:
        """Can svy compute the Taylor estimates (single stage, no calibration)?"""
        return not self.calibration and self.arrays.stage2 is None

    # ------------------------------------------------------------------ public estimators
    def mean(self, y: str, *, by: str | Sequence[str] | None = None) -> Any:
        """Design-based mean of ``y`` (an :class:`Estimate`; a tidy DataFrame with ``by``).

        Examples
        --------
        >>> import pandas as pd
        >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 3.0], "w": [1.0, 3.0]}), weight="w")
        >>> d.mean("y").estimate
        2.5
        """
        return self._estimate("mean", y, None, by)

    def total(self, y: str, *, by: str | Sequence[str] | None = None) -> Any:
        """Design-based total of ``y`` (an :class:`Estimate`; a tidy DataFrame with ``by``).

        Examples
        --------
        >>> import pandas as pd
        >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 3.0], "w": [1.0, 3.0]}), weight="w")
        >>> d.total("y").estimate
        10.0
        """
        return self._estimate("total", y, None, by)

    def ratio(self, y: str, x: str, *, by: str | Sequence[str] | None = None) -> Any:
        """Ratio of totals ``Y / X`` (an :class:`Estimate`; a tidy DataFrame with ``by``).

        Rows where ``y`` or ``x`` is missing leave both totals.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 3.0], "x": [2.0, 2.0], "w": [1.0, 1.0]})
        >>> SurveyDesign(df, weight="w").ratio("y", "x").estimate
        1.0
        """
        return self._estimate("ratio", y, x, by)

    def proportion(
        self, y: str, *, level: Any = None, by: str | Sequence[str] | None = None
    ) -> Any:
        """Share of units with ``y == level`` (logit-scale interval, R ``svyciprop`` "logit").

        Without ``level``, a 0/1 or boolean ``y`` gives the share of 1/True as an
        :class:`Estimate`; any other ``y`` gives a tidy DataFrame with one row per level
        (``term`` = ``"y=level"``). With ``by``, always a tidy DataFrame.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [0, 1, 1, 1], "w": [1.0, 1.0, 1.0, 1.0]})
        >>> SurveyDesign(df, weight="w").proportion("y").estimate
        0.75
        """
        observed = self.column(y).dropna()
        if observed.empty:
            raise SurveyDesignError(f"column {y!r} has no non-missing values")
        levels = sorted(pd.unique(observed).tolist(), key=lambda v: (str(type(v)), v))
        binary = set(levels) <= {0, 1}
        if level is not None:
            chosen = [level]
        elif binary:
            chosen = [True if observed.dtype == bool else 1]
        else:
            chosen = levels
        table = self._proportion_table(y, chosen, by)
        if by is None and (level is not None or binary):
            return self._row_to_estimate("proportion", table.iloc[0])
        return table

    def glm(
        self,
        formula: str,
        *,
        family: GlmFamily = "gaussian",
        link: GlmLink | None = None,
        domain: str | None = None,
        hessian: GlmHessian = "observed",
        df: Literal["design", "residual"] = "design",
    ) -> SurveyGLMResults:
        """Design-based GLM (see :func:`ctip_research.survey.glm.fit_survey_glm`).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 2.5, 4.0], "x": [0.0, 1.0, 2.0, 3.0],
        ...                    "w": [1.0, 1.0, 1.0, 1.0]})
        >>> res = SurveyDesign(df, weight="w").glm("y ~ x")
        >>> round(float(res.params["x"]), 2)
        0.95
        """
        from ctip_research.survey.glm import fit_survey_glm

        return fit_survey_glm(
            self, formula, family=family, link=link, domain=domain, hessian=hessian, df=df
        )

    def column(self, name: str) -> pd.Series:
        """A column of the survey data, one value per row of the design.

        Raises
        ------
        SurveyDesignError
            When the data has no such column.

        Examples
        --------
        >>> import pandas as pd
        >>> design = SurveyDesign(pd.DataFrame({"y": [1.0, 2.0], "w": [1.0, 1.0]}), weight="w")
        >>> design.column("y").tolist()
        [1.0, 2.0]
        """
        if name not in self.data.columns:
            raise SurveyDesignError(f"column {name!r} is not in the survey data")
        return self.data[name]

    # ------------------------------------------------------------------ helpers

    def _numeric(self, name: str) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Values of a numeric column (missing -> 0) and the mask of non-missing values."""
        col = self.column(name)
        if col.dtype == bool:
            col = col.astype(np.float64)
        if not pd.api.types.is_numeric_dtype(col):
            raise SurveyDesignError(f"column {name!r} is not numeric")
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isfinite(values)
        return np.where(ok, values, 0.0), ok

    @staticmethod
    def _by_list(by: str | Sequence[str] | None) -> list[str]:
        return [] if by is None else [by] if isinstance(by, str) else list(by)

    def _domains(self, by: list[str]) -> tuple[pd.DataFrame, list[npt.NDArray[np.bool_]]]:
        """Levels of the ``by`` columns (sorted) and their row masks; a row with a missing ``by``
        value belongs to no domain.
        """
        frame = pd.DataFrame({c: self.column(c) for c in by})
        grouped = frame.groupby(by, sort=True, observed=True, dropna=True)
        codes = grouped.ngroup().to_numpy()
        levels = grouped.size().reset_index()[by]
        return levels, [codes == g for g in range(len(levels))]

    def _srs_deff(
        self,
        kind: str,
        y: FloatArray,
        x: FloatArray | None,
        d: npt.NDArray[np.bool_],
        variance: float,
    ) -> float:
        """Design effect against simple random sampling of the same number of units.

        ``deff="replace"`` (default): SRS with replacement (Kish's deft squared; R
        ``deff="replace"``, svy ``deff="wr"``). ``deff="srswor"``: SRS without replacement
        from a population of ``N = sum of weights``, i.e. the SRS variance times
        ``(N - n) / N`` (R's default ``deff=TRUE``).
        """
        w = self.arrays.weights * d
        n = int(np.count_nonzero(d))
        if n < 2 or not variance > 0:
            return float("nan")
        big_w = w.sum()
        if kind == "ratio" and x is not None:
            r = (w * y).sum() / (w * x).sum()
            u = y - r * x
            xbar = (w * x).sum() / big_w
            var_u = n / (n - 1) * (w * (u - (w * u).sum() / big_w) ** 2).sum() / big_w
            v_srs = var_u / n / xbar**2
        else:
            ybar = (w * y).sum() / big_w
            var_y = n / (n - 1) * (w * (y - ybar) ** 2).sum() / big_w
            v_srs = var_y / n * (big_w**2 if kind == "total" else 1.0)
        if self.deff == "srswor":
            v_srs *= (big_w - n) / big_w
        return float(variance / v_srs) if v_srs > 0 else float("nan")

    def _svy(self, needed: Sequence[str]) -> Any:
        """The design and the ``needed`` columns as an svy Sample.

        The Sample is kept and reused while it holds the columns asked for; a new column rebuilds
        it with every column used so far. Only analysis columns go to polars: svy infers metadata
        for every column it is given, which costs more than the estimate on a wide table.
        """
        wanted = tuple(dict.fromkeys([*self._svy_columns, *needed]))
        if self._svy_cache is not None and set(needed) <= set(self._svy_columns):
            return self._svy_cache
        import svy

        a = self.arrays
        frame = pl.DataFrame({_W: a.weights, _S: a.stratum, _P: a.psu})
        columns = []
        for name in wanted:
            col = self.column(name)
            if col.dtype == bool:
                col = col.astype(np.float64)
            try:
                columns.append(pl.from_pandas(col.rename(str(name)), nan_to_null=True))
            except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
                raise SurveyDesignError(
                    f"column {name!r} ({col.dtype}) cannot be used in a design-based estimate"
                ) from exc
        frame = frame.hstack(columns)
        pop = None
        if self.fpc is not None:
            f = 1.0 - a.fpc_factor
            with np.errstate(divide="ignore", invalid="ignore"):
                n_pop = np.where(f > 0, a.n_psu_stratum / np.where(f > 0, f, 1.0), 0.0)
            frame = frame.with_columns(pl.Series(_F, n_pop[a.stratum]))
            pop = _F
        lonely = bool(np.any(a.n_psu_stratum == 1))
        design = svy.Design(
            stratum=_S if self.strata is not None else None,
            psu=_P if self.psu is not None else None,
            wgt=_W,
            pop_size=pop,
            singleton=_SVY_SINGLETON[self.lonely_psu] if lonely else None,
        )
        self._svy_cache = svy.Sample(frame, design)
        self._svy_columns = wanted
        return self._svy_cache

    def _svy_table(self, kind: str, y: str, x: str | None, by: list[str]) -> pd.DataFrame:
        """Taylor estimates from svy: by columns, level (for prop), est, se, lci, uci, df."""
        ns = self._svy([y, *([x] if x is not None else []), *by]).estimation
        kw: dict[str, Any] = {
            "by": (by[0] if len(by) == 1 else by) if by else None,
            "alpha": 1.0 - self.conf_level,
            "drop_nulls": True,
        }
        if kind == "ratio":
            assert x is not None
            res = ns.ratio(y, x, **kw)
        elif kind == "total":
            res = ns.total(y, **kw)
        elif kind == "proportion":
            res = ns.prop(y, **kw)
        else:
            res = ns.mean(y, **kw)
        return res.to_polars().to_pandas()

    @staticmethod
    def _lookup(table: pd.DataFrame, keys: dict[str, Any]) -> pd.Series:
        mask = np.ones(len(table), dtype=bool)
        for c, v in keys.items():
            mask &= np.array([_same(t, v) for t in table[c]], dtype=bool)
        if mask.sum() != 1:
            raise SurveyDesignError(f"svy returned no unique estimate for {keys}")
        return table.loc[mask].iloc[0]

    def _estimate(
        self, kind: str, y: str, x: str | None, by: str | Sequence[str] | None
    ) -> Estimate | pd.DataFrame:
        yv, yok = self._numeric(y)
        xv, xok = self._numeric(x) if x is not None else (None, np.ones_like(yok))
        ok = yok & xok
        term = f"{y}/{x}" if x is not None else y
        by_cols = self._by_list(by)
        if not ok.any():
            raise SurveyDesignError(f"no non-missing values of {term!r}")
        use_svy = self.variance == "taylor" and self._plain
        table = self._svy_table(kind, y, x, by_cols) if use_svy else None
        if not by_cols:
            return self._one(kind, term, yv, xv, ok, table, {})
        levels, masks = self._domains(by_cols)
        rows = []
        for g, mask in enumerate(masks):
            keys = {str(k): v for k, v in levels.iloc[g].items()}
            d = ok & mask
            row: dict[str, Any]
            if d.any():
                row = _tidy_row(self._one(kind, term, yv, xv, d, table, keys))
            else:  # a domain whose values are all missing: no estimate
                row = {"term": term, "n_obs": 0}
            rows.append({**keys, **row})
        return pd.DataFrame(rows, columns=[*by_cols, *TIDY_COLUMNS])

    def _one(
        self,
        kind: str,
        term: str,
        yv: FloatArray,
        xv: FloatArray | None,
        d: npt.NDArray[np.bool_],
        table: pd.DataFrame | None,
        keys: dict[str, Any],
    ) -> Estimate:
        """One estimate over the rows where ``d`` (domain and non-missing) is True."""
        if table is None:
            w = self.arrays.weights
            num = w * yv * d
            den = None if kind == "total" else (w * xv * d if xv is not None else w * d)
            if self.variance == "jackknife" and not self.calibration and not self.mse:
                est, se = jackknife_ratio_se(self.arrays, num, den)
            elif self.variance == "jackknife":
                ratio = den is not None
                xd = (xv if xv is not None else np.ones_like(yv)) * d

                def stat(wr: FloatArray) -> FloatArray:
                    top = float(wr @ (yv * d))
                    return np.array([top / float(wr @ xd) if ratio else top])

                est = float(num.sum() / den.sum()) if den is not None else float(num.sum())
                se = float(np.sqrt(self.jackknife(stat, np.array([est]))[0, 0]))
            else:  # Taylor on the numpy engine (two-stage or calibrated designs)
                if den is None:
                    est, z = float(num.sum()), num
                else:
                    big_x = float(den.sum())
                    est = float(num.sum()) / big_x
                    z = (num - est * den) / big_x
                se = float(np.sqrt(self.vcov_of(z)[0, 0]))
            df = (
                self.df if not keys or all(k == _LEVEL for k in keys) else domain_df(self.arrays, d)
            )
            if self.variance == "jackknife":
                df = self.df
            if kind == "proportion":
                lo, hi = logit_interval(est, se, df, self.conf_level)
            else:
                lo, hi = t_interval(est, se, df, self.conf_level)
        else:
            row = self._lookup(table, keys)
            est, se = float(row["est"]), float(row["se"])
            lo, hi = float(row["lci"]), float(row["uci"])
            # svy's domain df counts the PSUs and strata holding domain members (R degf of a
            # subset design); without domains, the design's df (missing values keep the design)
            df = int(row["df"]) if any(k != _LEVEL for k in keys) else self.df
        return Estimate(
            kind=kind,
            term=term,
            estimate=est,
            std_error=se,
            conf_low=lo,
            conf_high=hi,
            deff=self._srs_deff(kind, yv, xv, d, se**2),
            df=df,
            n_obs=int(np.count_nonzero(d)),
            conf_level=self.conf_level,
            variance=self.variance,
        )

    def _proportion_table(
        self, y: str, chosen: list[Any], by: str | Sequence[str] | None
    ) -> pd.DataFrame:
        col = self.column(y)
        ok = col.notna().to_numpy()
        by_cols = self._by_list(by)
        table = None
        if self.variance == "taylor" and self._plain:
            table = self._svy_table("proportion", y, None, by_cols).rename(columns={y: _LEVEL})
        if by_cols:
            levels, masks = self._domains(by_cols)
        else:
            levels, masks = pd.DataFrame(index=[0]), [np.ones(len(col), dtype=bool)]
        rows = []
        for g, mask in enumerate(masks):
            keys = {str(k): v for k, v in levels.iloc[g].items()}
            for level in chosen:
                term = f"{y}={level}"
                ind = (col == level).to_numpy(dtype=bool, na_value=False).astype(np.float64)
                d = ok & mask
                if not d.any():
                    rows.append({**keys, "term": term, "n_obs": 0})
                    continue
                est = self._one("proportion", term, ind, None, d, table, {**keys, _LEVEL: level})
                rows.append({**keys, **_tidy_row(est)})
        return pd.DataFrame(rows, columns=[*by_cols, *TIDY_COLUMNS])

    def _row_to_estimate(self, kind: str, row: pd.Series) -> Estimate:
        return Estimate(
            kind=kind,
            term=str(row["term"]),
            estimate=float(row["estimate"]),
            std_error=float(row["std_error"]),
            conf_low=float(row["conf_low"]),
            conf_high=float(row["conf_high"]),
            deff=float(row["deff"]),
            df=int(row["df"]),
            n_obs=int(row["n_obs"]),
            conf_level=self.conf_level,
            variance=self.variance,
        )


def _same(a: Any, b: Any) -> bool:
    """Equality of a level as svy returns it (polars) and as pandas holds it."""
    if a is None or b is None:
        return False
    try:
        if bool(a == b):
            return True
    except (TypeError, ValueError):
        pass
    return str(a) == str(b)


def _tidy_row(est: Estimate) -> dict[str, Any]:
    return {str(k): v for k, v in est.tidy().iloc[0].items()}
