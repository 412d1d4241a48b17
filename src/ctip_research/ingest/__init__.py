"""Ingest: raw survey exports -> de-identified interim canonical tables.

Readers (:mod:`~ctip_research.ingest.readers`), codebooks (:mod:`~ctip_research.ingest.codebook`),
their application (:mod:`~ctip_research.ingest.apply`), keyed-hash pseudonyms
(:mod:`~ctip_research.ingest.pseudonymise`), the PII scan (:mod:`~ctip_research.ingest.pii`) and
the raw-file manifest check (:mod:`~ctip_research.ingest.manifest`).
"""

from ctip_research.ingest.pseudonymise import pseudonymise, resolve_hmac_key

__all__ = ["pseudonymise", "resolve_hmac_key"]
