"""Recall of the data-quality checks, per detector and defect class, on both defect streams.

The default synthetic survey (every parameter as in params.yaml, 500 households per province)
is written as raw files twice, once per defect stream (``synth.defects.stream``), and run
through the real ``ingest`` and ``clean`` stages in a temporary directory:

* **documented**: the generator also writes the reviewed answers (its misspellings as codebook
  ``fixes``, its special codes in the codebooks, corrections.csv). Those rows are found *by
  construction*; the other classes by generic checks.
* **blind**: nothing of the answer is written where ingest or clean read (the codebooks list
  only what a survey firm documents, the corrections log is empty; ``planted_defects.json`` is
  moved out of the raw directory while the stages run, so they cannot read it). Ingest runs with
  ``unknown_labels: propose``. Every number of this stream is measured blind.

Recall and false alarms are measured against the generator's record (``recall_support``); the
tables in docs/data-quality.md must equal what is measured here (between the
``<!-- recall:... -->`` markers). After a change that moves them, run
``CTIP_WRITE_RECALL_DOCS=1 pytest tests/integration/test_clean_recall.py`` to rewrite them, and
read the diff.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from recall_support import false_alarms, flags, found_matrix, load_run, proposal_accuracy
from recall_support import recall_table as _recall_table

from ctip_research.clean import clean_tables
from ctip_research.clean.pipeline import TABLE_ORDER
from ctip_research.config import Params
from ctip_research.ingest.draft import draft_codebook
from ctip_research.ingest.pseudonymise import pseudonymise
from ctip_research.ingest.readers import list_sheets, read_xlsx_sheets
from ctip_research.stages.clean import run_clean
from ctip_research.stages.ingest import run_ingest
from ctip_research.stages.synth import write_raw_files
from ctip_research.synth import generate_survey
from ctip_research.synth.raw import W1_FILE, W1_SOURCE

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-quality.md"
REVIEW_INPUTS = ("special_codes", "value_fixes", "review_values")

#: Detectors of each class of the documented stream; those marked "(construction)" apply an
#: answer the generator wrote (codebook special codes and fixes, the corrections log).
DOCUMENTED: dict[str, list[str]] = {
    "duplicate submission": ["duplicate"],
    "test submission": ["test_submission"],
    "special code -99 / -98 (.a / .b)": ["special_code"],
    "misspelt province": ["value_fix"],
    "riel typed as dollars": ["correction", "currency"],
    "outlier x100 (business income, principal)": ["outlier", "consistency", "currency"],
    "loan for a household reporting no loan": ["skip_logic"],
    "migration episode for a member not away": ["skip_logic"],
}
BY_CONSTRUCTION = {
    ("special code -99 / -98 (.a / .b)", "special_code"),
    ("misspelt province", "value_fix"),
    ("riel typed as dollars", "correction"),
}
_DOC_CLASS = {
    "duplicate_submission": "duplicate submission",
    "test_submission": "test submission",
    "special_code_refused": "special code -99 / -98 (.a / .b)",
    "special_code_dont_know": "special code -99 / -98 (.a / .b)",
    "misspelt_province": "misspelt province",
    "riel_typed_as_dollars": "riel typed as dollars",
    "outlier": "outlier x100 (business income, principal)",
    "skip_logic_loan_without_loan": "loan for a household reporting no loan",
    "skip_logic_migration_not_away": "migration episode for a member not away",
}
_AMOUNT = ["outlier", "consistency", "currency"]
BLIND: dict[str, list[str]] = {
    "duplicate submission": ["duplicate"],
    "test submission": ["test_submission"],
    "undocumented code, negative (-97, -999, -1)": ["undocumented_code", "range"],
    "undocumented code, nines (98, 99, 9999, 999999)": ["undocumented_code", "outlier"],
    "undocumented code, Stata .c": ["special_code"],
    "misspelt category label": ["unknown_label"],
    "riel typed as dollars (no correction log)": ["currency", "outlier"],
    "outlier x10, total (income, assets)": _AMOUNT,
    "outlier x100, total (income, assets)": _AMOUNT,
    "outlier x10, income component": _AMOUNT,
    "outlier x100, income component": _AMOUNT,
    "outlier x10, loan amount": _AMOUNT,
    "outlier x100, loan amount": _AMOUNT,
    "outlier x10, migration cost": _AMOUNT,
    "outlier x100, migration cost": _AMOUNT,
    "loan for a household reporting no loan": ["skip_logic"],
    "migration episode for a member not away": ["skip_logic"],
}
_KIND = {
    "outlier_total": "total (income, assets)",
    "outlier_component": "income component",
    "outlier_loan": "loan amount",
    "outlier_migration_cost": "migration cost",
}


def _blind_class(rec: pd.Series) -> str:
    d = rec["defect"]
    if d in _KIND:
        return f"outlier x{int(rec['truth'])}, {_KIND[d]}"
    if d == "special_code_undocumented":
        t = rec["truth"]
        if isinstance(t, str):
            return "undocumented code, Stata .c"
        if float(t) < 0:
            return "undocumented code, negative (-97, -999, -1)"
        return "undocumented code, nines (98, 99, 9999, 999999)"
    return {
        "misspelt_label": "misspelt category label",
        "riel_typed_as_dollars": "riel typed as dollars (no correction log)",
    }.get(d, _DOC_CLASS.get(d, d))


def _stream_run(root: Path, params: Params, stream: str) -> dict[str, Any]:
    synth = params.synth.model_copy(
        update={"defects": params.synth.defects.model_copy(update={"stream": stream})}
    )
    raw = root / "raw" / "synthetic"
    write_raw_files(generate_survey(synth), raw)
    p = params.model_copy(
        update={
            "synth": synth,
            "paths": params.paths.model_copy(
                update={
                    "raw": root / "raw",
                    "interim": root / "interim",
                    "processed": root / "processed",
                }
            ),
            "ingest": params.ingest.model_copy(
                update={
                    "sources": [raw / "wave1_kobo.codebook.yaml", raw / "wave2_firm.codebook.yaml"],
                    "unknown_labels": "propose" if stream == "blind" else "error",
                }
            ),
            "clean": params.clean.model_copy(update={"corrections_file": raw / "corrections.csv"}),
        }
    )
    # the answer key leaves the raw directory while the stages run: they cannot read it
    key = root / "planted_defects.json"
    shutil.move(raw / "planted_defects.json", key)
    run_ingest(p)
    run_clean(p)
    shutil.move(key, raw / "planted_defects.json")
    run = load_run(raw, root / "interim", root / "processed")
    run["root"], run["raw"] = root, raw
    return run


@pytest.fixture(scope="module")
def documented(tmp_path_factory, params: Params) -> dict[str, Any]:
    return _stream_run(tmp_path_factory.mktemp("documented"), params, "documented")


@pytest.fixture(scope="module")
def blind(tmp_path_factory, params: Params) -> dict[str, Any]:
    return _stream_run(tmp_path_factory.mktemp("blind"), params, "blind")


def _pseudonym(params: Params):
    return lambda raw_id: pseudonymise(raw_id, params.privacy.demo_key)


def _table(run: dict[str, Any], detectors: dict[str, list[str]], classes: pd.Series):
    return _recall_table(run["planted"], run["report"], detectors, classes)


def _alarms(run: dict[str, Any], params: Params) -> pd.DataFrame:
    return false_alarms(run["planted"], run["report"], pseudonym=_pseudonym(params))


def _alarm_table(run: dict[str, Any], params: Params) -> pd.DataFrame:
    hits = flags(run["report"])
    hits = hits[hits["check"] != "correction"]
    fa = _alarms(run, params)
    n = hits.groupby("check").size().rename("flags")
    out = pd.concat([n, fa.groupby("check").size().rename("false")], axis=1).fillna(0)
    return out.astype(int).reset_index(names="detector").sort_values("detector")


@pytest.fixture(scope="module")
def draft_accuracy(blind) -> dict[str, int]:
    return _draft_accuracy(blind)


def _draft_accuracy(run: dict[str, Any]) -> dict[str, int]:
    """``ctip codebook draft`` on the blind wave-1 workbook: planted misspellings it proposes
    as a fix to the right spelling (or maps to the right canonical value)."""
    path = run["raw"] / W1_FILE
    sheets = read_xlsx_sheets(path, list_sheets(path))
    draft = draft_codebook(
        {(W1_FILE, s): r for s, r in sheets.items()}, source="w1", fmt="kobo_xlsx"
    )
    planted = run["planted"]
    mis = planted[(planted["defect"] == "misspelt_label") & (planted["source"] == W1_SOURCE)]
    review = run["review"].astype({"_row": "int64"})
    typo = mis.merge(
        review.loc[
            review["kind"] == "unknown_label", ["source", "table", "_row", "raw_column", "value"]
        ],
        left_on=["source", "table", "row", "column"],
        right_on=["source", "table", "_row", "raw_column"],
    )
    cols = {c: spec for f in draft["files"] for c, spec in f["columns"].items()}
    right = 0
    for col, value, truth in zip(typo["column"], typo["value"], typo["truth"], strict=True):
        spec = cols.get(col, {})
        fixes, values = spec.get("fixes", {}), spec.get("values", {})
        if fixes.get(value) == truth or (
            value in values and truth in values and values[value] == values[truth]
        ):
            right += 1
    return {"planted": len(mis), "right": right}


# -- what the stages may read ------------------------------------------------------------------


@pytest.mark.slow
def test_blind_stream_writes_no_answer_where_ingest_and_clean_read(blind) -> None:
    raw: Path = blind["raw"]
    planted = blind["planted"]
    assert len(pd.read_csv(raw / "corrections.csv")) == 0
    codebooks = [yaml.safe_load(p.read_text("utf-8")) for p in raw.glob("*.codebook.yaml")]
    listed: set[str] = set()
    for cb in codebooks:
        listed |= {str(k) for k in cb.get("special_codes", {})}
        for f in cb["files"]:
            for spec in f["columns"].values():
                assert "fixes" not in spec, spec
                listed |= {str(k) for k in (spec.get("values") or {})}
                listed |= {str(k) for k in (spec.get("special_codes") or {})}
    codes = planted.loc[planted["defect"] == "special_code_undocumented", "truth"]
    assert not {str(c) for c in codes} & listed
    typos = blind["review"].loc[blind["review"]["kind"] == "unknown_label", "value"]
    assert len(typos) and not set(typos.astype(str)) & listed
    # the stages ran without the answer key in the raw directory (see _stream_run)
    counts = planted["defect"].value_counts()
    assert {"misspelt_label", "special_code_undocumented", "outlier_total"} <= set(counts.index)


# -- recall and false alarms -------------------------------------------------------------------


@pytest.mark.slow
def test_blind_recall_per_detector_and_class(blind, params) -> None:
    classes = blind["planted"].apply(_blind_class, axis=1)
    table = _table(blind, BLIND, classes)
    print(table.to_string())
    got = {(r["class"], r["detector"]): (r["found"], r["planted"]) for _, r in table.iterrows()}

    def recall(cls: str, det: str) -> float:
        f, n = got[(cls, det)]
        assert n > 0, cls
        return f / n

    for cls in ("duplicate submission", "test submission", "misspelt category label"):
        assert recall(cls, BLIND[cls][0]) == 1.0, cls
    assert recall("undocumented code, negative (-97, -999, -1)", "undocumented_code") == 1.0
    assert recall("undocumented code, nines (98, 99, 9999, 999999)", "undocumented_code") >= 0.9
    assert recall("undocumented code, Stata .c", "special_code") == 1.0
    assert recall("riel typed as dollars (no correction log)", "currency") == 1.0
    # the outlier detector itself (not the consistency check) finds most x100 totals
    assert recall("outlier x100, total (income, assets)", "outlier") >= 0.75
    assert recall("outlier x100, migration cost", "any") >= 0.75
    for kind in ("total (income, assets)", "loan amount"):
        assert recall(f"outlier x10, {kind}", "any") >= 0.3, kind
    assert recall("migration episode for a member not away", "skip_logic") >= 0.95
    labels = proposal_accuracy(blind["planted"], blind["review"])
    assert labels["listed"] == labels["planted"]
    assert labels["right"] >= 0.9 * labels["planted"]
    assert labels["right"] == labels["proposed"]  # no wrong proposal


@pytest.mark.slow
def test_blind_false_alarms_per_detector(blind, params) -> None:
    fa = _alarms(blind, params)
    print(fa.groupby(["check", "table", "column"]).size())
    per = fa.groupby("check").size()
    outlier_flags = int((flags(blind["report"])["check"] == "outlier").sum())
    assert per.get("outlier", 0) <= 0.3 * outlier_flags
    for check in ("undocumented_code", "unknown_label", "currency", "range", "duplicate"):
        assert per.get(check, 0) == 0, check
    assert per.drop(labels=["outlier"], errors="ignore").sum() <= 3


@pytest.mark.slow
def test_codebook_draft_proposes_the_blind_misspellings(draft_accuracy) -> None:
    acc = draft_accuracy
    print(acc)
    assert acc["right"] >= 0.9 * acc["planted"]


@pytest.mark.slow
def test_documented_stream_recall_and_false_alarms(documented, params) -> None:
    classes = documented["planted"]["defect"].map(_DOC_CLASS)
    table = _table(documented, DOCUMENTED, classes)
    print(table.to_string())
    any_found = table[table["detector"].isin(["any"]) | ~table["class"].duplicated(keep=False)]
    for _, r in any_found.iterrows():
        minimum = 0.75 if r["class"].startswith("outlier") else 0.95
        assert r["found"] >= minimum * r["planted"], r.to_dict()
    fa = _alarms(documented, params)
    flagged = flags(documented["report"])
    assert len(fa) <= 0.05 * len(flagged[flagged["check"] != "correction"])


@pytest.mark.slow
def test_no_planted_identifier_reaches_processed_layer(documented, blind) -> None:
    for run in (documented, blind):
        raw_ids = {str(x) for x in run["planted"]["raw_household_id"].dropna()}
        blobs = [p.read_bytes() for p in (run["root"] / "processed").rglob("*") if p.is_file()]
        for rid in sorted(raw_ids)[:200]:
            assert not any(rid.encode() in b for b in blobs), "a raw household id was published"


# -- the tables of docs/data-quality.md ---------------------------------------------------------


def _pct(found: int, n: int) -> str:
    return f"{found / n:.2f}" if n else "-"


def render_documented(run: dict[str, Any], params: Params) -> str:
    classes = run["planted"]["defect"].map(_DOC_CLASS)
    table = _table(run, DOCUMENTED, classes)
    lines = [
        "| defect class | planted | detector | found | recall | how |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        how = (
            "by construction"
            if (r["class"], r["detector"]) in BY_CONSTRUCTION
            else ("" if r["detector"] == "any" else "generic check")
        )
        lines.append(
            f"| {r['class']} | {r['planted']} | `{r['detector']}` | {r['found']} | "
            f"{_pct(r['found'], r['planted'])} | {how} |"
        )
    found = found_matrix(run["planted"], flags(run["report"]))
    construction = classes.isin({c for c, d in BY_CONSTRUCTION if d != "correction"}).to_numpy()
    riel = (classes == "riel typed as dollars").to_numpy()
    corrected = riel & (found["correction"].to_numpy() if "correction" in found else False)
    generic = [c for c in found.columns if c != "correction"]
    rest = ~construction & ~corrected
    lines += [
        "",
        f"Found: {int(found.any(axis=1).sum())} of {len(found)}. Found because the generator "
        f"wrote the answer where ingest and clean read it: {int(construction.sum())} special "
        "codes and misspelt provinces (the codebooks list them) and "
        f"{int(corrected.sum())} riel amounts (corrections.csv), "
        f"{int(construction.sum() + corrected.sum())} in all. The other "
        f"{int(rest.sum())}: {int(found.loc[rest, generic].any(axis=1).sum())} found by generic "
        "checks.",
    ]
    return "\n".join(lines)


def render_blind(run: dict[str, Any], params: Params, draft: dict[str, int]) -> str:
    classes = run["planted"].apply(_blind_class, axis=1)
    table = _table(run, BLIND, classes)
    lines = [
        "| defect class | planted | detector | found | recall |",
        "|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        det = "**any**" if r["detector"] == "any" else f"`{r['detector']}`"
        lines.append(
            f"| {r['class']} | {r['planted']} | {det} | {r['found']} | "
            f"{_pct(r['found'], r['planted'])} |"
        )
    labels = proposal_accuracy(run["planted"], run["review"])
    lines += [
        "",
        "| misspelt category labels | planted | found | recall |",
        "|---|---|---|---|",
        f"| `unknown_label`: listed for review | {labels['planted']} | {labels['listed']} | "
        f"{_pct(labels['listed'], labels['planted'])} |",
        f"| a near miss proposed (codebook_proposals.yaml) | {labels['planted']} | "
        f"{labels['proposed']} | {_pct(labels['proposed'], labels['planted'])} |",
        f"| the proposal is the right label | {labels['planted']} | {labels['right']} | "
        f"{_pct(labels['right'], labels['planted'])} |",
        f"| `ctip codebook draft` on the raw workbook proposes the right label | "
        f"{draft['planted']} | {draft['right']} | {_pct(draft['right'], draft['planted'])} |",
        "",
        "| detector | flags | false alarms (no planted defect there) |",
        "|---|---|---|",
    ]
    for _, r in _alarm_table(run, params).iterrows():
        lines.append(f"| `{r['detector']}` | {r['flags']} | {r['false']} |")
    return "\n".join(lines)


#: Outlier settings compared on the blind stream: (label, threshold, grouping, min_n). The last
#: is params.yaml's (asserted below); the first the one before the blind stream existed.
OUTLIER_SETTINGS = [
    ("robust z > 5 per wave (the earlier setting)", 5.0, "wave", 20),
    ("robust z > 3.5 per wave", 3.5, "wave", 30),
    ("robust z > 5 within groups", 5.0, "groups", 30),
    ("robust z > 3.5 within groups (configured)", 3.5, "groups", 30),
]


def _outlier_row(run: dict[str, Any], report: dict[str, Any], params: Params) -> dict[str, int]:
    planted = run["planted"]
    found = found_matrix(planted, flags(report))
    is_out = planted["defect"].isin(list(_KIND)).to_numpy()
    hit = found["outlier"] if "outlier" in found else pd.Series(False, index=found.index)
    x10 = is_out & (pd.to_numeric(planted["truth"], errors="coerce") == 10).to_numpy()
    fa = false_alarms(planted, report, pseudonym=_pseudonym(params))
    return {
        "planted": int(is_out.sum()),
        "found": int(hit[is_out].sum()),
        "x10": int(hit[x10].sum()),
        "n_x10": int(x10.sum()),
        "x100": int(hit[is_out & ~x10].sum()),
        "n_x100": int((is_out & ~x10).sum()),
        "flags": int((flags(report)["check"] == "outlier").sum()),
        "false": int((fa["check"] == "outlier").sum()),
    }


def render_outlier_settings(run: dict[str, Any], params: Params) -> str:
    """The outlier detector alone, on the blind stream, under other settings: clean rerun in
    memory on the same interim tables (the configured row is the stage's own run)."""
    cfg = params.clean.outliers
    last = OUTLIER_SETTINGS[-1]
    assert (cfg.threshold, cfg.min_n) == (last[1], last[3]) and "stratum_id" in str(cfg.by)
    interim = run["root"] / "interim" / "ingested"
    tables = {t: pd.read_parquet(interim / f"{t}.parquet") for t in TABLE_ORDER}
    long = {n: pd.read_parquet(interim / f"{n}.parquet") for n in REVIEW_INPUTS}
    lines = [
        "| outlier setting | x10 found | x100 found | all found | flags | false alarms |",
        "|---|---|---|---|---|---|",
    ]
    for label, threshold, grouping, min_n in OUTLIER_SETTINGS:
        if label.endswith("(configured)"):
            report = run["report"]
        else:
            by = cfg.by if grouping == "groups" else {}
            p = params.clean.model_copy(
                update={
                    "outliers": cfg.model_copy(
                        update={"threshold": threshold, "by": by, "min_n": min_n}
                    )
                }
            )
            res = clean_tables(
                tables,
                p,
                special_codes=long["special_codes"],
                value_fixes=long["value_fixes"],
                review_values=long["review_values"],
            )
            report = {
                "issues": res.issues.to_dict(orient="records"),
                "corrections": [],
                "duplicates": res.duplicates.to_dict(orient="records"),
            }
        r = _outlier_row(run, report, params)
        lines.append(
            f"| {label} | {r['x10']} of {r['n_x10']} | {r['x100']} of {r['n_x100']} | "
            f"{r['found']} of {r['planted']} ({_pct(r['found'], r['planted'])}) | {r['flags']} | "
            f"{r['false']} |"
        )
    return "\n".join(lines)


def _block(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"<!-- recall:{name}:start -->\n") + len(f"<!-- recall:{name}:start -->\n")
    return start, text.index(f"<!-- recall:{name}:end -->")


@pytest.mark.slow
def test_docs_tables_are_the_measured_ones(documented, blind, draft_accuracy, params) -> None:
    text = DOCS.read_text("utf-8")
    rendered = {
        "documented": render_documented(documented, params),
        "blind": render_blind(blind, params, draft_accuracy),
        "outlier-settings": render_outlier_settings(blind, params),
    }
    if os.environ.get("CTIP_WRITE_RECALL_DOCS") == "1":
        for name, block in rendered.items():
            a, b = _block(text, name)
            text = text[:a] + block + "\n" + text[b:]
        DOCS.write_text(text, "utf-8")
    for name, block in rendered.items():
        a, b = _block(text, name)
        assert text[a:b] == block + "\n", f"docs/data-quality.md, {name} table:\n{block}"


def test_recall_support_matches_cells_and_records() -> None:
    planted = pd.DataFrame(
        {
            "source": ["s", "s", "s"],
            "table": ["households", "households", "loans"],
            "row": [2, 3, 4],
            "column": ["inc", "age", None],
            "canonical": ["income_annual_usd", "head_age", None],
            "defect": ["outlier_total", "special_code_undocumented", "duplicate_submission"],
            "raw_household_id": ["H1", "H2", "H3"],
        }
    )
    report = {
        "issues": [
            # right cell, wrong cell of a planted row, a record check at a planted record
            {"check": "outlier", "source": "s", "table": "households", "row": 2,
             "column": "income_annual_usd", "household_id": "h1"},
            {"check": "outlier", "source": "s", "table": "households", "row": 3,
             "column": "asset_value_usd", "household_id": "h2"},
            {"check": "duplicate", "source": "s", "table": "loans", "row": 4,
             "column": "household_id", "household_id": "h3"},
        ],
        "corrections": [],
        "duplicates": [],
    }  # fmt: skip
    found = found_matrix(planted, flags(report))
    assert found.loc[0, "outlier"] and not found.loc[1, "outlier"] and found.loc[2, "duplicate"]
    fa = false_alarms(planted, report, pseudonym=lambda r: r.lower())
    assert fa[["check", "row"]].values.tolist() == [["outlier", 3]]
    assert json.dumps(proposal_accuracy(planted, pd.DataFrame())) == (
        '{"planted": 0, "listed": 0, "proposed": 0, "right": 0}'
    )
