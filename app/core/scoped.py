"""The services as one caller may use them: its role decides what it may do, its scope what it sees.

Adapters (the REST routes, the Socket.IO gateway) take these views instead of the bare services, so a
forgotten check in a route still cannot leak another account or let a viewer trade: the view refuses
(:class:`~app.models.users.ForbiddenError`) before the service does anything, and an account outside
the scope is "not found" — its id is not confirmed to exist.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from app.core.accounts import AccountRegistry, UnknownAccountError
from app.core.exposure import SymbolExposure, exposure
from app.core.trading import TradingService
from app.models import AccountInfo, AccountSnapshot, CarouselStatus, ManagedAccount, NewAccount
from app.models.users import Access, ForbiddenError, Permission


class ScopedAccounts:
    """The account registry within ``access``'s scope."""

    def __init__(self, registry: AccountRegistry, access: Access) -> None:
        self.registry = registry
        self.access = access

    async def list(self) -> list[ManagedAccount]:
        return [a for a in await self.registry.list() if self.access.sees(a.id)]

    async def get(self, account_id: int) -> ManagedAccount:
        if not self.access.sees(account_id):
            raise UnknownAccountError(f"no account with id {account_id}")
        return await self.registry.get(account_id)

    async def latest_snapshots(self) -> dict[int, AccountSnapshot]:
        return {k: v for k, v in (await self.registry.latest_snapshots()).items() if self.access.sees(k)}

    async def exposure(self) -> builtins.list[SymbolExposure]:
        """Net volume and P/L per symbol over the accounts in scope."""
        return exposure((await self.latest_snapshots()).values())

    async def add(self, new: NewAccount, password: Any, *, actor: str) -> ManagedAccount:
        self.access.require(Permission.MANAGE_ACCOUNTS, "add accounts")
        if not self.access.scope.everything:
            raise ForbiddenError(
                "a user limited to some accounts cannot add one: an admin adds it and sets the scope"
            )
        return await self.registry.add(new, password, actor=actor)

    async def remove(self, account_id: int, *, actor: str) -> ManagedAccount:
        self.access.require(Permission.MANAGE_ACCOUNTS, "remove accounts")
        await self.get(account_id)
        return await self.registry.remove(account_id, actor=actor)

    async def require_manage(self, account_id: int) -> ManagedAccount:
        self.access.require(Permission.MANAGE_ACCOUNTS, "sync accounts")
        return await self.get(account_id)

    async def sees_live(self, info: AccountInfo | None) -> bool:
        """Whether the live account (``info``) is in scope: always with every account, else only when
        it is one of the scope's managed accounts."""
        if self.access.scope.everything:
            return True
        if info is None:
            return False
        found = await self.registry.find(info.login, info.server)
        return found is not None and self.access.sees(found.id)


def scoped_status(status: CarouselStatus, access: Access) -> CarouselStatus:
    """The carousel's progress naming only the accounts in scope."""
    if access.scope.everything:
        return status
    return dataclasses.replace(status, current=tuple(v for v in status.current if access.sees(v[1])))


def scoped_snapshots(snapshots: Mapping[int, AccountSnapshot], access: Access) -> dict[int, AccountSnapshot]:
    return {k: v for k, v in snapshots.items() if access.sees(k)}


class GuardedTrading:
    """The trading service for a caller who must hold the trade permission and see the live account."""

    def __init__(
        self, trading: TradingService, access: Access, live_visible: Callable[[], Awaitable[bool]]
    ) -> None:
        self._trading = trading
        self.access = access
        self._live_visible = live_visible

    async def _allowed(self) -> None:
        self.access.require(Permission.TRADE, "trade")
        if not await self._live_visible():
            raise ForbiddenError("the live account is not one of your accounts")

    def with_points(self, *args: Any, **kwargs: Any) -> Any:
        """Pure arithmetic on the request (no terminal, no account): what it leads to is checked by
        ``check``/``place``."""
        return self._trading.with_points(*args, **kwargs)

    async def check(self, *args: Any, **kwargs: Any) -> Any:
        await self._allowed()
        return await self._trading.check(*args, **kwargs)

    async def place(self, *args: Any, **kwargs: Any) -> Any:
        await self._allowed()
        return await self._trading.place(*args, **kwargs)

    async def close_position(self, *args: Any, **kwargs: Any) -> Any:
        await self._allowed()
        return await self._trading.close_position(*args, **kwargs)

    async def modify_position(self, *args: Any, **kwargs: Any) -> Any:
        await self._allowed()
        return await self._trading.modify_position(*args, **kwargs)

    async def modify_order(self, *args: Any, **kwargs: Any) -> Any:
        await self._allowed()
        return await self._trading.modify_order(*args, **kwargs)

    async def cancel_order(self, *args: Any, **kwargs: Any) -> Any:
        await self._allowed()
        return await self._trading.cancel_order(*args, **kwargs)
