"""``ctip power`` (stages/power.py) on a simulated household-wave table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ctip_research.config import Params
from ctip_research.config.paths import PathsParams
from ctip_research.errors import InputFileError
from ctip_research.io import file_sha256, read_json, write_parquet
from ctip_research.models.simulate import simulate_households
from ctip_research.stages.power import run_power


def _params(params: Params, root: Path) -> Params:
    paths = PathsParams(raw=root / "raw", interim=root / "interim", processed=root / "processed")
    power = params.power.model_copy(
        update={"villages": [40, 80], "households_per_village": [5, 10]}
    )
    return params.model_copy(update={"paths": paths, "power": power})


@pytest.fixture(scope="module")
def hw_table() -> pd.DataFrame:
    return simulate_households(n_villages=80, households_per_village=12, seed=5)


def test_run_power_writes_table_figure_and_calibration(
    tmp_path: Path, params: Params, hw_table: pd.DataFrame
) -> None:
    p = _params(params, tmp_path)
    write_parquet(tmp_path / "processed" / "analysis" / "household_wave.parquet", hw_table)
    run_power(p)
    out = tmp_path / "processed" / "power"
    table = pd.read_csv(out / "power.csv")
    assert len(table) == 2 * 2 * 2  # estimators x villages x households per village
    for _, g in table.groupby(["estimator", "households_per_village"]):
        assert g.sort_values("n_villages")["power_at_effect"].is_monotonic_increasing
    assert (out / "power.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| villages |" in (out / "power.md").read_text(encoding="utf-8")
    cal = read_json(out / "calibration.json")["calibration"]
    assert cal["n_villages"] == 80
    first = {f: file_sha256(out / f) for f in ("power.csv", "power.md", "power.png")}
    run_power(p)
    assert {f: file_sha256(out / f) for f in first} == first  # byte-identical rerun


def test_run_power_without_analysis_table_names_the_missing_file(
    tmp_path: Path, params: Params
) -> None:
    with pytest.raises(InputFileError, match="household_wave"):
        run_power(_params(params, tmp_path))


def test_power_command_help_says_what_it_reads_and_writes() -> None:
    from typer.testing import CliRunner

    from ctip_research.cli import app

    result = CliRunner().invoke(app, ["power", "--help"])
    assert result.exit_code == 0
    assert "Reads:" in result.output and "data/processed/power/" in result.output
