"""What a reader sees of an HTML page: its text and the alt text of its images (standard library
only; style, script and head content left out). For the tests that read rendered pages."""

from __future__ import annotations

from html.parser import HTMLParser


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.alts: list[str] = []
        self.images: int = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head", "title"):
            self._skip += 1
        if tag == "img":
            self.images += 1
            self.alts += [v or "" for k, v in attrs if k == "alt"]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """The page's visible text followed by the alt text of its images."""
    parser = _Visible()
    parser.feed(page)
    return " ".join(parser.parts) + " " + " ".join(parser.alts)
