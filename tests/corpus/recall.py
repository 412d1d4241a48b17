"""Planted-defect recall fixture: one source with 20 independent data-quality defects of
different kinds, each with the check that must report it at its address.

The source passes ingest (every defect is a data-quality defect, not a codebook mismatch), so one
``ctip ingest`` + ``ctip clean`` run must report all 20 in ``quality_report.json``. A second
test plants codebook mismatches that one ``CodebookError`` must list together.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from corpus.generate import KHMER_PROVINCES, SOURCE, codebook, households

N = 30


def _households() -> pd.DataFrame:
    base = pd.concat([households(), households().iloc[:6]], ignore_index=True)
    base["hhid"] = [f"H-{i + 1:03d}" for i in range(N)]
    base["village"] = [f"V{i % 6:02d}" for i in range(N)]
    base["weight"] = [100.0 + i for i in range(N)]
    base = base.drop(columns=["enum"])  # this fixture's enumerator column is its own
    base["enumerator"] = [f"E{i % 3}" for i in range(N)]
    base["head_age"] = [30 + i for i in range(N)]
    base["n_children"] = [1] * N
    base["land"] = [1.0 + 0.1 * i for i in range(N)]
    base["grant"] = ["no"] * N
    base["any_loan"] = ["yes"] * 24 + ["no"] * 6
    return base.astype(object)


def _loans() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "hhid": [f"H-{i + 1:03d}" for i in range(24)],
            "loan_no": [1] * 24,
            "amount": [1000.0 + 50 * i for i in range(24)],
            "cur": [2] * 24,
            "year": [2021] * 24,
        }
    ).astype(object)


def _plant(hh: pd.DataFrame, ln: pd.DataFrame) -> list[tuple[str, str, int, set[str]]]:
    """Plant the defects in place; return (kind, table, raw row, checks that may report it)."""
    out: list[tuple[str, str, int, set[str]]] = []

    def h(i: int, col: str, v: object, kind: str, checks: set[str]) -> None:
        hh.loc[i, col] = v
        out.append((kind, "households", i + 2, checks))

    def lo(i: int, col: str, v: object, kind: str, checks: set[str]) -> None:
        ln.loc[i, col] = v
        out.append((kind, "loans", i + 2, checks))

    # households without loans (rows 24-29) so that no loan loses its household
    h(25, "hhid", hh.loc[24, "hhid"], "duplicate_household_id", {"duplicate"})
    h(27, "hhid", hh.loc[26, "hhid"], "duplicate_household_id", {"duplicate"})
    h(6, "size", 45, "out_of_range_size", {"range"})
    h(7, "head_age", 130, "out_of_range_head_age", {"range"})
    h(8, "n_children", 30, "out_of_range_children", {"range", "skip_logic"})
    h(9, "land", -2.0, "out_of_range_land", {"range"})
    h(10, "weight", -5.0, "out_of_range_weight", {"range"})
    h(11, "n_children", 6, "skip_children_over_size", {"skip_logic"})
    h(12, "grant", "yes", "skip_grant_at_baseline", {"skip_logic"})
    h(13, "enumerator", "test01", "test_submission", {"test_submission"})
    h(14, "income_farm", 410_000.0 * 2000, "outlier_income", {"outlier", "currency"})
    h(15, "size", -99, "special_code_refused", {"special_code"})
    h(16, "income_farm", -98, "special_code_dont_know", {"special_code"})
    h(17, "province", "បាត់ដំបងង", "misspelt_province", {"value_fix"})
    h(18, "head_age", 5, "out_of_range_head_age_low", {"range"})
    # loans: H-003 (row 2 of loans is H-001) reports no loan but has one
    hh.loc[2, "any_loan"] = "no"
    out.append(("skip_loan_without_loan", "loans", 2 + 2, {"skip_logic"}))
    lo(5, "hhid", "H-999", "orphan_loan", {"referential_integrity"})
    lo(7, "amount", 4_100_000.0, "riel_typed_as_dollars", {"currency", "outlier"})
    ln.loc[10, "hhid"] = ln.loc[11, "hhid"]
    out.append(("duplicate_loan_id", "loans", 11 + 2, {"duplicate"}))
    lo(12, "cur", -99, "special_code_currency", {"special_code"})
    return out


def write_recall_fixture(directory: Path) -> tuple[Path, list[tuple[str, str, int, set[str]]]]:
    """Write the 20-defect source and its codebook; return (codebook, planted defects)."""
    directory.mkdir(parents=True, exist_ok=True)
    hh, ln = _households(), _loans()
    planted = _plant(hh, ln)
    ln.loc[12, "amount"] = None  # a refused currency comes with no amount
    hh.to_csv(directory / "hh.csv", index=False, lineterminator="\n")
    ln.to_csv(directory / "loans.csv", index=False, lineterminator="\n")
    cb = codebook("csv", "hh.csv", with_loans=True)
    cb["exchange_rate_year"] = 2022
    cols = cb["files"][0]["columns"]
    cols["province"]["fixes"] = {"បាត់ដំបងង": "បាត់ដំបង"}
    del cols["enum"]
    cols.update(
        {
            "enumerator": {"action": "map", "canonical": "enumerator_id"},
            "head_age": {"action": "map", "canonical": "head_age"},
            "n_children": {"action": "map", "canonical": "n_children"},
            "land": {"action": "map", "canonical": "land_agri_ha"},
            "grant": {"action": "map", "canonical": "received_livelihood_grant"},
            "any_loan": {"action": "meta", "canonical": "_has_loan_reported"},
        }
    )
    path = directory / f"{SOURCE}.codebook.yaml"
    path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert "បាត់ដំបង" in KHMER_PROVINCES  # the fix targets a declared province
    return path, planted
