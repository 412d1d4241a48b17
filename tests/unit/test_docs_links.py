"""The documentation points only at what the repository has: every relative Markdown link of
README.md and docs/*.md resolves to a file (and, with an anchor, to a heading of it), and every
path written in code style under the repository's own folders (``src/``, ``tests/``, ``docs/``,
``benchmarks/``, ``notebooks/``) exists. Paths under ``data/`` are outputs of the pipeline, not
files of the repository, and are not checked."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
CHECKED_DIRS = ("src/", "tests/", "docs/", "benchmarks/", "notebooks/", ".ci/")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = unicodedata.normalize("NFKC", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    heads = re.findall(r"^#{1,6}\s+(.+?)\s*$", page.read_text(encoding="utf-8"), re.M)
    return {_anchor(h) for h in heads}


def _is_placeholder(path: str) -> bool:
    return any(ch in path for ch in "*<>{}$") or "..." in path


def _ignored(path: str) -> bool:
    """A git-ignored output folder (such as ``benchmarks/results/``) is written on demand."""
    res = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    return res.returncode == 0


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return [a or b for a, b in LINK.findall(text)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_repository_path_in_code_style_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    missing = []
    for path in CODE.findall(text):
        path = path.rstrip(".,;:")
        if not path.startswith(CHECKED_DIRS) or _is_placeholder(path):
            continue
        path = path.split("::")[0].split(":")[0]
        if not (ROOT / path).exists() and not _ignored(path):
            missing.append(path)
    assert not missing, f"{page.relative_to(ROOT)}: {sorted(set(missing))}"


def test_the_checker_finds_a_broken_link_and_a_missing_path(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Top\n[ok](#top) [gone](nowhere.md) `src/none.py`\n", encoding="utf-8")
    assert _links(page) == ["#top", "nowhere.md"]
    assert "top" in _anchors(page)
    assert not (ROOT / "src/none.py").exists()
