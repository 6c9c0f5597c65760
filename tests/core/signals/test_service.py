"""The signals service over the simulator: a waiting signal expires (published, audited, nothing sent),
a slow user validator rejects within its timeout, the rate limit per source, concurrent duplicates are
one signal, and what a crash left half-way is settled at the next start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from app.audit import AuditQuery, AuditReader, audit_dir
from app.config import SignalSettings
from app.core.hub import Delivery, Topic
from app.core.signals.service import SignalService
from app.core.signals.validators import Answer
from app.models.signals import Signal, SignalAction, SignalMode, SignalRecord, SignalStatus
from tests.support.services import Services
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

TEST_ACCOUNT = (5001006, "Demo-1006", "SimBroker-Demo")
Make = Callable[..., Any]


class Sleepy:
    name = "sleepy-model"

    async def validate(self, signal: Signal) -> Answer:
        await asyncio.sleep(60)
        return Answer(True)


SLEEPY = Sleepy()


@pytest_asyncio.fixture
async def wired(client_factory: Any, tmp_path: Path) -> AsyncIterator[Services]:
    client, _ = await client_factory()
    await client.login(*TEST_ACCOUNT)
    services = await Services(client, tmp_path).start()
    await services.market.subscribe(["EURUSD"])
    yield services
    await services.stop()


@pytest_asyncio.fixture
async def make(wired: Services) -> AsyncIterator[Make]:
    started: list[SignalService] = []

    async def build(**settings: Any) -> SignalService:
        service = SignalService(SignalSettings(**settings), wired.db, wired.audit, wired.hub, wired.trading,
                                wired.market, wired.account, wired.pool)  # fmt: skip
        await service.start()
        started.append(service)
        return service

    yield build
    for service in started:
        await service.stop()


def buy(uuid: str, **changes: Any) -> Signal:
    return Signal(uuid, "desk", SignalAction.BUY, "EURUSD", volume=0.01).with_changes(**changes)


async def tickets(wired: Services) -> set[int]:
    return {p.ticket for p in await wired.pool.live.call("positions")}


async def test_a_waiting_signal_expires_published_and_audited(wired: Services, make: Make) -> None:
    service = await make(confirm_timeout_s=0.5)
    updates = wired.hub.subscribe(Topic.SIGNALS, Delivery.ALL)
    before = await tickets(wired)
    record = await service.submit(buy("expiring"))
    assert record.status is SignalStatus.PENDING and record.expires_at is not None
    seen: list[str] = []

    def expired() -> bool:
        seen.extend(e.value["status"] for e in updates.drain())
        return "expired" in seen

    await wait_until(expired, within_s=20)
    assert seen[-1] == "expired"
    stored = await service.get("expiring")
    assert stored is not None and stored.status is SignalStatus.EXPIRED
    with pytest.raises(Exception, match="expired, not pending"):
        await service.approve("expiring", "gui")
    assert await tickets(wired) == before
    entries = AuditReader(audit_dir(wired.data_dir)).query(AuditQuery(action="signal.decision"))
    assert [e.payload["status"] for e in entries if e.payload["uuid"] == "expiring"] == ["pending", "expired"]


async def test_a_slow_user_validator_rejects_and_the_loop_goes_on(wired: Services, make: Make) -> None:
    service = await make(validators=["tests.core.signals.test_service:SLEEPY"], validator_timeout_s=0.3)
    other = await make()
    results = await asyncio.gather(service.submit(buy("slow-1")), other.submit(buy("fast-1")))
    slow, fast = results
    assert slow.status is SignalStatus.REJECTED
    assert (
        slow.validators[-1].name == "sleepy-model" and "no answer within 0.3 s" in slow.validators[-1].reason
    )
    assert fast.status is SignalStatus.PENDING  # the other service's signal did not wait for it


async def test_a_source_over_its_rate_is_refused(make: Make) -> None:
    service = await make(max_per_minute=2)
    statuses = [(await service.submit(buy(f"rate-{n}"))).status for n in range(3)]
    assert statuses == [SignalStatus.PENDING, SignalStatus.PENDING, SignalStatus.REJECTED]
    third = await service.get("rate-2")
    assert third is not None and third.validators[-1].name == "rate"


async def test_concurrent_duplicates_in_auto_mode_are_one_order(wired: Services, make: Make) -> None:
    service = await make()
    before = await tickets(wired)
    answers: list[SignalRecord] = await asyncio.gather(
        *(service.submit(buy("twice-at-once"), mode=SignalMode.AUTO) for _ in range(5))
    )
    assert [a.duplicate for a in answers].count(False) == 1
    assert {a.status for a in answers} == {SignalStatus.EXECUTED}
    assert len(await tickets(wired) - before) == 1


async def test_what_a_crash_left_half_way_is_settled_at_start(wired: Services, make: Make) -> None:
    cut = SignalRecord(buy("cut-off"), SignalMode.AUTO, SignalStatus.RECEIVED)
    await wired.db.run(lambda tx: tx.signals.add(cut))
    before = await tickets(wired)
    service = await make()
    stored = await service.get("cut-off")
    assert stored is not None and stored.status is SignalStatus.FAILED
    assert "not sent" in stored.message
    assert await tickets(wired) == before
    again = await service.submit(buy("cut-off"), mode=SignalMode.AUTO)  # the same uuid: its outcome
    assert again.duplicate and again.status is SignalStatus.FAILED


async def test_an_auto_buy_asks_the_terminal_once_while_its_records_are_written(
    wired: Services, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order's facts (``trade_context``) are asked for while the signal's row and entry are being
    written, not after, and only once; the order itself still waits for both records. A signal the
    chain refuses drops what was asked: nothing is sent."""
    service = await make(sources={"desk": "auto"}, min_confidence=0.5)
    live = wired.pool.live
    call, append = live.call, wired.audit.append
    story: list[str] = []

    async def counted(op: str, *args: Any, **kwargs: Any) -> Any:
        story.append(f"call {op}")
        return await call(op, *args, **kwargs)

    async def appended(actor: str, action: Any, *args: Any, **kwargs: Any) -> Any:
        story.append(f"audit {action.value} >")
        try:
            return await append(actor, action, *args, **kwargs)
        finally:
            story.append(f"audit {action.value} <")

    monkeypatch.setattr(live, "call", counted)
    monkeypatch.setattr(wired.audit, "append", appended)
    record = await service.submit(buy("ahead-1", confidence=0.9))
    assert record.status is SignalStatus.EXECUTED and record.ticket
    sent = story.index("call order_send")
    assert story[:sent].count("call trade_context") == 1
    assert story.index("call trade_context") < story.index("audit signal.received <")  # asked meanwhile
    assert story.index("audit signal.received <") < story.index("audit order.intent >") < sent

    story.clear()
    before = await tickets(wired)
    refused = await service.submit(buy("ahead-2", confidence=0.1))
    assert refused.status is SignalStatus.REJECTED and "confidence" in (refused.message or "")
    assert "call order_send" not in story and "audit order.intent >" not in story
    assert await tickets(wired) == before
