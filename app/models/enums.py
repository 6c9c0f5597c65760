"""The app's own enums. Their values are the app's, not MT5's: the mapping lives in ``app.mt5.mapping``."""

from __future__ import annotations

from enum import Enum, IntEnum


class Side(Enum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        """+1 for buy, -1 for sell: profit = sign * (close - open) * volume * contract size."""
        return 1 if self is Side.BUY else -1


class OrderType(Enum):
    BUY = "buy"
    SELL = "sell"
    BUY_LIMIT = "buy_limit"
    SELL_LIMIT = "sell_limit"
    BUY_STOP = "buy_stop"
    SELL_STOP = "sell_stop"
    BUY_STOP_LIMIT = "buy_stop_limit"
    SELL_STOP_LIMIT = "sell_stop_limit"
    CLOSE_BY = "close_by"

    @property
    def side(self) -> Side:
        return Side.SELL if self.value.startswith("sell") else Side.BUY

    @property
    def is_market(self) -> bool:
        return self in (OrderType.BUY, OrderType.SELL)

    @property
    def is_pending(self) -> bool:
        return not self.is_market and self is not OrderType.CLOSE_BY

    @classmethod
    def pending(cls, side: Side, kind: str) -> OrderType:
        """``pending(Side.BUY, "limit")`` → BUY_LIMIT; ``kind`` is limit, stop or stop_limit."""
        return cls(f"{side.value}_{kind}")


class OrderState(Enum):
    STARTED = "started"
    PLACED = "placed"
    CANCELED = "canceled"
    PARTIAL = "partial"
    FILLED = "filled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REQUEST_ADD = "request_add"
    REQUEST_MODIFY = "request_modify"
    REQUEST_CANCEL = "request_cancel"


class FillPolicy(Enum):
    FOK = "fok"
    IOC = "ioc"
    RETURN = "return"
    BOC = "boc"


class TimeInForce(Enum):
    GTC = "gtc"
    DAY = "day"
    SPECIFIED = "specified"
    SPECIFIED_DAY = "specified_day"


class DealType(Enum):
    BUY = "buy"
    SELL = "sell"
    BALANCE = "balance"
    CREDIT = "credit"
    CHARGE = "charge"
    CORRECTION = "correction"
    BONUS = "bonus"
    COMMISSION = "commission"
    COMMISSION_DAILY = "commission_daily"
    COMMISSION_MONTHLY = "commission_monthly"
    COMMISSION_AGENT_DAILY = "commission_agent_daily"
    COMMISSION_AGENT_MONTHLY = "commission_agent_monthly"
    INTEREST = "interest"
    BUY_CANCELED = "buy_canceled"
    SELL_CANCELED = "sell_canceled"
    DIVIDEND = "dividend"
    DIVIDEND_FRANKED = "dividend_franked"
    TAX = "tax"

    @property
    def is_trade(self) -> bool:
        """Buy/sell deals; the rest are balance operations (deposits, credit, fees, ...)."""
        return self in (DealType.BUY, DealType.SELL)


class DealEntry(Enum):
    IN = "in"
    OUT = "out"
    INOUT = "inout"
    OUT_BY = "out_by"


class TradeAction(Enum):
    DEAL = "deal"
    PENDING = "pending"
    SLTP = "sltp"
    MODIFY = "modify"
    REMOVE = "remove"
    CLOSE_BY = "close_by"


class AccountTradeMode(Enum):
    DEMO = "demo"
    CONTEST = "contest"
    REAL = "real"


class MarginMode(Enum):
    NETTING = "netting"
    EXCHANGE = "exchange"
    HEDGING = "hedging"


class SymbolTradeMode(Enum):
    DISABLED = "disabled"
    LONG_ONLY = "long_only"
    SHORT_ONLY = "short_only"
    CLOSE_ONLY = "close_only"
    FULL = "full"


class BookSide(Enum):
    SELL = "sell"
    BUY = "buy"
    SELL_MARKET = "sell_market"
    BUY_MARKET = "buy_market"


class TerminalStatus(Enum):
    """Where a terminal connection stands, as the status bar, /api/health and the logs show it."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOGGED_IN = "logged_in"
    ERROR = "error"


class Timeframe(IntEnum):
    """Bar periods in seconds (MN1 is nominal: months are aligned by calendar, not by seconds)."""

    M1 = 60
    M2 = 120
    M3 = 180
    M4 = 240
    M5 = 300
    M6 = 360
    M10 = 600
    M12 = 720
    M15 = 900
    M20 = 1200
    M30 = 1800
    H1 = 3600
    H2 = 7200
    H3 = 10800
    H4 = 14400
    H6 = 21600
    H8 = 28800
    H12 = 43200
    D1 = 86400
    W1 = 604800
    MN1 = 2592000

    @property
    def seconds(self) -> int:
        return int(self.value)

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        """Accept ``"H1"``/``"h1"``, dashboard spellings (``"1m"``, ``"4h"``, ``"1d"``, ``"1w"``,
        ``"1M"`` = month) and minutes as digits (``"60"``)."""
        raw = text.strip()
        if raw.upper() in cls.__members__:
            return cls[raw.upper()]
        if raw in _DASHBOARD_ALIASES:
            return cls[_DASHBOARD_ALIASES[raw]]
        if raw.isdigit():
            for member in cls:
                if member.value == int(raw) * 60:
                    return member
        raise ValueError(f"unknown timeframe {text!r}")


_DASHBOARD_ALIASES = {
    "1m": "M1", "5m": "M5", "15m": "M15", "30m": "M30",
    "1h": "H1", "4h": "H4", "1d": "D1", "1w": "W1", "1M": "MN1",
}  # fmt: skip
