"""An account as the terminal shows it at one moment, in the carousel's snapshot terms (pure).

The carousel takes one on every visit; the Exposure view takes the live account's as it stands, so
that it counts beside the visited ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from app.models import AccountInfo, AccountSnapshot, Position, SnapshotPosition


def snapshot_of(
    key: str, info: AccountInfo, positions: Iterable[Position], pending_orders: int, taken_at: datetime
) -> AccountSnapshot:
    """``key`` (``login@server``) with ``info``'s figures and ``positions``, taken at ``taken_at``."""
    held = tuple(
        SnapshotPosition(p.symbol, p.side, p.volume, p.price_open, p.profit, p.swap, p.ticket)
        for p in positions
    )
    return AccountSnapshot(
        account_key=key,
        taken_at=taken_at,
        balance=info.balance,
        equity=info.equity,
        margin=info.margin,
        margin_free=info.margin_free,
        margin_level=info.margin_level,
        currency=info.currency,
        open_positions=len(held),
        open_pl=math.fsum(p.floating for p in held),
        pending_orders=pending_orders,
        positions=held,
    )
