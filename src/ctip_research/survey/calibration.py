"""Calibration of survey weights: post-stratification, raking and linear (GREG) calibration.

Each method returns calibrated weights and a *step* that knows how the calibration changes the
variance. As R ``survey`` does (``svyrecvar``), the influence values ``z`` of a statistic are
replaced before the design variance by their residuals from the calibration model:

- post-stratification (R ``postStratify``): ``z - w* zbar_g`` with ``zbar_g`` the mean of ``z / w*``
  in post-stratum ``g`` weighted by the weights before calibration;
- raking (R ``rake``): ten sweeps, margin after margin, of ``z - w* ave(z / w*)`` (unweighted means
  within the margin's categories), R's iterated projection;
- linear / GREG calibration and calibration with the raking distance (R ``calibrate``,
  ``calfun="linear"`` or ``"raking"``): ``z - w* x'B``, the residuals of the weighted least-squares
  regression of ``z / w`` on the calibration variables with the weights before calibration.

With the jackknife every replicate is calibrated again (R ``postStratify``/``rake``/``calibrate``
on a replicate design).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ctip_research.errors import SurveyDesignError
from ctip_research.estimation.kernels import group_sums

__all__ = ["Calibration", "GregCalibration", "PostStratification", "Raking"]

FloatArray = np.ndarray


def _cells(data: pd.DataFrame, by: list[str], population: Any) -> tuple[np.ndarray, np.ndarray]:
    """Cell code of every row and the population count of every cell."""
    for c in by:
        if c not in data.columns:
            raise SurveyDesignError(f"calibration column {c!r} is not in the survey data")
        if data[c].isna().any():
            raise SurveyDesignError(f"calibration column {c!r} has missing values")
    if isinstance(population, pd.Series):
        pop = population
    elif isinstance(population, pd.DataFrame):
        count = [c for c in population.columns if c not in by]
        if len(count) != 1:
            raise SurveyDesignError("a population table needs the cell columns and one count")
        pop = population.set_index(by)[count[0]]
    elif isinstance(population, dict):
        pop = pd.Series(population)
    else:
        raise SurveyDesignError("population must be a dict, Series or DataFrame of counts")
    keys = list(zip(*[data[c] for c in by], strict=True)) if len(by) > 1 else data[by[0]].tolist()
    index = {
        k if not isinstance(k, tuple) or len(by) > 1 else k[0]: i for i, k in enumerate(pop.index)
    }
    text_index = {str(k): i for k, i in index.items()}
    codes = np.empty(len(data), dtype=np.intp)
    for r, key in enumerate(keys):
        i = index.get(key)
        if i is None:
            i = text_index.get(str(key))
        if i is None:
            raise SurveyDesignError(
                f"calibration cell {key!r} of {by} is in the sample but not in the population"
            )
        codes[r] = i
    totals = pop.to_numpy(dtype=np.float64)
    present = np.bincount(codes, minlength=len(totals)) > 0
    if not present.all():
        absent = [str(k) for k, p in zip(pop.index, present, strict=True) if not p]
        raise SurveyDesignError(f"population cells with no sampled unit: {absent}")
    return codes, totals


def _scale_to(w: FloatArray, codes: np.ndarray, totals: FloatArray) -> FloatArray:
    sums = group_sums(w, codes, len(totals))
    out: FloatArray = w * (totals / sums)[codes]
    return out


class Calibration:
    """A calibration step: ``weights(w)`` recalibrates, ``residualise(z)`` adjusts influence values."""

    label: str = ""

    def weights(self, w: FloatArray) -> FloatArray:  # pragma: no cover - interface
        """The weights ``w`` recalibrated to the population (for a replicate: its weights)."""
        raise NotImplementedError

    def residualise(self, z: FloatArray) -> FloatArray:  # pragma: no cover - interface
        """The influence values ``z`` (rows: units) adjusted for the calibration (R ``svyrecvar``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class PostStratification(Calibration):
    """Post-stratification on the cells of ``by`` (R ``postStratify``)."""

    by: tuple[str, ...]
    codes: np.ndarray
    totals: FloatArray
    old_weights: FloatArray
    new_weights: FloatArray

    @property
    def label(self) -> str:  # type: ignore[override]
        """What the calibration did, for result summaries."""
        return "post-stratified on " + "x".join(self.by)

    @classmethod
    def fit(cls, data: pd.DataFrame, w: FloatArray, by: list[str], population: Any) -> Any:
        """Calibrate the weights ``w`` of ``data``; the step with its new weights."""
        codes, totals = _cells(data, by, population)
        return cls(tuple(by), codes, totals, w, _scale_to(w, codes, totals))

    def weights(self, w: FloatArray) -> FloatArray:
        """The weights ``w`` recalibrated to the population totals."""
        return _scale_to(w, self.codes, self.totals)

    def residualise(self, z: FloatArray) -> FloatArray:
        """The influence values ``z`` adjusted for the calibration (R ``svyrecvar``)."""
        z2 = z.reshape(len(self.codes), -1)
        psw, oldw = self.new_weights, self.old_weights
        g = len(self.totals)
        den = group_sums(oldw, self.codes, g)
        num = group_sums(z2 * oldw[:, None] / psw[:, None], self.codes, g)
        out: FloatArray = z2 - (num / den[:, None])[self.codes] * psw[:, None]
        return out


@dataclass(frozen=True)
class Raking(Calibration):
    """Raking (iterative proportional fitting) to the margins of several variables (R ``rake``)."""

    margins: tuple[tuple[str, np.ndarray, FloatArray], ...]
    new_weights: FloatArray
    tol: float = 1e-10
    max_iter: int = 100

    @property
    def label(self) -> str:  # type: ignore[override]
        """What the calibration did, for result summaries."""
        return "raked on " + ", ".join(m[0] for m in self.margins)

    @classmethod
    def fit(cls, data: pd.DataFrame, w: FloatArray, margins: dict[str, Any]) -> Any:
        """Calibrate the weights ``w`` of ``data``; the step with its new weights."""
        parts = []
        for col, pop in margins.items():
            codes, totals = _cells(data, [col], pop)
            parts.append((col, codes, totals))
        step = cls(tuple(parts), w)
        return cls(tuple(parts), step.weights(w))

    def weights(self, w: FloatArray) -> FloatArray:
        """The weights ``w`` recalibrated to the population totals."""
        out = w.copy()
        for _ in range(self.max_iter):
            before = out.copy()
            for _, codes, totals in self.margins:
                out = _scale_to(out, codes, totals)
            if np.max(np.abs(out - before)) < self.tol * out.sum():
                return out
        raise SurveyDesignError(f"raking did not converge in {self.max_iter} iterations")

    def residualise(self, z: FloatArray) -> FloatArray:
        """The influence values ``z`` adjusted for the calibration (R ``svyrecvar``)."""
        out = z.reshape(len(self.new_weights), -1).copy()
        psw = self.new_weights
        for _ in range(10):  # R svyrecvar: ten sweeps of the margin projections
            for _, codes, _totals in self.margins:
                g = int(codes.max()) + 1
                counts = np.bincount(codes, minlength=g).astype(float)
                means = group_sums(out / psw[:, None], codes, g) / counts[:, None]
                out = out - psw[:, None] * means[codes]
        return out


@dataclass(frozen=True)
class GregCalibration(Calibration):
    """Calibration to population totals of the columns of a model matrix (R ``calibrate``)."""

    formula: str
    matrix: np.ndarray
    totals: FloatArray
    calfun: Literal["linear", "raking"]
    old_weights: FloatArray
    new_weights: FloatArray

    @property
    def label(self) -> str:  # type: ignore[override]
        """What the calibration did, for result summaries."""
        return f"calibrated ({self.calfun}) on {self.formula}"

    @classmethod
    def fit(
        cls,
        data: pd.DataFrame,
        w: FloatArray,
        formula: str,
        totals: dict[str, float] | pd.Series,
        calfun: Literal["linear", "raking"],
    ) -> Any:
        """Calibrate the weights ``w`` of ``data``; the step with its new weights."""
        from formulaic import model_matrix

        if calfun not in ("linear", "raking"):
            raise SurveyDesignError(f"calfun must be 'linear' or 'raking', got {calfun!r}")
        rhs = formula.split("~")[-1]
        try:
            mm = model_matrix(rhs, data, na_action="raise")
        except Exception as exc:
            raise SurveyDesignError(
                f"cannot build the calibration matrix of {rhs!r}: {exc}"
            ) from None
        names = [str(c) for c in mm.columns]
        tot = pd.Series(totals, dtype=float)
        missing = [n for n in names if n not in tot.index]
        extra = [n for n in tot.index if n not in names]
        if missing or extra:
            raise SurveyDesignError(
                f"calibration totals must name the columns {names}; missing {missing}, "
                f"unknown {extra}"
            )
        x = np.asarray(mm, dtype=np.float64)
        step = cls(rhs, x, tot[names].to_numpy(), calfun, w, w)
        return cls(rhs, x, step.totals, calfun, w, step.weights(w))

    def weights(self, w: FloatArray) -> FloatArray:
        """The weights ``w`` recalibrated to the population totals."""
        x, pop = self.matrix, self.totals
        if self.calfun == "linear":
            t = (x * w[:, None]).T @ x
            lam = np.linalg.solve(t, pop - w @ x)
            out: FloatArray = w * (1.0 + x @ lam)
            return out
        eta = np.zeros(x.shape[1])
        for _ in range(100):
            g = np.exp(x @ eta)
            misfit = pop - (w * g) @ x
            if np.max(np.abs(misfit)) < 1e-10 * max(1.0, float(np.max(np.abs(pop)))):
                return w * g
            jac = (x * (w * g)[:, None]).T @ x
            eta = eta + np.linalg.lstsq(jac, misfit, rcond=None)[0]
        raise SurveyDesignError("raking calibration did not converge in 100 iterations")

    def residualise(self, z: FloatArray) -> FloatArray:
        """The influence values ``z`` adjusted for the calibration (R ``svyrecvar``)."""
        z2 = z.reshape(self.matrix.shape[0], -1)
        whalf = np.sqrt(self.old_weights)
        g = self.new_weights / self.old_weights
        xs = self.matrix * whalf[:, None]
        target = z2 / (g * whalf)[:, None]
        coef = np.linalg.lstsq(xs, target, rcond=None)[0]
        resid = target - xs @ coef
        out: FloatArray = resid * (g * whalf)[:, None]
        return out
