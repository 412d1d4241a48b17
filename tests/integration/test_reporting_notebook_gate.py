"""Executed notebooks: a record-level table or a cell under the threshold fails the gate."""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf
import pytest

from ctip_research.errors import DisclosureError, RenderError
from ctip_research.reporting.notebook import collect_disclosure, execute_notebook

SETUP = """import pandas as pd
from ctip_research.reporting.notebook import show_table"""


def _write(tmp_path: Path, name: str, code: str) -> Path:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbf.v4.new_code_cell(SETUP), nbf.v4.new_code_cell(code)]
    path = tmp_path / f"{name}.ipynb"
    nbf.write(nb, path)
    return path


def _run(path: Path) -> nbf.NotebookNode:
    return execute_notebook(
        path,
        parameters={},
        kernel_name="python3",
        timeout_s=120,
        source_date_epoch=1767225600,
        cwd=path.parent,
    )


@pytest.mark.slow
def test_notebook_with_a_record_level_table_fails(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "records",
        """records = pd.DataFrame(
    {"household_id": ["a1", "b2", "c3"], "total_debt_usd": [120.0, 80.0, 4000.0]})
show_table(records, name="records")""",
    )
    with pytest.raises(RenderError, match="records.ipynb.*DisclosureError"):
        _run(path)


@pytest.mark.slow
def test_notebook_with_a_cell_under_the_threshold_fails(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "small",
        """cells = pd.DataFrame({"province": ["A", "B"], "estimate": [0.4, 0.2],
    "kind": "share", "n_numerator": [40, 4], "n_denominator": [100, 100]})
show_table(cells, name="small", artefact_type="cells")""",
    )
    with pytest.raises(RenderError, match="min_cell_count"):
        _run(path)


@pytest.mark.slow
def test_notebook_displaying_a_frame_around_the_gate_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, "plain", """pd.DataFrame({"household_id": ["a1"], "x": [1.0]})""")
    nb = _run(path)  # executes fine: the gate catches it when the outputs are collected
    with pytest.raises(DisclosureError, match="without passing the disclosure gate"):
        collect_disclosure(nb, name="plain")
