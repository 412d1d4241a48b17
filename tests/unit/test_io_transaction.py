"""Stage transactions (io.transaction), journal recovery and the strict YAML loader."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import yaml

from ctip_research.io import (
    JOURNAL_NAME,
    current_path,
    file_sha256,
    is_temporary,
    recover,
    transaction,
    write_text,
)
from ctip_research.strict_yaml import load_yaml


def test_writes_are_swapped_in_together_at_the_end(tmp_path: Path) -> None:
    write_text(tmp_path / "a.txt", "old a")
    with transaction(tmp_path / JOURNAL_NAME):
        write_text(tmp_path / "a.txt", "new a")
        write_text(tmp_path / "sub" / "b.txt", "new b")
        assert (tmp_path / "a.txt").read_text() == "old a"  # not yet swapped in
        assert current_path(tmp_path / "a.txt").read_text() == "new a"  # read back staged
        assert file_sha256(tmp_path / "a.txt") == file_sha256(current_path(tmp_path / "a.txt"))
    assert (tmp_path / "a.txt").read_text() == "new a"
    assert (tmp_path / "sub" / "b.txt").read_text() == "new b"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.txt", "b.txt"]


def test_a_rename_refused_mid_commit_puts_the_previous_set_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in "abc":
        write_text(tmp_path / f"{name}.txt", f"old {name}")
    real, calls = os.replace, [0]

    def replace(src: str, dst: str) -> None:
        calls[0] += 1
        if calls[0] == 3:  # journal, a.txt, then b.txt refused
            raise PermissionError(errno.EACCES, "denied", dst)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PermissionError), transaction(tmp_path / JOURNAL_NAME):
        for name in "abc":
            write_text(tmp_path / f"{name}.txt", f"new {name}")
    monkeypatch.undo()
    assert [(tmp_path / f"{n}.txt").read_text() for n in "abc"] == ["old a", "old b", "old c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt", "c.txt"]


def test_recover_completes_a_commit_that_was_killed(tmp_path: Path) -> None:
    write_text(tmp_path / "a.txt", "old a")
    staged = tmp_path / ".a.txt.abcd1234.txt"
    staged.write_text("new a")
    (tmp_path / ".b.txt.zzzz9999.txt").write_text("half")  # a killed write, not committed
    journal = tmp_path / JOURNAL_NAME
    entry = {"target": str(tmp_path / "a.txt"), "staged": str(staged), "previous": None}
    journal.write_text(json.dumps({"files": [entry]}))
    done = recover(journal, [tmp_path])
    assert done == {"completed": 1, "removed": 1}
    assert (tmp_path / "a.txt").read_text() == "new a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_temporary_names_are_recognised_and_user_files_are_not() -> None:
    assert is_temporary(".x.parquet.ab_cd123.parquet") and is_temporary(".x.ctip-previous")
    assert not any(is_temporary(n) for n in (".gitkeep", ".ctip.lock", "x.parquet", ".DS_Store"))


def test_duplicate_keys_are_refused_merge_keys_are_not() -> None:
    with pytest.raises(yaml.YAMLError, match="duplicate key 'a'.*line 1.*line 3"):
        load_yaml("a: 1\nb: 2\na: 3\n")
    with pytest.raises(yaml.YAMLError, match=r"duplicate key \(first"):  # a value is not shown
        load_yaml("values:\n  Sok Dara: 1\n  Sok Dara: 2\n")
    assert load_yaml("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n") == {
        "base": {"x": 1},
        "c": {"x": 1, "y": 2},
    }
