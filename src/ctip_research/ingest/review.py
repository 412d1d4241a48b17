"""Values for review: labels a codebook does not document and numbers that look like codes.

Two findings that no codebook can list in advance, because nobody has seen them yet:

* **an unknown label** in a column with a value map (``Batambang`` where the form's choice
  list says ``Battambang``). :func:`propose_label` names the documented label it is a near miss
  of (one keying slip: a letter dropped, doubled, swapped or changed, the case or a separator
  changed), if exactly one is that close. The proposal is never applied: the reviewer adds it to
  the codebook's ``fixes``.
* **a code-like number** in a numeric column (``-97``, ``99`` for an age, ``999999`` for an
  amount not known) that the codebook's ``special_codes`` do not list. :func:`find_code_like`
  marks a value that has the shape of a code (a run of nines, eights or sevens, possibly ending
  in 7 or 8, or -1) and either is negative in a column that cannot be negative or is *heaped*:
  it occurs at least ``min_count`` times and at least ``heaping_ratio`` times as often as the
  values around it (within 10%). A real amount or age is not heaped on 99 or 999999; a code is.

Both are pure functions on raw values; ingest records their hits in the long table
``review_values.parquet`` (:data:`REVIEW_COLUMNS`) and clean reports them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "REVIEW_KINDS",
    "find_code_like",
    "is_code_like",
    "propose_label",
    "review_proposals",
]

#: What a row of ``review_values.parquet`` is: an unknown label of a value-mapped column, or a
#: number that looks like an undocumented special code.
REVIEW_KINDS = ("unknown_label", "code_like")

_POSITIVE_CODE = re.compile(r"^(?:9+[78]?|8{2,}|7{2,})$")
_SEPARATORS = re.compile(r"[\s_\-./]+")


def _norm(label: str) -> str:
    return _SEPARATORS.sub(" ", str(label).strip().lower()).strip()


def _osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions)."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def propose_label(label: Any, documented: Iterable[Any], *, cutoff: float = 0.8) -> str | None:
    """The documented label that ``label`` is a near miss of, or ``None``.

    Labels are compared without case and with blanks, underscores, hyphens, dots and slashes as
    one separator. A documented label is a near miss when it is equal after that, one edit away
    (a letter dropped, added, changed, or two neighbours swapped; labels of four characters or
    more), or when its :class:`difflib.SequenceMatcher` ratio is at least ``cutoff``. A proposal
    is made only when one documented label is closest (a tie gives none).

    Examples
    --------
    >>> choices = ["Battambang", "Banteay Meanchey", "Phnom Penh"]
    >>> propose_label("Batambang", choices), propose_label("phnom_penh", choices)
    ('Battambang', 'Phnom Penh')
    >>> propose_label("Kampong Som", choices) is None
    True
    """
    raw = _norm(label)
    if not raw:
        return None
    best: list[tuple[int, float, str]] = []
    for doc in dict.fromkeys(str(d) for d in documented):
        target = _norm(doc)
        if not target:
            continue
        dist = _osa_distance(raw, target)
        ratio = difflib.SequenceMatcher(None, raw, target).ratio()
        close = dist == 0 or (dist == 1 and min(len(raw), len(target)) >= 4) or ratio >= cutoff
        if close:
            best.append((dist, -ratio, doc))
    if not best:
        return None
    best.sort()
    if len(best) > 1 and best[0][:2] == best[1][:2]:
        return None
    return best[0][2]


def is_code_like(value: float) -> bool:
    """Whether a number has the shape of a special code: a run of nines (possibly ending in 7
    or 8: 97, 98, 999, 9998), of eights or of sevens, at least two digits, either sign; or -1.

    Examples
    --------
    >>> [is_code_like(v) for v in (99, -97, 999999, 88, -1, 9, 100, 1999, 0.99)]
    [True, True, True, True, True, False, False, False, False]
    """
    if not np.isfinite(value) or value != int(value):
        return False
    if value == -1:
        return True
    digits = str(abs(int(value)))
    return len(digits) >= 2 and bool(_POSITIVE_CODE.match(digits))


def find_code_like(
    values: pd.Series,
    *,
    nonnegative: bool,
    min_count: int,
    heaping_ratio: float,
) -> pd.Series:
    """Why each value looks like an undocumented special code (``None`` where it does not).

    A code-like value (:func:`is_code_like`) is reported when it is negative in a column that
    cannot be negative, or when it is heaped: at least ``min_count`` rows hold exactly it, and
    at least ``heaping_ratio`` times as many as the average value within 10% of it (other
    code-like values left out of that average; with no neighbour, the average is 1).

    Parameters
    ----------
    values
        Raw values of one numeric column (text is read as numbers; special codes already
        removed).
    nonnegative
        Whether the column's canonical values cannot be negative.
    min_count, heaping_ratio
        The heaping rule.

    Examples
    --------
    >>> ages = pd.Series([30, 41, 52, 99, 99, 99, 63, 99, -97, 70])
    >>> find_code_like(ages, nonnegative=True, min_count=3, heaping_ratio=3).notna().tolist()
    [False, False, False, True, True, True, False, True, True, False]
    """
    num = pd.to_numeric(values, errors="coerce").astype(float)
    out = pd.Series([None] * len(num), index=num.index, dtype=object)
    present = num.dropna()
    if present.empty:
        return out
    counts = present.value_counts()
    code_like = pd.Index([v for v in counts.index if is_code_like(float(v))])
    if code_like.empty:
        return out
    plain = counts.drop(index=code_like)
    for v in code_like:
        v = float(v)
        n = int(counts[v])
        if v < 0 and nonnegative:
            why = "a code-like negative number in a column that cannot be negative"
        else:
            lo, hi = sorted((v * 0.9, v * 1.1))
            near = plain[(plain.index >= lo) & (plain.index <= hi)]
            typical = float(near.mean()) if len(near) else 1.0
            if n < min_count or n < heaping_ratio * typical:
                continue
            why = (
                f"a code-like number heaped in its column: {n} rows, {n / typical:,.0f} times "
                "the values near it"
            )
        out[(num == v).to_numpy()] = why
    return out


def review_proposals(review: pd.DataFrame) -> dict[str, Any]:
    """Codebook additions proposed by the review table, per source, file and raw column.

    ``fixes`` lists each unknown label with the documented label it is a near miss of;
    ``unknown`` the unknown labels with no proposal; ``special_codes`` the code-like numbers,
    with the rows found and a TODO for the reason. Nothing here is applied: a reviewer copies
    what is right into the codebook.

    Examples
    --------
    >>> r = pd.DataFrame({"source": ["s", "s"], "file": ["a.csv", "a.csv"], "sheet": [None, None],
    ...     "raw_column": ["prov", "age"], "kind": ["unknown_label", "code_like"],
    ...     "value": ["Batambang", "99"], "proposal": ["Battambang", None]})
    >>> review_proposals(r)["s"]["a.csv"]
    {'age': {'special_codes': {'99': 'TODO: reason (1 row)'}}, 'prov': {'fixes': {'Batambang': 'Battambang'}}}
    """
    out: dict[str, Any] = {}
    if review is None or review.empty:
        return out
    df = review.astype({"source": object, "file": object, "raw_column": object, "value": object})
    sheet = df["sheet"].astype(object) if "sheet" in df.columns else pd.Series(None, df.index)
    df = df.assign(
        where=[
            f if pd.isna(s) else f"{f} [sheet {s}]" for f, s in zip(df["file"], sheet, strict=True)
        ]
    )
    for (src, where, col), g in df.groupby(["source", "where", "raw_column"], sort=True):
        entry: dict[str, Any] = {}
        labels = g[g["kind"] == "unknown_label"]
        fixes = {
            str(v): str(p)
            for v, p in zip(labels["value"], labels["proposal"], strict=True)
            if pd.notna(p)
        }
        unknown = sorted(
            {str(v) for v, p in zip(labels["value"], labels["proposal"], strict=True) if pd.isna(p)}
        )
        codes = g[g["kind"] == "code_like"]["value"].astype(str).value_counts()
        if fixes:
            entry["fixes"] = dict(sorted(fixes.items()))
        if unknown:
            entry["unknown"] = unknown
        if len(codes):
            entry["special_codes"] = {
                str(v): f"TODO: reason ({int(n)} row{'s' if n > 1 else ''})"
                for v, n in sorted(codes.items())
            }
        out.setdefault(str(src), {}).setdefault(str(where), {})[str(col)] = entry
    return out
