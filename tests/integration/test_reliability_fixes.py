"""The ingest and io fixes, each tested on its own: the Khmer/Limon detector,
the CSV cut mid-line, money without a currency, the manifest's row counts (and its check before
parsing), and the removal of temporary files left by a killed run (only under the lock)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.generate import N_HOUSEHOLDS, write_manifest, write_source
from ctip_research.errors import InputFileError, RawFileChangedError
from ctip_research.ingest.khmer import is_khmer_char, khmer_text_problem
from ctip_research.ingest.manifest import check_manifest, check_manifest_rows
from ctip_research.ingest.readers import read_raw
from ctip_research.io import JOURNAL_NAME, recover, transaction, write_text

KHMER = st.characters(min_codepoint=0x1780, max_codepoint=0x17FF)
BENIGN = st.sampled_from(list(" 0123456789-.,()/"))


@given(st.text(alphabet=st.one_of(KHMER, BENIGN), min_size=1))
def test_unicode_khmer_text_is_accepted(text: str) -> None:
    assert khmer_text_problem(text) is None


@given(
    st.text(alphabet=st.one_of(KHMER, BENIGN)),
    st.characters(min_codepoint=0x80, max_codepoint=0xFF),
    st.text(alphabet=st.one_of(KHMER, BENIGN)),
)
def test_latin1_character_in_khmer_field_is_flagged(before: str, ch: str, after: str) -> None:
    assert khmer_text_problem(before + ch + after) is not None


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("បាត់ដំបង", False),
        ("ខេត្ត ១២", False),
        ("12", False),  # a numeric code is not legacy text
        ("»ñ¶ÇÖ", True),  # Limon glyphs on Latin-1 code points
        ("batdMbg", True),  # Limon glyphs on ASCII letters
        ("បាត់ដំបង".encode().decode("latin-1"), True),  # UTF-8 read as Latin-1
        ("ក\ufffd", True),
        ("ក\x07", True),
    ],
)
def test_khmer_text_problem_examples(text: str, flagged: bool) -> None:
    assert (khmer_text_problem(text) is not None) is flagged
    assert is_khmer_char("ក") and not is_khmer_char("k")


def test_csv_cut_mid_line_names_the_row(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("id,x,y\n1,2,3\n4,5", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 3: 2 field\(s\) where the header has 3"):
        read_raw(p)


def test_csv_with_blank_lines_and_quoted_newlines_is_read(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text('id,x\n1,"a\nb"\n\n2,c\n', encoding="utf-8")
    assert read_raw(p).data["id"].tolist() == ["1", "2"]


def test_manifest_rows_mismatch_is_caught(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {"a.csv": {"rows": 3}}}))
    assert check_manifest_rows(tmp_path, {"a.csv": 3, "b.csv": 9}) == ["a.csv"]
    with pytest.raises(RawFileChangedError, match="2 data row"):
        check_manifest_rows(tmp_path, {"a.csv": 2})


def test_changed_raw_file_is_noticed_before_parsing(tmp_path: Path) -> None:
    write_source(tmp_path, "stata")
    write_manifest(tmp_path, ["hh.dta"], {"hh.dta": N_HOUSEHOLDS})
    size = (tmp_path / "hh.dta").stat().st_size
    (tmp_path / "hh.dta").write_bytes(b"\x00" * size)  # same size, unreadable
    # the manifest check runs first: the unparseable file gives RawFileChangedError
    with pytest.raises(RawFileChangedError, match="sha256"):
        check_manifest(tmp_path, ["hh.dta"])


def test_manifest_rows_are_compared_when_a_source_is_read(tmp_path: Path) -> None:
    from ctip_research.ingest.codebook import read_codebook
    from ctip_research.stages.ingest import read_source

    cb_path = write_source(tmp_path, "csv")
    write_manifest(tmp_path, ["hh.csv"], {"hh.csv": N_HOUSEHOLDS + 1})
    with pytest.raises(RawFileChangedError, match=f"{N_HOUSEHOLDS} data row"):
        read_source(cb_path, read_codebook(cb_path), manifest=True)
    write_manifest(tmp_path, ["hh.csv"], {"hh.csv": N_HOUSEHOLDS})
    assert len(read_source(cb_path, read_codebook(cb_path), manifest=True)) == 1


def test_stale_temporary_file_is_removed_only_by_a_run_holding_the_lock(tmp_path: Path) -> None:
    stale = tmp_path / ".x.json.abcd_123.json"
    other = tmp_path / ".y.json.abcd_123.json"  # another target's
    stale.write_text("{partial")
    other.write_text("{partial")
    # a write outside a stage run may run beside another run: it removes nothing
    write_text(tmp_path / "x.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".x.json.abcd_123.json",
        ".y.json.abcd_123.json",
        "x.json",
    ]
    # inside a transaction (a stage run holds the lock), the target's own stale file goes
    with transaction(tmp_path / JOURNAL_NAME):
        write_text(tmp_path / "x.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".y.json.abcd_123.json", "x.json"]
    # the recovery of a run (holding the lock) removes every temporary file of killed runs
    assert recover(tmp_path / JOURNAL_NAME, [tmp_path])["removed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]
