"""Trading sessions: when a symbol quotes and trades (server time = UTC).

FX closes from Friday 22:00 to Sunday 22:00; CFDs (gold, the index) also pause daily 21:00-22:00;
crypto trades 24/7, so a demo on a Saturday still shows a live BTCUSD.
"""

from __future__ import annotations

import numpy as np

MINUTES_PER_DAY = 1440
MS_PER_MINUTE = 60_000
MS_PER_DAY = 86_400_000

_FRIDAY_CLOSE = 22 * 60
_SUNDAY_OPEN = 22 * 60
_BREAK = (21 * 60, 22 * 60)


def weekday(day: int) -> int:
    """Day of week of epoch day ``day`` with Monday = 0 (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


def open_minutes(sessions: str, day: int) -> np.ndarray:
    """Boolean mask of the 1440 minutes of epoch day ``day`` during which the symbol quotes."""
    if sessions == "crypto":
        return np.ones(MINUTES_PER_DAY, dtype=bool)
    minute = np.arange(MINUTES_PER_DAY)
    dow = weekday(day)
    if dow == 5:  # Saturday
        mask = np.zeros(MINUTES_PER_DAY, dtype=bool)
    elif dow == 6:  # Sunday: opens in the evening
        mask = minute >= _SUNDAY_OPEN
    elif dow == 4:  # Friday: closes in the evening
        mask = minute < _FRIDAY_CLOSE
    else:
        mask = np.ones(MINUTES_PER_DAY, dtype=bool)
    if sessions == "cfd" and dow in (0, 1, 2, 3):
        mask &= (minute < _BREAK[0]) | (minute >= _BREAK[1])
    return mask


def is_open(sessions: str, time_ms: int) -> bool:
    day, rest = divmod(time_ms, MS_PER_DAY)
    return bool(open_minutes(sessions, day)[rest // MS_PER_MINUTE])


# 1970-01-05, the first Monday of the epoch: its week stands for every week (the schedule repeats).
_FIRST_MONDAY = 4


def weekly_sessions(sessions: str) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The schedule as a terminal's specification window lists it: for each day, Monday first, the
    (start, end) minutes from midnight server time during which the symbol quotes and trades."""
    week = []
    for day in range(_FIRST_MONDAY, _FIRST_MONDAY + 7):
        mask = open_minutes(sessions, day).astype(np.int8)
        edges = np.diff(np.concatenate(([0], mask, [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        week.append(tuple((int(s), int(e)) for s, e in zip(starts, ends, strict=True)))
    return tuple(week)
