"""Reading back with filters: time range, actor, action, account, client id, text, newest N."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.audit import AuditEntry, AuditQuery, AuditReader, AuditTrail, summarize
from tests.audit.conftest import StepClock

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def reader(trail_dir: Path) -> AuditReader:
    clock = StepClock(START, timedelta(minutes=1))
    with AuditTrail(trail_dir, rotate_max_bytes=1_500, clock=clock) as trail:
        for n in range(12):
            trail.append_sync(
                ["gui", "api:alice", "api:bob", "carousel"][n % 4],
                ["order.intent", "order.result", "api.login", "carousel.start"][n % 4],
                account=f"{5000 + n % 2}@Sim-Demo",
                payload={"client_id": f"c{n // 2}", "n": n, "comment": "Hello World" if n == 7 else ""},
            )
    return AuditReader(trail_dir)


def numbers(entries: list[AuditEntry]) -> list[int]:
    return [entry.payload["n"] for entry in entries]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (AuditQuery(), list(range(12))),
        (AuditQuery(limit=3), [9, 10, 11]),  # the newest, oldest first
        (AuditQuery(since=START + timedelta(minutes=10)), [10, 11]),
        (AuditQuery(until=START + timedelta(minutes=2)), [0, 1]),
        (AuditQuery(since=START + timedelta(minutes=3), until=START + timedelta(minutes=5)), [3, 4]),
        (AuditQuery(actor="api"), [1, 2, 5, 6, 9, 10]),  # api matches every api:<user>
        (AuditQuery(actor="api:bob"), [2, 6, 10]),
        (AuditQuery(action="order"), [0, 1, 4, 5, 8, 9]),  # order matches order.*
        (AuditQuery(action="order.result"), [1, 5, 9]),
        (AuditQuery(action="orde"), []),  # a prefix only at a dot
        (AuditQuery(account="5001@Sim-Demo", action="order"), [1, 5, 9]),
        (AuditQuery(client_id="c3"), [6, 7]),
        (AuditQuery(text="hello world"), [7]),
        (AuditQuery(actor="gui", limit=2), [4, 8]),
    ],
)
def test_filters(reader: AuditReader, query: AuditQuery, expected: list[int]) -> None:
    assert numbers(reader.query(query)) == expected


def test_an_append_in_progress_is_not_shown(reader: AuditReader) -> None:
    newest = sorted(reader.directory.glob("*.jsonl"))[-1]
    with newest.open("ab") as handle:
        handle.write(b'{"partial":')
    assert numbers(reader.query(AuditQuery())) == list(range(12))


def test_summary_puts_order_fields_first() -> None:
    entry = AuditEntry(
        seq=1,
        time="2025-01-01T00:00:00.000000Z",
        actor="gui",
        action="order.intent",
        account=None,
        payload={"client_id": "abc", "comment": "hi", "volume": 0.1, "side": "buy", "symbol": "EURUSD",
                 "request": {"price": 1.1, "deviation": 10}},
        prev="0" * 64,
        hash="0" * 64,
    )  # fmt: skip
    assert (
        summarize(entry)
        == "side=buy volume=0.1 symbol=EURUSD price=1.1 comment=hi request.deviation=10 client_id=abc"
    )
    assert len(summarize(entry, max_length=20)) == 20


def test_text_search_ignores_the_hashes(reader: AuditReader) -> None:
    entry = reader.query(AuditQuery(limit=1))[0]
    assert reader.query(AuditQuery(text=entry.hash[10:20])) == []
    assert reader.query(AuditQuery(text=entry.prev[:12])) == []
