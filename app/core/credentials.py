"""Account passwords, kept only in the OS keyring (through ``keyring``), never anywhere else.

One service name (:data:`SERVICE_NAME`), one entry per account, named by
:func:`app.models.account_key` (``login@server``). Where no usable keyring exists — keyring's
fail/null backends, a plaintext backend (``keyrings.alt``), or a Secret Service that cannot be reached
— every call raises :class:`CredentialStoreUnavailable` with a message that says how to get one, and
nothing is written anywhere else.

Keyring calls can block (D-Bus round trips; an unlock prompt waits for the user), so the ``a*``
methods run them on a worker thread with a timeout; the plain methods are for the command line.
Calls are serialised: keyring backends do not promise thread safety.

A password read back is a :class:`Secret`, which prints as ``***``: logging or serialising one by
mistake leaks nothing. Only the terminal login calls :meth:`Secret.reveal`.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend

from app.config import APP_NAME
from app.models import account_key

SERVICE_NAME = APP_NAME
DEFAULT_TIMEOUT_S = 60.0

# Backends that cannot keep a secret: keyring's placeholders, and keyrings.alt (plaintext files, or
# files "encrypted" with a password typed into a prompt this app cannot show).
_REFUSED_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


class CredentialError(Exception):
    """Base of credential errors; ``str()`` is one line fit to show the user."""


class CredentialStoreUnavailable(CredentialError):
    """No usable OS keyring: nothing can be stored or read, and nothing was stored elsewhere."""


class CredentialMissing(CredentialError):
    """The keyring works but holds no password for this account."""


class Secret:
    """A password in memory. ``str``/``repr`` show ``***``; :meth:`reveal` gives the text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


def how_to_get_a_keyring(platform: str | None = None) -> str:
    """Where a usable keyring comes from on ``platform`` (default: this one)."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        return (
            "Windows Credential Manager is built in: make sure the Credential Manager service "
            "(VaultSvc) is running"
        )
    if platform == "darwin":
        return "the macOS Keychain is built in: make sure your login keychain is unlocked"
    return (
        "install and unlock a Secret Service provider (gnome-keyring, e.g. `apt install gnome-keyring`, "
        "or KWallet) and run inside a desktop or D-Bus session; on a headless machine start one with "
        "`dbus-run-session` and `gnome-keyring-daemon --unlock`. Plaintext backends such as "
        "keyrings.alt are refused"
    )


def _unavailable(detail: str) -> CredentialStoreUnavailable:
    return CredentialStoreUnavailable(
        f"no usable OS keyring for account passwords ({detail}); {how_to_get_a_keyring()}"
    )


def _backend_name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def refusal_reason(backend: KeyringBackend) -> str | None:
    """Why ``backend`` cannot hold passwords, or None when it can."""
    if isinstance(backend, ChainerBackend):
        chained = list(backend.backends)
        if not chained:
            return "keyring found no backend"
        reasons = [reason for b in chained if (reason := refusal_reason(b)) is not None]
        return reasons[0] if reasons else None
    name = _backend_name(backend)
    if name.startswith(_REFUSED_MODULES[:2]):
        return f"keyring found no backend: {name}"
    if name.startswith(_REFUSED_MODULES[2]):
        return f"{name} keeps passwords in a file, not in the OS keyring"
    return None


def _checked_name(name: str) -> str:
    if not name or name[0].isdigit():
        raise ValueError(f"a named secret must start with a word, not {name[:1]!r} (account keys do)")
    return name


class CredentialStore:
    """Passwords of managed accounts in the OS keyring, keyed ``login@server`` under one service."""

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        service: str = SERVICE_NAME,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.service = service
        self.timeout_s = timeout_s
        self._backend = backend
        self._lock = threading.Lock()

    @property
    def backend(self) -> KeyringBackend:
        """The keyring backend (resolved on first use: keyring's own detection may touch D-Bus)."""
        if self._backend is None:
            try:
                self._backend = keyring.get_keyring()
            except Exception as exc:  # noqa: BLE001 - a broken keyring configuration is "unavailable"
                raise _unavailable(f"keyring could not load a backend: {type(exc).__name__}: {exc}") from exc
        return self._backend

    def ensure_available(self) -> None:
        """Raise :class:`CredentialStoreUnavailable` unless the backend is a real OS keyring.

        Looks at the kind of backend only (no I/O); a keyring that is present but unreachable is
        found out by the first real call.
        """
        reason = refusal_reason(self.backend)
        if reason is not None:
            raise _unavailable(reason)

    # ------------------------------------------------------------------ blocking API (CLI, threads)

    def store(self, login: int, server: str, password: str | Secret) -> None:
        """Save (or replace) the password of ``login@server``."""
        text = password.reveal() if isinstance(password, Secret) else password
        if not text:
            raise ValueError("the password is empty")
        key = account_key(login, server)
        self._call("save the password", lambda b: b.set_password(self.service, key, text), text)

    def read(self, login: int, server: str) -> Secret | None:
        """The password of ``login@server``, or None when the keyring holds none."""
        key = account_key(login, server)
        value = self._call("read the password", lambda b: b.get_password(self.service, key))
        return None if value is None else Secret(value)

    def require(self, login: int, server: str) -> Secret:
        """The password of ``login@server``; :class:`CredentialMissing` when there is none."""
        secret = self.read(login, server)
        if secret is None:
            raise CredentialMissing(
                f"no password for {account_key(login, server)} in the OS keyring: edit the account to set it"
            )
        return secret

    def delete(self, login: int, server: str) -> bool:
        """Remove the password of ``login@server``; False when there was none to remove."""
        key = account_key(login, server)

        def delete(backend: KeyringBackend) -> bool:
            if backend.get_password(self.service, key) is None:
                return False
            try:
                backend.delete_password(self.service, key)
            except keyring.errors.PasswordDeleteError:
                if backend.get_password(self.service, key) is not None:
                    raise
                return False  # someone else removed it in between
            return True

        return bool(self._call("remove the password", delete))

    # ------------------------------------------------------------------ other secrets of the app

    def read_named(self, name: str) -> Secret | None:
        """A secret of the app itself (e.g. the server's JWT signing key) kept under ``name``.

        Names never look like an account key (``login@server`` starts with digits): callers prefix
        them with a word, e.g. ``server-jwt-secret:...``.
        """
        value = self._call("read a secret", lambda b: b.get_password(self.service, _checked_name(name)))
        return None if value is None else Secret(value)

    def store_named(self, name: str, value: str | Secret) -> None:
        text = value.reveal() if isinstance(value, Secret) else value
        if not text:
            raise ValueError("the secret is empty")
        key = _checked_name(name)
        self._call("save a secret", lambda b: b.set_password(self.service, key, text), text)

    def _call[T](self, what: str, action: Callable[[KeyringBackend], T], secret: str = "") -> T:
        self.ensure_available()
        backend = self.backend
        with self._lock:
            try:
                return action(backend)
            except Exception as exc:  # noqa: BLE001 - any backend failure means "cannot reach it"
                detail = f"{type(exc).__name__}: {exc}"
                if secret:
                    detail = detail.replace(secret, "***")
                raise _unavailable(f"could not {what}: {detail}") from None

    # ------------------------------------------------------------------ async API (event loop)

    async def astore(self, login: int, server: str, password: str | Secret) -> None:
        await self._off_loop(self.store, login, server, password)

    async def aread(self, login: int, server: str) -> Secret | None:
        return await self._off_loop(self.read, login, server)

    async def arequire(self, login: int, server: str) -> Secret:
        return await self._off_loop(self.require, login, server)

    async def adelete(self, login: int, server: str) -> bool:
        return await self._off_loop(self.delete, login, server)

    async def aread_named(self, name: str) -> Secret | None:
        return await self._off_loop(self.read_named, name)

    async def astore_named(self, name: str, value: str | Secret) -> None:
        await self._off_loop(self.store_named, name, value)

    async def aensure_available(self) -> None:
        await self._off_loop(self.ensure_available)

    async def _off_loop[**P, T](self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(call, *args, **kwargs), self.timeout_s)
        except TimeoutError:
            raise _unavailable(
                f"the keyring did not answer within {self.timeout_s:g} s; is it locked and waiting to be "
                "unlocked?"
            ) from None
