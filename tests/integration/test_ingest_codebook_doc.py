"""The worked example of docs/codebook.md, run as written (the codebook is read from the page)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml

from ctip_research.errors import CodebookError
from ctip_research.ingest.apply import apply_codebook
from ctip_research.ingest.codebook import parse_codebook
from ctip_research.ingest.pseudonymise import pseudonymise
from ctip_research.ingest.readers import read_raw

DOC = Path(__file__).resolve().parents[2] / "docs" / "codebook.md"
RATES = {2025: {"USD": 1.0, "KHR": 4100.0, "THB": 35.0}}
NAMES = ["Sok Dara", "Chan Sreymom", "Keo Vanna"]


def _doc_codebook() -> dict:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"2\. \*\*Fill in\.\*\*\s+```yaml\n(.*?)```", text, re.S)
    assert block is not None, "worked example codebook not found in docs/codebook.md"
    lines = block.group(1).splitlines()
    indent = min(len(x) - len(x.lstrip()) for x in lines if x.strip())
    return yaml.safe_load("\n".join(x[indent:] for x in lines))


def _write_dta(path: Path, *, broken: bool = False) -> None:
    df = pd.DataFrame(
        {
            "hhid": ["W2-01", "W2-02", "W2-03"],
            "q101_prov": [2.0, 17.0, 99.0 if broken else 1.0],
            "q105_size": pd.Series([4.0, "a", "b"], dtype=object),
            "q201_name": NAMES,
            "q110_income_riel": [4_100_000.0, 8_200_000.0, -99.0],
        }
    )
    if broken:
        df = df.drop(columns="q110_income_riel").assign(q999_gps=[1.0, 2.0, 3.0])
    pyreadstat.write_dta(
        df,
        str(path),
        column_labels={
            c: {
                "q101_prov": "Province",
                "q105_size": "Household size",
                "q201_name": "Respondent name",
            }.get(c, c)
            for c in df.columns
        },
        variable_value_labels={
            "q101_prov": {1: "Banteay Meanchey", 2: "Battambang", 17: "Siem Reap"}
        },
        missing_user_values={"q105_size": ["a", "b"]},
    )


def test_worked_example_gives_the_documented_rows(tmp_path: Path) -> None:
    _write_dta(tmp_path / "hh.dta")
    cb = parse_codebook(_doc_codebook())
    res = apply_codebook(
        cb, {("hh.dta", None): read_raw(tmp_path / "hh.dta")}, exchange_rates=RATES, hmac_key="k"
    )
    hh = res.tables["households"]
    assert hh["household_id"].tolist() == [
        pseudonymise(i, "k") for i in ("W2-01", "W2-02", "W2-03")
    ]
    assert hh["wave"].tolist() == [2, 2, 2]
    assert hh["interview_year"].tolist() == [2025] * 3
    assert hh["province_code"].tolist() == [2, 17, 1]
    assert hh["household_size"].tolist() == [4, pd.NA, pd.NA]
    assert hh["income_other_usd"].tolist() == [1000.0, 2000.0, pd.NA]
    assert hh["_row"].tolist() == [1, 2, 3] and set(hh["_source"]) == {"endline_firm"}
    sc = res.special_codes
    assert list(zip(sc["_row"], sc["column"], sc["code"], sc["reason"], strict=True)) == [
        (2, "household_size", ".a", "refused"),
        (3, "household_size", ".b", "dont_know"),
        (3, "income_other_usd", "-99", "refused"),
    ]
    assert not hh.astype(str).isin(NAMES).any().any()
    assert len(res.ledger["files"][0]["columns"]) == 5


def test_worked_example_mistakes_are_listed_together(tmp_path: Path) -> None:
    _write_dta(tmp_path / "hh.dta", broken=True)
    cb = parse_codebook(_doc_codebook())
    with pytest.raises(CodebookError) as info:
        apply_codebook(
            cb,
            {("hh.dta", None): read_raw(tmp_path / "hh.dta")},
            exchange_rates=RATES,
            hmac_key="k",
            codebook_file="endline/hh.codebook.yaml",
        )
    documented = re.search(
        r"   ```\n   (codebook endline.*?)\n   ```", DOC.read_text("utf-8"), re.S
    )
    assert documented is not None
    first, *rest = documented.group(1).splitlines()
    assert str(info.value) == "\n".join([first, *(x[3:] for x in rest)])
