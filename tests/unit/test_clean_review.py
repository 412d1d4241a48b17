"""Clean's checks for what no codebook lists (ingest's values for review) and the outlier check
within groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clean_fixtures import make_interim

from ctip_research.clean import checks, clean_tables
from ctip_research.config import Params


@pytest.fixture()
def interim() -> dict[str, pd.DataFrame]:
    return make_interim(60)


def _review(rows: list[tuple[str, int, str, str, str]]) -> pd.DataFrame:
    """(table, raw row, column, kind, reason) -> a review table of source wave1_kobo."""
    return pd.DataFrame(
        {
            "source": "wave1_kobo",
            "table": [r[0] for r in rows],
            "file": [f"{r[0]}.xlsx" for r in rows],
            "sheet": None,
            "_row": [r[1] for r in rows],
            "household_id": "hid",
            "column": [r[2] for r in rows],
            "raw_column": "x",
            "kind": [r[3] for r in rows],
            "value": "99",
            "proposal": None,
            "reason": [r[4] for r in rows],
        }
    )


NEAR = "not in the value map; near miss of a documented label"
FAR = "not in the value map; no documented label is close"
HEAP = "a code-like number heaped in its column: 5 rows, 9 times the values near it"


def test_review_values_become_issues_at_their_rows_without_values(interim) -> None:
    rv = _review(
        [
            ("households", 4, "province_code", "unknown_label", NEAR),
            ("households", 5, "province_code", "unknown_label", FAR),
            ("households", 7, "head_age", "code_like", HEAP),
        ]
    )
    iss = checks.check_review_values(rv, interim)
    assert iss["check"].tolist() == ["undocumented_code", "unknown_label", "unknown_label"]
    assert iss["row"].tolist() == [7, 4, 5]
    assert iss["index"].tolist() == [5, 2, 3]  # raw row 2 is the first record
    hh = interim["households"]
    assert iss["household_id"].tolist() == hh.loc[[5, 2, 3], "household_id"].tolist()
    assert iss["enumerator_id"].notna().all()
    assert "fix proposed in codebook_proposals.yaml" in iss["detail"].iloc[1]
    assert "no documented label is close" in iss["detail"].iloc[2]
    assert not iss["detail"].str.contains("99").any()  # the value itself is never echoed


def test_review_value_of_a_row_gone_keeps_its_address(interim) -> None:
    rv = _review([("loans", 999, "principal_usd", "code_like", HEAP)])
    iss = checks.check_review_values(rv, interim)
    assert iss["row"].tolist() == [999] and iss["index"].isna().all()
    assert iss["household_id"].tolist() == ["hid"]
    assert checks.check_review_values(None, interim).empty


@pytest.mark.parametrize("action", ["flag", "set_missing"])
def test_undocumented_codes_take_the_configured_action(interim, params: Params, action) -> None:
    hh = interim["households"]
    hh.loc[5, "head_age"] = 99
    rv = _review(
        [
            ("households", 7, "head_age", "code_like", HEAP),
            ("households", 4, "province_code", "unknown_label", NEAR),
        ]
    )
    cfg = params.clean.model_copy(
        update={
            "corrections_file": None,
            "undocumented_codes": params.clean.undocumented_codes.model_copy(
                update={"action": action}
            ),
        }
    )
    res = clean_tables(interim, cfg, review_values=rv)
    code = res.issues[res.issues["check"] == "undocumented_code"]
    assert code["action"].tolist() == [action]
    age = res.tables["households"].set_index("_row").loc[7, "head_age"]
    assert pd.isna(age) if action == "set_missing" else age == 99
    label = res.issues[res.issues["check"] == "unknown_label"]
    assert label["action"].tolist() == ["set_missing (ingest)"]


def _two_strata(n: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rural = np.exp(rng.normal(7.0, 0.3, n))
    urban = np.exp(rng.normal(9.0, 0.3, n))
    return pd.DataFrame(
        {
            "wave": 1,
            "stratum_id": ["R"] * n + ["U"] * n,
            "income_annual_usd": np.concatenate([rural, urban]),
        }
    )


def test_outliers_within_groups_find_what_the_pooled_spread_hides() -> None:
    df = _two_strata()
    df.loc[7, "income_annual_usd"] *= 10  # a rural income typed with an extra zero
    kw = {"table": "households", "rule": "mad", "threshold": 3.5, "min_n": 30}
    pooled = checks.check_outliers(df, ["income_annual_usd"], by=["wave"], **kw)
    grouped = checks.check_outliers(df, ["income_annual_usd"], by=["wave", "stratum_id"], **kw)
    assert 7 not in pooled["index"].tolist()
    assert grouped["index"].tolist() == [7]
    assert "within wave/stratum_id" in grouped["detail"].iloc[0]


def test_a_small_group_is_compared_with_its_whole_coarser_group() -> None:
    df = _two_strata()
    small = pd.DataFrame(
        {"wave": 1, "stratum_id": "S", "income_annual_usd": np.exp([8.0] * 9 + [15.0])}
    )
    df = pd.concat([df, small], ignore_index=True)
    kw = {"table": "households", "rule": "mad", "threshold": 3.5, "min_n": 30}
    iss = checks.check_outliers(df, ["income_annual_usd"], by=["wave", "stratum_id"], **kw)
    # stratum S (10 values) is judged against the whole wave (all 410), not against itself
    # alone nor against the other small-group rows only
    assert iss["index"].tolist() == [409]


def test_grouped_outliers_are_a_fixed_point() -> None:
    df = _two_strata()
    df.loc[[3, 250], "income_annual_usd"] *= 1000
    kw = {"table": "households", "rule": "mad", "threshold": 3.5, "min_n": 30}
    first = checks.check_outliers(df, ["income_annual_usd"], by=["wave", "stratum_id"], **kw)
    rest = df.drop(index=first["index"].astype(int))
    again = checks.check_outliers(rest, ["income_annual_usd"], by=["wave", "stratum_id"], **kw)
    assert {3, 250} <= set(first["index"]) and again.empty
