"""The repository is self-contained: what a reader is pointed to exists in the repository.

Code, docs, params, the DVC pipeline, notebooks, tests and benchmarks must not send a reader to
design documents, tracker items or people that are not part of the repository: no ``.md`` file
named that does not exist here, no numbered tracker item of this project, no team role, no path
outside the repository. External trackers are cited by their full address instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCANNED_DIRS = ("src", "docs", "notebooks", "tests", "benchmarks", ".ci")
SCANNED_FILES = ("README.md", "params.yaml", "dvc.yaml", "pyproject.toml")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".ipynb", ".toml", ".typ", ".txt", ".cfg", ""}

# Built from pieces so that this file does not match itself.
_ISSUE = re.compile(r"\b" + "iss" + r"ue\s*#?\d+", re.IGNORECASE)
_ROLE = re.compile(r"\b\w+ " + "engin" + r"eer('s)?\b", re.IGNORECASE)
_OUTSIDE = re.compile(r"\.\./" + "sha" + r"red|/work/" + "sha" + "red")
_DESIGN_DOC = re.compile(r"\b" + "des" + r"ign/[\w-]+\.md\b")


def _scanned() -> list[Path]:
    paths = [REPO_ROOT / name for name in SCANNED_FILES if (REPO_ROOT / name).exists()]
    for name in SCANNED_DIRS:
        root = REPO_ROOT / name
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in SUFFIXES:
                continue
            parts = set(path.relative_to(REPO_ROOT).parts)
            if parts & {"__pycache__", ".ipynb_checkpoints"} or any(
                p.endswith(".egg-info") for p in parts
            ):
                continue
            if "data" in parts and "tests" in parts and path.suffix not in {".py", ".md"}:
                continue  # fixture data (raw survey exports) are not prose
            paths.append(path)
    return paths


def _hits(pattern: re.Pattern[str]) -> list[str]:
    found = []
    for path in _scanned():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line):
                found.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()[:120]}")
    return found


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("numbered tracker item", _ISSUE),
        ("team role", _ROLE),
        ("path outside the repository", _OUTSIDE),
        ("design document that is not in the repository", _DESIGN_DOC),
    ],
)
def test_no_reference_outside_the_repository(what: str, pattern: re.Pattern[str]) -> None:
    hits = _hits(pattern)
    assert not hits, f"{len(hits)} reference(s) to a {what}:\n" + "\n".join(hits[:30])


def test_patterns_catch_what_they_are_for() -> None:
    """The scan is not vacuous: each pattern matches a typical offending line."""
    assert _ISSUE.search("see " + "iss" + "ue 9 for the fix")
    assert _ROLE.search("(the ingest " + "engin" + "eer's edit)")
    assert _OUTSIDE.search("read ../" + "sha" + "red/README.md")
    assert _DESIGN_DOC.search("des" + "ign/survey-model.md section 3")
    assert not _ISSUE.search("scikit-learn GitHub issues/4632")


def test_named_markdown_files_exist() -> None:
    """Every ``docs/<name>.md`` a file names is in the repository."""
    pattern = re.compile(r"\bdocs/([\w-]+\.md)\b")
    missing = []
    for path in _scanned():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for name in sorted(set(pattern.findall(text))):
            if not (REPO_ROOT / "docs" / name).exists():
                missing.append(f"{path.relative_to(REPO_ROOT)} names docs/{name}")
    assert not missing, "\n".join(missing)
