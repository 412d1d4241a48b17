"""The leaks and breakages an attacker's trial of the package found, one test per finding, each
through the CLI (docs/reliability.md, "Identifiers, keys, YAML" and "Stage transactions and the
data lock"). Each failed on the package before the hardening and passes now.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from filelock import FileLock
from reliability_support import TEST_HMAC_KEY, ingest_params, sentinel_leaks, tree_hashes
from typer.testing import CliRunner

from corpus.generate import (
    PHONES,
    RESPONDENTS,
    SENTINELS,
    households,
    loans,
    write_manifest,
    write_source,
)
from ctip_research.cli import app

runner = CliRunner()
DEMO_KEY = "ctip-public-demo-key-synthetic-data-only"


def _ctip(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=True)


def _ok(root: Path, params: Path, *stages: str) -> None:
    for stage in stages:
        res = _ctip(stage, "--params", str(params))
        assert res.exit_code == 0, res.output


def _report(root: Path) -> list[dict]:
    path = root / "processed/quality/quality_report.json"
    return json.loads(path.read_text("utf-8"))["issues"]


def _set(df: pd.DataFrame, rows: dict[int, object], column: str) -> pd.DataFrame:
    df = df.astype({column: object})
    for i, v in rows.items():
        df.loc[i, column] = v
    return df


# -- 1. identifiers that slip through ------------------------------------------------------


def test_names_phones_and_notes_in_mapped_columns_never_reach_processed(tmp_path: Path) -> None:
    cases = {
        # respondent names typed into the enumerator code, in 8 rows
        "names_in_enumerator": _set(households(), {i: RESPONDENTS[i] for i in range(8)}, "enum"),
        # a phone number in the village code
        "phone_in_village": _set(households(), {3: PHONES[3]}, "village"),
        # a phone number in a number field (text with its leading 0)
        "phone_in_size": _set(households(), {4: PHONES[4].replace(" ", "")}, "size"),
        # a notes column mapped as a value, carrying "contact <name>"
        "notes_in_stratum": _set(households(), {5: f"contact {RESPONDENTS[11]}"}, "stratum"),
    }
    for name, frame in cases.items():
        root = tmp_path / name
        params = ingest_params(root, write_source(root / "raw", "csv", frame))
        ing = _ctip("ingest", "--params", str(params))
        assert ing.exit_code == 6, (name, ing.output)  # PrivacyError: nothing written
        assert not (root / "interim/ingested/households.parquet").exists()
        assert sentinel_leaks(SENTINELS, ing.output, root / "interim", root / "processed") == []


# -- 2. duplicate keys --------------------------------------------------------------------


def test_a_key_given_twice_in_a_codebook_or_params_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "codebook"
    cb_path = write_source(root / "raw", "csv")
    cb = yaml.safe_load(cb_path.read_text("utf-8"))
    del cb["files"][0]["columns"]["respondent"]
    text = yaml.safe_dump(cb, sort_keys=False, allow_unicode=True).replace(
        "  columns:\n", "  columns:\n    respondent:\n      action: pii\n      reason: name\n"
    )
    # the later entry (the one YAML would keep) maps the names to a published column
    text += "    respondent:\n      action: map\n      canonical: enumerator_id\n"
    cb_path.write_text(text, "utf-8")
    res = _ctip("ingest", "--params", str(ingest_params(root, cb_path)))
    assert res.exit_code == 3 and "duplicate key 'respondent'" in res.output, res.output
    assert not (root / "processed/tables/households.parquet").exists()

    root = tmp_path / "params"
    params = ingest_params(root, write_source(root / "raw", "csv"))
    with open(params, "a", encoding="utf-8") as fh:
        fh.write("privacy:\n  min_cell_count: 2\n")
    res = _ctip("ingest", "--params", str(params))
    assert res.exit_code == 2 and "duplicate key 'privacy'" in res.output, res.output


# -- 3. messages that print identifying values ------------------------------------------------


def test_error_messages_never_print_phone_numbers_or_names(tmp_path: Path) -> None:
    # phone numbers and names in a value-mapped column (province): the value map must not echo
    frame = _set(households(), {2: PHONES[2], 6: "+855 12 777 414", 9: RESPONDENTS[9]}, "province")
    root = tmp_path / "mapped"
    params = ingest_params(root, write_source(root / "raw", "csv", frame))
    res = _ctip("ingest", "--params", str(params))
    assert res.exit_code != 0
    assert "province" in res.output and "[4" in res.output  # file, column and rows are named
    assert sentinel_leaks(SENTINELS, res.output) == []


# -- 4. keys that can be guessed ------------------------------------------------------------


@pytest.mark.parametrize(
    "key_text",
    [None, "k", DEMO_KEY + " "],
    ids=["synthetic_flag_only", "one_character", "demo_key_trailing_space"],
)
def test_only_the_package_synthetic_output_gets_the_demo_key(
    tmp_path: Path, key_text: str | None
) -> None:
    def privacy(p: dict, root: Path) -> None:
        p["privacy"]["hmac_key_env"] = "CTIP_TEST_HARDENING_NO_SUCH_VARIABLE"
        p["privacy"]["hmac_key_file"] = None
        if key_text is not None:
            (root / "k.key").write_text(key_text, encoding="utf-8")
            p["privacy"]["hmac_key_file"] = str(root / "k.key")

    # the codebook says `synthetic: true`, but ctip synth did not write these files
    params = ingest_params(tmp_path, write_source(tmp_path / "raw", "csv"), change=privacy)
    res = _ctip("ingest", "--params", str(params))
    assert res.exit_code == 6, res.output
    assert not (tmp_path / "interim/ingested/households.parquet").exists()


# -- 5. a failure in the middle of a stage -------------------------------------------------


def _faults(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    import tempfile

    import ctip_research.io as ctip_io

    if kind == "disk_full":
        real_fsync, calls = os.fsync, [0]

        def fsync(fd: int) -> None:
            calls[0] += 1
            if calls[0] == 4:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real_fsync(fd)

        monkeypatch.setattr(ctip_io.os, "fsync", fsync)
    elif kind == "read_only_quality":
        real = tempfile.mkstemp

        def mkstemp(*args, **kwargs):
            if str(kwargs.get("dir", "")).endswith("quality"):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), kwargs["dir"])
            return real(*args, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("kind", ["inf_weight", "disk_full", "read_only_quality"])
def test_a_failing_clean_leaves_the_previous_outputs_whole(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cb = write_source(tmp_path / "raw", "csv")
    params = ingest_params(tmp_path, cb)
    _ok(tmp_path, params, "ingest", "clean")
    if kind == "inf_weight":  # text `inf` in the weights (pyreadstat cannot write it)
        write_source(tmp_path / "raw", "csv", _set(households(), {9: "inf"}, "weight"))
        _ok(tmp_path, params, "ingest")
    before = tree_hashes(tmp_path / "processed")
    with monkeypatch.context() as patch:
        _faults(patch, kind)
        res = _ctip("clean", "--params", str(params))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    after = tree_hashes(tmp_path / "processed")
    if res.exit_code == 0:  # the implausible weight is reported, its household set aside
        assert kind == "inf_weight"
        issues = _report(tmp_path)
        assert any(i["check"] == "plausibility" and i["row"] == 11 for i in issues)
        assert len(pd.read_parquet(tmp_path / "processed/tables/households.parquet")) == 23
    else:
        assert res.exit_code == 14, res.output  # OutputWriteError
        assert "unchanged" in res.output
        after.pop("tables/run.json"), before.pop("tables/run.json")  # now says `failed`
        assert after == before


# -- 6. runs that collide ------------------------------------------------------------------


def test_a_second_run_refuses_while_one_holds_the_data(tmp_path: Path) -> None:
    params = ingest_params(tmp_path, write_source(tmp_path / "raw", "csv"))
    _ok(tmp_path, params, "ingest", "clean")
    before = tree_hashes(tmp_path / "processed")
    stale = tmp_path / "processed/tables/.households.parquet.other_1x.parquet"
    stale.write_bytes(b"PAR1 the other run's file, being written")
    with FileLock(str(tmp_path / "processed/.ctip.lock")):  # `ctip clean` running elsewhere
        res = _ctip("clean", "--params", str(params))
    assert res.exit_code == 15 and "another ctip run" in res.output, res.output
    assert stale.exists()  # the other run's temporary file is left alone
    stale.unlink()
    assert tree_hashes(tmp_path / "processed") == before


KILLED_INGEST = """\
import os, signal, sys
real, calls, point = os.replace, [0], int(sys.argv[2])
def replace(*args, **kwargs):
    calls[0] += 1
    if calls[0] == point:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
os.replace = replace
from ctip_research.cli import main
sys.argv = ["ctip", "ingest", "--params", sys.argv[1]]
main()
"""


def test_killed_ingest_leaves_no_mix_for_clean(tmp_path: Path) -> None:
    params = ingest_params(tmp_path, write_source(tmp_path / "raw", "csv"))
    _ok(tmp_path, params, "ingest")
    # new raw data (20 households, new loans): ingest is killed at its third rename
    write_source(tmp_path / "raw", "csv", households().iloc[:20], with_loans=True)
    loans().to_csv(tmp_path / "raw/loans.csv", index=False, lineterminator="\n")
    (tmp_path / "kill.py").write_text(KILLED_INGEST, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "kill.py"), str(params), "3"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    # the next stage runs on one complete set: the killed run's swap is finished first
    _ok(tmp_path, params, "clean")
    hh = pd.read_parquet(tmp_path / "processed/tables/households.parquet")
    ln = pd.read_parquet(tmp_path / "processed/tables/loans.parquet")
    assert len(hh) == 20 and len(ln) == 12


# -- 7. inputs that were accepted silently -------------------------------------------------


def test_implausible_amounts_and_dates_are_reported(tmp_path: Path) -> None:
    cb = write_source(tmp_path / "raw", "csv", with_loans=True)
    ln = _set(_set(loans(), {0: 1e15}, "amount"), {4: 2099}, "year")
    ln.to_csv(tmp_path / "raw/loans.csv", index=False, lineterminator="\n")
    _ok(tmp_path, ingest_params(tmp_path, cb), "ingest", "clean")
    hits = {(i["column"], i["row"]) for i in _report(tmp_path) if i["check"] == "plausibility"}
    assert {("principal_usd", 2), ("principal", 2), ("year_taken", 6)} <= hits
    kept = pd.read_parquet(tmp_path / "processed/tables/loans.parquet")
    assert kept["principal_usd"].max() < 1e6  # set missing (the range action)


def test_household_ids_differing_in_case_or_hyphen_are_one_household(tmp_path: Path) -> None:
    w1 = write_source(tmp_path / "raw/w1", "csv")
    w2_frame = households().assign(hhid=[f"h{i + 1:03d}" for i in range(24)])  # H-001 -> h001
    w2 = write_source(tmp_path / "raw/w2", "csv", w2_frame)
    cb2 = yaml.safe_load(w2.read_text("utf-8"))
    cb2["wave"], cb2["source"] = 2, "corpus_w2"
    w2.write_text(yaml.safe_dump(cb2, sort_keys=False, allow_unicode=True), "utf-8")
    params = ingest_params(
        tmp_path, w1, change=lambda p, r: p["ingest"].update(sources=[str(w1), str(w2)])
    )
    _ok(tmp_path, params, "ingest", "clean")
    hh = pd.read_parquet(tmp_path / "processed/tables/households.parquet")
    assert hh.groupby("household_id")["wave"].nunique().eq(2).all()  # 24 panel households
    assert hh["household_id"].nunique() == 24
    variants = [i for i in _report(tmp_path) if i["check"] == "id_variant"]
    assert len(variants) == 24


def test_na_text_in_a_workbook_is_an_id_not_a_missing_value(tmp_path: Path) -> None:
    cb = write_source(tmp_path / "raw", "xlsx", _set(households(), {3: "NA"}, "hhid"))
    _ok(tmp_path, ingest_params(tmp_path, cb), "ingest")
    assert len(pd.read_parquet(tmp_path / "interim/ingested/households.parquet")) == 24


def test_special_code_clashing_with_valid_zeros_is_reported(tmp_path: Path) -> None:
    frame = households().assign(income_farm=[0.0] * 12 + [410_000.0] * 12)
    cb_path = write_source(tmp_path / "raw", "xlsx", frame)
    cb = yaml.safe_load(cb_path.read_text("utf-8"))
    cb["files"][0]["columns"]["income_farm"]["special_codes"] = {0: "refused"}
    cb_path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), "utf-8")
    _ok(tmp_path, ingest_params(tmp_path, cb_path), "ingest", "clean")
    clash = [i for i in _report(tmp_path) if i["check"] == "special_code_clash"]
    assert [i["column"] for i in clash] == ["income_farm_usd"] and "12 value(s)" in clash[0][
        "detail"
    ]


def test_orphans_and_zero_row_sources_appear_in_the_quality_report(tmp_path: Path) -> None:
    from corpus.hardening import _empty_loans, _repeat_source

    root = tmp_path / "orphan"
    cb = _repeat_source(lambda df: df.assign(_parent_index=[999] + list(df["_parent_index"][1:])))(
        root / "raw"
    )
    _ok(root, ingest_params(root, cb), "ingest", "clean")
    assert [(i["table"], i["row"]) for i in _report(root) if i["check"] == "orphan"] == [
        ("loans", 2)
    ]
    root = tmp_path / "empty"
    cb = _empty_loans(root / "raw")
    _ok(root, ingest_params(root, cb), "ingest", "clean")
    assert [i["table"] for i in _report(root) if i["check"] == "empty_source"] == ["loans"]


def test_a_deleted_manifest_is_an_error(tmp_path: Path) -> None:
    cb = write_source(tmp_path / "raw", "csv")
    write_manifest(tmp_path / "raw", ["hh.csv"], {"hh.csv": 24})
    params = ingest_params(tmp_path, cb)
    _ok(tmp_path, params, "ingest")
    (tmp_path / "raw/manifest.json").unlink()
    res = _ctip("ingest", "--params", str(params))
    assert res.exit_code == 8 and "manifest.json is missing" in res.output, res.output


def test_codebook_paths_stay_inside_the_project(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    write_source(outside, "csv")  # a readable file outside the codebook's directory
    cb_path = write_source(tmp_path / "raw", "csv")
    cb = yaml.safe_load(cb_path.read_text("utf-8"))
    cb["files"][0]["path"] = "../elsewhere/hh.csv"
    cb_path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), "utf-8")
    params = ingest_params(tmp_path, cb_path)
    res = _ctip("ingest", "--params", str(params))
    assert res.exit_code == 4 and "leaves the codebook's directory" in res.output, res.output
    # allowed in params: read
    params = ingest_params(
        tmp_path, cb_path, change=lambda p, r: p["ingest"].update(allowed_raw_dirs=[str(outside)])
    )
    _ok(tmp_path, params, "ingest")


def test_test_key_is_long_enough() -> None:
    assert len(TEST_HMAC_KEY.encode()) >= 32
