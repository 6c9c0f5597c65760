"""Risk limits on new orders, and the daily-loss kill switch.

Limits apply per account (``[trading.limits]``, overridden per ``login@server`` in
``[trading.account_limits]``): max volume per order, max open positions, max orders per second, and
a max daily loss. The daily loss is realised P/L today (trading deals since the start of the server
day, commission and swap included) plus the floating P/L of the open positions now — counting all of
the floating P/L, not only today's change, so the switch trips early rather than late. A tripped switch
refuses every new order on that account until a person resets it; it survives a restart (it lives in
the database), every trip and reset is audited, and the state is published on the hub. Closing,
reducing and cancelling are never limited.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.audit import Action, Actor, AuditTrail
from app.config import AccountsSettings, TradingSettings
from app.core.hub import EventHub, Topic
from app.core.money import DEFAULT_DIGITS, rounded
from app.core.pnl import PnLCalendar, period_starts
from app.core.storage import Database
from app.core.storage.client_orders import KillSwitch
from app.core.times import utc_now
from app.models import AccountInfo, Deal, OrderRequest, Position, RiskLimitError, TerminalError, TradeAction

log = logging.getLogger(__name__)

DealsReader = Callable[[datetime, datetime], Awaitable[list[Deal]]]
CloseAll = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RiskState:
    """What the window shows: the account's kill switch (None when not tripped) and today's P/L."""

    account: str
    kill_switch: KillSwitch | None
    daily_pnl: float | None
    max_daily_loss: float


def opens_exposure(request: OrderRequest) -> bool:
    """New market orders and pending orders add risk; closing a position (``position`` set) does not."""
    return request.action is TradeAction.PENDING or (
        request.action is TradeAction.DEAL and not request.position
    )


def daily_pnl(deals: list[Deal], positions: tuple[Position, ...] | list[Position]) -> float:
    realised = sum(d.net for d in deals if d.type.is_trade)
    floating = sum(p.profit + p.swap for p in positions)
    return realised + floating


class RiskGuard:
    name = "risk"

    def __init__(
        self,
        settings: TradingSettings,
        accounts_settings: AccountsSettings,
        db: Database,
        audit: AuditTrail,
        hub: EventHub,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self._accounts_settings = accounts_settings
        self._db = db
        self._audit = audit
        self._hub = hub
        self._clock = clock
        self._switches: dict[str, KillSwitch] = {}
        self._sent: dict[str, deque[float]] = {}
        self._loaded = False  # the kill switches are read at start: no order is judged before that
        self.close_all: CloseAll | None = None  # set by the trading service: "close every position"

    async def start(self) -> None:
        switches = await self._db.run(lambda tx: tx.kill_switches.all(), readonly=True)
        self._switches = {s.account.casefold(): s for s in switches}
        self._loaded = True
        for switch in switches:
            log.warning(
                "kill switch of %s is on since %s: %s", switch.account, switch.tripped_at, switch.reason
            )

    async def stop(self) -> None:
        self._sent.clear()

    # ------------------------------------------------------------------ state
    def kill_switch(self, account: str) -> KillSwitch | None:
        return self._switches.get(account.casefold())

    def publish(self, account: str, pnl: float | None = None) -> RiskState:
        state = RiskState(
            account, self.kill_switch(account), pnl, self.settings.limits_for(account).max_daily_loss
        )
        self._hub.publish(Topic.RISK, state, key=account)
        return state

    # ------------------------------------------------------------------ checks
    def check_new_order(self, account: AccountInfo, request: OrderRequest, open_positions: int) -> None:
        """Refuse an order that would break a limit (raise :class:`RiskLimitError` naming it)."""
        if not self._loaded:
            raise RiskLimitError("starting", "the risk limits are not loaded yet: try again in a moment")
        key = account.key
        limits = self.settings.limits_for(key)
        switch = self.kill_switch(key)
        if switch is not None:
            raise RiskLimitError(
                "kill_switch",
                f"the daily-loss kill switch of {key} tripped at {switch.tripped_at:%Y-%m-%d %H:%M} UTC "
                f"({switch.reason}); new orders are refused until it is reset",
            )
        if limits.max_volume_per_order and request.volume > limits.max_volume_per_order + 1e-9:
            raise RiskLimitError(
                "max_volume_per_order",
                f"volume {request.volume:g} is above the limit of {limits.max_volume_per_order:g} per order",
            )
        if (
            limits.max_open_positions
            and request.action is TradeAction.DEAL
            and open_positions >= limits.max_open_positions
        ):
            raise RiskLimitError(
                "max_open_positions",
                f"{open_positions} positions are open: the limit is {limits.max_open_positions}",
            )
        if limits.max_orders_per_second:
            window = self._sent.get(key)
            now = time.monotonic()
            if window is not None:
                while window and now - window[0] > 1.0:
                    window.popleft()
                if len(window) >= limits.max_orders_per_second:
                    raise RiskLimitError(
                        "max_orders_per_second",
                        f"more than {limits.max_orders_per_second:g} orders a second on {key}: wait a moment",
                    )

    def note_sent(self, account: str) -> None:
        """Count an order that went to the terminal (for the orders-per-second limit)."""
        window = self._sent.setdefault(account, deque(maxlen=1_000))
        window.append(time.monotonic())

    # ------------------------------------------------------------------ daily loss
    def calendar(self, account: AccountInfo) -> PnLCalendar:
        return PnLCalendar.for_server(self._accounts_settings, account.server)

    async def evaluate(
        self,
        account: AccountInfo,
        positions: tuple[Position, ...] | list[Position],
        read_deals: DealsReader,
        server_now: datetime | None = None,
    ) -> float | None:
        """Today's P/L of ``account``; trips its kill switch when the loss reaches the limit.

        "Today" is the trade server's day: ``server_now`` is the terminal's clock (its latest tick),
        the time base its deals are stamped in.
        """
        limit = self.settings.limits_for(account.key).max_daily_loss
        now = server_now or self._clock()
        start = period_starts(now, self.calendar(account)).day
        try:  # up to a day ahead: the newest tick may be older than the newest deal
            deals = await read_deals(start, now + timedelta(days=1))
        except TerminalError as exc:
            log.debug("daily loss of %s not evaluated: %s", account.key, exc)
            return None
        pnl = daily_pnl(deals, positions)
        if limit and -pnl >= limit and self.kill_switch(account.key) is None:
            await self.trip(
                account.key, -pnl, f"daily loss {-pnl:.2f} {account.currency} reached the limit {limit:g}"
            )
        else:
            self.publish(account.key, pnl)
        return pnl

    async def trip(self, account: str, loss: float, reason: str) -> KillSwitch:
        switch = KillSwitch(account, self._clock(), loss, reason)
        await self._audit.append(
            Actor.RISK,
            Action.RISK_KILL_SWITCH,
            account=account,
            payload={"state": "tripped", "loss": rounded(loss, DEFAULT_DIGITS), "reason": reason},
        )
        await self._db.run(lambda tx: tx.kill_switches.trip(switch))
        self._switches[account.casefold()] = switch
        log.error("KILL SWITCH tripped on %s: %s; new orders are refused until reset", account, reason)
        self.publish(account, -loss)
        if self.settings.limits_for(account).close_all_on_kill and self.close_all is not None:
            try:
                await self.close_all(account)
            except Exception:
                log.exception("closing every position of %s after the kill switch failed", account)
        return switch

    async def reset(self, account: str, actor: str) -> bool:
        """A person turns the kill switch off again (audited)."""
        if self.kill_switch(account) is None:
            return False
        await self._audit.append(actor, Action.RISK_KILL_SWITCH, account=account, payload={"state": "reset"})
        await self._db.run(lambda tx: tx.kill_switches.reset(account))
        self._switches.pop(account.casefold(), None)
        log.warning("kill switch of %s reset by %s", account, actor)
        self.publish(account)
        return True


class RiskMonitor:
    """Evaluates the live account's daily loss every few seconds, so the switch trips between orders."""

    name = "risk-monitor"

    def __init__(
        self,
        guard: RiskGuard,
        account: Callable[[], AccountInfo | None],
        positions: Callable[[], tuple[Position, ...]],
        read_deals: DealsReader,
        server_now: Callable[[], datetime | None] = lambda: None,
    ) -> None:
        self._guard = guard
        self._account = account
        self._positions = positions
        self._read_deals = read_deals
        self._server_now = server_now
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="risk-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._guard.settings.risk_check_interval_s)
            account = self._account()
            if account is None:
                continue
            try:
                await self._guard.evaluate(account, self._positions(), self._read_deals, self._server_now())
            except Exception:
                log.exception("the daily-loss check failed")
