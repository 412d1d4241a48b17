"""Labels as data: every indicator, model term and model has a reader's label."""

from __future__ import annotations

import pandas as pd

from ctip_research.config import Params
from ctip_research.features.definitions import ALL_FEATURES
from ctip_research.labels import label_map, variable_label
from ctip_research.reporting.notebook import label_table


def test_every_indicator_has_a_short_english_label_distinct_from_its_name() -> None:
    for feat in ALL_FEATURES:
        label = variable_label(feat.name, lang="en")
        assert label == feat.label and label != feat.name and 0 < len(label) <= 80


def test_every_variable_of_every_model_specification_has_a_label(params: Params) -> None:
    for spec in params.fit.models:
        assert spec.label.strip(), spec.name
        d = spec.model_dump()
        names = [d["outcome"], d["exposure"], *d["controls"], *d["instruments"]]
        names += list(d["fixed_effects"])
        unlabelled = [n for n in names if variable_label(n) == n]
        assert not unlabelled, (spec.name, unlabelled)


def test_a_wave_copy_is_labelled_as_its_column_with_the_wave() -> None:
    assert variable_label("land_agri_ha_w1") == f"{variable_label('land_agri_ha')} (wave 1)"


def test_undeclared_names_are_left_out_of_the_label_map() -> None:
    assert label_map(["has_mfi_loan", "n_not_declared"]) == {
        "has_mfi_loan": "Has an outstanding MFI loan"
    }


def test_label_table_relabels_columns_and_name_values_and_keeps_the_names() -> None:
    t = pd.DataFrame(
        {
            "indicator": ["has_mfi_loan", "not_declared"],
            "province_code": ["1", "2"],
            "estimate": [0.3, 0.2],
        }
    )
    shown, names = label_table(t)
    assert shown["indicator"].tolist() == ["Has an outstanding MFI loan", "not_declared"]
    assert {"Province (NIS code)", "Estimate"} <= set(shown.columns)
    assert names == {
        "Has an outstanding MFI loan": "has_mfi_loan",
        "Province (NIS code)": "province_code",
        "Estimate": "estimate",
    }
