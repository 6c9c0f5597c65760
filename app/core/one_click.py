"""One-click trading: a chart's Sell or Buy button sends a market order at once, no ticket between.

That is a risk a trader takes knowingly (a stray click is a position), so it stays refused until the
risk was acknowledged once (``trading.one_click_acknowledged``, recorded in the audit trail as a
setting change). Each click is one order with its own client id, through the trading service like
every other order: validation, risk limits, the real-account gate, the audit trail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.audit import Action, AuditTrail, setting_change
from app.core.client_ids import new_client_id
from app.core.trading import TradingService
from app.models import OrderRequest, OrderResult, OrderType, Side, TradeAction
from app.models.errors import TradingDisabledError

ACKNOWLEDGED_KEY = "trading.one_click_acknowledged"
NOT_ACKNOWLEDGED = "one-click trading is off until its risk is acknowledged (a chart's One Click switch asks)"
RISK_TEXT = (
    "One-click trading sends a market order the moment you click Sell or Buy on a chart: there is no "
    "order ticket and no confirmation, so a stray click opens a position at once, at the price of "
    "that moment. The account's risk limits still apply."
)

Persist = Callable[[], Awaitable[None]]


class OneClickTrading:
    """The one-click rules over :class:`TradingService`. ``persist`` writes the acknowledgement where
    the next start reads it (the settings file: the window knows where it is)."""

    def __init__(
        self,
        trading: TradingService,
        *,
        acknowledged: bool = False,
        audit: AuditTrail | None = None,
        persist: Persist | None = None,
    ) -> None:
        self._trading = trading
        self._audit = audit
        self._persist = persist
        self.acknowledged = acknowledged

    async def acknowledge(self, *, actor: str = "gui") -> None:
        """The trader read :data:`RISK_TEXT` and accepted it: recorded, kept for the next start."""
        if self.acknowledged:
            return
        if self._audit is not None:
            await self._audit.append(
                actor, Action.SETTING_CHANGE, payload=setting_change(ACKNOWLEDGED_KEY, False, True)
            )
        if self._persist is not None:
            await self._persist()
        self.acknowledged = True

    async def trade(self, symbol: str, side: Side, volume: float, *, actor: str = "gui") -> OrderResult:
        """One click: one market order of ``volume`` lots (refused before acknowledgement)."""
        if not self.acknowledged:
            raise TradingDisabledError(NOT_ACKNOWLEDGED)
        request = OrderRequest(
            TradeAction.DEAL,
            symbol,
            volume,
            OrderType.BUY if side is Side.BUY else OrderType.SELL,
            comment="one-click",
            client_id=new_client_id(),
        )
        return await self._trading.place(request, actor=actor, note="one-click")
