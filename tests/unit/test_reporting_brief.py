"""The brief says only what the estimates show: templates chosen by conditions on the estimates,
comparisons only within an estimand, mechanisms only where modelled, every number traced."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pandas as pd
import pytest

from ctip_research.disclosure import DisclosurePolicy, number_tokens
from ctip_research.errors import DisclosureError
from ctip_research.reporting.brief import (
    ASSUMPTIONS,
    TEMPLATES,
    BriefInputs,
    check_brief,
    compose_brief,
    pdf_page_count,
    render_html,
)
from ctip_research.reporting.trace import traced_text
from page_text import visible_text

POLICY = DisclosurePolicy()
LABELS = {
    "naive_ols": "Naive OLS",
    "fe_village": "LPM village FE",
    "iv_branches": "2SLS branches",
    "panel_fe": "Panel household FE",
    "programme_adjusted": "Programme adjusted",
    "shock_borrowing": "Shock and borrowing",
    "shock_migration": "Shock and migration",
}
#: Words that state why borrowers migrate more (the synthetic generator's story), which only a
#: mechanism template may say.
MECHANISM_WORDS = re.compile(
    r"distress|hardship|common cause|counts (that|it)? ?as an effect", re.I
)


def _row(
    model: str,
    est: tuple[float, float, float],
    *,
    estimand: str,
    exposure: str = "has_mfi_loan",
    outcome: str = "has_international_migrant",
    population: str = "wave 1",
    level: float = 0.95,
    n_obs: int = 3900,
    status: str = "published",
) -> dict[str, Any]:
    e, lo, hi = est
    return {
        "model": model,
        "outcome": outcome,
        "exposure": exposure,
        "term": exposure,
        "estimate": e if status == "published" else float("nan"),
        "std_error": 0.01 if status == "published" else float("nan"),
        "conf_low": lo if status == "published" else float("nan"),
        "conf_high": hi if status == "published" else float("nan"),
        "p_value": 0.001 if status == "published" else float("nan"),
        "n_obs": n_obs if status == "published" else float("nan"),
        "n_psu": 220 if status == "published" else float("nan"),
        "design": "clustered",
        "df_resid": n_obs - 10 if status == "published" else float("nan"),
        "n_numerator": float("nan"),
        "estimand": estimand,
        "population": population,
        "conf_level": level,
        "status": status,
        "suppression_reason": None if status == "published" else "residual_df",
    }


def _estimates(
    *,
    head: tuple[float, float, float] = (0.077, 0.055, 0.10),
    naive: tuple[float, float, float] = (0.124, 0.092, 0.155),
    other: tuple[float, float, float] = (0.060, 0.040, 0.080),
    level: float = 0.95,
    head_status: str = "published",
    extra: list[dict[str, Any]] | None = None,
) -> pd.DataFrame:
    rows = [
        _row("naive_ols", naive, estimand="ate", level=level),
        _row("fe_village", other, estimand="ate", level=level),
        _row("iv_branches", (0.095, -0.04, 0.23), estimand="late", level=level),
        _row(
            "panel_fe",
            head,
            estimand="within_household",
            population="all waves",
            level=level,
            n_obs=7366,
            status=head_status,
        ),
        _row(
            "programme_adjusted",
            (-0.049, -0.088, -0.010),
            estimand="att",
            exposure="received_livelihood_grant_w2",
            outcome="has_risky_migration",
            population="all waves; is_urban == False",
            level=level,
            n_obs=2129,
        ),
        *(extra or []),
    ]
    return pd.DataFrame(rows)


def _figure_data(level: float = 0.95) -> dict[str, pd.DataFrame]:
    burden = pd.DataFrame(
        {
            "indicator": ["has_mfi_loan", "is_over_indebted"],
            "province": ["All provinces"] * 2,
            "estimate": [0.392, 0.121],
            "conf_low": [0.369, 0.108],
            "conf_high": [0.415, 0.134],
            "conf_level": level,
            "status": "published",
        }
    )
    band = pd.DataFrame(
        {
            "indicator": ["has_risky_migration"],
            "debt_band": ["All households"],
            "estimate": [0.14],
            "conf_low": [0.13],
            "conf_high": [0.15],
            "conf_level": level,
            "status": "published",
        }
    )
    return {"debt_burden_by_province": burden, "migration_by_debt_band": band}


def _figures() -> list[dict[str, Any]]:
    return [
        {
            "name": n,
            "title": f"Title of {n.replace('_', ' ')}",
            "caption": f"Caption of {n.replace('_', ' ')}; n = 3,995 households.",
            "alt_text": f"Alt text of {n.replace('_', ' ')}.",
            "trace": {
                "caption": [{"text": "3,995", "source": "figures/x.data.csv", "value": 3995}],
                "alt": [],
            },
            "width_in": 6.4,
        }
        for n in ("effect_estimates", "migration_by_debt_band", "targeting_curve")
    ]


def _inputs(est: pd.DataFrame, *, level: float = 0.95) -> BriefInputs:
    return BriefInputs(
        estimates=est,
        sample={
            "waves": [1, 2],
            "n_households": {"1": 3995, "2": 3683},
            "n_psu": 221,
            "n_provinces": 8,
        },
        figures=_figures(),
        figure_data=_figure_data(level),
        risk_metrics={
            "overall": {
                "top_share_reached": 0.562,
                "top_share_reached_low": 0.514,
                "top_share_reached_high": 0.613,
            },
            "settings": {"top_share": 0.2, "ci_level": level},
        },
        records=[{"artefact": "estimates.csv", "passed": True}],
    )


def _compose(
    est: pd.DataFrame,
    *,
    level: float = 0.95,
    comparison: str | None = "fe_village",
    headline: str = "panel_fe",
    policy: DisclosurePolicy = POLICY,
) -> dict[str, Any]:
    return compose_brief(
        _inputs(est, level=level),
        title="Microfinance debt and risky migration",
        subtitle="What the evidence says",
        organisation="ctip_research policy brief",
        date_label="January 2026",
        headline_model=headline,
        naive_model="naive_ols",
        comparison_model=comparison,
        programme_model="programme_adjusted",
        figure_names=["effect_estimates", "migration_by_debt_band", "targeting_curve"],
        model_labels=LABELS,
        instruments={"iv_branches": ["mfi_branches_per_1000hh"]},
        policy=policy,
        data_notice="Demonstration: synthetic data.",
        provenance={
            "package": traced_text("ctip_research 0.1.0", "package", derivation="version"),
            "checksum": traced_text("56685c7e3923", "models/estimates.csv", derivation="sha256"),
        },
        wave=1,
    )


def _page_text(content: dict[str, Any]) -> str:
    return visible_text(render_html(content, figure_png={}))


def _templates(content: dict[str, Any]) -> list[str]:
    return [s["template"] for s in content["sentences"]]


def test_a_clear_effect_is_stated_with_the_level_the_estimates_carry() -> None:
    content = _compose(_estimates(level=0.9), level=0.9)
    first = content["findings"][0]["text"]
    assert "7.7 percentage points more likely" in first and "90% CI 5.5 to 10.0" in first
    page = _page_text(content)
    assert "90%" in page and "95%" not in page
    assert "90% confidence intervals throughout" in " ".join(content["methods"])


def test_no_clear_effect_when_the_interval_includes_zero() -> None:
    content = _compose(_estimates(head=(0.02, -0.03, 0.07)))
    assert content["key_points"][0].startswith("No clear effect of an MFI loan")
    assert "the interval includes no effect at all" in content["findings"][0]["text"]
    assert content["recommendations"][0].startswith("Do not assume")
    assert "effect.up" not in _templates(content)


def test_the_headline_names_its_estimand_and_identifying_assumption() -> None:
    text = _compose(_estimates())["findings"][0]["text"]
    assert "households whose borrowing changed between waves" in text
    assert "compares each household with itself" in text
    iv = _compose(_estimates(), headline="iv_branches")["findings"][0]["text"]
    assert "MFI branch density" in iv and "compares each household with itself" not in iv


def test_naive_and_preferred_differ_without_a_modelled_mechanism_no_mechanism_claim() -> None:
    # the naive estimate (12.4) is far above the preferred one (7.7) and above the same-estimand
    # comparison (6.0, intervals apart); no model in the run estimates why
    content = _compose(_estimates())
    claims = {s["claim"] for s in content["sentences"]}
    assert "mechanism" not in claims
    assert "comparison.larger" in _templates(content)
    page = _page_text(content)
    assert not MECHANISM_WORDS.search(page), MECHANISM_WORDS.search(page)
    assert "times" not in page  # no ratio of estimates of different quantities


def test_a_mechanism_sentence_appears_only_when_models_estimate_both_links() -> None:
    links = [
        _row(
            "shock_borrowing",
            (0.05, 0.02, 0.08),
            estimand="ate",
            exposure="shock_health",
            outcome="has_mfi_loan",
        ),
        _row(
            "shock_migration",
            (0.04, 0.01, 0.07),
            estimand="ate",
            exposure="shock_health",
            outcome="has_international_migrant",
        ),
    ]
    content = _compose(_estimates(extra=links))
    assert "mechanism.common_cause" in _templates(content)
    assert "common cause of both" in content["findings"][1]["text"]
    # one link only: not a tested mechanism
    content = _compose(_estimates(extra=links[:1]))
    assert "mechanism" not in {s["claim"] for s in content["sentences"]}
    # both links, but one interval includes zero: not shown either
    weak = [links[0], {**links[1], "conf_low": -0.01}]
    assert "mechanism.common_cause" not in _templates(_compose(_estimates(extra=weak)))


def test_estimates_of_different_estimands_are_not_compared() -> None:
    # naive OLS (ate) beside 2SLS (late): not the same quantity
    content = _compose(_estimates(), comparison="iv_branches")
    assert "comparison.other" in _templates(content)
    text = content["findings"][1]["text"]
    assert "not the quantity of the preferred estimate" in text
    assert "more than" not in text and "less than" not in text
    cond = next(s for s in content["sentences"] if s["template"] == "comparison.other")
    assert cond["conditions"]["same_estimand"] is False


def test_overlapping_intervals_of_the_same_estimand_are_called_similar() -> None:
    content = _compose(_estimates(other=(0.114, 0.085, 0.143)))
    assert "comparison.similar" in _templates(content)
    assert "the intervals overlap" in content["findings"][1]["text"]


def test_a_suppressed_headline_is_said_to_be_suppressed_without_a_number() -> None:
    content = _compose(_estimates(head_status="suppressed"))
    assert (
        content["key_points"][0] == "The preferred estimate is not published (disclosure control)."
    )
    assert number_tokens(content["findings"][0]["text"]) == []
    assert content["recommendations"][0].startswith("Do not assume")


def test_every_template_is_whole_and_holds_no_number_of_its_own() -> None:
    for key, msgid in {
        **TEMPLATES,
        **{f"assumption.{k}": v for k, v in ASSUMPTIONS.items()},
    }.items():
        literal = re.sub(r"\{[a-z_]+\}", "", msgid)
        assert number_tokens(literal) == [], key
        assert msgid.rstrip().endswith((".", ":")) or key == "protection.override", key


def test_every_number_on_the_rendered_page_is_traced() -> None:
    content = _compose(_estimates())
    page = _page_text(content)
    printed = Counter(number_tokens(page))
    traced = Counter(
        t for b in content["blocks"] for e in b["trace"] for t in number_tokens(str(e["text"]))
    )
    assert printed and not printed - traced, printed - traced
    record = check_brief(content, POLICY, [{"artefact": "estimates.csv", "passed": True}])
    assert record["passed"] and record["override_reason"] is None
    for block in content["blocks"]:
        for entry in block["trace"]:
            assert entry["source"], entry


def test_an_override_reason_is_printed_in_the_brief() -> None:
    policy = DisclosurePolicy(min_cell_count=8, override_reason="pilot wave, reviewed")
    content = _compose(_estimates(), policy=policy)
    assert (
        "looser than the documented values were used (min_cell_count): pilot wave, reviewed"
        in (content["protection"])
    )
    assert "fewer than 8 households" in content["protection"]


def test_the_brief_refuses_a_quoted_regression_under_the_residual_df_threshold() -> None:
    est = _estimates()
    est.loc[est["model"] == "panel_fe", ["n_obs", "df_resid"]] = [12, 2]
    with pytest.raises(DisclosureError, match="residual_df"):
        _compose(est)


def test_html_escapes_text_and_embeds_alt_text() -> None:
    content = _compose(_estimates())
    content["title"] = "Debt <& migration>"
    page = render_html(content, figure_png={"effect_estimates": b"\x89PNG"})
    assert "Debt &lt;&amp; migration&gt;" in page
    assert 'alt="Alt text of effect estimates."' in page


def test_pdf_page_count_counts_page_objects_only() -> None:
    pdf = b"<< /Type /Pages /Count 2 >> << /Type /Page >> << /Type/Page /X 1 >>"
    assert pdf_page_count(pdf) == 2
