"""The brief stage end to end (after the figures stage) on small synthetic inputs."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from reporting_factory import REPO_PARAMS, make_params, write_inputs

from ctip_research.disclosure import number_tokens
from ctip_research.errors import RenderError
from ctip_research.reporting.brief import pdf_page_count
from ctip_research.stages.brief import run_brief
from ctip_research.stages.figures import run_figures
from page_text import visible_text
from pdf_text import pdf_text


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("brief")
    write_inputs(root)
    params = make_params(REPO_PARAMS(), root)
    run_figures(params)
    run_brief(params)
    return root


def _printed(value: float, fmt: str) -> str:
    """How the brief prints a value of ``estimates.csv`` (written here, not imported)."""
    if fmt == "level":
        return f"{100 * value:g}%"
    if fmt == "count":
        return f"{round(value):,}"
    shown = abs(value) if fmt == "abs_pp1" else value
    return f"{100 * shown:.1f}".replace("-0.0", "0.0")


@pytest.mark.slow
def test_brief_numbers_equal_the_estimates_table(built: Path) -> None:
    processed = built / "processed"
    est = pd.read_csv(processed / "models" / "estimates.csv")
    content = json.loads((processed / "brief" / "brief.json").read_text())
    page = html.unescape((processed / "brief" / "brief.html").read_text())
    entries = [
        e
        for b in content["blocks"]
        for e in b["trace"]
        if e["source"] == "models/estimates.csv"
        and e.get("column")
        and e["format"] in ("pp1", "abs_pp1", "level", "count")
    ]
    brief_params = yaml.safe_load(Path("params.yaml").read_text())["brief"]
    quoted = {e["row"]["model"] for e in entries}
    assert {brief_params["headline_model"], brief_params["naive_model"]} <= quoted
    for e in entries:
        row = est[(est["model"] == e["row"]["model"]) & (est["term"] == e["row"]["term"])]
        value = float(row[e["column"]].iloc[0])
        assert e["value"] == pytest.approx(value)
        assert e["text"] == _printed(value, e["format"])
        assert e["text"] in page
    # every number on the page is in the trace (the authority checked it; here again)
    record = json.loads((processed / "brief" / "brief.disclosure.json").read_text())
    assert {c["check"]: c["passed"] for c in record["checks"]}["traceability"]
    visible = visible_text((processed / "brief" / "brief.html").read_text())
    printed = number_tokens(visible)
    traced = [t for b in content["blocks"] for e in b["trace"] for t in number_tokens(e["text"])]
    assert set(printed) <= set(traced)


@pytest.mark.slow
def test_brief_is_two_to_four_pages_with_fonts_embedded(built: Path) -> None:
    content = json.loads((built / "processed" / "brief" / "brief.json").read_text())
    assert 2 <= content["pages"] <= 4
    pdf = (built / "processed" / "brief" / "brief.pdf").read_bytes()
    assert b"/FontFile2" in pdf  # TrueType fonts embedded
    assert b"/CreationDate (D:20260101000000" in pdf or b"2026-01-01T00:00:00" in pdf


@pytest.mark.slow
def test_brief_is_byte_identical_when_rendered_twice(built: Path) -> None:
    out = built / "processed" / "brief"
    first = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    run_brief(make_params(REPO_PARAMS(), built))
    second = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert first == second


@pytest.mark.slow
def test_brief_html_has_every_figure_with_alt_text(built: Path) -> None:
    page = (built / "processed" / "brief" / "brief.html").read_text()
    n_figures = len(yaml.safe_load(Path("params.yaml").read_text())["brief"]["figures"])
    assert (
        len(
            re.findall(
                r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}" alt="[^"]{20,}"', page
            )
        )
        == n_figures
    )


@pytest.mark.slow
def test_brief_stage_fails_when_longer_than_max_pages(built: Path) -> None:
    d = REPO_PARAMS()
    d["brief"]["max_pages"] = 1
    with pytest.raises(RenderError, match="pages"):
        run_brief(make_params(d, built))


def _numbers(text: str) -> Counter[str]:
    """Every number printed (digit groups), with how often it is printed."""
    return Counter(m.rstrip(".,") for m in re.findall(r"\d[\d,.]*", text))


@pytest.mark.slow
def test_khmer_brief_extracts_as_khmer_with_every_number_of_the_english_brief(
    built: Path,
) -> None:
    """The Khmer PDF, read as a viewer that honours /ActualText reads it (tests/pdf_text.py):
    most of its letters are Khmer script (U+1780-U+17FF), it has 3-4 pages, and it prints
    exactly the numbers of the English brief, as often (the same traced values, the same
    locale symbols: CLDR's Khmer locale uses Latin digits and the English separators)."""
    out = built / "processed" / "brief"
    km_text, en_text = pdf_text(out / "brief.km.pdf"), pdf_text(out / "brief.pdf")
    letters = [c for c in km_text if c.isalpha()]
    khmer = sum("\u1780" <= c <= "\u17ff" for c in letters)
    assert khmer / len(letters) > 0.5
    assert sum("\u1780" <= c <= "\u17ff" for c in en_text) == 0
    assert 3 <= pdf_page_count((out / "brief.km.pdf").read_bytes()) <= 4
    assert _numbers(km_text) == _numbers(en_text) and sum(_numbers(en_text).values()) > 30


@pytest.mark.slow
def test_khmer_brief_lists_its_unreviewed_messages_and_passes_its_own_check(built: Path) -> None:
    out = built / "processed" / "brief"
    content = json.loads((out / "brief.km.json").read_text())
    record = json.loads((out / "brief.km.disclosure.json").read_text())
    assert record["passed"] and set(record["files"]) == {
        "brief.km.pdf",
        "brief.km.html",
        "brief.km.json",
    }
    listed = content["translation"]["unreviewed"]
    # every message of the Khmer catalogue is still a draft: every template the brief chose is
    # listed as unreviewed, with the headings
    chosen = {s["template"] for s in content["sentences"]}
    assert chosen <= set(listed) and "heading:key_points" in listed
    assert content["translation"]["text"].endswith(", ".join(listed))
    page = (out / "brief.km.html").read_text()
    assert '<html lang="km">' in page and "@font-face" in page
    assert content["translation"]["heading"] in page
    assert json.loads((out / "brief.json").read_text())["translation"] is None
