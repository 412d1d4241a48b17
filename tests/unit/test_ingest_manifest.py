"""Raw-file manifest: a changed raw file is noticed before it is parsed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctip_research.errors import RawFileChangedError
from ctip_research.ingest.manifest import check_manifest
from ctip_research.io import file_sha256


def _register(directory: Path, *names: str, shape: str = "dict") -> None:
    entries = {
        n: {
            "sha256": file_sha256(directory / n),
            "bytes": (directory / n).stat().st_size,
            "rows": 1,
        }
        for n in names
    }
    if shape == "list":
        manifest: object = {"files": [{"path": n, **e} for n, e in entries.items()]}
    else:
        manifest = {"files": entries}
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("shape", ["dict", "list"])
def test_unchanged_files_pass(tmp_path: Path, shape: str) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    _register(tmp_path, "a.csv", shape=shape)
    assert check_manifest(tmp_path, ["a.csv", "not_registered.csv"]) == ["a.csv"]


def test_same_size_edit_is_caught_by_sha256(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    _register(tmp_path, "a.csv")
    (tmp_path / "a.csv").write_text("x\n2\n", encoding="utf-8")
    with pytest.raises(RawFileChangedError, match=r"a\.csv changed .*sha256"):
        check_manifest(tmp_path, ["a.csv"])


def test_size_change_is_caught(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    _register(tmp_path, "a.csv")
    (tmp_path / "a.csv").write_text("x\n1\n3\n", encoding="utf-8")
    with pytest.raises(RawFileChangedError, match="bytes"):
        check_manifest(tmp_path, ["a.csv"])


def test_registered_file_missing_is_caught(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    _register(tmp_path, "a.csv")
    (tmp_path / "a.csv").unlink()
    with pytest.raises(RawFileChangedError, match="missing"):
        check_manifest(tmp_path, ["a.csv"])


def test_no_manifest_checks_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    assert check_manifest(tmp_path, ["a.csv"]) == []
