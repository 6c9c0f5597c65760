"""Trading sessions as a trader reads them: a week's schedule (:data:`WeekSessions`) turned into
lines such as "Mon–Thu 00:00–21:00, 22:00–24:00" (days with the same hours are joined)."""

from __future__ import annotations

from app.models import WeekSessions

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 1440


def clock(minute: int) -> str:
    """Minutes from midnight as HH:MM; the end of the day is 24:00, as MT5 writes it."""
    hours, minutes = divmod(minute, 60)
    return f"{hours:02d}:{minutes:02d}"


def day_hours(spans: tuple[tuple[int, int], ...]) -> str:
    """One day's sessions: "00:00–21:00, 22:00–24:00", or "closed"."""
    return ", ".join(f"{clock(start)}–{clock(end)}" for start, end in spans) or "closed"


def session_lines(week: WeekSessions) -> list[str]:
    """One line per run of consecutive days with the same hours, Monday first ("Every day ..." when
    all seven are alike). A schedule that is not seven days is refused with a clear error."""
    if len(week) != len(DAYS):
        raise ValueError(f"a week of sessions has 7 days (Monday first), not {len(week)}")
    for spans in week:
        for start, end in spans:
            if not 0 <= start < end <= MINUTES_PER_DAY:
                raise ValueError(f"a session runs within a day, from 00:00 to 24:00: not {start}–{end}")
    if all(day == week[0] for day in week):
        return [f"Every day {day_hours(week[0])}"]
    lines: list[str] = []
    first = 0
    for day in range(1, len(DAYS) + 1):
        if day < len(DAYS) and week[day] == week[first]:
            continue
        last = day - 1
        days = DAYS[first] if last == first else f"{DAYS[first]}–{DAYS[last]}"
        lines.append(f"{days} {day_hours(week[first])}")
        first = day
    return lines
