"""No function of the package is over 100 lines (from its ``def`` to its last line, docstring
included): a longer one is a sequence of steps that wants names. ruff's McCabe rule (``C90``,
``max-complexity`` in pyproject.toml) keeps each one simple; this keeps each one short.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "ctip_research"
MAX_LINES = 100


def long_functions(source: str, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """``(name, lines)`` of every function (methods and nested functions too) over ``limit``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                out.append((node.name, lines))
    return out


def test_the_check_counts_from_def_to_the_last_line() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(100))
    assert long_functions(f"def f():\n{body}\n") == [("f", 101)]
    assert long_functions(f"def f():\n{body}\n", limit=101) == []


def test_no_function_of_the_package_is_over_100_lines() -> None:
    found = {
        f"{path.relative_to(SRC)}:{name}": lines
        for path in sorted(SRC.rglob("*.py"))
        for name, lines in long_functions(path.read_text(encoding="utf-8"))
    }
    assert found == {}
