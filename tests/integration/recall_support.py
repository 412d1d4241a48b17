"""Recall of the data-quality checks against the generator's planted-defect record.

Only tests read ``planted_defects.json`` (the answer key): ingest and clean never see it. A
planted defect is *found by a detector* when an issue of that check names its raw address
(source, table, raw row) and, for a wrong value, its column (the raw column mapped to the
canonical one through the codebook); a correction from the reviewed log counts as the
``correction`` detector. A flag is a *false alarm* when it names no planted defect: not a
planted cell (value checks) or record (the others), not a record whose currency was planted, not
a copy made by a planted duplicate or skip-logic record, not the original of a planted
duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ADDR = ["source", "table", "row"]

#: Checks that judge one cell (matched on the column too); the others judge a record.
VALUE_CHECKS = {
    "undocumented_code",
    "unknown_label",
    "special_code",
    "range",
    "outlier",
    "consistency",
    "currency",
    "value_fix",
    "missing_required",
}
#: Planted defect classes that are a wrong value in one cell.
VALUE_DEFECTS = {
    "special_code_refused",
    "special_code_dont_know",
    "special_code_undocumented",
    "misspelt_province",
    "misspelt_label",
    "outlier",
    "outlier_total",
    "outlier_component",
    "outlier_loan",
    "outlier_migration_cost",
}
#: Planted records that copy another record (their flags are not false alarms).
COPY_DEFECTS = {
    "duplicate_submission",
    "test_submission",
    "skip_logic_loan_without_loan",
    "skip_logic_migration_not_away",
}


def canonical_columns(raw_dir: Path) -> dict[tuple[str, str], str]:
    """(source, raw column) -> the canonical column an issue names, from the codebooks."""
    out: dict[tuple[str, str], str] = {}
    for path in sorted(raw_dir.glob("*.codebook.yaml")):
        cb = yaml.safe_load(path.read_text("utf-8"))
        for f in cb["files"]:
            for raw, spec in f["columns"].items():
                canon = spec.get("canonical")
                if canon is None:
                    continue
                out[(cb["source"], raw)] = "principal_usd" if canon == "principal" else canon
    return out


def load_run(raw_dir: Path, interim: Path, processed: Path) -> dict[str, Any]:
    """The planted record, the quality report and ingest's review table of one run."""
    planted = pd.DataFrame(json.loads((raw_dir / "planted_defects.json").read_text())["defects"])
    cmap = canonical_columns(raw_dir)
    planted["canonical"] = [
        cmap.get((s, c)) if isinstance(c, str) else None
        for s, c in zip(planted["source"], planted["column"], strict=True)
    ]
    report = json.loads((processed / "quality" / "quality_report.json").read_text())
    review_path = interim / "ingested" / "review_values.parquet"
    review = pd.read_parquet(review_path) if review_path.is_file() else pd.DataFrame()
    return {"planted": planted, "report": report, "review": review}


def flags(report: Mapping[str, Any], *, household: bool = False) -> pd.DataFrame:
    """Every issue and applied correction as (check, source, table, row, column)."""
    cols = ["check", *ADDR, "column", *(["household_id"] if household else [])]
    iss = pd.DataFrame(report["issues"])
    iss = iss[cols] if not iss.empty else pd.DataFrame(columns=cols)
    corr = pd.DataFrame(report["corrections"])
    if not corr.empty:
        c = corr[ADDR].assign(check="correction", column=None, household_id=None)
        iss = pd.concat([iss, c[cols]], ignore_index=True)
    out = iss.dropna(subset=["row"]).astype({"row": "int64"})
    return out.drop_duplicates().reset_index(drop=True)


def found_matrix(planted: pd.DataFrame, hits: pd.DataFrame) -> pd.DataFrame:
    """Planted defect x check: True where that check found it."""
    p = planted.reset_index(names="defect_id")
    m = p.merge(hits, on=ADDR, how="inner", suffixes=("", "_hit"))
    cell = m["check"].isin(VALUE_CHECKS) & m["defect"].isin(VALUE_DEFECTS)
    same_col = m["column_hit"].astype(object) == m["canonical"].astype(object)
    m = m[~cell | same_col]
    found = pd.crosstab(m["defect_id"], m["check"]).astype(bool)
    return found.reindex(p["defect_id"], fill_value=False)


def false_alarms(
    planted: pd.DataFrame,
    report: Mapping[str, Any],
    *,
    pseudonym: Callable[[str], str],
) -> pd.DataFrame:
    """Flags at no planted defect, one row per (check, source, table, row, column).

    ``pseudonym`` maps a raw household id to ingest's keyed hash: a flagged cell of the same
    household, table and column as a planted wrong value (a record of the same household and
    table as a planted record defect) is its copy in a duplicate submission.
    """
    hits = flags(report, household=True)
    hits = hits[hits["check"] != "correction"]
    key = planted[ADDR].astype(str).agg("|".join, axis=1)
    hit_key = hits[ADDR].astype(str).agg("|".join, axis=1)
    whole = planted["defect"].isin(COPY_DEFECTS | {"riel_typed_as_dollars"})
    records = set(key[whole]) | set(key[~planted["defect"].isin(VALUE_DEFECTS)])
    cells = set(key[planted["defect"].isin(VALUE_DEFECTS)] + "|" + planted["canonical"].astype(str))
    dups = pd.DataFrame(report["duplicates"])
    if not dups.empty:
        dups["k"] = dups[ADDR].astype(str).agg("|".join, axis=1)
        dups["planted"] = dups["k"].isin(set(key))
        records |= set(dups.loc[dups.groupby(["table", "group"])["planted"].transform("any"), "k"])
    is_value = hits["check"].isin(VALUE_CHECKS)
    ok_record = hit_key.isin(records)
    ok_cell = (hit_key + "|" + hits["column"].astype(str)).isin(cells)
    vals = planted[planted["defect"].isin(VALUE_DEFECTS)]
    copies = set(
        vals["source"]
        + "|"
        + vals["table"]
        + "|"
        + vals["raw_household_id"].map(lambda r: pseudonym(str(r)))
        + "|"
        + vals["canonical"].astype(str)
    )
    hh_cell = hits["source"].astype(str) + "|" + hits["table"].astype(str) + "|"
    hh_cell = hh_cell + hits["household_id"].astype(str) + "|" + hits["column"].astype(str)
    recs = planted[~planted["defect"].isin(VALUE_DEFECTS) & planted["raw_household_id"].notna()]
    rec_copies = set(
        recs["source"]
        + "|"
        + recs["table"]
        + "|"
        + recs["raw_household_id"].map(lambda r: pseudonym(str(r)))
    )
    hh_rec = hits["source"].astype(str) + "|" + hits["table"].astype(str) + "|"
    hh_rec = hh_rec + hits["household_id"].astype(str)
    ok_copy = (is_value & hh_cell.isin(copies)) | (~is_value & hh_rec.isin(rec_copies))
    ok = ok_record | (is_value & ok_cell) | ok_copy
    return hits[~ok].drop(columns=["household_id"]).reset_index(drop=True)


def recall_table(
    planted: pd.DataFrame,
    report: Mapping[str, Any],
    detectors: Mapping[str, Sequence[str]],
    classes: pd.Series,
) -> pd.DataFrame:
    """Long table: per defect class (``classes``, aligned with ``planted``; the keys of
    ``detectors`` in order) and detector, the planted defects it found; ``any`` = found by at
    least one of the class's detectors."""
    found = found_matrix(planted, flags(report))
    rows = []
    for name, dets in detectors.items():
        mask = (classes == name).to_numpy()
        n = int(mask.sum())
        f = found.loc[mask]
        anyf = pd.Series(False, index=f.index)
        for d in dets:
            hit = f[d] if d in f.columns else pd.Series(False, index=f.index)
            rows.append({"class": name, "planted": n, "detector": d, "found": int(hit.sum())})
            anyf |= hit
        if len(dets) > 1:
            rows.append({"class": name, "planted": n, "detector": "any", "found": int(anyf.sum())})
    return pd.DataFrame(rows)


def proposal_accuracy(planted: pd.DataFrame, review: pd.DataFrame) -> dict[str, int]:
    """Misspelt labels: in the review table, with a proposal, with the right one."""
    mis = planted[planted["defect"] == "misspelt_label"]
    if review.empty:
        return {"planted": len(mis), "listed": 0, "proposed": 0, "right": 0}
    keep = ["source", "table", "_row", "raw_column", "kind", "proposal"]
    r = review.loc[review["kind"] == "unknown_label", keep].astype({"_row": "int64"})
    m = mis.merge(
        r,
        left_on=["source", "table", "row", "column"],
        right_on=["source", "table", "_row", "raw_column"],
        how="left",
    )
    listed = m["kind"].notna()
    proposed = m["proposal"].notna()
    right = proposed & (m["proposal"].astype(object) == m["truth"].astype(object))
    return {
        "planted": len(mis),
        "listed": int(listed.sum()),
        "proposed": int(proposed.sum()),
        "right": int(right.sum()),
    }
