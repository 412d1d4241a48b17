"""Unit and property tests of the disclosure authority (``ctip_research.disclosure``).

Thresholds: rule of 10 (ONS/ABS/ACRO), 11 for trafficking cases (CTDC, CMS), reliability 25/50
(DHS), dominance (1,50) and (2,67) (ABS), residual df >= 10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctip_research.config.privacy import PrivacyParams
from ctip_research.disclosure import (
    Aggregates,
    Cells,
    DisclosurePolicy,
    Document,
    Regressions,
    audit_publication,
    disclose,
    number_tokens,
)
from ctip_research.disclosure._cells import dominance_violations
from ctip_research.errors import DisclosureError, ParamsError

THR = DisclosurePolicy()


def apply_disclosure_control(table, thr, *, name, dims=()):  # type: ignore[no-untyped-def]
    """The gate on an ungated table."""
    return disclose(Cells(table, name, dims=dims), thr)


def check_cells(table, thr, *, name, dims=()):  # type: ignore[no-untyped-def]
    """The record of a gated (or all-published) table, without raising."""
    from ctip_research.disclosure._cells import verify_cells

    return verify_cells(table, thr, name=name, dims=dims, total_label="Total")


def _published(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(status="published")


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


def test_a_published_table_with_a_cell_under_the_minimum_fails() -> None:
    table = _published(_share_cells([9, 40], [100, 100], margin=False))
    with pytest.raises(DisclosureError, match="min_cell_count"):
        disclose(Cells(table, "under"), THR)


def test_a_published_table_with_every_cell_large_passes() -> None:
    table = _published(_share_cells([60, 40], [100, 100]))
    record = disclose(Cells(table, "ok", dims=["province"]), THR).record
    assert record["passed"] and record["n_suppressed"] == 0
    assert record["override_reason"] is None and record["policy"]["overridden"] == []


def test_a_record_level_table_fails() -> None:
    records = pd.DataFrame({"household_id": ["a1", "b2"], "total_debt_usd": [100.0, 250.0]})
    with pytest.raises(DisclosureError, match="record_level"):
        disclose(Aggregates(records, "records"), THR)


def test_an_aggregate_without_count_column_fails() -> None:
    frame = pd.DataFrame({"province": ["A", "B"], "mean_debt_usd": [100.0, 250.0]})
    with pytest.raises(DisclosureError, match="no unweighted count column"):
        disclose(Aggregates(frame, "no_counts"), THR)


def test_an_aggregate_with_counts_passes() -> None:
    frame = pd.DataFrame({"province": ["A", "B"], "n_households": [120, 340]})
    assert disclose(Aggregates(frame, "agg"), THR).record["passed"]


def test_gate_suppresses_a_share_whose_complement_is_small() -> None:
    # 45 of 50 households have the attribute: the 5 without it would be exposed
    table = _share_cells([45, 40], [50, 100], margin=False)
    res = apply_disclosure_control(table, THR, name="t")
    assert res.table["status"].tolist() == ["suppressed", "published"]
    assert res.table["suppression_reason"].iloc[0] == "complement"
    assert res.record["n_suppressed_by_reason"]["complement"] == 1


def test_a_published_share_with_a_small_complement_fails_verification() -> None:
    table = _published(_share_cells([95], [100], margin=False))
    with pytest.raises(DisclosureError, match="complement"):
        disclose(Cells(table, "c"), THR)


def test_complement_of_a_trafficking_cell_needs_the_general_minimum_only() -> None:
    # 40 of 50 households with a case: 10 without, enough (the stricter 11 is for the cases)
    table = _share_cells([40, 41], [50, 50], margin=False)
    table["is_trafficking"] = True
    res = apply_disclosure_control(table, THR, name="t")
    assert res.table["status"].tolist() == ["published", "suppressed"]
    assert res.table["suppression_reason"].iloc[1] == "complement"


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


def _regression(model: str = "m", *, n_obs: int = 3000, n_psu: int = 200, terms=("x", "c")):  # type: ignore[no-untyped-def]
    return pd.DataFrame(
        {
            "model": model,
            "outcome": "y",
            "exposure": "x",
            "term": list(terms),
            "estimate": [0.1] * len(terms),
            "std_error": 0.02,
            "conf_low": 0.06,
            "conf_high": 0.14,
            "n_obs": n_obs,
            "n_psu": n_psu,
        }
    )


def test_a_model_with_too_few_residual_df_is_suppressed_whole() -> None:
    est = pd.concat([_regression("small", n_obs=12, terms=("x", "a", "b")), _regression("big")])
    out = disclose(Regressions(est, "reg"), THR)
    small = out.table[out.table["model"] == "small"]
    assert (small["status"] == "suppressed").all() and small["estimate"].isna().all()
    assert small["n_obs"].isna().all()  # the small count itself is not published either
    assert (out.table[out.table["model"] == "big"]["status"] == "published").all()
    assert out.record["suppressed_models"] == ["small"]


def test_a_published_model_with_too_few_residual_df_fails_verification() -> None:
    est = _regression("small", n_obs=12, terms=("x", "a", "b")).assign(status="published")
    with pytest.raises(DisclosureError, match="residual_df"):
        disclose(Regressions(est, "reg"), THR)


def test_a_model_on_too_few_psus_fails_the_cluster_rule() -> None:
    est = _regression(n_psu=8, terms=("x",)).assign(status="published")
    with pytest.raises(DisclosureError, match="cluster_df"):
        disclose(Regressions(est, "reg"), THR)


def test_a_large_model_passes() -> None:
    assert disclose(Regressions(_regression(), "reg"), THR).record["passed"]


def _support(rows: list[tuple[str, str, int, bool]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["term", "cell", "n_units", "is_trafficking"]).assign(
        model="m"
    )


def test_a_dummy_with_few_exposed_units_loses_its_coefficient_only() -> None:
    support = _support(
        [
            ("x", "exposed", 900, False),
            ("x", "unexposed", 2100, False),
            ("c", "exposed", 8, False),  # 8 households behind the dummy c
            ("c", "unexposed", 2992, False),
        ]
    )
    out = disclose(Regressions(_regression(), "reg", support=support), THR)
    status = dict(zip(out.table["term"], out.table["status"], strict=True))
    assert status == {"x": "published", "c": "suppressed"}
    assert out.table.loc[out.table["term"] == "c", "estimate"].isna().all()
    assert out.record["suppressed"] == [{"model": "m", "term": "c", "reason": "dummy_support"}]
    assert "8" not in str(out.record)  # a record never prints the small count


def test_trafficking_cases_behind_a_dummy_need_eleven() -> None:
    cells = [
        ("x", "exposed", 900, False),
        ("x", "unexposed", 2100, False),
        ("x", "y=1 & exposed", 10, True),  # 10 forced-labour cases among the exposed
        ("x", "y=1 & unexposed", 40, True),
    ]
    out = disclose(Regressions(_regression(terms=("x",)), "reg", support=_support(cells)), THR)
    assert out.table["status"].tolist() == ["suppressed"]
    cells[2] = ("x", "y=1 & exposed", 11, True)
    out = disclose(Regressions(_regression(terms=("x",)), "reg", support=_support(cells)), THR)
    assert out.table["status"].tolist() == ["published"]


def test_a_gated_regression_table_must_keep_suppressed_rows_blank() -> None:
    est = _regression().assign(status=["published", "suppressed"])
    with pytest.raises(DisclosureError, match="suppressed_blank"):
        disclose(Regressions(est, "reg"), THR)


def test_a_failed_upstream_record_fails_the_artefact() -> None:
    est = _regression().assign(status="published")
    with pytest.raises(DisclosureError, match="upstream_records"):
        disclose(Regressions(est, "reg", upstream=[{"artefact": "x", "passed": False}]), THR)


def test_thresholds_follow_params_privacy(params_dict: dict) -> None:
    privacy = PrivacyParams.model_validate(
        {**params_dict["privacy"], "min_cell_count": 12, "dominance_n2_pct": 60}
    )
    thr = DisclosurePolicy.from_privacy(privacy)
    assert (thr.min_cell_count, thr.dominance_n2_pct) == (12, 60.0)
    assert thr.trafficking_indicators == ("has_forced_labour_case",)
    table = _share_cells([11, 40], [100, 100], margin=False)
    res = apply_disclosure_control(table, thr, name="t")
    assert res.table["status"].tolist() == ["suppressed", "published"]


def test_a_looser_threshold_without_a_reason_is_refused(params_dict: dict) -> None:
    params_dict["privacy"]["min_cell_count"] = 1
    from ctip_research.config import parse_params

    with pytest.raises(ParamsError, match=r"privacy\.min_cell_count = 1 is looser"):
        parse_params(params_dict)
    params_dict["privacy"]["min_cell_count"] = 10
    params_dict["privacy"]["dominance_n1_pct"] = 80  # a larger share allowed: looser too
    with pytest.raises(ParamsError, match="override_reason"):
        parse_params(params_dict)
    with pytest.raises(DisclosureError, match="override reason"):
        DisclosurePolicy(min_residual_df=5)


def test_an_override_reason_is_printed_in_every_record(params_dict: dict) -> None:
    from ctip_research.config import parse_params

    reason = "pilot with 6 villages, reviewed by the data protection officer"
    params_dict["privacy"].update(min_cell_count=5, override_reason=reason)
    policy = DisclosurePolicy.from_privacy(parse_params(params_dict).privacy)
    assert policy.overridden == ["min_cell_count"]
    records = [
        disclose(Cells(_share_cells([6, 40], [100, 100], margin=False), "c"), policy).record,
        disclose(Regressions(_regression(), "r"), policy).record,
        disclose(Aggregates(pd.DataFrame({"n_households": [50]}), "a"), policy).record,
        disclose(Document("d"), policy).record,
    ]
    for rec in records:
        assert rec["override_reason"] == reason
        assert rec["policy"]["overridden"] == ["min_cell_count"]
        assert rec["policy"]["thresholds"]["min_cell_count"] == 5
    # 6 households now pass: the lowered threshold is in force, and says so
    assert records[0]["n_suppressed"] == 0


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
    assert (pub["n_denominator"] - pub["n_numerator"] >= THR.min_cell_count).all()
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


# ---------------------------------------------------------------- documents and the tree


def test_number_tokens_find_digits_and_spelled_out_counts() -> None:
    text = "Two-wave survey in eight provinces: 3,995 households, 95% CI -2.0 to 8.5; first wave."
    assert number_tokens(text) == ["3,995", "95", "2.0", "8.5", "two", "eight", "first"]
    assert number_tokens("Risk screening adds little over random targeting.") == []


def test_a_document_fails_on_a_number_without_trace() -> None:
    blocks = [
        {
            "id": "a",
            "text": "39% of households; 8 provinces.",
            "trace": [{"text": "39%", "source": "x"}],
        }
    ]
    with pytest.raises(DisclosureError, match=r"traceability \(1\).*'8'"):
        disclose(Document("brief", blocks=blocks), THR)
    blocks[0]["trace"].append({"text": "8", "source": "models/metrics.json"})
    assert disclose(Document("brief", blocks=blocks), THR).record["passed"]


def test_a_document_counts_each_printed_occurrence() -> None:
    blocks = [
        {"id": "a", "text": "20% served; 20% random.", "trace": [{"text": "20%", "source": "s"}]}
    ]
    with pytest.raises(DisclosureError, match="traceability"):
        disclose(Document("brief", blocks=blocks), THR)


def test_a_spelled_out_count_needs_a_trace_too() -> None:
    blocks = [{"id": "a", "text": "A survey in eight provinces.", "trace": []}]
    with pytest.raises(DisclosureError, match="eight"):
        disclose(Document("brief", blocks=blocks), THR)


def test_audit_finds_unrecorded_changed_and_undeclared_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import json

    models = tmp_path / "models"
    models.mkdir()
    (models / "estimates.csv").write_text("model\nm\n")
    (models / "extra.csv").write_text("a\n1\n")
    sha = hashlib.sha256((models / "estimates.csv").read_bytes()).hexdigest()
    record = {"passed": True, "override_reason": None, "files": {"estimates.csv": sha}}
    (models / "estimates.disclosure.json").write_text(json.dumps(record))
    (tmp_path / "tables").mkdir()  # internal: not audited
    (tmp_path / "tables" / "households.parquet").write_bytes(b"x")
    (tmp_path / "scratch").mkdir()
    result = audit_publication(tmp_path)
    assert result["problems"] == [
        "scratch: not declared published or internal "
        "(ctip_research.disclosure.PUBLISHED_DIRS / INTERNAL_DIRS)",
        "models/extra.csv: no passing check record lists this file",
    ]
    (tmp_path / "scratch").rmdir()
    (models / "extra.csv").unlink()
    assert audit_publication(tmp_path)["passed"]
    (models / "estimates.csv").write_text("model\nchanged\n")
    problems = audit_publication(tmp_path)["problems"]
    assert (
        "models/estimates.disclosure.json: estimates.csv changed after it was checked" in problems
    )
    record["passed"] = False
    (models / "estimates.disclosure.json").write_text(json.dumps(record))
    assert (
        "models/estimates.disclosure.json: the check record did not pass"
        in (audit_publication(tmp_path)["problems"])
    )


def test_audit_passes_over_the_run_lock_and_journal_but_not_a_look_alike(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ctip_research.io import JOURNAL_NAME, LOCK_NAME

    (tmp_path / LOCK_NAME).write_text("")  # a stage run holds it in the processed directory
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / JOURNAL_NAME).write_text("{}")
    assert audit_publication(tmp_path)["passed"]
    (tmp_path / "models" / "notes.lock").write_text("")
    assert audit_publication(tmp_path)["problems"] == [
        "models/notes.lock: no passing check record lists this file"
    ]
