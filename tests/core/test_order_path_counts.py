"""What one order costs before it reaches ``order_send``, counted (behaviour, not timing): the round
trips to the terminal worker, the audit trail's fsyncs and the database's write commits, on the
simulator through the real trading service. The path's speed depends on these counts, and the
durability guarantees on none of them being skipped: the intent and the id's reservation are on disk
before the send, and the "handed to order_send" mark too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.audit import AuditQuery, AuditReader, audit_dir
from app.core.trading import AskedAhead
from app.models import OrderRequest, OrderType, TerminalError, TradeAction
from tests.core.conftest import TEST_ACCOUNT
from tests.support.services import Services

pytestmark = pytest.mark.slow

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# The app's own periodic calls (the terminal's state, the account refresh): not the order's.
BACKGROUND = frozenset({"health", "account_state"})


class Ledger:
    """Everything the order path does that leaves the process or reaches the disk, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self._writing: set[int] = set()

    def before_send(self) -> list[str]:
        return self.events[: self.events.index("call order_send")]

    # SQLAlchemy's events: a commit counts when its transaction wrote something.
    def on_statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            self._writing.add(id(conn))

    def on_commit(self, conn: Any) -> None:
        if id(conn) in self._writing:
            self._writing.discard(id(conn))
            self.events.append("db commit")


@pytest.fixture
def ledger(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    found = Ledger()
    live = services.pool.live
    call = live.call

    async def counted(op: str, *args: Any, **kwargs: Any) -> Any:
        if op not in BACKGROUND:
            found.events.append(f"call {op}")
        return await call(op, *args, **kwargs)

    monkeypatch.setattr(live, "call", counted)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        found.events.append("audit fsync")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)  # the trail's writer (SQLite fsyncs in C: its commits count)
    event.listen(Engine, "before_cursor_execute", found.on_statement)
    event.listen(Engine, "commit", found.on_commit)
    try:
        yield found
    finally:
        event.remove(Engine, "before_cursor_execute", found.on_statement)
        event.remove(Engine, "commit", found.on_commit)


async def test_a_market_order_asks_the_terminal_twice_and_writes_four_records_before_the_send(
    services: Services, ledger: Ledger
) -> None:
    warm_up = OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.BUY, client_id="counted-0")
    await services.trading.place(warm_up)  # the trail's first segment is created (and its folder fsynced)
    request = OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.BUY, client_id="counted-1")
    ledger.events.clear()
    result = await services.trading.place(request)
    assert result.ok and not result.duplicate
    before = ledger.before_send()
    calls = [e for e in before if e.startswith("call ")]
    assert calls == ["call trade_context", "call order_check"]  # not health/account/symbol/tick/positions
    assert before.count("audit fsync") == 2  # the intent and the check's answer
    assert before.count("db commit") == 2  # the id's reservation, then the "handed to order_send" mark
    trail = AuditReader(audit_dir(services.data_dir))
    story = [e.action for e in trail.query(AuditQuery(client_id="counted-1"))]
    assert story == ["order.intent", "order.check", "order.result"]


async def test_a_close_asks_no_positions_with_its_context(services: Services, ledger: Ledger) -> None:
    opened = await services.trading.place(
        OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.BUY, client_id="counted-2")
    )
    ledger.events.clear()
    closed = await services.trading.close_position(opened.order, client_id="counted-2.close")
    assert closed.ok
    calls = [e for e in ledger.before_send() if e.startswith("call ")]
    # The position and the spec it is closed against (read to check the volume), then the context.
    assert calls == ["call positions", "call symbol", "call trade_context", "call order_check"]


async def test_the_trade_context_is_what_the_separate_calls_answer(services: Services) -> None:
    live = services.pool.live
    await services.trading.place(
        OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.BUY, client_id="counted-3")
    )
    facts = await live.call("trade_context", "EURUSD", positions=True)
    assert facts["health"]["login"] == (await live.call("health"))["login"] == TEST_ACCOUNT[0]
    assert facts["account"].key == (await live.call("account")).key
    assert facts["spec"] == await live.call("symbol", "EURUSD")
    assert facts["tick"].symbol == "EURUSD" and facts["tick"].bid > 0
    assert [p.ticket for p in facts["positions"]] == [p.ticket for p in await live.call("positions")]
    assert set(await live.call("trade_context", "")) == {"health", "account"}  # no symbol: no spec, tick
    with pytest.raises(TerminalError) as unknown:
        await live.call("trade_context", "NO_SUCH_SYMBOL")
    with pytest.raises(TerminalError) as alone:
        await live.call("symbol", "NO_SUCH_SYMBOL")
    assert (type(unknown.value), unknown.value.code) == (type(alone.value), alone.value.code)


async def test_facts_asked_ahead_are_used_once_and_asked_again_after_a_loan(
    services: Services, ledger: Ledger
) -> None:
    """``ask_ahead`` (a signal's order) gives ``place`` the facts it would have asked for; if the live
    terminal was lent to the carousel meanwhile, they are asked again, not trusted; for another symbol
    they are dropped."""
    trading = services.trading

    async def calls_of(n: int, ahead: AskedAhead) -> list[str]:
        ledger.events.clear()
        order = OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.BUY, client_id=f"ahead-{n}")
        assert (await trading.place(order, ahead=ahead)).ok
        return [e for e in ledger.before_send() if e.startswith("call ")]

    ahead = trading.ask_ahead("EURUSD")
    await ahead.task  # asked (the one trade_context of this order)
    assert await calls_of(1, ahead) == ["call order_check"]

    ahead = trading.ask_ahead("EURUSD")
    await ahead.task
    services.pool.lends += 1  # a carousel visit began and ended since
    assert await calls_of(2, ahead) == ["call trade_context", "call order_check"]

    ahead = trading.ask_ahead("GBPUSD")
    assert await calls_of(3, ahead) == ["call trade_context", "call order_check"]
    assert ahead.task.done()
