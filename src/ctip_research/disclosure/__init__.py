"""The disclosure authority: the one place that decides what may be published.

Every stage that writes a published artefact (estimates, descriptive tables, regression tables in
every format, risk metrics, figures and their data, notebooks, the brief, the index) describes it
as one of the artefact types below and passes it to :func:`disclose`, the single entry point. It
applies the rules, suppresses what must be suppressed (keeping suppressed cells, blanked and
marked, never silently dropped) and returns the publishable table with a machine-readable check
record; it raises :class:`~ctip_research.errors.DisclosureError` (naming the artefact and the
failing checks, never a cell value) when an artefact cannot be made safe.

The rules (thresholds from ``params.privacy``, :class:`DisclosurePolicy`):

- **minimum counts**: numerator and denominator of every published count, share, mean or median
  >= ``min_cell_count`` (10) unweighted units, ``min_cell_count_trafficking`` (11) for cells about
  identified trafficking / forced-labour cases (``privacy.trafficking_indicators``);
- **complements**: a share or count leaves >= ``min_cell_count`` units without the attribute;
- **reliability**: suppressed below ``reliability_suppress_below`` (25) cases, flagged below
  ``reliability_flag_below`` (50);
- **dominance** of money cells: (1, 50) and (2, 67);
- **secondary suppression**: no additive line (cells and their margin) with exactly one
  suppressed entry;
- **regressions**: residual df and clusters - 1 >= ``min_residual_df`` (10), n >= the minimum,
  and behind every dummy regressor at least the minimum of exposed and of unexposed units, and
  of cases and non-cases of a binary outcome among them (11 cases for a trafficking outcome);
- **aggregates only**: no identifier or individual score column, every row on enough units;
- **documents** (brief, notebooks, index): built only from parts whose records passed, and every
  number printed traced to an artefact and value.

Thresholds looser than their documented values need ``privacy.override_reason``; every record
prints it (``override_reason``, null when nothing is overridden) with the policy.

Which outputs are published and which are internal is declared here once
(:data:`PUBLISHED_DIRS`, :data:`INTERNAL_DIRS`); every file of a published directory must be
listed, with its sha256, in a passing record (``disclosure.json`` or ``<stem>.disclosure.json``)
in its directory. :func:`audit_publication` walks the tree and reports every file that is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ctip_research.disclosure._cells import gate_cells, verify_cells
from ctip_research.disclosure._common import (
    AUX_COLUMNS,
    BLANKED_COLUMNS,
    CELL_KINDS,
    IDENTIFIER_COLUMNS,
    SCORE_COLUMNS,
)
from ctip_research.disclosure._document import NUMBER_WORDS, number_tokens, verify_document
from ctip_research.disclosure._frames import verify_aggregates, verify_curve
from ctip_research.disclosure._layout import (
    INTERNAL_DIRS,
    PUBLISHED_DIRS,
    RECORD_SUFFIX,
    audit_publication,
    is_record,
)
from ctip_research.disclosure._policy import DisclosurePolicy
from ctip_research.disclosure._regression import SUPPORT_COLUMNS, gate_regressions
from ctip_research.errors import DisclosureError

__all__ = [
    "AUX_COLUMNS",
    "BLANKED_COLUMNS",
    "CELL_KINDS",
    "IDENTIFIER_COLUMNS",
    "INTERNAL_DIRS",
    "NUMBER_WORDS",
    "PUBLISHED_DIRS",
    "RECORD_SUFFIX",
    "SCORE_COLUMNS",
    "SUPPORT_COLUMNS",
    "Aggregates",
    "Artefact",
    "Cells",
    "Curve",
    "Disclosed",
    "DisclosurePolicy",
    "Document",
    "Regressions",
    "audit_publication",
    "disclose",
    "is_record",
    "number_tokens",
]


@dataclass(frozen=True)
class Cells:
    """A table of published cells (one row each).

    Columns: ``estimate``; ``kind`` (``count``, ``share``, ``mean``, ``median``, ``money``);
    ``n_denominator`` (unweighted units in the cell's base); ``n_numerator`` (units in the
    numerator; required for counts and shares); optional ``n_complement`` (units in the base
    without the attribute; default denominator - numerator; blank only for a cell without an
    attribute, such as the total of a ledger); optional ``is_trafficking``; for money cells
    ``top1_value``, ``top2_value``, ``total_value`` (the two largest contributions and the total;
    never published); label columns (``dims``) and uncertainty columns (``std_error``,
    ``conf_low``, ``conf_high``), blanked with the estimate. A table with ``status`` is already
    gated and is only verified.

    ``dims`` label the cells; a ``total_label`` value in a dim marks a margin, and margins define
    the additive lines of secondary suppression. ``lines`` (positional row indices) replaces the
    lines derived from the dims, e.g. when a margin is shared by several groupings.
    """

    table: pd.DataFrame
    name: str
    dims: Sequence[str] = ()
    total_label: str = "Total"
    lines: Sequence[Sequence[int]] | None = None


@dataclass(frozen=True)
class Regressions:
    """Regression estimates (``estimates.csv`` columns; ``n_obs`` required; ``df_resid``,
    ``n_psu`` used when present).

    ``support`` (columns :data:`SUPPORT_COLUMNS`) counts the units behind each dummy regressor on
    the estimation sample; ``upstream`` are the records the rows were gated by (when the rows
    come from a published file). Rows without ``status`` are gated (a model that breaks a rule is
    suppressed as a whole); rows with ``status`` are verified.
    """

    estimates: pd.DataFrame
    name: str
    support: pd.DataFrame | None = None
    upstream: Sequence[Mapping[str, Any]] = ()
    model_columns: Sequence[str] = ("model",)


@dataclass(frozen=True)
class Aggregates:
    """A frame of aggregates (one row per group) with unweighted count columns (``n_*`` or
    ``count_columns``); rows marked suppressed (``status`` / ``is_suppressed``) are ignored.
    With ``upstream`` records and no ``count_columns`` the counts may live upstream.
    """

    frame: pd.DataFrame
    name: str
    count_columns: Sequence[str] | None = None
    upstream: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Curve:
    """Points of a curve published without their counts: gated upstream (``is_suppressed``
    points blank in ``value_columns``; the upstream record must pass).
    """

    table: pd.DataFrame
    name: str
    value_columns: Sequence[str]
    upstream: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Document:
    """A document assembled from checked parts (their records in ``parts``); ``blocks`` are its
    texts as printed, each with the ``trace`` of the numbers it prints (``text``, ``source``,
    locator); every number in a block must be covered by its trace.
    """

    name: str
    parts: Sequence[Mapping[str, Any]] = ()
    blocks: Sequence[Mapping[str, Any]] = ()


Artefact = Cells | Regressions | Aggregates | Curve | Document


@dataclass(frozen=True)
class Disclosed:
    """What :func:`disclose` returns.

    Attributes
    ----------
    table
        The publishable table (cells and regressions: every input row in order with ``status``
        and ``suppression_reason``, suppressed rows blanked, dominance inputs dropped; the input
        frame for aggregates and curves; None for documents).
    record
        The check record (JSON-ready; ``passed`` is True).
    """

    table: pd.DataFrame | None
    record: dict[str, Any] = field(repr=False)

    @property
    def n_suppressed(self) -> int:
        """Number of suppressed rows."""
        return int(self.record.get("n_suppressed", 0))


def _raise_if_failed(record: Mapping[str, Any]) -> None:
    if record["passed"]:
        return
    failing = [
        f"{c['check']} ({c['n_failing']}): {c['detail']}"
        for c in record["checks"]
        if not c["passed"]
    ]
    raise DisclosureError(
        f"artefact {record['artefact']!r} fails disclosure check(s): " + "; ".join(failing)
    )


def disclose(artefact: Artefact, policy: DisclosurePolicy | None = None) -> Disclosed:
    """Apply the disclosure rules to an artefact about to be published.

    Parameters
    ----------
    artefact
        :class:`Cells`, :class:`Regressions`, :class:`Aggregates`, :class:`Curve` or
        :class:`Document`.
    policy
        The thresholds (default: the documented values; a stage passes
        ``DisclosurePolicy.from_privacy(params.privacy)``).

    Returns
    -------
    Disclosed
        The publishable table and the passing check record, to write beside the artefact.

    Raises
    ------
    DisclosureError
        When a check fails (an already-gated table that breaks a rule, a record-level frame, a
        failed upstream record, an untraced number), naming the artefact and the checks.

    Examples
    --------
    >>> t = pd.DataFrame({"province": ["A", "B", "Total"], "estimate": [0.3, 0.5, 0.45],
    ...                   "kind": "share", "n_numerator": [30, 3, 33],
    ...                   "n_denominator": [100, 60, 160]})
    >>> out = disclose(Cells(t, "demo", dims=["province"]))
    >>> out.table["status"].tolist(), out.table["suppression_reason"].tolist()
    (['suppressed', 'suppressed', 'published'], ['secondary', 'min_cell_count', <NA>])
    >>> out.record["override_reason"] is None
    True
    """
    policy = policy or DisclosurePolicy()
    table: pd.DataFrame | None
    if isinstance(artefact, Cells):
        if "status" in artefact.table.columns:
            table = artefact.table
            record = verify_cells(
                table,
                policy,
                name=artefact.name,
                dims=artefact.dims,
                total_label=artefact.total_label,
                lines=artefact.lines,
            )
        else:
            table, record = gate_cells(
                artefact.table,
                policy,
                name=artefact.name,
                dims=artefact.dims,
                total_label=artefact.total_label,
                lines=artefact.lines,
            )
    elif isinstance(artefact, Regressions):
        table, record = gate_regressions(
            artefact.estimates,
            policy,
            name=artefact.name,
            support=artefact.support,
            upstream=artefact.upstream,
            model_columns=artefact.model_columns,
        )
    elif isinstance(artefact, Aggregates):
        table = artefact.frame
        record = verify_aggregates(
            table,
            policy,
            name=artefact.name,
            count_columns=artefact.count_columns,
            upstream=artefact.upstream,
        )
    elif isinstance(artefact, Curve):
        table = artefact.table
        record = verify_curve(
            table,
            policy,
            name=artefact.name,
            value_columns=artefact.value_columns,
            upstream=artefact.upstream,
        )
    elif isinstance(artefact, Document):
        table = None
        record = verify_document(
            policy, name=artefact.name, parts=artefact.parts, blocks=artefact.blocks
        )
    else:  # pragma: no cover - guarded by the type
        raise DisclosureError(f"not an artefact the disclosure authority knows: {artefact!r}")
    _raise_if_failed(record)
    return Disclosed(table=table, record=record)
