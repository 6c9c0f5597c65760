"""Operations: recent logs, the audit trail and its verification (file reads run off the event loop)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app.audit import AuditQuery, AuditReader, audit_dir, verify_trail
from app.server.deps import Ctx
from app.server.params import QueryDatetime, QueryInt
from app.server.schemas import AuditEntryOut, AuditVerifyOut, LogOut, TerminalOut, log_json

router = APIRouter(prefix="/api", tags=["operations"])

Level = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/terminals", response_model=list[TerminalOut])
async def terminals(ctx: Ctx) -> list[TerminalOut]:
    """The pool's terminals (the live one first): the ids an account may be assigned to."""
    pool = ctx.services.pool
    live = pool.live.terminal_id
    return [TerminalOut.of(state, state.terminal_id == live) for state in pool.states()]


@router.get("/logs", response_model=list[LogOut])
async def logs(
    ctx: Ctx,
    limit: Annotated[QueryInt, Query(ge=1, le=5000)] = 200,
    level: Level | None = None,
) -> list[dict[str, Any]]:
    """The newest log records, oldest first (secrets are redacted before they are kept)."""
    minimum = logging.getLevelNamesMapping()[level] if level else logging.NOTSET
    return [log_json(e) for e in ctx.services.log_bus.recent(limit, minimum)]


@router.get("/audit", response_model=list[AuditEntryOut])
async def audit(
    ctx: Ctx,
    since: QueryDatetime | None = None,
    until: QueryDatetime | None = None,
    actor: Text = None,
    action: Text = None,
    account: Text = None,
    client_id: Text = None,
    text: Text = None,
    limit: Annotated[QueryInt, Query(ge=1, le=10_000)] = 500,
) -> list[AuditEntryOut]:
    """Audit entries matching every filter given (the newest ``limit``, oldest first)."""
    query = AuditQuery(since, until, actor, action, account, client_id, text, limit)
    reader = AuditReader(audit_dir(ctx.data_dir))
    entries = await asyncio.to_thread(reader.query, query)
    return [AuditEntryOut.of(e) for e in entries]


@router.get("/audit/verify", response_model=AuditVerifyOut)
async def audit_verify(ctx: Ctx) -> AuditVerifyOut:
    """Recompute the hash chain; names the first bad entry, if any."""
    report = await asyncio.to_thread(verify_trail, audit_dir(ctx.data_dir))
    return AuditVerifyOut.of(report)
