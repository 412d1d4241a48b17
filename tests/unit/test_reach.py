"""Programme reach: disclosure of small cells, surveys without training modules, administrative
counts and the params entries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip_research import literals as L
from ctip_research.config import parse_params
from ctip_research.config.fit import DesignParams
from ctip_research.disclosure import DisclosurePolicy
from ctip_research.errors import ParamsError
from ctip_research.features.programme import PROGRAMME_INDICATORS
from ctip_research.models.reach import (
    compare_admin_counts,
    estimate_reach,
    gate_reach,
    reach_markdown,
)
from ctip_research.reporting.reach import REACH_TEMPLATES, reach_brief_section, reach_notes

DESIGN = DesignParams(
    weight="weight_household", strata="stratum_id", psu="psu_id", fpc=None, lonely_psu="adjust"
)
MODULES = [f"members_trained_{m}" for m in L.TRAINING_MODULES]


def _survey(*, supported_in_small: int = 4, seed: int = 7) -> pd.DataFrame:
    """Three provinces of 20 villages x 10 households: provinces 1 and 2 have about a third of
    households supported, province 3 exactly ``supported_in_small``."""
    rng = np.random.default_rng(seed)
    rows = []
    for prov in (1, 2, 3):
        for v in range(20):
            for h in range(10):
                rows.append({"province_code": prov, "psu_id": f"{prov}-{v}", "h": h})
    df = pd.DataFrame(rows)
    n = len(df)
    supported = rng.random(n) < 0.33
    small = np.flatnonzero(df["province_code"].to_numpy() == 3)
    supported[small] = False
    supported[small[:supported_in_small]] = True
    trained = np.where(supported, rng.integers(1, 4, n), 0)
    return df.assign(
        stratum_id=df["province_code"].astype(str),
        weight_household=rng.uniform(50, 150, n),
        received_livelihood_grant=pd.array(supported, dtype="boolean"),
        representative_is_female=pd.array(
            np.where(supported, rng.random(n) < 0.6, pd.NA), dtype="boolean"
        ),
        n_members_trained=pd.array(trained, dtype="Int64"),
        has_returned_migrant=pd.array(rng.random(n) < 0.2, dtype="boolean"),
        **{
            f"n_trained_{m}": pd.array(np.minimum(trained, rng.integers(0, 3, n)), dtype="Int64")
            for m in L.TRAINING_MODULES
        },
    )


@pytest.fixture(scope="module")
def policy(params) -> DisclosurePolicy:
    return DisclosurePolicy.from_privacy(params.privacy)


def test_province_with_few_supported_households_is_suppressed(policy) -> None:
    res = estimate_reach(_survey(), DESIGN, domains=["province_code"])
    table, record = gate_reach(res.table, policy)
    by_prov = table[(table["indicator"] == "households_supported") & (table["domain"] != "all")]
    small = by_prov[by_prov["level"] == "3"].iloc[0]
    assert small["status"] == "suppressed"
    assert np.isnan(small["estimate"]) and np.isnan(small["conf_low"])
    # secondary suppression: the additive line (provinces + all) never has exactly one
    # suppressed cell, which the others would give away
    line = table[table["indicator"] == "households_supported"]
    assert (line["status"] == "suppressed").sum() >= 2
    assert record["passed"] and record["n_suppressed"] >= 2
    # the published markdown says 'suppressed' and prints no number for that cell
    md = reach_markdown(table[table.index == small.name])
    assert "suppressed" in md and "4" not in md.splitlines()[2]


def test_enough_supported_households_are_published(policy) -> None:
    res = estimate_reach(_survey(supported_in_small=40), DESIGN, domains=["province_code"])
    table, _ = gate_reach(res.table, policy)
    sub = table[table["indicator"] == "households_supported"]
    assert (sub["status"] != "suppressed").all()
    assert (sub["conf_low"] < sub["estimate"]).all() and (sub["estimate"] < sub["conf_high"]).all()


def test_survey_without_training_modules_says_so_instead_of_failing(policy) -> None:
    df = _survey().drop(columns=[f"n_trained_{m}" for m in L.TRAINING_MODULES[:2]])
    df["n_trained_livelihood"] = pd.array([pd.NA] * len(df), dtype="Int64")  # mapped, never asked
    res = estimate_reach(df, DESIGN)
    assert res.not_recorded == MODULES
    assert not res.table["indicator"].isin(MODULES).any()
    assert res.table["indicator"].eq("members_trained").any()
    notes = reach_notes(res.not_recorded)
    assert REACH_TEMPLATES["note.not_recorded"] in notes
    table, _ = gate_reach(res.table, policy)
    assert "does not record the training module" in reach_markdown(table, notes=notes)
    # a survey that records them gets no such note
    assert REACH_TEMPLATES["note.not_recorded"] not in reach_notes([])


def test_every_declared_indicator_is_estimated_when_recorded() -> None:
    res = estimate_reach(_survey(), DESIGN)
    assert res.not_recorded == []
    assert set(res.table["indicator"]) == {i.name for i in PROGRAMME_INDICATORS}


def test_admin_count_inside_and_outside_the_interval() -> None:
    t = pd.DataFrame(
        {
            "indicator": ["households_supported", "households_supported", "members_trained"],
            "domain": ["all", "province_code", "all"],
            "conf_low": [900.0, 100.0, np.nan],
            "conf_high": [1200.0, 300.0, np.nan],
        }
    )
    out = compare_admin_counts(t, {"households_supported": 1000, "members_trained": 5})
    assert out["admin_count"].iloc[0] == 1000.0 and np.isnan(out["admin_count"].iloc[1])
    assert bool(out.loc[0, "admin_in_interval"]) is True
    assert pd.isna(out.loc[1, "admin_in_interval"])  # only on the overall row
    assert pd.isna(out.loc[2, "admin_in_interval"])  # suppressed estimate: no verdict
    out = compare_admin_counts(t, {"households_supported": 1500})
    assert bool(out.loc[0, "admin_in_interval"]) is False


def test_brief_section_reads_every_number_from_the_table(policy) -> None:
    res = estimate_reach(_survey(), DESIGN)
    table, _ = gate_reach(res.table, policy, admin_counts={"households_supported": 1.0})
    lead, text, rows = reach_brief_section(table)
    assert "lies outside the survey interval" in text.text
    sources = {e["source"] for e in text.trace}
    assert sources == {"reach/reach.csv"}
    assert len(rows) == 3 and all(len(r) == 3 for r in rows)
    total = table[(table["indicator"] == "households_supported") & (table["domain"] == "all")]
    assert f"{round(float(total['estimate'].iloc[0])):,}" in lead.text


def test_params_admin_counts_must_name_a_total(params_dict) -> None:
    params_dict["reach"]["admin_counts"] = {"female_representative_share": 0.6}
    with pytest.raises(ParamsError, match=r"reach\.admin_counts"):
        parse_params(params_dict)
    params_dict["reach"]["admin_counts"] = {"households_supported": -3}
    with pytest.raises(ParamsError, match=r"reach\.admin_counts"):
        parse_params(params_dict)
    params_dict["reach"]["admin_counts"] = {"households_supported": 2400}
    assert parse_params(params_dict).reach.admin_counts == {"households_supported": 2400.0}


def test_params_reach_unknown_key_and_level(params_dict) -> None:
    params_dict["reach"]["conf_levl"] = 0.9
    with pytest.raises(ParamsError, match=r"reach\.conf_levl: unknown key"):
        parse_params(params_dict)
    del params_dict["reach"]["conf_levl"]
    params_dict["reach"]["conf_level"] = 95
    with pytest.raises(ParamsError, match=r"reach\.conf_level"):
        parse_params(params_dict)


@pytest.mark.parametrize(
    "modules",
    [
        {"tip_safe_migration": 0.8, "market_linkage": 0.4},  # one missing
        {"tip_safe_migration": 0.8, "market_linkage": 0.4, "livelihood": 0.6, "tailoring": 1},
        {"tip_safe_migration": 1.2, "market_linkage": 0.4, "livelihood": 0.6},
    ],
)
def test_params_training_modules_are_validated(params_dict, modules) -> None:
    params_dict["synth"]["programme"]["training_modules"] = modules
    with pytest.raises(ParamsError, match=r"synth\.programme\.training_modules"):
        parse_params(params_dict)
