"""Keyed-hash pseudonyms: stable, keyed, 16 hex characters; key resolution refuses the demo key
for real data."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip_research.errors import PrivacyError
from ctip_research.ingest.pseudonymise import pseudonymise, resolve_hmac_key


def test_pseudonym_matches_rfc2104_hmac_sha256() -> None:
    # Reference: RFC 4231 test case 2 (key "Jefe", data "what do ya want for nothing?"),
    # HMAC-SHA-256 = 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843.
    assert pseudonymise("what do ya want for nothing?", "Jefe") == "5bdcc146bf60754e"


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_pseudonym_is_stable_and_hex(raw_id: str, key: str) -> None:
    p = pseudonymise(raw_id, key)
    assert p == pseudonymise(raw_id, key)
    assert len(p) == 16 and all(c in "0123456789abcdef" for c in p)
    assert p == hmac.new(key.encode(), raw_id.encode(), hashlib.sha256).hexdigest()[:16]


def test_pseudonym_depends_on_the_key() -> None:
    ids = [f"HH-{i:05d}" for i in range(500)]
    a = {pseudonymise(i, "key-a") for i in ids}
    b = {pseudonymise(i, "key-b") for i in ids}
    assert len(a) == 500 and a.isdisjoint(b)


SECRET = "0f3c9a7e5b1d4f6a8c2e0b9d7f5a3c1e"  # 32 bytes, 16 distinct characters


def test_key_from_environment_variable_wins() -> None:
    key = resolve_hmac_key(
        env_var="K", key_file=None, demo_key="demo", embedded_default=False, environ={"K": SECRET}
    )
    assert key == SECRET


def test_key_from_file_when_variable_unset(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(SECRET + "\n", encoding="utf-8")
    key = resolve_hmac_key(
        env_var="K", key_file=tmp_path / "key", demo_key="demo", embedded_default=False, environ={}
    )
    assert key == SECRET


def test_demo_key_only_for_the_package_synthetic_output() -> None:
    assert (
        resolve_hmac_key(
            env_var="K", key_file=None, demo_key="demo", embedded_default=True, environ={}
        )
        == "demo"
    )
    with pytest.raises(PrivacyError, match="no HMAC key"):
        resolve_hmac_key(
            env_var="K", key_file=None, demo_key="demo", embedded_default=False, environ={}
        )


def test_demo_key_refused_for_real_data_even_from_environment() -> None:
    with pytest.raises(PrivacyError, match="public demo key") as info:
        resolve_hmac_key(
            env_var="K",
            key_file=None,
            demo_key="demo",
            embedded_default=False,
            environ={"K": "demo"},
        )
    assert "'demo'" not in str(info.value)


@pytest.mark.parametrize(
    "key",
    [
        "Z",  # one character
        SECRET[:31],  # one byte short
        "a" * 40,  # long but one character
        "abababababababababababababababab",  # two distinct characters
    ],
)
def test_short_or_repetitive_real_key_is_refused(key: str) -> None:
    with pytest.raises(PrivacyError, match="too weak") as info:
        resolve_hmac_key(
            env_var="K", key_file=None, demo_key="demo", embedded_default=False, environ={"K": key}
        )
    assert key not in str(info.value)


@pytest.mark.parametrize("variant", ["demo ", " demo", "DEMO", "de mo\t"])
def test_demo_key_with_blanks_or_capitals_is_still_the_demo_key(variant: str) -> None:
    with pytest.raises(PrivacyError, match="public demo key"):
        resolve_hmac_key(
            env_var="K",
            key_file=None,
            demo_key="demo",
            embedded_default=False,
            environ={"K": variant},
        )
