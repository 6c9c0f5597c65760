"""One transaction on the database thread, with the tables' query objects.

A :class:`Tx` is what a function given to :meth:`Database.run` / :meth:`Database.call` receives; it
is valid only during that call, on the database thread. Everything the function does commits
together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from app.core.pnl import PnLCalendar, period_pnl
from app.core.storage.accounts import AccountRows
from app.core.storage.alerts import AlertRows
from app.core.storage.client_orders import ClientOrderRows, KillSwitchRows
from app.core.storage.cycles import CycleRows
from app.core.storage.deals import DealRows, UpsertResult
from app.core.storage.nodes import NodeRows
from app.core.storage.signals import SignalRows, StrategyRows, WebhookRows
from app.core.storage.snapshots import SnapshotRows
from app.core.storage.trailing import TrailingRows
from app.core.storage.users import ApiKeyRows, UserRows
from app.core.times import utc_now
from app.models import AccountSnapshot, Deal, ManagedAccount


@dataclass(frozen=True, slots=True)
class Visit:
    """What :meth:`Tx.record_visit` stored: the account row after it, the snapshot with its P/L, and
    how the fetched deals were absorbed."""

    account: ManagedAccount
    snapshot: AccountSnapshot
    deals: UpsertResult


class Tx:
    """The tables, inside one transaction. ``conn`` is the SQLAlchemy connection, for a query no
    table object has yet."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.accounts = AccountRows(conn)
        self.snapshots = SnapshotRows(conn)
        self.deals = DealRows(conn)
        self.client_orders = ClientOrderRows(conn)
        self.kill_switches = KillSwitchRows(conn)
        self.nodes = NodeRows(conn)  # the distributed carousel (app/distributed)
        self.cycles = CycleRows(conn)
        self.users = UserRows(conn)
        self.api_keys = ApiKeyRows(conn)
        self.signals = SignalRows(conn)
        self.webhooks = WebhookRows(conn)
        self.strategies = StrategyRows(conn)
        self.alerts = AlertRows(conn)
        self.trailing = TrailingRows(conn)  # client-side trailing stops (app/core/trailing.py)

    def record_visit(
        self,
        account_id: int,
        snapshot: AccountSnapshot,
        deals: Iterable[Deal] = (),
        *,
        calendar: PnLCalendar | None = None,
        deals_synced_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Visit | None:
        """Store one successful carousel visit atomically: upsert the fetched ``deals``, compute the
        period P/L from all the account's deals (server calendar ``calendar``, periods containing
        ``snapshot.taken_at``), store the snapshot with it, and mark the account ok with its snapshot
        and deal-sync times (``deals_synced_at`` defaults to the snapshot time). None if the account
        no longer exists (it was removed during the visit): nothing is stored then.
        """
        if self.accounts.get(account_id) is None:
            return None
        absorbed = self.deals.upsert(account_id, deals)
        pnl = period_pnl(self.deals.list(account_id, trades_only=True), snapshot.taken_at, calendar)
        stored = replace(snapshot, pnl=pnl)
        self.snapshots.add(account_id, stored)
        account = self.accounts.mark_visited(
            account_id, stored.taken_at, deals_synced_at or stored.taken_at, now or utc_now()
        )
        if account is None:  # cannot happen: the row was read above, in this same transaction
            raise RuntimeError(f"account {account_id} vanished inside a transaction")
        return Visit(account=account, snapshot=replace(stored, account_key=account.key), deals=absorbed)
