"""The distributed carousel's state in the store: ``carousel_control`` (running, paused), ``cycles``
and ``cycle_visits`` (each cycle's accounts, and what became of each visit), ``visit_retries`` (the
backoff of failing accounts). Nodes and consoles all read and write it; see app/distributed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, delete, func, insert, select, update

from app.core.storage.schema import carousel_control, cycle_visits, cycles, planner_lease, visit_retries
from app.core.storage.sql import upsert
from app.core.times import from_ms, to_ms

VisitState = Literal["queued", "visiting", "done", "failed", "cancelled"]
OPEN_STATES: tuple[VisitState, ...] = ("queued", "visiting")
ENDED_STATES: tuple[VisitState, ...] = ("done", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class Control:
    running: bool = False
    paused: bool = False
    changed_at: datetime | None = None
    changed_by: str = ""


@dataclass(frozen=True, slots=True)
class CycleRow:
    cycle: int
    started_at: datetime
    finished_at: datetime | None
    planner: str

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class VisitRow:
    cycle: int
    account_id: int
    position: int
    state: VisitState
    node: str
    terminal: str
    reason: str


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """An account of a new cycle: ``queued`` (a job follows), or ``failed`` at once with ``reason``
    (no node can log in to it)."""

    account_id: int
    state: VisitState = "queued"
    reason: str = ""


_VISIT_COLUMNS = (
    cycle_visits.c.cycle,
    cycle_visits.c.account_id,
    cycle_visits.c.position,
    cycle_visits.c.state,
    cycle_visits.c.node,
    cycle_visits.c.terminal,
    cycle_visits.c.reason,
)


class CycleRows:
    """Queries on the distributed carousel's tables, inside a :class:`~app.core.storage.Tx`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # ------------------------------------------------------------------ running or not

    def control(self) -> Control:
        row = self._conn.execute(
            select(
                carousel_control.c.running,
                carousel_control.c.paused,
                carousel_control.c.changed_ms,
                carousel_control.c.changed_by,
            ).where(carousel_control.c.id == 1)
        ).first()
        if row is None:
            return Control()
        return Control(bool(row[0]), bool(row[1]), from_ms(row[2]), row[3])

    def set_control(
        self, *, running: bool | None = None, paused: bool | None = None, by: str, now: datetime
    ) -> Control:
        current = self.control()
        values = {
            "id": 1,
            "running": int(current.running if running is None else running),
            "paused": int(current.paused if paused is None else paused),
            "changed_ms": to_ms(now),
            "changed_by": by,
        }
        statement = upsert(
            self._conn.dialect.name,
            carousel_control,
            ("id",),
            ("running", "paused", "changed_ms", "changed_by"),
        )
        self._conn.execute(statement, values)
        return self.control()

    # ------------------------------------------------------------------ who plans

    def take_lease(self, node: str, now: datetime, lease_s: float) -> bool:
        """Plan for ``lease_s`` more: True when ``node`` holds the planner's lease (it had it, or the
        holder let it run out). Taken inside a transaction: of two nodes asking at once, one gets it."""
        row = self._conn.execute(
            select(planner_lease.c.holder, planner_lease.c.until_ms)
            .where(planner_lease.c.id == 1)
            .with_for_update()
        ).first()
        until = to_ms(now) + int(lease_s * 1000)
        if row is None:
            statement = upsert(self._conn.dialect.name, planner_lease, ("id",), ("holder", "until_ms"))
            self._conn.execute(statement, {"id": 1, "holder": node, "until_ms": until})
            return self.lease_holder(now) == node
        holder, until_ms = row
        if holder != node and until_ms >= to_ms(now):
            return False
        self._conn.execute(
            update(planner_lease).where(planner_lease.c.id == 1).values(holder=node, until_ms=until)
        )
        return True

    def give_up_lease(self, node: str) -> None:
        self._conn.execute(
            update(planner_lease)
            .where(planner_lease.c.id == 1, planner_lease.c.holder == node)
            .values(until_ms=0)
        )

    def lease_holder(self, now: datetime) -> str | None:
        row = self._conn.execute(select(planner_lease.c.holder, planner_lease.c.until_ms)).first()
        if row is None or row[1] < to_ms(now):
            return None
        return str(row[0])

    # ------------------------------------------------------------------ cycles

    def latest(self) -> CycleRow | None:
        """The newest cycle (open or finished)."""
        return self._cycle(select(cycles).order_by(cycles.c.cycle.desc()).limit(1))

    def last_finished(self) -> CycleRow | None:
        return self._cycle(
            select(cycles).where(cycles.c.finished_ms.is_not(None)).order_by(cycles.c.cycle.desc()).limit(1)
        )

    def _cycle(self, query: object) -> CycleRow | None:
        row = self._conn.execute(query).first()  # type: ignore[call-overload]
        if row is None:
            return None
        cycle, started, finished, planner = row
        return CycleRow(cycle, from_ms(started), None if finished is None else from_ms(finished), planner)

    def start(self, planner: str, now: datetime, visits: Iterable[PlannedVisit]) -> int:
        """A new cycle with these visits (in this order); returns its number."""
        number = int(self._conn.execute(select(func.coalesce(func.max(cycles.c.cycle), 0))).scalar_one()) + 1
        self._conn.execute(insert(cycles).values(cycle=number, started_ms=to_ms(now), planner=planner))
        rows = [
            {
                "cycle": number,
                "account_id": visit.account_id,
                "position": position,
                "state": visit.state,
                "reason": visit.reason,
                "finished_ms": None if visit.state in OPEN_STATES else to_ms(now),
            }
            for position, visit in enumerate(visits)
        ]
        if rows:
            self._conn.execute(insert(cycle_visits), rows)
        return number

    def finish(self, cycle: int, now: datetime) -> None:
        """The cycle is over: it ended when its last visit did (``now`` if it had none)."""
        last = self._conn.execute(
            select(func.max(cycle_visits.c.finished_ms)).where(cycle_visits.c.cycle == cycle)
        ).scalar()
        self._conn.execute(
            update(cycles)
            .where(cycles.c.cycle == cycle, cycles.c.finished_ms.is_(None))
            .values(finished_ms=to_ms(now) if last is None else last)
        )

    def prune(self, keep: int) -> int:
        """Forget all but the newest ``keep`` cycles (their visits go with them)."""
        newest = self._conn.execute(select(func.max(cycles.c.cycle))).scalar()
        if newest is None:
            return 0
        done = self._conn.execute(delete(cycles).where(cycles.c.cycle <= newest - keep))
        return int(done.rowcount or 0)

    # ------------------------------------------------------------------ visits

    def visits(self, cycle: int, states: Iterable[VisitState] | None = None) -> list[VisitRow]:
        query = select(*_VISIT_COLUMNS).where(cycle_visits.c.cycle == cycle)
        if states is not None:
            query = query.where(cycle_visits.c.state.in_(tuple(states)))
        rows = self._conn.execute(query.order_by(cycle_visits.c.position))
        return [VisitRow(*row) for row in rows]

    def visit(self, cycle: int, account_id: int) -> VisitRow | None:
        row = self._conn.execute(
            select(*_VISIT_COLUMNS).where(
                cycle_visits.c.cycle == cycle, cycle_visits.c.account_id == account_id
            )
        ).first()
        return None if row is None else VisitRow(*row)

    def claim(self, cycle: int, account_id: int, node: str, terminal: str, now: datetime) -> bool:
        """Mark the visit under way on ``node``/``terminal``; False when it has ended already (a job run
        again after its visit was stored, or a cancelled one): then there is nothing to do."""
        return self._update_open(
            cycle, account_id, state="visiting", node=node, terminal=terminal, started_ms=to_ms(now)
        )

    def end(self, cycle: int, account_id: int, state: VisitState, now: datetime, reason: str = "") -> bool:
        """End an open visit (done, failed or cancelled); False if it had ended already."""
        return self._update_open(cycle, account_id, state=state, reason=reason, finished_ms=to_ms(now))

    def _update_open(self, cycle: int, account_id: int, **values: object) -> bool:
        """Change the visit if it is still open (queued or under way); whether it was."""
        done = self._conn.execute(
            update(cycle_visits)
            .where(
                cycle_visits.c.cycle == cycle,
                cycle_visits.c.account_id == account_id,
                cycle_visits.c.state.in_(OPEN_STATES),
            )
            .values(**values)
        )
        return bool(done.rowcount)

    def requeue(self, cycle: int, account_id: int, reason: str = "") -> None:
        """The visit goes back to the queue (its terminal could not make it): another terminal takes it."""
        self._conn.execute(
            update(cycle_visits)
            .where(
                cycle_visits.c.cycle == cycle,
                cycle_visits.c.account_id == account_id,
                cycle_visits.c.state == "visiting",
            )
            .values(state="queued", node="", terminal="", reason=reason)
        )

    def counts(self, cycle: int) -> dict[str, int]:
        """How many of the cycle's visits are in each state."""
        rows = self._conn.execute(
            select(cycle_visits.c.state, func.count())
            .where(cycle_visits.c.cycle == cycle)
            .group_by(cycle_visits.c.state)
        )
        return {state: int(n) for state, n in rows}

    # ------------------------------------------------------------------ the retry backoff

    def failed(self, account_id: int, now: datetime, initial_s: float, maximum_s: float) -> datetime:
        """Count a failed visit; returns when the account may be visited again (``initial_s`` after the
        first failure, doubling up to ``maximum_s``)."""
        before = self._conn.execute(
            select(visit_retries.c.failures).where(visit_retries.c.account_id == account_id)
        ).scalar()
        failures = int(before or 0) + 1
        delay = min(maximum_s, initial_s * (2 ** min(failures - 1, 30)))
        retry_at = now + timedelta(seconds=delay)
        statement = upsert(
            self._conn.dialect.name, visit_retries, ("account_id",), ("failures", "retry_at_ms")
        )
        self._conn.execute(
            statement, {"account_id": account_id, "failures": failures, "retry_at_ms": to_ms(retry_at)}
        )
        return retry_at

    def succeeded(self, account_id: int) -> None:
        self._conn.execute(delete(visit_retries).where(visit_retries.c.account_id == account_id))

    def retry_schedule(self) -> dict[int, datetime]:
        """When each failing account may be visited again, by account id."""
        rows = self._conn.execute(select(visit_retries.c.account_id, visit_retries.c.retry_at_ms))
        return {account_id: from_ms(ms) for account_id, ms in rows}

    def not_due(self, now: datetime, schedule: Mapping[int, datetime] | None = None) -> set[int]:
        """The accounts waiting out a backoff at ``now``."""
        schedule = self.retry_schedule() if schedule is None else schedule
        return {account_id for account_id, at in schedule.items() if at > now}
