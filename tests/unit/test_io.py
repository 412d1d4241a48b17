"""Atomic writes: a failure leaves the previous file; output is deterministic."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ctip_research.io import atomic_path, file_sha256, write_json, write_parquet, write_text


def test_failed_write_leaves_previous_content(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text(target, "complete")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failed_first_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.json"
    with pytest.raises(ValueError), atomic_path(target):
        raise ValueError
    assert not target.exists()
    assert list((tmp_path / "sub").iterdir()) == []


def test_json_is_deterministic(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"b": 1, "a": [1.5, None]})
    write_json(tmp_path / "b.json", {"a": [1.5, None], "b": 1})
    assert file_sha256(tmp_path / "a.json") == file_sha256(tmp_path / "b.json")


def test_parquet_same_frame_same_bytes(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": pd.array([1, None, 3], dtype="Int64"), "y": ["a", "b", None]})
    write_parquet(tmp_path / "a.parquet", df)
    write_parquet(tmp_path / "b.parquet", df.copy())
    assert file_sha256(tmp_path / "a.parquet") == file_sha256(tmp_path / "b.parquet")


def test_discarded_output_goes_only_when_the_new_set_is_in_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ctip_research.io import JOURNAL_NAME, discard_output, transaction, write_text

    write_text(tmp_path / "old.json", "{}")
    try:
        with transaction(tmp_path / JOURNAL_NAME):
            discard_output(tmp_path / "old.json")
            raise RuntimeError("the run fails")
    except RuntimeError:
        pass
    assert (tmp_path / "old.json").exists()  # a failed run keeps the previous set whole
    with transaction(tmp_path / JOURNAL_NAME):
        write_text(tmp_path / "new.json", "{}")
        discard_output(tmp_path / "old.json")
        assert (tmp_path / "old.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json"]
