"""The demo accounts a first run creates: alive from the start, deterministic from the seed.

Six accounts (demo and real trade modes, hedging and netting, leverage 1:30 to 1:500, USD and EUR)
with months of history (a deposit, trades with commission and swap, a withdrawal, the odd stop
loss), some open positions and pending orders. Passwords are demo credentials of a simulator and are
documented in the README; the state file keeps only their salted hashes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from app.mt5.sim import constants as c
from app.mt5.sim.broker import Broker
from app.mt5.sim.execution import commission
from app.mt5.sim.ledger import Account, Deal, Order, Position, hash_password
from app.mt5.sim.money import margin, profit
from app.mt5.sim.sessions import MS_PER_DAY, MS_PER_MINUTE, is_open

DEMO_SERVER = "SimBroker-Demo"
REAL_SERVER = "SimBroker-Live"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    login: int
    password: str
    name: str
    server: str
    currency: str
    leverage: int
    trade_mode: int
    margin_mode: int
    deposit: float
    commission_per_lot: float
    history_days: int
    trades_per_week: float
    open_positions: int
    pending_orders: int
    symbols: tuple[str, ...]


HEDGING = c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
NETTING = c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING
DEMO = c.ACCOUNT_TRADE_MODE_DEMO
REAL = c.ACCOUNT_TRADE_MODE_REAL

DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        5001001,
        "Demo-1001",
        "Alice Demo (USD hedging 1:100)",
        DEMO_SERVER,
        "USD",
        100,
        DEMO,
        HEDGING,
        10_000.0,
        3.5,
        180,
        6.0,
        3,
        2,
        ("EURUSD", "GBPUSD", "XAUUSD", "USDJPY", "US500"),
    ),
    DemoAccount(
        5001002,
        "Demo-1002",
        "Bruno Demo (EUR netting 1:30)",
        DEMO_SERVER,
        "EUR",
        30,
        DEMO,
        NETTING,
        5_000.0,
        0.0,
        150,
        4.0,
        2,
        1,
        ("EURUSD", "EURGBP", "EURJPY", "USDCHF"),
    ),
    DemoAccount(
        5001003,
        "Demo-1003",
        "Chen Demo (USD netting 1:500)",
        DEMO_SERVER,
        "USD",
        500,
        DEMO,
        NETTING,
        2_000.0,
        0.0,
        120,
        8.0,
        2,
        0,
        ("BTCUSD", "XAUUSD", "US500", "EURUSD"),
    ),
    DemoAccount(
        5001004,
        "Real-1004",
        "Dana Live (USD hedging 1:200)",
        REAL_SERVER,
        "USD",
        200,
        REAL,
        HEDGING,
        25_000.0,
        3.0,
        200,
        5.0,
        4,
        1,
        ("EURUSD", "GBPUSD", "AUDUSD", "USDCAD", "XAUUSD"),
    ),
    DemoAccount(
        5001005,
        "Real-1005",
        "Emil Live (EUR hedging 1:50)",
        REAL_SERVER,
        "EUR",
        50,
        REAL,
        HEDGING,
        15_000.0,
        2.5,
        180,
        3.0,
        2,
        1,
        ("EURUSD", "USDJPY", "NZDUSD", "US500"),
    ),
    DemoAccount(
        5001006,
        "Demo-1006",
        "Fresh Demo (USD hedging 1:30)",
        DEMO_SERVER,
        "USD",
        30,
        DEMO,
        HEDGING,
        100_000.0,
        3.0,
        0,
        0.0,
        0,
        0,
        (),
    ),
)
DEFAULT_LOGIN = DEMO_ACCOUNTS[0].login
FIRST_ORDER_TICKET = 50_000_000
FIRST_DEAL_TICKET = 30_000_000


def make_account(demo: DemoAccount) -> Account:
    return Account(
        login=demo.login,
        name=demo.name,
        server=demo.server,
        currency=demo.currency,
        leverage=demo.leverage,
        trade_mode=demo.trade_mode,
        margin_mode=demo.margin_mode,
        balance=0.0,
        password_hash=hash_password(demo.password),
        commission_per_lot=demo.commission_per_lot,
    )


def _open_minute(broker: Broker, symbol: str, time_ms: int) -> int:
    """The first time at or after ``time_ms`` (on a minute boundary) when ``symbol`` trades."""
    minute = time_ms // MS_PER_MINUTE
    for _ in range(4 * 1440):
        if is_open(broker.specs[symbol].sessions, minute * MS_PER_MINUTE):
            return minute * MS_PER_MINUTE
        minute += 1
    return time_ms


def _quote_at(broker: Broker, symbol: str, time_ms: int) -> tuple[float, float]:
    """(bid, ask) of the M1 bar close at ``time_ms`` (historical deals trade at history's prices)."""
    spec = broker.specs[symbol]
    minute = time_ms // MS_PER_MINUTE
    bid = broker.feed.walks[symbol].minute_close(minute // 1440, minute % 1440)
    return bid, round(bid + spec.spread * spec.point, spec.digits)


class _History:
    """Builds one account's past: events are collected, then booked in time order across accounts."""

    def __init__(self, broker: Broker, seed: int, now_ms: int) -> None:
        self.broker = broker
        self.now = now_ms
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not security
        self.events: list[tuple[int, int, str, dict[str, object]]] = []

    def plan(self, demo: DemoAccount) -> None:
        rng = self.rng
        start = self.now - demo.history_days * MS_PER_DAY if demo.history_days else self.now - 3_600_000
        self.events.append((start, demo.login, "balance", {"amount": demo.deposit, "comment": "Deposit"}))
        if demo.history_days:
            withdrawal = start + int(demo.history_days * MS_PER_DAY * rng.uniform(0.5, 0.8))
            self.events.append(
                (
                    withdrawal,
                    demo.login,
                    "balance",
                    {"amount": -round(demo.deposit * 0.1, 2), "comment": "Withdrawal"},
                )
            )
        t = start + 3_600_000
        week = 7 * MS_PER_DAY
        while demo.trades_per_week and t < self.now - 2 * MS_PER_DAY:
            t += int(rng.expovariate(demo.trades_per_week / week))
            symbol = rng.choice(demo.symbols)
            opened = _open_minute(self.broker, symbol, t)
            hold = int(rng.lognormvariate(11.5, 1.2) * 1000)  # ms; median about 27 h
            closed = _open_minute(self.broker, symbol, opened + max(MS_PER_MINUTE * 5, hold))
            if closed >= self.now - MS_PER_DAY:
                continue
            self.events.append(
                (
                    opened,
                    demo.login,
                    "trade",
                    {
                        "symbol": symbol,
                        "closed": closed,
                        "side": rng.randint(0, 1),
                        "lots": rng.choice((1, 1, 2, 3, 5, 10)),
                        "sl": rng.random() < 0.15,
                    },
                )
            )
        for i in range(demo.open_positions):
            symbol = demo.symbols[i % len(demo.symbols)]
            opened = _open_minute(self.broker, symbol, self.now - int(rng.uniform(0.1, 3.0) * MS_PER_DAY))
            if opened < self.now:
                self.events.append(
                    (
                        opened,
                        demo.login,
                        "open",
                        {"symbol": symbol, "side": rng.randint(0, 1), "lots": rng.choice((1, 2, 5, 10))},
                    )
                )
        for i in range(demo.pending_orders):
            self.events.append(
                (self.now - 600_000 + i, demo.login, "pending", {"symbol": demo.symbols[i], "side": i % 2})
            )

    def book(self) -> None:
        for time_ms, login, kind, data in sorted(self.events, key=lambda e: (e[0], e[1])):
            account = self.broker.ledger.accounts[login]
            getattr(self, f"_{kind}")(account, time_ms, data)

    # ------------------------------------------------------------------ event kinds
    def _balance(self, account: Account, time_ms: int, data: dict[str, object]) -> None:
        amount = float(data["amount"])  # type: ignore[arg-type]
        if account.balance + amount < 0:
            return
        ledger = self.broker.ledger
        ledger.add_deal(
            Deal(
                ticket=ledger.deal_ticket(),
                login=account.login,
                order=0,
                time_msc=time_ms,
                type=c.DEAL_TYPE_BALANCE,
                entry=c.DEAL_ENTRY_IN,
                volume=0.0,
                price=0.0,
                symbol="",
                profit=amount,
                reason=c.DEAL_REASON_CLIENT,
                comment=str(data["comment"]),
            )
        )

    def _lots(self, account: Account, symbol: str, units: int) -> float:
        spec = self.broker.specs[symbol]
        scale = max(1, int(account.balance // 10_000))
        lots = spec.volume_min * units * scale
        return round(min(lots, spec.volume_max), 2)

    def _order(
        self,
        account: Account,
        symbol: str,
        kind: int,
        volume: float,
        price: float,
        time_ms: int,
        position: int = 0,
        reason: int = c.ORDER_REASON_CLIENT,
        comment: str = "",
    ) -> Order:
        ledger = self.broker.ledger
        order = Order(
            ticket=ledger.order_ticket(),
            login=account.login,
            symbol=symbol,
            type=kind,
            volume_initial=volume,
            price_open=price,
            time_setup_msc=time_ms,
            state=c.ORDER_STATE_FILLED,
            time_done_msc=time_ms,
            price_current=price,
            position_id=position,
            reason=reason,
            type_filling=c.ORDER_FILLING_FOK,
            comment=comment,
        )
        if not position:
            order.position_id = order.ticket
        ledger.archive_order(order)
        return order

    def _trade(self, account: Account, opened: int, data: dict[str, object]) -> None:
        b, ledger = self.broker, self.broker.ledger
        symbol, side = str(data["symbol"]), int(data["side"])  # type: ignore[call-overload]
        spec = b.specs[symbol]
        volume = self._lots(account, symbol, int(data["lots"]))  # type: ignore[call-overload]
        bid, ask = _quote_at(b, symbol, opened)
        price_in = ask if side == c.POSITION_TYPE_BUY else bid
        needed = margin(spec, side, volume, price_in, account.leverage, account.currency, b.rates)
        if needed > account.balance * 0.5:
            return
        closed = int(data["closed"])  # type: ignore[call-overload]
        bid2, ask2 = _quote_at(b, symbol, closed)
        price_out = bid2 if side == c.POSITION_TYPE_BUY else ask2
        if (
            profit(spec, side, volume, price_in, price_out, account.currency, b.rates)
            < -0.25 * account.balance
        ):
            return  # a trader who would have been stopped out long before: not part of this history
        order_in = self._order(account, symbol, side, volume, price_in, opened)
        ticket = order_in.ticket
        ledger.add_deal(
            Deal(
                ticket=ledger.deal_ticket(),
                login=account.login,
                order=ticket,
                time_msc=opened,
                type=side,
                entry=c.DEAL_ENTRY_IN,
                volume=volume,
                price=price_in,
                symbol=symbol,
                position_id=ticket,
                reason=c.DEAL_REASON_CLIENT,
                commission=commission(account, spec, volume),
            )
        )
        nights = max(0, closed // MS_PER_DAY - opened // MS_PER_DAY)
        points = spec.swap_long if side == c.POSITION_TYPE_BUY else spec.swap_short
        swap = round(
            points
            * spec.point
            * spec.contract_size
            * volume
            * nights
            * b.rates.rate(spec.profit, account.currency),
            2,
        )
        reason = c.DEAL_REASON_SL if data["sl"] else c.DEAL_REASON_CLIENT
        comment = f"[sl {price_out:.{spec.digits}f}]" if data["sl"] else ""
        order_out = self._order(
            account,
            symbol,
            1 - side,
            volume,
            price_out,
            closed,
            position=ticket,
            reason=c.ORDER_REASON_SL if data["sl"] else c.ORDER_REASON_CLIENT,
            comment=comment,
        )
        gained = profit(spec, side, volume, price_in, price_out, account.currency, b.rates)
        ledger.add_deal(
            Deal(
                ticket=ledger.deal_ticket(),
                login=account.login,
                order=order_out.ticket,
                time_msc=closed,
                type=1 - side,
                entry=c.DEAL_ENTRY_OUT,
                volume=volume,
                price=price_out,
                symbol=symbol,
                position_id=ticket,
                reason=reason,
                profit=gained,
                swap=swap,
                comment=comment,
                commission=commission(account, spec, volume),
            )
        )

    def _open(self, account: Account, opened: int, data: dict[str, object]) -> None:
        b, ledger = self.broker, self.broker.ledger
        symbol, side = str(data["symbol"]), int(data["side"])  # type: ignore[call-overload]
        spec = b.specs[symbol]
        volume = self._lots(account, symbol, int(data["lots"]))  # type: ignore[call-overload]
        bid, ask = _quote_at(b, symbol, opened)
        price = ask if side == c.POSITION_TYPE_BUY else bid
        needed = margin(spec, side, volume, price, account.leverage, account.currency, b.rates)
        while needed > account.balance * 0.3 and volume > spec.volume_min:
            volume = max(spec.volume_min, round(volume / 2 / spec.volume_step) * spec.volume_step)
            needed = margin(spec, side, volume, price, account.leverage, account.currency, b.rates)
        if needed > account.balance * 0.3:
            return
        order = self._order(account, symbol, side, volume, price, opened)
        sign = 1 if side == c.POSITION_TYPE_BUY else -1
        quote = b.quote(symbol) or (bid, ask)
        sl = round(
            (quote[0] if sign > 0 else quote[1]) * (1 - sign * 0.04), spec.digits
        )  # 4% from today's price
        ledger.put_position(
            Position(
                ticket=order.ticket,
                login=account.login,
                symbol=symbol,
                type=side,
                volume=volume,
                price_open=price,
                time_msc=opened,
                time_update_msc=opened,
                margin=needed,
                sl=sl,
                reason=c.POSITION_REASON_CLIENT,
            )
        )
        ledger.add_deal(
            Deal(
                ticket=ledger.deal_ticket(),
                login=account.login,
                order=order.ticket,
                time_msc=opened,
                type=side,
                entry=c.DEAL_ENTRY_IN,
                volume=volume,
                price=price,
                symbol=symbol,
                position_id=order.ticket,
                reason=c.DEAL_REASON_CLIENT,
                commission=commission(account, spec, volume),
            )
        )

    def _pending(self, account: Account, time_ms: int, data: dict[str, object]) -> None:
        b, ledger = self.broker, self.broker.ledger
        symbol, side = str(data["symbol"]), int(data["side"])  # type: ignore[call-overload]
        spec = b.specs[symbol]
        tick = b.feed.last_tick(symbol, time_ms)
        if tick is None:
            return
        kind = c.ORDER_TYPE_BUY_LIMIT if side == 0 else c.ORDER_TYPE_SELL_LIMIT
        price = round(tick.ask * 0.98 if side == 0 else tick.bid * 1.02, spec.digits)
        ledger.put_order(
            Order(
                ticket=ledger.order_ticket(),
                login=account.login,
                symbol=symbol,
                type=kind,
                volume_initial=spec.volume_min * 10,
                volume_current=spec.volume_min * 10,
                price_open=price,
                time_setup_msc=min(time_ms, tick.time_msc),  # placed while its market was open
                reason=c.ORDER_REASON_CLIENT,
                comment="demo limit",
            )
        )


def create_demo_accounts(broker: Broker, seed: int, now_ms: int, history: bool = True) -> None:
    """Create the demo accounts (and, with ``history``, their past) in an empty ledger."""
    ledger = broker.ledger
    ledger.next_order = max(ledger.next_order, FIRST_ORDER_TICKET + seed % 1000 * 1000)
    ledger.next_deal = max(ledger.next_deal, FIRST_DEAL_TICKET + seed % 1000 * 1000)
    ledger.touch_meta("next_order", ledger.next_order)
    ledger.touch_meta("next_deal", ledger.next_deal)
    builder = _History(broker, seed, now_ms)
    for demo in DEMO_ACCOUNTS:
        ledger.put_account(make_account(demo))
        if history:
            builder.plan(demo)
        else:
            builder.events.append(
                (now_ms - 3_600_000, demo.login, "balance", {"amount": demo.deposit, "comment": "Deposit"})
            )
    builder.book()
