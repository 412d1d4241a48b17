"""Stage ``audit``: walk the published tree; fail on any file without a passing check record.

Reads every file under the published directories of ``<processed>``
(:data:`ctip_research.disclosure.PUBLISHED_DIRS`) and their check records. Writes
``<interim>/audit/publication.json`` (internal): the files and records seen and every problem.
Fails with :class:`~ctip_research.errors.DisclosureError` when a file is listed by no passing
record (or has changed since it was checked), a record did not pass or does not print the
override reason, or a directory of the processed layer is declared neither published nor
internal.
"""

from __future__ import annotations

from ctip_research.config import Params
from ctip_research.disclosure import audit_publication
from ctip_research.errors import DisclosureError
from ctip_research.io import write_json
from ctip_research.log import get_logger

__all__ = ["run_audit"]

log = get_logger("audit")


def run_audit(params: Params) -> None:
    """Audit the published tree (see the module docstring)."""
    result = audit_publication(params.paths.processed)
    write_json(params.paths.interim / "audit" / "publication.json", result)
    if not result["passed"]:
        shown = "; ".join(result["problems"][:10])
        more = len(result["problems"]) - 10
        raise DisclosureError(
            f"{len(result['problems'])} published file(s) or record(s) fail the audit: {shown}"
            + (
                f"; and {more} more (see {params.paths.interim / 'audit' / 'publication.json'})"
                if more > 0
                else ""
            )
        )
    log.info(
        "audit: %d published file(s), each listed by a passing check record (%d record(s))",
        result["n_files"],
        result["n_records"],
    )
