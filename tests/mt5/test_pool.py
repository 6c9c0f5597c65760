"""The pool lends its live terminal only between order commands: a loan waits for the commands under
way, and a command asked for during a loan is refused at once."""

from __future__ import annotations

import asyncio

import pytest

from app.models import TradingDisabledError
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool
from app.mt5.protocol import WorkerSpec


def pool() -> TerminalPool:
    return TerminalPool([TerminalClient(WorkerSpec("t1", "sim")), TerminalClient(WorkerSpec("t2", "sim"))])


async def test_a_loan_waits_for_the_order_under_way_and_refuses_new_ones() -> None:
    terminals = pool()
    events: list[str] = []
    sending = asyncio.Event()
    finish = asyncio.Event()

    async def order() -> None:
        async with terminals.using_live() as live:
            assert live is terminals.live
            events.append("order starts")
            sending.set()
            await finish.wait()
            events.append("order sent")

    async def carousel() -> None:
        await sending.wait()
        async with terminals.borrow_live("carousel"):
            events.append("lent")
        events.append("returned")

    tasks = [asyncio.create_task(order()), asyncio.create_task(carousel())]
    await sending.wait()
    await asyncio.sleep(0.05)
    assert terminals.live_lent_to == "carousel" and events == ["order starts"]  # asked for, not yet lent
    with pytest.raises(TradingDisabledError, match=r"visiting another account \(carousel\)"):
        async with terminals.using_live():
            pass
    finish.set()
    await asyncio.gather(*tasks)
    assert events == ["order starts", "order sent", "lent", "returned"]
    assert terminals.live_lent_to is None and terminals.lends == 1
    async with terminals.using_live():  # usable again
        pass


async def test_one_loan_at_a_time() -> None:
    terminals = pool()
    async with terminals.borrow_live("carousel"):
        with pytest.raises(RuntimeError, match="already lent to carousel"):
            async with terminals.borrow_live("other"):
                pass
    assert [c.terminal_id for c in terminals.others] == ["t2"]
