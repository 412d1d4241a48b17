"""The message catalogue: current with the declarations, complete in English, Khmer drafts
flagged for review; translation at run time and locale number symbols."""

from __future__ import annotations

import re
import string

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from ctip_research.config import Params
from ctip_research.i18n import (
    LOCALE_DIR,
    catalog_path,
    localise_number,
    translate,
    unreviewed_used,
    use_language,
)
from ctip_research.reporting.brief import TEMPLATES
from ctip_research.reporting.catalog import (
    REVIEW_COMMENT,
    build_template,
    catalog_bytes,
    translation_status,
)
from ctip_research.reporting.trace import count, fill, pp


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _catalog(lang: str):
    with catalog_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


def test_committed_template_is_what_extraction_writes_now(params: Params) -> None:
    """A message changed in the package or params.yaml without `ctip translations extract`
    fails here (the translators' .pot would be stale)."""
    committed = (LOCALE_DIR / "ctip.pot").read_bytes()
    assert committed == catalog_bytes(build_template(params), template=True)


def test_every_language_file_holds_every_message_of_the_template(params: Params) -> None:
    wanted = {(m.context, m.id) for m in build_template(params) if m.id}
    for lang in ("en", "km"):
        have = {(m.context, m.id) for m in _catalog(lang) if m.id}
        assert wanted <= have, (lang, sorted(wanted - have)[:5])


def test_english_is_complete_and_reviewed() -> None:
    status = translation_status("en")
    assert not status["unreviewed"] and not status["untranslated"]
    assert all(m.string == m.id for m in _catalog("en") if m.id)


def test_khmer_drafts_keep_placeholders_are_khmer_and_are_flagged_unreviewed() -> None:
    drafts = [m for m in _catalog("km") if m.id and m.string]
    assert len(drafts) >= len(TEMPLATES)  # at least every sentence of the brief
    for m in drafts:
        assert _fields(m.string) == _fields(m.id), m.context
        words = string.Formatter().vformat(m.string, (), {f: "" for f in _fields(m.string)})
        assert re.search("[\u1780-\u17ff]", m.string) or not re.search("[a-z]{3}", words)
        # no review yet: every draft is fuzzy and says why
        assert m.fuzzy and REVIEW_COMMENT in m.user_comments, m.context
        if m.context in TEMPLATES:  # the brief's sentences hold numbers only in placeholders
            literal = string.Formatter().vformat(m.string, (), {f: "" for f in _fields(m.string)})
            assert not re.search(r"\d", literal), m.context


def test_translate_uses_the_draft_records_it_unreviewed_and_falls_back_to_english() -> None:
    msgid = TEMPLATES["lead.descriptive"]
    with use_language("km") as usage:
        share = count(39, "figures/x.data.csv", path="x")
        text = fill(msgid, share=share).text
        missing = translate("A message no catalogue has", context="test:missing")
    assert text.startswith("39 ") and re.search("[\u1780-\u17ff]", text)
    assert missing == "A message no catalogue has"
    assert unreviewed_used(usage) == ["lead.descriptive", "test:missing"]
    assert fill(msgid, share=share).text == "39 of households owe a microfinance institution."


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of"):
        with use_language("fr"):
            pass


@pytest.mark.parametrize("lang", ["en", "km"])
def test_numbers_use_the_locale_symbols_of_the_unicode_locale_data(lang: str) -> None:
    """Reference: Babel's copy of CLDR (decimal, group, minus, percent signs of the locale)."""
    symbols = Locale.parse(lang).number_symbols["latn"]
    with use_language(lang):
        printed = pp(-0.12345, "models/estimates.csv", signed=True).text
        big = count(1234567, "models/metrics.json").text
    assert printed == f"{symbols['minusSign']}12{symbols['decimal']}3"
    assert big == f"1{symbols['group']}234{symbols['group']}567"
    assert localise_number("36%", lang=lang) == f"36{symbols['percentSign']}"
