"""PII scan of a table: name-like column names and identifying value patterns.

The rules follow IPA's PII detection and J-PAL's PII-Scan (the project's data-protection rules, README 'Privacy'):

* a column name containing a name-like term (J-PAL's list of about 50 terms, the Kobo/ODK
  metadata fields, and Khmer / romanised Khmer equivalents);
* a text column whose non-missing values are more than 80% unique (free text, names);
* a text column in which more than half of the values look like a phone number (Cambodian
  ``+855`` / ``0``-prefixed formats and generic long digit strings), an e-mail address or a date;
* a datetime column (exact dates can identify).

:func:`scan_pii` returns the hits as a tidy table; :func:`check_pii` raises
:class:`~ctip_research.errors.PrivacyError` for every hit not waived with a reason. Messages name
the table, the column and the rule, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ctip_research.errors import PrivacyError

__all__ = [
    "JPAL_PII_TERMS",
    "KHMER_PII_TERMS",
    "KOBO_METADATA_FIELDS",
    "check_pii",
    "is_name_like",
    "scan_pii",
]

#: J-PAL PII-Scan search terms (variable names likely to hold identifying information).
JPAL_PII_TERMS: tuple[str, ...] = (
    "address",
    "bday",
    "beneficiary",
    "birth",
    "birthday",
    "block",
    "census",
    "child",
    "city",
    "community",
    "compound",
    "coord",
    "country",
    "daughter",
    "degree",
    "district",
    "dob",
    "email",
    "father",
    "fax",
    "first_name",
    "fname",
    "gender",
    "gps",
    "house",
    "husband",
    "last_name",
    "lat",
    "lname",
    "loc",
    "location",
    "lon",
    "minute",
    "mother",
    "municipality",
    "name",
    "network",
    "panchayat",
    "parish",
    "phone",
    "precinct",
    "school",
    "second",
    "sex",
    "social",
    "spouse",
    "street",
    "subcounty",
    "surname",
    "telephone",
    "village",
    "ward",
    "wife",
    "zip",
)
#: Strong identifier terms checked in addition to J-PAL's list (GPS parts, ids, contact).
EXTRA_PII_TERMS: tuple[str, ...] = (
    "latitude",
    "longitude",
    "altitude",
    "precision",
    "mobile",
    "cell",
    "passport",
    "national_id",
    "nid",
    "idcard",
    "respondent",
    "nickname",
    "contact",
    "signature",
    "photo",
    "imei",
    "comment",
    "comments",
    "notes",
    "remarks",
    "other_specify",
    "specify",
)
#: KoboToolbox / ODK metadata fields (device ids, user names, timestamps, audit, uuids).
KOBO_METADATA_FIELDS: tuple[str, ...] = (
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "start",
    "end",
    "today",
    "_submitted_by",
    "_uuid",
    "instanceid",
    "_submission__uuid",
    "meta/instanceid",
    "meta/instancename",
    "formhub/uuid",
    "__version__",
    "_version_",
    "_validation_status",
    "_notes",
    "_status",
    "_geolocation",
    "_attachments",
    "_tags",
)
#: Khmer script terms (substring match) and romanised equivalents (token match): name,
#: telephone / phone number, address, village, date of birth, e-mail.
KHMER_PII_TERMS: tuple[str, ...] = (
    "ឈ្មោះ",
    "ទូរស័ព្ទ",
    "លេខទូរស័ព្ទ",
    "អាសយដ្ឋាន",
    "ភូមិ",
    "ថ្ងៃខែឆ្នាំកំណើត",
    "កំណើត",
    "អ៊ីមែល",
)
ROMANISED_KHMER_TERMS: tuple[str, ...] = (
    "chhmoh",
    "chhmuoh",
    "chmuos",
    "chhmuos",
    "chmous",
    "tourasap",
    "toursap",
    "tursap",
    "turosab",
    "lekturosab",
    "asayathan",
    "phum",
    "phoum",
    "kamnaeut",
    "kamnert",
    "email",
)

_TOKEN_TERMS = frozenset(JPAL_PII_TERMS + EXTRA_PII_TERMS + ROMANISED_KHMER_TERMS)
_COMPOUND_TERMS = tuple(t for t in _TOKEN_TERMS if "_" in t)

# Cambodian numbers (+855 or 0, then an 2-digit operator/area code and 6-7 digits) and any
# international number written with "+"; 8-digit NIS village codes ("02010101") do not match.
_PHONE = re.compile(r"^(?:\+?855[\s.-]?|0)\d{2}[\s.-]?\d{3}[\s.-]?\d{3,4}$|^\+\d[\d\s.-]{7,14}\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_DATE = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?:[ T]\d{1,2}:\d{2}.*)?$"
)


def is_name_like(column: str) -> str | None:
    """Return the PII term a column name matches, or ``None``.

    Names are split into tokens on anything that is not a letter or a digit (Kobo group
    prefixes like ``hh/respondent_name`` give ``hh``, ``respondent``, ``name``); a token equal
    to a term, a compound term (``first_name``) inside the name, a Kobo metadata field name, a
    GPS suffix or a Khmer term inside the name is a hit.

    Examples
    --------
    >>> is_name_like("hh/head_name")
    'name'
    >>> is_name_like("_hh_gps_latitude")
    'gps'
    >>> is_name_like("income_farm_usd") is None
    True
    """
    lower = column.lower()
    if lower in KOBO_METADATA_FIELDS or lower.rsplit("/", 1)[-1] in KOBO_METADATA_FIELDS:
        return lower.rsplit("/", 1)[-1]
    for term in KHMER_PII_TERMS:
        if term in column:
            return term
    for term in _COMPOUND_TERMS:
        if term in lower:
            return term
    for token in re.split(r"[^0-9a-z]+", lower):
        if token in _TOKEN_TERMS:
            return token
    return None


def text_mask(values: pd.Series) -> np.ndarray:
    """Which values are text (``str``), as a boolean array; a column of text and missing values
    is recognised at C speed instead of one Python call per row.

    Examples
    --------
    >>> text_mask(pd.Series(["a", None, 3, "b"], dtype=object)).tolist()
    [True, False, False, True]
    """
    if isinstance(values.dtype, pd.StringDtype) or (
        values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string"
    ):
        return values.notna().to_numpy(dtype=bool)
    return np.fromiter(
        (isinstance(v, str) for v in values.to_numpy(dtype=object)), bool, len(values)
    )


def _text_values(series: pd.Series) -> pd.Series | None:
    if isinstance(series.dtype, pd.StringDtype) or series.dtype == object:
        values = series.dropna()
        return values[text_mask(values)].astype(str).str.strip()
    return None


def scan_pii(
    df: pd.DataFrame,
    *,
    unique_share: float = 0.8,
    pattern_share: float = 0.5,
    min_values: int = 20,
    check_names: bool = True,
    reviewed_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """Scan ``df`` for likely personal identifiers; return one row per hit.

    Parameters
    ----------
    df
        The table to scan.
    unique_share
        A text column whose non-missing values are more than this share unique is a hit.
    pattern_share
        A text column in which more than this share of values look like a phone number, an
        e-mail address or a date is a hit.
    min_values
        The uniqueness rule needs at least this many non-missing values (a 3-row table is
        always 100% unique).
    check_names
        Apply the name-like column-name rule.
    reviewed_columns
        Columns exempt from the column-name rule only (the declared canonical columns: reviewed
        names such as ``district_code``); their values are still scanned.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``rule`` (``name_like``, ``high_uniqueness``, ``phone``, ``email``,
        ``date``, ``datetime_column``) and ``detail``; no values.

    Examples
    --------
    >>> df = pd.DataFrame({"phone_number": ["012 345 678"] * 3, "n": [1, 2, 3]})
    >>> scan_pii(df)["rule"].tolist()
    ['name_like', 'phone']
    """
    reviewed = set(reviewed_columns)
    hits: list[dict[str, str]] = []
    for column in df.columns:
        name = str(column)
        series = df[column]
        if check_names and name not in reviewed:
            term = is_name_like(name)
            if term is not None:
                hits.append(
                    {
                        "column": name,
                        "rule": "name_like",
                        "detail": f"column name matches the PII term {term!r}",
                    }
                )
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            hits.append(
                {
                    "column": name,
                    "rule": "datetime_column",
                    "detail": "exact dates and times can identify",
                }
            )
            continue
        values = _text_values(series)
        if values is None or values.empty:
            continue
        n = len(values)
        share_unique = values.nunique() / n
        if n >= min_values and share_unique > unique_share:
            hits.append(
                {
                    "column": name,
                    "rule": "high_uniqueness",
                    "detail": f"{share_unique:.0%} of {n} text values are unique",
                }
            )
        # each distinct value matched once, weighted by how often it occurs
        counts = values.value_counts(sort=False)
        distinct = counts.index.to_series()
        for rule, pattern in (("phone", _PHONE), ("email", _EMAIL), ("date", _DATE)):
            share = int(counts[distinct.str.match(pattern).to_numpy(dtype=bool)].sum()) / n
            if share > pattern_share:
                hits.append(
                    {
                        "column": name,
                        "rule": rule,
                        "detail": f"{share:.0%} of {n} values look like a {rule}",
                    }
                )
    return pd.DataFrame(hits, columns=["column", "rule", "detail"])


def check_pii(
    df: pd.DataFrame,
    *,
    table: str,
    waivers: Mapping[str, str] | None = None,
    **scan_options: object,
) -> pd.DataFrame:
    """Raise :class:`~ctip_research.errors.PrivacyError` for every PII hit not waived.

    Parameters
    ----------
    df
        The table to scan.
    table
        Its name, for the message.
    waivers
        Column -> reason (e.g. ``{"household_id": "keyed hash"}``); a waiver without a reason is
        not a waiver.
    **scan_options
        Passed to :func:`scan_pii`.

    Returns
    -------
    pandas.DataFrame
        The waived hits (column, rule, detail, waiver), for the ledger.

    Examples
    --------
    >>> df = pd.DataFrame({"email": ["a@b.org", "c@d.org"]})
    >>> check_pii(df, table="t", waivers={"email": "test fixture"})["column"].tolist()
    ['email', 'email']
    """
    waivers = {k: v for k, v in (waivers or {}).items() if v and str(v).strip()}
    hits = scan_pii(df, **scan_options)  # type: ignore[arg-type]
    waived = hits["column"].isin(list(waivers))
    failing = hits[~waived]
    if not failing.empty:
        lines = [f"  - column {r.column!r}: {r.rule} ({r.detail})" for r in failing.itertuples()]
        raise PrivacyError(
            f"PII scan of table {table}: {len(lines)} likely identifier(s) not waived in the "
            "codebook:\n" + "\n".join(lines)
        )
    out = hits[waived].copy()
    out["waiver"] = out["column"].map(waivers)
    return out.reset_index(drop=True)
