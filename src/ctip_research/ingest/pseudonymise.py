"""Keyed-hash pseudonyms (HMAC-SHA256) and the choice of the key.

Household ids (and Kobo submission ids) are replaced at ingest by the first 16 hex characters of
HMAC-SHA256(key, raw id). Without the key the pseudonyms cannot be regenerated from guessed ids
(README, 'Data availability and ethics'). The key comes from an environment variable, else from a file
outside the repository (at least 32 bytes), else, only for the package's own synthetic survey
(raw files whose sha256 match what ``ctip synth`` wrote), from the public demo key in
``params.yaml``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

from ctip_research.errors import PrivacyError

__all__ = ["MIN_KEY_BYTES", "pseudonymise", "resolve_hmac_key"]

#: Number of hex characters kept from the HMAC digest (64 bits).
PSEUDONYM_LENGTH = 16
#: Shortest secret key accepted (UTF-8 bytes): 32 bytes = 256 bits, the HMAC-SHA256 block of
#: security (RFC 2104 section 3 recommends keys no shorter than the hash output).
MIN_KEY_BYTES = 32
#: Fewest distinct characters in a secret key (refuses "aaaa...a" and similar).
MIN_KEY_DISTINCT = 8


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


def _same_key(a: str, b: str) -> bool:
    """Whether two keys are the same up to blanks and case (a demo key with a trailing space or
    in capitals is still the public demo key).
    """
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


def resolve_hmac_key(
    *,
    env_var: str,
    key_file: str | Path | None,
    demo_key: str | None,
    embedded_default: bool,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Choose the HMAC key: environment variable, else key file, else the demo key.

    The public demo key is accepted only when every source is the package's own synthetic
    survey (:func:`ctip_research.stages.ingest.is_embedded_default`: its raw files hash to what
    ``ctip synth`` wrote; a codebook saying ``synthetic: true`` is not enough). Any other key
    must be at least :data:`MIN_KEY_BYTES` bytes (UTF-8) and must not be the demo key, whatever
    the blanks or case; otherwise a :class:`~ctip_research.errors.PrivacyError` says what to do.
    The key is never logged or echoed.

    Examples
    --------
    >>> resolve_hmac_key(env_var="K", key_file=None, demo_key="demo", embedded_default=True,
    ...                  environ={})
    'demo'
    >>> secret = "a-long-random-secret-of-32-bytes-or-more"
    >>> resolve_hmac_key(env_var="K", key_file=None, demo_key="demo", embedded_default=False,
    ...                  environ={"K": secret}) == secret
    True
    """
    env = os.environ if environ is None else environ
    key: str | None = None
    origin = ""
    if env.get(env_var):
        key, origin = env[env_var], f"environment variable {env_var}"
    elif key_file is not None and Path(key_file).is_file():
        try:
            key = Path(key_file).read_text(encoding="utf-8").strip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise PrivacyError(
                f"the HMAC key file {key_file} cannot be read ({type(exc).__name__})"
            ) from None
        origin = f"key file {key_file}"
    if key:
        if demo_key is not None and _same_key(key, demo_key):
            if embedded_default:
                return demo_key
            raise PrivacyError(
                f"the HMAC key from {origin} is the public demo key; data other than the "
                "package's own synthetic survey needs a secret key (at least "
                f'{MIN_KEY_BYTES} random bytes, e.g. `python -c "import secrets; '
                f'print(secrets.token_hex(32))"`)'
            )
        if len(key.encode("utf-8")) < MIN_KEY_BYTES or len(set(key)) < MIN_KEY_DISTINCT:
            raise PrivacyError(
                f"the HMAC key from {origin} is too weak ({len(key.encode('utf-8'))} bytes, "
                f"{len(set(key))} distinct characters): use at least {MIN_KEY_BYTES} random "
                f"bytes with at least {MIN_KEY_DISTINCT} distinct characters, e.g. `python -c "
                f'"import secrets; print(secrets.token_hex(32))"`; pseudonyms under a short '
                "key can be reversed by trying keys"
            )
        return key
    if embedded_default and demo_key:
        return demo_key
    where = f"environment variable {env_var}" + (f" or key file {key_file}" if key_file else "")
    raise PrivacyError(
        f"no HMAC key for pseudonymising data other than the package's own synthetic survey: "
        f"set {where} to a secret of at least {MIN_KEY_BYTES} bytes (the public demo key is "
        "accepted only for raw files that `ctip synth` wrote, checked by their sha256)"
    )
