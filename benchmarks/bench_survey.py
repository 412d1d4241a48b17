"""Timing of the design layer on a large synthetic survey (not a test).

Run: ``python benchmarks/bench_survey.py [n_rows]`` (default 1,000,000 rows, 80 strata, 4,000 PSUs).
Prints seconds per call; the numbers in docs/survey-design.md come from this script.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ctip_research.survey import SurveyDesign


def make_frame(n: int, seed: int = 20221) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_psu = max(n // 250, 20)
    psu = rng.integers(0, n_psu, n)
    x = rng.normal(0, 1, n) + rng.normal(0, 0.5, n_psu)[psu]
    debt = (rng.uniform(size=n) < 0.4).astype(float)
    eta = -1.0 + 0.8 * x + 0.5 * debt
    return pd.DataFrame(
        {
            "y": (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float),
            "x": x,
            "debt": debt,
            "province": rng.integers(1, 9, n),
            "stratum": psu % 80,
            "psu": psu,
            "w": rng.uniform(50, 150, n_psu)[psu],
        }
    )


def timed(label: str, fn: Callable[[], Any]) -> None:
    t0 = time.perf_counter()
    fn()
    print(f"{label:<48}{time.perf_counter() - t0:8.2f} s")


def main(n: int) -> None:
    df = make_frame(n)
    print(f"{n:,} rows")
    design = SurveyDesign(df, weight="w", strata="stratum", psu="psu")
    timed("SurveyDesign(...)", lambda: SurveyDesign(df, weight="w", strata="stratum", psu="psu"))
    timed("mean (Taylor, svy)", lambda: design.mean("y"))
    timed("mean by province (8 domains)", lambda: design.mean("y", by="province"))
    timed("ratio", lambda: design.ratio("y", "x"))
    jk = design.with_variance("jackknife")
    timed("mean (jackknife)", lambda: jk.mean("y"))
    res = design.glm("y ~ x + debt", family="binomial")
    timed("glm logit y ~ x + debt", lambda: design.glm("y ~ x + debt", family="binomial"))
    timed(
        "glm probit y ~ x + debt",
        lambda: design.glm("y ~ x + debt", family="binomial", link="probit"),
    )
    timed("marginal_effects (unconditional)", res.marginal_effects)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
