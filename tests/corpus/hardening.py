"""Corpus classes of the hardening work (docs/reliability.md, "Malformed input"): identifying
values where codes are expected, duplicate YAML keys, guessable keys, faults while a stage
writes, runs that collide, implausible values, id spellings, "NA" text, special codes that
clash with real answers, orphans and empty files, a deleted manifest and codebook paths that
leave the project.

Every case goes through the real CLI like the rest of the corpus
(``tests/integration/test_reliability_corpus.py``); the fields of
:class:`~corpus.generate.Case` say which stage must fail, what to change in the params, what to
do between a first good ingest and the failing run, which fault to inject and which lock the
test holds.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from corpus.generate import (
    N_HOUSEHOLDS,
    PLANTED,
    RESPONDENTS,
    SOURCE,
    Case,
    households,
    loans,
    write_manifest,
    write_source,
)
from ctip_research import errors
from ctip_research.errors import (
    CodebookError,
    CtipError,
    InputFileError,
    ParamsError,
    PrivacyError,
    RawFileChangedError,
)


def _error(name: str) -> type[CtipError]:
    """An error class of the package, or (on a version of the package without it) a stand-in
    no run can raise: the corpus then runs against older code and shows what it fails."""
    return getattr(errors, name, type(name, (CtipError,), {"exit_code": -1}))


BusyError = _error("BusyError")
OutputWriteError = _error("OutputWriteError")

DEMO_KEY = "ctip-public-demo-key-synthetic-data-only"
CB_NAME = f"{SOURCE}.codebook.yaml"
#: The spreadsheet row of a data row (header = 1) and the observation number (.dta/.sav).
FIRST_ROW = {"csv": 2, "xlsx": 2, "stata": 1, "spss": 1}
FILE = {"csv": "hh.csv", "xlsx": "hh.xlsx", "stata": "hh.dta", "spss": "hh.sav"}


def _frame(fmt: str, change: Callable[[pd.DataFrame], pd.DataFrame], **kw: Any) -> Callable:
    def build(d: Path) -> Path:
        return write_source(d, fmt, change(households()), **kw)

    return build


def _cells(fmt: str, column: str, values: dict[int, object], **kw: Any) -> Callable:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({column: object})
        for i, v in values.items():
            df.loc[i, column] = v
        return df

    return _frame(fmt, change, **kw)


def _row(fmt: str, index: int) -> str:
    return f"{index + FIRST_ROW[fmt]}"


def _codebook_change(fmt: str, change: Callable[[dict], None], df: Callable | None = None):
    def build(d: Path) -> Path:
        frame = households() if df is None else df(households())
        cb_path = write_source(d, fmt, frame)
        cb = yaml.safe_load(cb_path.read_text(encoding="utf-8"))
        change(cb)
        cb_path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), "utf-8")
        return cb_path

    return build


def _codebook_text(change: Callable[[str], str]) -> Callable:
    def build(d: Path) -> Path:
        cb_path = write_source(d, "csv")
        cb_path.write_text(change(cb_path.read_text(encoding="utf-8")), encoding="utf-8")
        return cb_path

    return build


def _loans_frame(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable:
    def build(d: Path) -> Path:
        cb = write_source(d, "csv", with_loans=True)
        change(loans()).to_csv(d / "loans.csv", index=False, lineterminator="\n")
        return cb

    return build


def _set_loan(i: int, col: str, v: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({col: object})
        df.loc[i, col] = v
        return df

    return change


def _privacy(**values: Any) -> Callable[[dict, Path], None]:
    """Params change: privacy keys (``key_text`` writes a key file with that content)."""

    def change(p: dict, root: Path) -> None:
        text = values.get("key_text")
        p["privacy"]["hmac_key_env"] = "CTIP_TEST_CORPUS_NO_SUCH_VARIABLE"
        if text is None:
            p["privacy"]["hmac_key_file"] = None
        else:
            (root / "weak.key").write_text(text, encoding="utf-8")
            p["privacy"]["hmac_key_file"] = str(root / "weak.key")

    return change


# -- faults injected into the process of the failing run ------------------------------------


def _nth_call(module: Any, name: str, n: int, exc: Callable[[tuple], BaseException]):
    """A fault: the ``n``-th call of ``module.name`` raises ``exc(args)``."""

    def install(monkeypatch: Any) -> None:
        real = getattr(module, name)
        calls = {"n": 0}

        def fake(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == n:
                raise exc(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, fake)

    return install


def _disk_full(args: tuple) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _read_only(args: tuple) -> OSError:
    where = args[0] if args else None
    return OSError(errno.EROFS, os.strerror(errno.EROFS), str(where))


def _refused(args: tuple) -> OSError:
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(args[-1]))


def _readstat_refuses(monkeypatch: Any) -> None:
    import pyreadstat

    def fake(df: pd.DataFrame, *args: Any, **kwargs: Any) -> None:
        # pyreadstat's message quotes the value it refuses: it must not reach the user
        raise pyreadstat.PyreadstatError(f"value {RESPONDENTS[0]} cannot be written")

    monkeypatch.setattr(pyreadstat, "write_dta", fake)


def _mkstemp_in_quality_read_only(monkeypatch: Any) -> None:
    import tempfile

    real = tempfile.mkstemp

    def fake(*args: Any, **kwargs: Any) -> Any:
        directory = str(kwargs.get("dir", ""))
        if directory.endswith("quality"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), directory)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", fake)


# -- orphans and empty files: a loan repeat group linked to its parent rows ----------------


def _repeat_source(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable:
    """Households with a row index and a loan table linked to it (a Kobo repeat group)."""

    def build(d: Path) -> Path:
        hh = households()
        hh["_index"] = range(1, len(hh) + 1)
        cb_path = write_source(d, "csv", hh)
        cb = yaml.safe_load(cb_path.read_text(encoding="utf-8"))
        cb["files"][0]["columns"]["_index"] = {"action": "parent_key"}
        ln = pd.DataFrame(
            {
                "_parent_index": [1 + i % 12 for i in range(12)],
                "amount": [1000.0 + 10 * i for i in range(12)],
            }
        )
        change(ln).to_csv(d / "loans.csv", index=False, lineterminator="\n")
        cb["files"].append(
            {
                "path": "loans.csv",
                "table": "loans",
                "parent": {"path": "hh.csv", "key": "_parent_index", "parent_key": "_index"},
                "sequence": "loan_id",
                "columns": {
                    "_parent_index": {"action": "link"},
                    "amount": {"action": "map", "canonical": "principal", "currency": "USD"},
                },
            }
        )
        cb_path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), "utf-8")
        return cb_path

    return build


def _empty_loans(d: Path) -> Path:
    cb = write_source(d, "csv", with_loans=True)
    loans().iloc[:0].to_csv(d / "loans.csv", index=False, lineterminator="\n")
    return cb


# -- a manifest deleted after a good ingest -------------------------------------------------


def _with_manifest(fmt: str) -> Callable:
    def build(d: Path) -> Path:
        cb = write_source(d, fmt)
        write_manifest(d, [FILE[fmt]], {FILE[fmt]: N_HOUSEHOLDS})
        return cb

    return build


def _remove_manifest(d: Path) -> None:
    (d / "manifest.json").unlink()


def _rename_manifest(d: Path) -> None:
    (d / "manifest.json").rename(d / "manifest.json.bak")


# -- codebook paths that leave the codebook's directory ------------------------------------


def _path(path: str, *, outside: bool = False, symlink: bool = False) -> Callable:
    def build(d: Path) -> Path:
        cb_path = write_source(d, "csv")
        if outside:  # a real file outside the codebook's directory
            (d.parent / "outside").mkdir(exist_ok=True)
            (d / "hh.csv").rename(d.parent / "outside" / "hh.csv")
        if symlink:
            (d.parent / "outside").mkdir(exist_ok=True)
            (d / "hh.csv").rename(d.parent / "outside" / "hh.csv")
            (d / "hh.csv").symlink_to(d.parent / "outside" / "hh.csv")
        cb = yaml.safe_load(cb_path.read_text(encoding="utf-8"))
        cb["files"][0]["path"] = path
        cb_path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), "utf-8")
        return cb_path

    return build


# -- accept checks ------------------------------------------------------------------------


def _households_kept(n: int, column: str | None = None, value: str | None = None) -> Callable:
    def check(root: Path) -> None:
        hh = pd.read_parquet(root / "interim/ingested/households.parquet")
        assert len(hh) == n, len(hh)
        if column is not None:
            assert (hh[column] == value).sum() == 1, hh[column].tolist()

    return check


def _special_code_recorded(reason: str, row: int) -> Callable:
    def check(root: Path) -> None:
        sc = pd.read_parquet(root / "interim/ingested/special_codes.parquet")
        hit = sc[(sc["reason"] == reason) & (sc["_row"] == row)]
        assert len(hit) == 1, sc[["_row", "reason"]].values.tolist()

    return check


def hardening_cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append
    E_PRIV = PrivacyError

    # 16. names of respondents (the source's pii column) typed into code columns
    for fmt, col, values in (
        ("csv", "village", {3: RESPONDENTS[7]}),
        ("xlsx", "enum", {10: RESPONDENTS[2]}),
        ("stata", "stratum", {0: RESPONDENTS[0].upper()}),
        ("spss", "enum", {5: f"contact {RESPONDENTS[5]} tomorrow"}),
        ("csv", "enum", {i: RESPONDENTS[8 + i] for i in range(1, 9)}),
    ):
        first = min(values)
        add(
            Case(
                "name_in_code_column",
                f"{fmt}_{col}_{len(values)}",
                _cells(fmt, col, values),
                "reject",
                E_PRIV,
                (FILE[fmt], f"'{col}'", "identifying (pii) column", _row(fmt, first)),
            )
        )
    # 17. phone numbers in code, categorical and number columns
    for fmt, col, value, i in (
        ("csv", "village", PLANTED[0], 4),
        ("csv", "province", PLANTED[1], 6),  # value-mapped (the map would echo it)
        ("csv", "size", PLANTED[4], 9),  # a number column: a leading 0 is no count
        ("xlsx", "enum", f"call {PLANTED[0]}", 12),
        ("stata", "enum", PLANTED[1], 15),
    ):
        add(
            Case(
                "phone_in_field",
                f"{fmt}_{col}",
                _cells(fmt, col, {i: value}),
                "reject",
                E_PRIV,
                (FILE[fmt], f"'{col}'", "phone number", _row(fmt, i)),
            )
        )
    # 18. e-mail addresses and ID-card numbers
    for fmt, col, value, i, rule in (
        ("csv", "enum", PLANTED[2], 2, "e-mail"),
        ("xlsx", "stratum", PLANTED[3], 3, "ID-card"),
        ("spss", "village", f"ID {PLANTED[3]}", 8, "ID-card"),
        ("csv", "province", PLANTED[2], 11, "e-mail"),
        ("stata", "village", f"mail {PLANTED[2]}", 20, "e-mail"),
    ):
        add(
            Case(
                "email_or_id_number",
                f"{fmt}_{col}",
                _cells(fmt, col, {i: value}),
                "reject",
                E_PRIV,
                (FILE[fmt], f"'{col}'", rule, _row(fmt, i)),
            )
        )
    # 19. free text (several words) where a code is expected
    for fmt, col, value, i in (
        ("csv", "stratum", "lives near the pagoda", 1),
        ("xlsx", "village", "house behind market", 5),
        ("stata", "enum", "team leader replaced", 7),
        ("spss", "stratum", "see notes page", 13),
        ("csv", "enum", "met twice here", 21),
    ):
        add(
            Case(
                "free_text_in_code",
                f"{fmt}_{col}",
                _cells(fmt, col, {i: value}),
                "reject",
                E_PRIV,
                (FILE[fmt], f"'{col}'", "free text", _row(fmt, i)),
            )
        )

    # 20. a key given twice in a codebook or in params.yaml (YAML keeps the last one)
    def pii_then_map(d: Path) -> Path:
        """`respondent` first as pii, later (the entry YAML keeps) mapped as a code."""
        cb_path = write_source(d, "csv")
        cb = yaml.safe_load(cb_path.read_text(encoding="utf-8"))
        del cb["files"][0]["columns"]["respondent"]
        text = yaml.safe_dump(cb, sort_keys=False, allow_unicode=True)
        text = text.replace(
            "  columns:\n", "  columns:\n    respondent:\n      action: pii\n      reason: name\n"
        )
        text += "    respondent:\n      action: map\n      canonical: enumerator_id\n"
        cb_path.write_text(text, encoding="utf-8")
        return cb_path

    add(
        Case(
            "duplicate_yaml_key",
            "codebook_column_pii_then_map",
            pii_then_map,
            "reject",
            InputFileError,
            (CB_NAME, "duplicate key 'respondent'"),
        )
    )
    add(
        Case(
            "duplicate_yaml_key",
            "codebook_source_twice",
            _codebook_text(lambda t: t + "source: another\n"),
            "reject",
            InputFileError,
            (CB_NAME, "duplicate key 'source'"),
        )
    )
    add(
        Case(
            "duplicate_yaml_key",
            "codebook_special_codes_twice",
            _codebook_text(lambda t: t + "special_codes:\n  0: refused\n"),
            "reject",
            InputFileError,
            (CB_NAME, "duplicate key 'special_codes'"),
        )
    )
    add(
        Case(
            "duplicate_yaml_key",
            "params_privacy_block_appended",
            lambda d: write_source(d, "csv"),
            "reject",
            ParamsError,
            ("params.yaml", "duplicate key 'privacy'"),
            params_text=lambda t: t + "privacy:\n  min_cell_count: 2\n",
        )
    )
    add(
        Case(
            "duplicate_yaml_key",
            "params_nested_key_twice",
            lambda d: write_source(d, "csv"),
            "reject",
            ParamsError,
            ("params.yaml", "duplicate key 'check_manifest'"),
            params_text=lambda t: t.replace(
                "  check_manifest: true\n", "  check_manifest: true\n  check_manifest: false\n"
            ),
        )
    )

    # 21. keys that can be guessed, and the demo key for data ctip synth did not write
    def forged_manifest(d: Path) -> Path:
        cb = write_source(d, "csv")
        manifest = {"generator": "ctip synth", "files": {"hh.csv": {"sha256": "0" * 64}}}
        (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return cb

    for name, change, text, build in (
        ("synthetic_flag_no_key", _privacy(), "no HMAC key", None),
        ("one_character_key", _privacy(key_text="k"), "too weak", None),
        ("31_byte_key", _privacy(key_text="0123456789abcdef0123456789abcde"), "too weak", None),
        ("demo_key_trailing_space", _privacy(key_text=DEMO_KEY + " "), "public demo key", None),
        ("demo_key_capitals", _privacy(key_text=DEMO_KEY.upper()), "public demo key", None),
        ("forged_generator_manifest", _privacy(), "no HMAC key", forged_manifest),
    ):
        add(
            Case(
                "weak_key",
                name,
                build or (lambda d: write_source(d, "csv")),
                "reject",
                E_PRIV,
                (text,),
                params_change=change,
            )
        )

    # 22. faults while `ctip clean` writes: nothing of the run is kept, no traceback
    import ctip_research.io as ctip_io

    for name, fault, text in (
        ("disk_full_third_file", _nth_call(ctip_io.os, "fsync", 3, _disk_full), "ENOSPC"),
        ("quality_dir_read_only", _mkstemp_in_quality_read_only, "EROFS"),
        ("stata_writer_refuses_value", _readstat_refuses, "PyreadstatError"),
        ("rename_refused_mid_commit", _nth_call(ctip_io.os, "replace", 4, _refused), "EACCES"),
        ("disk_full_first_file", _nth_call(ctip_io.os, "fsync", 1, _disk_full), "ENOSPC"),
    ):
        add(
            Case(
                "stage_fault",
                name,
                lambda d: write_source(d, "csv"),
                "reject",
                OutputWriteError,
                ("ctip clean" if "writer" not in name else ".dta", text, "unchanged"),
                stage="clean",
                fault=fault,
                # a rename refused while swapping in: the previous set, record included, is put
                # back whole (it is complete and consistent)
                record_failed="mid_commit" not in name,
            )
        )
    add(
        Case(
            "stage_fault",
            "ingest_disk_full",
            lambda d: write_source(d, "csv"),
            "reject",
            OutputWriteError,
            ("ctip ingest", "ENOSPC", "unchanged"),
            fault=_nth_call(ctip_io.os, "fsync", 2, _disk_full),
        )
    )

    # 23. a second run while one holds the lock of a data directory
    for stage, lock in (
        ("ingest", "interim"),
        ("ingest", "processed"),
        ("clean", "interim"),
        ("clean", "processed"),
        ("features", "processed"),
    ):
        add(
            Case(
                "concurrent_run",
                f"{stage}_while_{lock}_locked",
                lambda d: write_source(d, "csv"),
                "reject",
                BusyError,
                ("another ctip run", lock, f"ctip {stage}"),
                stage=stage,
                hold_lock=lock,
            )
        )

    # 24. implausible amounts and dates, non-finite numbers: reported (and set missing)
    add(
        Case(
            "implausible_value",
            "loan_principal_1e15_riel",
            _loans_frame(_set_loan(0, "amount", 1e15)),
            "report",
            issue=("plausibility", "loans", 2, "principal_usd"),
        )
    )
    add(
        Case(
            "implausible_value",
            "loan_taken_2099",
            _loans_frame(_set_loan(4, "year", 2099)),
            "report",
            issue=("plausibility", "loans", 6, "year_taken"),
        )
    )
    add(
        Case(
            "implausible_value",
            "loan_principal_5m_dollars",
            _loans_frame(_set_loan(1, "amount", 5e6)),
            "report",
            issue=("plausibility", "loans", 3, "principal_usd"),
        )
    )
    add(
        Case(
            "implausible_value",
            "weight_inf_text",
            _cells("csv", "weight", {9: "inf"}),
            "report",
            issue=("plausibility", "households", 11, "weight_household"),
        )
    )
    add(
        Case(
            "implausible_value",
            "income_inf_xlsx",
            _cells("xlsx", "income_farm", {14: "inf"}),
            "report",
            issue=("plausibility", "households", 16, "income_farm_usd"),
        )
    )

    # 25. household ids that differ only in case, blanks, hyphens or dots
    for name, build, table, row in (
        ("loan_lowercase", _loans_frame(_set_loan(0, "hhid", "h-001")), "loans", 2),
        ("loan_no_hyphen", _loans_frame(_set_loan(3, "hhid", "H004")), "loans", 5),
        ("loan_blanks", _loans_frame(_set_loan(4, "hhid", "H - 005")), "loans", 6),
        ("loan_dot", _loans_frame(_set_loan(9, "hhid", "H.010")), "loans", 11),
        ("household_case", _cells("csv", "hhid", {7: "h-007"}), "households", 9),
    ):
        add(
            Case(
                "id_variant",
                name,
                build,
                "report",
                issue=("id_variant", table, row, "household_id"),
            )
        )

    # 26. "NA" text in a workbook: text unless the codebook declares it missing
    for name, value, column, check in (
        ("household_id_NA", "NA", "hhid", _households_kept(N_HOUSEHOLDS)),
        ("household_id_N_A", "N/A", "hhid", _households_kept(N_HOUSEHOLDS)),
        ("household_id_null", "null", "hhid", _households_kept(N_HOUSEHOLDS)),
        (
            "stratum_NA",
            "NA",
            "stratum",
            _households_kept(N_HOUSEHOLDS, "stratum_id", "NA"),
        ),
    ):
        add(
            Case(
                "na_text",
                name,
                _cells("xlsx", column, {3: value}),
                "accept",
                expect=check,
            )
        )
    add(
        Case(
            "na_text",
            "declared_missing",
            _codebook_change(
                "xlsx",
                lambda cb: cb["special_codes"].update({"NA": "not_applicable"}),
                lambda df: df.astype({"income_farm": object}).assign(
                    income_farm=lambda x: x["income_farm"].where(x.index != 5, "NA")
                ),
            ),
            "accept",
            expect=_special_code_recorded("not_applicable", 7),
        )
    )
    add(
        Case(
            "na_text",
            "undeclared_in_number_column",
            _cells("xlsx", "income_farm", {5: "NA"}),
            "reject",
            CodebookError,
            ("income_farm", "cannot be read as a number", "[7]"),
        )
    )

    # 27. special codes that are also real answers of their column: a warning
    def special(code: int, column: str | None = None) -> Callable[[dict], None]:
        def change(cb: dict) -> None:
            if column is None:
                cb["special_codes"][code] = "refused"
            else:
                cb["files"][0]["columns"][column]["special_codes"] = {code: "refused"}

        return change

    for name, change, frame, canonical, fmt in (
        (
            "zero_income",
            special(0, "income_farm"),
            lambda df: df.assign(income_farm=[0.0] * 3 + list(df["income_farm"][3:])),
            "income_farm_usd",
            "xlsx",  # numbers stay numbers (a CSV's "0.0" is not the code 0)
        ),
        ("size_5", special(5), None, "household_size", "csv"),
        ("weight_110", special(110), None, "weight_household", "stata"),
        (
            "urban_0",
            special(0, "urban"),
            lambda df: df.assign(urban=[0, 0] + [1] * (len(df) - 2)),
            "is_urban",
            "csv",
        ),
        (
            "head_female_1",
            special(1, "head_female"),
            lambda df: df.astype({"head_female": object}).assign(
                head_female=["1"] + ["no"] * (len(df) - 1)
            ),
            "head_is_female",
            "csv",
        ),
    ):
        add(
            Case(
                "special_code_clash",
                name,
                _codebook_change(fmt, change, frame),
                "report",
                issue=("special_code_clash", "households", -1, canonical),
            )
        )

    # 28. orphan rows of a repeat group and sources without rows: warned and reported
    add(
        Case(
            "orphan_or_empty",
            "one_orphan_loan",
            _repeat_source(
                lambda df: df.assign(_parent_index=[999] + list(df["_parent_index"][1:]))
            ),
            "report",
            issue=("orphan", "loans", 2, ""),
        )
    )
    add(
        Case(
            "orphan_or_empty",
            "two_orphan_loans",
            _repeat_source(
                lambda df: df.assign(_parent_index=list(df["_parent_index"][:10]) + [0, 77])
            ),
            "report",
            issue=("orphan", "loans", 13, ""),
        )
    )
    add(
        Case(
            "orphan_or_empty",
            "blank_parent_link",
            _repeat_source(
                lambda df: df.astype({"_parent_index": object}).assign(
                    _parent_index=[None] + list(df["_parent_index"][1:])
                )
            ),
            "report",
            issue=("orphan", "loans", 2, ""),
        )
    )
    add(
        Case(
            "orphan_or_empty",
            "zero_row_loan_file",
            _empty_loans,
            "report",
            issue=("empty_source", "loans", -1, ""),
        )
    )
    add(
        Case(
            "orphan_or_empty",
            "zero_row_repeat_group",
            _repeat_source(lambda df: df.iloc[:0]),
            "report",
            issue=("empty_source", "loans", -1, ""),
        )
    )

    # 29. the manifest of a source that had one is gone
    for fmt, damage in (
        ("csv", _remove_manifest),
        ("xlsx", _remove_manifest),
        ("stata", _remove_manifest),
        ("spss", _remove_manifest),
        ("csv", _rename_manifest),
    ):
        add(
            Case(
                "manifest_deleted",
                f"{fmt}_{damage.__name__.strip('_').split('_')[0]}",
                _with_manifest(fmt),
                "reject",
                RawFileChangedError,
                ("manifest.json", "is missing", CB_NAME),
                after_first_ingest=damage,
            )
        )

    # 30. codebook paths that leave the codebook's directory
    for name, build, shown in (
        ("parent_of_parent", _path("../../etc/passwd"), "../../etc/passwd"),
        ("absolute", _path("/etc/hostname"), "/etc/hostname"),
        ("sibling_directory", _path("../outside/hh.csv", outside=True), "../outside/hh.csv"),
        ("symbolic_link", _path("hh.csv", symlink=True), "hh.csv"),
        ("dot_dot_inside", _path("sub/../../outside/hh.csv", outside=True), "sub/../.."),
    ):
        add(
            Case(
                "path_escape",
                name,
                build,
                "reject",
                CodebookError,
                (CB_NAME, shown, "leaves the codebook's directory"),
            )
        )
    return cases
