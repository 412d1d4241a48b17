"""Named scenarios of the synthetic survey: each departs from the default world where it says,
nowhere else, and keeps a truth computed from its own potential outcomes for every estimand.

Small draws (60 households per province, the repository's seed) compare a scenario with the
default world drawn from the same seed: the generator's named random streams make every draw the
scenario does not touch identical, so a difference can only come from the departure.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ctip_research.config import parse_params
from ctip_research.config.synth import DEFAULT_SCENARIO, SynthParams, apply_scenario
from ctip_research.errors import ParamsError
from ctip_research.models.validation import lookup_truth
from ctip_research.synth import generate_survey

TABLES = ("households", "members", "loans", "migration_episodes")
REPO = Path(__file__).resolve().parents[2]


def _synth(params_dict: dict, n: int = 60, scenario: str = DEFAULT_SCENARIO) -> SynthParams:
    data = copy.deepcopy(params_dict["synth"])
    data["design"]["households_per_province"] = n
    data["scenario"] = scenario
    return SynthParams.model_validate(data)


@pytest.fixture(scope="module")
def worlds() -> dict:
    """The default world and every scenario, drawn from the same seed."""
    params_dict = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    names = [DEFAULT_SCENARIO, *params_dict["synth"]["scenarios"]]
    return {name: generate_survey(_synth(params_dict, scenario=name)) for name in names}


def _wave(df: pd.DataFrame, wave: int) -> pd.DataFrame:
    return df[df["wave"] == wave].reset_index(drop=True)


def test_the_six_documented_scenarios_are_declared(params) -> None:
    assert set(params.synth.scenarios) == {
        "persistent_debt_migrants",
        "unobserved_targeting",
        "weak_instrument",
        "instrument_direct_effect",
        "differential_attrition",
        "misreported_debt",
    }
    assert params.synth.scenario == DEFAULT_SCENARIO
    for sc in params.synth.scenarios.values():
        assert sc.description and sc.breaks and sc.overrides


def test_default_world_is_params_as_written(params) -> None:
    assert apply_scenario(params.synth, DEFAULT_SCENARIO) == params.synth


def test_scenario_sets_only_its_overrides(params) -> None:
    base = params.synth.model_dump(exclude={"scenario"})
    for name, sc in params.synth.scenarios.items():
        world = apply_scenario(params.synth, name)
        assert world.scenario == name
        dumped = world.model_dump(exclude={"scenario"})
        changed = {
            f"{section}.{key}"
            for section, values in dumped.items()
            if isinstance(values, dict)
            for key in values
            if values[key] != base[section][key]
        }
        assert changed == {k for k, v in sc.overrides.items() if v != _get(base, k)}, name
        assert changed, f"{name} changes nothing"


def _get(data: dict, path: str) -> object:
    node: object = data
    for key in path.split("."):
        assert isinstance(node, dict)
        node = node[key]
    return node


def test_unknown_override_path_names_the_scenario_and_key(params_dict) -> None:
    params_dict["synth"]["scenarios"]["weak_instrument"]["overrides"] = {
        "effects.instrument_on_mfii": 0.02
    }
    with pytest.raises(ParamsError, match=r"scenarios\.weak_instrument.*instrument_on_mfii"):
        parse_params(params_dict)


def test_out_of_range_override_is_rejected_at_load(params_dict) -> None:
    params_dict["synth"]["scenarios"]["misreported_debt"]["overrides"] = {
        "credit.mfi_underreport_rate": 1.5
    }
    with pytest.raises(ParamsError, match=r"scenarios\.misreported_debt.*mfi_underreport_rate"):
        parse_params(params_dict)


def test_reserved_and_unknown_scenario_names_are_rejected(params_dict) -> None:
    bad = copy.deepcopy(params_dict)
    bad["synth"]["scenarios"]["default"] = bad["synth"]["scenarios"]["weak_instrument"]
    with pytest.raises(ParamsError, match="reserved"):
        parse_params(bad)
    bad = copy.deepcopy(params_dict)
    bad["synth"]["scenario"] = "weak_instrumnet"
    with pytest.raises(ParamsError, match="weak_instrumnet"):
        parse_params(bad)
    bad = copy.deepcopy(params_dict)
    bad["monte_carlo"]["scenarios"] = ["default", "no_such_world"]
    with pytest.raises(ParamsError, match="no_such_world"):
        parse_params(bad)


def test_every_scenario_has_a_finite_truth_for_every_validated_estimand(worlds, params) -> None:
    for name, survey in worlds.items():
        for model, path in params.fit.validation.estimands.items():
            assert np.isfinite(lookup_truth(survey.truth, path)), (name, model)
        assert survey.truth["params"]["scenario"] == name
        assert "scenarios" not in survey.truth["params"]


def test_persistent_debt_migrants_changes_wave_two_only(worlds) -> None:
    base, world = worlds["default"], worlds["persistent_debt_migrants"]
    for table in TABLES:
        pd.testing.assert_frame_equal(
            _wave(getattr(base, table), 1), _wave(getattr(world, table), 1)
        )
    lat_b, lat_w = _wave(base.latent, 2), _wave(world.latent, 2)
    # some wave-1 new migrants are still away in wave 2 (none are in the default world)
    new_w1 = set(base.latent.loc[(base.latent["wave"] == 1) & base.latent["new_migrant"], "hh"])
    still_b = lat_b.loc[lat_b["established_migrant"] & lat_b["hh"].isin(new_w1)]
    still_w = lat_w.loc[lat_w["established_migrant"] & lat_w["hh"].isin(new_w1)]
    assert len(still_w) > len(still_b)


def test_unobserved_targeting_selects_households_in_more_distress(worlds) -> None:
    def treated_distress(survey) -> float:
        lat = _wave(survey.latent, 2)
        return float(lat.loc[lat["programme"], "distress"].mean())

    base, world = worlds["default"], worlds["unobserved_targeting"]
    pd.testing.assert_frame_equal(_wave(base.households, 1), _wave(world.households, 1))
    assert treated_distress(world) > treated_distress(base) + 0.3


def test_weak_instrument_shrinks_the_first_stage_in_the_truth(worlds, params) -> None:
    path = "estimands.mfi_international_migration.wave_1.first_stage_points_per_sd"
    fs_base = lookup_truth(worlds["default"].truth, path)
    fs_weak = lookup_truth(worlds["weak_instrument"].truth, path)
    ratio = (
        params.synth.scenarios["weak_instrument"].overrides["effects.instrument_on_mfi"]
        / params.synth.effects.instrument_on_mfi
    )
    assert fs_weak == pytest.approx(ratio * fs_base, rel=0.15)


def test_instrument_direct_effect_is_recorded_and_leaves_exposure_unchanged(worlds) -> None:
    base, world = worlds["default"], worlds["instrument_direct_effect"]
    assert world.truth["structural"]["instrument_direct_effect"] > 0
    assert base.truth["structural"]["instrument_direct_effect"] == 0
    pd.testing.assert_series_equal(base.latent["has_mfi_loan"], world.latent["has_mfi_loan"])


def test_differential_attrition_loses_new_migrant_households_at_wave_two(worlds) -> None:
    base, world = worlds["default"], worlds["differential_attrition"]
    lost = set(_wave(base.households, 2)["household_id"]) - set(
        _wave(world.households, 2)["household_id"]
    )
    assert lost and set(_wave(world.households, 2)["household_id"]) < set(
        _wave(base.households, 2)["household_id"]
    )
    lat = _wave(base.latent, 2).set_index("household_id")
    assert lat.loc[sorted(lost), "new_migrant"].all()  # lost because a member left for abroad
    pd.testing.assert_frame_equal(_wave(base.households, 1), _wave(world.households, 1))


def test_misreported_debt_hides_loans_but_the_truth_uses_the_real_ones(worlds) -> None:
    base, world = worlds["default"], worlds["misreported_debt"]
    mfi_b = base.loans[base.loans["lender_type"] == "mfi"]
    mfi_w = world.loans[world.loans["lender_type"] == "mfi"]
    assert 0.6 < len(mfi_w) / len(mfi_b) < 0.9  # a quarter of borrowers hide their loans
    pd.testing.assert_series_equal(base.latent["has_mfi_loan"], world.latent["has_mfi_loan"])
    for path in (
        "estimands.mfi_international_migration.wave_1.ate_weighted",
        "estimands.mfi_international_migration.within_household.effect_weighted",
    ):
        assert lookup_truth(world.truth, path) == lookup_truth(base.truth, path)
    pd.testing.assert_frame_equal(base.households, world.households)
