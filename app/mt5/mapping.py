"""MT5 ↔ app translation: the only place that reads MT5 namedtuples, arrays and integer codes.

The tables are built from the terminal module itself (the real ``MetaTrader5`` or ``app.mt5.sim``),
whose constants carry MT5's values, so this module needs neither at import time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import numpy as np

from app.models import (
    AccountInfo,
    AccountTradeMode,
    BarSeries,
    Book,
    BookLevel,
    BookSide,
    Deal,
    DealEntry,
    DealType,
    FillPolicy,
    MarginMode,
    Order,
    OrderCheck,
    OrderRequest,
    OrderResult,
    OrderState,
    OrderType,
    Position,
    Side,
    SymbolSpec,
    SymbolTradeMode,
    Tick,
    TickBatch,
    Timeframe,
    TimeInForce,
    TradeAction,
)

# Symbol filling-mode flags (SYMBOL_FILLING_FOK/IOC/BOC are bit flags in symbol_info().filling_mode;
# RETURN is always allowed for market and exchange execution outside instant/request modes).
SYMBOL_FILLING_FOK = 1
SYMBOL_FILLING_IOC = 2
SYMBOL_FILLING_BOC = 4

# retcodes that mean the request succeeded
SUCCESS_RETCODE_NAMES = ("TRADE_RETCODE_DONE", "TRADE_RETCODE_PLACED", "TRADE_RETCODE_DONE_PARTIAL")
# retcodes worth trying again later (never automatically for a send: see app.core.trading)
TEMPORARY_RETCODE_NAMES = (
    "TRADE_RETCODE_REQUOTE",
    "TRADE_RETCODE_PRICE_CHANGED",
    "TRADE_RETCODE_PRICE_OFF",
    "TRADE_RETCODE_TIMEOUT",
    "TRADE_RETCODE_CONNECTION",
    "TRADE_RETCODE_TOO_MANY_REQUESTS",
    "TRADE_RETCODE_LOCKED",
    "TRADE_RETCODE_ERROR",
)


def _utc(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _utc_or_none(seconds: int | float) -> datetime | None:
    return _utc(seconds) if seconds else None


def _table(mt5: ModuleType, pairs: dict[str, Any]) -> dict[int, Any]:
    """``{"ORDER_TYPE_BUY": OrderType.BUY}`` → ``{0: OrderType.BUY}`` using the module's constants."""
    return {getattr(mt5, name): value for name, value in pairs.items() if hasattr(mt5, name)}


class Mt5Mapping:
    """Translation tables and converters for one MT5 module."""

    def __init__(self, mt5: ModuleType) -> None:
        self.mt5 = mt5
        self.order_type = _table(mt5, {f"ORDER_TYPE_{t.name}": t for t in OrderType})
        self.order_state = _table(mt5, {f"ORDER_STATE_{s.name}": s for s in OrderState})
        self.filling = _table(mt5, {f"ORDER_FILLING_{f.name}": f for f in FillPolicy})
        self.time_in_force = _table(mt5, {f"ORDER_TIME_{t.name}": t for t in TimeInForce})
        self.deal_type = _table(
            mt5,
            {
                **{f"DEAL_TYPE_{t.name}": t for t in DealType},
                "DEAL_DIVIDEND": DealType.DIVIDEND,
                "DEAL_DIVIDEND_FRANKED": DealType.DIVIDEND_FRANKED,
                "DEAL_TAX": DealType.TAX,
            },
        )
        self.deal_entry = _table(mt5, {f"DEAL_ENTRY_{e.name}": e for e in DealEntry})
        self.action = _table(mt5, {f"TRADE_ACTION_{a.name}": a for a in TradeAction})
        self.account_trade_mode = _table(mt5, {f"ACCOUNT_TRADE_MODE_{m.name}": m for m in AccountTradeMode})
        self.margin_mode = _table(
            mt5,
            {
                "ACCOUNT_MARGIN_MODE_RETAIL_NETTING": MarginMode.NETTING,
                "ACCOUNT_MARGIN_MODE_EXCHANGE": MarginMode.EXCHANGE,
                "ACCOUNT_MARGIN_MODE_RETAIL_HEDGING": MarginMode.HEDGING,
            },
        )
        self.symbol_trade_mode = _table(
            mt5,
            {
                "SYMBOL_TRADE_MODE_DISABLED": SymbolTradeMode.DISABLED,
                "SYMBOL_TRADE_MODE_LONGONLY": SymbolTradeMode.LONG_ONLY,
                "SYMBOL_TRADE_MODE_SHORTONLY": SymbolTradeMode.SHORT_ONLY,
                "SYMBOL_TRADE_MODE_CLOSEONLY": SymbolTradeMode.CLOSE_ONLY,
                "SYMBOL_TRADE_MODE_FULL": SymbolTradeMode.FULL,
            },
        )
        self.book_side = _table(mt5, {f"BOOK_TYPE_{b.name}": b for b in BookSide})
        self.timeframe = {tf: getattr(mt5, f"TIMEFRAME_{tf.name}") for tf in Timeframe}
        self.success_retcodes = frozenset(getattr(mt5, n) for n in SUCCESS_RETCODE_NAMES)
        self.temporary_retcodes = frozenset(
            getattr(mt5, n) for n in TEMPORARY_RETCODE_NAMES if hasattr(mt5, n)
        )
        self._order_type_to_mt5 = {v: k for k, v in self.order_type.items()}
        self._filling_to_mt5 = {v: k for k, v in self.filling.items()}
        self._tif_to_mt5 = {v: k for k, v in self.time_in_force.items()}
        self._action_to_mt5 = {v: k for k, v in self.action.items()}
        self.retcode_names = {
            getattr(mt5, name): name.removeprefix("TRADE_RETCODE_")
            for name in dir(mt5)
            if name.startswith("TRADE_RETCODE_")
        }

    # ------------------------------------------------------------------ market data
    def tick(self, symbol: str, t: Any) -> Tick:
        return Tick(
            symbol, int(t.time_msc), float(t.bid), float(t.ask), float(t.last), float(t.volume), int(t.flags)
        )

    def tick_batch(self, symbol: str, ticks: Any) -> TickBatch:
        if ticks is None or len(ticks) == 0:
            return TickBatch.empty(symbol)
        return TickBatch(
            symbol,
            np.asarray(ticks["time_msc"], dtype=np.int64).copy(),
            np.asarray(ticks["bid"], dtype=np.float64).copy(),
            np.asarray(ticks["ask"], dtype=np.float64).copy(),
            np.asarray(ticks["last"], dtype=np.float64).copy(),
            np.asarray(
                ticks["volume_real"] if "volume_real" in ticks.dtype.names else ticks["volume"],
                dtype=np.float64,
            ).copy(),
            np.asarray(ticks["flags"], dtype=np.int64).copy(),
        )

    def bar_series(self, symbol: str, timeframe: Timeframe, rates: Any) -> BarSeries:
        def col(name: str, dtype: type) -> Any:
            if rates is None or len(rates) == 0:
                return np.empty(0, dtype=dtype)
            return np.asarray(rates[name], dtype=dtype).copy()

        return BarSeries(
            symbol,
            timeframe,
            col("time", np.int64),
            col("open", np.float64),
            col("high", np.float64),
            col("low", np.float64),
            col("close", np.float64),
            col("tick_volume", np.int64),
            col("spread", np.int64),
            col("real_volume", np.int64),
        )

    def symbol_spec(self, s: Any) -> SymbolSpec:
        fillings = (
            {FillPolicy.RETURN}
            if s.trade_exemode != getattr(self.mt5, "SYMBOL_TRADE_EXECUTION_MARKET", 2)
            else set()
        )
        if s.filling_mode & SYMBOL_FILLING_FOK:
            fillings.add(FillPolicy.FOK)
        if s.filling_mode & SYMBOL_FILLING_IOC:
            fillings.add(FillPolicy.IOC)
        if s.filling_mode & SYMBOL_FILLING_BOC:
            fillings.add(FillPolicy.BOC)
        return SymbolSpec(
            name=s.name,
            description=s.description,
            digits=int(s.digits),
            point=float(s.point),
            contract_size=float(s.trade_contract_size),
            volume_min=float(s.volume_min),
            volume_max=float(s.volume_max),
            volume_step=float(s.volume_step),
            stops_level=int(s.trade_stops_level),
            freeze_level=int(s.trade_freeze_level),
            tick_size=float(s.trade_tick_size),
            tick_value=float(s.trade_tick_value),
            currency_base=s.currency_base,
            currency_profit=s.currency_profit,
            currency_margin=s.currency_margin,
            trade_mode=self.symbol_trade_mode.get(s.trade_mode, SymbolTradeMode.FULL),
            filling_modes=frozenset(fillings),
            spread=int(s.spread),
            spread_float=bool(s.spread_float),
            path=s.path,
            visible=bool(s.visible),
            swap_long=float(s.swap_long),
            swap_short=float(s.swap_short),
            margin_initial=float(s.margin_initial),
            margin_maintenance=float(s.margin_maintenance),
            margin_hedged=float(s.margin_hedged),
        )

    def book(self, symbol: str, entries: Any, time_msc: int) -> Book:
        levels = tuple(
            BookLevel(self.book_side.get(e.type, BookSide.SELL), float(e.price), float(e.volume_dbl))
            for e in entries or ()
        )
        return Book(symbol, time_msc, levels)

    # ------------------------------------------------------------------ account and trading
    def account(self, a: Any) -> AccountInfo:
        return AccountInfo(
            login=int(a.login),
            name=a.name,
            server=a.server,
            company=a.company,
            currency=a.currency,
            leverage=int(a.leverage),
            balance=float(a.balance),
            credit=float(a.credit),
            equity=float(a.equity),
            margin=float(a.margin),
            margin_free=float(a.margin_free),
            margin_level=float(a.margin_level),
            profit=float(a.profit),
            trade_mode=self.account_trade_mode.get(a.trade_mode, AccountTradeMode.DEMO),
            margin_mode=self.margin_mode.get(a.margin_mode, MarginMode.HEDGING),
            trade_allowed=bool(a.trade_allowed),
            margin_so_call=float(a.margin_so_call),
            margin_so_so=float(a.margin_so_so),
            currency_digits=int(a.currency_digits),
        )

    def position(self, p: Any) -> Position:
        side = Side.BUY if p.type == self.mt5.POSITION_TYPE_BUY else Side.SELL
        return Position(
            ticket=int(p.ticket),
            symbol=p.symbol,
            side=side,
            volume=float(p.volume),
            price_open=float(p.price_open),
            price_current=float(p.price_current),
            sl=float(p.sl),
            tp=float(p.tp),
            profit=float(p.profit),
            swap=float(p.swap),
            time=_utc(p.time_msc / 1000 if getattr(p, "time_msc", 0) else p.time),
            time_update=_utc(p.time_update_msc / 1000 if getattr(p, "time_update_msc", 0) else p.time_update),
            magic=int(p.magic),
            comment=p.comment,
            identifier=int(p.identifier),
        )

    def order(self, o: Any) -> Order:
        return Order(
            ticket=int(o.ticket),
            symbol=o.symbol,
            type=self.order_type[o.type],
            state=self.order_state.get(o.state, OrderState.PLACED),
            volume_initial=float(o.volume_initial),
            volume_current=float(o.volume_current),
            price_open=float(o.price_open),
            sl=float(o.sl),
            tp=float(o.tp),
            price_current=float(o.price_current),
            price_stoplimit=float(o.price_stoplimit),
            time_setup=_utc(o.time_setup_msc / 1000 if getattr(o, "time_setup_msc", 0) else o.time_setup),
            time_done=_utc_or_none(o.time_done_msc / 1000 if getattr(o, "time_done_msc", 0) else o.time_done),
            time_expiration=_utc_or_none(o.time_expiration),
            time_in_force=self.time_in_force.get(o.type_time, TimeInForce.GTC),
            filling=self.filling.get(o.type_filling, FillPolicy.RETURN),
            magic=int(o.magic),
            comment=o.comment,
            position_id=int(o.position_id),
        )

    def deal(self, d: Any) -> Deal:
        return Deal(
            ticket=int(d.ticket),
            order=int(d.order),
            position_id=int(d.position_id),
            symbol=d.symbol,
            type=self.deal_type.get(d.type, DealType.BALANCE),
            entry=self.deal_entry.get(d.entry, DealEntry.IN),
            volume=float(d.volume),
            price=float(d.price),
            profit=float(d.profit),
            swap=float(d.swap),
            commission=float(d.commission),
            fee=float(d.fee),
            time=_utc(d.time_msc / 1000 if getattr(d, "time_msc", 0) else d.time),
            magic=int(d.magic),
            comment=d.comment,
        )

    def request(self, r: OrderRequest) -> dict[str, Any]:
        """An MT5 ``order_send``/``order_check`` dict; zero/empty fields are left out as MT5 expects."""
        out: dict[str, Any] = {"action": self._action_to_mt5[r.action]}
        if r.symbol:
            out["symbol"] = r.symbol
        if r.action in (TradeAction.DEAL, TradeAction.PENDING):
            out["volume"] = float(r.volume)
            out["type"] = self._order_type_to_mt5[r.type]
            out["deviation"] = int(r.deviation)
            out["type_time"] = self._tif_to_mt5[r.time_in_force]
            if r.filling is not None:
                out["type_filling"] = self._filling_to_mt5[r.filling]
        for name in ("price", "stoplimit", "sl", "tp"):
            value = getattr(r, name)
            if value or (name in ("sl", "tp") and r.action in (TradeAction.SLTP, TradeAction.MODIFY)):
                out[name] = float(value)
        if r.action == TradeAction.MODIFY and "price" not in out:
            out["price"] = float(r.price)
        for name in ("magic", "position", "position_by", "order"):
            value = getattr(r, name)
            if value:
                out[name] = int(value)
        if r.comment:
            out["comment"] = r.comment
        if r.expiration is not None:
            out["expiration"] = int(r.expiration.timestamp())
        return out

    def order_check(self, c: Any) -> OrderCheck:
        return OrderCheck(
            retcode=int(c.retcode),
            balance=float(c.balance),
            equity=float(c.equity),
            profit=float(c.profit),
            margin=float(c.margin),
            margin_free=float(c.margin_free),
            margin_level=float(c.margin_level),
            comment=c.comment,
            ok=int(c.retcode) == 0,
            retcode_name="OK" if int(c.retcode) == 0 else self.retcode_name(int(c.retcode)),
        )

    def order_result(self, r: Any, client_id: str = "", latency_ms: float = 0.0) -> OrderResult:
        return OrderResult(
            retcode=int(r.retcode),
            ok=int(r.retcode) in self.success_retcodes,
            deal=int(r.deal),
            order=int(r.order),
            volume=float(r.volume),
            price=float(r.price),
            bid=float(r.bid),
            ask=float(r.ask),
            comment=r.comment,
            request_id=int(r.request_id),
            client_id=client_id,
            latency_ms=latency_ms,
            retcode_name=self.retcode_name(int(r.retcode)),
            temporary=int(r.retcode) in self.temporary_retcodes,
        )

    def retcode_name(self, retcode: int) -> str:
        return self.retcode_names.get(retcode, str(retcode))
