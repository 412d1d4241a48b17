"""Programme reach on the default synthetic survey recovers the synthetic truth.

The whole path a real survey takes: ``ctip synth`` writes the raw files (with their planted
defects), ``ingest``, ``clean`` and ``features`` read them back, ``ctip reach`` estimates the
programme's indicators. The reference is the generator's own record of the programme
(``truth.json``, ``programme_indicators``: computed from the generator's tables before any raw
file is written; no stage but the truth's readers opens it): for each indicator the published
interval must contain it, and be narrow enough to say something.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from reliability_support import REPO_ROOT, RUNNER

from ctip_research import literals as L

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """synth -> ingest -> clean -> features -> reach on the repository's params.yaml."""
    root = tmp_path_factory.mktemp("reach")
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (root / "run_stages.py").write_text(RUNNER)
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks")
    proc = subprocess.run(
        [sys.executable, "run_stages.py", "synth", "ingest", "clean", "features", "reach"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return root


def _overall(table: pd.DataFrame, indicator: str) -> pd.Series:
    row = table[(table["indicator"] == indicator) & (table["domain"] == "all")]
    assert len(row) == 1 and row["status"].iloc[0] != "suppressed", indicator
    return row.iloc[0]


def test_truth_of_each_indicator_lies_inside_its_interval(run: Path) -> None:
    table = pd.read_csv(run / "data/processed/reach/reach.csv", dtype={"level": str})
    truth = json.loads((run / "data/raw/synthetic/truth.json").read_text())
    t = truth["programme_indicators"]
    checks = {
        "households_supported": t["households_supported_total"],
        "households_supported_share": t["households_supported_share"],
        "female_representative_share": t["female_representative_share"],
        "members_trained": t["members_trained_total"],
        "members_trained_per_supported_household": t["members_trained_per_supported_household"],
        **{
            f"members_trained_{m}": t["members_trained_total_by_module"][m]
            for m in L.TRAINING_MODULES
        },
    }
    for name, value in checks.items():
        row = _overall(table, name)
        assert row["conf_low"] <= value <= row["conf_high"], (name, value, row.to_dict())
        # an interval that contains the truth only by being useless does not pass: at most
        # +-15% of the estimate (the default survey gives about +-8% for the totals)
        assert (row["conf_high"] - row["conf_low"]) / 2 <= 0.15 * abs(row["estimate"]), name
    assert _overall(table, "households_supported")["n_numerator"] == t["n_supported"]


def test_provinces_outside_the_programme_are_suppressed_not_zero(run: Path) -> None:
    table = pd.read_csv(run / "data/processed/reach/reach.csv", dtype={"level": str})
    truth = json.loads((run / "data/raw/synthetic/truth.json").read_text())
    by_prov = truth["programme_indicators"]["households_supported_total_by_province"]
    rows = table[
        (table["indicator"] == "households_supported") & (table["domain"] == "province_code")
    ]
    for prov, value in by_prov.items():
        row = rows[rows["level"] == prov].iloc[0]
        if value == 0:
            assert row["status"] == "suppressed"
        else:
            assert row["conf_low"] <= value <= row["conf_high"], prov


def test_figure_and_record_are_written(run: Path) -> None:
    out = run / "data/processed/reach"
    for name in ("reach.csv", "reach.md", "reach.docx", "reach_by_province.png"):
        assert (out / name).is_file(), name
    caption = (out / "reach_by_province.caption.md").read_text()
    assert "95% confidence intervals" in caption
    record = json.loads((out / "reach.disclosure.json").read_text())
    assert record["passed"] and set(record["files"]) == {
        "reach.csv",
        "reach.md",
        "reach.docx",
        "reach.json",
    }
