"""Stage ``reach``: the programme's own indicators, estimated from the survey with their intervals.

Reads ``<processed>/analysis/household_wave.parquet`` (the households of ``reach.wave``) and the
data identity (``tables/survey.json``); estimates every indicator declared in
:mod:`ctip_research.features.programme` with the survey design of ``fit.design``
(:func:`ctip_research.models.reach.estimate_reach`), passes the table through the disclosure
authority and writes to ``<processed>/reach/``:

- ``reach.csv``: one row per indicator and domain level (estimate, standard error, interval,
  design effect, degrees of freedom, unweighted counts, the programme's administrative count
  and whether the interval contains it, ``status``); suppressed cells kept, blanked;
- ``reach.md`` and ``reach.docx``: the same table for reading and for Word;
- ``reach.json``: the settings, the design, the indicator declarations and the indicators the
  survey does not record;
- ``reach.disclosure.json``: the check record of these four files;
- ``reach_by_province.{png,svg}``, ``.caption.md``, ``.alt.txt``, ``.data.csv`` and
  ``.disclosure.json``: the figure of households supported by province.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ctip_research.config import Params
from ctip_research.disclosure import DisclosurePolicy
from ctip_research.errors import InputFileError
from ctip_research.features.programme import programme_indicator_dictionary
from ctip_research.identity import IDENTITY_FILE, read_identity, source_label
from ctip_research.io import (
    CURVE_DIGITS,
    PUBLISHED_DIGITS,
    file_sha256,
    write_bytes,
    write_csv,
    write_json,
    write_text,
)
from ctip_research.log import get_logger
from ctip_research.models.reach import (
    estimate_reach,
    gate_reach,
    reach_markdown,
    render_reach_docx,
)
from ctip_research.reporting.reach import REACH_TEMPLATES, build_reach_figure, reach_notes
from ctip_research.reporting.style import render_figure
from ctip_research.reporting.trace import traced_text
from ctip_research.runs import require_upstream
from ctip_research.stages._publish import write_record

log = get_logger("reach")

__all__ = ["run_reach"]

_TITLE = "Programme reach: the programme's indicators estimated from the survey"


def run_reach(params: Params) -> None:
    """Estimate, gate and write the programme-reach table and figure (see the module docstring)."""
    require_upstream("features", params.paths, consumer="reach")
    rp = params.reach
    processed = Path(params.paths.processed)
    src = processed / "analysis" / "household_wave.parquet"
    if not src.exists():
        raise InputFileError("analysis table not found; run `ctip features` first", file=src)
    hw = pd.read_parquet(src)
    data = hw.loc[hw["wave"] == rp.wave]
    if data.empty:
        raise InputFileError(f"reach.wave: no household of wave {rp.wave}", file=src)
    result = estimate_reach(
        data,
        params.fit.design,
        treatment=rp.treatment,
        domains=rp.domains,
        alpha=1.0 - rp.conf_level,
    )
    policy = DisclosurePolicy.from_privacy(params.privacy)
    table, record = gate_reach(result.table, policy, admin_counts=rp.admin_counts)
    notes = reach_notes(result.not_recorded)
    out = processed / "reach"
    files = [
        write_csv(out / "reach.csv", table, digits=PUBLISHED_DIGITS),
        write_text(out / "reach.md", f"# {_TITLE}\n\n" + reach_markdown(table, notes=notes)),
        write_bytes(out / "reach.docx", render_reach_docx(table, title=_TITLE, notes=notes)),
        write_json(
            out / "reach.json",
            {
                "wave": rp.wave,
                "conf_level": rp.conf_level,
                "design": result.design,
                "n_psu": result.n_psu,
                "not_recorded": result.not_recorded,
                "notes": notes,
                "admin_counts": dict(rp.admin_counts),
                "indicators": programme_indicator_dictionary().to_dict("records"),
            },
            digits=PUBLISHED_DIGITS,
        ),
    ]
    write_record(out, "reach", record, files)
    source = traced_text(
        source_label(read_identity(processed)),
        f"tables/{IDENTITY_FILE}",
        derivation="survey name and number of provinces",
    )
    ex = build_reach_figure(table, policy, wave=rp.wave, source=source)
    fig_files = [
        write_bytes(out / f"{ex.name}.{fmt}", render_figure(ex.figure, fmt, dpi=rp.dpi))
        for fmt in ("png", "svg")
    ]
    fig_files += [
        write_text(out / f"{ex.name}.caption.md", ex.caption + "\n"),
        write_text(out / f"{ex.name}.alt.txt", ex.alt_text + "\n"),
        write_csv(out / f"{ex.name}.data.csv", ex.data, digits=CURVE_DIGITS),
    ]
    write_json(
        out / f"{ex.name}.json",
        {
            "name": ex.name,
            "title": REACH_TEMPLATES["figure.title"],
            "caption": ex.caption,
            "alt_text": ex.alt_text,
            "trace": ex.trace,
            "files": {p.name: file_sha256(p) for p in fig_files},
        },
        digits=CURVE_DIGITS,
    )
    fig_files.append(out / f"{ex.name}.json")
    write_record(out, ex.name, ex.record, fig_files)
    log.info(
        "reach: %d indicator cell(s), %d suppressed; not recorded: %s -> %s",
        len(table),
        int((table["status"] == "suppressed").sum()),
        ", ".join(result.not_recorded) or "none",
        out,
    )
