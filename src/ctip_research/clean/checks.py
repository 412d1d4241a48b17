"""Data-quality checks on the interim canonical tables.

Every check is a pure function returning a tidy issue table (``_common.ISSUE_COLUMNS``): one row
per hit, naming table, source, file, raw row, household, enumerator, column and the rule, never
the checked value. Checks only *find*; :func:`~ctip_research.clean.pipeline.clean_tables` decides
what happens to the data (flag, set missing, drop row) from the parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ctip_research.clean._common import concat_issues, empty_issues, key_isin, make_issues
from ctip_research.literals import OutlierRule
from ctip_research.schemas import Table

HH_KEY = ["household_id", "wave"]


def check_range(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Values outside the declared bounds or allowed values, and missing required values.

    Examples
    --------
    >>> from ctip_research.schemas import get_table
    >>> df = pd.DataFrame({"household_id": ["a"], "wave": [1], "member_id": [1],
    ...                    "age": pd.array([130], dtype="Int64")})
    >>> check_range(df, get_table("members"))["detail"].tolist()
    ['above maximum 110']
    """
    out = []
    for f in table.fields:
        if f.name not in df.columns:
            continue
        s = df[f.name]
        present = s.notna()
        if not f.nullable:
            miss = ~present
            if miss.any():
                out.append(
                    make_issues(
                        df.loc[miss],
                        check="missing_required",
                        table=table.name,
                        column=f.name,
                        detail="required value missing",
                        severity="error",
                    )
                )
        if f.allowed is not None:
            allowed = list(f.allowed)
            vals = s.astype(object)
            bad = present & ~vals.isin(allowed)
            if bad.any():
                out.append(
                    make_issues(
                        df.loc[bad],
                        check="range",
                        table=table.name,
                        column=f.name,
                        detail="value not in the allowed set",
                        severity="error",
                    )
                )
        if f.type in ("int", "float") and (f.minimum is not None or f.maximum is not None):
            num = pd.to_numeric(s, errors="coerce").astype("Float64")
            if f.minimum is not None:
                low = (num < f.minimum).fillna(False).astype(bool)
                if low.any():
                    out.append(
                        make_issues(
                            df.loc[low],
                            check="range",
                            table=table.name,
                            column=f.name,
                            detail=f"below minimum {f.minimum:g}",
                            severity="error",
                        )
                    )
            if f.maximum is not None:
                high = (num > f.maximum).fillna(False).astype(bool)
                if high.any():
                    out.append(
                        make_issues(
                            df.loc[high],
                            check="range",
                            table=table.name,
                            column=f.name,
                            detail=f"above maximum {f.maximum:g}",
                            severity="error",
                        )
                    )
    return concat_issues(out)


def check_test_submissions(
    households: pd.DataFrame,
    *,
    enumerator_pattern: str | None,
    fieldwork_start: object | None,
) -> pd.DataFrame:
    """Test submissions: enumerator code matching a pattern, or timed before fieldwork began.

    Examples
    --------
    >>> hh = pd.DataFrame({"household_id": ["a", "b"], "wave": [1, 1],
    ...                    "enumerator_id": ["E01", "TEST"]})
    >>> check_test_submissions(hh, enumerator_pattern="^test",
    ...                        fieldwork_start=None)["household_id"].tolist()
    ['b']
    """
    hits = pd.Series(False, index=households.index)
    why = pd.Series("", index=households.index, dtype=object)
    if enumerator_pattern and "enumerator_id" in households.columns:
        rx = re.compile(enumerator_pattern, flags=re.IGNORECASE)
        enum = households["enumerator_id"].astype(object)
        m = enum.map(lambda v: bool(rx.search(str(v))) if pd.notna(v) else False).astype(bool)
        hits |= m
        why[m] = "enumerator code marks a test submission"
    if fieldwork_start is not None and "_submission_time" in households.columns:
        t = pd.to_datetime(households["_submission_time"], errors="coerce", utc=True)
        start = pd.Timestamp(str(fieldwork_start), tz="UTC")
        m = (t < start).fillna(False).astype(bool)
        hits |= m
        why[m & (why == "")] = "submitted before fieldwork started"
    return make_issues(
        households.loc[hits],
        check="test_submission",
        table="households",
        column="enumerator_id",
        detail=why[hits],
        severity="error",
    )


def check_referential_integrity(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Child rows without their household (same id and wave); episodes without their member.

    Examples
    --------
    >>> hh = pd.DataFrame({"household_id": ["a"], "wave": [1]})
    >>> loans = pd.DataFrame({"household_id": ["a", "z"], "wave": [1, 1], "loan_id": [1, 1]})
    >>> check_referential_integrity({"households": hh, "loans": loans})["table"].tolist()
    ['loans']
    """
    out = []
    hh = tables.get("households")
    hh_keys = hh[HH_KEY] if hh is not None else pd.DataFrame(columns=HH_KEY)
    for name in ("members", "loans", "migration_episodes"):
        df = tables.get(name)
        if df is None or df.empty:
            continue
        orphan = ~key_isin(df, HH_KEY, hh_keys)
        if orphan.any():
            out.append(
                make_issues(
                    df.loc[orphan],
                    check="referential_integrity",
                    table=name,
                    column="household_id",
                    detail="no household row with this id and wave",
                    severity="error",
                )
            )
    ep, mem = tables.get("migration_episodes"), tables.get("members")
    if ep is not None and mem is not None and not ep.empty:
        mkey = [*HH_KEY, "member_id"]
        has_hh = key_isin(ep, HH_KEY, hh_keys)
        orphan = has_hh & ~key_isin(ep, mkey, mem)
        if orphan.any():
            out.append(
                make_issues(
                    ep.loc[orphan],
                    check="referential_integrity",
                    table="migration_episodes",
                    column="member_id",
                    detail="no member row with this line number",
                    severity="error",
                )
            )
    return concat_issues(out)


def _positive_log(s: pd.Series) -> pd.Series:
    num = pd.to_numeric(s, errors="coerce").astype("Float64").astype(float)
    return pd.Series(np.where(num > 0, np.log(np.where(num > 0, num, 1.0)), np.nan), index=s.index)


def check_currency(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    table: str,
    min_ratio: float,
    min_n: int,
    by: str = "wave",
) -> pd.DataFrame:
    """Riel typed as dollars: USD amounts at least ``min_ratio`` times their column's median.

    The median is taken per ``by`` group over positive values; a flagged value is left out and
    the median recomputed until nothing new is flagged, so that the result is a fixed point
    (cleaning twice equals cleaning once).

    Examples
    --------
    >>> df = pd.DataFrame({"wave": [1] * 5, "principal_usd": [900, 1000, 1100, 1200, 4_000_000]})
    >>> check_currency(df, ["principal_usd"], table="loans", min_ratio=1000,
    ...                min_n=3)["index"].tolist()
    [4]
    """
    out = []
    log_ratio = np.log(min_ratio)
    for col in columns:
        if col not in df.columns:
            continue
        lx = _positive_log(df[col])
        groups = df[by] if by in df.columns else pd.Series(0, index=df.index)
        flagged = pd.Series(False, index=df.index)
        ratio = pd.Series(np.nan, index=df.index)
        for _ in range(50):
            ok = lx.notna() & ~flagged
            med = lx.where(ok).groupby(groups, dropna=False).transform("median")
            cnt = ok.groupby(groups, dropna=False).transform("sum")
            new = ok & (cnt >= min_n) & ((lx - med) >= log_ratio)
            if not new.any():
                break
            ratio[new] = np.exp(lx[new] - med[new])
            flagged |= new
        if flagged.any():
            detail = ratio[flagged].map(
                lambda r: f"{r:,.0f} times the column median: riel typed as dollars?"
            )
            out.append(
                make_issues(
                    df.loc[flagged],
                    check="currency",
                    table=table,
                    column=col,
                    detail=detail,
                    severity="error",
                )
            )
    return concat_issues(out)


def _outlier_bounds(v: pd.Series, rule: OutlierRule, k: float) -> tuple[float, float]:
    if rule == "iqr":
        q1, q3 = v.quantile(0.25), v.quantile(0.75)
        return float(q1 - k * (q3 - q1)), float(q3 + k * (q3 - q1))
    if rule == "mad":
        med = v.median()
        mad = 1.4826 * (v - med).abs().median()
        return float(med - k * mad), float(med + k * mad)
    mean, sd = v.mean(), v.std(ddof=1)
    return float(mean - k * sd), float(mean + k * sd)


def _group_bounds(
    lx: pd.Series,
    ok: pd.Series,
    df: pd.DataFrame,
    by: Sequence[str],
    *,
    rule: OutlierRule,
    threshold: float,
    min_n: int,
) -> tuple[pd.Series, pd.Series]:
    """Each row's outlier bounds, from the usable values (``ok``) of its group: the finest
    prefix of ``by`` whose group holds at least ``min_n`` of them (NaN where even the coarsest
    holds fewer).
    """
    cols = [c for c in by if c in df.columns]
    lo = pd.Series(np.nan, index=df.index)
    hi = pd.Series(np.nan, index=df.index)
    levels = range(len(cols), 0, -1) if cols else range(0, -1, -1)
    for k in levels:
        keys = [df[c].astype(object) for c in cols[:k]] or [pd.Series(0, index=df.index)]
        grouper = keys[0] if len(keys) == 1 else keys
        count = ok.astype(int).groupby(grouper, dropna=False).transform("sum")
        take = lo.isna() & hi.isna() & (count >= min_n)
        if not take.any():
            continue
        for _g, idx in lx.groupby(grouper, dropna=False).groups.items():
            rows = take.loc[idx]
            if not rows.any():
                continue
            v = lx.loc[idx][ok.loc[idx]]
            g_lo, g_hi = _outlier_bounds(v, rule, threshold)
            if not np.isfinite(g_lo) or g_hi <= g_lo:
                g_lo, g_hi = -np.inf, np.inf  # no spread: nothing to compare with
            lo.loc[rows.index[rows]] = g_lo
            hi.loc[rows.index[rows]] = g_hi
    return lo, hi


def check_outliers(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    table: str,
    rule: OutlierRule,
    threshold: float,
    min_n: int,
    tail: Literal["upper", "both"] = "both",
    by: Sequence[str] | str = ("wave",),
    exclude: pd.Index | None = None,
) -> pd.DataFrame:
    """Outliers of log money amounts (zeros and missing left out), per column and group.

    Amounts are compared with the others of their group: ``by`` lists grouping columns,
    coarsest first (``["wave", "stratum_id"]``); a group with fewer than ``min_n`` usable values
    is pooled into the next coarser one (``by`` without its last column), and with fewer in the
    coarsest group the amount is not checked. Detection is repeated without the values already
    flagged until nothing new is flagged (a fixed point). ``tail="upper"`` flags only amounts
    above the upper bound. Rows in ``exclude`` (e.g. already flagged as riel typed as dollars)
    are left out. The issue names the enumerator, so that a pattern by enumerator shows.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.exp(np.random.default_rng(0).normal(7, 0.5, 200)); x[3] = 1e7
    >>> df = pd.DataFrame({"wave": 1, "income_annual_usd": x})
    >>> check_outliers(df, ["income_annual_usd"], table="households", rule="mad",
    ...                threshold=5, min_n=20)["index"].tolist()
    [3]
    """
    out = []
    by_cols = [by] if isinstance(by, str) else list(by)
    for col in columns:
        if col not in df.columns:
            continue
        lx = _positive_log(df[col])
        if exclude is not None:
            lx[lx.index.isin(exclude)] = np.nan
        flagged = pd.Series(False, index=df.index)
        for _ in range(50):
            ok = lx.notna() & ~flagged
            lo, hi = _group_bounds(lx, ok, df, by_cols, rule=rule, threshold=threshold, min_n=min_n)
            new = ok & (lx > hi).fillna(False)
            if tail == "both":
                new |= ok & (lx < lo).fillna(False)
            new &= ~flagged
            if not new.any():
                break
            flagged |= new
        if flagged.any():
            within = f" within {'/'.join(by_cols)}" if by_cols else ""
            detail = f"outlier of log({col}){within} by rule {rule} (threshold {threshold:g})"
            out.append(
                make_issues(
                    df.loc[flagged],
                    check="outlier",
                    table=table,
                    column=col,
                    detail=detail,
                    severity="warning",
                )
            )
    return concat_issues(out)


INCOME_SOURCES: tuple[str, ...] = (
    "income_farm_usd",
    "income_wages_usd",
    "income_business_usd",
    "income_remittances_usd",
    "income_other_usd",
)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[col], errors="coerce").astype("Float64").astype(float)


def check_consistency(tables: Mapping[str, pd.DataFrame], *, max_ratio: float) -> pd.DataFrame:
    """Amounts inconsistent with the other amounts of the same record (an extra digit or two).

    Rules: the five income sources sum to more than ``max_ratio`` times the reported annual
    income (the largest source is named); a loan's principal more than ``max_ratio`` times its
    instalment x term (an annuity never exceeds it); an outstanding balance more than
    ``max_ratio`` times the principal. Zero or missing denominators are not checked.

    Examples
    --------
    >>> loans = pd.DataFrame({"household_id": ["a", "b"], "wave": [1, 1],
    ...                       "principal_usd": [1000.0, 100000.0],
    ...                       "instalment_monthly_usd": [50.0, 50.0], "term_months": [24, 24]})
    >>> check_consistency({"loans": loans}, max_ratio=2)["index"].tolist()
    [1]
    """
    out = []
    hh = tables.get("households")
    if hh is not None and not hh.empty and "income_annual_usd" in hh.columns:
        parts = pd.DataFrame({c: _num(hh, c) for c in INCOME_SOURCES if c in hh.columns})
        if not parts.empty:
            total = _num(hh, "income_annual_usd")
            ratio = parts.sum(axis=1, min_count=1) / total.where(total > 0)
            bad = (ratio > max_ratio).fillna(False).astype(bool)
            if bad.any():
                largest = parts.loc[bad].idxmax(axis=1)
                for col, idx in largest.groupby(largest).groups.items():
                    r = ratio.loc[idx]
                    out.append(
                        make_issues(
                            hh.loc[idx],
                            check="consistency",
                            table="households",
                            column=str(col),
                            detail=r.map(
                                lambda x: (
                                    f"income sources sum to {x:,.1f} "
                                    "times the reported annual income"
                                )
                            ),
                            severity="warning",
                        )
                    )
    loans = tables.get("loans")
    if loans is not None and not loans.empty:
        principal = _num(loans, "principal_usd")
        due = _num(loans, "instalment_monthly_usd") * _num(loans, "term_months")
        ratio = principal / due.where(due > 0)
        bad = (ratio > max_ratio).fillna(False).astype(bool)
        if bad.any():
            out.append(
                make_issues(
                    loans.loc[bad],
                    check="consistency",
                    table="loans",
                    column="principal_usd",
                    detail=ratio[bad].map(
                        lambda x: f"principal is {x:,.1f} times instalment x term"
                    ),
                    severity="warning",
                )
            )
        owed = _num(loans, "outstanding_usd") / principal.where(principal > 0)
        bad = (owed > max_ratio).fillna(False).astype(bool)
        if bad.any():
            out.append(
                make_issues(
                    loans.loc[bad],
                    check="consistency",
                    table="loans",
                    column="outstanding_usd",
                    detail=owed[bad].map(
                        lambda x: f"outstanding balance is {x:,.1f} times the principal"
                    ),
                    severity="warning",
                )
            )
    return concat_issues(out)


def _true(s: pd.Series) -> pd.Series:
    return s.astype("boolean").fillna(False).astype(bool)


def _false(s: pd.Series) -> pd.Series:
    return (~s.astype("boolean")).fillna(False).astype(bool)


def _skip_household_counts(hh: pd.DataFrame) -> list[pd.DataFrame]:
    """Children, and children plus working-age members, more than the household size."""
    out: list[pd.DataFrame] = []
    if not {"household_size", "n_children"} <= set(hh.columns):
        return out
    size = hh["household_size"].astype("Float64")
    kids = hh["n_children"].astype("Float64")
    bad = (kids > size).fillna(False).astype(bool)
    out.append(
        make_issues(
            hh.loc[bad],
            check="skip_logic",
            table="households",
            column="n_children",
            detail="more children under 15 than household members",
        )
    )
    if "n_working_age" in hh.columns:
        work = hh["n_working_age"].astype("Float64")
        bad2 = ((kids + work) > size).fillna(False).astype(bool) & ~bad
        out.append(
            make_issues(
                hh.loc[bad2],
                check="skip_logic",
                table="households",
                column="n_working_age",
                detail="children plus working-age members exceed the household size",
            )
        )
    return out


def _skip_grant_at_baseline(hh: pd.DataFrame) -> list[pd.DataFrame]:
    """The livelihood grant reported at baseline (a wave 2 question)."""
    if "received_livelihood_grant" not in hh.columns or "wave" not in hh.columns:
        return []
    bad = _true(hh["received_livelihood_grant"]) & (hh["wave"].astype("Float64") == 1)
    bad = bad.fillna(False).astype(bool)
    return [
        make_issues(
            hh.loc[bad],
            check="skip_logic",
            table="households",
            column="received_livelihood_grant",
            detail="programme reported at baseline (wave 2 question)",
        )
    ]


def _skip_loans_without_loan(hh: pd.DataFrame, loans: pd.DataFrame | None) -> list[pd.DataFrame]:
    """Loan details for a household whose reported loan count or flag says no loan."""
    flag_col = next(
        (c for c in ("_n_loans_reported", "_has_loan_reported") if c in hh.columns), None
    )
    if flag_col is None or loans is None or loans.empty:
        return []
    rep = hh[flag_col]
    none = (
        rep.astype(object)
        .map(lambda v: pd.notna(v) and str(v).strip().lower() in ("0", "0.0", "false", "no"))
        .astype(bool)
    )
    bad = pd.Series(key_isin(loans, HH_KEY, hh.loc[none]), index=loans.index)
    return [
        make_issues(
            loans.loc[bad],
            check="skip_logic",
            table="loans",
            column="loan_id",
            detail="loan details for a household that reported no loan",
        )
    ]


def _skip_migrant_not_away(mem: pd.DataFrame | None) -> list[pd.DataFrame]:
    """A member with a migrant type who is not away."""
    if mem is None or mem.empty or not {"migrant_type", "is_away"} <= set(mem.columns):
        return []
    mt = mem["migrant_type"].astype(object)
    bad = mt.isin(["international", "domestic"]) & _false(mem["is_away"])
    return [
        make_issues(
            mem.loc[bad],
            check="skip_logic",
            table="members",
            column="migrant_type",
            detail="migrant type given for a member who is not away",
        )
    ]


def _skip_episode_member(ep: pd.DataFrame, mem: pd.DataFrame | None) -> list[pd.DataFrame]:
    """An unreturned episode of a member who is neither away nor a migrant."""
    if mem is None or mem.empty:
        return []
    mkey = [*HH_KEY, "member_id"]
    cols = [c for c in ("is_away", "migrant_type") if c in mem.columns]
    if not cols:
        return []
    m = mem.drop_duplicates(mkey).set_index(mkey)[cols]
    j = ep[mkey].join(m, on=mkey)
    not_away = _false(j["is_away"]) if "is_away" in j else pd.Series(False, j.index)
    no_mig = (
        (j["migrant_type"].astype(object) == "none").fillna(False).astype(bool)
        if "migrant_type" in j
        else pd.Series(False, j.index)
    )
    returned = (
        _true(ep["has_returned"]) if "has_returned" in ep else pd.Series(False, index=ep.index)
    )
    bad = (not_away | no_mig) & ~returned
    return [
        make_issues(
            ep.loc[bad],
            check="skip_logic",
            table="migration_episodes",
            column="member_id",
            detail="episode for a member who is neither away nor a migrant and has not returned",
        )
    ]


def _skip_lender_without_loan(ep: pd.DataFrame) -> list[pd.DataFrame]:
    """A migration-loan lender for a cost not financed by a loan."""
    if not {"cost_financed_by_loan", "loan_source"} <= set(ep.columns):
        return []
    src = ep["loan_source"].astype(object)
    bad = _false(ep["cost_financed_by_loan"]) & src.notna() & (src != "none")
    return [
        make_issues(
            ep.loc[bad],
            check="skip_logic",
            table="migration_episodes",
            column="loan_source",
            detail="lender given for a cost not financed by a loan",
        )
    ]


def check_skip_logic(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Answers the questionnaire's skip logic should have prevented.

    Rules: children under 15 more than the household size; children plus working-age members
    more than the household size; the livelihood grant reported at baseline (it came between the
    waves); a member with a migrant type who is not away; a migration episode (not returned) for
    a member who is neither away nor a migrant; a migration-loan lender for a cost not financed
    by a loan; loan details for a household that reported no loan (when the interim households
    table carries ``_n_loans_reported`` or ``_has_loan_reported``).

    Examples
    --------
    >>> hh = pd.DataFrame({"household_id": ["a"], "wave": [1],
    ...                    "household_size": pd.array([2], dtype="Int64"),
    ...                    "n_children": pd.array([3], dtype="Int64")})
    >>> check_skip_logic({"households": hh})["column"].tolist()
    ['n_children']
    """
    out: list[pd.DataFrame] = []
    hh = tables.get("households")
    if hh is not None and not hh.empty:
        out += _skip_household_counts(hh)
        out += _skip_grant_at_baseline(hh)
        out += _skip_loans_without_loan(hh, tables.get("loans"))
    mem = tables.get("members")
    out += _skip_migrant_not_away(mem)
    ep = tables.get("migration_episodes")
    if ep is not None and not ep.empty:
        out += _skip_episode_member(ep, mem)
        out += _skip_lender_without_loan(ep)
    return concat_issues(out)


def summarise_special_codes(
    special_codes: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    *,
    check: str = "special_code",
    detail_prefix: str = "special code",
    action: str = "set_missing (ingest)",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts of special codes by source, table, column and reason, and one issue per code.

    ``special_codes`` is ingest's long table (source, table, _row, column, code, reason); the
    issue rows are joined to their record for the household and enumerator. The same summary
    serves ingest's reviewed value fixes (``check="value_fix"``, with a ``reason`` column).

    Examples
    --------
    >>> sc = pd.DataFrame({"source": ["s"], "table": ["households"], "_row": [2],
    ...                    "column": ["head_age"], "code": [-99], "reason": ["refused"]})
    >>> hh = pd.DataFrame({"household_id": ["a"], "wave": [1], "_source": ["s"], "_row": [2]})
    >>> counts, issues = summarise_special_codes(sc, {"households": hh})
    >>> counts["n"].tolist(), issues["household_id"].tolist()
    ([1], ['a'])
    """
    cols = ["source", "table", "column", "reason", "n"]
    if special_codes is None or special_codes.empty:
        return pd.DataFrame({c: [] for c in cols}), empty_issues()
    sc = special_codes.copy()
    counts = (
        sc.groupby(["source", "table", "column", "reason"], dropna=False, sort=True)
        .size()
        .rename("n")
        .reset_index()
    )
    out = []
    for name, grp in sc.groupby("table", sort=True):
        df = tables.get(str(name))
        use_file = "file" in grp.columns and df is not None and "_file" in df.columns
        left = ["source", "file", "_row"] if use_file else ["source", "_row"]
        right = ["_source", "_file", "_row"] if use_file else ["_source", "_row"]
        g = grp.loc[:, [*left, "column", "reason"]].astype({"source": object, "_row": "Float64"})
        if use_file:
            g = g.astype({"file": object})
        if df is not None and not df.empty:
            keep = [*right, "household_id", "wave", "enumerator_id"]
            rec = df.loc[:, [c for c in keep if c in df.columns]].drop_duplicates(right)
            rec = rec.astype({c: ("Float64" if c == "_row" else object) for c in right})
            j = g.merge(rec, left_on=left, right_on=right, how="left", suffixes=("", "_rec"))
        else:
            j = g.copy()
        j = j.assign(_source=j["source"])
        if use_file:
            j = j.assign(_file=j["file"])
        j.index = pd.RangeIndex(len(j))
        for (column, reason), sub in j.groupby(["column", "reason"], sort=True, dropna=False):
            iss = make_issues(
                sub,
                check=check,
                table=str(name),
                column=str(column),
                detail=f"{detail_prefix}: {reason}",
                severity="info",
                action=action,
            )
            iss["index"] = pd.NA
            out.append(iss)
    return counts, concat_issues(out)


#: The checks that report ingest's values for review (``review_values.parquet``), by kind.
REVIEW_CHECKS: dict[str, str] = {"unknown_label": "unknown_label", "code_like": "undocumented_code"}


def check_review_values(
    review: pd.DataFrame | None, tables: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """One issue per value ingest set aside for review, at its raw address.

    ``unknown_label``: a label not in its column's value map (already missing; the detail says
    whether a documented label is a near miss of it: the proposal itself is in ingest's
    ``codebook_proposals.yaml``, never applied). ``undocumented_code``: a number shaped like a
    special code that no codebook lists (the value is still there; the pipeline applies the
    configured action). Issues name no value. ``index`` is the row in ``tables`` (missing for a
    row no longer there, e.g. a dropped duplicate).

    Examples
    --------
    >>> rv = pd.DataFrame({"source": ["s"], "table": ["households"], "file": ["a.csv"],
    ...     "_row": [2], "column": ["head_age"], "kind": ["code_like"],
    ...     "reason": ["a code-like number heaped in its column: 5 rows, 5 times the values near it"]})
    >>> hh = pd.DataFrame({"household_id": ["h"], "wave": [1], "_source": ["s"],
    ...                    "_file": ["a.csv"], "_row": [2]})
    >>> iss = check_review_values(rv, {"households": hh})
    >>> iss[["check", "column", "index"]].values.tolist()
    [['undocumented_code', 'head_age', 0]]
    """
    if review is None or review.empty:
        return empty_issues()
    out = []
    for (name, kind, column), grp in review.groupby(["table", "kind", "column"], sort=True):
        check = REVIEW_CHECKS.get(str(kind), str(kind))
        left = pd.DataFrame(
            {
                "source": grp["source"].astype(object).to_numpy(),
                "file": grp["file"].astype(object).to_numpy(),
                "_row": grp["_row"].astype("Float64").to_numpy(),
                "reason": grp["reason"].astype(object).to_numpy(),
                "__hh": (
                    grp["household_id"].astype(object).to_numpy() if "household_id" in grp else None
                ),
            }
        )
        df = tables.get(str(name))
        if df is not None and not df.empty:
            cols = ("_source", "_file", "_row", "household_id", "wave", "enumerator_id")
            keep = [c for c in cols if c in df]
            rec = (
                df.loc[:, keep]
                .reset_index(names="__index")
                .drop_duplicates(["_source", "_file", "_row"])
            )
            rec = rec.astype({"_source": object, "_file": object, "_row": "Float64"})
            j = left.merge(
                rec,
                left_on=["source", "file", "_row"],
                right_on=["_source", "_file", "_row"],
                how="left",
                suffixes=("", "_rec"),
            )
        else:
            j = left.assign(__index=None)
        j["_source"], j["_file"] = j["source"], j["file"]
        if "household_id" not in j:
            j["household_id"] = j["__hh"]
        else:  # a row no longer in the table (a dropped duplicate) keeps ingest's pseudonym
            j["household_id"] = (
                j["household_id"].astype(object).where(j["household_id"].notna(), j["__hh"])
            )
        if kind == "unknown_label":
            near = j["reason"].astype(str).str.contains("near miss", regex=False)
            detail = "label not in the codebook's value map (set missing); " + near.map(
                {
                    True: "a near miss of a documented label: fix proposed in "
                    "codebook_proposals.yaml",
                    False: "no documented label is close to it",
                }
            )
        else:
            detail = "undocumented special code? " + j["reason"].astype(str)
        index = j["__index"]
        j.index = pd.RangeIndex(len(j))
        iss = make_issues(
            j,
            check=check,
            table=str(name),
            column=str(column),
            detail=detail,
            severity="warning",
            action="set_missing (ingest)" if kind == "unknown_label" else "flag",
        )
        iss["index"] = pd.array(index.to_numpy(dtype=object), dtype="Int64")
        out.append(iss)
    return concat_issues(out)
