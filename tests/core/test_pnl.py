"""P/L per period from deals: trading deals only, costs included, periods on the server's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config import AccountsSettings
from app.core.pnl import PnLCalendar, period_pnl, period_starts
from app.models import Deal, DealEntry, DealType, PeriodPnL
from tests.support.factories import deal, utc

# A fixture account. "Now" is Tuesday 2026-12-01 22:30 UTC — on a UTC+2 server that is already
# Wednesday 2026-12-02 00:30, so the server's day, week and month all differ from UTC's.
NOW = utc(2026, 12, 1, 22, 30)
FIXTURE: list[Deal] = [
    deal(utc(2026, 10, 1, 9), type=DealType.BALANCE, profit=10_000.00),  # deposit: excluded
    deal(utc(2026, 10, 15, 8), entry=DealEntry.IN, commission=-3.50),  # -3.50
    deal(utc(2026, 10, 20, 16), type=DealType.SELL, profit=120.00, commission=-3.50, swap=-1.20),  # 115.30
    deal(utc(2026, 11, 29, 21, 30), profit=50.00, commission=-2.00),  # 48.00: Sunday 23:30 at UTC+2
    deal(utc(2026, 11, 29, 22, 30), profit=-30.00, swap=-0.40, fee=-0.10),  # -30.50: Monday 00:30 at UTC+2
    deal(utc(2026, 11, 30, 23), type=DealType.SELL, profit=75.25, commission=-2.00),  # 73.25: 1 Dec at +2
    deal(utc(2026, 11, 30, 23, 30), type=DealType.CREDIT, profit=200.00),  # credit: excluded
    deal(utc(2026, 12, 1, 10), type=DealType.BALANCE, profit=-500.00),  # withdrawal: excluded
    deal(utc(2026, 12, 1, 12), type=DealType.COMMISSION, profit=-15.00),  # monthly fee: excluded
    deal(utc(2026, 12, 1, 21, 59), profit=-12.50, commission=-1.00),  # -13.50: Dec 1 23:59 at UTC+2
    deal(utc(2026, 12, 1, 22, 10), type=DealType.SELL, profit=40.00, commission=-1.00, swap=0.50),  # 39.50
]


def test_fixture_account_on_a_utc_plus_2_server() -> None:
    pnl = period_pnl(FIXTURE, NOW, PnLCalendar(utc_offset=timedelta(hours=2)))
    assert pnl.day == pytest.approx(39.50)
    assert pnl.week == pytest.approx(-30.50 + 73.25 - 13.50 + 39.50)
    assert pnl.month == pytest.approx(73.25 - 13.50 + 39.50)
    assert pnl.total == pytest.approx(228.55)


def test_fixture_account_on_a_utc_server() -> None:
    pnl = period_pnl(FIXTURE, NOW, PnLCalendar())
    assert (pnl.day, pnl.week, pnl.month, pnl.total) == pytest.approx((26.00, 99.25, 26.00, 228.55))


def test_fixture_account_with_weeks_starting_on_sunday() -> None:
    pnl = period_pnl(FIXTURE, NOW, PnLCalendar(week_start=6))
    assert pnl.week == pytest.approx(48.00 - 30.50 + 73.25 - 13.50 + 39.50)
    assert pnl.day == pytest.approx(26.00)


def test_a_negative_offset_moves_the_day_back() -> None:
    # 02:00 UTC on the 1st is still the 30th (Monday) on a UTC-5 server.
    deals = [deal(utc(2026, 11, 30, 6), profit=10.0), deal(utc(2026, 12, 1, 1), profit=1.0)]
    pnl = period_pnl(deals, utc(2026, 12, 1, 2), PnLCalendar(utc_offset=timedelta(hours=-5)))
    assert (pnl.day, pnl.week, pnl.month, pnl.total) == pytest.approx((11.0, 11.0, 11.0, 11.0))


def test_period_starts_are_utc_instants() -> None:
    starts = period_starts(NOW, PnLCalendar(utc_offset=timedelta(hours=2)))
    assert starts.day == utc(2026, 12, 1, 22)
    assert starts.week == utc(2026, 11, 29, 22)
    assert starts.month == utc(2026, 11, 30, 22)
    assert all(s.tzinfo is UTC for s in (starts.day, starts.week, starts.month))


def test_naive_times_are_read_as_utc() -> None:
    naive = [deal(datetime(2026, 12, 1, 22, 10), profit=5.0)]
    aware = period_pnl(naive, NOW.replace(tzinfo=None), PnLCalendar(utc_offset=timedelta(hours=2)))
    assert aware.day == pytest.approx(5.0)


def test_calendar_from_settings_uses_the_servers_own_offset() -> None:
    settings = AccountsSettings(
        server_utc_offset_hours=3, server_utc_offsets={"Broker-Live": 2}, week_start="Sunday"
    )
    assert PnLCalendar.for_server(settings, "broker-live") == PnLCalendar(timedelta(hours=2), 6)
    assert PnLCalendar.for_server(settings, "Other") == PnLCalendar(timedelta(hours=3), 6)
    with pytest.raises(ValueError, match="week_start"):
        PnLCalendar(week_start=7)


# ----------------------------------------------------------------------------- properties

_instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
_money = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 2))
_deals = st.lists(
    st.builds(
        lambda t, kind, p, c, s, f: deal(t, type=kind, profit=p, commission=c, swap=s, fee=f),
        _instants,
        st.sampled_from(DealType),
        _money,
        _money,
        _money,
        _money,
    ),
    max_size=30,
)
_calendars = st.builds(
    PnLCalendar,
    utc_offset=st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timedelta(minutes=15 * q)),
    week_start=st.integers(min_value=0, max_value=6),
)


def _oracle(deals: list[Deal], now: datetime, calendar: PnLCalendar) -> PeriodPnL:
    """The same figures by calendar dates on the server clock, computed another way."""

    def local(moment: datetime) -> date:
        return (moment + calendar.utc_offset).date()

    today = local(now)
    week_first = today - timedelta(days=(today.weekday() - calendar.week_start) % 7)
    trades = [d for d in deals if d.type in (DealType.BUY, DealType.SELL)]
    return PeriodPnL(
        day=sum(d.net for d in trades if local(d.time) >= today),
        week=sum(d.net for d in trades if local(d.time) >= week_first),
        month=sum(
            d.net for d in trades if (local(d.time).year, local(d.time).month) >= (today.year, today.month)
        ),
        total=sum(d.net for d in trades),
    )


@given(_deals, _instants, _calendars)
def test_matches_a_date_based_oracle(deals: list[Deal], now: datetime, calendar: PnLCalendar) -> None:
    got, expected = period_pnl(deals, now, calendar), _oracle(deals, now, calendar)
    for field in ("day", "week", "month", "total"):
        assert getattr(got, field) == pytest.approx(getattr(expected, field), abs=1e-6)


@given(_deals, _deals, _instants, _calendars)
def test_balance_operations_never_change_pnl(
    deals: list[Deal], others: list[Deal], now: datetime, calendar: PnLCalendar
) -> None:
    balance_ops = [d for d in others if not d.type.is_trade]
    assert period_pnl(deals + balance_ops, now, calendar) == period_pnl(deals, now, calendar)


@given(st.data(), _deals, _instants)
def test_order_of_deals_does_not_matter(data: st.DataObject, deals: list[Deal], now: datetime) -> None:
    shuffled = data.draw(st.permutations(deals))
    assert period_pnl(shuffled, now) == period_pnl(deals, now)  # fsum: exactly, not just nearly
