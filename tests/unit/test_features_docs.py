"""docs/features.md embeds the feature dictionary generated from the declarations and params."""

from __future__ import annotations

from ctip_research.features import ALL_FEATURES, render_feature_dictionary
from features_factory import REPO_ROOT, features_params

MARKER = "<!-- Generated from definitions.py and params.yaml (features)"


def test_docs_feature_dictionary_is_current() -> None:
    text = (REPO_ROOT / "docs" / "features.md").read_text(encoding="utf-8")
    assert MARKER in text
    generated = text.split(MARKER, 1)[1].split("-->", 1)[1].strip()
    expected = render_feature_dictionary(features_params(), heading_level=2).strip()
    assert generated == expected, (
        "docs/features.md is stale: regenerate its dictionary part with "
        "render_feature_dictionary(params.features, heading_level=2)"
    )


def test_docs_name_every_feature() -> None:
    text = (REPO_ROOT / "docs" / "features.md").read_text(encoding="utf-8")
    missing = [f.name for f in ALL_FEATURES if f"`{f.name}`" not in text]
    assert missing == []
