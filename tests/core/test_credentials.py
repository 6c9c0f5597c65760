"""Credentials: only a real OS keyring will do; failures say how to get one; nothing leaks."""

from __future__ import annotations

import asyncio
import time

import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from app.core.credentials import (
    SERVICE_NAME,
    CredentialMissing,
    CredentialStore,
    CredentialStoreUnavailable,
    Secret,
    how_to_get_a_keyring,
    refusal_reason,
)
from tests.support.keyrings import HangingKeyring, MemoryKeyring


def plaintext_backend() -> KeyringBackend:
    """A backend that claims to come from keyrings.alt (which keeps passwords in a file)."""
    cls = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})
    return cls()


def test_store_read_delete_under_one_service_and_login_at_server() -> None:
    backend = MemoryKeyring()
    store = CredentialStore(backend)
    store.store(5001, "Broker-Demo", "pa55")
    assert backend.entries == {(SERVICE_NAME, "5001@Broker-Demo"): "pa55"}
    assert store.read(5001, "Broker-Demo") == Secret("pa55")
    assert store.require(5001, "Broker-Demo").reveal() == "pa55"
    assert store.delete(5001, "Broker-Demo") is True
    assert store.delete(5001, "Broker-Demo") is False
    assert store.read(5001, "Broker-Demo") is None
    with pytest.raises(CredentialMissing, match="no password for 5001@Broker-Demo"):
        store.require(5001, "Broker-Demo")


def test_a_secret_never_shows_itself() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in f"{secret} {secret!r} {[secret]} {dict(p=secret)}"
    assert secret.reveal() == "hunter2"


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (fail.Keyring(), "keyring found no backend"),
        (null.Keyring(), "keyring found no backend"),
        (plaintext_backend(), "keeps passwords in a file"),
    ],
)
def test_unusable_backends_are_refused_before_anything_is_written(
    backend: KeyringBackend, reason: str
) -> None:
    store = CredentialStore(backend)
    assert reason in (refusal_reason(backend) or "")
    with pytest.raises(CredentialStoreUnavailable, match="no usable OS keyring") as caught:
        store.store(1, "S", "pa55")
    assert how_to_get_a_keyring() in str(caught.value)
    if isinstance(backend, MemoryKeyring):
        assert backend.entries == {}


def test_the_advice_fits_the_platform() -> None:
    assert "Credential Manager" in how_to_get_a_keyring("win32")
    assert "Keychain" in how_to_get_a_keyring("darwin")
    linux = how_to_get_a_keyring("linux")
    assert "gnome-keyring" in linux and "KWallet" in linux and "keyrings.alt" in linux


@pytest.mark.parametrize(
    "error",
    [keyring.errors.KeyringLocked("Failed to unlock the collection!"), ConnectionError("D-Bus gone")],
)
def test_a_keyring_that_fails_is_unavailable_with_the_cause(error: Exception) -> None:
    backend = MemoryKeyring()
    backend.fail = error
    with pytest.raises(CredentialStoreUnavailable, match=type(error).__name__):
        CredentialStore(backend).read(1, "S")


def test_a_backend_that_echoes_the_password_in_its_error_is_redacted() -> None:
    backend = MemoryKeyring()
    backend.fail = keyring.errors.PasswordSetError("could not store 'pa55-w0rd'")
    with pytest.raises(CredentialStoreUnavailable) as caught:
        CredentialStore(backend).store(1, "S", "pa55-w0rd")
    assert "pa55-w0rd" not in str(caught.value)


async def test_a_hung_keyring_times_out_without_blocking_the_loop() -> None:
    backend = HangingKeyring()
    store = CredentialStore(backend, timeout_s=0.3)
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            await asyncio.sleep(0.01)
            beats += 1

    beating = asyncio.create_task(heartbeat())
    started = time.perf_counter()
    try:
        with pytest.raises(CredentialStoreUnavailable, match="did not answer within 0.3 s"):
            await store.aread(1, "S")
    finally:
        beating.cancel()
        backend.release.set()
    assert 0.3 <= time.perf_counter() - started < 2
    assert beats >= 10


async def test_async_forms_match_the_blocking_ones() -> None:
    store = CredentialStore(MemoryKeyring())
    await store.aensure_available()
    await store.astore(2, "S", Secret("x"))
    assert await store.aread(2, "S") == Secret("x")
    assert (await store.arequire(2, "S")).reveal() == "x"
    assert await store.adelete(2, "S") is True
    assert await store.aread(2, "S") is None


def test_an_empty_password_is_not_stored() -> None:
    with pytest.raises(ValueError, match="empty"):
        CredentialStore(MemoryKeyring()).store(1, "S", "")
