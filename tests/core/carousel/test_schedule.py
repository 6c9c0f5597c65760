"""The order of a cycle and the backoff of failing accounts: pure bookkeeping, no terminal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import CarouselSettings, SettingsError, load_settings
from app.core.carousel import order_accounts, staleness
from app.core.carousel.schedule import CycleQueue, RetryBook, is_stale
from app.models import AccountStatus, ManagedAccount, Side
from tests.support.factories import position, snapshot, utc

NOW = utc(2026, 12, 1, 12)
STALE = timedelta(minutes=15)


def account(
    account_id: int,
    seen_minutes_ago: float | None,
    status: AccountStatus = AccountStatus.OK,
    terminal: str | None = None,
) -> ManagedAccount:
    seen = None if seen_minutes_ago is None else NOW - timedelta(minutes=seen_minutes_ago)
    return ManagedAccount(
        id=account_id,
        login=1000 + account_id,
        server="Broker",
        broker="",
        alias="",
        terminal_id=terminal,
        enabled=True,
        status=status,
        status_reason="",
        last_snapshot_at=seen,
        last_deal_sync_at=seen,
        created_at=utc(2026, 1, 1),
        updated_at=utc(2026, 1, 1),
    )


def test_open_positions_then_stale_then_the_least_recently_seen() -> None:
    fresh_flat = account(1, 2)
    fresh_busy = account(2, 1)
    stale_flat = account(3, 60)
    never = account(4, None)
    failing = account(5, 90, AccountStatus.ERROR)
    older_fresh = account(6, 5)
    busy = {2: snapshot(NOW, positions=(position("EURUSD", Side.BUY, 0.1, 1.1, 3.0),))}
    accounts = [fresh_flat, fresh_busy, stale_flat, never, failing, older_fresh]

    ordered = order_accounts(accounts, busy, ["open_positions", "stale", "errors_last"], NOW, STALE)
    assert [a.id for a in ordered] == [2, 4, 3, 5, 6, 1]

    by_age_only = order_accounts(accounts, busy, [], NOW, STALE)
    assert [a.id for a in by_age_only] == [4, 5, 3, 6, 1, 2]
    errors_first_last = order_accounts(accounts, busy, ["errors_last", "stale"], NOW, STALE)
    assert [a.id for a in errors_first_last][-1] == 5


def test_staleness_is_the_age_of_the_last_snapshot() -> None:
    assert staleness(account(1, None), NOW) is None
    assert staleness(account(1, 3), NOW) == timedelta(minutes=3)
    assert is_stale(account(1, None), NOW, STALE) and is_stale(account(1, 16), NOW, STALE)
    assert not is_stale(account(1, 14), NOW, STALE)


def test_backoff_doubles_up_to_the_maximum_and_success_clears_it() -> None:
    book = RetryBook(timedelta(seconds=30), timedelta(minutes=5))
    delays = [(book.failed(7, NOW) - NOW).total_seconds() for _ in range(6)]
    assert delays == [30, 60, 120, 240, 300, 300]
    assert not book.due(7, NOW) and book.due(7, NOW + timedelta(minutes=5))
    assert book.failures(7) == 6 and book.schedule() == {7: NOW + timedelta(minutes=5)}
    book.succeeded(7)
    assert book.due(7, NOW) and book.retry_at(7) is None
    book.failed(8, NOW)
    book.keep_only([9])
    assert book.schedule() == {}


def test_each_terminal_takes_the_first_account_it_may_visit() -> None:
    queue = CycleQueue([account(1, 1, terminal="t2"), account(2, 1), account(3, 1, terminal="t3")])
    on_t3 = queue.take(lambda a: a.terminal_id in (None, "t3"))
    assert on_t3 is not None and on_t3.id == 2
    assert queue.take(lambda a: a.terminal_id == "t9") is None
    queue.put_back(on_t3)
    assert [a.id for a in queue.accounts] == [2, 1, 3] and len(queue) == 3


def test_carousel_settings_defaults_and_checks() -> None:
    settings = CarouselSettings()
    assert settings.priority == ["open_positions", "stale", "errors_last"] and settings.autostart
    assert CarouselSettings(priority=["Stale", "OPEN_POSITIONS"]).priority == ["stale", "open_positions"]
    with pytest.raises(ValueError, match="each priority rule may appear once"):
        CarouselSettings(priority=["stale", "stale"])
    with pytest.raises(ValueError, match="retry_max_s must be at least retry_initial_s"):
        CarouselSettings(retry_initial_s=60, retry_max_s=30)
    with pytest.raises(SettingsError, match="carousel.priority"):
        load_settings({"carousel": {"priority": ["newest"]}}, env_file=None)
