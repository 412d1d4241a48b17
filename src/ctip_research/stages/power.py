"""Stage ``power``: power and minimum detectable effect for the next survey round.

Reads ``<processed>/analysis/household_wave.parquet`` (one wave, ``power.wave``) to calibrate the
analytic design-effect formula of :mod:`ctip_research.models.power` (exposed share, outcome and
exposure variance within ``power.absorb`` groups, intra-village correlations of exposure and outcome, first-stage R-squared of the
instrument); writes to ``<processed>/power/``:

- ``power.csv``: estimator x villages x households per village: ``n_households, rho,
  design_effect, mde, power_at_effect``;
- ``power.md``: the MDE grid as Markdown tables (one per estimator);
- ``power.png``: MDE against the number of villages, one line per households per village;
- ``calibration.json``: the measured inputs and the settings.

Only aggregates are written (no household row). ``power.disclosure.json`` lists the four files
with the check record: the calibration's shares (exposed households, households with the
outcome) rest on enough households in numerator, denominator and complement, and the planning
grid holds no record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ctip_research.config import Params
from ctip_research.disclosure import Aggregates, Cells, DisclosurePolicy, disclose
from ctip_research.errors import InputFileError
from ctip_research.io import PUBLISHED_DIGITS, write_bytes, write_csv, write_json, write_text
from ctip_research.log import get_logger
from ctip_research.runs import require_upstream
from ctip_research.stages._publish import combine_records, write_record

log = get_logger("power")

__all__ = ["run_power"]

_LABELS = {
    "ols_village_clustered": "OLS / FE, village-clustered (rho = rho_x * rho_y)",
    "iv_2sls": "2SLS, village-level instrument (rho = rho_y, / sqrt(first-stage R2))",
}


def _markdown(table: pd.DataFrame, *, effect: float, power: float, alpha: float) -> str:
    size = f"{100 * alpha:.1f}".rstrip("0").rstrip(".")
    parts = [
        "# Minimum detectable effect of the MFI loan on migration",
        "",
        f"MDE (probability points) at {power:.0%} power, {size}% two-sided test; power for a "
        f"true effect of {effect:.3f} in brackets. Rows: villages; columns: households per "
        "village.",
    ]
    for est, g in table.groupby("estimator", sort=False):
        cell = g.assign(
            text=[f"{m:.3f} ({p:.2f})" for m, p in zip(g["mde"], g["power_at_effect"], strict=True)]
        )
        wide = cell.pivot(index="n_villages", columns="households_per_village", values="text")
        header = "| villages | " + " | ".join(f"m = {c}" for c in wide.columns) + " |"
        sep = "|---:|" + "---:|" * len(wide.columns)
        body = [f"| {i} | " + " | ".join(wide.loc[i]) + " |" for i in wide.index]
        parts += ["", f"## {_LABELS.get(str(est), str(est))}", "", header, sep, *body]
    return "\n".join(parts) + "\n"


def _figure(table: pd.DataFrame, *, effect: float, power: float, dpi: int) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from ctip_research.reporting.style import COLOURS, GREY, MARKERS, figure_style, render_figure

    with figure_style():
        fig = Figure(figsize=(8.0, 3.6), layout="constrained")
        axes = fig.subplots(1, 2, sharey=False)
        for ax, (est, g) in zip(axes, table.groupby("estimator", sort=False), strict=False):
            for i, (m, gm) in enumerate(g.groupby("households_per_village", sort=True)):
                ax.plot(
                    gm["n_villages"],
                    gm["mde"],
                    color=COLOURS[i % len(COLOURS)],
                    marker=MARKERS[i % len(MARKERS)],
                    label=f"{m} households / village",
                )
            ax.axhline(effect, color=GREY, linestyle="--", linewidth=1)
            ax.set_title("OLS / FE" if est == "ols_village_clustered" else "2SLS (branches)")
            ax.set_xlabel("villages (PSUs)")
            ax.set_ylabel(f"MDE at {power:.0%} power (points)")
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2f}"))
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:.2f}"))
        axes[0].legend(fontsize="small")
    return render_figure(fig, "png", dpi=dpi)


def _calibration_record(data: pd.DataFrame, p: Any, policy: DisclosurePolicy) -> dict[str, Any]:
    """The calibration's published shares as cells (exposed households, outcome households)."""
    rows = []
    for col in (p.exposure, p.outcome):
        v = pd.to_numeric(data[col].astype("Float64"), errors="coerce").dropna()
        rows.append(
            {
                "quantity": col,
                "estimate": float(v.mean()) if len(v) else float("nan"),
                "kind": "share",
                "n_numerator": int((v == 1).sum()),
                "n_denominator": int(len(v)),
            }
        )
    return disclose(Cells(pd.DataFrame(rows), "power: calibration shares"), policy).record


def _grid_record(table: pd.DataFrame, policy: DisclosurePolicy) -> dict[str, Any]:
    """The planning grid: hypothetical designs, aggregates only."""
    return disclose(
        Aggregates(table, "power: planning grid", count_columns=["n_households"]), policy
    ).record


def run_power(params: Params) -> None:
    """Calibrate the MDE formula on the analysis table and write the power grid, table, figure."""
    require_upstream("features", params.paths, consumer="power")
    from ctip_research.models.power import calibrate_design, power_table

    p = params.power
    src = Path(params.paths.processed) / "analysis" / "household_wave.parquet"
    out = Path(params.paths.processed) / "power"
    if not src.exists():
        raise InputFileError("analysis table not found; run `ctip features` first", file=src)
    cols = list(
        dict.fromkeys(
            [
                "wave",
                p.outcome,
                p.exposure,
                p.instrument,
                p.psu,
                p.absorb or "wave",
                p.weight or "wave",
            ]
        )
    )
    hw = pd.read_parquet(src, columns=cols)
    data = hw.loc[hw["wave"] == p.wave]
    cal = calibrate_design(
        data,
        outcome=p.outcome,
        exposure=p.exposure,
        psu=p.psu,
        instrument=p.instrument,
        absorb=p.absorb,
        weight=p.weight,
    )
    log.info(
        "power: P=%.3f var=%.3f rho_x=%.3f rho_y=%.3f R2_fs=%.4f deff_w=%.3f",
        cal.share_exposed,
        cal.outcome_variance,
        cal.icc_exposure,
        cal.icc_outcome,
        cal.r2_first_stage,
        cal.weighting_effect,
    )
    table = power_table(
        cal,
        villages=sorted(p.villages),
        households_per_village=sorted(p.households_per_village),
        effect=p.effect,
        alpha=p.alpha,
        power=p.power,
    )
    policy = DisclosurePolicy.from_privacy(params.privacy)
    record = combine_records(
        "power", [_calibration_record(data, p, policy), _grid_record(table, policy)], policy
    )
    files = [
        write_csv(out / "power.csv", table.round(6), digits=PUBLISHED_DIGITS),
        write_text(
            out / "power.md", _markdown(table, effect=p.effect, power=p.power, alpha=p.alpha)
        ),
        write_bytes(out / "power.png", _figure(table, effect=p.effect, power=p.power, dpi=p.dpi)),
    ]
    files.append(
        write_json(
            out / "calibration.json",
            {
                "method": "analytic design-effect formula (Duflo, Glennerster & Kremer 2007, eq. 11-12)"
                " calibrated on the household-wave table",
                "calibration": cal.to_dict(),
                "settings": p.model_dump(),
            },
            digits=PUBLISHED_DIGITS,
        )
    )
    write_record(out, "power", record, files)
