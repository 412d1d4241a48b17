"""The message catalogue of published text: extraction of the template and update of the
translations (``ctip translations extract``).

Every message is declared once in the package (the brief's :data:`~ctip_research.reporting.
brief.TEMPLATES`, :data:`~ctip_research.reporting.brief.ASSUMPTIONS`, its phrase tables and
headings, the figures' :data:`~ctip_research.reporting.figures.CAPTIONS`, the indicator and term
labels) or in ``params.yaml`` (the brief's title lines, model labels, figure titles); each gets a
stable context (``msgctxt``) saying where it is used. :func:`build_template` collects them into a
Babel catalogue, written as ``locale/ctip.pot``; :func:`update_catalog` merges a language's
``.po`` file with a new template the way ``pybabel update`` does (new messages untranslated,
changed ones kept as fuzzy, removed ones made obsolete), so translators only ever edit ``.po``
files. English is the source language: its ``.po`` holds every message translated as itself.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ctip_research.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, catalog_path

if TYPE_CHECKING:
    from ctip_research.config import Params

__all__ = [
    "REVIEW_COMMENT",
    "build_template",
    "catalog_bytes",
    "messages",
    "translation_status",
    "update_catalog",
]

#: The translator comment of a draft no native speaker has reviewed (the entry is also fuzzy).
REVIEW_COMMENT = "review: machine translation, not reviewed by a native speaker"
_HEADER = (
    "# Translations of ctip_research's published text ({lang}).\n"
    "# Edit msgstr only; see docs/translation.md. A fuzzy entry is a draft that no native\n"
    "# speaker has reviewed: remove the fuzzy flag (and the review comment) once reviewed.\n"
)
#: A fixed creation date, so the same declarations give the same catalogue bytes.
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def messages(params: Params | None = None) -> Iterator[tuple[str, str, str]]:
    """Every published message as ``(context, msgid, where)`` (``where``: the declaration)."""
    from ctip_research.features.definitions import ALL_FEATURES
    from ctip_research.identity import DEMO_NOTICE
    from ctip_research.labels import STATISTIC_LABELS, TERM_LABELS
    from ctip_research.reporting import brief, figures

    for key, text in brief.TEMPLATES.items():
        yield key, text, "ctip_research.reporting.brief.TEMPLATES"
    for key, text in brief.ASSUMPTIONS.items():
        yield f"assumption.{key}", text, "ctip_research.reporting.brief.ASSUMPTIONS"
    for key, text in brief.HEADINGS.items():
        yield f"heading:{key}", text, "ctip_research.reporting.brief.HEADINGS"
    for table, phrases in brief.PHRASE_TABLES.items():
        for column, text in phrases.items():
            yield f"{table}:{column}", text, f"ctip_research.reporting.brief.{table.upper()}"
    for key, text in figures.ESTIMAND_PHRASES.items():
        yield f"estimand:{key}", text, "ctip_research.reporting.figures.ESTIMAND_PHRASES"
    for key, text in figures.CAPTIONS.items():
        yield f"caption.{key}", text, "ctip_research.reporting.figures.CAPTIONS"
    for feat in ALL_FEATURES:
        yield f"variable:{feat.name}", feat.label, "ctip_research.features.definitions"
    for name, text in TERM_LABELS.items():
        yield f"variable:{name}", text, "ctip_research.labels.TERM_LABELS"
    for name, text in STATISTIC_LABELS.items():
        yield f"variable:{name}", text, "ctip_research.labels.STATISTIC_LABELS"
    yield "variable:wave", "{label} (wave {wave})", "ctip_research.labels.variable_label"
    yield "notice:demonstration", DEMO_NOTICE, "ctip_research.identity.DEMO_NOTICE"
    if params is not None:
        b = params.brief
        for key in ("title", "subtitle", "organisation", "date_label"):
            yield f"param:brief.{key}", str(getattr(b, key)), "params.yaml"
        for spec in params.fit.models:
            yield f"model:{spec.name}", spec.label, "params.yaml fit.models"
        fp = params.figures
        for key in ("effect_title", "programme_title"):
            yield f"param:figures.{key}", str(getattr(fp, key)), "params.yaml"


def build_template(params: Params | None = None) -> Any:
    """The catalogue template (a :class:`babel.messages.Catalog` without translations)."""
    from babel.messages import Catalog

    catalog = Catalog(
        domain=DOMAIN,
        project="ctip_research",
        version="1",
        copyright_holder="ctip_research developers",
        creation_date=_EPOCH,
        revision_date=_EPOCH,
        header_comment=_HEADER.format(lang="template"),
        fuzzy=False,
    )
    for context, msgid, where in messages(params):
        if catalog.get(msgid, context=context) is None:
            catalog.add(msgid, context=context, auto_comments=[where])
    return catalog


def catalog_bytes(catalog: Any, *, template: bool = False) -> bytes:
    """The ``.po`` / ``.pot`` text of ``catalog`` (sorted by context; no line wrapping)."""
    from babel.messages.pofile import write_po

    buf = io.BytesIO()
    write_po(
        buf,
        catalog,
        width=0,
        sort_output=True,
        omit_header=False,
        ignore_obsolete=False,
        include_previous=False,
    )
    return buf.getvalue()


def update_catalog(lang: str, template: Any) -> Any:
    """``lang``'s catalogue merged with ``template`` (English: every message as itself)."""
    from babel.messages import Catalog
    from babel.messages.pofile import read_po

    path = catalog_path(lang)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=DOMAIN)
    else:
        catalog = Catalog(
            locale=lang,
            domain=DOMAIN,
            project="ctip_research",
            version="1",
            copyright_holder="ctip_research developers",
            header_comment=_HEADER.format(lang=lang),
            fuzzy=False,
        )
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.creation_date = _EPOCH
    catalog.revision_date = _EPOCH
    catalog.fuzzy = False
    if lang == "en":
        for message in catalog:
            if message.id:
                message.string = message.id
                message.flags.discard("fuzzy")
    return catalog


def translation_status(lang: str) -> dict[str, list[str]]:
    """Contexts of ``lang``'s messages by review status: ``reviewed``, ``unreviewed`` (fuzzy),
    ``untranslated`` (empty).
    """
    from ctip_research.i18n import load_catalog

    out: dict[str, list[str]] = {"reviewed": [], "unreviewed": [], "untranslated": []}
    for message in load_catalog(lang):
        if not message.id:
            continue
        key = str(message.context or message.id)
        if not message.string:
            out["untranslated"].append(key)
        elif message.fuzzy:
            out["unreviewed"].append(key)
        else:
            out["reviewed"].append(key)
    return {k: sorted(v) for k, v in out.items()}


def write_catalogs(params: Params | None = None) -> list[str]:
    """Write ``locale/ctip.pot`` and update every language's ``.po``; return the paths."""
    written = []
    pot = LOCALE_DIR / f"{DOMAIN}.pot"
    pot.parent.mkdir(parents=True, exist_ok=True)
    pot.write_bytes(catalog_bytes(build_template(params), template=True))
    written.append(str(pot))
    for lang in LANGUAGES:  # a fresh template each: a merge shares its message objects
        catalog = update_catalog(lang, build_template(params))
        path = catalog_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(catalog_bytes(catalog))
        written.append(str(path))
    return written
