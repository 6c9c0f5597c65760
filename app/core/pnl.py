"""Realised P/L of an account for today, this week, this month and in total, from its deals.

Only trading deals count (:attr:`DealType.is_trade`): deposits, withdrawals, credit, bonuses and
balance-side fees are money moved, not money made. A trading deal counts with everything it did to
the balance — profit, swap, commission and fee (:attr:`Deal.net`).

Periods are cut on the trade server's clock, which is UTC plus a fixed offset (brokers commonly run
at UTC+2/+3 so that the day ends at the New York close): a deal at 23:30 UTC is "tomorrow" for a
UTC+2 server. Each period runs from its start to the open end, so a deal stamped a little after
``now`` (clocks differ) still counts. Deal times are instants: an aware datetime, or a naive one read
as UTC.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.config import WEEKDAYS, AccountsSettings
from app.core.money import DEFAULT_DIGITS, from_minor_units, minor_units
from app.core.times import as_utc
from app.models import Deal, PeriodPnL


@dataclass(frozen=True, slots=True)
class PnLCalendar:
    """How periods are cut: the server clock's offset from UTC and the first day of the week
    (``0`` Monday … ``6`` Sunday, as :meth:`datetime.weekday` counts)."""

    utc_offset: timedelta = timedelta(0)
    week_start: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.week_start <= 6:
            raise ValueError(f"week_start must be 0 (Monday) to 6 (Sunday), not {self.week_start}")
        if abs(self.utc_offset) > timedelta(hours=14):
            raise ValueError(f"utc_offset {self.utc_offset} is beyond ±14 hours")

    @classmethod
    def for_server(cls, settings: AccountsSettings, server: str) -> PnLCalendar:
        """The calendar of ``server`` from the ``[accounts]`` settings."""
        return cls(
            utc_offset=timedelta(hours=settings.utc_offset_hours(server)),
            week_start=WEEKDAYS.index(settings.week_start),
        )


@dataclass(frozen=True, slots=True)
class PeriodStarts:
    """The instants (aware, UTC) at which today, this week and this month began on the server."""

    day: datetime
    week: datetime
    month: datetime


def period_starts(now: datetime, calendar: PnLCalendar) -> PeriodStarts:
    """When the server's current day, week and month began, as UTC instants."""
    wall = as_utc(now).replace(tzinfo=None) + calendar.utc_offset
    day = wall.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=(day.weekday() - calendar.week_start) % 7)
    month = day.replace(day=1)

    def instant(wall_time: datetime) -> datetime:
        return (wall_time - calendar.utc_offset).replace(tzinfo=UTC)

    return PeriodStarts(day=instant(day), week=instant(week), month=instant(month))


def period_pnl(
    deals: Iterable[Deal], now: datetime, calendar: PnLCalendar | None = None, digits: int = DEFAULT_DIGITS
) -> PeriodPnL:
    """Realised P/L from the trading deals among ``deals`` for the periods containing ``now``, exact to
    ``digits`` decimals (each deal's profit, swap, commission and fee are added in integer minor
    units: never -0.45999999999999996 for -0.46)."""
    starts = period_starts(now, calendar or PnLCalendar())
    day: list[int] = []
    week: list[int] = []
    month: list[int] = []
    total: list[int] = []
    for deal in deals:
        if not deal.type.is_trade:
            continue
        net = sum(minor_units(v, digits) for v in (deal.profit, deal.swap, deal.commission, deal.fee))
        time = as_utc(deal.time)
        total.append(net)
        if time >= starts.month:
            month.append(net)
        if time >= starts.week:
            week.append(net)
        if time >= starts.day:
            day.append(net)

    def amount(units: list[int]) -> float:
        return from_minor_units(sum(units), digits)

    return PeriodPnL(day=amount(day), week=amount(week), month=amount(month), total=amount(total))
