"""Traced text: sentences filled from whole templates, every number with its source.

Published prose (the brief, figure captions and alt texts) is written only through :func:`fill`:
a template is one whole sentence (or caption sentence) with named placeholders, so it can be
translated as a unit (gettext msgid). Every number that goes into a placeholder is a
:class:`Traced` value: the text as printed, the value it was printed from, the artefact it was
read from and where in it. :func:`fill` refuses a template whose own words hold a number and a
plain-string placeholder that holds one, so a number can reach the page only with its source.

Sources are paths relative to the processed layer (``models/estimates.csv``,
``risk/metrics.json``, ``figures/<name>.data.csv``), ``params.yaml`` or ``package``; the locator
says where: ``row`` (column = value filters) and ``column`` for CSV files, ``path`` (dotted keys)
for JSON and params, ``derivation`` for a value computed from the source (e.g. a count of rows).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctip_research.disclosure import number_tokens
from ctip_research.i18n import localise_number, translate

__all__ = [
    "Text",
    "Traced",
    "count",
    "fill",
    "join",
    "level",
    "listing",
    "pct",
    "pp",
    "template",
    "traced_text",
]


def template(msgid: str) -> str:
    """The template of ``msgid`` in the output language (English: itself; otherwise the
    language's message catalogue, see :mod:`ctip_research.i18n`).
    """
    return translate(msgid)


@dataclass(frozen=True)
class Traced:
    """A value printed in published text, with where it was read from.

    Examples
    --------
    >>> t = pp(0.0853, "models/estimates.csv", row={"model": "m", "term": "x"}, column="estimate")
    >>> t.text, t.entry()["source"]
    ('8.5', 'models/estimates.csv')
    """

    text: str
    value: Any
    source: str
    locator: Mapping[str, Any] = field(default_factory=dict)
    format: str = "text"

    def entry(self) -> dict[str, Any]:
        """The trace entry (JSON-ready)."""
        return {
            "text": self.text,
            "value": self.value,
            "source": self.source,
            "format": self.format,
            **dict(self.locator),
        }


@dataclass(frozen=True)
class Text:
    """Filled text and the trace of every value in it."""

    text: str
    trace: tuple[dict[str, Any], ...] = ()

    def __str__(self) -> str:
        return self.text

    def block(self, block_id: str) -> dict[str, Any]:
        """The text as a document block (``id``, ``text``, ``trace``)."""
        return {"id": block_id, "text": self.text, "trace": list(self.trace)}


def _locator(
    row: Mapping[str, Any] | None, column: str | None, path: str | None, derivation: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if row is not None:
        out["row"] = {str(k): v for k, v in row.items()}
    if column is not None:
        out["column"] = column
    if path is not None:
        out["path"] = path
    if derivation is not None:
        out["derivation"] = derivation
    return out


def pp(
    value: float,
    source: str,
    *,
    row: Mapping[str, Any] | None = None,
    column: str | None = None,
    path: str | None = None,
    derivation: str | None = None,
    signed: bool = False,
) -> Traced:
    """A difference of shares printed in percentage points, one decimal (``0.0853 -> 8.5``;
    ``abs`` of the value unless ``signed``).
    """
    v = float(value)
    text = localise_number(f"{100 * (v if signed else abs(v)):.1f}".replace("-0.0", "0.0"))
    return Traced(
        text, v, source, _locator(row, column, path, derivation), "pp1" if signed else "abs_pp1"
    )


def pct(
    value: float,
    source: str,
    *,
    row: Mapping[str, Any] | None = None,
    column: str | None = None,
    path: str | None = None,
    derivation: str | None = None,
) -> Traced:
    """A share printed as a whole percentage (``0.364 -> 36%``)."""
    v = float(value)
    return Traced(
        localise_number(f"{100 * v:.0f}%"),
        v,
        source,
        _locator(row, column, path, derivation),
        "pct0",
    )


def level(
    value: float,
    source: str,
    *,
    row: Mapping[str, Any] | None = None,
    column: str | None = None,
    path: str | None = None,
) -> Traced:
    """A confidence level printed as a percentage (``0.9 -> 90%``; ``0.975 -> 97.5%``)."""
    v = float(value)
    text = localise_number(f"{100 * v:.1f}".rstrip("0").rstrip(".") + "%")
    return Traced(text, v, source, _locator(row, column, path, None), "level")


def count(
    value: float,
    source: str,
    *,
    row: Mapping[str, Any] | None = None,
    column: str | None = None,
    path: str | None = None,
    derivation: str | None = None,
) -> Traced:
    """A count printed with thousands separators (``3995 -> 3,995``)."""
    v = int(round(float(value)))
    return Traced(
        localise_number(f"{v:,}"), v, source, _locator(row, column, path, derivation), "count"
    )


def traced_text(
    text: str, source: str, *, path: str | None = None, derivation: str | None = None
) -> Traced:
    """A piece of text read from a source (a label, a title, a hash), printed as is."""
    return Traced(str(text), str(text), source, _locator(None, None, path, derivation), "text")


def _fields(tpl: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(tpl) if f]


def fill(msgid: str, **values: Traced | Text | str) -> Text:
    """Fill a whole-sentence template; every number must come from a :class:`Traced` value.

    Raises
    ------
    ValueError
        When the template's own words hold a number, a placeholder is missing or unused, or a
        plain-string value holds a number (all programming errors, caught by the tests).

    Examples
    --------
    >>> t = fill("{share} of households had {what}.", what="an MFI loan",
    ...          share=pct(0.39, "figures/x.data.csv", row={"indicator": "a"}, column="estimate"))
    >>> t.text, [e["text"] for e in t.trace]
    ('39% of households had an MFI loan.', ['39%'])
    """
    tpl = template(msgid)
    names = _fields(tpl)
    literal = string.Formatter().vformat(tpl, (), {n: "" for n in names})
    if number_tokens(literal):
        raise ValueError(f"template holds a number outside its placeholders: {msgid!r}")
    if set(names) != set(values):
        raise ValueError(
            f"template {msgid!r} needs {sorted(set(names))}, got {sorted(set(values))}"
        )
    texts: dict[str, str] = {}
    trace: list[dict[str, Any]] = []
    for n in names:
        if n in texts:
            continue
        v = values[n]
        if isinstance(v, Traced):
            texts[n] = v.text
        elif isinstance(v, Text):
            texts[n] = v.text
        else:
            if number_tokens(str(v)):
                raise ValueError(f"placeholder {n!r} of {msgid!r} holds an untraced number")
            texts[n] = str(v)
    for n in names:  # one trace entry per printed occurrence
        v = values[n]
        if isinstance(v, Traced):
            trace.append(v.entry())
        elif isinstance(v, Text):
            trace.extend(v.trace)
    return Text(tpl.format(**texts), tuple(trace))


def join(parts: Iterable[Text | None], sep: str = " ") -> Text:
    """Whole sentences (or list items) joined into one text, their traces kept."""
    items = [p for p in parts if p is not None and p.text]
    return Text(sep.join(p.text for p in items), tuple(e for p in items for e in p.trace))


def listing(items: Sequence[Text], sep: str = ", ") -> Text:
    """Items of a list (labels) joined, traces kept."""
    return join(items, sep)
