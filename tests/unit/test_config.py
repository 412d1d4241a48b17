"""params.yaml validation: unknown keys, wrong types and bad YAML are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ctip_research.config import load_params, params_hash, parse_params
from ctip_research.errors import ParamsError


def test_repository_params_validate(params) -> None:
    assert params.privacy.min_cell_count == 10
    assert params.paths.processed == Path("data/processed")


def test_unknown_key_names_its_path(params_dict) -> None:
    params_dict["privacy"]["min_cel_count"] = 5
    with pytest.raises(ParamsError, match=r"privacy\.min_cel_count: unknown key"):
        parse_params(params_dict)


def test_unknown_section_is_an_error(params_dict) -> None:
    params_dict["fitt"] = {}
    with pytest.raises(ParamsError, match=r"fitt: unknown key"):
        parse_params(params_dict)


def test_wrong_type_names_key_and_expected_type(params_dict) -> None:
    params_dict["privacy"]["min_cell_count"] = "ten"
    with pytest.raises(
        ParamsError, match=r"privacy\.min_cell_count: Input should be a valid integer"
    ):
        parse_params(params_dict)


def test_missing_section_is_reported(params_dict) -> None:
    del params_dict["paths"]
    with pytest.raises(ParamsError, match=r"paths: required key is missing"):
        parse_params(params_dict)


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    p = tmp_path / "params.yaml"
    p.write_text("paths:\n  raw: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"not valid YAML at line"):
        load_params(p)


def test_missing_file_is_a_params_error(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")


def test_params_are_frozen(params) -> None:
    with pytest.raises(Exception, match="frozen"):
        params.privacy.min_cell_count = 3  # type: ignore[misc]


def test_params_hash_changes_with_a_value(params_dict) -> None:
    a = parse_params(params_dict)
    params_dict["privacy"]["min_cell_count"] = 11
    b = parse_params(params_dict)
    assert params_hash(a, "privacy") != params_hash(b, "privacy")
    assert params_hash(a, "paths") == params_hash(b, "paths")


def test_params_roundtrip_yaml(params_dict, tmp_path: Path) -> None:
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(params_dict), encoding="utf-8")
    assert load_params(p).privacy == parse_params(params_dict).privacy
