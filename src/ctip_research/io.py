"""Atomic, deterministic file output and file hashing.

Every file the pipeline writes goes through these functions: the content is written to a temporary
file in the target directory, flushed and fsync-ed, then renamed over the target with
:func:`os.replace`. A failure or a kill therefore leaves either the previous complete file or none,
never a half-written one. Inside a :func:`transaction` (every stage run by
:mod:`ctip_research.stages.runner`) the renames of all of a stage's files wait for its end, so a
failure leaves the previous set of outputs whole. Writers are deterministic: the same data gives the same bytes (sorted JSON
keys, fixed Parquet options, no timestamps).
"""

from __future__ import annotations

import contextlib
import contextvars
import glob
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ctip_research.errors import CtipError, OutputWriteError

__all__ = [
    "CONTROL_FILES",
    "JOURNAL_NAME",
    "LOCK_NAME",
    "Transaction",
    "atomic_path",
    "current_path",
    "direct_writes",
    "discard_output",
    "is_temporary",
    "recover",
    "transaction",
    "dumps_json",
    "file_sha256",
    "raw_fingerprint",
    "read_json",
    "write_bytes",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_text",
    "write_with",
]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


#: Temporary files of :func:`atomic_path`: ``.<target name>.<8 random characters><suffix>``.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}(?P<suffix>\.[^.]+)$")
#: File name of a transaction's journal (in the first data directory).
JOURNAL_NAME = ".ctip-commit.json"
#: Lock file a stage run holds in each data directory (:mod:`ctip_research.stages.runner`).
LOCK_NAME = ".ctip.lock"
#: Files of run control, not outputs: the lock and the swap journal.
CONTROL_FILES: frozenset[str] = frozenset({LOCK_NAME, JOURNAL_NAME})
_BACKUP_SUFFIX = ".ctip-previous"


def is_temporary(path: str | Path) -> bool:
    """Whether ``path`` is named like a temporary file of :func:`atomic_path` (or a backup or
    journal of a :class:`Transaction`).

    Examples
    --------
    >>> is_temporary(".households.parquet.k1ll3d_x.parquet"), is_temporary("households.parquet")
    (True, False)
    """
    name = Path(path).name
    if name.endswith(_BACKUP_SUFFIX) or name == JOURNAL_NAME:
        return True
    m = _TEMP_NAME.match(name)
    if m is None:
        return False
    return m["name"].endswith(m["suffix"]) or m["suffix"] == ".tmp"


def _remove_stale_temps(target: Path, suffix: str) -> None:
    """Remove temporary files of ``target`` left by an earlier run that was killed mid-write.

    They are named ``.<target name>.<8 random characters><suffix>`` (as :func:`atomic_path`
    creates them); a kill (SIGKILL, power loss) between creating and renaming one leaves it.
    Called only inside a :class:`Transaction`, i.e. while this process holds the lock of the
    data directories (:mod:`ctip_research.stages.runner`): a temporary file of another run that
    is writing at the same moment is never removed.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.[a-z0-9_]{{8}}{re.escape(suffix)}$")
    tx = _TRANSACTION.get()
    mine = set(tx.pending.values()) if tx is not None else set()
    with contextlib.suppress(OSError):
        for stale in target.parent.glob(f".{glob.escape(target.name)}.*"):
            if pattern.match(stale.name) and stale.is_file() and stale.absolute() not in mine:
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()


# -- stage transactions ------------------------------------------------------------------------


class Transaction:
    """All the files one stage writes, swapped in together at the end or not at all.

    Inside :func:`transaction`, :func:`atomic_path` (and so every ``write_*`` function) writes
    the complete, fsync-ed temporary file beside its target as usual but does not rename it:
    the rename waits for :meth:`commit`, which swaps every file in. An error before the commit
    leaves every previous output as it was (the temporary files are removed); an error during
    the commit (a rename refused) puts the previous files back. A kill during the commit leaves
    the journal ``.ctip-commit.json``: the next run (:func:`recover`) completes the swap, since
    every new file was complete before the first rename.

    Parameters
    ----------
    journal
        Path of the journal file.
    """

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.pending: dict[Path, Path] = {}  # target -> complete temporary file
        self.obsolete: set[Path] = set()  # outputs of an earlier run this run no longer writes

    def stage(self, tmp: Path, target: Path) -> None:
        """Register a complete temporary file for ``target`` (a second write replaces it)."""
        target = Path(os.path.abspath(target))
        old = self.pending.pop(target, None)
        tmp = Path(os.path.abspath(tmp))
        if old is not None and old != tmp:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()
        self.pending[target] = tmp

    def discard(self, target: Path) -> None:
        """Register an earlier output for removal once the new set is in place."""
        self.obsolete.add(Path(os.path.abspath(target)))

    def path_of(self, target: str | Path) -> Path:
        """Where the current content of ``target`` is: its staged file, or itself."""
        return self.pending.get(Path(os.path.abspath(target)), Path(target))

    def abort(self) -> None:
        """Remove every staged file; the targets are left as they were."""
        for tmp in self.pending.values():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.pending.clear()

    def commit(self) -> None:
        """Swap every staged file in (see the class docstring), then remove the discarded
        outputs that no staged file replaces (a kill in between leaves them for the next run).
        """
        self._swap()
        _remove_all(sorted(self.obsolete - set(self.pending)))
        self.obsolete.clear()
        self.pending.clear()

    def _swap(self) -> None:
        if not self.pending:
            return
        pairs = list(self.pending.items())
        backups: dict[Path, Path] = {}
        try:
            for target, _ in pairs:
                if target.is_file():
                    backup = target.with_name(f".{target.name}{_BACKUP_SUFFIX}")
                    with contextlib.suppress(FileNotFoundError):
                        backup.unlink()
                    os.link(target, backup)
                    backups[target] = backup
            _write_journal(self.journal, pairs, backups)
        except BaseException:
            _remove_all(backups.values())
            self.abort()
            raise
        done: list[Path] = []
        try:
            for target, tmp in pairs:
                os.replace(tmp, target)
                done.append(target)
            _fsync_dirs({t.parent for t, _ in pairs})
        except Exception:
            for target in done:  # put the previous set back
                previous = backups.get(target)
                with contextlib.suppress(OSError):
                    if previous is not None:
                        os.replace(previous, target)
                    else:
                        target.unlink()
            _remove_all([*backups.values(), self.journal])
            self.abort()
            raise
        _remove_all([*backups.values(), self.journal])


def _remove_all(paths: Iterable[Path]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _fsync_dirs(dirs: Iterable[Path]) -> None:
    for d in dirs:
        with contextlib.suppress(OSError):
            fd = os.open(d, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _write_journal(
    journal: Path, pairs: list[tuple[Path, Path]], backups: dict[Path, Path]
) -> None:
    entries = [
        {
            "target": t.as_posix(),
            "staged": s.as_posix(),
            "previous": backups[t].as_posix() if t in backups else None,
        }
        for t, s in pairs
    ]
    journal.parent.mkdir(parents=True, exist_ok=True)
    tmp = journal.with_name(journal.name + ".writing")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"files": entries}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, journal)
    _fsync_dirs([journal.parent])


_TRANSACTION: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
    "ctip_transaction", default=None
)


@contextlib.contextmanager
def transaction(journal: str | Path) -> Iterator[Transaction]:
    """Run the body as one transaction: its writes are swapped in together when it returns,
    and none is when it raises (see :class:`Transaction`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_text(d / "a.txt", "old")
    >>> try:
    ...     with transaction(d / JOURNAL_NAME):
    ...         _ = write_text(d / "a.txt", "new")
    ...         _ = write_text(d / "b.txt", "new")
    ...         raise RuntimeError("disk full")
    ... except RuntimeError:
    ...     pass
    >>> (d / "a.txt").read_text(), (d / "b.txt").exists()
    ('old', False)
    """
    tx = Transaction(Path(journal))
    token = _TRANSACTION.set(tx)
    try:
        yield tx
    except BaseException:
        _TRANSACTION.reset(token)
        tx.abort()
        raise
    _TRANSACTION.reset(token)
    tx.commit()


@contextlib.contextmanager
def direct_writes() -> Iterator[None]:
    """Write outside the current transaction (a failed run's record must land even though the
    run's outputs do not).
    """
    token = _TRANSACTION.set(None)
    try:
        yield
    finally:
        _TRANSACTION.reset(token)


def discard_output(target: str | Path) -> None:
    """Remove an earlier output that this run no longer writes: after the run's new outputs are
    in place inside a transaction (:func:`transaction`), at once outside one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_text(d / "old.json", "{}")
    >>> with transaction(d / JOURNAL_NAME):
    ...     _ = write_text(d / "new.json", "{}")
    ...     discard_output(d / "old.json")
    ...     (d / "old.json").exists()
    True
    >>> sorted(p.name for p in d.iterdir())
    ['new.json']
    """
    tx = _TRANSACTION.get()
    if tx is not None:
        tx.discard(Path(target))
    else:
        _remove_all([Path(target)])


def current_path(target: str | Path) -> Path:
    """Where the content just written for ``target`` is: its staged file inside a transaction,
    else ``target`` itself (hash or read back an output before the commit).

    Examples
    --------
    >>> current_path("x.json").name
    'x.json'
    """
    tx = _TRANSACTION.get()
    return tx.path_of(target) if tx is not None else Path(target)


def recover(journal: str | Path, roots: Iterable[str | Path]) -> dict[str, int]:
    """Finish or clean up after a run that was killed (call it holding the data lock).

    A journal left by a kill during a commit is completed (every staged file is complete, so
    the swap goes forward); then temporary files, backups and journals of killed runs under
    ``roots`` are removed. Returns counts of what was done.
    """
    journal = Path(journal)
    done = {"completed": 0, "removed": 0}
    if journal.is_file():
        try:
            entries = read_json(journal).get("files", [])
        except (ValueError, OSError, AttributeError):
            entries = []  # written atomically: unreadable only if damaged by hand
        for e in entries:
            staged, target = Path(e["staged"]), Path(e["target"])
            if staged.is_file():
                os.replace(staged, target)
                done["completed"] += 1
        _fsync_dirs({Path(e["target"]).parent for e in entries})
        journal.unlink()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for path in root.rglob(".*"):
            if path.is_file() and (is_temporary(path) or path.name.endswith(".writing")):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    done["removed"] += 1
    return done


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success, move it onto ``target``.

    Use it for writers that insist on a file name (pyarrow, pyreadstat, matplotlib, openpyxl).
    On an exception the temporary file is removed and ``target`` is left untouched. Inside a :func:`transaction` the rename
    waits for the commit, and a temporary file of ``target`` left by a killed earlier run is
    removed first.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "x.txt").read_text()
    'hello'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix or target.suffix or ".tmp"
    tx = _TRANSACTION.get()
    if tx is not None:
        _remove_stale_temps(target, suffix)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give outputs the usual permissions
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if tx is not None:
            tx.stage(tmp, target)
        else:
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def _writer_errors(target: Path) -> Iterator[None]:
    """An error of a third-party writer (pyreadstat refusing an infinite value, pyarrow a
    column) becomes an :class:`~ctip_research.errors.OutputWriteError` naming the file and the
    kind of failure, never the writer's message (it may quote a value).
    """
    try:
        yield
    except (CtipError, OSError):
        raise
    except Exception as exc:
        raise OutputWriteError(
            f"cannot write {target} ({type(exc).__name__} from the writer); the previous "
            "outputs are unchanged"
        ) from None


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str) -> Path:
    r"""Write UTF-8 ``text`` (with ``\n`` line ends) to ``target`` atomically."""
    return write_bytes(target, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return obj.as_posix()
    if obj is pd.NA:
        return None
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")


#: Significant digits of every float in a published CSV or JSON file (``digits=`` of
#: :func:`write_csv` / :func:`write_json`). Floating-point results can differ in their last
#: digits between installs (BLAS kernels, thread counts, compiler flags of a wheel); written at
#: 10 significant digits they are the same bytes, so a replicator's hashes match the committed
#: ``dvc.lock``. 10 digits keep far more precision than any estimate has (a relative 5e-11).
PUBLISHED_DIGITS = 10
#: Significant digits of the published curves and figure data (risk curves, ``*.data.csv`` of
#: the figures): what a plot can show.
CURVE_DIGITS = 6


def round_significant(obj: Any, digits: int = PUBLISHED_DIGITS) -> Any:
    """``obj`` with every float (also inside dicts, lists, tuples and numpy arrays or scalars)
    rounded to ``digits`` significant digits; NaN and infinities unchanged, other values as
    they are.

    Examples
    --------
    >>> round_significant({"b": 0.1 + 0.2, "a": [2 / 3, 7, "x", None]})
    {'b': 0.3, 'a': [0.6666666667, 7, 'x', None]}
    >>> round_significant(123456789012.5, 4)
    123500000000.0
    """
    import numpy as np

    if isinstance(obj, bool | np.bool_):
        return obj
    if isinstance(obj, float | np.floating):
        x = float(obj)
        return float(f"{x:.{digits}g}") if np.isfinite(x) else x
    if isinstance(obj, dict):
        return {k: round_significant(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(round_significant(v, digits) for v in obj)
    if isinstance(obj, np.ndarray) and obj.dtype.kind == "f":
        return np.vectorize(lambda v: round_significant(v, digits), otypes=[obj.dtype])(obj)
    return obj


def dumps_json(obj: Any, *, digits: int | None = None) -> str:
    """Serialise ``obj`` deterministically: sorted keys, 2-space indent, trailing newline;
    with ``digits``, every float rounded to that many significant digits
    (:func:`round_significant`; published files use :data:`PUBLISHED_DIGITS`).
    """
    if digits is not None:
        obj = round_significant(_jsonable(obj), digits)
    return (
        json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default) + "\n"
    )


def _jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays turned into Python values (so they can be rounded)."""
    import numpy as np

    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def write_json(target: str | Path, obj: Any, *, digits: int | None = None) -> Path:
    """Write ``obj`` as deterministic JSON (see :func:`dumps_json`) atomically; published files
    pass ``digits=PUBLISHED_DIGITS``.
    """
    return write_text(target, dumps_json(obj, digits=digits))


def read_json(path: str | Path) -> Any:
    """Read a JSON file (inside a :func:`transaction`, a file the stage wrote is read from its
    staged copy).
    """
    with open(current_path(path), encoding="utf-8") as fh:
        return json.load(fh)


def write_parquet(target: str | Path, df: pd.DataFrame) -> Path:
    """Write ``df`` to Parquet atomically with fixed options so equal frames give equal bytes.

    The index is dropped (canonical tables carry their keys as columns); compression is zstd;
    statistics and dictionary encoding use pyarrow's defaults, which are deterministic.
    """
    with atomic_path(target) as tmp, _writer_errors(Path(target)):
        df.to_parquet(tmp, engine="pyarrow", index=False, compression="zstd")
    return Path(target)


def write_csv(
    target: str | Path, df: pd.DataFrame, *, digits: int | None = None, **kwargs: Any
) -> Path:
    r"""Write ``df`` to CSV (UTF-8, ``\n`` line ends, no index) atomically.

    With ``digits``, every float is written with that many significant digits (``%.<digits>g``,
    also floats in object columns); published files pass ``digits=PUBLISHED_DIGITS``.
    """
    if digits is not None:
        kwargs.setdefault("float_format", f"%.{digits}g")
        objects = [c for c in df.columns if df[c].dtype == object]
        if objects:
            df = df.copy()
            for c in objects:
                df[c] = df[c].map(lambda v: round_significant(v, digits))
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    text = df.to_csv(**kwargs)
    assert text is not None
    return write_text(target, text)


def write_with(target: str | Path, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``target`` atomically.

    An error of the writer other than an ``OSError`` becomes an
    :class:`~ctip_research.errors.OutputWriteError` naming ``target`` (not the writer's message).
    """
    with atomic_path(target) as tmp, _writer_errors(Path(target)):
        writer(tmp)
    return Path(target)


def file_sha256(path: str | Path, *, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 digest of a file, read in chunks.

    Inside a :func:`transaction` a file the stage has written but not yet swapped in is hashed
    from its staged copy (the content it will have).
    """
    h = hashlib.sha256()
    with open(current_path(path), "rb") as fh:
        while block := fh.read(chunk_size):
            h.update(block)
    return h.hexdigest()


def raw_fingerprint(digests: Iterable[str]) -> str:
    """Fingerprint of a set of raw files: SHA-256 of their sorted, distinct SHA-256 digests.

    It depends on the files' contents only (not their names or order), so the generator of a
    survey and the stage that ingests it compute the same value for the same bytes.

    Examples
    --------
    >>> raw_fingerprint(["b" * 64, "a" * 64]) == raw_fingerprint(["a" * 64, "b" * 64])
    True
    """
    blob = "\n".join(sorted(set(digests))).encode()
    return hashlib.sha256(blob).hexdigest()
