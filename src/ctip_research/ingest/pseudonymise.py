"""Keyed-hash pseudonyms (HMAC-SHA256) and the choice of the key.

Household ids (and Kobo submission ids) are replaced at ingest by the first 16 hex characters of
HMAC-SHA256(key, raw id). Without the key the pseudonyms cannot be regenerated from guessed ids
(``design/data-protection.md``). The key comes from an environment variable, else from a file
outside the repository, else (synthetic sources only) from the public demo key in ``params.yaml``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

from ctip_research.errors import PrivacyError

__all__ = ["pseudonymise", "resolve_hmac_key"]

#: Number of hex characters kept from the HMAC digest (64 bits).
PSEUDONYM_LENGTH = 16


def pseudonymise(raw_id: str, key: str) -> str:
    """Return the pseudonym of ``raw_id``: HMAC-SHA256 under ``key``, first 16 hex characters.

    Parameters
    ----------
    raw_id
        The identifier as text (e.g. the survey's household id ``"HH-02-0113"``).
    key
        The secret key.

    Examples
    --------
    >>> pseudonymise("HH-1", "k") == pseudonymise("HH-1", "k")
    True
    >>> pseudonymise("HH-1", "k") != pseudonymise("HH-1", "other key")
    True
    >>> len(pseudonymise("HH-1", "k"))
    16
    """
    digest = hmac.new(key.encode("utf-8"), str(raw_id).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:PSEUDONYM_LENGTH]


def resolve_hmac_key(
    *,
    env_var: str,
    key_file: str | Path | None,
    demo_key: str | None,
    synthetic: bool,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Choose the HMAC key: environment variable, else key file, else the demo key.

    The public demo key is accepted only when every source is synthetic; for real data a
    :class:`~ctip_research.errors.PrivacyError` is raised (also when the variable or file holds
    the demo key itself). The key is never logged or echoed.

    Examples
    --------
    >>> resolve_hmac_key(env_var="K", key_file=None, demo_key="demo", synthetic=True, environ={})
    'demo'
    >>> resolve_hmac_key(env_var="K", key_file=None, demo_key="demo", synthetic=False,
    ...                  environ={"K": "secret"})
    'secret'
    """
    env = os.environ if environ is None else environ
    key: str | None = None
    origin = ""
    if env.get(env_var):
        key, origin = env[env_var], f"environment variable {env_var}"
    elif key_file is not None and Path(key_file).is_file():
        key = Path(key_file).read_text(encoding="utf-8").strip()
        origin = f"key file {key_file}"
    if key:
        if not synthetic and demo_key is not None and key == demo_key:
            raise PrivacyError(
                f"the HMAC key from {origin} is the public demo key; real (non-synthetic) data "
                "needs a secret key"
            )
        return key
    if synthetic and demo_key:
        return demo_key
    where = f"environment variable {env_var}" + (f" or key file {key_file}" if key_file else "")
    raise PrivacyError(
        f"no HMAC key for pseudonymising a non-synthetic source: set {where} (the public demo "
        "key is accepted only for synthetic data)"
    )
