"""Draft a codebook from raw exports: the obvious work done, every guess marked for review.

:func:`draft_codebook` takes the raw tables of one source (a Kobo workbook with its repeat-group
sheets, or several CSV / Stata / SPSS / Parquet files of one wave, one per table) and returns a
codebook mapping (``docs/codebook.md``) in which

* each file gets the canonical table its columns (and its name) fit best;
* a raw column whose name equals a canonical column, equals it without the unit suffix
  (``income_farm`` -> ``income_farm_usd``), is a common survey name for it (``hhid``,
  ``line_no``, ``prov``), has the canonical label as its variable label (Stata/SPSS), or is close
  to it (``head_educ_yrs`` -> ``head_educ_years``) is mapped, with a ``review:`` marker saying
  why; ids become ``key`` columns;
* value labels (Stata/SPSS) or the distinct values of a text column become a ``values`` map onto
  the canonical values (province names to NIS codes, labels to categories); a value that is a
  near miss of a known one (``Batambang``) is proposed as a ``fixes`` entry;
* money columns get a currency: from the name (``_khr``, ``riel``, ``usd``, ``baht``), from a
  currency column of the same file, else from the size of the amounts; areas in square metres
  and monthly interest rates in percent get a ``scale``;
* geographic codes below district level (village, commune) are set to ``pseudonymise: true``, or
  flagged when they are not mapped;
* only strong identifiers are pre-marked ``pii``: names, phone numbers, GPS, ID numbers,
  addresses, e-mail, dates of birth, free text (by name or because most values are unique),
  Kobo/ODK metadata. Mapped canonical columns (``sex``, ``district_code``,
  ``destination_country``, coping items) are never pre-marked.

Everything else is ``unused`` with a TODO. :func:`draft_summary` counts what was done. Ingest
accepts ``review:`` markers but warns until they are deleted.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from ctip_research.ingest.codebook import SUB_DISTRICT_CODES, FileKey, normalise_code
from ctip_research.ingest.pii import KHMER_PII_TERMS, KOBO_METADATA_FIELDS, scan_pii
from ctip_research.ingest.readers import RawTable
from ctip_research.ingest.review import propose_label
from ctip_research.schemas import CANONICAL_TABLES
from ctip_research.schemas.fields import Field

__all__ = ["ALIASES", "draft_codebook", "draft_summary", "guess_wave"]

KEYS = ("household_id", "member_id", "loan_id")
_UNIT_SUFFIXES = ("_usd", "_ha", "_km", "_pct", "_ratio", "_months", "_years", "_code", "_id")
#: Unit and currency tokens dropped from a raw name before it is compared (``inc_farm_khr``).
_RAW_UNIT_TOKENS = {"khr", "riel", "usd", "thb", "baht", "m2", "sqm", "ha", "km", "pct", "u15", "m"}
#: Abbreviations expanded before comparing (``inc_remit`` -> ``income_remittances``).
_EXPAND = {
    "inc": "income",
    "yrs": "years",
    "yr": "year",
    "remit": "remittances",
    "wage": "wages",
    "school": "educ",
    "edu": "educ",
    "sell": "sold",
}
#: A leading token naming the roster row itself (``member_age``, ``hh_size``, ``ind_sex``).
_ROSTER_NOUNS = {"member", "mem", "hh", "household", "person", "ind", "indiv", "respondent"}
#: Raw names of the loan module's filter question (the interim meta column of clean's skip logic).
_LOAN_FILTER = ("any_loan", "anyloan", "has_loan", "loan_any", "any_loans")
#: Common survey names of canonical columns, by table ("*": any table), after normalisation.
ALIASES: dict[str, dict[str, str]] = {
    "*": {
        "hhid": "household_id",
        "hh_id": "household_id",
        "hhcode": "household_id",
        "hh_code": "household_id",
        "household": "household_id",
        "hh_no": "household_id",
    },
    "households": {
        "prov": "province_code",
        "province": "province_code",
        "dist": "district_code",
        "district": "district_code",
        "comm": "commune_code",
        "commune": "commune_code",
        "khum": "commune_code",
        "village": "psu_id",
        "vill": "psu_id",
        "village_id": "psu_id",
        "village_code": "psu_id",
        "vill_code": "psu_id",
        "village_no": "psu_id",
        "cluster_id": "psu_id",
        "psu_code": "psu_id",
        "commune_id": "commune_code",
        "district_id": "district_code",
        "n_villages": "n_psu_stratum",
        "n_psu": "n_psu_stratum",
        "fpc": "n_psu_stratum",
        "n_child": "n_children",
        "children": "n_children",
        "kids": "n_children",
        "n_kids": "n_children",
        "n_adult": "n_working_age",
        "adults": "n_working_age",
        "working_age": "n_working_age",
        "head_sex": "head_is_female",
        "head_gender": "head_is_female",
        "head_female": "head_is_female",
        "farm_land": "land_agri_ha",
        "land": "land_agri_ha",
        "agri_land": "land_agri_ha",
        "hard_title": "has_land_title",
        "land_title": "has_land_title",
        "title": "has_land_title",
        "income_total": "income_annual_usd",
        "total_income": "income_annual_usd",
        "income": "income_annual_usd",
        "shock_flood": "shock_climate",
        "shock_drought": "shock_climate",
        "shock_illness": "shock_health",
        "shock_sickness": "shock_health",
        "dist_mfi": "dist_mfi_branch_km",
        "distance_mfi": "dist_mfi_branch_km",
        "mfi_branches": "mfi_branches_per_1000hh",
        "mfi_density": "mfi_branches_per_1000hh",
        "branch_density": "mfi_branches_per_1000hh",
        "phum": "psu_id",
        "cluster": "psu_id",
        "psu": "psu_id",
        "ea": "psu_id",
        "stratum": "stratum_id",
        "strata": "stratum_id",
        "strat": "stratum_id",
        "weight": "weight_household",
        "wgt": "weight_household",
        "wt": "weight_household",
        "hh_weight": "weight_household",
        "hhweight": "weight_household",
        "urban": "is_urban",
        "urban_rural": "is_urban",
        "area": "is_urban",
        "zone": "is_urban",
        "hhsize": "household_size",
        "hh_size": "household_size",
        "size": "household_size",
        "enumerator": "enumerator_id",
        "enum": "enumerator_id",
        "interviewer": "enumerator_id",
        "enumerator_code": "enumerator_id",
        "year": "interview_year",
        "int_year": "interview_year",
        "survey_year": "interview_year",
        "grant": "received_livelihood_grant",
    },
    "members": {
        "line": "member_id",
        "line_no": "member_id",
        "line_number": "member_id",
        "mem_line": "member_id",
        "member_line": "member_id",
        "pid": "member_id",
        "gender": "sex",
        "rel": "relation_to_head",
        "relation": "relation_to_head",
        "relationship": "relation_to_head",
        "educ": "educ_years",
        "edu": "educ_years",
        "school_years": "educ_years",
        "away": "is_away",
        "migrant": "migrant_type",
        "migtype": "migrant_type",
    },
    "loans": {
        "loan_no": "loan_id",
        "loan_line": "loan_id",
        "loan_number": "loan_id",
        "lender": "lender_type",
        "source": "lender_type",
        "amount": "principal",
        "amt": "principal",
        "loan_amount": "principal",
        "cur": "currency",
        "rate": "interest_rate_annual",
        "interest": "interest_rate_annual",
        "rate_month": "interest_rate_annual",
        "rate_year": "interest_rate_annual",
        "rate_yr": "interest_rate_annual",
        "collat": "collateral",
        "pay": "instalment_monthly_usd",
        "payment": "instalment_monthly_usd",
        "dur": "term_months",
        "term": "term_months",
        "months": "term_months",
        "duration": "term_months",
        "instalment": "instalment_monthly_usd",
        "installment": "instalment_monthly_usd",
        "outstanding": "outstanding_usd",
        "balance": "outstanding_usd",
        "owed": "outstanding_usd",
        "arrears": "is_in_arrears",
        "late": "is_in_arrears",
        "year": "year_taken",
    },
    "migration_episodes": {
        "line": "member_id",
        "line_no": "member_id",
        "mem_line": "member_id",
        "destination": "destination_country",
        "country": "destination_country",
        "dest": "destination_country",
        "sector": "destination_sector",
        "irregular": "is_irregular",
        "broker": "used_informal_broker",
        "cost": "migration_cost_usd",
        "returned": "has_returned",
        "back": "has_returned",
        "loan_financed": "cost_financed_by_loan",
        "loanfin": "cost_financed_by_loan",
    },
}
#: File-name hints of the canonical tables.
_TABLE_HINTS: dict[str, tuple[str, ...]] = {
    "households": ("household", "households", "hh", "main", "baseline", "endline"),
    "members": ("member", "members", "roster", "person", "persons", "individual"),
    "loans": ("loan", "loans", "credit", "debt", "borrowing"),
    "migration_episodes": ("migration", "migrant", "migrants", "episode", "episodes"),
}
#: Strong identifier terms of the draft's pre-marks (a token of the normalised name).
_PII_TERMS: dict[str, str] = {
    **{t: "name" for t in ("name", "fname", "lname", "surname", "nickname", "first_name")},
    **{t: "phone number" for t in ("phone", "mobile", "telephone", "tel", "phonenumber")},
    **{
        t: "GPS"
        for t in (
            "gps",
            "lat",
            "lon",
            "lng",
            "latitude",
            "longitude",
            "altitude",
            "accuracy",
            "precision",
            "geolocation",
            "coord",
            "coords",
            "coordinates",
        )
    },
    **{
        t: "ID number"
        for t in ("nid", "idcard", "id_card", "national_id", "passport", "id_number", "idno")
    },
    **{t: "address" for t in ("address", "street")},
    **{t: "e-mail" for t in ("email", "e_mail")},
    **{t: "date of birth" for t in ("dob", "birthday", "bday", "birthdate")},
    **{
        t: "free text"
        for t in (
            "comment",
            "comments",
            "note",
            "notes",
            "remark",
            "remarks",
            "specify",
            "describe",
            "explain",
            "text",
        )
    },
    **{t: "signature or photo" for t in ("signature", "photo", "image", "picture")},
}
_GEO_BELOW_DISTRICT = ("village", "vill", "phum", "commune", "khum", "sangkat")
_CURRENCY_WORDS: dict[str, str] = {
    "khr": "KHR",
    "riel": "KHR",
    "riels": "KHR",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "thb": "THB",
    "baht": "THB",
}
#: Common answer labels of categorical canonical columns (normalised label -> canonical value).
VALUE_SYNONYMS: dict[str, dict[str, Any]] = {
    "sex": {"f": "female", "m": "male", "woman": "female", "man": "male"},
    "is_urban": {"urban": True, "rural": False},
    "migrant_type": {
        "abroad": "international",
        "overseas": "international",
        "in_cambodia": "domestic",
        "internal": "domestic",
        "no": "none",
        "not_a_migrant": "none",
        "non_migrant": "none",
    },
    "destination_country": {
        "thailand": "TH",
        "korea": "KR",
        "south_korea": "KR",
        "malaysia": "MY",
        "japan": "JP",
        "cambodia": "KH",
        "other_country": "other",
    },
    "relation_to_head": {
        "son_daughter": "child",
        "son": "child",
        "daughter": "child",
        "husband_wife": "spouse",
        "husband": "spouse",
        "wife": "spouse",
        "brother_sister": "sibling",
        "brother": "sibling",
        "sister": "sibling",
        "father_mother": "parent",
        "father": "parent",
        "mother": "parent",
    },
    "lender_type": {
        "relative_friend": "relative",
        "friend": "relative",
        "family": "relative",
        "microfinance": "mfi",
        "money_lender": "moneylender",
    },
}
_QUESTION_PREFIX = re.compile(r"^(?:[a-z]{1,2})?\d+[a-z]?_")
_MAX_DISTINCT = 40
#: Share of rows the commonest ``_MAX_DISTINCT`` values must hold for a mapped column with more
#: distinct values to still read as categorical (rare keying slips beside a choice list).
_FREQUENT_SHARE = 0.95


def _norm(text: str) -> str:
    """Lower-case snake form of a raw name: Kobo group prefixes and question numbers dropped."""
    last = str(text).rsplit("/", 1)[-1].lower()
    out = re.sub(r"[^0-9a-z]+", "_", last).strip("_")
    return _QUESTION_PREFIX.sub("", out) or out


def _norm_label(text: Any) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(text).lower()).strip("_")


def _base(name: str) -> str:
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", str(name).lower()) if t]


@dataclass(frozen=True)
class _Candidate:
    canonical: str
    score: float
    why: str


def _variants(raw_name: str) -> list[str]:
    """The normalised raw name, without unit tokens, with abbreviations expanded, and without
    a leading roster noun (``member_sex`` -> ``sex``).
    """
    n = _norm(raw_name)
    stripped = (
        "_".join(t for t in n.split("_") if t not in _RAW_UNIT_TOKENS and not t.isdigit()) or n
    )
    expanded = "_".join(_EXPAND.get(t, t) for t in stripped.split("_"))
    out = [n, stripped, expanded]
    head, _, rest = expanded.partition("_")
    if head in _ROSTER_NOUNS and rest:
        out.append(rest)
    return list(dict.fromkeys(out))


def _name_candidates(variants: list[str], names: list[str], table: str) -> list[_Candidate]:
    """Candidates by exact name, name up to unit or suffix, common alias and distinctive start."""
    n = variants[0]
    out: list[_Candidate] = []
    for name in names:
        if n == name:
            out.append(_Candidate(name, 1.0, "the raw name is the canonical name"))
        elif any(v in (name, _base(name)) for v in variants):
            out.append(
                _Candidate(name, 0.95, "the raw name is the canonical name up to unit or suffix")
            )
    aliases = {**ALIASES["*"], **ALIASES.get(table, {})}
    for v in variants:
        if v in aliases and aliases[v] in names:
            out.append(_Candidate(aliases[v], 0.9, f"{v!r} is a common name for it"))
    for name in names:  # a distinctive start of a long canonical name (cope_new_loan)
        if len(n) >= 10 and name.startswith(n + "_"):
            out.append(_Candidate(name, 0.75, "the canonical name starts with the raw name"))
    return out


def _label_candidates(label: str, fields: Sequence[Field], names: list[str]) -> list[_Candidate]:
    """Candidates whose canonical label equals or is close to the raw variable label."""
    out: list[_Candidate] = []
    lab = _norm_label(label)
    for f in fields:
        if f.name not in names or not lab:
            continue
        ratio = difflib.SequenceMatcher(None, lab, _norm_label(f.label)).ratio()
        if ratio == 1.0:
            out.append(_Candidate(f.name, 0.9, "its variable label is the canonical label"))
        elif ratio >= 0.85:
            out.append(
                _Candidate(f.name, 0.8 * ratio, "its variable label is close to the canonical")
            )
    return out


def _close_name_candidates(variants: list[str], names: list[str]) -> list[_Candidate]:
    """Candidates whose name is close (but not equal) to a variant of the raw name."""
    n = variants[0]
    out: list[_Candidate] = []
    for name in names:
        ratio = max(
            difflib.SequenceMatcher(None, v, target).ratio()
            for v in variants
            for target in (name, _base(name))
        )
        if ratio >= 0.85 and n != name:
            out.append(_Candidate(name, 0.8 * ratio, "its name is close to the canonical name"))
    return out


def _candidates(raw_name: str, label: str | None, table: str) -> list[_Candidate]:
    """Canonical columns of ``table`` that a raw column may be, best first."""
    fields = CANONICAL_TABLES[table].fields
    names = [f.name for f in fields if f.name != "wave"]
    variants = _variants(raw_name)
    out = _name_candidates(variants, names, table)
    if label:
        out += _label_candidates(label, fields, names)
    out += _close_name_candidates(variants, names)
    best: dict[str, _Candidate] = {}
    for c in out:
        if c.canonical not in best or c.score > best[c.canonical].score:
            best[c.canonical] = c
    return sorted(best.values(), key=lambda c: (-c.score, c.canonical))


def _guess_table(path: str, sheet: str | None, raw: RawTable) -> str | None:
    scores: dict[str, float] = {}
    hint_tokens = set(_tokens(PurePosixPath(path).stem)) | set(_tokens(sheet or ""))
    for table in CANONICAL_TABLES:
        total = 0.0
        for col in raw.data.columns:
            cands = _candidates(str(col), raw.variable_labels.get(col), table)
            cands = [c for c in cands if c.canonical not in ("household_id",)]
            if cands:
                total += cands[0].score
        if hint_tokens & set(_TABLE_HINTS[table]):
            total += 2.0
        scores[table] = total
    best = max(scores, key=lambda t: scores[t])
    return best if scores[best] > 0 else None


def _distinct(raw: RawTable, col: str, *, rare_allowed: bool = False) -> list[str] | None:
    """The distinct values of a column that reads as categorical, else ``None``.

    Categorical: at most ``_MAX_DISTINCT`` distinct values; with ``rare_allowed`` (a column
    already mapped to a categorical canonical column), also when that many of the commonest
    values hold ``_FREQUENT_SHARE`` of the rows, so that rare slips (a different one in each
    row) do not hide the choice list.
    """
    codes = raw.data[col].map(normalise_code).dropna()
    counts = codes.value_counts()
    values = sorted(counts.index)
    if 0 < len(values) <= _MAX_DISTINCT:
        return values
    if rare_allowed and len(values):
        top = counts.sort_values(ascending=False, kind="stable").iloc[:_MAX_DISTINCT]
        if top.sum() >= _FREQUENT_SHARE * counts.sum():
            return values
    return None


def _label_targets(fld: Field) -> dict[str, Any]:
    """Normalised text -> canonical value, for matching raw labels to a categorical column."""
    targets: dict[str, Any] = {}
    if fld.value_labels:
        for code, lab in fld.value_labels.items():
            targets[_norm_label(lab)] = code
    if fld.allowed is not None:
        for v in fld.allowed:
            targets[_norm_label(v)] = v
    targets.update(VALUE_SYNONYMS.get(fld.name, {}))
    if fld.type == "bool":
        targets.update({"yes": True, "no": False, "true": True, "false": False})
        targets.update({"y": True, "n": False})
    if fld.name.endswith("is_female"):
        targets.update({"female": True, "f": True, "woman": True})
        targets.update({"male": False, "m": False, "man": False})
    if fld.name == "currency":
        targets.update(_CURRENCY_WORDS)
    return targets


def _value_map_from_labels(
    labels: dict[str | None, str], targets: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(values, fixes, unmatched) from Stata/SPSS value labels: code -> label -> canonical."""
    values: dict[str, Any] = {}
    unmatched: list[str] = []
    for code, lab in labels.items():
        if code is None:
            continue
        key = _norm_label(lab)
        hit = targets.get(key)
        if hit is None:
            close = difflib.get_close_matches(key, list(targets), n=1, cutoff=0.8)
            hit = targets[close[0]] if close else None
        if hit is None:
            unmatched.append(code)
        else:
            values[code] = hit
    return values, {}, unmatched


def _propose_fixes(
    distinct: list[str],
    values: dict[str, Any],
    spelled: dict[str, str],
    targets: dict[str, Any],
) -> tuple[dict[str, str], list[str]]:
    """Fixes for the values no target matched (near misses), and the ones left unmatched.

    Adds to ``values`` a value close to a target whose spelling the file does not hold.
    """
    fixes: dict[str, str] = {}
    unmatched: list[str] = []
    # the spelling of each value as the file mostly writes it (the choice list's)
    present = sorted(set(spelled[k] for k in spelled if spelled[k] in values))
    for v in distinct:
        if v in values:
            continue
        near = propose_label(v, present)
        if near is not None:  # one keying slip away from a spelling present in the file
            fixes[v] = near
            continue
        close = difflib.get_close_matches(_norm_label(v), list(targets), n=1, cutoff=0.8)
        if close:
            right = spelled[close[0]]
            if right in values:  # a misspelling of a value present in the file
                fixes[v] = right
            else:
                values[v] = targets[close[0]]
        else:
            unmatched.append(v)
    return fixes, unmatched


def _value_map(
    fld: Field, raw: RawTable, col: str
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(values, fixes, unmatched) for a categorical canonical column."""
    labels = {normalise_code(k): str(v) for k, v in raw.value_labels.get(col, {}).items()}
    targets = _label_targets(fld)
    if labels:  # Stata/SPSS: code -> label -> canonical
        return _value_map_from_labels(labels, targets)
    distinct = _distinct(raw, col, rare_allowed=True)
    if distinct is None:
        return {}, {}, []
    allowed = {str(v) for v in (fld.allowed or ())}
    if fld.type == "int" and all(v.lstrip("-").isdigit() for v in distinct):
        return {}, {}, [v for v in distinct if allowed and v not in allowed]
    if fld.type == "str" and set(distinct) <= allowed:
        return {}, {}, []  # already canonical values
    values: dict[str, Any] = {}
    spelled = {k: k for k in targets}  # normalised target -> the raw spelling that maps to it
    counts = raw.data[col].map(normalise_code).value_counts()
    for v in sorted(distinct, key=lambda x: (int(counts.get(x, 0)), x)):
        key = _norm_label(v)
        if key in targets:
            values[v] = targets[key]
            spelled[key] = v  # the commonest spelling wins (last in this order)
    values = {v: values[v] for v in distinct if v in values}
    fixes, unmatched = _propose_fixes(distinct, values, spelled, targets)
    return values, fixes, unmatched


def _currency_guess(
    raw_name: str, raw: RawTable, col: str, currency_column: str | None
) -> tuple[dict[str, Any], str]:
    for token in _tokens(raw_name):
        if token in _CURRENCY_WORDS:
            return {"currency": _CURRENCY_WORDS[token]}, f"currency from the name ({token!r})"
    if currency_column is not None:
        return {"currency_column": currency_column}, "currency from the file's currency column"
    amounts = pd.to_numeric(raw.data[col], errors="coerce")
    positive = amounts[amounts > 0]
    if len(positive) and float(positive.median()) > 20_000:
        return {"currency": "KHR"}, "currency guessed from the size of the amounts (riel?)"
    return {"currency": "USD"}, "currency guessed from the size of the amounts (dollars?)"


def _scale_guess(
    raw_name: str, canonical: str, raw: RawTable, col: str
) -> tuple[float, str] | None:
    tokens = set(_tokens(raw_name))
    if canonical.endswith("_ha") and tokens & {"m2", "sqm", "sq_m", "square"}:
        return 0.0001, "square metres -> hectares"
    if canonical == "interest_rate_annual":
        values = pd.to_numeric(raw.data[col], errors="coerce").dropna()
        percent = (
            bool(len(values)) and float(values.median()) > 1 or bool(tokens & {"pct", "percent"})
        )
        if tokens & {"month", "monthly", "mth"} and percent:
            return 0.12, "monthly rate in percent -> annual fraction"
        if percent:
            return 0.01, "rate in percent -> fraction"
    return None


def _pii_by_name(raw_name: str, label: str | None) -> str | None:
    """Why a column's name or label marks it as a strong identifier, or ``None``."""
    lower = str(raw_name).lower()
    last = lower.rsplit("/", 1)[-1]
    if lower in KOBO_METADATA_FIELDS or last in KOBO_METADATA_FIELDS:
        return "Kobo/ODK metadata (device, user or time of the interview)"
    for term in KHMER_PII_TERMS:
        if term in str(raw_name) or (label and term in label):
            return "Khmer identifier term in the name or label"
    norm = _norm(raw_name)
    for part in (norm, *_tokens(norm)):
        if part in _PII_TERMS:
            return _PII_TERMS[part]
    if label:
        for token in _tokens(label):
            if token in ("name", "phone", "gps", "latitude", "longitude", "passport"):
                return _PII_TERMS.get(token, token)
    return None


def _pii_by_values(raw: RawTable, col: str) -> str | None:
    """Why a column's values look identifying (phone, e-mail, dates; unique text), or ``None``.

    The uniqueness rule applies to text only: CSV columns are read as text, and a numeric
    column (amounts, codes) with unique values is not free text.
    """
    values = raw.data[col].dropna()
    numeric = len(values) > 0 and pd.to_numeric(values, errors="coerce").notna().mean() > 0.95
    hits = scan_pii(raw.data[[col]], check_names=False)
    if numeric:
        hits = hits[hits["rule"] != "high_uniqueness"]
    if hits.empty:
        return None
    rule = str(hits["rule"].iloc[0])
    return {
        "high_uniqueness": "free text or an identifier (most values unique)",
        "phone": "phone numbers",
        "email": "e-mail addresses",
        "date": "exact dates",
        "datetime_column": "exact dates",
    }.get(rule, rule)


def _is_geo_below_district(raw_name: str) -> bool:
    return any(t in _GEO_BELOW_DISTRICT for t in _tokens(_norm(raw_name)))


#: Entries of the columns a Kobo export always writes, by raw name.
_FIXED_ENTRIES: dict[str, dict[str, Any]] = {
    "_index": {"action": "parent_key"},
    "_parent_index": {"action": "link"},
    "_uuid": {"action": "meta", "canonical": "_submission_id"},
    "_submission_time": {"action": "meta", "canonical": "_submission_time"},
}


def _pair_columns(raw: RawTable, table: str | None) -> dict[str, _Candidate]:
    """Best pairs first: each raw column gets at most one canonical column and vice versa."""
    pairs = []
    if table is not None:
        for i, col in enumerate(raw.data.columns):
            for cand in _candidates(str(col), raw.variable_labels.get(col), table):
                pairs.append((-cand.score, i, str(col), cand))
    by_raw: dict[str, _Candidate] = {}
    taken: set[str] = set()
    for _, _, col, cand in sorted(pairs, key=lambda p: (p[0], p[1])):
        if col not in by_raw and cand.canonical not in taken:
            by_raw[col] = cand
            taken.add(cand.canonical)
    return by_raw


def _fixed_entry(name: str, table: str | None) -> dict[str, Any] | None:
    """The entry of a column known by its name alone (Kobo meta columns, filter, wave)."""
    if name in _FIXED_ENTRIES:
        return dict(_FIXED_ENTRIES[name])
    if table == "households" and _norm(name) in _LOAN_FILTER:
        return {
            "action": "meta",
            "canonical": "_has_loan_reported",
            "review": "the loan module's filter question (read by clean's skip-logic check)",
        }
    if _norm(name) == "wave":
        return {"action": "unused", "reason": "the codebook's `wave` sets the canonical wave"}
    return None


def _unmapped_entry(name: str, label: str | None, raw: RawTable, col: Any) -> dict[str, Any]:
    """The entry of a column without a canonical match: pii, a fine geographic code, or TODO."""
    reason = _pii_by_name(name, label) or _pii_by_values(raw, col)
    if reason is not None:
        return {
            "action": "pii",
            "reason": f"likely identifier: {reason}",
            "review": "pre-marked pii; confirm, or change to map/unused",
        }
    if _is_geo_below_district(name):
        return {
            "action": "unused",
            "reason": "geographic code below district level (village or commune): "
            "dropped; to keep it, map it to psu_id or commune_code with "
            "`pseudonymise: true`",
            "review": "flagged for pseudonymisation",
        }
    return {
        "action": "unused",
        "reason": "TODO: map to a canonical column or confirm unused",
    }


def _column_entry(
    col: Any,
    raw: RawTable,
    table: str | None,
    *,
    by_raw: dict[str, _Candidate],
    currency_col: str | None,
) -> dict[str, Any]:
    """A column mapped to its paired canonical column (unless it rather looks like pii)."""
    name = str(col)
    label = raw.variable_labels.get(col)
    if (
        name in by_raw
        and table is not None
        and (by_raw[name].score >= 0.95 or _pii_by_name(name, label) is None)
    ):
        return _mapped_entry(name, by_raw[name], table, raw, currency_col)
    return _unmapped_entry(name, label, raw, col)


def _draft_file(path: str, sheet: str | None, raw: RawTable, table: str | None) -> dict[str, Any]:
    """The file entry of one raw table: every column with its drafted action."""
    columns: dict[str, dict[str, Any]] = {}
    by_raw = _pair_columns(raw, table)
    currency_col = next((r for r, c in by_raw.items() if c.canonical == "currency"), None)
    for col in raw.data.columns:
        name = str(col)
        label = raw.variable_labels.get(col)
        entry = _fixed_entry(name, table) or _column_entry(
            col, raw, table, by_raw=by_raw, currency_col=currency_col
        )
        if label:
            entry["label"] = label
        columns[name] = entry
    out: dict[str, Any] = {"path": path}
    if sheet is not None:
        out["sheet"] = sheet
    out["table"] = table or "TODO: households | members | loans | migration_episodes"
    if "_index" in columns:
        out["row_key"] = "_index"
    out["columns"] = columns
    return out


def _mapped_entry(
    name: str, cand: _Candidate, table: str, raw: RawTable, currency_col: str | None
) -> dict[str, Any]:
    canonical = cand.canonical
    if canonical in KEYS:
        return {"action": "key", "canonical": canonical, "review": f"pre-mapped: {cand.why}"}
    fld = CANONICAL_TABLES[table].field(canonical)
    entry: dict[str, Any] = {"action": "map", "canonical": canonical}
    notes = [f"pre-mapped: {cand.why}"]
    native = {"1", "0", "true", "false", "yes", "no", "y", "n"}
    needs_map = fld.allowed is not None or canonical == "currency"
    if fld.type == "bool":  # 1/0, yes/no, true/false are read without a map
        distinct = _distinct(raw, name) or []
        needs_map = bool(raw.value_labels.get(name)) or any(
            v.lower() not in native for v in distinct
        )
    if needs_map:
        values, fixes, unmatched = _value_map(fld, raw, name)
        if fld.type == "bool":
            values = {k: v for k, v in values.items() if isinstance(v, bool)}
        if values:
            entry["values"] = values
        if fixes:
            entry["fixes"] = fixes
            notes.append(f"{len(fixes)} near-miss value(s) proposed as fixes")
        if unmatched:
            notes.append(
                f"value(s) {unmatched[:5]} not matched to an allowed value of {canonical}: "
                "add them to `values`"
            )
    is_money = canonical.endswith("_usd") or canonical == "principal"
    if is_money and fld.type == "float":
        cur, why = _currency_guess(name, raw, name, currency_col if table == "loans" else None)
        entry.update(cur)
        notes.append(why)
    scale = _scale_guess(name, canonical, raw, name)
    if scale is not None:
        entry["scale"] = scale[0]
        notes.append(f"scale {scale[0]}: {scale[1]}")
    if canonical in SUB_DISTRICT_CODES:
        entry["pseudonymise"] = True
        notes.append(
            "geographic code below district level: pseudonymised (keyed hash) so the raw code "
            "never reaches the processed layer"
        )
    entry["review"] = "; ".join(notes)
    return entry


def guess_wave(names: list[str]) -> int | None:
    """A wave number written in file or directory names (``wave2``, ``w2``, ``endline``).

    Examples
    --------
    >>> guess_wave(["data/wave2/hh.dta"]), guess_wave(["baseline.csv"]), guess_wave(["x.csv"])
    (2, 1, None)
    """
    for name in names:
        for token in _tokens(name):
            m = re.fullmatch(r"(?:wave|w|round|r)(\d)", token)
            if m:
                return int(m.group(1))
            if token in ("baseline",):
                return 1
            if token in ("endline", "followup"):
                return 2
    return None


def _interview_year(raw: RawTable) -> int | None:
    """The commonest year of a date-like column (for ``constants: {interview_year: ...}``)."""
    for col in raw.data.columns:
        if _norm(str(col)) in (
            "date",
            "interview_date",
            "today",
            "start",
            "int_date",
            "submission",
        ):
            years = pd.to_datetime(raw.data[col], errors="coerce", format="mixed").dt.year.dropna()
            if not years.empty:
                return int(years.mode().iloc[0])
    return None


def draft_codebook(
    raws: Mapping[FileKey, RawTable],
    *,
    source: str,
    fmt: str,
    wave: int = 1,
) -> dict[str, Any]:
    """Draft one codebook (a plain mapping, ready for YAML) for the raw tables of one source.

    Examples
    --------
    >>> raw = RawTable(pd.DataFrame({"hhid": ["a"], "sex": ["female"], "resp_name": ["x"]}),
    ...                file="members.csv")
    >>> d = draft_codebook({("members.csv", None): raw}, source="a", fmt="csv")
    >>> cols = d["files"][0]["columns"]
    >>> d["files"][0]["table"], cols["sex"]["canonical"], cols["resp_name"]["action"]
    ('members', 'sex', 'pii')
    """
    files = []
    main_sheet: str | None = None
    for (path, sheet), raw in raws.items():
        table = _guess_table(path, sheet, raw)
        entry = _draft_file(path, sheet, raw, table)
        cols = entry["columns"]
        if "_parent_index" in cols and main_sheet is not None:
            entry["parent"] = {"sheet": main_sheet, "key": "_parent_index", "parent_key": "_index"}
        elif main_sheet is None and sheet is not None:
            main_sheet = sheet
        mapped = {v.get("canonical") for v in entry["columns"].values()}
        if table == "households" and "interview_year" not in mapped:
            year = _interview_year(raw)
            if year is not None:
                entry["constants"] = {"interview_year": year}
                entry["review"] = (
                    f"interview_year {year}: the commonest year of the interview dates; check"
                )
            else:
                entry["review"] = (
                    "no interview year: add `constants: {interview_year: YYYY}` (needed to "
                    "convert riel and baht with the dated exchange rates)"
                )
        if table in ("members", "loans") and "parent" not in entry:
            seq = "member_id" if table == "members" else "loan_id"
            if seq not in mapped:
                entry["sequence"] = seq
        files.append({k: entry[k] for k in _FILE_ORDER if k in entry})
    return {
        "codebook_version": 1,
        "survey": "TODO: the survey's name (shown in captions, the brief and the index)",
        "source": source,
        "description": "TODO: describe the source (survey firm, wave, dates)",
        "wave": wave,
        "format": fmt,
        "synthetic": False,
        "special_codes": {-99: "refused", -98: "dont_know"},
        "files": files,
    }


_FILE_ORDER = (
    "path",
    "sheet",
    "table",
    "review",
    "row_key",
    "parent",
    "sequence",
    "constants",
    "columns",
)


def draft_summary(draft: Mapping[str, Any]) -> dict[str, int]:
    """Counts of a draft's columns: pre-mapped (``map``/``key`` with a ``review:`` marker),
    ``pii``, structure (links, meta), ``unused`` and left to decide (TODO).

    Examples
    --------
    >>> draft_summary({"files": [{"columns": {"a": {"action": "key", "review": "x"},
    ...     "b": {"action": "pii"}, "c": {"action": "unused", "reason": "TODO: map"}}}]})
    {'columns': 3, 'mapped': 1, 'pii': 1, 'structure': 0, 'unused': 0, 'todo': 1}
    """
    out = {"columns": 0, "mapped": 0, "pii": 0, "structure": 0, "unused": 0, "todo": 0}
    for f in draft.get("files", []):
        for spec in f.get("columns", {}).values():
            out["columns"] += 1
            action = spec.get("action")
            if action in ("map", "key"):
                out["mapped"] += 1
            elif action == "pii":
                out["pii"] += 1
            elif action in ("link", "parent_key", "meta"):
                out["structure"] += 1
            elif str(spec.get("reason", "")).startswith("TODO"):
                out["todo"] += 1
            else:
                out["unused"] += 1
    return out
