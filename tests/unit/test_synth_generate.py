"""Unit tests of the synthetic survey generator (small draws)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ctip_research.config import parse_params
from ctip_research.config.synth import SynthParams
from ctip_research.errors import ParamsError
from ctip_research.ingest.pseudonymise import pseudonymise
from ctip_research.schemas import get_table, validate_table
from ctip_research.synth import DEMO_HMAC_KEY, generate_survey

REPO = Path(__file__).resolve().parents[2]
TABLES = ("households", "members", "loans", "migration_episodes")


def synth_dict(**design: object) -> dict:
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))["synth"]
    data["design"].update(design)
    return data


def small(n: int = 80, **changes: object) -> SynthParams:
    data = synth_dict(households_per_province=n)
    for dotted, value in changes.items():
        *parts, last = dotted.split("__")
        target = data
        for part in parts:
            target = target[part]
        target[last] = value
    return SynthParams.model_validate(data)


@pytest.fixture(scope="module")
def survey():
    return generate_survey(small())


def test_tables_satisfy_canonical_schemas_small_draw(survey) -> None:
    for name in TABLES:
        table = get_table(name)
        df = getattr(survey, name)
        assert list(df.columns) == table.columns
        validate_table(df, table)  # raises SchemaError on any failure
        assert len(df) > 0


def test_household_id_is_hmac_of_raw_id_with_demo_key(survey, params) -> None:
    keys = survey.household_keys
    assert params.privacy.demo_key == DEMO_HMAC_KEY
    expected = [pseudonymise(r, params.privacy.demo_key) for r in keys["raw_household_id"]]
    assert keys["household_id"].tolist() == expected
    assert set(survey.households["household_id"]) <= set(keys["household_id"])
    tiny = generate_survey(small(20))
    other = generate_survey(small(20), hmac_key="another key")
    assert not set(other.households["household_id"]) & set(tiny.households["household_id"])


def test_same_seed_gives_identical_tables_and_truth(survey) -> None:
    again = generate_survey(small())
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(survey, name), getattr(again, name))
    assert json.dumps(survey.truth, sort_keys=True) == json.dumps(again.truth, sort_keys=True)


def test_different_seed_gives_different_survey() -> None:
    one = generate_survey(small(20))
    other = generate_survey(SynthParams.model_validate({**small(20).model_dump(), "seed": 7}))
    assert not one.households["income_annual_usd"].equals(other.households["income_annual_usd"])


def test_panel_keeps_households_and_distress_across_waves(survey) -> None:
    hh = survey.households
    w1 = set(hh.loc[hh["wave"] == 1, "household_id"])
    w2 = set(hh.loc[hh["wave"] == 2, "household_id"])
    assert w2 <= w1
    attrition = 1 - len(w2) / len(w1)
    assert 0.03 < attrition < 0.14  # synth.design.attrition_rate = 0.08, ~650 households
    lat = survey.latent.pivot(index="household_id", columns="wave", values="distress").dropna()
    np.testing.assert_array_equal(lat[1].to_numpy(), lat[2].to_numpy())


def test_sample_sizes_follow_the_design(survey) -> None:
    hh = survey.households[survey.households["wave"] == 1]
    per_psu = hh.groupby("psu_id").size()
    assert per_psu.between(16, 20).all()
    per_prov = hh.groupby("province_code").size()
    assert sorted(per_prov.index) == [1, 2, 3, 9, 12, 14, 17, 18]
    assert per_prov.between(50, 115).all()  # about 80 per province
    assert (
        hh["stratum_id"]
        == hh["province_code"].map("{:02d}".format)
        + "-"
        + hh["is_urban"].map({True: "U", False: "R"})
    ).all()


def test_weights_sum_to_census_household_totals(survey) -> None:
    p = survey.params
    for wave in (1, 2):
        hh = survey.households[survey.households["wave"] == wave]
        totals = hh.groupby("province_code")["weight_household"].sum()
        for code, cal in p.provinces.items():
            assert totals[code] == pytest.approx(cal.census_households, rel=1e-9)


def test_programme_only_in_wave_two_rural_programme_provinces(survey) -> None:
    hh = survey.households
    g = hh[hh["received_livelihood_grant"].astype(bool)]
    assert (g["wave"] == 2).all()
    assert not g["is_urban"].astype(bool).any()
    assert set(g["province_code"]) <= set(survey.params.programme.provinces)
    assert g["representative_is_female"].notna().all()
    assert hh.loc[~hh["received_livelihood_grant"].astype(bool), "n_members_trained"].eq(0).all()


def test_current_migrants_match_members_away(survey) -> None:
    ep = survey.migration_episodes
    cur = ep[~ep["has_returned"].astype(bool)]
    away = survey.members[survey.members["is_away"].astype(bool)]
    key = ["household_id", "wave", "member_id"]
    assert set(map(tuple, cur[key].to_numpy())) == set(map(tuple, away[key].to_numpy()))
    m = cur.merge(away, on=key)
    intl = m["destination_country"] != "KH"
    assert (m.loc[intl, "migrant_type"] == "international").all()
    assert (m.loc[~intl, "migrant_type"] == "domestic").all()


def test_loan_instalments_consistent_with_term_and_rate(survey) -> None:
    lo = survey.loans
    mfi = lo[lo["lender_type"] == "mfi"]
    assert (mfi["interest_rate_annual"] <= 0.18 + 1e-12).all()
    r = mfi["interest_rate_annual"].to_numpy(float) / 12
    n = mfi["term_months"].to_numpy(float)
    annuity = mfi["principal_usd"].to_numpy(float) * r / (1 - (1 + r) ** -n)
    # instalments are reported rounded in their currency (1,000 riel, 1 USD, 10 baht)
    assert np.allclose(mfi["instalment_monthly_usd"].to_numpy(float), annuity, rtol=0.02, atol=0.5)
    assert (mfi["outstanding_usd"] <= mfi["principal_usd"] * 1.01 + 1).all()


def test_truth_records_every_headline_estimand(survey) -> None:
    est = survey.truth["estimands"]
    assert set(est) == {
        "mfi_international_migration",
        "over_indebtedness_international_migration",
        "over_indebtedness_risky_migration",
        "programme_risky_migration",
    }
    mfi = est["mfi_international_migration"]
    assert mfi["outcome"] == "has_international_migrant" and mfi["exposure"] == "has_mfi_loan"
    for key in ("ate_weighted", "ate_unweighted", "att_weighted", "late_complier_weighted"):
        assert np.isfinite(mfi["wave_1"][key])
    assert "within_household" in mfi
    assert np.isfinite(est["programme_risky_migration"]["wave_2"]["att_weighted"])
    assert "0.75" in est["over_indebtedness_international_migration"]["exposure_definition"]
    json.dumps(survey.truth)  # serialisable


def test_latent_over_indebtedness_matches_feature_definition(survey) -> None:
    """The exposure of the truth is the feature definition computed on the canonical tables."""
    p = survey.params.effects
    hh = survey.households
    key = ["household_id", "wave"]
    inst = survey.loans.groupby(key)["instalment_monthly_usd"].sum().rename("inst").reset_index()
    d = hh.merge(inst, on=key, how="left")
    ratio = d["inst"].fillna(0).to_numpy(float) / (d["income_annual_usd"].to_numpy(float) / 12)
    sacrifices = (
        d[["cope_reduce_food", "cope_sold_assets", "cope_sold_land", "cope_child_work_or_dropout"]]
        .astype(int)
        .sum(axis=1)
        .to_numpy()
    )
    d["oi"] = (ratio > p.over_indebted_ratio_threshold) | (
        sacrifices >= p.over_indebted_min_sacrifices
    )
    m = d.merge(survey.latent[[*key, "is_over_indebted"]], on=key)
    assert (m["oi"] == m["is_over_indebted"]).all()


def test_unknown_synth_key_is_rejected(params_dict) -> None:
    params_dict["synth"]["effects"]["mfi_on_migraton"] = 0.1
    with pytest.raises(ParamsError, match="synth.effects.mfi_on_migraton"):
        parse_params(params_dict)


def test_missing_province_is_rejected() -> None:
    data = synth_dict()
    del data["provinces"][18]
    with pytest.raises(ValueError, match="provinces must be exactly"):
        SynthParams.model_validate(data)
