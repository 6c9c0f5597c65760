"""Trading sessions as a trader reads them: days with the same hours joined, breaks kept, bad
schedules refused with a clear error."""

from __future__ import annotations

import pytest

from app.core.sessions import clock, day_hours, session_lines
from app.mt5.sim.sessions import weekly_sessions

ALL_DAY = ((0, 1440),)


def test_hours_read_as_the_terminal_writes_them() -> None:
    assert clock(0) == "00:00" and clock(21 * 60 + 30) == "21:30" and clock(1440) == "24:00"
    assert day_hours(((0, 1260), (1320, 1440))) == "00:00–21:00, 22:00–24:00"
    assert day_hours(()) == "closed"


def test_a_plain_five_day_week_is_one_line_and_the_weekend() -> None:
    week = (ALL_DAY,) * 5 + ((), ())
    assert session_lines(week) == ["Mon–Fri 00:00–24:00", "Sat–Sun closed"]


def test_every_day_alike_is_said_once() -> None:
    assert session_lines((ALL_DAY,) * 7) == ["Every day 00:00–24:00"]


def test_the_simulators_schedules() -> None:
    """FX opens Sunday 22:00 and closes Friday 22:00; gold and the index also pause 21:00-22:00."""
    assert session_lines(weekly_sessions("fx")) == [
        "Mon–Thu 00:00–24:00",
        "Fri 00:00–22:00",
        "Sat closed",
        "Sun 22:00–24:00",
    ]
    assert session_lines(weekly_sessions("cfd")) == [
        "Mon–Thu 00:00–21:00, 22:00–24:00",
        "Fri 00:00–22:00",
        "Sat closed",
        "Sun 22:00–24:00",
    ]
    assert session_lines(weekly_sessions("crypto")) == ["Every day 00:00–24:00"]


def test_a_day_alone_between_others_keeps_its_own_line() -> None:
    short = ((0, 720),)
    week = (ALL_DAY, ALL_DAY, short, ALL_DAY, ALL_DAY, (), ())
    assert session_lines(week) == [
        "Mon–Tue 00:00–24:00",
        "Wed 00:00–12:00",
        "Thu–Fri 00:00–24:00",
        "Sat–Sun closed",
    ]


def test_a_schedule_that_is_not_a_week_is_refused() -> None:
    with pytest.raises(ValueError, match="7 days"):
        session_lines((ALL_DAY,) * 5)
    with pytest.raises(ValueError, match="within a day"):
        session_lines((((1320, 1500),),) + (ALL_DAY,) * 6)
