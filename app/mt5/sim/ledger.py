"""The broker's books: accounts, open positions, active orders, order and deal history, tickets.

Plain mutable records owned by the trade server (one lock guards them all). Each record knows how to
become the MT5 namedtuple row a terminal receives; the ledger remembers which records changed so the
store can persist exactly those.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from app.mt5.sim import constants as c

Kind = Literal["account", "position", "order", "history_order", "deal", "meta"]


def hash_password(password: str, salt: str | None = None) -> str:
    """Salted SHA-256, so the state file never holds a password (even a demo one) in clear."""
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def check_password(password: str, stored: str) -> bool:
    salt, _, _digest = stored.partition("$")
    return hmac.compare_digest(hash_password(password, salt), stored)


@dataclass
class Account:
    login: int
    name: str
    server: str
    currency: str
    leverage: int
    trade_mode: int
    margin_mode: int
    balance: float
    password_hash: str
    credit: float = 0.0
    margin_so_call: float = 100.0
    margin_so_so: float = 50.0
    limit_orders: int = 200
    commission_per_lot: float = 0.0  # account currency, per lot and side, on FX and metals
    trade_allowed: bool = True
    company: str = "MT5 Console Sim Broker Ltd."

    @property
    def hedging(self) -> bool:
        return self.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING


@dataclass
class Position:
    ticket: int
    login: int
    symbol: str
    type: int
    volume: float
    price_open: float
    time_msc: int
    time_update_msc: int
    margin: float  # account currency, fixed when opened (scaled on partial close)
    sl: float = 0.0
    tp: float = 0.0
    magic: int = 0
    reason: int = c.POSITION_REASON_EXPERT
    comment: str = ""
    swap: float = 0.0
    identifier: int = 0
    external_id: str = ""

    def __post_init__(self) -> None:
        if not self.identifier:
            self.identifier = self.ticket

    def row(self, price_current: float, profit: float) -> tuple[Any, ...]:
        """TradePosition field values."""
        return (
            self.ticket,
            self.time_msc // 1000,
            self.time_msc,
            self.time_update_msc // 1000,
            self.time_update_msc,
            self.type,
            self.magic,
            self.identifier,
            self.reason,
            self.volume,
            self.price_open,
            self.sl,
            self.tp,
            price_current,
            self.swap,
            profit,
            self.symbol,
            self.comment,
            self.external_id,
        )


@dataclass
class Order:
    ticket: int
    login: int
    symbol: str
    type: int
    volume_initial: float
    price_open: float
    time_setup_msc: int
    state: int = c.ORDER_STATE_PLACED
    volume_current: float = 0.0
    sl: float = 0.0
    tp: float = 0.0
    price_stoplimit: float = 0.0
    price_current: float = 0.0
    time_done_msc: int = 0
    time_expiration: int = 0
    type_time: int = c.ORDER_TIME_GTC
    type_filling: int = c.ORDER_FILLING_RETURN
    magic: int = 0
    position_id: int = 0
    position_by_id: int = 0
    reason: int = c.ORDER_REASON_EXPERT
    comment: str = ""
    external_id: str = ""

    def row(self, price_current: float | None = None) -> tuple[Any, ...]:
        """TradeOrder field values."""
        return (
            self.ticket,
            self.time_setup_msc // 1000,
            self.time_setup_msc,
            self.time_done_msc // 1000,
            self.time_done_msc,
            self.time_expiration,
            self.type,
            self.type_time,
            self.type_filling,
            self.state,
            self.magic,
            self.position_id,
            self.position_by_id,
            self.reason,
            self.volume_initial,
            self.volume_current,
            self.price_open,
            self.sl,
            self.tp,
            self.price_current if price_current is None else price_current,
            self.price_stoplimit,
            self.symbol,
            self.comment,
            self.external_id,
        )


@dataclass
class Deal:
    ticket: int
    login: int
    order: int
    time_msc: int
    type: int
    entry: int
    volume: float
    price: float
    symbol: str
    position_id: int = 0
    magic: int = 0
    reason: int = c.DEAL_REASON_EXPERT
    commission: float = 0.0
    swap: float = 0.0
    profit: float = 0.0
    fee: float = 0.0
    comment: str = ""
    external_id: str = ""

    def row(self) -> tuple[Any, ...]:
        """TradeDeal field values."""
        return (
            self.ticket,
            self.order,
            self.time_msc // 1000,
            self.time_msc,
            self.type,
            self.entry,
            self.magic,
            self.position_id,
            self.reason,
            self.volume,
            self.price,
            self.commission,
            self.swap,
            self.profit,
            self.fee,
            self.symbol,
            self.comment,
            self.external_id,
        )

    @property
    def balance_change(self) -> float:
        return self.profit + self.commission + self.swap + self.fee


_TYPES: dict[str, type] = {
    "account": Account,
    "position": Position,
    "order": Order,
    "history_order": Order,
    "deal": Deal,
}


@dataclass
class Ledger:
    """All books of the broker; ``dirty``/``deleted`` say what the store must write next."""

    accounts: dict[int, Account] = field(default_factory=dict)
    positions: dict[int, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    history_orders: dict[int, Order] = field(default_factory=dict)
    deals: dict[int, Deal] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    next_order: int = 0
    next_deal: int = 0
    dirty: set[tuple[Kind, int | str]] = field(default_factory=set)
    deleted: set[tuple[Kind, int | str]] = field(default_factory=set)

    # ------------------------------------------------------------------ tickets
    def order_ticket(self) -> int:
        self.next_order += 1
        self.touch_meta("next_order", self.next_order)
        return self.next_order

    def deal_ticket(self) -> int:
        self.next_deal += 1
        self.touch_meta("next_deal", self.next_deal)
        return self.next_deal

    # ------------------------------------------------------------------ changes
    def touch_meta(self, key: str, value: Any) -> None:
        self.meta[key] = value
        self.dirty.add(("meta", key))

    def put_account(self, account: Account) -> None:
        self.accounts[account.login] = account
        self.dirty.add(("account", account.login))

    def put_position(self, position: Position) -> None:
        self.positions[position.ticket] = position
        self._mark("position", position.ticket)

    def drop_position(self, ticket: int) -> None:
        self.positions.pop(ticket, None)
        self._unmark("position", ticket)

    def put_order(self, order: Order) -> None:
        self.orders[order.ticket] = order
        self._mark("order", order.ticket)

    def drop_order(self, ticket: int) -> None:
        self.orders.pop(ticket, None)
        self._unmark("order", ticket)

    def archive_order(self, order: Order) -> None:
        self.history_orders[order.ticket] = order
        self._mark("history_order", order.ticket)

    def add_deal(self, deal: Deal) -> None:
        self.deals[deal.ticket] = deal
        self._mark("deal", deal.ticket)
        account = self.accounts[deal.login]
        account.balance = round(account.balance + deal.balance_change, 2)
        self.dirty.add(("account", account.login))

    def _mark(self, kind: Kind, key: int) -> None:
        self.dirty.add((kind, key))
        self.deleted.discard((kind, key))

    def _unmark(self, kind: Kind, key: int) -> None:
        self.dirty.discard((kind, key))
        self.deleted.add((kind, key))

    # ------------------------------------------------------------------ queries
    def account_positions(self, login: int) -> list[Position]:
        return sorted((p for p in self.positions.values() if p.login == login), key=lambda p: p.ticket)

    def account_orders(self, login: int) -> list[Order]:
        return sorted((o for o in self.orders.values() if o.login == login), key=lambda o: o.ticket)

    def netting_position(self, login: int, symbol: str) -> Position | None:
        for position in self.positions.values():
            if position.login == login and position.symbol == symbol:
                return position
        return None

    # ------------------------------------------------------------------ (de)serialisation for the store
    def record(self, kind: Kind, key: int | str) -> dict[str, Any] | None:
        if kind == "meta":
            return {"value": self.meta.get(str(key))}
        books: dict[str, dict[Any, Any]] = {
            "account": self.accounts,
            "position": self.positions,
            "order": self.orders,
            "history_order": self.history_orders,
            "deal": self.deals,
        }
        item = books[kind].get(key)
        return asdict(item) if item is not None else None

    def load(self, kind: Kind, data: dict[str, Any], key: str) -> None:
        if kind == "meta":
            self.meta[key] = data["value"]
            if key == "next_order":
                self.next_order = int(data["value"])
            elif key == "next_deal":
                self.next_deal = int(data["value"])
            return
        known = {f.name for f in fields(_TYPES[kind])}
        item = _TYPES[kind](**{k: v for k, v in data.items() if k in known})
        books: dict[str, dict[Any, Any]] = {
            "account": self.accounts,
            "position": self.positions,
            "order": self.orders,
            "history_order": self.history_orders,
            "deal": self.deals,
        }
        books[kind][item.login if kind == "account" else item.ticket] = item
