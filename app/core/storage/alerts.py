"""The ``alerts`` table: the price alerts a trader set, and when each last fired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from app.core.storage.schema import alerts
from app.core.times import from_ms, to_ms
from app.models import Alert, AlertCondition

_COLUMNS = (
    alerts.c.id,
    alerts.c.symbol,
    alerts.c.condition,
    alerts.c.price,
    alerts.c.repeat,
    alerts.c.created_ms,
    alerts.c.note,
    alerts.c.created_by,
    alerts.c.fired_ms,
    alerts.c.fired_price,
    alerts.c.fire_count,
)


def _alert(row: Sequence[Any]) -> Alert:
    id_, symbol, condition, price, repeat, created, note, by, fired, fired_price, count = row
    return Alert(
        id=int(id_),
        symbol=symbol,
        condition=AlertCondition(condition),
        price=float(price),
        repeat=bool(repeat),
        created_at=from_ms(created),
        note=note,
        created_by=by,
        fired_at=from_ms(fired) if fired is not None else None,
        fired_price=None if fired_price is None else float(fired_price),
        fire_count=int(count),
    )


class AlertRows:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def all(self) -> list[Alert]:
        return [_alert(r) for r in self._conn.execute(select(*_COLUMNS).order_by(alerts.c.id))]

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(alerts)).scalar_one())

    def insert(
        self,
        symbol: str,
        condition: AlertCondition,
        price: float,
        repeat: bool,
        now: datetime,
        *,
        note: str = "",
        created_by: str = "",
    ) -> Alert:
        row = self._conn.execute(
            insert(alerts)
            .values(
                symbol=symbol,
                condition=condition.value,
                price=price,
                repeat=int(repeat),
                note=note,
                created_by=created_by,
                created_ms=to_ms(now),
            )
            .returning(*_COLUMNS)
        ).one()
        return _alert(row)

    def fired(self, alert_id: int, at: datetime, price: float) -> None:
        self._conn.execute(
            update(alerts)
            .where(alerts.c.id == alert_id)
            .values(fired_ms=to_ms(at), fired_price=price, fire_count=alerts.c.fire_count + 1)
        )

    def delete(self, alert_id: int) -> bool:
        return bool(self._conn.execute(delete(alerts).where(alerts.c.id == alert_id)).rowcount)
