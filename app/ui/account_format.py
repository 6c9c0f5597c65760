"""How the Accounts and Exposure views write numbers and ages."""

from __future__ import annotations

from datetime import datetime, timedelta


def money(value: float) -> str:
    return f"{value:,.2f}"


def signed_money(value: float) -> str:
    return f"{value:+,.2f}"


def lots(value: float) -> str:
    return f"{value:+.2f}" if value else "0.00"


def age(moment: datetime | None, now: datetime) -> str:
    """``"never"``, ``"12s"``, ``"4m 05s"``, ``"3h 20m"``, ``"2d 4h"``."""
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def is_stale(moment: datetime | None, now: datetime, stale_after: timedelta) -> bool:
    return moment is None or now - moment > stale_after
