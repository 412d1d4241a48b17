"""Labels of variables, model terms and tables for readers, from the declarations.

The English label of a column is the ``label`` of its declaration (canonical fields in
:mod:`ctip_research.schemas.tables`, indicators in :mod:`ctip_research.features.definitions`);
the few regression terms that are not columns (the intercept, wave dummies) are declared in
:data:`TERM_LABELS`. Other languages come from the message catalogue (context
``variable:<name>``, see :mod:`ctip_research.i18n`). Tables, figures and notebooks print the
label and keep the variable name within reach (a note under the table, a hover title).

Examples
--------
>>> variable_label("has_mfi_loan")
'Has an outstanding MFI loan'
>>> variable_label("wave_2")
'Wave 2 (vs wave 1)'
>>> variable_label("not_a_column")
'not_a_column'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ctip_research.i18n import translate

__all__ = ["STATISTIC_LABELS", "TERM_LABELS", "label_map", "variable_label", "variable_labels"]

_WAVE = re.compile(r"^(.+)_w(\d)$")

#: Regression terms that are not declared columns.
TERM_LABELS: dict[str, str] = {
    "Intercept": "Constant",
    "const": "Constant",
    "wave_2": "Wave 2 (vs wave 1)",
}


#: Columns of result tables (estimates and their uncertainty, counts, disclosure status).
STATISTIC_LABELS: dict[str, str] = {
    "estimate": "Estimate",
    "std_error": "Standard error",
    "conf_low": "CI low",
    "conf_high": "CI high",
    "statistic": "Test statistic",
    "p_value": "p-value",
    "deff": "Design effect",
    "status": "Disclosure status",
    "suppression_reason": "Suppression reason",
}


@lru_cache(maxsize=1)
def variable_labels() -> dict[str, str]:
    """Every declared column (canonical tables, design fields, indicators) -> English label.

    Indicators win over canonical columns of the same name (their label is the published one).
    """
    from ctip_research.features.definitions import ALL_FEATURES
    from ctip_research.schemas.tables import CANONICAL_TABLES, DESIGN_FIELDS

    out: dict[str, str] = {}
    for table in CANONICAL_TABLES.values():
        for f in table.fields:
            out.setdefault(f.name, f.label)
    for f in DESIGN_FIELDS:
        out.setdefault(f.name, f.label)
    for feat in ALL_FEATURES:
        out[feat.name] = feat.label
    out.update(TERM_LABELS)
    out.update(STATISTIC_LABELS)
    return out


def _english(name: str) -> str | None:
    labels = variable_labels()
    if name in labels:
        return labels[name]
    wave = _WAVE.match(name)  # a wave's copy in the panel table: <name>_w<k>
    if wave and wave.group(1) in labels:
        return f"{labels[wave.group(1)]} (wave {wave.group(2)})"
    return None


def variable_label(name: str, *, lang: str | None = None) -> str:
    """The label of column or term ``name`` in the output language (the name when undeclared).

    A wave's copy of a column in the panel table (``<name>_w1``) is labelled as the column
    with its wave.
    """
    english = _english(name)
    if english is None:
        return name
    wave = _WAVE.match(name)
    if wave and name not in variable_labels():
        base = translate(
            variable_labels()[wave.group(1)], context=f"variable:{wave.group(1)}", lang=lang
        )
        return translate("{label} (wave {wave})", context="variable:wave", lang=lang).format(
            label=base, wave=wave.group(2)
        )
    return translate(english, context=f"variable:{name}", lang=lang)


def label_map(names: Iterable[str], *, lang: str | None = None) -> dict[str, str]:
    """``name -> label`` for the declared ones among ``names`` (undeclared names are left out)."""
    return {str(n): variable_label(str(n), lang=lang) for n in names if _english(str(n))}
