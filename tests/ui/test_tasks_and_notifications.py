"""The task runner keeps and reports; failures become toasts (counted, not stacked) and log records."""

from __future__ import annotations

import asyncio
import logging

import pytest
from PySide6.QtWidgets import QLabel, QMainWindow
from pytestqt.qtbot import QtBot

from app.logs import LogEntry
from app.models import RejectedError
from app.ui.notifications import NotificationArea
from app.ui.tasks import TaskRunner


async def test_results_and_errors_are_routed(qtbot: QtBot) -> None:
    errors: list[tuple[str, BaseException]] = []
    runner = TaskRunner(lambda what, exc: errors.append((what, exc)))
    results: list[int] = []

    async def ok() -> int:
        return 7

    async def bad() -> int:
        raise RejectedError("INVALID_VOLUME: Invalid volume", 10014)

    runner.run(ok(), what="ok", on_result=results.append)
    runner.run(bad(), what="place")
    handled: list[BaseException] = []
    runner.run(bad(), what="handled", on_error=lambda exc: handled.append(exc) or True)
    assert runner.pending == 3  # held until done: never garbage-collected mid-flight
    await asyncio.sleep(0.01)
    assert results == [7] and runner.pending == 0
    assert [w for w, _ in errors] == ["place"] and len(handled) == 1


async def test_callbacks_of_a_deleted_owner_are_skipped(qtbot: QtBot) -> None:
    runner = TaskRunner()
    owner = QLabel()
    seen: list[int] = []

    async def slow() -> int:
        await asyncio.sleep(0.02)
        return 1

    runner.run(slow(), what="slow", owner=owner, on_result=seen.append)
    owner.deleteLater()
    await asyncio.sleep(0.05)
    assert seen == []


async def test_cancel_all() -> None:
    runner = TaskRunner()
    runner.run(asyncio.sleep(10), what="forever")
    await runner.cancel_all()
    assert runner.pending == 0
    assert runner.run(asyncio.sleep(0), what="after close") is None  # closing: nothing new starts


def test_toasts_count_repeats_and_log_once(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    host = QMainWindow()
    qtbot.addWidget(host)
    host.resize(800, 600)
    host.show()
    area = NotificationArea(host)
    with caplog.at_level(logging.ERROR):
        area.notify_error("order", RejectedError("NO_MONEY: No money", 10019))
        area.notify_error("order", RejectedError("NO_MONEY: No money", 10019))
    assert area.messages == ["order: NO_MONEY: No money (×2)"] and area.isVisible()
    assert [r.getMessage() for r in caplog.records] == ["order: NO_MONEY: No money"] * 2
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    area.on_log_entries(
        [
            LogEntry(now, "ERROR", "app.mt5", "terminal t1: login failed"),
            LogEntry(now, "INFO", "app", "fine"),
            LogEntry(now, "ERROR", "app.ui", "order: NO_MONEY: No money", {"notified": True}),
        ]
    )
    assert len(area.messages) == 2 and area.messages[1] == "terminal t1: login failed"
    for _ in range(6):
        area.show_toast(logging.WARNING, f"m{_}")
    assert len(area.messages) == 4  # bounded
