"""Run the examples in the package's docstrings (``--doctest-modules``) from the repository root,
where they read ``params.yaml``, whatever directory pytest was started from."""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

ROOT = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _doctests_run_in_the_repository_root(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if isinstance(request.node, DoctestItem):
        monkeypatch.chdir(ROOT)
