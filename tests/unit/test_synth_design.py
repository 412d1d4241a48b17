"""Unit tests of the synthetic sampling frame (``ctip_research.synth.design``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ctip_research.config.synth import SynthParams
from ctip_research.synth._random import Streams
from ctip_research.synth.design import FRAME_VILLAGES_PER_PSU, draw_sample

REPO = Path(__file__).resolve().parents[2]


def _params(households_per_province: int) -> SynthParams:
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))["synth"]
    data["design"]["households_per_province"] = households_per_province
    return SynthParams.model_validate(data)


def _per_stratum(households_per_province: int):
    p = _params(households_per_province)
    sample = draw_sample(p, Streams(p.seed))
    return p, sample.groupby("stratum_id").agg(
        n_frame=("n_psu_stratum", "first"),
        n_frame_values=("n_psu_stratum", "nunique"),
        n_psu=("psu_id", "nunique"),
        n_villages=("village_code", "nunique"),
    )


@pytest.mark.parametrize("households_per_province", [80, 500, 20_000])
def test_frame_has_more_villages_than_sampled_in_every_stratum(households_per_province) -> None:
    _, per = _per_stratum(households_per_province)
    assert (per["n_frame_values"] == 1).all()
    assert (per["n_frame"] > per["n_psu"]).all()
    assert (per["n_frame"] > per["n_villages"]).all()
    assert (per["n_frame"] >= FRAME_VILLAGES_PER_PSU * per["n_psu"]).all()


def test_frame_at_default_size_is_the_census_frame() -> None:
    # At the default size the frame is the Census-based one (households / mean village size),
    # so growing the frame with the sample leaves the default survey unchanged.
    p, per = _per_stratum(500)
    d = p.design
    for sid, row in per.iterrows():
        code, kind = str(sid).split("-")
        cal = p.provinces[int(code)]
        urban = kind == "U"
        share = cal.urban_share if urban else 1.0 - cal.urban_share
        mean = d.mean_village_households_urban if urban else d.mean_village_households_rural
        assert row["n_frame"] == max(1, round(cal.census_households * share / mean))


def test_frame_grows_above_census_frame_at_census_scale() -> None:
    p, per = _per_stratum(20_000)
    # province 9 urban: 28,200 x 0.30 households / 450 per village = 19 villages in the census
    # frame (params.yaml synth.provinces), far fewer than the ~333 PSUs drawn at this size.
    assert per.loc["09-U", "n_psu"] > 19
    assert per.loc["09-U", "n_frame"] >= FRAME_VILLAGES_PER_PSU * per.loc["09-U", "n_psu"]
