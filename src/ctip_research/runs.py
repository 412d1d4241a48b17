"""Run records: which run of a stage wrote a set of outputs, and whether it finished.

A stage that produces data for later stages keeps a small record, ``run.json``, in its output
directory:

* when it raises it writes ``{"status": "failed", "error": <exception class>}`` (never the
  message: it may name a value) over the record of the outputs already there, which stay as
  they were; only after every output is written does it write ``{"status": "complete", ...}``;
* a complete record lists every output file with its sha256, the run ids of the upstream runs
  whose outputs it read, and its own ``run_id``: the first 16 hex digits of the sha256 of all
  that. Same inputs and params give the same outputs, so the same run id (determinism holds).

A consumer calls :func:`require_upstream` before it reads. It refuses, with a
:class:`~ctip_research.errors.StageOrderError` naming the stage to rerun, outputs whose record says
the run failed, outputs that differ from what the run wrote (edited by hand, mixed from two runs,
or cut by a kill), and outputs built from an older upstream run than the one on disk
(``ctip ingest`` ran again, ``ctip clean`` did not). Inputs without any record (written by hand or
by a version of the package before run records) are accepted; a stage never writes them so.

The mechanism is general: :data:`RUN_DIRS` says where each producing stage keeps its record and a
new producer only needs :func:`stage_run`; the records are small JSON files that DVC tracks with
the outputs they describe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctip_research.errors import StageOrderError
from ctip_research.io import (
    current_path,
    direct_writes,
    file_sha256,
    is_temporary,
    read_json,
    write_json,
)

if TYPE_CHECKING:
    from ctip_research.config.paths import PathsParams

__all__ = [
    "RUN_DIRS",
    "RUN_FILE",
    "StageRun",
    "read_run",
    "require_upstream",
    "run_dir",
    "stage_run",
]

RUN_FILE = "run.json"
#: Where each producing stage keeps its run record: (paths attribute, sub-directory).
RUN_DIRS: dict[str, tuple[str, str]] = {
    "ingest": ("interim", "ingested"),
    "clean": ("processed", "tables"),
    "features": ("processed", "analysis"),
}


def run_dir(stage: str, paths: PathsParams) -> Path:
    """Directory holding the run record of ``stage`` (see :data:`RUN_DIRS`).

    Examples
    --------
    >>> from ctip_research.config.paths import PathsParams
    >>> run_dir("clean", PathsParams(raw="r", interim="i", processed="p")).as_posix()
    'p/tables'
    """
    attr, sub = RUN_DIRS[stage]
    return Path(getattr(paths, attr)) / sub


def read_run(directory: str | Path) -> dict[str, Any] | None:
    """The run record in ``directory``, or ``None`` when there is none."""
    path = Path(directory) / RUN_FILE
    if not path.is_file():
        return None
    try:
        record = read_json(path)
    except (ValueError, OSError):
        return {"status": "unreadable"}
    return record if isinstance(record, dict) else {"status": "unreadable"}


def _run_id(stage: str, files: Mapping[str, str], upstream: Mapping[str, str]) -> str:
    blob = json.dumps({"stage": stage, "files": files, "upstream": upstream}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class StageRun:
    """An open run of a stage (created by :func:`stage_run`)."""

    def __init__(self, stage: str, directory: Path) -> None:
        self.stage = stage
        self.directory = directory
        self.upstream: dict[str, str] = {}
        self.run_id: str | None = None

    def read_from(self, records: Mapping[str, Mapping[str, Any] | None]) -> None:
        """Note the upstream runs whose outputs this run reads (from :func:`require_upstream`)."""
        for stage, record in records.items():
            if record is not None and record.get("run_id"):
                self.upstream[stage] = str(record["run_id"])

    def finish(self, files: Iterable[str | Path]) -> str:
        """Mark the run complete: record every output file's sha256; return the run id.

        ``files`` are the paths the stage wrote (as returned by the ``ctip_research.io``
        writers); they are recorded relative to the record's directory.
        """
        hashes = {}
        for f in files:  # paths as the stage wrote them
            path = Path(f)
            rel = os.path.relpath(path.resolve(), self.directory.resolve())
            hashes[Path(rel).as_posix()] = file_sha256(current_path(path))  # staged or written
        hashes = dict(sorted(hashes.items()))
        self.run_id = _run_id(self.stage, hashes, self.upstream)
        write_json(
            self.directory / RUN_FILE,
            {
                "stage": self.stage,
                "status": "complete",
                "run_id": self.run_id,
                "upstream": dict(sorted(self.upstream.items())),
                "files": hashes,
            },
        )
        return self.run_id


@contextmanager
def stage_run(stage: str, directory: str | Path) -> Iterator[StageRun]:
    """Context of one run of ``stage`` writing into ``directory``.

    An exception marks the outputs already in ``directory`` (from an earlier run, or written
    before the failure) as ``failed`` and propagates; the previous output files themselves are
    left as they were. Nothing is written when there is nothing to mark (a first run that fails
    before writing). The stage calls :meth:`StageRun.finish` once its outputs are written. A
    kill leaves either the previous complete record with its untouched outputs, or outputs that
    differ from it (caught by :func:`require_upstream`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with stage_run("ingest", d) as run:
    ...     _ = (d / "a.txt").write_text("x")
    ...     run_id = run.finish([d / "a.txt"])
    >>> read_run(d)["status"], len(run_id)
    ('complete', 16)
    """
    directory = Path(directory)
    run = StageRun(stage, directory)
    try:
        yield run
        if run.run_id is None:  # the body returned without recording its outputs
            raise StageOrderError(f"ctip {stage} ended without recording its outputs")
    except BaseException as exc:
        # the failed record lands now, outside the stage's transaction (whose outputs do not);
        # a directory that refuses it (read-only, full disk) must not hide the first error
        with contextlib.suppress(OSError), direct_writes():
            if directory.is_dir() and any(
                p.is_file() and not is_temporary(p) for p in directory.iterdir()
            ):
                write_json(
                    directory / RUN_FILE,
                    {"stage": stage, "status": "failed", "error": type(exc).__name__},
                )
        raise


def require_upstream(
    stage: str, paths: PathsParams, *, consumer: str, verify_files: bool = True
) -> dict[str, Any] | None:
    """Check the outputs of ``stage`` before ``consumer`` reads them; return their run record.

    Returns ``None`` when the outputs carry no record (written by hand). Raises
    :class:`~ctip_research.errors.StageOrderError` when the record says the run failed or did not
    finish, when a listed file is missing or differs from what the run wrote (a mix of runs),
    or when the run was built from an upstream run older than the one on disk.

    Examples
    --------
    >>> from ctip_research.config.paths import PathsParams
    >>> require_upstream("ingest", PathsParams(raw="r", interim="/nonexistent", processed="p"),
    ...                  consumer="clean") is None
    True
    """
    directory = run_dir(stage, paths)
    record = read_run(directory)
    if record is None:
        return None
    status = record.get("status")
    rerun = f"rerun `ctip {stage}` (or `dvc repro`) before `ctip {consumer}`"
    if status == "failed":
        raise StageOrderError(
            f"the last `ctip {stage}` failed ({record.get('error', 'error')}), so its outputs in "
            f"{directory} are from an older run; fix the problem it reported and {rerun}"
        )
    if status != "complete":
        raise StageOrderError(
            f"the run record {directory / RUN_FILE} of `ctip {stage}` is unreadable or incomplete "
            f"(status {status}); {rerun}"
        )
    if verify_files:
        for rel, sha in (record.get("files") or {}).items():
            path = directory / rel
            if not path.is_file():
                raise StageOrderError(
                    f"{path} is missing, but the last `ctip {stage}` wrote it; {rerun}"
                )
            if file_sha256(path) != sha:
                raise StageOrderError(
                    f"{path} differs from what the last `ctip {stage}` wrote (edited, or mixed "
                    f"from two runs); {rerun}"
                )
    for up_stage, up_id in (record.get("upstream") or {}).items():
        if up_stage not in RUN_DIRS:
            continue
        current = read_run(run_dir(up_stage, paths))
        if current is None:
            continue  # upstream outputs removed: nothing to compare with
        if current.get("status") != "complete":
            raise StageOrderError(
                f"the last `ctip {up_stage}` failed ({current.get('error', current.get('status'))}) "
                f"after `ctip {stage}` ran, so the outputs of `ctip {stage}` may not match the "
                f"current data; rerun `ctip {up_stage}` and `ctip {stage}` before `ctip {consumer}`"
            )
        if current.get("run_id") != up_id:
            raise StageOrderError(
                f"the outputs of `ctip {stage}` in {directory} were built from an older "
                f"`ctip {up_stage}` run than the one on disk; {rerun}"
            )
    return record
