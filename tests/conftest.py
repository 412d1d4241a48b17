"""Shared fixtures: the repository's params.yaml and temporary working directories."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ctip_research.config import Params, load_params

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where params.yaml and dvc.yaml live)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def params() -> Params:
    """The repository's params.yaml, validated."""
    return load_params(REPO_ROOT / "params.yaml")


@pytest.fixture()
def params_dict() -> dict:
    """The repository's params.yaml as a plain mutable dict (for tests that alter it)."""
    return yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
