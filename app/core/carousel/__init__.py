"""The carousel: visits every managed account on the terminals of the pool, in turn, and keeps their
snapshots, deals and P/L current (see :mod:`app.core.carousel.service`)."""

from app.core.carousel.errors import (
    CarouselError,
    NoTerminalError,
    SharingRefused,
    TerminalUnavailable,
    VisitFailed,
)
from app.core.carousel.schedule import is_stale, order_accounts, staleness
from app.core.carousel.service import Carousel, CycleReport
from app.core.carousel.shared import HomePasswords

__all__ = [
    "Carousel",
    "CarouselError",
    "CycleReport",
    "HomePasswords",
    "NoTerminalError",
    "SharingRefused",
    "TerminalUnavailable",
    "VisitFailed",
    "is_stale",
    "order_accounts",
    "staleness",
]
