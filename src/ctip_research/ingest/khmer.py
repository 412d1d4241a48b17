"""Khmer text checks: legacy-font (Limon / ABC) text and mis-decoded text in Khmer fields.

Before Unicode Khmer was common, Khmer was typed with legacy fonts (Limon, ABC, Khmer OS
Limon...) that draw Khmer glyphs on the code points of ASCII and Latin-1: the file holds
``"eRbIR)as;"`` or ``"»ñ¶ÇÖ"`` and only looks like Khmer in that font. Such text cannot be matched,
sorted or searched. Mis-decoded UTF-8 Khmer (read as Latin-1 or cp1252) looks alike (``"áž”"``).

A codebook column declared ``khmer_text: true`` must hold Unicode Khmer (U+1780-U+17FF,
U+19E0-U+19FF), possibly with digits, spaces and punctuation. :func:`khmer_text_problem` says why
a value is not: a Latin-1 character (legacy font or mojibake), a replacement character (decoded
with the wrong encoding), a control character, or letters none of which is Khmer (legacy font
mapped to ASCII, or romanised text). Ingest rejects such values (``CodebookError`` naming file,
column and rows). Text is compared in Unicode NFC; a value that is valid Khmer but not NFC is
normalised, not rejected (the two forms are canonically equivalent).
"""

from __future__ import annotations

import unicodedata

__all__ = ["is_khmer_char", "khmer_text_problem"]


def is_khmer_char(ch: str) -> bool:
    """Whether ``ch`` is in the Khmer or Khmer Symbols block.

    Examples
    --------
    >>> is_khmer_char("ក"), is_khmer_char("k")
    (True, False)
    """
    code = ord(ch)
    return 0x1780 <= code <= 0x17FF or 0x19E0 <= code <= 0x19FF


def khmer_text_problem(text: str) -> str | None:
    """Return why ``text`` is not Unicode Khmer text, or ``None`` if it is.

    Examples
    --------
    >>> khmer_text_problem("បាត់ដំបង") is None
    True
    >>> khmer_text_problem("»ñ¶ÇÖ")
    'Latin-1 characters typical of legacy Khmer fonts (Limon/ABC) or mis-decoded text'
    >>> khmer_text_problem("batdMbg")
    'letters but no Khmer character (legacy-font or romanised text)'
    """
    if "\ufffd" in text:
        return "replacement character U+FFFD (text decoded with the wrong encoding)"
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in text):
        return "control characters (legacy-font or binary data)"
    if any(0x80 <= ord(c) <= 0xFF for c in text):
        return "Latin-1 characters typical of legacy Khmer fonts (Limon/ABC) or mis-decoded text"
    letters = [c for c in text if unicodedata.category(c).startswith(("L", "M"))]
    if letters and not any(is_khmer_char(c) for c in letters):
        return "letters but no Khmer character (legacy-font or romanised text)"
    return None
