"""The account registry: the one service the GUI, the command line and the API use to manage the
accounts the carousel visits.

Rows live in the database (:mod:`app.core.storage`), passwords in the OS keyring
(:mod:`app.core.credentials`), and every change is made so that the two never disagree:

* **add** validates, refuses a duplicate, writes the password to the keyring first and the row second;
  if the row cannot be written the keyring is put back as it was.
* **edit** changes row fields and, optionally, the password (keyring first, restored if the row fails).
* **remove** deletes the keyring entry first, then the row with its snapshots and deals (the entry is
  put back if the row cannot be deleted). With no usable keyring nothing is removed.

These steps run to the end even if the caller is cancelled half-way (a closing window), so a
cancellation never leaves a row without its password or the reverse.

An account's terminal must be one of the pool's (``terminals``, when the caller knows the pool): an
unknown one is refused at add and edit, naming the terminals there are. Credentials are verified when
an account is added or its password changed: the row is ``pending`` (a changed password makes it
pending again, "not verified yet") and ``verifier`` — the carousel's login, in the background — settles
it as ok or error; a wrong password is never shown as ok.

Each change is published on the hub's ``accounts`` topic as an :class:`AccountUpdate` keyed by the
account id (the latest per key is the account's current state, its latest snapshot included), and
add/edit/remove are handed to the optional ``on_change`` hook — the audit trail's way in. The hook may
be a plain function or a coroutine function; if it raises, the change stands and the failure is
logged as an error.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import unicodedata
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any

from app.config import AccountsSettings
from app.core.credentials import CredentialStore, Secret
from app.core.hub import EventHub, Topic
from app.core.pnl import PnLCalendar
from app.core.storage import ConflictError, Database, Visit
from app.core.times import utc_now
from app.models import (
    AccountAction,
    AccountEdit,
    AccountSnapshot,
    AccountStatus,
    AccountUpdate,
    Deal,
    ManagedAccount,
    NewAccount,
    account_key,
)

log = logging.getLogger(__name__)

MAX_LOGIN = 2**63 - 1
MAX_SERVER_LENGTH = 128
MAX_TEXT_LENGTH = 64
MAX_PASSWORD_LENGTH = 256

ChangeHook = Callable[[AccountUpdate], object | Awaitable[object]]
Verifier = Callable[[ManagedAccount], object]
"""Starts checking an account's password by a login (returns at once; the outcome lands in its status)."""
UNVERIFIED = "the new password is not verified yet (a login checks it)"
SnapshotList = list[AccountSnapshot]  # (``list`` is a method's name inside the registry)


class AccountError(Exception):
    """Base of the registry's errors; ``str()`` is one line fit to show the user."""


class InvalidAccountError(AccountError, ValueError):
    """Bad input: ``field`` names what was wrong (login, server, broker, alias, terminal, password)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DuplicateAccountError(AccountError):
    """That login and server are registered already."""


class UnknownAccountError(AccountError, LookupError):
    """No account by that id or ``login@server``."""


# ----------------------------------------------------------------------------- validation


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def validate_login(value: int | str) -> int:
    """An MT5 login: a positive integer (digits only, when given as text)."""
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise InvalidAccountError("login", f"login must be a positive whole number, not {value!r}")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_LOGIN:
        raise InvalidAccountError("login", f"login must be a positive whole number, not {value!r}")
    return value


def _clean_text(field: str, value: str, limit: int, *, required: bool = False) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidAccountError(field, f"{field} must not be empty")
    if len(text) > limit:
        raise InvalidAccountError(field, f"{field} is longer than {limit} characters")
    if _has_control(text):
        raise InvalidAccountError(field, f"{field} contains a control character")
    return text


def validate_server(server: str) -> str:
    return _clean_text("server", server, MAX_SERVER_LENGTH, required=True)


def validate_password(password: str | Secret) -> Secret:
    """A password fit for the keyring. Messages never quote it."""
    text = password.reveal() if isinstance(password, Secret) else password
    if not text:
        raise InvalidAccountError("password", "the password is empty")
    if len(text) > MAX_PASSWORD_LENGTH:
        raise InvalidAccountError("password", f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    if _has_control(text):
        raise InvalidAccountError("password", "the password contains a control character (a line break?)")
    return Secret(text)


def validate_new(new: NewAccount) -> NewAccount:
    """``new`` with its text trimmed, or :class:`InvalidAccountError` naming the bad field."""
    terminal = _clean_text("terminal", new.terminal_id or "", MAX_TEXT_LENGTH)
    return NewAccount(
        login=validate_login(new.login),
        server=validate_server(new.server),
        broker=_clean_text("broker", new.broker, MAX_TEXT_LENGTH),
        alias=_clean_text("alias", new.alias, MAX_TEXT_LENGTH),
        terminal_id=terminal or None,
        enabled=bool(new.enabled),
    )


def validate_edit(edit: AccountEdit) -> AccountEdit:
    def clean(field: str, value: str | None) -> str | None:
        return None if value is None else _clean_text(field, value, MAX_TEXT_LENGTH)

    return AccountEdit(
        broker=clean("broker", edit.broker),
        alias=clean("alias", edit.alias),
        terminal_id=clean("terminal", edit.terminal_id),
        enabled=edit.enabled,
    )


def parse_account_ref(text: str) -> int | tuple[int, str]:
    """``"12"`` → account id 12; ``"5001@Broker-Demo"`` → (login, server)."""
    ref = text.strip()
    if ref.isascii() and ref.isdigit():
        return int(ref)
    login, at, server = ref.partition("@")
    if at and login.isascii() and login.isdigit() and server.strip():
        return validate_login(login), validate_server(server)
    raise InvalidAccountError("account", f"expected an account id or LOGIN@SERVER, not {text!r}")


# ----------------------------------------------------------------------------- the service


class AccountRegistry:
    """Managed accounts: rows in ``db``, passwords in ``credentials``; changes to ``hub`` and
    ``on_change``. All methods are coroutines that never block the event loop."""

    def __init__(
        self,
        db: Database,
        credentials: CredentialStore,
        *,
        hub: EventHub | None = None,
        on_change: ChangeHook | None = None,
        settings: AccountsSettings | None = None,
        clock: Callable[[], datetime] = utc_now,
        terminals: Callable[[], Iterable[str]] | None = None,
        verifier: Verifier | None = None,
    ) -> None:
        self._db = db
        self._credentials = credentials
        self._hub = hub
        self._on_change = on_change
        self._terminals = terminals
        self.verifier = verifier  # set after construction by whoever owns the terminals (the runtime)
        self._settings = settings or AccountsSettings()
        self._clock = clock
        self._lock = asyncio.Lock()  # one add/edit/remove at a time: keyring and row move together
        self._inflight: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ reading

    async def list(self, *, enabled_only: bool = False) -> list[ManagedAccount]:
        return await self._db.run(lambda tx: tx.accounts.list(enabled_only=enabled_only), readonly=True)

    async def get(self, account_id: int) -> ManagedAccount:
        account = await self._db.run(lambda tx: tx.accounts.get(account_id), readonly=True)
        if account is None:
            raise UnknownAccountError(f"no account with id {account_id}")
        return account

    async def find(self, login: int, server: str) -> ManagedAccount | None:
        return await self._db.run(lambda tx: tx.accounts.find(login, server), readonly=True)

    async def resolve(self, ref: str | int) -> ManagedAccount:
        """The account named by an id or ``"login@server"`` (as the CLI and API accept them)."""
        parsed = ref if isinstance(ref, int) else parse_account_ref(ref)
        if isinstance(parsed, int):
            return await self.get(parsed)
        account = await self.find(*parsed)
        if account is None:
            raise UnknownAccountError(f"no account {account_key(*parsed)}")
        return account

    async def latest_snapshots(self, *, enabled_only: bool = False) -> dict[int, AccountSnapshot]:
        """The latest snapshot of each account, by id (Accounts and Exposure views)."""
        return await self._db.run(
            lambda tx: tx.snapshots.latest_all(enabled_only=enabled_only), readonly=True
        )

    async def snapshot_history(
        self, account_id: int, *, since: datetime | None = None, limit: int | None = None
    ) -> SnapshotList:
        """The account's snapshots in time order (an equity curve), the newest ``limit`` if given."""
        return await self._db.run(
            lambda tx: tx.snapshots.history(account_id, since=since, limit=limit), readonly=True
        )

    async def latest_deal_time(self, account_id: int) -> datetime | None:
        """The time of the account's newest stored deal (the carousel fetches from a little before)."""
        return await self._db.run(lambda tx: tx.deals.latest_time(account_id), readonly=True)

    async def history_size(self, account_id: int) -> tuple[int, int]:
        """How many snapshots and deals removing the account would delete."""
        return await self._db.run(
            lambda tx: (tx.snapshots.count(account_id), tx.deals.count(account_id)), readonly=True
        )

    async def password(self, account: ManagedAccount) -> Secret:
        """The account's password from the keyring (for the terminal login only).

        Raises :class:`~app.core.credentials.CredentialMissing` when the keyring holds none, and
        :class:`~app.core.credentials.CredentialStoreUnavailable` when it cannot be reached.
        """
        return await self._credentials.arequire(account.login, account.server)

    def calendar(self, account: ManagedAccount) -> PnLCalendar:
        """How the account's P/L periods are cut (its server's clock, the configured week start)."""
        return PnLCalendar.for_server(self._settings, account.server)

    # ------------------------------------------------------------------ changing

    async def add(self, new: NewAccount, password: str | Secret, *, actor: str = "system") -> ManagedAccount:
        """Register an account and keep its password in the keyring; the new row is ``pending``.
        ``actor`` (gui, cli, api:<user>) is who asked: the audit hook records it."""
        clean, secret = validate_new(new), validate_password(password)
        self._check_terminal(clean.terminal_id)
        account = await self._atomic(self._add(clean, secret, actor))
        self._verify(account)
        return account

    async def edit(
        self,
        account_id: int,
        edit: AccountEdit,
        password: str | Secret | None = None,
        *,
        actor: str = "system",
    ) -> ManagedAccount:
        """Change row fields (see :class:`AccountEdit`) and/or the password."""
        clean = validate_edit(edit)
        secret = None if password is None else validate_password(password)
        if clean.empty and secret is None:
            raise InvalidAccountError("account", "nothing to change")
        self._check_terminal(clean.terminal_id)
        account = await self._atomic(self._edit(account_id, clean, secret, actor))
        if secret is not None:
            self._verify(account)
        return account

    async def remove(self, account_id: int, *, actor: str = "system") -> ManagedAccount:
        """Delete the account, its keyring entry, its snapshots and its deals."""
        return await self._atomic(self._remove(account_id, actor))

    async def set_status(self, account_id: int, status: AccountStatus, reason: str = "") -> ManagedAccount:
        """Record how the last visit went (``reason`` says why it failed)."""
        now = self._clock()
        account, snapshot = await self._db.run(
            lambda tx: (
                tx.accounts.set_status(account_id, status, reason, now),
                tx.snapshots.latest(account_id),
            )
        )
        if account is None:
            raise UnknownAccountError(f"no account with id {account_id}")
        self._publish(AccountUpdate(AccountAction.STATUS, account, snapshot))
        return account

    async def record_visit(
        self,
        account: ManagedAccount,
        snapshot: AccountSnapshot,
        deals: Iterable[Deal] = (),
        *,
        deals_synced_at: datetime | None = None,
    ) -> Visit | None:
        """Store a successful visit in one transaction (see :meth:`Tx.record_visit`): the deals, the
        snapshot with its period P/L computed on the account's server calendar, status ok. Publishes
        the result; None (and nothing stored) if the account was removed meanwhile."""
        calendar, deals, now = self.calendar(account), list(deals), self._clock()
        visit = await self._db.run(
            lambda tx: tx.record_visit(
                account.id, snapshot, deals, calendar=calendar, deals_synced_at=deals_synced_at, now=now
            )
        )
        if visit is not None:
            self._publish(AccountUpdate(AccountAction.VISITED, visit.account, visit.snapshot))
        return visit

    def _check_terminal(self, terminal_id: str | None) -> None:
        """An assigned terminal must be one of the pool's (when the pool is known)."""
        if not terminal_id or self._terminals is None:
            return
        known = list(self._terminals())
        if terminal_id not in known:
            raise InvalidAccountError(
                "terminal",
                f"there is no terminal {terminal_id!r} in the pool (the terminals are: "
                f"{', '.join(known) or 'none'})",
            )

    def _verify(self, account: ManagedAccount) -> None:
        if self.verifier is None:
            return  # verified by its first visit, which always logs in
        try:
            self.verifier(account)
        except Exception:
            log.exception("could not start verifying the password of %s", account.key)

    # ------------------------------------------------------------------ the two-phase steps

    async def _add(self, new: NewAccount, secret: Secret, actor: str) -> ManagedAccount:
        async with self._lock:
            if await self.find(new.login, new.server) is not None:
                raise DuplicateAccountError(f"account {new.key} is already registered")
            previous = await self._credentials.aread(new.login, new.server)  # normally none
            await self._credentials.astore(new.login, new.server, secret)
            now = self._clock()
            try:
                account = await self._db.run(lambda tx: tx.accounts.insert(new, now))
            except BaseException as exc:
                await self._restore_password(new.login, new.server, previous)
                if isinstance(exc, ConflictError):
                    raise DuplicateAccountError(str(exc)) from None
                raise
        log.info("account added: %s (id %d)", account.key, account.id)
        await self._changed(AccountUpdate(AccountAction.ADDED, account, actor=actor))
        return account

    async def _edit(
        self, account_id: int, edit: AccountEdit, secret: Secret | None, actor: str
    ) -> ManagedAccount:
        async with self._lock:
            current = await self.get(account_id)
            previous = None
            if secret is not None:
                previous = await self._credentials.aread(current.login, current.server)
                await self._credentials.astore(current.login, current.server, secret)
            now = self._clock()
            try:

                def change(tx: Any) -> tuple[ManagedAccount | None, AccountSnapshot | None]:
                    account = tx.accounts.update(account_id, edit, now)
                    if secret is not None and account is not None:  # not ok until a login proves it
                        account = tx.accounts.set_status(account_id, AccountStatus.PENDING, UNVERIFIED, now)
                    return account, tx.snapshots.latest(account_id)

                account, snapshot = await self._db.run(change)
                if account is None:
                    raise UnknownAccountError(f"no account with id {account_id}")
            except BaseException:
                if secret is not None:
                    await self._restore_password(current.login, current.server, previous)
                raise
        log.info(
            "account edited: %s (id %d)%s", account.key, account.id, ", password changed" if secret else ""
        )
        await self._changed(
            AccountUpdate(AccountAction.EDITED, account, snapshot, password_changed=bool(secret), actor=actor)
        )
        return account

    async def _remove(self, account_id: int, actor: str) -> ManagedAccount:
        async with self._lock:
            account = await self.get(account_id)
            previous = await self._credentials.aread(account.login, account.server)
            await self._credentials.adelete(account.login, account.server)
            try:
                await self._db.run(lambda tx: tx.accounts.delete(account_id))
            except BaseException:
                await self._restore_password(account.login, account.server, previous)
                raise
        log.info("account removed: %s (id %d)", account.key, account.id)
        await self._changed(AccountUpdate(AccountAction.REMOVED, account, actor=actor))
        return account

    async def _restore_password(self, login: int, server: str, previous: Secret | None) -> None:
        """Put the keyring entry back as it was before a change that failed half-way."""
        try:
            if previous is None:
                await self._credentials.adelete(login, server)
            else:
                await self._credentials.astore(login, server, previous)
        except Exception:
            log.exception(
                "could not restore the keyring entry of %s after a failed change", account_key(login, server)
            )

    async def _atomic[T](self, steps: Coroutine[Any, Any, T]) -> T:
        """Run ``steps`` to the end even if the caller is cancelled meanwhile."""
        task = asyncio.ensure_future(steps)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    async def _changed(self, update: AccountUpdate) -> None:
        self._publish(update)
        if self._on_change is None:
            return
        try:
            result = self._on_change(update)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("the account change hook failed for %s %s", update.action.value, update.account.key)

    def _publish(self, update: AccountUpdate) -> None:
        if self._hub is not None:
            self._hub.publish(Topic.ACCOUNTS, update, key=update.account.id)
