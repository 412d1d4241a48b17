"""Exception types of the package.

Every error a user can cause (bad params, bad raw file, a codebook that does not fit, a failed
disclosure check) is a :class:`CtipError`. The CLI prints it as one paragraph and exits non-zero,
without a traceback unless ``--verbose``.

Every class has its own exit code (a test checks it): 1 any other error, 2 params, 3 input file,
4 codebook, 5 schema, 6 privacy, 7 disclosure, 8 raw file changed, 9 correction, 10 render,
11 survey design, 12 stage order, 13 pipeline, 14 output write, 15 busy, 16 scheduler,
17 typeset, 18 model spec (:class:`~ctip_research.models.specs.SpecError`), 19 truth
(:class:`~ctip_research.models.validation.TruthError`), 20 estimation
(:class:`~ctip_research.estimation.results.EstimationError`).

Messages name the file, the row (1-based, as a spreadsheet shows it) and the column, never the raw
value of an identifying or free-text column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class CtipError(Exception):
    """Base class of every error the package raises on purpose."""

    exit_code: int = 1


class ParamsError(CtipError):
    """``params.yaml`` is missing, is not valid YAML, or a key or value is wrong."""

    exit_code = 2


class InputFileError(CtipError):
    """A raw or intermediate file cannot be read or does not have the expected content.

    Parameters
    ----------
    message
        What is wrong, in words; must not contain identifying raw values.
    file
        The file concerned.
    row
        1-based row number in the file (header is row 1 for CSV/XLSX), if it applies.
    column
        The raw column name, if it applies.
    """

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.detail = message
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class CodebookError(CtipError):
    """A codebook does not fit its data file; lists every mismatch at once."""

    exit_code = 4

    def __init__(self, file: str | Path, problems: Sequence[str]) -> None:
        self.file = str(file)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"codebook {self.file} does not fit its data ({len(self.problems)} problem(s)):\n{lines}"
        )


class SchemaError(CtipError):
    """A table does not satisfy its declared schema (lists every failing check)."""

    exit_code = 5


class PrivacyError(CtipError):
    """An identifier or an identifying value would reach the processed layer or an output."""

    exit_code = 6


class DisclosureError(CtipError):
    """A published artefact fails a disclosure-control check."""

    exit_code = 7


class RawFileChangedError(CtipError):
    """A raw file differs from its entry in the raw-file manifest."""

    exit_code = 8


class CorrectionError(CtipError):
    """A reviewed correction does not fit the data (its old value does not match, its row or
    variable does not exist); lists every failing line of the corrections log at once.
    """

    exit_code = 9


class SurveyDesignError(CtipError):
    """A survey design is invalid (missing design values, a lonely PSU under ``fail``, bad FPC)."""

    exit_code = 11


class StageOrderError(CtipError):
    """A stage's inputs come from a failed, unfinished or older upstream run (run records,
    :mod:`ctip_research.runs`): rerun the upstream stage first.
    """

    exit_code = 12


class PipelineError(CtipError):
    """``dvc.yaml`` does not list the registered data sources (``ctip sources sync`` fixes it),
    or it lacks a stage the registry writes into.
    """

    exit_code = 13


class OutputWriteError(CtipError):
    """A stage could not write its outputs (full disk, read-only directory, a writer that
    refuses the data); the previous complete set of outputs is left in place.
    """

    exit_code = 14


class BusyError(CtipError):
    """Another ``ctip`` run holds the lock of a data directory; runs of the pipeline on the same
    data never overlap.
    """

    exit_code = 15


class SchedulerError(CtipError):
    """No Dask scheduler answers at the address given as ``--scheduler`` (or
    ``CTIP_SCHEDULER``); nothing was run.
    """

    exit_code = 16


class RenderError(CtipError):
    """A report, figure or the brief cannot be rendered as specified (e.g. the brief is longer
    than ``brief.max_pages``, a notebook fails to execute).
    """

    exit_code = 10


class TypesetError(RenderError):
    """Typst could not typeset the brief (a template or font problem, not a disclosure one)."""

    exit_code = 17
