"""Stage ``clean``: interim tables -> checked, corrected, de-identified processed tables.

Reads ``<interim>/ingested/{households,members,loans,migration_episodes}.parquet``,
``special_codes.parquet``, ``value_fixes.parquet``, ``review_values.parquet`` and the
corrections log (``clean.corrections_file``). Writes
``<processed>/tables/<table>.parquet`` and ``.dta``, ``data_dictionary.md`` / ``.html`` beside
them, and ``<processed>/quality/`` ``quality_report.json`` / ``.html``, ``ledger.json``,
``metrics.json``, the data identity ``<processed>/tables/survey.json`` (survey name, sources,
waves, provinces, raw files and their hashes; :mod:`ctip_research.identity`) and the run record
``<processed>/tables/run.json``. It refuses interim tables whose ingest run failed, did not
finish or was mixed with another (:mod:`ctip_research.runs`). Every output table passes the strict schema and the PII scan before anything
is written; each file is written atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from ctip_research.clean import clean_tables
from ctip_research.clean.dictionary import (
    build_data_dictionary,
    render_dictionary_html,
    render_dictionary_markdown,
)
from ctip_research.clean.export import stata_labels, to_stata_frame
from ctip_research.clean.pipeline import TABLE_ORDER
from ctip_research.clean.report import build_metrics, build_quality_report, render_quality_html
from ctip_research.config import Params
from ctip_research.determinism import fix_dta_timestamp_file
from ctip_research.errors import InputFileError
from ctip_research.identity import IDENTITY_FILE, build_identity
from ctip_research.io import read_json, write_json, write_parquet, write_text, write_with
from ctip_research.log import get_logger
from ctip_research.runs import require_upstream, run_dir, stage_run
from ctip_research.schemas import CANONICAL_TABLES, validate_table

log = get_logger("clean")

#: Columns of the processed layer that the PII scan flags by design, with the reason.
PII_WAIVERS: dict[str, str] = {
    "household_id": "keyed hash (HMAC-SHA256) pseudonym, not reversible without the key",
    "psu_id": "pseudonymous village code, needed for design-based variance",
}


def _read_parquet(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError("interim table not found; run `ctip ingest` first", file=path)
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputFileError(
            f"cannot read Parquet file ({type(exc).__name__})", file=path
        ) from None


class _InterimTables(Mapping[str, pd.DataFrame]):
    """The interim tables, each read from its Parquet file when it is asked for (not kept).

    ``clean_tables`` reads each input once to prepare it; not holding the inputs here keeps one
    copy of the data fewer in memory at census size.
    """

    def __init__(self, folder: Path) -> None:
        self._paths = {name: folder / f"{name}.parquet" for name in TABLE_ORDER}
        self.rows: dict[str, int] = {}
        for name, path in self._paths.items():
            if not path.is_file():
                raise InputFileError("interim table not found; run `ctip ingest` first", file=path)
            try:
                self.rows[name] = int(pq.ParquetFile(path).metadata.num_rows)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise InputFileError(
                    f"cannot read Parquet file ({type(exc).__name__})", file=path
                ) from None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return _read_parquet(self._paths[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _read_corrections(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError("corrections log not found (clean.corrections_file)", file=path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(
            f"cannot read the corrections log ({type(exc).__name__})", file=path
        ) from None


def _hash_id_factory(params: Params, ingest_ledger: Mapping[str, Any]) -> Callable[[str], str]:
    """Pseudonymise raw household ids named in the corrections log, with ingest's key (the demo
    key only when ingest found every source to be the package's own synthetic survey).
    """
    from ctip_research.ingest.pseudonymise import pseudonymise, resolve_hmac_key

    cache: dict[str, str] = {}

    def hash_id(raw: str) -> str:
        if "key" not in cache:
            cache["key"] = resolve_hmac_key(
                env_var=params.privacy.hmac_key_env,
                key_file=params.privacy.hmac_key_file,
                demo_key=params.privacy.demo_key,
                embedded_default=bool(ingest_ledger.get("embedded_default")),
            )
        return pseudonymise(raw, cache["key"])

    return hash_id


def _scan_pii(df: pd.DataFrame, name: str, params: Params) -> None:
    from ctip_research.ingest.pii import check_pii

    check_pii(
        df,
        table=name,
        waivers=PII_WAIVERS,
        unique_share=params.ingest.pii_unique_share,
        pattern_share=params.ingest.pii_pattern_share,
        min_values=params.ingest.pii_min_values,
        reviewed_columns=list(df.columns),
    )


def _write_dta(target: Path, df: pd.DataFrame, name: str) -> None:
    import pyreadstat

    table = CANONICAL_TABLES[name]
    labels, values = stata_labels(table)
    column_labels: dict[str, str | None] = dict(labels)
    frame = to_stata_frame(df, table)

    def writer(tmp: Path) -> None:
        pyreadstat.write_dta(
            frame,
            str(tmp),
            file_label=f"ctip_research {name}"[:80],
            column_labels=column_labels,
            variable_value_labels=values,
        )
        fix_dta_timestamp_file(tmp)

    write_with(target, writer)


def run_clean(params: Params) -> None:
    """Run the data-quality checks and write the processed layer (see module docstring)."""
    upstream = require_upstream("ingest", params.paths, consumer="clean")
    with stage_run("clean", run_dir("clean", params.paths)) as run:
        run.read_from({"ingest": upstream})
        run.finish(_clean(params))


def _read_ingest_ledger(interim: Path) -> dict[str, Any]:
    path = interim / "ingest_ledger.json"
    if not path.is_file():  # interim tables written by hand: no source is recorded
        log.warning("clean: %s not found; the data identity names no source", path)
        return {}
    try:
        ledger = read_json(path)
    except (ValueError, OSError):
        raise InputFileError("ingest ledger is not valid JSON", file=path) from None
    return ledger if isinstance(ledger, dict) else {}


def _survey_period(params: Params) -> tuple[int, int] | None:
    """First and last year of the dated rate table (the survey period by default)."""
    years = sorted(params.ingest.exchange_rates)
    return (int(years[0]), int(years[-1])) if years else None


def ingest_findings(ingest_ledger: Mapping[str, Any]) -> pd.DataFrame:
    """Quality-report issues of what ingest found and read anyway (warnings, never values).

    * ``orphan``: a row of a repeat group with no parent row (left out by ingest);
    * ``empty_source``: a raw table with no data rows;
    * ``id_variant``: a household id that differs from one met before only in case, blanks or
      hyphens (read as that household);
    * ``special_code_clash``: a special code that is also a valid value of its column.

    Examples
    --------
    >>> ingest_findings({"empty_tables": [{"source": "s", "file": "a.csv", "table": "loans"}]})[
    ...     ["check", "table", "file"]].values.tolist()
    [['empty_source', 'loans', 'a.csv']]
    """
    from ctip_research.clean._common import ISSUE_DTYPES

    rows: list[dict[str, Any]] = []

    def add(check: str, table: Any, source: Any, file: Any, row: Any, column: Any, detail: str):
        rows.append(
            {
                "check": check,
                "table": table,
                "source": source,
                "file": file,
                "row": row,
                "column": column,
                "severity": "warning",
                "action": "flag",
                "detail": detail,
            }
        )

    for src in ingest_ledger.get("sources", []):
        for f in src.get("files", []):
            for r in f.get("orphan_rows", []):
                add(
                    "orphan",
                    f["table"],
                    src.get("source"),
                    f["path"],
                    r,
                    None,
                    "no parent row: left out by ingest",
                )
            for c in f.get("special_code_clashes", []):
                add(
                    "special_code_clash",
                    f["table"],
                    src.get("source"),
                    f["path"],
                    None,
                    c.get("canonical"),
                    f"{c['detail']} ({c['values']} value(s) read as it)",
                )
    for e in ingest_ledger.get("empty_tables", []):
        add("empty_source", e["table"], e["source"], e["file"], None, None, "no data rows")
    for v in ingest_ledger.get("id_variants", []):
        for r in v["rows"]:
            add(
                "id_variant",
                v.get("table"),
                v["source"],
                v["file"],
                r,
                "household_id",
                "id differs from another only in case, blanks or hyphens",
            )
    cols = [c for c in ISSUE_DTYPES if c != "index"]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype({c: ISSUE_DTYPES[c] for c in cols})


def _clean(params: Params) -> list[Path]:
    t0 = time.perf_counter()
    interim = Path(params.paths.interim) / "ingested"
    ingest_ledger = _read_ingest_ledger(interim)
    tables = _InterimTables(interim)
    sc_path = interim / "special_codes.parquet"
    special = _read_parquet(sc_path) if sc_path.is_file() else None
    vf_path = interim / "value_fixes.parquet"
    value_fixes = _read_parquet(vf_path) if vf_path.is_file() else None
    rv_path = interim / "review_values.parquet"
    review_values = _read_parquet(rv_path) if rv_path.is_file() else None
    corr_path = params.clean.corrections_file
    corrections = _read_corrections(Path(corr_path)) if corr_path is not None else None
    log.info("clean: %s", ", ".join(f"{k} {n:,} rows" for k, n in tables.rows.items()))

    result = clean_tables(
        tables,
        params.clean,
        special_codes=special,
        value_fixes=value_fixes,
        review_values=review_values,
        corrections=corrections,
        hash_id=_hash_id_factory(params, ingest_ledger),
        survey_period=_survey_period(params),
    )
    result.issues = pd.concat(
        [result.issues, ingest_findings(ingest_ledger)], ignore_index=True
    ).astype(result.issues.dtypes.to_dict())
    del tables, special, value_fixes, review_values  # the interim inputs (memory at census size)
    report = build_quality_report(result)
    _scan_pii(result.issues, "quality_report.issues", params)
    processed: dict[str, pd.DataFrame] = {}
    for name, df in result.pop_processed():  # each cleaned table released once converted
        validate_table(df, CANONICAL_TABLES[name])
        _scan_pii(df, name, params)
        processed[name] = df

    min_cell = params.privacy.min_cell_count
    dictionary = build_data_dictionary(processed, min_cell=min_cell)
    out_tables = Path(params.paths.processed) / "tables"
    out_quality = Path(params.paths.processed) / "quality"
    rows_out = {k: v.shape[0] for k, v in processed.items()}
    identity = build_identity(ingest_ledger, processed["households"])
    written: list[Path] = []
    for name in list(processed):
        df = processed.pop(name)  # each table (and its Stata copy) freed once written
        written.append(write_parquet(out_tables / f"{name}.parquet", df))
        _write_dta(out_tables / f"{name}.dta", df, name)
        written.append(out_tables / f"{name}.dta")
        del df
    written += [
        write_text(out_tables / "data_dictionary.md", render_dictionary_markdown(dictionary)),
        write_text(out_tables / "data_dictionary.html", render_dictionary_html(dictionary)),
        write_json(out_tables / IDENTITY_FILE, identity),
        write_json(out_quality / "quality_report.json", report),
        write_text(out_quality / "quality_report.html", render_quality_html(report)),
        write_json(out_quality / "ledger.json", result.ledger),
        write_json(out_quality / "metrics.json", build_metrics(report)),
    ]
    log.info(
        "clean: %d issue(s) %s; rows out %s; %.1f s",
        report["summary"]["n_issues"],
        report["summary"]["by_check"],
        rows_out,
        time.perf_counter() - t0,
    )
    if report["summary"]["n_issues"] == 0:
        log.info("clean: the checks found no quality issue")
    return written
