"""Exit codes: every error class of the package has its own, so a script (or CI) can tell from
the code alone what went wrong; and a Typst failure is reported as one, not as a disclosure
failure."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import ctip_research
from ctip_research import errors
from ctip_research.errors import CtipError, DisclosureError, TypesetError


def _error_classes() -> list[type[CtipError]]:
    for mod in pkgutil.walk_packages(ctip_research.__path__, "ctip_research."):
        importlib.import_module(mod.name)
    found: list[type[CtipError]] = []
    todo: list[type[CtipError]] = [CtipError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith("ctip_research.")]


def test_every_error_class_that_sets_an_exit_code_has_its_own() -> None:
    owners: dict[int, list[str]] = {}
    for cls in _error_classes():
        if "exit_code" in vars(cls):
            owners.setdefault(cls.exit_code, []).append(f"{cls.__module__}.{cls.__qualname__}")
    shared = {code: names for code, names in owners.items() if len(names) > 1}
    assert not shared, shared
    # the classes of errors.py are all there, and codes 0 (success) and 130 (interrupt) are free
    declared = [
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, CtipError)
    ]
    assert {c.exit_code for c in declared} <= set(owners)
    assert 0 not in owners and 130 not in owners


def test_the_exit_codes_listed_in_the_errors_module_docstring_are_the_classes_codes() -> None:
    doc = " ".join((errors.__doc__ or "").split())
    for cls in _error_classes():
        if "exit_code" in vars(cls) and cls is not CtipError:
            assert f"{cls.exit_code} " in doc, cls


def test_a_typst_failure_is_a_typeset_error_not_a_disclosure_error(tmp_path: Path) -> None:
    from ctip_research.reporting.brief import typeset_pdf

    broken = tmp_path / "broken.typ"
    broken.write_text("#let x = (\n", encoding="utf-8")
    with pytest.raises(TypesetError, match="typst could not typeset") as info:
        typeset_pdf({"blocks": []}, figures_root=tmp_path, timestamp=0, template=broken)
    assert not isinstance(info.value, DisclosureError)
    assert info.value.exit_code == 17
