"""Cleaning as one pure function: interim tables in, cleaned tables + quality record out.

Order: corrections -> test submissions -> duplicates -> undocumented codes -> missing required /
out of range -> referential integrity -> currency sanity -> plausibility -> consistency -> outliers ->
skip logic -> special
codes. Every check
runs and reports (never stopping at the first failure); its action from the parameters decides
what happens to the data. Dropping a household drops its child rows (same submission, or the
same id and wave when no household row with that id remains), each counted in the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd

from ctip_research.clean import checks
from ctip_research.clean._common import (
    META_COLUMNS,
    concat_issues,
    key_isin,
    key_tuples,
    make_issues,
)
from ctip_research.clean.corrections import LOG_COLUMNS, apply_corrections
from ctip_research.clean.duplicates import REPORT_COLUMNS, find_duplicates
from ctip_research.clean.ledger import build_ledger
from ctip_research.clean.plausibility import check_plausibility
from ctip_research.config.clean import CleanParams
from ctip_research.schemas import CANONICAL_TABLES, coerce_dtypes

TABLE_ORDER: tuple[str, ...] = ("households", "members", "loans", "migration_episodes")
CHILD_TABLES: tuple[str, ...] = ("members", "loans", "migration_episodes")


@dataclass
class CleanResult:
    """What :func:`clean_tables` returns.

    Attributes
    ----------
    tables
        Cleaned tables, canonical columns plus the interim meta columns (so that cleaning can be
        repeated); :meth:`processed` gives the publishable form.
    issues
        Every issue found (``_common.ISSUE_COLUMNS`` without ``index``).
    duplicates
        Every row of every duplicate group, with the decision (``duplicates.REPORT_COLUMNS``).
    corrections
        One line per correction applied (``corrections.LOG_COLUMNS``).
    special_codes
        Counts of special codes by source, table, column and reason.
    exclusions
        One row per dropped row: table, source, file, row, household_id, reason.
    ledger
        Rows in = rows out + rows excluded (by reason), per table.
    """

    tables: dict[str, pd.DataFrame]
    issues: pd.DataFrame
    duplicates: pd.DataFrame
    corrections: pd.DataFrame
    special_codes: pd.DataFrame
    exclusions: pd.DataFrame
    ledger: dict[str, object] = field(default_factory=dict)

    def processed(self) -> dict[str, pd.DataFrame]:
        """Cleaned tables without meta columns, coerced to the declared dtypes, sorted by key."""
        return {name: processed_table(df, name) for name, df in self.tables.items()}

    def pop_processed(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """As :meth:`processed`, one table at a time, each removed from :attr:`tables` as it is
        yielded (so a census-size run holds one table twice at most, never all of them).
        """
        for name in list(self.tables):
            yield name, processed_table(self.tables.pop(name), name)


def processed_table(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """A cleaned table in its publishable form: no meta columns, declared dtypes, sorted by key."""
    table = CANONICAL_TABLES[name]
    canon = df.drop(columns=[c for c in df.columns if c.startswith("_")])
    canon = coerce_dtypes(canon, table)
    return canon.sort_values(list(table.key), kind="stable").reset_index(drop=True)


class _State:
    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self.tables = {k: v for k, v in tables.items()}
        self.issues: list[pd.DataFrame] = []
        self.exclusions: list[pd.DataFrame] = []

    def drop(self, name: str, index: pd.Index, reason: str) -> None:
        df = self.tables[name]
        index = df.index.intersection(index)
        if len(index) == 0:
            return
        gone = df.loc[index]
        self._record(name, gone, reason)
        self.tables[name] = df.drop(index=index)
        del df  # the old table goes before the cascade copies the child tables (memory)
        if name == "households":
            self._cascade(gone, reason)
        elif name == "members" and "migration_episodes" in self.tables:
            ep = self.tables["migration_episodes"]
            mkey = ["household_id", "wave", "member_id"]
            gone_keys = gone.loc[~key_isin(gone, mkey, self.tables["members"]), mkey]
            hit = key_isin(ep, mkey, gone_keys)
            if hit.any():
                self.drop("migration_episodes", ep.index[hit], f"{reason} (member dropped)")

    def _record(self, name: str, rows: pd.DataFrame, reason: str) -> None:
        def col(c: str) -> pd.Series:
            return rows[c] if c in rows.columns else pd.Series(pd.NA, index=rows.index)

        self.exclusions.append(
            pd.DataFrame(
                {
                    "table": name,
                    "source": col("_source").to_numpy(dtype=object),
                    "file": col("_file").to_numpy(dtype=object),
                    "row": col("_row").to_numpy(dtype=object),
                    "household_id": col("household_id").to_numpy(dtype=object),
                    "wave": col("wave").to_numpy(dtype=object),
                    "reason": reason,
                }
            )
        )

    def _cascade(self, gone: pd.DataFrame, reason: str) -> None:
        hh_key = ["household_id", "wave"]
        sub_key = ["_source", "_submission_id"]
        gone_keys = gone.loc[~key_isin(gone, hh_key, self.tables["households"]), hh_key]
        subs = pd.DataFrame(columns=sub_key)
        if "_submission_id" in gone.columns:
            s = gone.loc[gone["_submission_id"].notna()]
            kept = self.tables["households"]
            kept = kept.loc[kept["_submission_id"].notna()]
            # A submission id still held by a kept household row (the same upload twice) does
            # not identify the dropped copy's children; the child tables' own duplicate
            # resolution handles them.
            subs = s.loc[~key_isin(s, sub_key, kept), sub_key]
        for child in CHILD_TABLES:
            df = self.tables.get(child)
            if df is None or df.empty:
                continue
            hit = key_isin(df, hh_key, gone_keys)
            if len(subs) and "_submission_id" in df.columns:
                hit |= key_isin(df, sub_key, subs)
            rows = df.index[hit]
            del df  # only self.tables holds the child table while drop copies it
            if len(rows):
                self.drop(child, rows, f"{reason} (household dropped)")

    def act(self, issues: pd.DataFrame, action: str, reason: str) -> pd.DataFrame:
        """Apply ``action`` to the rows/cells named by ``issues``; return the issues with the
        action actually taken.
        """
        if issues.empty:
            return issues
        issues = issues.copy()
        if action == "flag":
            issues["action"] = "flag"
            return issues
        for (tname, column), grp in issues.groupby(["table", "column"], sort=True, dropna=False):
            tname = str(tname)
            idx = pd.Index(grp["index"].dropna().astype(int).unique())
            table = CANONICAL_TABLES[tname]
            can_null = (
                isinstance(column, str) and column in table.columns and table.field(column).nullable
            )
            if action == "set_missing" and can_null:
                df = self.tables[tname]
                hit = df.index.intersection(idx)
                df.loc[hit, str(column)] = pd.NA
                issues.loc[grp.index, "action"] = "set_missing"
            else:
                self.drop(tname, idx, reason)
                issues.loc[grp.index, "action"] = "drop_row"
        return issues


def _with_enumerator(issues: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    if issues.empty or "enumerator_id" not in households.columns:
        return issues
    hh = households.dropna(subset=["household_id"]).drop_duplicates(["household_id", "wave"])
    enum = dict(zip(key_tuples(hh, ["household_id", "wave"]), hh["enumerator_id"], strict=True))
    keys = key_tuples(issues, ["household_id", "wave"])
    fill = keys.map(lambda k: enum.get(k, pd.NA))
    issues = issues.copy()
    issues["enumerator_id"] = (
        issues["enumerator_id"]
        .astype(object)
        .where(issues["enumerator_id"].notna(), fill)
        .astype("string")
    )
    return issues


def _prepare_table(name: str, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One interim table with every canonical and meta column, declared dtypes, no extras."""
    table = CANONICAL_TABLES[name]
    df = tables[name] if name in tables else pd.DataFrame(columns=table.columns)
    missing = [c for c in [*table.columns, *META_COLUMNS] if c not in df.columns]
    if missing:  # copy only then: the concat below makes the prepared table anyway
        df = df.copy()
    for c in table.columns:
        if c not in df.columns:
            df[c] = pd.Series(pd.NA, index=df.index, dtype=table.field(c).dtype)
    for m in META_COLUMNS:
        if m not in df.columns:
            df[m] = pd.Series(pd.NA, index=df.index, dtype="string" if m != "_row" else "Int64")
    extra = [c for c in df.columns if c not in table.columns and not c.startswith("_")]
    df = df.drop(columns=extra)
    meta = [c for c in df.columns if c.startswith("_")]
    return pd.concat(
        [
            coerce_dtypes(df.loc[:, table.columns], table),
            df.loc[:, meta].reset_index(drop=True),
        ],
        axis=1,
    )


def _check_test_submissions(st: _State, p: CleanParams) -> None:
    """Test submissions (enumerator pattern, before fieldwork), with their action."""
    iss = checks.check_test_submissions(
        st.tables["households"],
        enumerator_pattern=p.test_submissions.enumerator_pattern,
        fieldwork_start=p.test_submissions.fieldwork_start,
    )
    st.issues.append(st.act(iss, p.test_submissions.action, "test submission"))


def _check_undocumented_codes(
    st: _State, p: CleanParams, review_values: pd.DataFrame | None
) -> pd.DataFrame:
    """Act on numbers shaped like special codes that no codebook lists; all review issues.

    Found by ingest, acted on before the range, currency and outlier checks see them.
    """
    review_issues = checks.check_review_values(review_values, st.tables)
    iss = review_issues.loc[review_issues["check"] == "undocumented_code"]
    st.issues.append(st.act(iss, p.undocumented_codes.action, "undocumented special code"))
    return review_issues


def _check_referential_integrity(st: _State, p: CleanParams) -> None:
    """Orphan rows (a child row without its household), with their action."""
    iss = checks.check_referential_integrity(st.tables)
    st.issues.append(st.act(iss, p.referential_integrity.action, "orphan row"))


def _check_skip_logic(st: _State, p: CleanParams) -> None:
    """Answers the questionnaire's skip logic should have prevented, with their action."""
    iss = checks.check_skip_logic(st.tables)
    st.issues.append(st.act(iss, p.skip_logic.action, "skip-logic violation"))


def _resolve_duplicates(st: _State, p: CleanParams) -> pd.DataFrame:
    """Duplicates: households first (children follow), then child-table keys; the report."""
    dup_reports = []
    for name in TABLE_ORDER:
        rep = find_duplicates(
            st.tables[name],
            CANONICAL_TABLES[name].key,
            table=name,
            rule=p.duplicates.rule,
            order_by=p.duplicates.order_by,
        )
        if rep.empty:
            continue
        dup_reports.append(rep)
        # no reference to the whole table is kept: the drops below copy it (memory)
        dup_rows = st.tables[name].loc[pd.Index(rep["index"].astype(int))]
        for kind, grp in rep.loc[~rep["is_kept"].astype(bool)].groupby("kind", sort=True):
            st.drop(name, pd.Index(grp["index"].astype(int)), f"{kind} ({p.duplicates.rule})")
        kept = rep["is_kept"].astype(bool).map({True: "kept", False: "dropped"})
        detail = rep["kind"] + " group of " + rep["n_rows"].astype(str) + " rows; " + kept
        st.issues.append(
            make_issues(
                dup_rows,
                check="duplicate",
                table=name,
                column="household_id",
                detail=detail.astype(str),
                severity="error",
                action=p.duplicates.rule,
            )
        )
    return (
        pd.concat(dup_reports, ignore_index=True)
        if dup_reports
        else pd.DataFrame(columns=REPORT_COLUMNS)
    )


def _check_ranges(st: _State, p: CleanParams) -> None:
    """Missing required values (rows dropped) and out-of-range values, table by table."""
    for name in TABLE_ORDER:
        iss = checks.check_range(st.tables[name], CANONICAL_TABLES[name])
        req = iss.loc[iss["check"] == "missing_required"]
        st.issues.append(st.act(req, "drop_row", "required value missing"))
        rng = iss.loc[iss["check"] == "range"]
        st.issues.append(st.act(rng, p.range.action, "out of range"))


def _plausibility_period(
    p: CleanParams, survey_period: tuple[int, int] | None
) -> tuple[int | None, int | None]:
    """The survey period of the plausibility check: the parameters, else ``survey_period``."""
    first, last = survey_period or (None, None)
    first = p.range.first_year if p.range.first_year is not None else first
    last = p.range.last_year if p.range.last_year is not None else last
    return first, last


def _check_finite_and_years(
    st: _State, p: CleanParams, first: int | None, last: int | None
) -> None:
    """Plausibility: non-finite numbers and dates outside the survey period."""
    for name in TABLE_ORDER:
        iss = check_plausibility(
            st.tables[name],
            CANONICAL_TABLES[name],
            max_amount_usd=p.range.max_amount_usd,
            first_year=first,
            last_year=last,
            parts=("finite", "years"),
        )
        st.issues.append(st.act(iss, p.range.action, "implausible value"))


def _check_currency(st: _State, p: CleanParams) -> dict[str, pd.Index]:
    """Currency sanity (riel typed as dollars); the rows hit, by table."""
    currency_hits: dict[str, pd.Index] = {}
    for name, cols in p.currency.columns.items():
        iss = checks.check_currency(
            st.tables[name],
            cols,
            table=name,
            min_ratio=p.currency.min_ratio,
            min_n=p.currency.min_n,
        )
        currency_hits[name] = pd.Index(iss["index"].dropna().astype(int))
        st.issues.append(st.act(iss, p.currency.action, "riel typed as dollars"))
    return currency_hits


def _check_amounts(
    st: _State,
    p: CleanParams,
    first: int | None,
    last: int | None,
    currency_hits: dict[str, pd.Index],
) -> None:
    """Implausible amounts, with the range action; currency hits are not reported twice."""
    for name in TABLE_ORDER:
        iss = check_plausibility(
            st.tables[name],
            CANONICAL_TABLES[name],
            max_amount_usd=p.range.max_amount_usd,
            first_year=first,
            last_year=last,
            parts=("amounts",),
        )
        seen = currency_hits.get(name)
        if seen is not None and not iss.empty:
            amount = iss["detail"].str.startswith("amount above").fillna(False).astype(bool)
            iss = iss.loc[~(amount & iss["index"].isin(seen))]
        st.issues.append(st.act(iss, p.range.action, "implausible value"))


def _check_consistency_and_outliers(
    st: _State, p: CleanParams, currency_hits: dict[str, pd.Index]
) -> None:
    """Consistency of amounts (repeated to a fixed point), then outliers (not currency hits)."""
    for _ in range(10):
        iss = checks.check_consistency(st.tables, max_ratio=p.consistency.max_ratio)
        st.issues.append(st.act(iss, p.consistency.action, "inconsistent amounts"))
        if iss.empty or p.consistency.action == "flag":
            break
    for name, cols in p.outliers.columns.items():
        iss = checks.check_outliers(
            st.tables[name],
            cols,
            table=name,
            rule=p.outliers.rule,
            threshold=p.outliers.threshold,
            tail=p.outliers.tail,
            min_n=p.outliers.min_n,
            by=p.outliers.by.get(name, ["wave"]),
            exclude=currency_hits.get(name),
        )
        st.issues.append(st.act(iss, p.outliers.action, "outlier"))


def _summarise_codes(
    st: _State, special_codes: pd.DataFrame | None, value_fixes: pd.DataFrame | None
) -> pd.DataFrame:
    """Special codes and value fixes (handled at ingest): listed as issues; the counts."""
    sc_counts, sc_issues = checks.summarise_special_codes(
        special_codes if special_codes is not None else pd.DataFrame(), st.tables
    )
    st.issues.append(sc_issues)
    if value_fixes is not None and not value_fixes.empty:
        vf = value_fixes.assign(reason="known misspelling fixed by the codebook")
        vf_counts, vf_issues = checks.summarise_special_codes(
            vf,
            st.tables,
            check="value_fix",
            detail_prefix="value fix",
            action="fixed (ingest)",
        )
        st.issues.append(vf_issues)
        sc_counts = pd.concat([sc_counts, vf_counts], ignore_index=True)
    return sc_counts


def _exclusions(st: _State) -> pd.DataFrame:
    """Every dropped row, one table."""
    return (
        pd.concat(st.exclusions, ignore_index=True)
        if st.exclusions
        else pd.DataFrame(
            columns=["table", "source", "file", "row", "household_id", "wave", "reason"]
        )
    )


def clean_tables(
    tables: Mapping[str, pd.DataFrame],
    params: CleanParams,
    *,
    special_codes: pd.DataFrame | None = None,
    value_fixes: pd.DataFrame | None = None,
    review_values: pd.DataFrame | None = None,
    corrections: pd.DataFrame | None = None,
    hash_id: Callable[[str], str] | None = None,
    survey_period: tuple[int, int] | None = None,
) -> CleanResult:
    """Run every data-quality check on the interim tables and apply the configured actions.

    Parameters
    ----------
    tables
        Interim tables ``households``, ``members``, ``loans``, ``migration_episodes``:
        canonical columns plus the meta columns ``_source``, ``_file``, ``_row``,
        ``_submission_id``, ``_submission_time`` (absent ones are added as missing).
    params
        The ``clean`` section of ``params.yaml``.
    special_codes
        Ingest's long table of special codes (reported, the values are already missing).
    value_fixes
        Ingest's long table of reviewed value fixes (misspellings fixed by the codebook's
        ``fixes``), reported as ``value_fix``.
    review_values
        Ingest's long table of values for review: labels not in a value map (reported as
        ``unknown_label``; already missing) and code-like numbers no codebook lists (reported as
        ``undocumented_code`` with the configured action).
    corrections
        The reviewed corrections log (see :mod:`ctip_research.clean.corrections`).
    hash_id
        Pseudonymisation of raw household ids, for corrections that name one.
    survey_period
        First and last interview year of the survey, used by the plausibility check when
        ``params.range`` sets no period (:mod:`ctip_research.clean.plausibility`).

    Returns
    -------
    CleanResult

    ``clean_tables(interim, load_params().clean).ledger["households"]["rows_out"]`` is the number
    of households kept (``ctip clean`` runs it on the interim tables ``ctip ingest`` wrote).
    """
    prepared: dict[str, pd.DataFrame] = {name: _prepare_table(name, tables) for name in TABLE_ORDER}
    rows_in = {k: len(v) for k, v in prepared.items()}

    corr_log = pd.DataFrame(columns=LOG_COLUMNS)
    if corrections is not None and not corrections.empty:
        prepared, corr_log = apply_corrections(prepared, corrections, hash_id=hash_id)

    st = _State(prepared)
    # Only the households are read again (enumerators of dropped rows): let the other prepared
    # tables go once the checks replace them (memory at census size).
    households_in = prepared["households"]
    del prepared
    p = params

    _check_test_submissions(st, p)
    duplicates = _resolve_duplicates(st, p)

    # Labels not in a value map (review_issues) are reported at the end.
    review_issues = _check_undocumented_codes(st, p, review_values)

    _check_ranges(st, p)
    # Plausibility (clean.plausibility): non-finite numbers and dates outside the survey period;
    # implausible amounts after the currency check below.
    first, last = _plausibility_period(p, survey_period)
    _check_finite_and_years(st, p, first, last)

    _check_referential_integrity(st, p)

    currency_hits = _check_currency(st, p)
    _check_amounts(st, p, first, last, currency_hits)
    _check_consistency_and_outliers(st, p, currency_hits)

    _check_skip_logic(st, p)

    sc_counts = _summarise_codes(st, special_codes, value_fixes)
    st.issues.append(review_issues.loc[review_issues["check"] == "unknown_label"])

    issues = concat_issues(st.issues)
    issues = _with_enumerator(issues, households_in).drop(columns=["index"])
    exclusions = _exclusions(st)
    rows_out = {k: len(v) for k, v in st.tables.items()}
    ledger = build_ledger(rows_in, rows_out, exclusions)
    return CleanResult(
        tables=st.tables,
        issues=issues.reset_index(drop=True),
        duplicates=duplicates.drop(columns=["index"]),
        corrections=corr_log,
        special_codes=sc_counts,
        exclusions=exclusions,
        ledger=ledger,
    )
