"""Number and time formats shared by the views: prices with the symbol's digits, money, volumes."""

from __future__ import annotations

from datetime import UTC, datetime


def price(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if value else ""


def money(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}".replace(",", " ")


def volume(value: float) -> str:
    text = f"{value:.2f}"
    return text


def percent(value: float) -> str:
    return f"{value:+.2f}%"


def server_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y.%m.%d %H:%M:%S")


def epoch_time(seconds: float, with_seconds: bool = False) -> str:
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y.%m.%d %H:%M:%S" if with_seconds else "%Y.%m.%d %H:%M")


def epoch_date(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y.%m.%d")
