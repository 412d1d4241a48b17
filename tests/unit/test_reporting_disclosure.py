"""Unit and property tests of the disclosure-control gate (design/data-protection.md).

Thresholds: rule of 10 (ONS/ABS/ACRO), 11 for trafficking cases (CTDC, CMS), reliability 25/50
(DHS), dominance (1,50) and (2,67) (ABS), residual df >= 10 (design/data-protection.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctip_research.config.privacy import PrivacyParams
from ctip_research.errors import DisclosureError
from ctip_research.reporting.disclosure import (
    DisclosureThresholds,
    apply_disclosure_control,
    check_artefact,
    check_cells,
    check_frame,
    check_regression,
    dominance_violations,
)

THR = DisclosureThresholds()


def _share_cells(nums: list[int], dens: list[int], *, margin: bool = True) -> pd.DataFrame:
    t = pd.DataFrame(
        {
            "province": [f"p{i}" for i in range(len(nums))],
            "estimate": [n / d if d else 0.0 for n, d in zip(nums, dens, strict=True)],
            "conf_low": 0.0,
            "conf_high": 1.0,
            "kind": "share",
            "n_numerator": nums,
            "n_denominator": dens,
        }
    )
    if margin:
        tot = pd.DataFrame(
            {
                "province": ["Total"],
                "estimate": [sum(nums) / sum(dens)],
                "conf_low": 0.0,
                "conf_high": 1.0,
                "kind": "share",
                "n_numerator": [sum(nums)],
                "n_denominator": [sum(dens)],
            }
        )
        t = pd.concat([t, tot], ignore_index=True)
    return t


def test_check_artefact_fails_when_a_cell_is_under_the_minimum() -> None:
    table = _share_cells([9, 40], [100, 100], margin=False)
    with pytest.raises(DisclosureError, match="min_cell_count"):
        check_artefact(table, THR, name="under")


def test_check_artefact_passes_when_every_cell_is_large() -> None:
    table = _share_cells([60, 40], [100, 100])
    record = check_artefact(table, THR, name="ok", dims=["province"])
    assert record["passed"] and record["n_suppressed"] == 0


def test_check_artefact_fails_for_a_record_level_table() -> None:
    records = pd.DataFrame({"household_id": ["a1", "b2"], "total_debt_usd": [100.0, 250.0]})
    with pytest.raises(DisclosureError, match="record_level"):
        check_artefact(records, THR, name="records", artefact_type="frame")


def test_check_frame_fails_without_count_column() -> None:
    frame = pd.DataFrame({"province": ["A", "B"], "mean_debt_usd": [100.0, 250.0]})
    assert not check_frame(frame, THR, name="no_counts")["passed"]


def test_check_frame_passes_for_an_aggregate_with_counts() -> None:
    frame = pd.DataFrame({"province": ["A", "B"], "n_households": [120, 340]})
    assert check_frame(frame, THR, name="agg")["passed"]


def test_gate_suppresses_small_numerator_and_keeps_the_cell() -> None:
    table = _share_cells([3, 40, 30], [100, 100, 100])
    res = apply_disclosure_control(table, THR, name="t", dims=["province"])
    assert len(res.table) == len(table)
    row = res.table.iloc[0]
    assert row["status"] == "suppressed" and row["suppression_reason"] == "min_cell_count"
    assert np.isnan(row["estimate"]) and np.isnan(row["conf_low"]) and np.isnan(row["n_numerator"])


def test_gate_uses_eleven_for_trafficking_cells() -> None:
    table = _share_cells([10, 10], [200, 200], margin=False)
    table["is_trafficking"] = [True, False]
    res = apply_disclosure_control(table, THR, name="t")
    assert res.table["status"].tolist() == ["suppressed", "published"]


def test_gate_suppresses_under_25_and_flags_25_to_49() -> None:
    table = _share_cells([12, 12, 30], [24, 25, 50], margin=False)
    res = apply_disclosure_control(table, THR, name="t")
    assert res.table["status"].tolist() == ["suppressed", "flagged", "published"]
    assert res.table["suppression_reason"].iloc[0] == "reliability"
    assert res.record["n_flagged"] == 1


def test_check_cells_fails_when_a_25_to_49_cell_is_not_flagged() -> None:
    table = _share_cells([12], [30], margin=False)
    table["status"] = "published"
    record = check_cells(table, THR, name="t")
    assert not record["passed"]
    assert [c["check"] for c in record["checks"] if not c["passed"]] == ["reliability_flag"]


def test_gate_secondary_suppression_protects_a_single_suppressed_cell() -> None:
    table = _share_cells([5, 40, 30, 60], [100, 150, 90, 200])
    res = apply_disclosure_control(table, THR, name="t", dims=["province"])
    status = res.table["status"].tolist()
    assert status.count("suppressed") == 2
    # the smallest other interior cell (n=90) takes the secondary suppression, not the margin
    assert res.table.loc[2, "suppression_reason"] == "secondary"
    assert status[-1] == "published"


def test_check_cells_fails_when_a_suppressed_cell_is_recoverable_from_the_margin() -> None:
    table = _share_cells([5, 40, 30], [100, 150, 90])
    table["status"] = ["suppressed", "published", "published", "published"]
    table.loc[0, ["estimate", "conf_low", "conf_high", "n_numerator", "n_denominator"]] = np.nan
    record = check_cells(table, THR, name="t", dims=["province"])
    failing = [c["check"] for c in record["checks"] if not c["passed"]]
    assert failing == ["secondary_suppression"]


def test_check_cells_fails_when_a_suppressed_cell_still_shows_its_value() -> None:
    table = _share_cells([5, 40], [100, 150], margin=False)
    table["status"] = ["suppressed", "published"]
    record = check_cells(table, THR, name="t")
    assert [c["check"] for c in record["checks"] if not c["passed"]] == ["suppressed_blank"]


def test_gate_secondary_suppression_in_two_dimensions() -> None:
    rows = []
    for a in ["a1", "a2", "a3", "Total"]:
        for b in ["b1", "b2", "Total"]:
            rows.append({"area": a, "band": b})
    t = pd.DataFrame(rows)
    rng = np.random.default_rng(1)
    t["n_denominator"] = rng.integers(100, 300, len(t))
    t["n_numerator"] = rng.integers(30, 90, len(t))
    t.loc[0, "n_numerator"] = 4  # a1 x b1
    t["kind"] = "share"
    t["estimate"] = t["n_numerator"] / t["n_denominator"]
    res = apply_disclosure_control(t, THR, name="t2", dims=["area", "band"])
    sup = res.table["status"] == "suppressed"
    assert sup.sum() >= 4  # a 2x2 rectangle at least
    record = check_cells(res.table, THR, name="t2", dims=["area", "band"])
    assert record["passed"]


def test_dominance_rules_one_fifty_and_two_sixty_seven() -> None:
    t = pd.DataFrame(
        {
            "kind": ["money", "money", "money", "share"],
            "top1_value": [51.0, 40.0, 30.0, 99.0],
            "top2_value": [1.0, 28.0, 30.0, 1.0],
            "total_value": [100.0, 100.0, 100.0, 100.0],
        }
    )
    assert dominance_violations(t, THR).tolist() == [True, True, False, False]


def test_gate_suppresses_dominated_money_cells_and_drops_contributions() -> None:
    t = pd.DataFrame(
        {
            "lender": ["mfi", "moneylender"],
            "estimate": [3000.0, 900.0],
            "kind": "money",
            "n_numerator": [200, 60],
            "n_denominator": [400, 400],
            "top1_value": [9000.0, 40000.0],
            "top2_value": [8000.0, 500.0],
            "total_value": [600000.0, 54000.0],
        }
    )
    res = apply_disclosure_control(t, THR, name="m")
    assert res.table["status"].tolist() == ["published", "suppressed"]
    assert res.table["suppression_reason"].iloc[1] == "dominance"
    assert not {"top1_value", "top2_value", "total_value"} & set(res.table.columns)


def test_check_cells_fails_for_money_without_contributions() -> None:
    t = pd.DataFrame(
        {"estimate": [3000.0], "kind": ["money"], "n_numerator": [200], "n_denominator": [400]}
    )
    assert not check_cells(t, THR, name="m")["passed"]


def test_check_regression_fails_with_too_few_residual_df() -> None:
    est = pd.DataFrame(
        {
            "model": ["small"] * 3,
            "outcome": "y",
            "exposure": "x",
            "term": ["x", "a", "b"],
            "estimate": [0.1, 0.2, 0.3],
            "n_obs": 12,
            "n_psu": 40,
        }
    )
    with pytest.raises(DisclosureError, match="residual_df"):
        check_artefact(est, THR, name="reg", artefact_type="regression")


def test_check_regression_fails_with_too_few_psus() -> None:
    est = pd.DataFrame(
        {
            "model": ["m"],
            "outcome": "y",
            "exposure": "x",
            "term": ["x"],
            "estimate": [0.1],
            "n_obs": [3000],
            "n_psu": [8],
        }
    )
    record = check_regression(est, THR, name="reg")
    assert [c["check"] for c in record["checks"] if not c["passed"]] == ["cluster_df"]


def test_check_regression_passes_for_a_large_model() -> None:
    est = pd.DataFrame(
        {
            "model": ["m", "m"],
            "outcome": "y",
            "exposure": "x",
            "term": ["x", "c"],
            "estimate": [0.1, 0.0],
            "n_obs": [3000, 3000],
            "n_psu": [200, 200],
        }
    )
    assert check_artefact(est, THR, name="reg", artefact_type="regression")["passed"]


def test_thresholds_follow_params_privacy(params_dict: dict) -> None:
    privacy = PrivacyParams.model_validate(
        {**params_dict["privacy"], "min_cell_count": 12, "dominance_n2_pct": 70}
    )
    thr = DisclosureThresholds.from_privacy(privacy)
    assert (thr.min_cell_count, thr.dominance_n2_pct) == (12, 70.0)
    table = _share_cells([11, 40], [100, 100], margin=False)
    res = apply_disclosure_control(table, thr, name="t")
    assert res.table["status"].tolist() == ["suppressed", "published"]


# ---------------------------------------------------------------- property tests

counts = st.integers(min_value=0, max_value=400)


@st.composite
def share_tables(draw: st.DrawFn) -> pd.DataFrame:
    n_rows = draw(st.integers(1, 4))
    n_cols = draw(st.integers(1, 4))
    rows = []
    for r in range(n_rows):
        for c in range(n_cols):
            den = draw(st.integers(0, 300))
            num = draw(st.integers(0, den))
            rows.append(
                {"area": f"a{r}", "band": f"b{c}", "n_denominator": den, "n_numerator": num}
            )
    cells = pd.DataFrame(rows)
    # margins by summation (additive counts), as a real table would have them
    by_area = cells.groupby("area", as_index=False)[["n_denominator", "n_numerator"]].sum()
    by_area["band"] = "Total"
    by_band = cells.groupby("band", as_index=False)[["n_denominator", "n_numerator"]].sum()
    by_band["area"] = "Total"
    grand = pd.DataFrame(
        {
            "area": ["Total"],
            "band": ["Total"],
            "n_denominator": [cells["n_denominator"].sum()],
            "n_numerator": [cells["n_numerator"].sum()],
        }
    )
    t = pd.concat([cells, by_area, by_band, grand], ignore_index=True)
    t["kind"] = "share"
    t["estimate"] = t["n_numerator"] / t["n_denominator"].where(t["n_denominator"] > 0)
    t["is_trafficking"] = draw(st.booleans())
    return t


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(share_tables())
def test_gate_never_publishes_a_cell_under_the_threshold(table: pd.DataFrame) -> None:
    res = apply_disclosure_control(table, THR, name="p", dims=["area", "band"])
    pub = res.table[res.table["status"] != "suppressed"]
    minimum = (
        THR.min_cell_count_trafficking if table["is_trafficking"].iloc[0] else THR.min_cell_count
    )
    assert (pub["n_numerator"] >= minimum).all()
    assert (pub["n_denominator"] >= THR.reliability_suppress_below).all()
    sup = res.table[res.table["status"] == "suppressed"]
    assert sup["estimate"].isna().all() and sup["n_denominator"].isna().all()
    assert len(res.table) == len(table)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(share_tables())
def test_gate_suppressed_cells_not_recoverable_by_subtraction(table: pd.DataFrame) -> None:
    res = apply_disclosure_control(table, THR, name="p", dims=["area", "band"])
    safe = res.table
    # try to recover each suppressed count from its margin minus the published cells of a line
    for dim, other in (("band", "area"), ("area", "band")):
        for _, line in safe.groupby(other):
            margin = line[line[dim] == "Total"]
            members = line[line[dim] != "Total"]
            if margin.empty:
                continue
            entries = pd.concat([members, margin])
            unknown = entries["n_denominator"].isna().sum()
            assert unknown != 1, f"a suppressed entry of line {other} is recoverable"
