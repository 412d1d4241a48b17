"""Languages of the published text: message catalogues, review status and number formats.

Every published sentence (the brief, figure captions and alt texts, labels of variables and
models) is written in English in the package (the source language: the msgid) and translated
through a gettext catalogue, one ``.po`` file per language under ``ctip_research/locale/<lang>/
LC_MESSAGES/ctip.po``, read with Babel. The template of all messages, ``locale/ctip.pot``, is
extracted from the package's declarations by :func:`ctip_research.reporting.catalog.
build_template` (``ctip translations extract``).

A translated message carries a review status: an entry flagged ``fuzzy`` is a draft (machine
or non-native translation) that no native speaker has reviewed yet; it is used, and every
document that prints one lists it as unreviewed (:func:`unreviewed_used`). A message with no
translation falls back to English and is listed as untranslated.

The output language is a context variable (:func:`use_language`), so library functions that
print text (``fill``, the number formatters) need no language argument.

Examples
--------
>>> with use_language("en"):
...     translate("Key points", context="heading")
'Key points'
>>> localise_number("3,995", lang="km")
'3,995'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "Language",
    "Usage",
    "catalog_path",
    "current_language",
    "current_usage",
    "localise_number",
    "load_catalog",
    "translate",
    "unreviewed_used",
    "use_language",
]

#: The languages the package publishes in (English is the source language).
Language = Literal["en", "km"]
LANGUAGES: tuple[str, ...] = ("en", "km")
#: Where the catalogues live (inside the package, so an installed package can translate).
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "ctip"

_LANGUAGE: ContextVar[str] = ContextVar("ctip_language", default="en")


@dataclass
class Usage:
    """The messages looked up while a document was written, by review status."""

    unreviewed: dict[str, str] = field(default_factory=dict)  # context -> msgid
    untranslated: dict[str, str] = field(default_factory=dict)
    reviewed: dict[str, str] = field(default_factory=dict)


_USAGE: ContextVar[Usage | None] = ContextVar("ctip_language_usage", default=None)


@contextmanager
def use_language(lang: str) -> Iterator[Usage]:
    """Write text in ``lang`` inside the block; yields the :class:`Usage` of its messages.

    Raises
    ------
    ValueError
        ``lang`` is not one of :data:`LANGUAGES`.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    usage = Usage()
    token = _LANGUAGE.set(lang)
    token_u = _USAGE.set(usage)
    try:
        yield usage
    finally:
        _LANGUAGE.reset(token)
        _USAGE.reset(token_u)


def current_usage() -> Usage | None:
    """The :class:`Usage` of the innermost :func:`use_language` block (None outside one)."""
    return _USAGE.get()


def current_language() -> str:
    """The language text is written in now (``en`` outside :func:`use_language`)."""
    return _LANGUAGE.get()


def catalog_path(lang: str) -> Path:
    """The ``.po`` file of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=8)
def load_catalog(lang: str) -> Any:
    """The Babel catalogue of ``lang`` (read once per process)."""
    from babel.messages.pofile import read_po

    with catalog_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


@lru_cache(maxsize=8)
def _by_msgid(lang: str) -> dict[str, Any]:
    """Entries by msgid alone (whole sentences are unique, so the context is not needed)."""
    out: dict[str, Any] = {}
    for message in load_catalog(lang):
        if message.id and message.id not in out:
            out[str(message.id)] = message
    return out


def translate(msgid: str, *, context: str | None = None, lang: str | None = None) -> str:
    """``msgid`` in the output language (``lang`` or :func:`current_language`).

    The entry with this ``context`` is preferred, else any entry with this msgid. A fuzzy
    (unreviewed) translation is used and recorded as unreviewed; a missing one falls back to
    English and is recorded as untranslated (see :func:`use_language`).
    """
    lang = lang or current_language()
    if lang == "en" or not msgid:
        return msgid
    catalog = load_catalog(lang)
    message = catalog.get(msgid, context=context) if context else None
    if message is None or not message.string:
        message = _by_msgid(lang).get(msgid)
    usage = _USAGE.get()
    key = (message.context if message is not None else context) or msgid
    if message is None or not message.string:
        if usage is not None:
            usage.untranslated[str(key)] = msgid
        return msgid
    if usage is not None:
        (usage.unreviewed if message.fuzzy else usage.reviewed)[str(key)] = msgid
    return str(message.string)


def unreviewed_used(usage: Usage) -> list[str]:
    """Message contexts printed without a native speaker's review (unreviewed or untranslated),
    sorted.
    """
    return sorted(set(usage.unreviewed) | set(usage.untranslated))


def localise_number(text: str, *, lang: str | None = None) -> str:
    """A number printed the English way (``3,995``, ``-8.5``, ``36%``) in the symbols of the
    output language's locale (Babel's locale data: decimal, group, minus and percent signs).

    The digits are computed once (the English formatting), so the numbers of every language's
    document are the same values, rounded the same way. Khmer uses Latin digits and the same
    separators as English in the Unicode locale data (CLDR).

    Examples
    --------
    >>> localise_number("-3,995.5", lang="en")
    '-3,995.5'
    """
    locale = lang or current_language()
    if locale == "en":
        return text
    from babel import Locale

    symbols = Locale.parse(locale).number_symbols["latn"]
    table = {
        ".": symbols["decimal"],
        ",": symbols["group"],
        "-": symbols["minusSign"],
        "%": symbols["percentSign"],
    }
    return "".join(table.get(ch, ch) for ch in text)
