"""Names and record pieces shared by the rules."""

from __future__ import annotations

from typing import Any

from ctip_research.disclosure._policy import DisclosurePolicy

CELL_KINDS: tuple[str, ...] = ("count", "share", "mean", "median", "money")
#: Columns the rules need but that are never published (dominance inputs).
AUX_COLUMNS: tuple[str, ...] = ("top1_value", "top2_value", "total_value")
#: Columns whose presence makes a table record-level (one row per unit).
IDENTIFIER_COLUMNS: tuple[str, ...] = (
    "household_id",
    "member_id",
    "loan_id",
    "enumerator_id",
    "respondent_id",
    "episode_id",
)
#: Column names that hold individual model scores (never published per record).
SCORE_COLUMNS: tuple[str, ...] = ("risk_score", "score", "predicted_proba", "predicted_probability")
#: Columns blanked when a cell or a model is suppressed.
BLANKED_COLUMNS: tuple[str, ...] = (
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "n_numerator",
    "n_denominator",
    "n_complement",
    "p_value",
    "statistic",
)
#: Regression columns blanked when a model is suppressed.
REGRESSION_BLANKED: tuple[str, ...] = (
    *BLANKED_COLUMNS,
    "n_obs",
    "n_psu",
    "df_resid",
    "n_numerator",
)


def check(name: str, failing: int, detail: str) -> dict[str, Any]:
    """One check of a record."""
    return {"check": name, "passed": failing == 0, "n_failing": int(failing), "detail": detail}


def header(policy: DisclosurePolicy, name: str, artefact_type: str) -> dict[str, Any]:
    """The part every record starts with: what was checked under which policy.

    ``override_reason`` is printed in every record (null when no threshold is looser than its
    documented value).
    """
    return {
        "artefact": name,
        "artefact_type": artefact_type,
        "override_reason": policy.override_reason,
        "policy": policy.describe(),
    }
