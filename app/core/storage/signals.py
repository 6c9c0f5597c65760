"""The ``signals``, ``webhooks`` and ``strategies`` tables: every signal with its verdicts and outcome,
the named webhooks (secrets as digests), and the strategies on the live bars."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.core.storage.schema import signals, strategies, webhooks
from app.core.times import from_ms, to_ms
from app.models.signals import (
    Signal,
    SignalMode,
    SignalRecord,
    SignalStatus,
    StrategyConfig,
    Verdict,
    Webhook,
)

_SIGNAL_COLUMNS = (
    signals.c.signal,
    signals.c.mode,
    signals.c.status,
    signals.c.validators,
    signals.c.message,
    signals.c.ticket,
    signals.c.created_ms,
    signals.c.updated_ms,
    signals.c.expires_ms,
)


def _record(row: Sequence[Any]) -> SignalRecord:
    signal, mode, status, validators, message, ticket, created, updated, expires = row
    return SignalRecord(
        Signal.from_json(signal),
        SignalMode(mode),
        SignalStatus(status),
        tuple(Verdict.from_json(v) for v in validators),
        message,
        ticket,
        from_ms(created),
        from_ms(updated),
        from_ms(expires) if expires is not None else None,
    )


class SignalRows:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, uuid: str) -> SignalRecord | None:
        row = self.conn.execute(select(*_SIGNAL_COLUMNS).where(signals.c.uuid == uuid)).first()
        return _record(row) if row else None

    def add(self, record: SignalRecord) -> bool:
        """Store a new signal; False (nothing written) if its uuid is there already."""
        s = record.signal
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(signals).values(
                        uuid=s.uuid,
                        source=s.source,
                        action=s.action.value,
                        symbol=s.symbol,
                        side=s.side,
                        volume=s.volume,
                        sl=s.sl,
                        tp=s.tp,
                        confidence=s.confidence,
                        signal=s.to_json(),
                        **self._outcome(record),
                        created_ms=to_ms(record.created_at),
                    )
                )
        except IntegrityError:
            return False
        return True

    def save(self, record: SignalRecord) -> None:
        """Its verdicts and outcome as they are now."""
        self.conn.execute(
            update(signals).where(signals.c.uuid == record.uuid).values(**self._outcome(record))
        )

    @staticmethod
    def _outcome(record: SignalRecord) -> dict[str, Any]:
        return {
            "mode": record.mode.value,
            "status": record.status.value,
            "validators": [v.to_json() for v in record.validators],
            "message": record.message,
            "ticket": record.ticket,
            "updated_ms": to_ms(record.updated_at),
            "expires_ms": to_ms(record.expires_at) if record.expires_at else None,
        }

    def recent(
        self, *, since: datetime | None = None, status: str | None = None, limit: int = 200
    ) -> list[SignalRecord]:
        """Newest first."""
        query = select(*_SIGNAL_COLUMNS)
        if since is not None:
            query = query.where(signals.c.created_ms >= to_ms(since))
        if status:
            query = query.where(signals.c.status == status)
        query = query.order_by(signals.c.created_ms.desc(), signals.c.uuid.desc()).limit(limit)
        return [_record(row) for row in self.conn.execute(query)]

    def due(self, now: datetime) -> list[SignalRecord]:
        """Signals waiting for a person whose time is up."""
        query = select(*_SIGNAL_COLUMNS).where(
            signals.c.status == SignalStatus.PENDING.value, signals.c.expires_ms <= to_ms(now)
        )
        return [_record(row) for row in self.conn.execute(query)]

    def next_expiry(self) -> datetime | None:
        query = (
            select(signals.c.expires_ms)
            .where(signals.c.status == SignalStatus.PENDING.value, signals.c.expires_ms.is_not(None))
            .order_by(signals.c.expires_ms)
            .limit(1)
        )
        ms = self.conn.execute(query).scalar()
        return from_ms(ms) if ms is not None else None

    def unfinished(self) -> list[SignalRecord]:
        """Signals a previous run left on their way to the trading service (received or approved)."""
        query = select(*_SIGNAL_COLUMNS).where(
            signals.c.status.in_((SignalStatus.RECEIVED.value, SignalStatus.APPROVED.value))
        )
        return [_record(row) for row in self.conn.execute(query)]


_WEBHOOK_COLUMNS = (
    webhooks.c.name,
    webhooks.c.secret_sha256,
    webhooks.c.mode,
    webhooks.c.symbols,
    webhooks.c.volume,
    webhooks.c.symbol_map,
    webhooks.c.created_ms,
    webhooks.c.updated_ms,
)


def _webhook(row: Sequence[Any]) -> Webhook:
    name, digest, mode, symbols, volume, symbol_map, created, updated = row
    return Webhook(
        name,
        digest,
        SignalMode(mode),
        tuple(symbols),
        volume,
        dict(symbol_map),
        from_ms(created),
        from_ms(updated),
    )


class WebhookRows:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, name: str) -> Webhook | None:
        row = self.conn.execute(select(*_WEBHOOK_COLUMNS).where(webhooks.c.name == name)).first()
        return _webhook(row) if row else None

    def all(self) -> list[Webhook]:
        return [
            _webhook(row) for row in self.conn.execute(select(*_WEBHOOK_COLUMNS).order_by(webhooks.c.name))
        ]

    def add(self, hook: Webhook) -> bool:
        """False if a webhook of that name (in any case) exists."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(webhooks).values(
                        name=hook.name,
                        secret_sha256=hook.secret_sha256,
                        mode=hook.mode.value,
                        symbols=list(hook.symbols),
                        volume=hook.volume,
                        symbol_map=hook.symbol_map,
                        created_ms=to_ms(hook.created_at),
                        updated_ms=to_ms(hook.updated_at),
                    )
                )
        except IntegrityError:
            return False
        return True

    def set_secret(self, name: str, digest: str, now: datetime) -> bool:
        done = self.conn.execute(
            update(webhooks)
            .where(webhooks.c.name == name)
            .values(secret_sha256=digest, updated_ms=to_ms(now))
        )
        return done.rowcount > 0

    def remove(self, name: str) -> bool:
        return self.conn.execute(delete(webhooks).where(webhooks.c.name == name)).rowcount > 0


_STRATEGY_COLUMNS = (
    strategies.c.id,
    strategies.c.kind,
    strategies.c.symbol,
    strategies.c.timeframe,
    strategies.c.params,
    strategies.c.enabled,
    strategies.c.mode,
    strategies.c.volume,
    strategies.c.updated_ms,
)


def _strategy(row: Sequence[Any]) -> StrategyConfig:
    sid, kind, symbol, timeframe, params, enabled, mode, volume, updated = row
    return StrategyConfig(
        sid, kind, symbol, timeframe, dict(params), bool(enabled), SignalMode(mode), volume, from_ms(updated)
    )


class StrategyRows:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def all(self) -> list[StrategyConfig]:
        query = select(*_STRATEGY_COLUMNS).order_by(strategies.c.id)
        return [_strategy(row) for row in self.conn.execute(query)]

    def get(self, sid: str) -> StrategyConfig | None:
        row = self.conn.execute(select(*_STRATEGY_COLUMNS).where(strategies.c.id == sid)).first()
        return _strategy(row) if row else None

    def put(self, config: StrategyConfig) -> None:
        """Insert or replace the strategy ``config.id``."""
        values = {
            "kind": config.kind,
            "symbol": config.symbol,
            "timeframe": config.timeframe,
            "params": config.params,
            "enabled": int(config.enabled),
            "mode": config.mode.value,
            "volume": config.volume,
            "updated_ms": to_ms(config.updated_at),
        }
        done = self.conn.execute(update(strategies).where(strategies.c.id == config.id).values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(strategies).values(id=config.id, **values))

    def remove(self, sid: str) -> bool:
        return self.conn.execute(delete(strategies).where(strategies.c.id == sid)).rowcount > 0
