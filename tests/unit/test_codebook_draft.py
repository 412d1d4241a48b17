"""``ctip codebook draft``: one draft per source, obvious mappings made, few false PII marks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from ctip_research.cli import app
from ctip_research.ingest.codebook import check_codebook, parse_codebook
from ctip_research.ingest.draft import draft_codebook, draft_summary, guess_wave
from ctip_research.ingest.readers import RawTable, read_raw
from ctip_research.schemas import CANONICAL_TABLES

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example_survey"


def _canonical_frame(table: str, n: int = 40, seed: int = 3) -> pd.DataFrame:
    """A plausible export whose columns carry the canonical names of ``table`` (no ``wave``)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for f in CANONICAL_TABLES[table].fields:
        if f.name == "wave":
            continue
        if f.name == "household_id":
            cols[f.name] = [f"H{i:04d}" for i in range(n)]
        elif f.allowed is not None:
            cols[f.name] = rng.choice(list(f.allowed), size=n)
        elif f.type == "bool":
            cols[f.name] = rng.integers(0, 2, size=n)
        elif f.type == "int":
            lo = int(f.minimum or 1)
            cols[f.name] = rng.integers(lo, lo + 5, size=n)
        elif f.type == "float":
            cols[f.name] = np.round(rng.lognormal(5, 0.5, size=n), 2)
        else:
            cols[f.name] = rng.choice(["E1", "E2", "E3"], size=n)
    return pd.DataFrame(cols)


@pytest.mark.parametrize("table", list(CANONICAL_TABLES))
def test_canonical_names_are_mapped_and_never_premarked_pii(tmp_path: Path, table: str) -> None:
    path = tmp_path / f"{table}.csv"
    _canonical_frame(table).to_csv(path, index=False)
    out = tmp_path / "draft.yaml"
    res = CliRunner().invoke(app, ["codebook", "draft", str(path), "-o", str(out)])
    assert res.exit_code == 0, res.output
    draft = yaml.safe_load(out.read_text(encoding="utf-8"))
    counts = draft_summary(draft)
    assert counts["mapped"] / counts["columns"] >= 0.8, counts
    assert f"{counts['mapped']} pre-mapped" in res.output  # the CLI says how many it mapped
    (file,) = draft["files"]
    assert file["table"] == table
    cols = file["columns"]
    pii = sorted(c for c, s in cols.items() if s["action"] == "pii")
    assert pii == [], pii
    for name in ("sex", "district_code", "destination_country", "cope_child_work_or_dropout"):
        if name in cols:
            assert cols[name]["action"] == "map" and cols[name]["canonical"] == name
    for spec in cols.values():
        if spec["action"] in ("map", "key"):
            assert spec["review"].startswith("pre-mapped")
    parse_codebook(draft)


def test_strong_identifiers_are_premarked_and_safe_columns_are_not() -> None:
    n = 30
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "hhid": [f"A{i}" for i in range(n)],
            "resp_name": [f"Name {i}" for i in range(n)],
            "resp_phone": [f"012 {100 + i} {200 + i}" for i in range(n)],
            "gps_lat": rng.uniform(10, 14, n).round(5).astype(str),
            "national_id": [f"{100000 + i}" for i in range(n)],
            "notes": [f"visit again {i}" for i in range(n)],
            "sex_of_head": rng.choice(["male", "female"], n),
            "district": rng.choice(["201", "202"], n),
            "country_visited": rng.choice(["Thailand", "Korea"], n),
            "child_worked": rng.choice(["0", "1"], n),
            "income_total": rng.integers(100, 900, n).astype(str),
        }
    )
    draft = draft_codebook(
        {("hh.csv", None): RawTable(df, file="hh.csv")}, source="s", fmt="csv", wave=1
    )
    cols = draft["files"][0]["columns"]
    pii = {c for c, s in cols.items() if s["action"] == "pii"}
    assert pii == {"resp_name", "resp_phone", "gps_lat", "national_id", "notes"}
    assert "phone" in cols["resp_phone"]["reason"] and "GPS" in cols["gps_lat"]["reason"]


def test_value_labels_become_maps_and_near_misses_become_fixes() -> None:
    df = pd.DataFrame(
        {
            "hhid": [f"A{i}" for i in range(8)],
            "province": ["Battambang"] * 4 + ["Batambang", "Siem Reap", "Siem Reap", "Kampot"],
            "zone": ["rural", "urban"] * 4,
        }
    )
    cols = draft_codebook(
        {("households.csv", None): RawTable(df, file="households.csv")}, source="s", fmt="csv"
    )["files"][0]["columns"]
    prov = cols["province"]
    assert prov["canonical"] == "province_code"
    assert prov["values"] == {"Battambang": 2, "Kampot": 7, "Siem Reap": 17}
    assert prov["fixes"] == {"Batambang": "Battambang"}
    assert "1 near-miss value(s) proposed as fixes" in prov["review"]
    assert cols["zone"]["values"] == {"rural": False, "urban": True}


def test_stata_labels_map_codes_and_money_gets_a_currency(tmp_path: Path) -> None:
    import pyreadstat

    df = pd.DataFrame(
        {
            "hhid": ["a", "b", "c"],
            "loan_no": [1.0, 1.0, 2.0],
            "lender": [1.0, 2.0, 3.0],
            "amount": [4_100_000.0, 500.0, 8_200_000.0],
            "currency": [1.0, 2.0, 1.0],
            "rate_month_pct": [1.5, 2.0, 3.0],
        }
    )
    path = tmp_path / "loans.dta"
    pyreadstat.write_dta(
        df,
        str(path),
        variable_value_labels={
            "lender": {1: "Microfinance", 2: "Bank", 3: "Money lender"},
            "currency": {1: "Riel", 2: "US dollar"},
        },
    )
    cols = draft_codebook({("loans.dta", None): read_raw(path, "stata")}, source="s", fmt="stata")[
        "files"
    ][0]["columns"]
    assert cols["lender"]["values"] == {"1": "mfi", "2": "bank", "3": "moneylender"}
    assert cols["currency"]["values"] == {"1": "KHR", "2": "USD"}
    assert cols["amount"]["canonical"] == "principal"
    assert cols["amount"]["currency_column"] == "currency"
    assert cols["rate_month_pct"]["scale"] == 0.12


def test_money_currency_from_name_or_size_and_villages_pseudonymised() -> None:
    df = pd.DataFrame(
        {
            "hhid": ["a", "b", "c"],
            "income_farm_khr": ["4100000", "0", "820000"],
            "income_wages": ["3000000", "2500000", "4000000"],  # riel by their size
            "income_other_usd": ["100", "0", "50"],
            "village_code": ["0102030", "0102030", "0102031"],
            "commune": ["01020", "01020", "01020"],
            "phum_name": ["x", "y", "z"],
        }
    )
    cols = draft_codebook({("hh.csv", None): RawTable(df, file="hh.csv")}, source="s", fmt="csv")[
        "files"
    ][0]["columns"]
    assert cols["income_farm_khr"]["currency"] == "KHR"
    assert cols["income_wages"]["currency"] == "KHR"
    assert "size of the amounts" in cols["income_wages"]["review"]
    assert cols["income_other_usd"]["currency"] == "USD"
    assert cols["village_code"] == {
        "action": "map",
        "canonical": "psu_id",
        "pseudonymise": True,
        "review": cols["village_code"]["review"],
    }
    assert "below district level" in cols["village_code"]["review"]
    assert cols["commune"]["pseudonymise"] is True
    assert cols["phum_name"]["action"] == "pii"  # a place name


def test_one_draft_for_the_files_of_a_source(tmp_path: Path) -> None:
    for f in (EXAMPLE / "wave1").glob("*.csv"):
        (tmp_path / "wave1").mkdir(exist_ok=True)
        (tmp_path / "wave1" / f.name).write_bytes(f.read_bytes())
    files = sorted(str(p) for p in (tmp_path / "wave1").glob("*.csv"))
    res = CliRunner().invoke(app, ["codebook", "draft", *files])
    assert res.exit_code == 0, res.output
    path = tmp_path / "wave1" / "wave1.codebook.yaml"
    draft = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert draft["wave"] == 1 and draft["source"] == "wave1"
    tables = {f["path"]: f["table"] for f in draft["files"]}
    assert tables == {
        "households.csv": "households",
        "loans.csv": "loans",
        "members.csv": "members",
        "migration.csv": "migration_episodes",
    }
    hh = next(f for f in draft["files"] if f["table"] == "households")
    assert hh["constants"] == {"interview_year": 2021}  # from the interview dates
    assert draft_summary(draft)["mapped"] / draft_summary(draft)["columns"] >= 0.75
    cb = parse_codebook(draft)
    raws = {(f.path, None): read_raw(tmp_path / "wave1" / f.path, "csv") for f in cb.files}
    assert check_codebook(cb, raws) == []  # every raw column listed, every mapping declared


def test_several_formats_are_not_one_source(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        ["codebook", "draft", str(EXAMPLE / "wave1/households.csv"), str(EXAMPLE / "wave2/hh.dta")],
    )
    assert res.exit_code == 3 and "share one format" in res.output


def test_wave_is_read_from_the_names() -> None:
    assert guess_wave(["exports/w2/hh.dta"]) == 2
    assert guess_wave(["endline_households.csv"]) == 2
    assert guess_wave(["hh.csv"]) is None


def test_rare_slips_beside_a_choice_list_become_fixes_to_its_common_spelling() -> None:
    """More than 40 distinct values, one slip each beside a choice list of four: the column still
    reads as categorical, each slip is proposed as a fix to the spelling the file mostly uses
    (not to a rarer case variant), and a label near nothing is left for review."""
    rng = np.random.default_rng(5)
    choices = ["Battambang", "Kampong Cham", "Siem Reap", "Prey Veng"]
    prov = list(rng.choice(choices, size=1200))
    # every one-letter deletion and doubling of each label: 72 distinct slips
    slips = [c[:i] + c[i + 1 :] for c in choices for i in range(len(c)) if c[i] != " "]
    slips += [c[:i] + c[i] + c[i:] for c in choices for i in range(len(c)) if c[i] != " "]
    slips = [x for x in dict.fromkeys(slips) if x not in choices]
    slips += ["Kampong  Cham"]
    prov += slips + ["battambang", "Somewhere else"]
    raw = RawTable(
        pd.DataFrame({"hhid": [f"H{i}" for i in range(len(prov))], "province": prov}),
        file="hh.csv",
    )
    spec = draft_codebook({("hh.csv", None): raw}, source="s", fmt="csv")["files"][0]["columns"][
        "province"
    ]
    assert spec["canonical"] == "province_code"
    assert spec["values"]["Battambang"] == 2 and spec["values"]["battambang"] == 2
    assert len(slips) > 60
    assert spec["fixes"]["Battambangg"] == "Battambang"
    assert spec["fixes"]["Siem Rep"] == "Siem Reap" and spec["fixes"]["Prey Vng"] == "Prey Veng"
    assert spec["values"]["Kampong  Cham"] == 3  # the same label once blanks are read as one
    assert "Somewhere else" not in spec["values"] and "Somewhere else" in spec["review"]


def test_roster_nouns_do_not_hide_canonical_names() -> None:
    raw = RawTable(
        pd.DataFrame(
            {
                "hhid": ["H1", "H1", "H2"],
                "member_line": [1, 2, 1],
                "member_sex": ["male", "female", "female"],
                "member_age": [40, 38, 51],
                "member_relation": ["head", "spouse", "head"],
            }
        ),
        file="roster.csv",
    )
    cols = draft_codebook({("roster.csv", None): raw}, source="s", fmt="csv")["files"][0]["columns"]
    assert {
        c: cols[c].get("canonical") for c in ("member_sex", "member_age", "member_relation")
    } == {
        "member_sex": "sex",
        "member_age": "age",
        "member_relation": "relation_to_head",
    }
