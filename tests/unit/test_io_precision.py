"""Published numbers at a fixed precision: floats that differ only in their last binary digits
(as two installs of the same commit can produce) are written as the same bytes.

The reference for the rounding is Python's own ``format(x, ".10g")`` (the C library's printf
rules), not code of this package.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ctip_research.io import (
    PUBLISHED_DIGITS,
    dumps_json,
    read_json,
    round_significant,
    write_csv,
    write_json,
)


def _drift(x: float, ulps: int = 3) -> float:
    """``x`` moved by a few units in the last place (what another BLAS kernel may give)."""
    for _ in range(ulps):
        x = math.nextafter(x, math.inf)
    return x


VALUES = [0.1 + 0.2, 2 / 3, -0.012345678901234, 1234567.891011, 6.02214076e23, 1e-12 / 3]


def test_a_last_digit_drift_does_not_change_the_published_json(tmp_path: Path) -> None:
    base = {"estimate": VALUES, "nested": {"se": np.float64(1 / 7)}, "n": 12, "label": "x"}
    moved = {
        "estimate": [_drift(v) for v in VALUES],
        "nested": {"se": np.float64(_drift(1 / 7))},
        "n": 12,
        "label": "x",
    }
    assert dumps_json(base) != dumps_json(moved)  # at full precision the drift shows
    a = write_json(tmp_path / "a.json", base, digits=PUBLISHED_DIGITS).read_bytes()
    b = write_json(tmp_path / "b.json", moved, digits=PUBLISHED_DIGITS).read_bytes()
    assert a == b
    back = read_json(tmp_path / "a.json")
    assert back["estimate"] == [float(format(v, ".10g")) for v in VALUES]
    assert back["n"] == 12 and back["label"] == "x"


def test_a_last_digit_drift_does_not_change_the_published_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame({"term": ["a"] * len(VALUES), "estimate": VALUES})
    frame["mixed"] = pd.Series([v if i % 2 else str(i) for i, v in enumerate(VALUES)], dtype=object)
    moved = frame.assign(
        estimate=[_drift(v) for v in VALUES],
        mixed=[_drift(v) if i % 2 else str(i) for i, v in enumerate(VALUES)],
    )
    a = write_csv(tmp_path / "a.csv", frame, digits=PUBLISHED_DIGITS).read_bytes()
    b = write_csv(tmp_path / "b.csv", moved, digits=PUBLISHED_DIGITS).read_bytes()
    assert a == b
    back = pd.read_csv(tmp_path / "a.csv")
    assert back["estimate"].tolist() == [float(format(v, ".10g")) for v in VALUES]


def test_rounding_keeps_missing_and_infinite_values_and_non_floats() -> None:
    out = round_significant([math.nan, math.inf, None, True, 3, "1.23456789012345"])
    assert math.isnan(out[0]) and out[1] == math.inf
    assert out[2:] == [None, True, 3, "1.23456789012345"]


def test_the_saved_risk_model_is_the_same_bytes_after_a_last_digit_drift() -> None:
    import copy
    import pickle

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from ctip_research.risk.classifier import round_fitted

    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    model = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]).fit(X, y)
    coef = model.named_steps["model"].coef_.copy()
    moved = copy.deepcopy(model)
    for arr in (moved.named_steps["model"].coef_, moved.named_steps["scale"].mean_):
        arr[...] = np.vectorize(_drift)(arr)  # in place: the same objects, drifted values
    assert pickle.dumps(model) != pickle.dumps(moved)
    a = round_fitted(model, PUBLISHED_DIGITS)
    b = round_fitted(moved, PUBLISHED_DIGITS)
    assert pickle.dumps(a) == pickle.dumps(b)
    # the rounded model predicts as the fitted one (to far better than any use needs)
    np.testing.assert_allclose(a.predict_proba(X), model.predict_proba(X), rtol=1e-8)
    # the fitted model itself is left as it was
    np.testing.assert_array_equal(model.named_steps["model"].coef_, coef)
