"""Atomic, deterministic file output and file hashing.

Every file the pipeline writes goes through these functions: the content is written to a temporary
file in the target directory, flushed and fsync-ed, then renamed over the target with
:func:`os.replace`. A failure or a kill therefore leaves either the previous complete file or none,
never a half-written one. Writers are deterministic: the same data gives the same bytes (sorted JSON
keys, fixed Parquet options, no timestamps).
"""

from __future__ import annotations

import contextlib
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

__all__ = [
    "atomic_path",
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


def _remove_stale_temps(target: Path, suffix: str) -> None:
    """Remove temporary files of ``target`` left by an earlier run that was killed mid-write.

    They are named ``.<target name>.<8 random characters><suffix>`` (as :func:`atomic_path`
    creates them); a kill (SIGKILL, power loss) between creating and renaming one leaves it.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.[a-z0-9_]{{8}}{re.escape(suffix)}$")
    with contextlib.suppress(OSError):
        for stale in target.parent.glob(f".{glob.escape(target.name)}.*"):
            if pattern.match(stale.name) and stale.is_file():
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success, move it onto ``target``.

    Use it for writers that insist on a file name (pyarrow, pyreadstat, matplotlib, openpyxl).
    On an exception the temporary file is removed and ``target`` is left untouched; a temporary
    file of ``target`` left by a killed earlier run is removed first.

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
    _remove_stale_temps(target, suffix)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give outputs the usual permissions
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` (with ``\\n`` line ends) to ``target`` atomically."""
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


def dumps_json(obj: Any) -> str:
    """Serialise ``obj`` deterministically: sorted keys, 2-space indent, trailing newline."""
    return (
        json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default) + "\n"
    )


def write_json(target: str | Path, obj: Any) -> Path:
    """Write ``obj`` as deterministic JSON (see :func:`dumps_json`) atomically."""
    return write_text(target, dumps_json(obj))


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_parquet(target: str | Path, df: pd.DataFrame) -> Path:
    """Write ``df`` to Parquet atomically with fixed options so equal frames give equal bytes.

    The index is dropped (canonical tables carry their keys as columns); compression is zstd;
    statistics and dictionary encoding use pyarrow's defaults, which are deterministic.
    """
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, engine="pyarrow", index=False, compression="zstd")
    return Path(target)


def write_csv(target: str | Path, df: pd.DataFrame, **kwargs: Any) -> Path:
    """Write ``df`` to CSV (UTF-8, ``\\n`` line ends, no index) atomically."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    text = df.to_csv(**kwargs)
    assert text is not None
    return write_text(target, text)


def write_with(target: str | Path, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def file_sha256(path: str | Path, *, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
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
