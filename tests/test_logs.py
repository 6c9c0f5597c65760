"""Logging: secrets never reach a handler; the bus keeps a bounded history and feeds subscribers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.config import LoggingSettings
from app.logs import LOG_FILE_NAME, LogBus, LogEntry, redact, setup_logging


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("login 1234 password=hunter2 server=Demo", "hunter2"),
        ('request {"login": 5, "password": "s3cr3t!"}', "s3cr3t!"),
        ("passwd: opensesame", "opensesame"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9"),
        ("got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl back", "eyJzdWIiOiJhZG1pbiJ9"),
        ("api_key='k-123'", "k-123"),
    ],
)
def test_redact_removes_secrets(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert "***" in cleaned


def test_redact_leaves_ordinary_text_alone() -> None:
    line = "EURUSD buy 0.10 at 1.08512, ticket 5001, login 1234"
    assert redact(line) == line


def _reset_root_logging() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    logging.captureWarnings(False)


def test_no_secret_reaches_file_console_or_bus(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bus = setup_logging(LoggingSettings(level="DEBUG"), data_dir)
    seen: list[LogEntry] = []
    bus.subscribe(seen.append)
    try:
        log = logging.getLogger("app.test")
        log.info("login %s with password=%s", 1234, "hunter2")
        try:
            raise ValueError("password=hunter2")
        except ValueError:
            log.exception("failed")
    finally:
        _reset_root_logging()
    file_text = (data_dir / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    console = capsys.readouterr().err
    assert "login 1234 with password=***" in file_text
    for text in (file_text, console, " ".join(e.message for e in seen)):
        assert "hunter2" not in text
    assert seen[0].module == "app.test" and seen[0].level == "INFO"


def test_log_file_rotates(data_dir: Path) -> None:
    setup_logging(LoggingSettings(file_max_bytes=10_000, file_backups=2), data_dir, console=False)
    try:
        for i in range(2_000):
            logging.getLogger("app.test").warning("line %05d %s", i, "x" * 40)
    finally:
        _reset_root_logging()
    files = sorted(p.name for p in (data_dir / "logs").iterdir())
    assert files == [LOG_FILE_NAME, f"{LOG_FILE_NAME}.1", f"{LOG_FILE_NAME}.2"]


def test_bus_is_bounded_filters_by_level_and_unsubscribes() -> None:
    bus = LogBus(capacity=5)
    got: list[str] = []
    unsubscribe = bus.subscribe(lambda entry: got.append(entry.message))
    log = logging.getLogger("app.bus-test")
    log.addHandler(bus)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        for i in range(8):
            log.log(logging.WARNING if i % 2 else logging.INFO, "m%d", i, extra={"symbol": "EURUSD"})
        unsubscribe()
        log.info("after")
    finally:
        log.removeHandler(bus)
    assert [e.message for e in bus.recent()] == ["m4", "m5", "m6", "m7", "after"]
    assert [e.message for e in bus.recent(min_level=logging.WARNING)] == ["m5", "m7"]
    assert bus.recent(limit=2)[-1].message == "after"
    assert got == [f"m{i}" for i in range(8)]
    assert bus.recent()[0].extra == {"symbol": "EURUSD"}
    assert bus.recent()[0].to_json()["timestamp"].endswith("Z")


def test_a_failing_subscriber_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    bus = LogBus()
    got: list[str] = []

    def broken(entry: LogEntry) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(lambda entry: got.append(entry.message))
    monkeypatch.setattr(logging, "raiseExceptions", False)  # handleError would print the traceback
    bus.handle(logging.makeLogRecord({"msg": "hello", "levelname": "INFO", "levelno": 20}))
    assert got == ["hello"]


def test_alembic_steps_stay_out_of_the_journal_and_the_app_says_the_upgrade(data_dir: Path) -> None:
    """The Journal (the bus at INFO) shows one line for a schema upgrade, not Alembic's steps."""
    from app.core.storage import Database

    bus = setup_logging(LoggingSettings(level="INFO"), data_dir, console=False)
    try:
        with Database(data_dir / "steps.sqlite3"):
            pass
    finally:
        _reset_root_logging()
    lines = [(e.module, e.message) for e in bus.recent(min_level=logging.INFO)]
    assert not [line for line in lines if line[0].startswith("alembic")], lines
    assert any("upgraded to" in message for _module, message in lines), lines
