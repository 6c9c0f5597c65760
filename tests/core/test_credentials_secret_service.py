"""The keyring path against the real Secret Service (scripts/test starts a private gnome-keyring)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from app.core.accounts import AccountRegistry
from app.core.credentials import SERVICE_NAME, CredentialStore, Secret
from app.core.storage import Database, database_path
from app.models import AccountEdit, NewAccount

pytestmark = pytest.mark.keyring


def unique_server() -> str:
    return f"Test-{uuid.uuid4().hex[:8]}"


def test_store_read_back_and_delete(secret_service: KeyringBackend) -> None:
    store = CredentialStore()  # the keyring keyring itself picks: it must be the Secret Service
    assert type(store.backend).__module__ == "keyring.backends.SecretService"
    store.ensure_available()
    server = unique_server()
    store.store(7001, server, "Secret-Service-pa55 ü")
    assert secret_service.get_password(SERVICE_NAME, f"7001@{server}") == "Secret-Service-pa55 ü"
    assert store.read(7001, server) == Secret("Secret-Service-pa55 ü")
    assert store.delete(7001, server) is True
    assert secret_service.get_password(SERVICE_NAME, f"7001@{server}") is None
    assert store.delete(7001, server) is False


async def test_registry_add_and_remove_write_and_erase_the_keyring_entry(
    secret_service: KeyringBackend, data_dir: Path
) -> None:
    db = Database(database_path(data_dir))
    await db.start()
    try:
        registry = AccountRegistry(db, CredentialStore(secret_service))
        server = unique_server()
        account = await registry.add(NewAccount(7002, server, alias="real keyring"), "r3al-k3yring")
        assert secret_service.get_password(SERVICE_NAME, account.key) == "r3al-k3yring"
        assert (await registry.password(account)).reveal() == "r3al-k3yring"

        await registry.edit(account.id, AccountEdit(), password="n3w-pa55")
        assert secret_service.get_password(SERVICE_NAME, account.key) == "n3w-pa55"

        await registry.remove(account.id)
        assert secret_service.get_password(SERVICE_NAME, account.key) is None
        assert await registry.list() == []
    finally:
        await db.stop()
