"""Logging and progress bars.

The package logs through :mod:`logging` under the ``ctip_research`` logger; the CLI installs a
rich handler whose level follows ``--verbose`` / ``--quiet``. Long loops use :func:`track`, a rich
progress bar written to stderr that stays silent when stderr is not a terminal or when quiet.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

LOGGER_NAME = "ctip_research"
_state = {"progress": True}


def get_logger(name: str | None = None) -> logging.Logger:
    """Return the package logger, or a child logger ``ctip_research.<name>``."""
    return logging.getLogger(LOGGER_NAME if not name else f"{LOGGER_NAME}.{name}")


def configure_logging(*, verbose: bool = False, quiet: bool = False) -> None:
    """Install a rich stderr handler on the package logger.

    ``verbose`` shows DEBUG messages; ``quiet`` shows only warnings and errors and hides progress
    bars.
    """
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logger = get_logger()
    logger.handlers.clear()
    handler = RichHandler(
        console=Console(stderr=True),
        show_time=False,
        show_path=verbose,
        markup=False,
        rich_tracebacks=verbose,
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    _state["progress"] = not quiet


def track(items: Iterable[T], description: str, *, total: int | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar on stderr (hidden when quiet or not a TTY)."""
    from rich.console import Console
    from rich.progress import track as rich_track

    console = Console(stderr=True)
    if not _state["progress"] or not console.is_terminal:
        yield from items
        return
    yield from rich_track(
        items, description=description, total=total, console=console, transient=True
    )


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Inside the block: package messages below ERROR, no progress bars, no Python warnings.

    For work repeated many times (Monte Carlo draws run every stage once per draw); the caller
    reports progress itself.

    Examples
    --------
    >>> with quiet():
    ...     get_logger("x").warning("not shown")
    """
    logger = get_logger()
    level, progress = logger.level, _state["progress"]
    logger.setLevel(logging.ERROR)
    _state["progress"] = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
        _state["progress"] = progress
