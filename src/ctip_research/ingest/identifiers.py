"""Value-level identifier detection: a handful of identifying values in an otherwise clean column.

The column scan of :mod:`ctip_research.ingest.pii` judges a column by shares (more than 80%
unique, more than half phone-like); a few respondent names typed into an enumerator-code column,
or one phone number in a village field, pass it. :func:`scan_identifier_values` looks at every
value of every mapped column of a source's raw tables, before anything is written:

* ``phone``: a Cambodian phone number (``0`` or ``+855``/``855``, a two-digit operator or area
  code, six or seven digits, with or without blanks, dots or hyphens) or any number written
  with a ``+`` country code, anywhere in a text value; in a number column, a text value with a
  leading ``0`` or ``+`` that reads as one (an amount is never written so);
* ``id_number``: a run of nine or more digits inside a text or code value (Cambodian national
  identity cards carry nine digits; a number column is exempt: amounts in riel reach nine
  digits);
* ``email``: an e-mail address anywhere in a text value;
* ``name``: a value of a column the codebook marks ``pii`` (names of respondents, household
  heads, contacts) in the same source appearing in another column, whole or as words inside
  free text ("contact Sok Dara");
* ``free_text``: several words in a code column (a declared text column without allowed values
  and without a value map, such as ``enumerator_id``, ``psu_id``, ``stratum_id``), or in a
  categorical column whose allowed values are single codes.

A hit is reported by file, column, rule and row numbers, never by value. A canonical column
listed in the codebook's ``pii_waivers`` (with a reason) is not scanned.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from ctip_research.ingest.codebook import Codebook, FileKey, FileSpec
from ctip_research.ingest.pii import text_mask
from ctip_research.ingest.readers import RawTable
from ctip_research.schemas import CANONICAL_TABLES

__all__ = ["IdentifierHit", "format_hits", "scan_identifier_values"]

_SEP = r"[\s.\-]?"
#: Cambodian numbers: 0 or (+)855 (optionally followed by the trunk 0), two-digit operator or
#: area code, then 6-7 digits; any number written with "+" and a country code.
_PHONE_KH = rf"(?:\+?855{_SEP}0?|0)[1-9]\d{_SEP}\d{{3}}{_SEP}\d{{3,4}}"
_PHONE_INTL = r"\+\d{1,3}[\s.\-]?\d(?:[\s.\-]?\d){6,13}"
_PHONE_ANYWHERE = re.compile(rf"(?<![\d+])(?:{_PHONE_KH}|{_PHONE_INTL})(?!\d)")
_PHONE_WHOLE = re.compile(rf"^\s*(?:{_PHONE_KH}|{_PHONE_INTL})\s*$")
_ID_NUMBER = re.compile(r"(?<!\d)\d{9,}(?!\d)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_RULE_TEXT = {
    "phone": "look like a phone number",
    "id_number": "hold a long digit run like an ID-card number",
    "email": "hold an e-mail address",
    "name": "hold a value of an identifying (pii) column",
    "free_text": "are free text (several words) where a code is expected",
}
_MAX_ROWS_SHOWN = 8


@dataclass(frozen=True)
class IdentifierHit:
    """Identifying values found in one raw column by one rule (rows as a user sees them)."""

    file: str
    column: str
    rule: str
    rows: tuple[int, ...]
    detail: str = ""


def _norm(text: str) -> str:
    """Casefolded NFC text with blanks collapsed (for comparing names)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


_NOT_ASCII_LETTER = re.compile(r"[^A-Za-z]+")


def _is_name_like(text: str) -> bool:
    """A pii value worth looking for elsewhere: mostly letters, at least three of them (not a
    timestamp, a device id or a code).
    """
    visible = len("".join(text.split()))  # str.split() splits on exactly the isspace() chars
    if text.isascii():  # no combining marks; the letters are A-Z and a-z
        letters = len(_NOT_ASCII_LETTER.sub("", text))
    else:
        letters = sum(ch.isalpha() or unicodedata.category(ch).startswith("M") for ch in text)
    return letters >= 3 and letters * 2 >= visible


def _pii_values(cb: Codebook, raws: Mapping[FileKey, RawTable]) -> dict[str, set[str]]:
    """Normalised text value of every ``pii`` column of the source -> the columns holding it."""
    names: dict[str, set[str]] = {}
    for f in cb.files:
        raw = raws.get(f.key)
        if raw is None:
            continue
        for col, spec in f.columns.items():
            if spec.action != "pii" or col not in raw.data.columns:
                continue
            for v in raw.data[col].dropna().unique():
                if isinstance(v, str) and _is_name_like(v):
                    names.setdefault(_norm(v), set()).add(col)
    return names


def _name_in(text: str, names: Mapping[str, set[str]], longest: int) -> set[str]:
    """The pii columns whose values ``text`` is, or holds as whole words."""
    words = _norm(text).split()
    found: set[str] = set()
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + longest) + 1):
            found |= names.get(" ".join(words[i:j]), set())
    return found


def _word_count(text: str) -> int:
    """Blank-separated words that contain a letter."""
    return sum(any(ch.isalpha() for ch in w) for w in text.split())


def _code_column(f: FileSpec, canonical: str) -> tuple[str, tuple[str | int, ...] | None] | None:
    """(type, allowed values) of a canonical column, or ``None`` if it is not declared."""
    table = CANONICAL_TABLES.get(f.table)
    if table is None or canonical not in table.columns:
        return None
    fld = table.field(canonical)
    return fld.type, fld.allowed


def _pattern_rules(
    s: str,
    *,
    ftype: str,
    has_value_map: bool,
    free_text_checked: bool,
    allowed_norm: set[str],
) -> list[str]:
    """The pattern rules (phone, id number, email, free text) one distinct value breaks."""
    hit: list[str] = []
    if ftype in ("int", "float", "bool") and not has_value_map:
        if _PHONE_WHOLE.match(s) and s.strip()[:1] in ("0", "+"):
            hit.append("phone")
        return hit
    if _PHONE_ANYWHERE.search(s):
        hit.append("phone")
    elif _ID_NUMBER.search(s):
        hit.append("id_number")
    if _EMAIL.search(s):
        hit.append("email")
    if free_text_checked and _word_count(s) >= 2 and _norm(s) not in allowed_norm:
        hit.append("free_text")
    return hit


def _scan_column(
    values: pd.Series,
    *,
    ftype: str,
    allowed: tuple[str | int, ...] | None,
    has_value_map: bool,
    names: Mapping[str, set[str]],
    longest_name: int,
    sources: set[str],
) -> dict[str, list[int]]:
    """Rule -> positions (0-based) of hits among ``values``; ``sources`` collects the pii
    columns whose values were found.
    """
    text = values[text_mask(values)]
    if text.empty:
        return {}
    uniques = pd.unique(text.to_numpy())
    rules_of: dict[str, list[str]] = {}
    multiword_allowed = allowed is not None and any(
        isinstance(a, str) and len(a.split()) > 1 for a in allowed
    )
    allowed_norm = {_norm(str(a)) for a in allowed} if allowed is not None else set()
    for u in uniques:
        s = str(u)
        hit = _pattern_rules(
            s,
            ftype=ftype,
            has_value_map=has_value_map,
            free_text_checked=ftype == "str" and not has_value_map and not multiword_allowed,
            allowed_norm=allowed_norm,
        )
        if names:
            found = _name_in(s, names, longest_name)
            if found:
                hit.append("name")
                sources |= found
        if hit:
            rules_of[s] = hit
    if not rules_of:
        return {}
    out: dict[str, list[int]] = {}
    positions = pd.Series(range(len(values)), index=values.index)
    for pos, v in zip(positions[text.index], text, strict=True):
        for rule in rules_of.get(str(v), ()):
            out.setdefault(rule, []).append(int(pos))
    return out


def scan_identifier_values(
    cb: Codebook,
    raws: Mapping[FileKey, RawTable],
    *,
    waived: Iterable[str] = (),
) -> list[IdentifierHit]:
    """Find identifying values in the mapped columns of a source's raw tables.

    Parameters
    ----------
    cb
        The source's codebook.
    raws
        Its raw tables by (path, sheet).
    waived
        Canonical columns not to scan (besides the codebook's ``pii_waivers``).

    Returns
    -------
    list of IdentifierHit
        One per (file, column, rule); empty when nothing was found.

    Examples
    --------
    >>> from ctip_research.ingest.codebook import parse_codebook
    >>> cb = parse_codebook({"codebook_version": 1, "source": "s", "wave": 1, "format": "csv",
    ...     "files": [{"path": "a.csv", "table": "households", "columns": {
    ...         "id": {"action": "key", "canonical": "household_id"},
    ...         "resp": {"action": "pii", "reason": "respondent name"},
    ...         "enum": {"action": "map", "canonical": "enumerator_id"}}}]})
    >>> raw = RawTable(pd.DataFrame({"id": ["1", "2", "3"], "resp": ["Sok Dara", "Keo Mala", "x"],
    ...                              "enum": ["E01", "Keo Mala", "call 012 345 678"]}), file="a.csv")
    >>> [(h.column, h.rule, h.rows) for h in scan_identifier_values(cb, {("a.csv", None): raw})]
    [('enum', 'phone', (4,)), ('enum', 'free_text', (3,)), ('enum', 'name', (3,))]
    """
    skip = set(waived) | {k for k, v in cb.pii_waivers.items() if v and str(v).strip()}
    names = _pii_values(cb, raws)
    longest = max((len(n.split()) for n in names), default=0)
    hits: list[IdentifierHit] = []
    for f in cb.files:
        raw = raws.get(f.key)
        if raw is None:
            continue
        where = f.path + (f" [sheet {f.sheet}]" if f.sheet else "")
        for col, spec in f.columns.items():
            if spec.action != "map" or not spec.canonical or col not in raw.data.columns:
                continue
            if spec.canonical in skip:
                continue
            declared = _code_column(f, spec.canonical)
            if declared is None:
                continue  # an undeclared canonical name: reported by the codebook check
            ftype, allowed = declared
            sources: set[str] = set()
            found = _scan_column(
                raw.data[col].astype(object),
                ftype=ftype,
                allowed=allowed,
                has_value_map=bool(spec.values),
                names=names,
                longest_name=longest,
                sources=sources,
            )
            rows = raw.rows.to_numpy()
            for rule in ("phone", "id_number", "email", "free_text", "name"):
                if rule in found:
                    detail = f" {sorted(sources)}" if rule == "name" else ""
                    hits.append(
                        IdentifierHit(
                            where, col, rule, tuple(int(rows[p]) for p in found[rule]), detail
                        )
                    )
    return hits


def format_hits(hits: Iterable[IdentifierHit]) -> list[str]:
    """One line per hit: file, column, count, rule, rows; never a value.

    Examples
    --------
    >>> format_hits([IdentifierHit("a.csv", "enum", "phone", (4, 9))])
    ["a.csv, column 'enum': 2 value(s) look like a phone number at row(s) [4, 9]"]
    """
    lines = []
    for h in hits:
        shown = list(h.rows[:_MAX_ROWS_SHOWN])
        more = len(h.rows) - len(shown)
        text = _RULE_TEXT[h.rule] + (f" {h.detail.strip()}" if h.detail else "")
        lines.append(
            f"{h.file}, column {h.column!r}: {len(h.rows)} value(s) {text} at row(s) {shown}"
            + (f" and {more} more" if more > 0 else "")
        )
    return lines
