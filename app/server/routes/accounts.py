"""Managed accounts (the carousel's): the registry, each account's stored deals and snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.core.money import currency_digits
from app.models import NewAccount
from app.server.deps import Ctx, CurrentUser
from app.server.params import QueryDatetime, QueryInt
from app.server.routes import link, linked
from app.server.schemas import DealOut, Digits, ManagedAccountOut, NewAccountIn, SnapshotOut

router = APIRouter(prefix="/api/accounts", tags=["accounts"])

AccountId = Annotated[QueryInt, Path(ge=1, le=2**63 - 1)]


async def _view(ctx: Ctx, account_id: int | None = None) -> list[ManagedAccountOut]:
    registry = ctx.services.accounts
    accounts = [await registry.get(account_id)] if account_id is not None else await registry.list()
    snapshots = await registry.latest_snapshots()
    return [ManagedAccountOut.of(a, snapshots.get(a.id), ctx.logged_in(a.login, a.server)) for a in accounts]


@router.get("", response_model=list[ManagedAccountOut])
async def list_accounts(ctx: Ctx) -> list[ManagedAccountOut]:
    return await _view(ctx)


_THE_ACCOUNT = {"parameters": {"account_id": "$response.body#/id"}}
_ADDED = linked(
    201,
    GetAccount=link("/api/accounts/{account_id}", "get", **_THE_ACCOUNT),
    AccountDeals=link("/api/accounts/{account_id}/deals", "get", **_THE_ACCOUNT),
    AccountSnapshots=link("/api/accounts/{account_id}/snapshots", "get", **_THE_ACCOUNT),
    SyncAccount=link("/api/accounts/{account_id}/sync", "post", **_THE_ACCOUNT),
    RemoveAccount=link("/api/accounts/{account_id}", "delete", **_THE_ACCOUNT),
)
_ADDED["responses"]["201"]["headers"] = {
    "Location": {"description": "the new account's URL", "schema": {"type": "string"}}
}


@router.post("", response_model=ManagedAccountOut, status_code=201, openapi_extra=_ADDED)
async def add_account(
    body: NewAccountIn, ctx: Ctx, user: CurrentUser, response: Response
) -> ManagedAccountOut:
    """Register an account; its password goes straight to the OS keyring and is never shown again.
    It is ``pending`` until a login verifies the password (at once, in the background)."""
    new = NewAccount(body.login, body.server, body.broker, body.alias, body.terminal_id, body.enabled)
    account = await ctx.services.accounts.add(new, body.password, actor=user.actor)
    response.headers["Location"] = f"/api/accounts/{account.id}"
    return ManagedAccountOut.of(account, None, False)


@router.get("/{account_id}", response_model=ManagedAccountOut)
async def get_account(account_id: AccountId, ctx: Ctx) -> ManagedAccountOut:
    return (await _view(ctx, account_id))[0]


@router.delete("/{account_id}", response_model=ManagedAccountOut)
async def remove_account(account_id: AccountId, ctx: Ctx, user: CurrentUser) -> ManagedAccountOut:
    """Remove the account, its keyring entry, snapshots and deals; answers the account as it was."""
    account = await ctx.services.accounts.remove(account_id, actor=user.actor)
    return ManagedAccountOut.of(account, None, False)


@router.get("/{account_id}/deals", response_model=list[DealOut])
async def account_deals(
    account_id: AccountId, ctx: Ctx, days: Annotated[QueryInt, Query(ge=1, le=36_500)] = 30
) -> list[DealOut]:
    """The account's stored deals of the last ``days`` days (as the carousel fetched them)."""
    await ctx.services.accounts.get(account_id)
    since = datetime.now(UTC) - timedelta(days=days)
    deals = await ctx.services.storage.db.run(
        lambda tx: tx.deals.list(account_id, since=since), readonly=True
    )
    snapshot = (await ctx.services.accounts.latest_snapshots()).get(account_id)
    await ctx.know_symbols()
    money = currency_digits(snapshot.currency if snapshot else None)
    return [DealOut.of(d, Digits(ctx.digits(d.symbol).price, money)) for d in deals]


@router.get("/{account_id}/snapshots", response_model=list[SnapshotOut])
async def account_snapshots(
    account_id: AccountId,
    ctx: Ctx,
    since: QueryDatetime | None = None,
    limit: Annotated[QueryInt, Query(ge=1, le=10_000)] = 500,
) -> list[SnapshotOut]:
    """The account's snapshot history (the newest ``limit``, oldest first)."""
    await ctx.services.accounts.get(account_id)
    start = since
    rows = await ctx.services.storage.db.run(
        lambda tx: tx.snapshots.history(account_id, since=start, limit=limit), readonly=True
    )
    return [SnapshotOut.of(s) for s in rows]


@router.post("/{account_id}/sync", response_model=SnapshotOut)
async def sync_account(account_id: AccountId, ctx: Ctx, user: CurrentUser) -> SnapshotOut:
    """Visit the account now (out of the carousel's turn) and answer its fresh snapshot."""
    await ctx.services.accounts.get(account_id)
    return SnapshotOut.of(await ctx.carousel.sync_now(account_id))
