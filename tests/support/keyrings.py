"""Keyring backends for tests: real :class:`keyring.backend.KeyringBackend` subclasses, not mocks.

None of them is ever chosen by keyring's own detection (their ``priority`` raises): a test hands one
to :class:`~app.core.credentials.CredentialStore` explicitly.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.compat import properties

# scripts/test sets this inside the private D-Bus session where it starts a fresh gnome-keyring.
PRIVATE_SECRET_SERVICE_VAR = "MT5_CONSOLE_TEST_KEYRING"


class _TestOnly(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("a test backend: used only when given explicitly")


class MemoryKeyring(_TestOnly):
    """Keeps passwords in a dict. ``on_set`` runs before each write (to stage races); ``delay_s``
    makes every call slow; ``fail`` makes every call raise it."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.on_set: Callable[[str, str], None] | None = None
        self.delay_s = 0.0
        self.fail: Exception | None = None

    def _enter(self) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail is not None:
            raise self.fail

    def get_password(self, service: str, username: str) -> str | None:
        self._enter()
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._enter()
        if self.on_set is not None:
            self.on_set(service, username)
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._enter()
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("No such password!")


class HangingKeyring(_TestOnly):
    """Never answers until ``release`` is set: a locked Secret Service waiting for an unlock prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)


def private_secret_service() -> KeyringBackend:
    """The real Secret Service that scripts/test starts for the tests.

    Outside scripts/test the keyring tests are skipped, even where a Secret Service is running: they
    must never write to the developer's own keyring. Inside it, a Secret Service that cannot be
    reached fails the test loudly.
    """
    if os.environ.get(PRIVATE_SECRET_SERVICE_VAR) != "private":
        pytest.skip(
            "needs the private Secret Service that scripts/test starts (run scripts/test); "
            "keyring tests never touch your own keyring"
        )
    try:
        from keyring.backends.SecretService import Keyring

        _ = Keyring.priority  # raises when D-Bus or the Secret Service is unreachable
        backend = Keyring()
        backend.get_password("mt5-console-test-probe", "probe")
    except Exception as exc:  # noqa: BLE001 - any failure here is the environment's, and fatal
        pytest.fail(
            f"scripts/test started a Secret Service, but it cannot be used: {type(exc).__name__}: {exc}"
        )
    return backend
