"""The tour in docs/api.md runs: every example is executed and its printed output compared."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_api_tour_runs_and_prints_what_the_page_says() -> None:
    result = doctest.testfile(
        str(DOC),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
        report=True,
    )
    assert result.attempted > 30
    assert result.failed == 0


@pytest.mark.parametrize(
    "module",
    [
        "ctip_research.estimation.linear",
        "ctip_research.estimation.binary",
        "ctip_research.estimation.results",
        "ctip_research.estimation.covariance",
        "ctip_research.estimation.kernels",
        "ctip_research.survey.design",
        "ctip_research.models.tables",
        "ctip_research.config.fit",
    ],
)
def test_docstring_examples_of_the_estimation_api_run(module: str) -> None:
    import importlib

    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_top_level_names_are_lazy_and_complete() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ctip_research as ct; assert 'ctip_research.estimation' not in sys.modules;"
        "ct.feols; assert 'ctip_research.estimation.linear' in sys.modules;"
        "[getattr(ct, n) for n in ct.__all__]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
