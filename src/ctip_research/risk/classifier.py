"""Risk-screening classifiers: a scikit-learn ``Pipeline`` from wave-1 features to a risk score.

The pipeline is a ``ColumnTransformer`` (numeric: optional ``log1p``, median imputation with
missing-value indicators, standardisation; categorical: one-hot) with
``set_output(transform="pandas")``, followed by either a ridge-regularised
``LogisticRegression`` or a ``HistGradientBoostingClassifier``. Survey weights are passed to the
final step through :func:`fit_classifier`, normalised to mean 1 so that the regularisation strength
does not depend on the size of the population the weights sum to.

The scores are screening scores for groups of households, never labels for individuals
(``docs/risk-model.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from ctip_research.literals import ClassifierKind

__all__ = [
    "ClassifierSpec",
    "build_classifier",
    "fit_classifier",
    "make_design_matrix",
    "predict_risk",
    "round_fitted",
    "single_threaded",
    "transformed_columns",
]


def single_threaded() -> threadpool_limits:
    """Context manager limiting BLAS and OpenMP to one thread.

    The survey data are small (thousands of rows); on a shared machine, oversubscribed OpenMP
    threads slow ``HistGradientBoostingClassifier`` down about twentyfold, and one thread also
    keeps the fits bit-for-bit reproducible.
    """
    return threadpool_limits(limits=1)


def round_fitted(estimator: Any, digits: int) -> Any:
    """A copy of a fitted estimator (a pipeline and its steps too) whose learned float values
    (attributes ending in ``_``: coefficients, scaler means, imputer statistics) are rounded to
    ``digits`` significant digits, so that its serialised bytes do not change with the last
    digits a BLAS kernel or a thread count leaves (the saved risk model).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> m = LinearRegression().fit(np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 2.0 / 3]))
    >>> round_fitted(m, 4).coef_
    array([0.3333])
    """
    import copy

    from ctip_research.io import round_significant

    def walk(obj: Any, seen: set[int]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, list | tuple):
            for item in obj:
                walk(item, seen)
            return
        if not hasattr(obj, "get_params"):
            return
        for name, value in list(vars(obj).items()):
            if name.endswith("_") and not name.startswith("_"):
                if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                    setattr(obj, name, round_significant(value, digits))
                elif isinstance(value, float | np.floating):
                    setattr(obj, name, round_significant(value, digits))
            if isinstance(value, list | tuple) or hasattr(value, "get_params"):
                walk(value, seen)

    out = copy.deepcopy(estimator)
    walk(out, set())
    return out


#: Name of the final pipeline step (sample weights are routed to ``"<step>__sample_weight"``).
MODEL_STEP = "model"


@dataclass(frozen=True)
class ClassifierSpec:
    """What to build: model family, predictors and hyper-parameters.

    Parameters
    ----------
    kind
        ``"logistic"`` (L2-regularised) or ``"gradient_boosting"``.
    numeric
        Numeric or boolean predictor columns.
    categorical
        Categorical predictor columns (one-hot encoded; unknown categories ignored).
    log
        Subset of ``numeric`` transformed with ``log1p`` (negative values are clipped at 0).
    hyper
        Keyword arguments of the final estimator (e.g. ``{"C": 1.0, "max_iter": 2000}``).
    seed
        ``random_state`` of the estimator.
    """

    kind: ClassifierKind
    numeric: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    log: tuple[str, ...] = ()
    hyper: dict[str, float | int] = field(default_factory=dict)
    seed: int = 0

    @property
    def columns(self) -> list[str]:
        """All predictor columns, numeric first."""
        return [*self.numeric, *self.categorical]


def _log1p_clipped(x: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(np.log1p(x.clip(lower=0)), index=x.index, columns=x.columns)


def build_classifier(spec: ClassifierSpec) -> Pipeline:
    """Build the (unfitted) preprocessing + model pipeline described by ``spec``.

    Examples
    --------
    >>> spec = ClassifierSpec("logistic", numeric=("x",), hyper={"C": 1.0})
    >>> pipe = build_classifier(spec)
    >>> [name for name, _ in pipe.steps]
    ['prepare', 'model']
    """
    log = [c for c in spec.numeric if c in spec.log]
    plain = [c for c in spec.numeric if c not in spec.log]
    scale = spec.kind == "logistic"

    def numeric_steps(with_log: bool) -> Pipeline:
        steps: list[tuple[str, object]] = []
        if with_log:
            steps.append(
                ("log1p", FunctionTransformer(_log1p_clipped, feature_names_out="one-to-one"))
            )
        steps.append(("impute", SimpleImputer(strategy="median", add_indicator=True)))
        if scale:
            steps.append(("scale", StandardScaler()))
        return Pipeline(steps)

    transformers: list[tuple[str, object, list[str]]] = []
    if plain:
        transformers.append(("num", numeric_steps(False), plain))
    if log:
        transformers.append(("log", numeric_steps(True), log))
    if spec.categorical:
        transformers.append(
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
                list(spec.categorical),
            )
        )
    prepare = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=True)
    prepare.set_output(transform="pandas")

    model: LogisticRegression | HistGradientBoostingClassifier
    if spec.kind == "logistic":
        hyper = {"C": 1.0, "max_iter": 1000, **spec.hyper}
        model = LogisticRegression(
            C=float(hyper["C"]),
            max_iter=int(hyper["max_iter"]),
            solver="lbfgs",
            random_state=spec.seed,
        )
    elif spec.kind == "gradient_boosting":
        model = HistGradientBoostingClassifier(
            early_stopping=False, random_state=spec.seed, **spec.hyper
        )
    else:  # pragma: no cover - guarded by the Literal type
        raise ValueError(f"unknown classifier kind {spec.kind!r}")
    return Pipeline([("prepare", prepare), (MODEL_STEP, model)])


def make_design_matrix(data: pd.DataFrame, spec: ClassifierSpec) -> pd.DataFrame:
    """Select the predictors of ``spec`` with plain dtypes sklearn accepts.

    Numeric and nullable boolean columns become ``float64`` (``pd.NA`` -> ``NaN``, imputed in the
    pipeline); categorical columns become strings (missing -> ``"missing"``).

    Examples
    --------
    >>> df = pd.DataFrame({"x": pd.array([True, None], dtype="boolean"), "p": [1, 2]})
    >>> X = make_design_matrix(df, ClassifierSpec("logistic", ("x",), ("p",)))
    >>> X["x"].tolist(), X["p"].tolist()
    ([1.0, nan], ['1', '2'])
    """
    missing = [c for c in spec.columns if c not in data.columns]
    if missing:
        raise KeyError(f"predictor columns not in the data: {missing}")
    out = pd.DataFrame(index=data.index)
    for col in spec.numeric:
        out[col] = pd.to_numeric(data[col].astype("Float64"), errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    for col in spec.categorical:
        values = data[col].astype("string").fillna("missing")
        out[col] = values.to_numpy(dtype=object)
    return out


def _normalised(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("survey weights must be finite, non-negative and not all zero")
    return w / w.mean()


def fit_classifier(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray,
    *,
    sample_weight: Sequence[float] | np.ndarray | None = None,
) -> Pipeline:
    """Fit a clone of ``pipeline`` with survey weights routed to the model step.

    The weights are rescaled to mean 1 (scale-free for the fit, and the regularisation keeps its
    meaning whatever the population total).

    Examples
    --------
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> pipe = build_classifier(ClassifierSpec("logistic", ("x",)))
    >>> fitted = fit_classifier(pipe, X, [0, 0, 1, 1], sample_weight=[1, 2, 1, 2])
    >>> predict_risk(fitted, X).shape
    (4,)
    """
    model = clone(pipeline)
    y_arr = np.asarray(y, dtype=np.int64)
    with single_threaded():
        if sample_weight is None:
            model.fit(X, y_arr)
        else:
            model.fit(X, y_arr, **{f"{MODEL_STEP}__sample_weight": _normalised(sample_weight)})
    return model


def predict_risk(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Predicted probability of the positive class (the risk score), as a float array."""
    with single_threaded():
        proba = model.predict_proba(X)
    classes = list(model.classes_)
    return np.asarray(proba[:, classes.index(1)], dtype=np.float64)


def transformed_columns(model: Pipeline, feature: str) -> list[str]:
    """Names of the columns the fitted ``prepare`` step makes from one input ``feature``.

    The value itself, its missing-value indicator, or its one-hot block: permuting the rows of
    this block is the same as permuting the input column (every transformation is row-wise).

    Examples
    --------
    >>> X = pd.DataFrame({"x": [0.0, None, 2.0, 3.0], "p": ["a", "b", "a", "b"]})
    >>> spec = ClassifierSpec("logistic", ("x",), ("p",))
    >>> fitted = fit_classifier(build_classifier(spec), X, [0, 1, 0, 1])
    >>> transformed_columns(fitted, "x"), transformed_columns(fitted, "p")
    (['num__x', 'num__missingindicator_x'], ['cat__p_a', 'cat__p_b'])
    """
    prepare = model.named_steps["prepare"]
    names = set(prepare.get_feature_names_out().tolist())
    out: list[str] = []
    for tname, trans, cols in prepare.transformers_:
        if feature not in list(cols):
            continue
        if isinstance(trans, OneHotEncoder):
            cats = trans.categories_[list(cols).index(feature)]
            out.extend(f"{tname}__{feature}_{c}" for c in cats)
        else:
            out.extend(
                n
                for n in (f"{tname}__{feature}", f"{tname}__missingindicator_{feature}")
                if n in names
            )
    missing = [n for n in out if n not in names]
    if not out or missing:
        raise KeyError(f"cannot locate the transformed columns of {feature!r}")
    return out
