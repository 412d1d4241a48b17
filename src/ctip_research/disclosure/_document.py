"""Rules for documents (brief, notebooks, index): built only from checked parts, every number
on the page traced to an artefact and value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ctip_research.disclosure._common import check, header
from ctip_research.disclosure._frames import upstream_check
from ctip_research.disclosure._policy import DisclosurePolicy

#: Spelled-out numbers (cardinal, ordinal, multiplicative) that count as numbers on a page.
NUMBER_WORDS: tuple[str, ...] = tuple(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred thousand million billion dozen half once twice thrice double triple "
    "first second third fourth fifth sixth seventh eighth ninth tenth".split()
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_WORDS = re.compile(r"(?<![\w])(" + "|".join(NUMBER_WORDS) + r")(?![\w])", re.IGNORECASE)


def number_tokens(text: str) -> list[str]:
    """Every number in ``text``: digit groups (``3,995``, ``8.5``) and number words (lower case).

    Examples
    --------
    >>> number_tokens("Two waves, 3,995 households; 95% CI 8.5 to -2.0 (eight provinces).")
    ['3,995', '95', '8.5', '2.0', 'two', 'eight']
    """
    digits = [m.group(0).rstrip(".,") for m in _DIGITS.finditer(text)]
    words = [m.group(1).lower() for m in _WORDS.finditer(text)]
    return digits + words


def untraced_tokens(text: str, trace: Sequence[Mapping[str, Any]]) -> list[str]:
    """Numbers in ``text`` not covered by ``trace`` (each entry covers the numbers of its text).

    Coverage counts occurrences: a number printed twice needs two trace entries (or one entry
    whose text holds it twice).
    """
    have = Counter(t for entry in trace for t in number_tokens(str(entry.get("text", ""))))
    need = Counter(number_tokens(text))
    missing: list[str] = []
    for token, n in need.items():
        if n > have.get(token, 0):
            missing += [token] * (n - have.get(token, 0))
    return missing


def verify_document(
    policy: DisclosurePolicy,
    *,
    name: str,
    parts: Sequence[Mapping[str, Any]],
    blocks: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Check a document: its parts' records passed and (with ``blocks``) every number is traced.

    ``blocks`` are the document's pieces of text as printed (``id``, ``text``, ``trace``: one
    entry per traced value with its printed ``text``, ``source`` and locator).
    """
    checks = [upstream_check(parts)]
    if blocks:
        untraced = {
            str(b.get("id", i)): untraced_tokens(str(b["text"]), b.get("trace", []))
            for i, b in enumerate(blocks)
        }
        untraced = {k: v for k, v in untraced.items() if v}
        sourceless = sum(
            1 for b in blocks for e in b.get("trace", []) if not str(e.get("source", "")).strip()
        )
        n_numbers = sum(len(number_tokens(str(b["text"]))) for b in blocks)
        checks.append(
            check(
                "traceability",
                sum(len(v) for v in untraced.values()),
                f"all {n_numbers} numbers printed are traced to an artefact and a value"
                + (f"; untraced: {untraced}" if untraced else ""),
            )
        )
        checks.append(
            check("trace_sources", sourceless, "every traced value names its source artefact")
        )
    return {
        **header(policy, name, "document"),
        "passed": all(c["passed"] for c in checks),
        "n_parts": len(parts),
        "n_blocks": len(blocks),
        "checks": checks,
    }
