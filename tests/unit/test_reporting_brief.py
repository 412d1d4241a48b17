"""The brief's text is generated from the estimates: wording follows the intervals."""

from __future__ import annotations

import pandas as pd
import pytest

from ctip_research.errors import DisclosureError
from ctip_research.reporting.brief import compose_brief, fmt_pp, pdf_page_count, render_html
from ctip_research.reporting.disclosure import DisclosureThresholds

FIGS = [
    {"name": n, "title": n, "caption": f"caption {n}", "alt_text": f"alt {n}", "numbers": {}}
    for n in ("effect_estimates", "programme_effect")
]


def _estimates(head: tuple[float, float, float], n_obs: int = 3000) -> pd.DataFrame:
    rows = [
        ("naive_ols", 0.13, 0.11, 0.15),
        ("iv_branches", *head),
        ("programme_adjusted", -0.01, -0.03, 0.01),
    ]
    return pd.DataFrame(
        [
            {
                "model": m,
                "outcome": "y",
                "exposure": "x",
                "term": "x",
                "estimate": e,
                "conf_low": lo,
                "conf_high": hi,
                "n_obs": n_obs,
                "n_psu": 150,
            }
            for m, e, lo, hi in rows
        ]
    )


def _compose(est: pd.DataFrame, kinds: dict[str, str] | None = None) -> dict:
    return compose_brief(
        est,
        FIGS,
        title="T",
        subtitle="S",
        organisation="O",
        date_label="D",
        headline_model="iv_branches",
        naive_model="naive_ols",
        programme_model="programme_adjusted",
        figure_names=["effect_estimates"],
        model_labels={"iv_branches": "2SLS"},
        thresholds=DisclosureThresholds(),
        data_notice=None,
        provenance={"Package": "x"},
        model_kinds=kinds,
    )


def test_brief_states_a_clear_effect_when_the_interval_excludes_zero() -> None:
    content = _compose(_estimates((0.085, 0.026, 0.144)))
    first = content["findings"][0]
    assert first["lead"] == "MFI debt makes migration more likely."
    assert "8.5 percentage points" in first["text"] and "95% CI 2.6 to 14.4" in first["text"]
    assert content["numbers"]["headline.estimate"] == 0.085
    assert "includes zero" in content["findings"][-1]["text"]  # programme interval spans zero


def test_headline_explains_how_its_model_identifies_the_effect() -> None:
    est = _estimates((0.085, 0.026, 0.144))
    iv = _compose(est, {"iv_branches": "iv"})["findings"][0]["text"]
    panel = _compose(est, {"iv_branches": "panel"})["findings"][0]["text"]
    assert "access to MFI branches" in iv and "same households" not in iv
    assert "same households" in panel and "access to MFI branches" not in panel


def test_headline_names_the_assumption_its_model_needs() -> None:
    est = _estimates((0.085, 0.026, 0.144))
    panel = _compose(est, {"iv_branches": "panel"})["findings"][0]["text"]
    iv = _compose(est, {"iv_branches": "iv"})["findings"][0]["text"]
    # the panel needs strict exogeneity (fails in the persistent_debt_migrants scenario), 2SLS
    # the exclusion restriction and relevance (instrument_direct_effect, weak_instrument)
    assert "borrowing in one wave does not change migration in the other" in panel
    assert "only through borrowing" in iv and "one wave" not in iv
    assert panel.endswith("after it was repaid.")


def test_brief_says_no_clear_effect_when_the_interval_includes_zero() -> None:
    content = _compose(_estimates((0.02, -0.03, 0.07)))
    assert content["findings"][0]["lead"] == "No clear effect of MFI debt on migration."
    assert content["recommendations"][0].startswith("Do not assume")


def test_brief_refuses_a_regression_under_the_residual_df_threshold() -> None:
    with pytest.raises(DisclosureError):
        _compose(_estimates((0.085, 0.026, 0.144), n_obs=6))


def test_fmt_pp_rounds_to_one_decimal_without_negative_zero() -> None:
    assert (fmt_pp(0.0849), fmt_pp(-0.0004), fmt_pp(-0.021)) == ("8.5", "0.0", "-2.1")


def test_html_escapes_text_and_embeds_alt_text() -> None:
    content = _compose(_estimates((0.085, 0.026, 0.144)))
    content["title"] = "Debt <& migration>"
    page = render_html(content, figure_png={"effect_estimates": b"\x89PNG"})
    assert "Debt &lt;&amp; migration&gt;" in page
    assert 'alt="alt effect_estimates"' in page


def test_pdf_page_count_counts_page_objects_only() -> None:
    pdf = b"<< /Type /Pages /Count 2 >> << /Type /Page >> << /Type/Page /X 1 >>"
    assert pdf_page_count(pdf) == 2
