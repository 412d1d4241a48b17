"""Run one stage as a transaction, alone on its data: the way the CLI (and so DVC) runs stages.

:func:`run_stage` wraps ``run_<stage>(params)``:

1. **Lock.** It takes the lock of each data directory (``paths.interim``, ``paths.processed``;
   a ``.ctip.lock`` file in each, held with :mod:`filelock`). A second ``ctip`` run on the same
   data waits up to ``CTIP_LOCK_TIMEOUT`` seconds (default 0) and then stops with a
   :class:`~ctip_research.errors.BusyError` (exit 15) naming the directory, before it reads or
   removes anything: two runs never delete each other's temporary files.
2. **Recover.** Holding the lock, it completes the commit of a run that was killed while
   swapping its outputs in (the journal ``.ctip-commit.json``), then removes temporary files,
   backups and journals that killed runs left (:func:`ctip_research.io.recover`).
3. **Transaction.** The stage runs inside :func:`ctip_research.io.transaction`: every file it
   writes is staged beside its target and all are swapped in when it returns. When it raises,
   no output changes (only the run record says ``failed``, :mod:`ctip_research.runs`).
4. **Errors.** A file-system error anywhere on that path (full disk, read-only directory, a
   file that cannot be renamed) becomes an :class:`~ctip_research.errors.OutputWriteError`
   (exit 14) naming the file and the system's reason, without a traceback; a writer that
   refuses the data already raises one (:func:`ctip_research.io.write_with`).

The stage functions themselves are unchanged: a test or a notebook can still call
``run_<stage>(params)`` directly (no lock, files renamed one by one as they are written).
"""

from __future__ import annotations

import errno
import importlib
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from ctip_research.config import Params
from ctip_research.errors import BusyError, CtipError, OutputWriteError
from ctip_research.io import JOURNAL_NAME, LOCK_NAME, recover, transaction
from ctip_research.log import get_logger

__all__ = ["LOCK_NAME", "data_dirs", "data_lock", "run_stage"]

#: Seconds a run waits for another one to release the lock (environment variable).
LOCK_TIMEOUT_ENV = "CTIP_LOCK_TIMEOUT"

log = get_logger("runner")


def data_dirs(params: Params) -> list[Path]:
    """The data directories a stage run locks: interim and processed (distinct, in a fixed
    order, so that two runs always take the locks in the same order).

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> [p.as_posix() for p in data_dirs(load_params("params.yaml"))]
    ['data/interim', 'data/processed']
    """
    out: list[Path] = []
    for d in (params.paths.interim, params.paths.processed):
        p = Path(d)
        if all(os.path.abspath(p) != os.path.abspath(q) for q in out):
            out.append(p)
    return out


def _timeout() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_TIMEOUT_ENV, "0")))
    except ValueError:
        return 0.0


@contextmanager
def data_lock(dirs: list[Path], *, stage: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of every directory in ``dirs`` (created if needed) or raise
    :class:`~ctip_research.errors.BusyError`.
    """
    from filelock import FileLock, Timeout

    wait = _timeout() if timeout is None else timeout
    with ExitStack() as stack:
        for d in dirs:
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _os_error(exc, stage) from None
            lock = FileLock(str(d / LOCK_NAME), timeout=wait, thread_local=False)
            try:
                stack.enter_context(lock)
            except Timeout:
                raise BusyError(
                    f"another ctip run is using {d} (lock {d / LOCK_NAME}); `ctip {stage}` did "
                    f"not start. Wait for the other run to finish (or set {LOCK_TIMEOUT_ENV} to "
                    "the seconds to wait) and run it again"
                ) from None
        yield


def _os_error(exc: OSError, stage: str) -> OutputWriteError:
    """The user's message for a file-system error: errno name, system reason, file; no value."""
    code = errno.errorcode.get(exc.errno or 0, "") if exc.errno else ""
    reason = exc.strerror or type(exc).__name__
    where = f" at {exc.filename}" if exc.filename else ""
    hint = {
        errno.ENOSPC: "free disk space",
        errno.EROFS: "make the data directory writable",
        errno.EACCES: "check the permissions of the data directories",
        errno.EPERM: "check the permissions of the data directories",
        errno.EDQUOT: "free space within your disk quota",
    }.get(exc.errno or 0, "fix the problem")
    return OutputWriteError(
        f"`ctip {stage}` stopped on a file-system error ({reason}{f', {code}' if code else ''})"
        f"{where}; no output of this run was kept and the previous outputs are unchanged. "
        f"{hint[0].upper() + hint[1:]} and run it again"
    )


def run_stage(stage: str, params: Params, **options: Any) -> None:
    """Run ``run_<stage>(params, **options)`` locked, recovered and as one transaction (module
    docstring). ``options`` are the stage's keyword options that are not analysis choices (such
    as where the work runs, ``scheduler``).

    ``run_stage("ingest", load_params("params.yaml"))`` is what ``ctip ingest`` runs.
    """
    module = importlib.import_module(f"ctip_research.stages.{stage}")
    func = getattr(module, f"run_{stage}")
    dirs = data_dirs(params)
    with data_lock(dirs, stage=stage):
        try:
            done = recover(dirs[0] / JOURNAL_NAME, [*dirs, Path(params.paths.raw) / "synthetic"])
            if done["completed"]:
                log.warning(
                    "completed the commit of %d file(s) of a run that was killed while "
                    "swapping its outputs in",
                    done["completed"],
                )
            if done["removed"]:
                log.info("removed %d temporary file(s) of killed runs", done["removed"])
            with transaction(dirs[0] / JOURNAL_NAME):
                func(params, **options)
        except CtipError:
            raise
        except OSError as exc:
            raise _os_error(exc, stage) from None
