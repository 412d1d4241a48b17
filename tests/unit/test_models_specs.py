"""Model specs in params.yaml: validation of the fit section and sample selection."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from ctip_research.config import parse_params
from ctip_research.errors import ParamsError
from ctip_research.models.specs import SpecError, select_sample
from models_factory import spec


def test_repository_fit_section_is_valid(params) -> None:
    names = [m.name for m in params.fit.models]
    assert {"naive_ols", "iv_branches", "panel_fe", "programme_did"} <= set(names)


def test_iv_without_instruments_rejected() -> None:
    with pytest.raises(ValidationError, match="instrument"):
        spec(kind="iv", instruments=[])


def test_instruments_outside_iv_rejected() -> None:
    with pytest.raises(ValidationError, match="only used by kind iv"):
        spec(instruments=["z"])


def test_duplicate_model_names_rejected(params_dict) -> None:
    params_dict["fit"]["models"].append(dict(params_dict["fit"]["models"][0]))
    with pytest.raises(ParamsError, match="unique"):
        parse_params(params_dict)


def test_validation_unknown_model_rejected(params_dict) -> None:
    params_dict["fit"]["validation"]["estimands"]["no_such_model"] = "a.b"
    with pytest.raises(ParamsError, match="no_such_model"):
        parse_params(params_dict)


def test_select_sample_applies_wave_query_and_complete_cases() -> None:
    df = pd.DataFrame(
        {
            "wave": [1, 1, 1, 2],
            "has_international_migrant": [1, 0, None, 1],
            "has_mfi_loan": [1, 0, 1, 1],
            "is_landless": [True, False, True, True],
            "psu_id": ["a", "b", "a", "a"],
            "weight_household": [1.0, 1.0, 1.0, 1.0],
        }
    )
    out = select_sample(df, spec(wave=1, sample="is_landless == True"))
    assert len(out) == 1


def test_empty_sample_raises() -> None:
    df = pd.DataFrame(
        {
            "wave": [1],
            "has_international_migrant": [1],
            "has_mfi_loan": [1],
            "is_landless": [True],
            "psu_id": ["a"],
            "weight_household": [1.0],
        }
    )
    with pytest.raises(SpecError, match="empty"):
        select_sample(df, spec(wave=2))
