"""``ctip features``: canonical tables -> analysis tables, feature dictionary and metrics.

Reads ``<processed>/tables/{households,members,loans,migration_episodes}.parquet``; writes to
``<processed>/analysis/``: ``household_wave.parquet``, ``episodes.parquet``, ``panel.parquet``,
``feature_dictionary.md`` and ``.csv``, and ``features_metrics.json`` (row counts and survey-weighted
shares of the headline indicators by wave, and the columns without any value on this survey),
and the run record ``run.json`` (it refuses processed tables from a failed, unfinished or stale
clean run: :mod:`ctip_research.runs`). Every output is validated against its schema generated
from :mod:`ctip_research.features.definitions` (strict: no undeclared column) before it is written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ctip_research.config import Params, params_hash
from ctip_research.errors import InputFileError
from ctip_research.features import (
    build_analysis_table,
    build_episode_table,
    build_panel,
    episode_table,
    feature_dictionary,
    household_wave_table,
    panel_table,
    render_feature_dictionary,
    weighted_shares,
)
from ctip_research.io import write_csv, write_json, write_parquet, write_text
from ctip_research.log import get_logger
from ctip_research.runs import require_upstream, run_dir, stage_run
from ctip_research.schemas import coerce_dtypes, get_table, validate_table

log = get_logger("features")

TABLES = ("households", "members", "loans", "migration_episodes")

#: Indicators summarised in features_metrics.json (household level).
HEADLINE = (
    "has_mfi_loan",
    "has_formal_loan",
    "has_multiple_mfi_loans",
    "is_over_indebted",
    "is_over_indebted_by_ratio",
    "is_over_indebted_by_sacrifices",
    "has_land_collateral",
    "is_recycling_debt",
    "has_migrant",
    "has_international_migrant",
    "has_irregular_migrant",
    "used_broker",
    "migration_loan_financed",
    "has_returned_migrant",
    "has_forced_labour_case",
    "has_risky_migration",
)


def read_canonical_tables(directory: Path) -> dict[str, pd.DataFrame]:
    """Read and validate the four canonical tables from ``directory``."""
    tables = {}
    for name in TABLES:
        path = directory / f"{name}.parquet"
        if not path.exists():
            raise InputFileError("canonical table not found (run `ctip clean` first)", file=path)
        table = get_table(name)
        df = coerce_dtypes(pd.read_parquet(path), table)
        tables[name] = validate_table(df, table)
    return tables


def all_missing_columns(df: pd.DataFrame, *, skip: tuple[str, ...] = ()) -> list[str]:
    """Columns of ``df`` without a single value (e.g. asset features of a survey that asked no
    asset question): a normal result, stated once rather than discovered by a model.

    Examples
    --------
    >>> all_missing_columns(pd.DataFrame({"a": [1, None], "b": [None, None]}))
    ['b']
    """
    return [c for c in df.columns if c not in skip and not df[c].notna().any()]


def run_features(params: Params) -> None:
    """Build and write the analysis tables, the feature dictionary and the metrics."""
    upstream = require_upstream("clean", params.paths, consumer="features")
    with stage_run("features", run_dir("features", params.paths)) as run:
        run.read_from({"clean": upstream})
        run.finish(_features(params))


def _features(params: Params) -> list[Path]:
    p = params.features
    src = Path(params.paths.processed) / "tables"
    out = Path(params.paths.processed) / "analysis"
    tables = read_canonical_tables(src)
    log.info("features: read %s", ", ".join(f"{k} {len(v)}" for k, v in tables.items()))

    analysis = validate_table(build_analysis_table(tables, p), household_wave_table(p))
    episodes = validate_table(build_episode_table(tables, p), episode_table(p))
    panel = validate_table(build_panel(analysis, params=p), panel_table(p))

    empty = all_missing_columns(analysis)
    if empty:
        log.warning(
            "features: %d column(s) have no value for any household of this survey (not asked, "
            "or every answer missing): %s; they stay in the tables as missing, and the models "
            "that use them say so",
            len(empty),
            ", ".join(empty),
        )
    written = [
        write_parquet(out / "household_wave.parquet", analysis),
        write_parquet(out / "episodes.parquet", episodes),
        write_parquet(out / "panel.parquet", panel),
        write_text(out / "feature_dictionary.md", render_feature_dictionary(p)),
        write_csv(out / "feature_dictionary.csv", feature_dictionary(p)),
    ]

    shares = weighted_shares(analysis, HEADLINE, by=["wave"])
    ep_intl = episodes[episodes["is_international"].fillna(False).astype(bool)]
    ep_shares = weighted_shares(ep_intl, ["is_forced_labour", "is_risky_migration"], by=["wave"])
    metrics = {
        "params_hash": params_hash(params, "features"),
        "rows": {"household_wave": len(analysis), "episodes": len(episodes), "panel": len(panel)},
        "weighted_share": _by_wave(shares),
        "weighted_share_international_episodes": _by_wave(ep_shares),
        "n_missing": _missing(shares),
        "all_missing": empty,
    }
    written.append(write_json(out / "features_metrics.json", metrics))
    log.info(
        "features: wrote %d household-waves, %d episodes, %d panel households to %s",
        len(analysis),
        len(episodes),
        len(panel),
        out,
    )
    return written


def _by_wave(shares: pd.DataFrame) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for rec in shares.to_dict("records"):
        if pd.notna(rec["share"]):
            out.setdefault(f"wave{int(rec['wave'])}", {})[str(rec["variable"])] = round(
                float(rec["share"]), 6
            )
    return out


def _missing(shares: pd.DataFrame) -> dict[str, int]:
    out: dict[str, int] = {}
    for rec in shares.to_dict("records"):
        out[str(rec["variable"])] = out.get(str(rec["variable"]), 0) + int(rec["n_missing"])
    return dict(sorted(out.items()))
