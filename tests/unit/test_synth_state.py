"""Unit tests of the generator's typed state and its wave steps (small draws)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from ctip_research.config.synth import SynthParams
from ctip_research.synth import DEMO_HMAC_KEY, generate_survey
from ctip_research.synth._random import Streams
from ctip_research.synth.generate import _draw_households
from ctip_research.synth.state import Households, WaveDraw
from ctip_research.synth.wave import simulate_wave

REPO = Path(__file__).resolve().parents[2]
SYNTH = REPO / "src" / "ctip_research" / "synth"


@pytest.fixture(scope="module")
def params() -> SynthParams:
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))["synth"]
    data["design"]["households_per_province"] = 40
    return SynthParams.model_validate(data)


@pytest.fixture(scope="module")
def drawn(params: SynthParams) -> tuple[Households, WaveDraw]:
    s = Streams(params.seed)
    hh = _draw_households(params, s, DEMO_HMAC_KEY)
    return hh, simulate_wave(params, s, hh, 1, None, np.zeros(hh.n, dtype=bool))


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("module", ["tables.py", "truth.py", "wave.py", "episodes.py", "state.py"])
def test_generator_steps_do_not_import_generate(module: str) -> None:
    assert "ctip_research.synth.generate" not in _imported_modules(SYNTH / module)


def test_state_is_frozen(drawn: tuple[Households, WaveDraw]) -> None:
    hh, w1 = drawn
    with pytest.raises(dataclasses.FrozenInstanceError):
        hh.n = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        w1.d = w1.d  # type: ignore[misc]


def test_wave_draw_is_consistent_with_its_parts(drawn: tuple[Households, WaveDraw]) -> None:
    hh, w1 = drawn
    assert w1.t == 1 and len(w1.d) == hh.n
    np.testing.assert_array_equal(w1.intl, w1.est | w1.y_new)
    assert not (w1.est & w1.y_new).any()
    assert w1.cope is w1.obs.cope and "cope_migrate_to_repay" in w1.cope
    assert w1.po.risky_g1 is None  # programme outcomes exist in wave 2 only


def test_steps_reproduce_generate_survey(
    params: SynthParams, drawn: tuple[Households, WaveDraw]
) -> None:
    hh, w1 = drawn
    latent = generate_survey(params).latent
    first = latent[latent["wave"] == 1].sort_values("hh")
    np.testing.assert_array_equal(first["has_mfi_loan"].to_numpy(), w1.d)
    np.testing.assert_array_equal(first["has_international_migrant"].to_numpy(), w1.intl)
    np.testing.assert_array_equal(first["distress"].to_numpy(), hh.distress)
