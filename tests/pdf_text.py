"""Text of a PDF as a reader that honours ``/ActualText`` gets it (not a test module).

Typst shapes complex scripts (Khmer) into glyph clusters and records each reordered cluster's
Unicode text in a marked-content span (``/Span << /ActualText (...) >> BDC ... EMC``), the
mechanism the PDF specification provides for it (ISO 32000-1, 14.9.4; Acrobat and Chrome copy
text this way). Plain glyph-to-Unicode extraction (pypdf's or poppler's default) ignores those
spans and repeats the characters of such clusters. Here the page content is walked with pypdf:
glyphs are decoded with their font's ``/ToUnicode`` map (Typst writes two-byte Identity-H
codes), and inside a span with an actual text, that text replaces the glyphs'.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_BFCHAR = re.compile(r"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(r"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(r"<([0-9A-Fa-f]+)>")


def _utf16(hexes: str) -> str:
    return bytes.fromhex(hexes).decode("utf-16-be", errors="replace")


def _to_unicode(font: Any) -> dict[int, str]:
    """Code -> text of a font's ``/ToUnicode`` CMap (bfchar and bfrange entries)."""
    if "/ToUnicode" not in font:
        return {}
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    out: dict[int, str] = {}
    for block in _BFCHAR.findall(cmap):
        codes = _HEX.findall(block)
        for src, dst in zip(codes[::2], codes[1::2], strict=False):
            out[int(src, 16)] = _utf16(dst)
    for block in _BFRANGE.findall(cmap):
        for line in block.strip().splitlines():
            codes = _HEX.findall(line)
            if len(codes) >= 3 and "[" not in line:
                lo, hi, start = int(codes[0], 16), int(codes[1], 16), int(codes[2], 16)
                for k in range(hi - lo + 1):
                    out[lo + k] = chr(start + k)
    return out


def _raw(s: Any) -> bytes:
    """The string's bytes as written in the content stream (pypdf may have read a two-byte
    string as UTF-16 text; its original bytes then carry a byte-order mark it added)."""
    if hasattr(s, "get_original_bytes"):
        data = bytes(s.get_original_bytes())
        return data[2:] if data.startswith(b"\xfe\xff") and len(data) % 2 == 0 else data
    return s.encode("latin-1") if isinstance(s, str) else bytes(s)


def pdf_text(path: Path) -> str:
    """The text of every page of ``path``, actual texts in place of their glyphs."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(str(path))
    out: list[str] = []
    for page in reader.pages:
        fonts = {
            str(name): (_to_unicode(ref.get_object()), str(ref.get_object().get("/Subtype")))
            for name, ref in page["/Resources"].get("/Font", {}).items()
        }
        cmap: dict[int, str] = {}
        two_byte = True
        spans: list[bool] = []
        last_span = False
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"BDC":
                props = operands[1] if len(operands) > 1 else None
                actual = props.get("/ActualText") if hasattr(props, "get") else None
                spans.append(actual is not None)
                if actual is not None:
                    text = str(actual)
                    # the glyphs of one cluster set in several text runs each carry the
                    # cluster's actual text: print it once
                    if not (out and out[-1] == text and last_span):
                        out.append(text)
                    last_span = True
            elif op == b"BMC":
                spans.append(False)
            elif op == b"EMC" and spans:
                spans.pop()
            elif op == b"Tf":
                cmap, subtype = fonts.get(str(operands[0]), ({}, ""))
                two_byte = subtype == "/Type0"
            elif op == b"Tm" and operands[4] == 0 and not any(spans):
                out.append(" ")  # a text object starting a new run of the line
            elif op in (b"Tj", b"TJ") and not any(spans):
                items = operands[0] if op == b"TJ" else [operands[0]]
                for item in items:
                    if isinstance(item, (int, float)) or hasattr(item, "as_numeric"):
                        if float(item) < -200:  # a wide kern is a word space
                            out.append(" ")
                        continue
                    data = _raw(item)
                    step = 2 if two_byte else 1
                    for i in range(0, len(data) - step + 1, step):
                        code = int.from_bytes(data[i : i + step], "big")
                        out.append(cmap.get(code, ""))
                        last_span = False
        out.append("\n")
    return re.sub(r"[ \t]+", " ", "".join(out))
