"""The corrections log: applied by code, recorded, and rejected when the old value differs."""

from __future__ import annotations

import pandas as pd
import pytest
from clean_fixtures import make_interim

from ctip_research.clean.corrections import CORRECTION_COLUMNS, apply_corrections
from ctip_research.errors import CorrectionError
from ctip_research.ingest.pseudonymise import pseudonymise


def _log(*rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c, "") for c in CORRECTION_COLUMNS} for r in rows])


def test_correction_applied_by_raw_row_and_recorded():
    t = make_interim()
    old = t["loans"].loc[3, "principal_usd"]
    log = _log(
        {
            "source": "wave1_kobo",
            "table": "loans",
            "row": "5",
            "variable": "principal_usd",
            "old_value": repr(float(old)),
            "new_value": "250",
            "reason": "riel as dollars",
        }
    )
    out, rec = apply_corrections(t, log)
    assert out["loans"].loc[3, "principal_usd"] == 250
    assert t["loans"].loc[3, "principal_usd"] == old  # input untouched
    assert rec[["line", "table", "variable", "status"]].values.tolist() == [
        [2, "loans", "principal_usd", "applied"]
    ]


def test_correction_already_in_data_is_recorded_not_rejected():
    t = make_interim()
    log = _log(
        {
            "source": "wave1_kobo",
            "table": "members",
            "row": "2",
            "variable": "age",
            "old_value": "24",
            "new_value": "42",
            "reason": "digits swapped",
        }
    )
    _, rec = apply_corrections(t, log)
    assert rec["status"].tolist() == ["already_applied"]


def test_correction_with_mismatching_old_value_names_line_not_values():
    t = make_interim()
    log = _log(
        {
            "source": "wave1_kobo",
            "table": "members",
            "row": "2",
            "variable": "age",
            "old_value": "41",
            "new_value": "43",
            "reason": "ok",
        },
        {
            "source": "wave1_kobo",
            "table": "members",
            "row": "3",
            "variable": "age",
            "old_value": "77",
            "new_value": "66",
            "reason": "typo",
        },
    )
    with pytest.raises(CorrectionError) as exc:
        apply_corrections(t, log)
    msg = str(exc.value)
    assert "line 3" in msg and "old value of age does not match" in msg and "row 3" in msg
    assert "line 2: old" in msg  # every failing line is listed
    assert "77" not in msg and "66" not in msg


def test_correction_errors_listed_together_for_unknown_row_variable_and_table():
    t = make_interim()
    log = _log(
        {
            "source": "wave1_kobo",
            "table": "loans",
            "row": "9999",
            "variable": "principal_usd",
            "old_value": "1",
            "new_value": "2",
        },
        {
            "source": "wave1_kobo",
            "table": "loans",
            "row": "2",
            "variable": "principal_khr",
            "old_value": "1",
            "new_value": "2",
        },
        {"source": "wave1_kobo", "table": "assets", "row": "2", "variable": "x"},
        {"source": "wave1_kobo", "table": "members", "variable": "age"},
    )
    with pytest.raises(CorrectionError) as exc:
        apply_corrections(t, log)
    assert str(exc.value).startswith("4 correction(s)")
    for fragment in (
        "line 2: no record",
        "line 3: table loans has no canonical column",
        "line 4: unknown table",
        "line 5: neither row nor household_id",
    ):
        assert fragment in str(exc.value)


def test_correction_by_raw_household_id_uses_the_pseudonym():
    t = make_interim()
    key = "k"
    t["households"]["household_id"] = [pseudonymise(f"HH{i}", key) for i in range(40)]
    log = _log(
        {
            "source": "wave1_kobo",
            "table": "households",
            "household_id": "HH7",
            "variable": "head_is_female",
            "old_value": "",
            "new_value": "true",
            "reason": "blank in export",
        }
    )
    out, rec = apply_corrections(t, log, hash_id=lambda raw: pseudonymise(raw, key))
    assert bool(out["households"].loc[7, "head_is_female"]) is True
    assert rec["household_id"].tolist() == [pseudonymise("HH7", key)]
    assert "HH7" not in rec.to_csv()


def test_corrections_log_missing_columns_is_an_error():
    with pytest.raises(CorrectionError, match="lacks column"):
        apply_corrections(make_interim(), pd.DataFrame({"source": ["x"]}))
