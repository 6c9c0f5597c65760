"""Sharing the live terminal (a pool of one): borrow it, visit, put it back on the live account.

While the terminal is lent (``pool.live_lent_to`` set) the trading service refuses orders and the
account state stops refreshing; the live quote stream is paused, since the terminal may be on another
broker's server. Before the terminal is given back it is logged in to the live account again and
checked — if that fails, it stays lent (orders stay refused) and the return is retried with backoff
until it succeeds: the live terminal is never left on another account while trading could resume.

The live account's password comes from the account registry when the live account is a managed
account, else from ``home_passwords`` (in sim mode: the documented demo passwords). Without one the
carousel does not borrow the live terminal at all: it could not bring it back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.config import CarouselSettings
from app.core.accounts import AccountRegistry
from app.core.carousel.errors import SharingRefused, TerminalUnavailable
from app.core.carousel.visit import same_account
from app.core.credentials import CredentialError, Secret
from app.models import AuthorizationError, TerminalError, account_key
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool
from app.retry import Backoff

log = logging.getLogger(__name__)

BORROWER = "carousel"

HomePasswords = Callable[[int, str], str | None]
"""Password of an account that is not a managed one, if known (sim mode: the demo accounts)."""


@dataclass(frozen=True, slots=True)
class Home:
    """The account the live terminal belongs on, with its password (never shown)."""

    login: int
    server: str
    password: Secret

    @property
    def key(self) -> str:
        return account_key(self.login, self.server)


class SharedTerminal:
    """Lends the pool's live terminal to visits and brings it home after each one."""

    def __init__(
        self,
        pool: TerminalPool,
        registry: AccountRegistry,
        settings: CarouselSettings,
        *,
        home_passwords: HomePasswords | None = None,
        on_note: Callable[[str], None] = lambda note: None,
        giving_up: Callable[[], bool] = lambda: False,
    ) -> None:
        self._pool = pool
        self._registry = registry
        self._settings = settings
        self._home_passwords = home_passwords
        self._note = on_note
        self._giving_up = giving_up
        self._homes: dict[tuple[int, str], Secret] = {}
        self._visits: set[asyncio.Task[object]] = set()

    @property
    def terminal(self) -> TerminalClient:
        return self._pool.live

    def is_home(self, login: int, server: str) -> bool:
        """``login@server`` is the live account itself (visited without leaving it)."""
        home = self._pool.live.home_account
        return home is not None and home[0] == login and home[1].casefold() == server.casefold()

    async def home(self) -> Home:
        """The live account and its password; :class:`SharingRefused` when either is unknown."""
        live = self._pool.live
        found = live.home_account
        if found is None:
            raise SharingRefused(
                f"the live terminal {live.terminal_id} has no account yet to return to after a visit"
            )
        login, server = found
        cached = self._homes.get((login, server))
        if cached is not None:
            return Home(login, server, cached)
        password = await self._home_password(login, server)
        if password is None:
            raise SharingRefused(
                f"cannot share the live terminal: no password known for the live account "
                f"{account_key(login, server)} (add it as an account, or give the carousel a terminal "
                "of its own)"
            )
        self._homes[(login, server)] = password
        return Home(login, server, password)

    def forget_home(self, login: int, server: str) -> None:
        """Read the live account's password again next time (its registry entry was just refused)."""
        self._homes.pop((login, server), None)

    async def _home_password(self, login: int, server: str) -> Secret | None:
        try:
            managed = await self._registry.find(login, server)
        except Exception:  # noqa: BLE001 - a database hiccup: fall back to what else is known
            log.exception("could not look up the live account %s", account_key(login, server))
            managed = None
        if managed is not None:
            try:
                limit = self._settings.store_timeout_s
                return await asyncio.wait_for(self._registry.password(managed), limit)
            except (CredentialError, TimeoutError) as exc:
                log.warning("no password for the live account %s: %s", managed.key, exc or "timeout")
        if self._home_passwords is not None:
            known = self._home_passwords(login, server)
            if known:
                return Secret(known)
        return None

    async def visit[T](self, work: Callable[[TerminalClient], Awaitable[T]]) -> T:
        """Borrow the live terminal, run ``work`` on it, and bring it home before giving it back.

        The return home runs to its end even if the caller is cancelled meanwhile (a stop), so the
        pool never gets the terminal back on another account.
        """
        home = await self.home()
        task = asyncio.ensure_future(self._borrowed(home, work))
        self._visits.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._visits.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a caller that was cancelled meanwhile will not ask

    async def wait_returned(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) for visits under way to bring the terminal home; True if none is
        left."""
        pending = list(self._visits)
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
        return not self._visits

    async def _borrowed[T](self, home: Home, work: Callable[[TerminalClient], Awaitable[T]]) -> T:
        if self._pool.live_lent_to is not None:
            raise TerminalUnavailable(f"the live terminal is lent to {self._pool.live_lent_to}")
        async with self._pool.borrow_live(BORROWER) as live:
            try:
                await live.pause_stream(True)
            except TerminalError as exc:
                raise TerminalUnavailable(f"terminal {live.terminal_id}: {exc.message}") from None
            try:
                return await work(live)
            finally:
                await self._go_home(live, home)
                try:
                    await live.pause_stream(False)
                except TerminalError as exc:  # the client resumes it by itself when it reconnects
                    log.warning("terminal %s: could not resume the quote stream: %s", live.terminal_id, exc)

    async def _go_home(self, live: TerminalClient, home: Home) -> None:
        """Log the terminal back in to the live account and check it; retry until it is there."""
        backoff = Backoff(initial=1.0, maximum=30.0)
        while True:
            problem = await self._try_home(live, home)
            if problem is None:
                return
            message = (
                f"the live terminal could not return to {home.key}: {problem}; orders stay refused "
                "until it does"
            )
            log.error(message)
            self._note(message)
            if self._giving_up():
                log.critical("giving up: live terminal %s may be left on another account", live.terminal_id)
                return
            await asyncio.sleep(backoff.next_delay())
            if (home.login, home.server) not in self._homes:  # refused: read the password again
                password = await self._home_password(home.login, home.server)
                if password is not None:
                    home = Home(home.login, home.server, password)

    async def _try_home(self, live: TerminalClient, home: Home) -> str | None:
        """None once the terminal is on the live account, else what went wrong."""
        try:
            info = await live.call("account", timeout_s=self._settings.snapshot_timeout_s)
            if same_account(info, home.login, home.server):
                self._note("")
                return None
        except TerminalError as exc:
            log.info("live terminal: account check before returning home failed: %s", exc)
        try:
            info = await live.login(
                home.login, home.password.reveal(), home.server, timeout_s=self._settings.login_timeout_s
            )
        except AuthorizationError as exc:
            self._homes.pop((home.login, home.server), None)  # read the password again next time
            return f"login refused: {exc.message}"
        except TerminalError as exc:
            return exc.message or type(exc).__name__
        if not same_account(info, home.login, home.server):
            return f"the terminal reports {info.key} after logging in"
        self._note("")
        return None
