"""The example survey under tests/data is exactly what its script writes (no hand edits)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ctip_research.io import file_sha256

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example_survey"


def test_committed_example_survey_is_reproduced_by_its_script(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_example_survey", EXAMPLE / "make_example_survey.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        "corrections.csv",
        "wave1/households.csv",
        "wave1/loans.csv",
        "wave1/members.csv",
        "wave1/migration.csv",
        "wave2/credit.dta",
        "wave2/hh.dta",
        "wave2/migrants.dta",
        "wave2/roster.dta",
    ]
    for rel in written:
        assert file_sha256(tmp_path / rel) == file_sha256(EXAMPLE / rel), rel
    assert "308 households in wave 1, 286 in wave 2" in capsys.readouterr().out
